"""2-D Gaussian mixtures of the mode-collapse literature.

* ``ring``: 8 Gaussians with means on a circle of radius 2, std 0.02 (Metz et al.,
  unrolled GANs, arXiv:1611.02163; VEEGAN, arXiv:1705.07761).
* ``grid``: 25 Gaussians with means ``{-4, -2, 0, 2, 4}^2``, std 0.05 (VEEGAN).

Equal weights. With ``bits=None`` the dataset is a :class:`Mixture2D` (continuous,
fresh draws from the law); with ``bits=k`` it is a :class:`DiscretisedMixture2D` on
``2**k`` bins per axis whose target is each bin's probability MASS (the
components are far narrower than a bin, so densities at bin centres would be
meaningless). Both expose ``modes (K, 2)``, ``std`` and ``mode_radius``: the
distance within which a sample counts as high quality, ``3 * std`` (continuous)
or ``3 * std + half a bin diagonal`` (discretised: a point within ``3 * std`` of a
mode decodes to a bin centre within that distance).
"""
from __future__ import annotations

from typing import Any, Optional

import numpy as np
import torch
from scipy import stats

from qgm.data.base import ContinuousDataset, GridDataset, check_positive_int, sample_indices
from qgm.data.distributions import grid_centres
from qgm.errors import ConfigError
from qgm.limits import check_modes, check_samples
from qgm.registry import DATASETS
from qgm.spaces import Reals

__all__ = ["ring_modes", "grid_modes", "Mixture2D", "DiscretisedMixture2D", "ring", "grid"]

#: Multiple of the component std within which a sample is high quality (VEEGAN).
N_STD = 3.0


def ring_modes(n_modes: int = 8, radius: float = 2.0) -> np.ndarray:
    """Means ``(n_modes, 2)`` equally spaced on a circle, the first at angle 0."""
    angles = 2 * np.pi * np.arange(n_modes) / n_modes
    return radius * np.stack([np.cos(angles), np.sin(angles)], axis=1)


def grid_modes(side: int = 5, spacing: float = 2.0) -> np.ndarray:
    """Means ``(side**2, 2)`` of a centred ``side x side`` grid with the given spacing."""
    axis = spacing * (np.arange(side) - (side - 1) / 2)
    return np.stack(np.meshgrid(axis, axis, indexing="ij"), axis=-1).reshape(-1, 2)


def _draw(modes: np.ndarray, std: float, n: int, generator: Optional[torch.Generator]) -> torch.Tensor:
    which = torch.randint(len(modes), (n,), generator=generator)
    noise = torch.randn(n, modes.shape[1], generator=generator, dtype=torch.float64)
    return torch.as_tensor(modes, dtype=torch.float64)[which] + std * noise


class Mixture2D(ContinuousDataset):
    """An equal-weight isotropic Gaussian mixture with known ``modes`` and ``std``."""

    def __init__(self, name: str, modes: np.ndarray, std: float, n_train: int = 10000, seed: int = 0) -> None:
        if not std > 0:
            raise ConfigError(f"std: expected a positive standard deviation, got {std!r}")
        self.modes = np.asarray(modes, dtype=np.float64)
        self.std = float(std)
        self.mode_radius = N_STD * self.std
        g = torch.Generator().manual_seed(int(seed))
        n_train = check_positive_int("n_train", n_train)
        check_samples(n_train, Reals(self.modes.shape[1]), "n_train")
        train = _draw(self.modes, self.std, n_train, g)
        super().__init__(name, train, sampler=lambda n, generator: _draw(self.modes, self.std, n, generator))


class DiscretisedMixture2D(GridDataset):
    """The same mixture on ``2**bits`` bins per axis (bin-mass target, see module docstring)."""

    def __init__(self, name: str, modes: np.ndarray, std: float, bits: int, bounds: Any, n_train: int, seed: int) -> None:
        if not std > 0:
            raise ConfigError(f"std: expected a positive standard deviation, got {std!r}")
        self.modes = np.asarray(modes, dtype=np.float64)
        self.std = float(std)
        bits = check_positive_int("bits", bits)
        if bounds is None:
            pad = 4 * self.std
            bounds = [(self.modes[:, j].min() - pad, self.modes[:, j].max() + pad) for j in range(2)]
        centres = grid_centres(bits, bounds, 2)
        half = [0.5 * (c[1] - c[0]) if len(c) > 1 else 0.5 for c in centres]
        self.mode_radius = N_STD * self.std + float(np.hypot(*half))
        mass = np.zeros((len(centres[0]), len(centres[1])))
        for mode in self.modes:
            per_axis = [
                np.diff(stats.norm.cdf(np.append(c - h, c[-1] + h), loc=mu, scale=self.std))
                for c, h, mu in zip(centres, half, mode)
            ]
            mass += np.outer(*per_axis)
        if mass.sum() <= 0:
            raise ConfigError("range: no mode's mass falls inside the grid; widen 'range'")
        p = (mass / mass.sum()).reshape(-1)
        super().__init__(name, bits, centres, sample_indices(p, check_positive_int("n_train", n_train), seed), target=p)


def _mixture(name: str, modes: np.ndarray, std: float, bits: Optional[int], range: Any, n_train: int, seed: int):
    if bits is None:
        if range is not None:
            raise ConfigError("range: only used with 'bits' (the discretised version); drop it or set bits")
        return Mixture2D(name, modes, std, n_train, seed)
    return DiscretisedMixture2D(name, modes, std, bits, range, n_train, seed)


@DATASETS.register("ring")
def ring(
    n_modes: int = 8, radius: float = 2.0, std: float = 0.02, bits: Optional[int] = None, range: Any = None,
    n_train: int = 10000, seed: int = 0,
) -> Mixture2D | DiscretisedMixture2D:
    """Registered factory: the ring of Gaussians (continuous, or discretised with ``bits`` per axis)."""
    modes = ring_modes(check_modes(check_positive_int("n_modes", n_modes), "n_modes"), radius)
    return _mixture("ring", modes, std, bits, range, n_train, seed)


def _side(side: Any) -> int:
    """``side`` of the grid of modes, its ``side**2`` modes checked against :data:`qgm.limits.MAX_MODES`."""
    side = check_positive_int("side", side)
    check_modes(side * side, "side")
    return side


@DATASETS.register("grid")
def grid(
    side: int = 5, spacing: float = 2.0, std: float = 0.05, bits: Optional[int] = None, range: Any = None,
    n_train: int = 10000, seed: int = 0,
) -> Mixture2D | DiscretisedMixture2D:
    """Registered factory: the grid of Gaussians (continuous, or discretised with ``bits`` per axis)."""
    return _mixture("grid", grid_modes(_side(side), spacing), std, bits, range, n_train, seed)
