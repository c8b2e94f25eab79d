"""Exact discrete Stein discrepancy (Yang et al. ICML 2018; as a QCBM loss: Coyle et al.).

For the data distribution q (exact score, so q must be positive everywhere:
the target is mixed with the uniform distribution, ``q = (1 − λ) π + λ / 2**n``)
the score is ``s(x)_i = 1 − q(¬_i x) / q(x)`` (¬_i flips bit i) and, with the
base kernel k and ``Δ_x k(x, y)_i = k(x, y) − k(¬_i x, y)``,

``κ(x, y) = s(x)ᵀs(y) k − s(x)ᵀΔ_y k − Δ_x kᵀ s(y) + tr Δ_{x,y} k``,
``tr Δ_{x,y} k = n k − Σ_i [k(¬_i x, y) + k(x, ¬_i y)] + Σ_i k(¬_i x, ¬_i y)``.

``SD(p) = E_{x,y~p} κ(x, y) = pᵀ κ p`` (exact mode; ``SD(q) = 0`` by the Stein
identity). With shots: the U-statistic (pairs i = j dropped), whose gradient is
taken from the V-form as in :mod:`qgm.losses.mmd` (unbiased with independent
parameter-shift samples). ``κ`` is a ``2**n × 2**n`` matrix built once, so
``n <= MAX_BITS``. The score comes from the dataset's target, so the
minibatch is not used.
"""
from __future__ import annotations

from typing import Any, Optional, Sequence

import torch

from qgm.errors import ConfigError, ResourceError
from qgm.losses.base import DistributionLoss, target_distribution, u_minus_v
from qgm.losses.distance import flip_bit
from qgm.losses.kernel import GaussianMixtureKernel
from qgm.losses.mmd import make_kernel
from qgm.registry import LOSSES

__all__ = ["SteinLoss", "stein_kernel", "MAX_BITS"]

#: Largest number of bits for the dense Stein kernel (2**12 squared float64 = 128 MiB).
MAX_BITS = 12


def stein_kernel(q: torch.Tensor, kernel: GaussianMixtureKernel) -> torch.Tensor:
    """Stein kernel matrix ``κ`` ``(2**n, 2**n)`` of a strictly positive distribution ``q``."""
    n = kernel.n_bits
    if n > MAX_BITS:
        raise ResourceError(f"stein: the dense Stein kernel needs n_bits <= {MAX_BITS}, got {n}")
    if not bool((q > 0).all()):
        raise ConfigError("stein: the data distribution must be positive everywhere; use smoothing > 0")
    idx = torch.arange(1 << n)
    k = kernel.dense()
    kappa = n * k
    scores = []
    for wire in range(n):
        flip = flip_bit(idx, wire, n)
        s = 1.0 - q[flip] / q
        scores.append(s)
        k_fx, k_fy = k[flip, :], k[:, flip]
        kappa = kappa - s[:, None] * (k - k_fy) - (k - k_fx) * s[None, :]
        kappa = kappa - k_fx - k_fy + k[flip][:, flip]
    score = torch.stack(scores, -1)
    return kappa + (score @ score.T) * k


class SteinLoss(DistributionLoss):
    """Discrete Stein discrepancy of the model against the (smoothed) target.

    Args:
        n_bits: bits per data point (at most :data:`MAX_BITS`).
        target: target distribution ``(2**n,)`` defining the score.
        sigmas, gammas, convention, distance: base kernel, as for :class:`~qgm.losses.mmd.MMDLoss`.
        smoothing: weight λ of the uniform distribution mixed into the target (> 0).
        shots: model samples per evaluation (None: the model's ``shots``).
        seed: seed of the generator for the shots.
    """

    name = "stein"

    def __init__(
        self,
        n_bits: int,
        target: Any,
        *,
        sigmas: Optional[Sequence[float]] = None,
        gammas: Optional[Sequence[float]] = None,
        convention: str = "liu-wang",
        distance: str = "hamming",
        smoothing: float = 0.01,
        shots: Optional[int] = None,
        seed: int = 0,
    ) -> None:
        super().__init__(n_bits, target, shots, seed)
        if not 0 < float(smoothing) <= 1:
            raise ConfigError(f"smoothing: expected a weight in (0, 1], got {smoothing}")
        self.smoothing = float(smoothing)
        kernel = make_kernel(self.n_bits, sigmas, gammas, convention, distance, dense_max_bits=MAX_BITS)
        q = (1.0 - self.smoothing) * self.target + self.smoothing / (1 << self.n_bits)
        self.kappa = stein_kernel(q, kernel)

    def forward(self, model: Any, batch: Optional[torch.Tensor]) -> torch.Tensor:
        shots = self.resolved_shots(model)
        p = self.model_distribution(model, shots)
        kappa = self.kappa.to(p.device)
        value = p @ kappa @ p
        if shots is None:
            return value
        if shots < 2:
            raise ConfigError(f"stein with shots needs shots >= 2 (U-statistic), got {shots}")
        with torch.no_grad():
            correction = u_minus_v(value.detach(), kappa.diagonal() @ p.detach(), shots)
        return value + correction


@LOSSES.register("stein")
def stein(
    dataset: Any,
    sigmas: Optional[Sequence[float]] = None,
    gammas: Optional[Sequence[float]] = None,
    convention: str = "liu-wang",
    distance: str = "hamming",
    smoothing: float = 0.01,
    shots: Optional[int] = None,
    seed: int = 0,
) -> SteinLoss:
    """Registered factory: :class:`SteinLoss` against ``dataset``'s target."""
    return SteinLoss(
        dataset.n_bits, target_distribution(dataset), sigmas=sigmas, gammas=gammas, convention=convention,
        distance=distance, smoothing=smoothing, shots=shots, seed=seed,
    )
