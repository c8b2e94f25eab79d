"""Gaussian kernel mixtures on basis states, with an explicit bandwidth convention.

``K(x, y) = (1/c) Σ_i exp(-gamma_i · d(x, y))`` with ``d`` from
:mod:`qgm.losses.distance`. Bandwidths ``sigma`` are converted to ``gamma``
by a named convention, because the sources disagree:

* ``"liu-wang"``: ``gamma = 1 / (2 sigma)`` (Liu & Wang's code; sigma is a variance);
* ``"gaussian"``: ``gamma = 1 / (2 sigma**2)`` (PennyLane, torchquantum).

The kernel acts on probability vectors over all ``2**n`` states. For
``n <= dense_max_bits`` the ``2**n × 2**n`` matrix is built once and reused;
above that ``K v`` is computed exactly without the matrix: for the Hamming
distance ``K`` is a mean of Kronecker products of ``[[1, e], [e, 1]]``
2×2 factors (``n`` elementwise passes), for the integer distance it is a
Toeplitz matrix applied by FFT convolution.
"""
from __future__ import annotations

import math
from typing import Optional, Sequence, Union

import numpy as np
import torch

from qgm.errors import ConfigError
from qgm.losses.distance import check_distance, pairwise_distance

__all__ = [
    "CONVENTIONS",
    "DENSE_MAX_BITS",
    "GaussianMixtureKernel",
    "sigma_to_gamma",
    "expected_bodyness",
]

CONVENTIONS = ("liu-wang", "gaussian")
#: Largest ``n`` whose kernel matrix is stored densely (2**10 squared float64 = 8 MiB;
#: n = 14 would take 2 GiB, so larger ``n`` use the exact structured product instead).
DENSE_MAX_BITS = 10


def sigma_to_gamma(sigma: float, convention: str = "liu-wang") -> float:
    """``gamma`` of bandwidth ``sigma`` under ``convention`` (see module docstring)."""
    if convention not in CONVENTIONS:
        raise ConfigError(f"convention must be one of {CONVENTIONS}, got {convention!r}")
    sigma = float(sigma)
    if not sigma > 0 or not math.isfinite(sigma):
        raise ConfigError(f"sigmas: every bandwidth must be a positive finite number, got {sigma}")
    return 1.0 / (2.0 * sigma) if convention == "liu-wang" else 1.0 / (2.0 * sigma**2)


def expected_bodyness(
    sigma: Union[float, Sequence[float]], n: int, convention: str = "liu-wang"
) -> float:
    """Mean body-ness of the Hamming-kernel MMD (Rudolph et al., trainability.md §3).

    For ``exp(-gamma d_H)`` the squared MMD is ``Σ_A q^|A| (1-q)^(n-|A|) (⟨Z_A⟩_p - ⟨Z_A⟩_π)²``
    with ``q = (1 - e^-gamma) / 2``, so the body-ness ``|A|`` is Binomial(n, q) with mean
    ``n q``. A mixture of bandwidths gives the mean of ``n q_i`` (each component's
    weights sum to one). ``n q ≈ n / (4 sigma)`` for large ``sigma`` (liu-wang).
    """
    sigmas = [float(sigma)] if np.ndim(sigma) == 0 else [float(s) for s in sigma]
    qs = [(1.0 - math.exp(-sigma_to_gamma(s, convention))) / 2.0 for s in sigmas]
    return float(n) * sum(qs) / len(qs)


class GaussianMixtureKernel:
    """``K(x, y) = mean_i exp(-gammas[i] · d(x, y))`` on ``n_bits``-bit basis states.

    Args:
        n_bits: number of bits of a state.
        gammas: inverse bandwidths (positive), already converted (see :func:`sigma_to_gamma`).
        distance: ``"hamming"`` or ``"integer"`` (squared integer difference).
        dense_max_bits: store the full matrix up to this many bits.
    """

    def __init__(
        self,
        n_bits: int,
        gammas: Sequence[float],
        distance: str = "hamming",
        dense_max_bits: int = DENSE_MAX_BITS,
    ) -> None:
        gammas = tuple(float(g) for g in gammas)
        if not gammas or not all(g > 0 and math.isfinite(g) for g in gammas):
            raise ConfigError(f"gammas: expected one or more positive finite numbers, got {list(gammas)}")
        self.n_bits = int(n_bits)
        self.gammas = gammas
        self.distance = check_distance(distance)
        self.dense_max_bits = int(dense_max_bits)
        self._dense: dict[torch.device, torch.Tensor] = {}

    @classmethod
    def from_sigmas(
        cls,
        n_bits: int,
        sigmas: Sequence[float],
        convention: str = "liu-wang",
        distance: str = "hamming",
        dense_max_bits: int = DENSE_MAX_BITS,
    ) -> "GaussianMixtureKernel":
        """Kernel with ``gamma_i = sigma_to_gamma(sigmas[i], convention)``."""
        if not len(sigmas):
            raise ConfigError("sigmas: expected one or more bandwidths, got an empty list")
        return cls(n_bits, [sigma_to_gamma(s, convention) for s in sigmas], distance, dense_max_bits)

    def of_distance(self, d: torch.Tensor) -> torch.Tensor:
        """Kernel values for a tensor of distances (float64, same shape)."""
        g = torch.tensor(self.gammas, dtype=torch.float64, device=d.device)
        return torch.exp(-d.unsqueeze(-1) * g).mean(-1)

    def pairwise(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        """Kernel matrix ``(len(x), len(y))`` between index tensors ``x`` and ``y``."""
        return self.of_distance(pairwise_distance(x, y, self.n_bits, self.distance))

    def dense(self, device: Optional[torch.device] = None) -> torch.Tensor:
        """The full matrix ``(2**n, 2**n)`` (cached per device)."""
        device = torch.device("cpu") if device is None else torch.device(device)
        if device not in self._dense:
            idx = torch.arange(1 << self.n_bits, device=device)
            self._dense[device] = self.pairwise(idx, idx)
        return self._dense[device]

    def apply(self, v: torch.Tensor) -> torch.Tensor:
        """``K v`` for vectors ``v`` ``(..., 2**n)`` (differentiable, float64)."""
        if v.shape[-1] != 1 << self.n_bits:
            raise ConfigError(
                f"kernel on {self.n_bits} bits needs vectors of length {1 << self.n_bits}, got {v.shape[-1]}"
            )
        v = v.to(torch.float64)
        if self.n_bits <= self.dense_max_bits:
            return v @ self.dense(v.device)
        if self.distance == "hamming":
            return self._apply_hamming(v)
        return self._apply_toeplitz(v)

    def quadratic(self, v: torch.Tensor) -> torch.Tensor:
        """``vᵀ K v`` for ``v`` ``(..., 2**n)`` -> ``(...)``; its gradient ``2 K v`` reuses the forward
        product (one kernel product per training step instead of two)."""
        return _Quadratic.apply(v.to(torch.float64), self)

    def _apply_hamming(self, v: torch.Tensor) -> torch.Tensor:
        # exp(-gamma d_H) = Π_q e^{-gamma [x_q != y_q]}: one 2×2 factor [[1, e], [e, 1]] per bit.
        lead = v.shape[:-1]
        t = v.reshape(*lead, *([2] * self.n_bits))
        dims = range(len(lead), len(lead) + self.n_bits)
        out = torch.zeros_like(t)
        for gamma in self.gammas:
            e = math.exp(-gamma)
            w = t
            for d in dims:
                w = w + e * w.flip(d)
            out = out + w
        return (out / len(self.gammas)).reshape(v.shape)

    def _apply_toeplitz(self, v: torch.Tensor) -> torch.Tensor:
        # K[x, y] = k(|x - y|): embed in a circulant of size 2N and multiply by FFT.
        n = v.shape[-1]
        lags = torch.arange(n, dtype=torch.float64, device=v.device)
        k = self.of_distance(lags**2)
        circ = torch.cat([k, k.new_zeros(1), k[1:].flip(0)])
        prod = torch.fft.rfft(circ) * torch.fft.rfft(v, n=2 * n)
        return torch.fft.irfft(prod, n=2 * n)[..., :n]


class _Quadratic(torch.autograd.Function):
    """``vᵀ K v`` with the backward pass ``2 g K v`` from the saved ``K v`` (``K`` symmetric); under
    ``create_graph`` the product is recomputed differentiably, so second derivatives stay exact."""

    @staticmethod
    def forward(ctx, v: torch.Tensor, kernel: "GaussianMixtureKernel") -> torch.Tensor:  # type: ignore[override]
        kv = kernel.apply(v)
        ctx.kernel = kernel
        ctx.save_for_backward(v, kv)
        return (v * kv).sum(-1)

    @staticmethod
    def backward(ctx, g: torch.Tensor):  # type: ignore[override]
        v, kv = ctx.saved_tensors
        if torch.is_grad_enabled():
            kv = ctx.kernel.apply(v)
        return 2.0 * g.unsqueeze(-1) * kv, None
