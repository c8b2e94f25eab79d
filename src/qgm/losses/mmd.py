"""Maximum mean discrepancy with a Gaussian kernel mixture (Liu & Wang; Gretton et al.).

``MMD² = E_{x,y~p}K − 2 E_{x~p,y~π}K + E_{x,y~π}K = (p − π)ᵀ K (p − π)``.

Estimators (``estimator=``):

* ``"exact"``: the quadratic form with the model's exact probabilities, against
  the exact target (``batch`` None) or the histogram of ``batch``;
* ``"biased"``: the V-statistic of ``shots`` model samples (their histogram
  ``p̂`` in the quadratic form; always >= 0, bias O(1/m));
* ``"unbiased"``: the U-statistic (pairs i = j removed within the model samples
  and within the data batch; can be negative);
* ``"auto"`` (default): ``"exact"`` without shots, ``"unbiased"`` with shots.

Gradient with shots. The model's sample frequencies are differentiated by
parameter shift with fresh samples per shifted circuit, so the gradient of the
quadratic form is ``(p̂ − π̂)ᵀ K (p̂⁺ − p̂⁻)``: the spec's four cross means of
independent sample sets, an unbiased estimate of the exact gradient. The
U-statistic differs from the V-statistic only by a within-set diagonal
correction; that correction is added as a constant (no gradient), because its
gradient would bias the estimate by a factor ``m / (m − 1)``.
"""
from __future__ import annotations

from typing import Any, Optional, Sequence

import torch

from qgm.errors import ConfigError, ParameterError
from qgm.losses.base import DistributionLoss, target_distribution, u_minus_v
from qgm.losses.distance import check_distance
from qgm.losses.kernel import DENSE_MAX_BITS, GaussianMixtureKernel
from qgm.registry import LOSSES

__all__ = ["MMDLoss", "ESTIMATORS", "DEFAULT_SIGMAS", "mmd_from_samples", "make_kernel"]

ESTIMATORS = ("auto", "exact", "unbiased", "biased")
#: Liu & Wang's bandwidths (``liu-wang`` convention) when none are given.
DEFAULT_SIGMAS = {"hamming": (0.5, 1.0, 2.0, 4.0), "integer": (0.25, 0.5, 1.0, 2.0, 4.0)}


def make_kernel(
    n_bits: int,
    sigmas: Optional[Sequence[float]] = None,
    gammas: Optional[Sequence[float]] = None,
    convention: str = "liu-wang",
    distance: str = "hamming",
    dense_max_bits: int = DENSE_MAX_BITS,
) -> GaussianMixtureKernel:
    """Kernel from either ``sigmas`` (+ ``convention``) or raw ``gammas``; Liu-Wang defaults if neither."""
    if sigmas is not None and gammas is not None:
        raise ConfigError("give either sigmas (with convention) or gammas, not both")
    if gammas is not None:
        return GaussianMixtureKernel(n_bits, gammas, distance, dense_max_bits)
    if sigmas is None:
        if convention != "liu-wang":
            raise ConfigError(f"convention={convention!r} needs explicit sigmas; defaults exist for 'liu-wang' only")
        sigmas = DEFAULT_SIGMAS[check_distance(distance)]
    return GaussianMixtureKernel.from_sigmas(n_bits, sigmas, convention, distance, dense_max_bits)


def _within_set_correction(kernel: GaussianMixtureKernel, h: torch.Tensor, m: int) -> torch.Tensor:
    """U − V of the within-set term of ``m`` samples with histogram ``h`` (``k(x, x) = 1``)."""
    return u_minus_v(kernel.quadratic(h), torch.ones((), dtype=torch.float64), m)


class MMDLoss(DistributionLoss):
    """Squared MMD between the model and the data (see module docstring).

    Args:
        n_bits: bits per data point.
        target: exact target distribution ``(2**n,)`` (used when ``batch`` is None).
        sigmas: bandwidths, converted with ``convention``; default Liu-Wang's set.
        gammas: raw inverse bandwidths ``exp(-gamma d)`` (instead of ``sigmas``).
        convention: ``"liu-wang"`` (gamma = 1/(2 sigma)) or ``"gaussian"`` (1/(2 sigma²)).
        distance: ``"hamming"`` (bitstrings) or ``"integer"`` ((x−y)², 1-D data).
        estimator: ``"auto" | "exact" | "unbiased" | "biased"``.
        shots: model samples per evaluation (None: the model's ``shots``).
        seed: seed of the generator for the shots.
    """

    name = "mmd"

    def __init__(
        self,
        n_bits: int,
        target: Any,
        *,
        sigmas: Optional[Sequence[float]] = None,
        gammas: Optional[Sequence[float]] = None,
        convention: str = "liu-wang",
        distance: str = "hamming",
        estimator: str = "auto",
        shots: Optional[int] = None,
        seed: int = 0,
        dense_max_bits: int = DENSE_MAX_BITS,
    ) -> None:
        super().__init__(n_bits, target, shots, seed)
        if estimator not in ESTIMATORS:
            raise ConfigError(f"estimator must be one of {ESTIMATORS}, got {estimator!r}")
        self.estimator = estimator
        self.kernel = make_kernel(self.n_bits, sigmas, gammas, convention, distance, dense_max_bits)

    def _resolve_estimator(self, shots: Optional[int]) -> str:
        if self.estimator == "auto":
            return "exact" if shots is None else "unbiased"
        if self.estimator == "exact" and shots is not None:
            raise ParameterError(
                f"mmd estimator='exact' uses exact probabilities but shots={shots}; "
                "set shots to null or use estimator 'unbiased' or 'biased'"
            )
        if self.estimator != "exact" and shots is None:
            raise ParameterError(
                f"mmd estimator={self.estimator!r} is sample-based; set shots (on the loss or the model)"
            )
        if self.estimator == "unbiased" and shots < 2:
            raise ParameterError(f"mmd estimator='unbiased' needs shots >= 2, got {shots}")
        return self.estimator

    def forward(self, model: Any, batch: Optional[torch.Tensor]) -> torch.Tensor:
        shots = self.resolved_shots(model)
        estimator = self._resolve_estimator(shots)
        p = self.model_distribution(model, shots)
        q = self.data_distribution(batch, p.device)
        value = self.kernel.quadratic(p - q)
        if estimator != "unbiased":
            return value
        with torch.no_grad():
            correction = _within_set_correction(self.kernel, p, shots)
            if batch is not None:
                if batch.numel() < 2:
                    raise ParameterError("mmd estimator='unbiased' needs a data batch of at least 2 samples")
                correction = correction + _within_set_correction(self.kernel, q, batch.numel())
        return value + correction


def mmd_from_samples(
    x: torch.Tensor, y: torch.Tensor, kernel: GaussianMixtureKernel, unbiased: bool = True
) -> torch.Tensor:
    """MMD² from two sample sets of basis indices ``x`` ``(m,)`` and ``y`` ``(m',)`` (pairwise kernel).

    ``unbiased``: U-statistic (i ≠ j within each set); otherwise the V-statistic.
    Not differentiable (indices); used as a metric and as an independent check.
    """
    def within(s: torch.Tensor) -> torch.Tensor:
        k = kernel.pairwise(s, s)
        m = s.numel()
        if unbiased:
            return (k.sum() - k.diagonal().sum()) / (m * (m - 1))
        return k.sum() / m**2

    return within(x) + within(y) - 2.0 * kernel.pairwise(x, y).mean()


@LOSSES.register("mmd")
def mmd(
    dataset: Any,
    sigmas: Optional[Sequence[float]] = None,
    gammas: Optional[Sequence[float]] = None,
    convention: str = "liu-wang",
    distance: str = "hamming",
    estimator: str = "auto",
    shots: Optional[int] = None,
    seed: int = 0,
) -> MMDLoss:
    """Registered factory: :class:`MMDLoss` against ``dataset``'s target."""
    return MMDLoss(
        dataset.n_bits, target_distribution(dataset), sigmas=sigmas, gammas=gammas, convention=convention,
        distance=distance, estimator=estimator, shots=shots, seed=seed,
    )
