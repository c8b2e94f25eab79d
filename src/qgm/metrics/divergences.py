"""Divergences between two discrete distributions ``p, q`` ``(K,)`` (natural logarithms)."""
from __future__ import annotations

import numpy as np
import torch

from qgm.errors import DataError

__all__ = ["as_distribution", "kl", "tv", "js", "hellinger_fidelity", "DEFAULT_EPS"]

#: Floor applied to the second argument of :func:`kl` so empty model bins give a finite value.
DEFAULT_EPS = 1e-10


def as_distribution(name: str, p: np.ndarray | torch.Tensor) -> np.ndarray:
    """``p`` as a 1-D float64 array of non-negative entries summing to 1 (DataError otherwise)."""
    a = np.asarray(p.detach().cpu() if isinstance(p, torch.Tensor) else p, dtype=np.float64)
    if a.ndim != 1 or a.size == 0:
        raise DataError(f"{name}: expected a 1-D probability vector, got shape {a.shape}")
    if not np.all(np.isfinite(a)) or np.any(a < -1e-12) or abs(a.sum() - 1.0) > 1e-6:
        raise DataError(f"{name}: entries must be finite, >= 0 and sum to 1 (sum {a.sum():.6g})")
    return np.clip(a, 0.0, None)


def _pair(p: np.ndarray | torch.Tensor, q: np.ndarray | torch.Tensor) -> tuple[np.ndarray, np.ndarray]:
    a, b = as_distribution("p", p), as_distribution("q", q)
    if a.shape != b.shape:
        raise DataError(f"p, q: shapes differ ({a.shape} vs {b.shape}); both must cover the same states")
    return a, b


def kl(p: np.ndarray | torch.Tensor, q: np.ndarray | torch.Tensor, eps: float = DEFAULT_EPS) -> float:
    """Relative entropy ``KL(p||q) = sum_{p>0} p log(p / max(q, eps))`` (nats)."""
    a, b = _pair(p, q)
    s = a > 0
    return float(np.sum(a[s] * (np.log(a[s]) - np.log(np.maximum(b[s], eps)))))


def tv(p: np.ndarray | torch.Tensor, q: np.ndarray | torch.Tensor) -> float:
    """Total-variation distance ``(1/2) sum |p - q|`` in ``[0, 1]``."""
    a, b = _pair(p, q)
    return float(0.5 * np.abs(a - b).sum())


def js(p: np.ndarray | torch.Tensor, q: np.ndarray | torch.Tensor) -> float:
    """Jensen-Shannon divergence ``KL(p||m)/2 + KL(q||m)/2``, ``m = (p+q)/2`` (nats, at most ``log 2``)."""
    a, b = _pair(p, q)
    m = 0.5 * (a + b)
    return 0.5 * kl(a, m, eps=0.0) + 0.5 * kl(b, m, eps=0.0)


def hellinger_fidelity(p: np.ndarray | torch.Tensor, q: np.ndarray | torch.Tensor) -> float:
    """``(sum sqrt(p q))**2`` in ``[0, 1]`` (Qiskit's ``hellinger_fidelity``)."""
    a, b = _pair(p, q)
    return float(np.sum(np.sqrt(a * b)) ** 2)
