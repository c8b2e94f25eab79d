"""Classical GAN baseline: the QGAN's discriminator and loss against a classical generator.

Same two-player machinery as the QGAN (:class:`~qgm.models.adversarial.AdversarialModel`),
same discriminator spec and data standardisation, so a side-by-side run differs
only in the generator:

* **continuous** data: :class:`MLPPlayer`, ``x = MLP(z)``, ``z ~ N(0, I_k)``; the
  default hidden width matches the parameter count of the default QGAN
  generator for the same data (``match_params``);
* **discrete** data: :class:`CategoricalPlayer`, ``p = softmax(logits)`` over the
  ``2**n`` points (``2**n`` parameters), trained with the same exact expectation
  ``Σ_x p(x) l(D(x))`` as the Born machine.
"""
from __future__ import annotations

from typing import Any, Optional, Sequence

import numpy as np
import torch
from torch import nn

from qgm.errors import ConfigError
from qgm.models.adversarial import (
    DEFAULT_DISCRIMINATOR,
    AdversarialModel,
    PointsMixin,
    bit_data_discriminator,
    continuous_batch,
    data_standardisation,
    discrete_points,
    discriminator_spec,
)
from qgm.models.base import check_exact_size, exact_only
from qgm.models.discriminators import build_discriminator, mlp
from qgm.models.qgan import DEFAULT_LATENT_ANSATZ, latent_circuit
from qgm.registry import MODELS
from qgm.spaces import Bits, Reals

__all__ = ["GAN", "MLPPlayer", "CategoricalPlayer", "mlp_width_for", "mlp_param_count"]


def mlp_param_count(sizes: Sequence[int]) -> int:
    """Weights and biases of a dense MLP with layer widths ``sizes``."""
    return sum(a * b + b for a, b in zip(sizes[:-1], sizes[1:]))


def mlp_width_for(n_params: int, latent_dim: int, out_dim: int) -> int:
    """Width ``h >= 1`` of one hidden layer whose MLP ``k -> h -> d`` has the count closest to ``n_params``."""
    per_unit = latent_dim + 1 + out_dim
    return max(1, round((n_params - out_dim) / per_unit))


class MLPPlayer(nn.Module):
    """Continuous classical player ``x = MLP(z)``, ``z ~ N(0, I_k)``, linear output layer."""

    def __init__(self, latent_dim: int, hidden: Sequence[int], out_dim: int, activation: str, seed: int) -> None:
        super().__init__()
        self.latent_dim, self.out_dim = int(latent_dim), int(out_dim)
        self.net = mlp([self.latent_dim, *hidden, self.out_dim], activation, torch.Generator().manual_seed(seed))

    def latent(self, m: int, rng: Optional[torch.Generator]) -> torch.Tensor:
        return torch.randn(m, self.latent_dim, dtype=torch.float64, generator=rng)

    def fake(self, m: int, rng: torch.Generator) -> tuple[torch.Tensor, None]:
        return self.net(self.latent(m, rng)), None

    def draw(self, n: int, rng: Optional[torch.Generator]) -> torch.Tensor:
        return self.net(self.latent(n, rng))

    def real(self, batch: Optional[torch.Tensor]) -> tuple[torch.Tensor, None]:
        return continuous_batch(batch, self.out_dim)


class CategoricalPlayer(PointsMixin):
    """Discrete classical player: ``p = softmax(logits)`` over all points (logits start at 0: uniform)."""

    def __init__(self, points: torch.Tensor, target: torch.Tensor) -> None:
        super().__init__()
        self.set_points(points, target)
        self.logits = nn.Parameter(torch.zeros(points.shape[0], dtype=torch.float64))

    def probs(self, *, shots: Optional[int] = None, generator: Optional[torch.Generator] = None) -> torch.Tensor:
        exact_only(self, shots)
        return torch.softmax(self.logits, 0)

    def fake(self, m: int, rng: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
        return self.points, self.probs()


class GAN(AdversarialModel):
    """Classical GAN with the QGAN's discriminator (see the module docstring).

    Args:
        mode: ``"continuous"`` (needs ``out_dim``) or ``"discrete"`` (needs ``n_bits``).
        out_dim, latent_dim, hidden, activation: the MLP generator (continuous).
        n_bits, points, target: the discrete points ``(2**n, d)`` (None = bits) and exact target.
        discriminator, loss, d_steps, g_steps, gp_weight, gp_samples, seed: as :class:`~qgm.models.qgan.QGAN`.
    """

    def __init__(
        self,
        mode: str = "continuous",
        out_dim: Optional[int] = None,
        latent_dim: int = 2,
        hidden: Sequence[int] = (8,),
        activation: str = "relu",
        n_bits: Optional[int] = None,
        points: Optional[Sequence[Sequence[float]]] = None,
        target: Optional[Sequence[float]] = None,
        discriminator: Optional[dict[str, Any]] = None,
        loss: str = "bce",
        d_steps: int = 1,
        g_steps: int = 1,
        gp_weight: float = 10.0,
        gp_samples: int = 256,
        seed: int = 0,
    ) -> None:
        disc_spec = dict(DEFAULT_DISCRIMINATOR if discriminator is None else discriminator)
        if mode == "continuous":
            if out_dim is None or int(out_dim) < 1 or int(latent_dim) < 1:
                raise ConfigError(f"gan: continuous mode needs out_dim >= 1 and latent_dim >= 1, got {out_dim}, {latent_dim}")
            player: nn.Module = MLPPlayer(latent_dim, [int(h) for h in hidden], int(out_dim), activation, seed)
            in_dim, space = int(out_dim), Reals(int(out_dim))
        elif mode == "discrete":
            if n_bits is None or int(n_bits) < 1:
                raise ConfigError(f"gan: discrete mode needs n_bits >= 1, got {n_bits!r}")
            check_exact_size("gan", int(n_bits))
            player = CategoricalPlayer(*discrete_points(int(n_bits), points, target))
            in_dim, space = player.points.shape[1], Bits(int(n_bits))
        else:
            raise ConfigError(f"gan: mode must be 'continuous' or 'discrete', got {mode!r}")
        super().__init__(player, build_discriminator(disc_spec, in_dim, seed=seed),
                         loss, d_steps, g_steps, gp_weight, gp_samples, seed)
        self.space, self.mode = space, mode
        self._config = {
            "mode": mode, "out_dim": out_dim, "latent_dim": int(latent_dim), "hidden": [int(h) for h in hidden],
            "activation": activation, "n_bits": n_bits, "points": points, "target": target,
            "discriminator": disc_spec, "loss": loss, "d_steps": self.d_steps, "g_steps": self.g_steps,
            "gp_weight": self.gp_weight, "gp_samples": self.gp_samples, "seed": int(seed),
        }


@MODELS.register("gan", accepts=(Bits, Reals))
def gan(
    dataset: Any,
    latent_dim: Optional[int] = None,
    hidden: Optional[Sequence[int]] = None,
    match_params: Optional[int] = None,
    activation: str = "relu",
    disc_input: str = "values",
    discriminator: Optional[dict[str, Any]] = None,
    loss: str = "bce",
    d_steps: int = 1,
    g_steps: int = 1,
    gp_weight: float = 10.0,
    gp_samples: int = 256,
    seed: int = 0,
) -> GAN:
    """Registered factory: a classical GAN for ``dataset`` (continuous: MLP generator; bits: categorical).

    Continuous: ``latent_dim`` defaults to ``dim``; without ``hidden`` one hidden
    layer is sized to ``match_params`` parameters (default: the default
    continuous QGAN generator's count, ``2 n depth + n`` with ``n = dim + 2``).
    """
    adversarial = dict(loss=loss, d_steps=d_steps, g_steps=g_steps, gp_weight=gp_weight, gp_samples=gp_samples,
                       seed=seed)
    if isinstance(dataset.space, Reals):
        dim = int(dataset.dim)
        k = dim if latent_dim is None else int(latent_dim)
        if hidden is None:
            n_q = dim + 2
            target = latent_circuit(n_q, n_q, DEFAULT_LATENT_ANSATZ["depth"]).n_params if match_params is None \
                else int(match_params)
            hidden = [mlp_width_for(target, k, dim)]
        elif match_params is not None:
            raise ConfigError("gan: give either hidden or match_params, not both")
        train = np.asarray(dataset.train, dtype=np.float64)
        disc = discriminator_spec(discriminator, data_standardisation(train))
        return GAN("continuous", out_dim=dim, latent_dim=k, hidden=hidden, activation=activation,
                   discriminator=disc, **adversarial)
    if hidden is not None or match_params is not None or latent_dim is not None:
        raise ConfigError("gan: hidden/match_params/latent_dim apply to continuous data; bit data use a "
                          "categorical generator (2**n_bits logits)")
    points, target, disc = bit_data_discriminator(dataset, disc_input, discriminator)
    return GAN("discrete", n_bits=dataset.n_bits, points=points, target=target.tolist(), discriminator=disc,
               **adversarial)
