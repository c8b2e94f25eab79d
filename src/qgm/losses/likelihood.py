"""Explicit (likelihood) losses: KL(π‖p) and the negative log-likelihood.

Both need the model's probability at data points, so they are meant for exact
mode (``model.log_prob``; for Born machines see trainability.md §3: values
concentrate at ~2**-n, keep KL mainly as a metric). With shots the model's
sample frequencies are used, clipped to ``p >= eps`` with a warning: the result
is then a biased, shot-noisy surrogate.

* ``kl``: ``Σ_{π(x)>0} π(x) log(π(x) / p(x))`` with π the exact target
  (``batch`` None) or the histogram of ``batch``.
* ``nll``: ``−(1/m) Σ_i log p(x_i)`` over ``batch``; with ``batch`` None the
  cross-entropy ``−Σ_x π(x) log p(x)`` (= KL + entropy of π).
"""
from __future__ import annotations

import warnings
from typing import Any, Optional

import torch

from qgm.errors import ConfigError
from qgm.losses.base import DistributionLoss, target_distribution
from qgm.registry import LOSSES

__all__ = ["KLLoss", "NLLLoss", "DEFAULT_EPS"]

#: Clip of sampled probabilities before the logarithm.
DEFAULT_EPS = 1e-10


class _LikelihoodLoss(DistributionLoss):
    """Shared model log-probabilities at data points (exact, or clipped shot frequencies)."""

    def __init__(
        self, n_bits: int, target: Any, *, shots: Optional[int] = None, eps: float = DEFAULT_EPS, seed: int = 0
    ) -> None:
        super().__init__(n_bits, target, shots, seed)
        if not 0 < float(eps) < 1:
            raise ConfigError(f"eps: expected a clip level in (0, 1), got {eps}")
        self.eps = float(eps)
        self._warned = False

    def log_model_probs(self, model: Any, x: torch.Tensor) -> torch.Tensor:
        """``log p(x)`` ``(len(x),)`` for basis indices ``x``."""
        shots = self.resolved_shots(model)
        if shots is None:
            return model.log_prob(x).to(torch.float64)
        if not self._warned:
            warnings.warn(
                f"{self.name} loss with shots={shots}: sampled probabilities are clipped at eps={self.eps:g}; "
                "the value and gradient are biased (use exact mode or an MMD loss)",
                stacklevel=3,
            )
            self._warned = True
        p = self.model_distribution(model, shots)
        return p[x.to(p.device)].clamp_min(self.eps).log()


class KLLoss(_LikelihoodLoss):
    """``KL(π ‖ p)`` summed over the support of π (exact target or batch histogram)."""

    name = "kl"

    def forward(self, model: Any, batch: Optional[torch.Tensor]) -> torch.Tensor:
        pi = self.data_distribution(batch, torch.device("cpu"))
        support = torch.nonzero(pi > 0).reshape(-1)
        w = pi[support]
        log_p = self.log_model_probs(model, support)
        return (w.to(log_p.device) * (w.log().to(log_p.device) - log_p)).sum()


class NLLLoss(_LikelihoodLoss):
    """Mean negative log-likelihood of ``batch`` (cross-entropy to the target if None)."""

    name = "nll"

    def forward(self, model: Any, batch: Optional[torch.Tensor]) -> torch.Tensor:
        if batch is not None:
            self.data_distribution(batch, torch.device("cpu"))  # validates the batch
            return -self.log_model_probs(model, batch).mean()
        support = torch.nonzero(self.target > 0).reshape(-1)
        log_p = self.log_model_probs(model, support)
        return -(self.target[support].to(log_p.device) * log_p).sum()


@LOSSES.register("kl")
def kl(dataset: Any, shots: Optional[int] = None, eps: float = DEFAULT_EPS, seed: int = 0) -> KLLoss:
    """Registered factory: :class:`KLLoss` against ``dataset``'s target."""
    return KLLoss(dataset.n_bits, target_distribution(dataset), shots=shots, eps=eps, seed=seed)


@LOSSES.register("nll")
def nll(dataset: Any, shots: Optional[int] = None, eps: float = DEFAULT_EPS, seed: int = 0) -> NLLLoss:
    """Registered factory: :class:`NLLLoss` against ``dataset``'s target."""
    return NLLLoss(dataset.n_bits, target_distribution(dataset), shots=shots, eps=eps, seed=seed)
