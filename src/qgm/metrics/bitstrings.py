"""Metrics for bitstring datasets with a set of valid strings.

* :func:`valid_fraction`: share of samples that are valid (PennyLane's BAS quality ``chi``).
* :func:`qbas_score`: Benedetti et al. (arXiv:1801.07686, eq. 6): precision = share of
  samples that are valid, recall = share of valid patterns seen at least once,
  ``qBAS = 2 p r / (p + r)``.
* :func:`generalisation`: Gili et al. (arXiv:2207.13645, sec. 2): with ``Q`` queries
  ``G``, ``G_new`` the queries outside the training set and ``G_sol`` the valid ones
  among them (with repetitions), ``g_sol`` the distinct ones:
  fidelity ``|G_sol|/|G_new|``, rate ``|G_sol|/Q``, coverage ``|g_sol| / |S \\ D|``
  (normalised by the number of unseen valid strings) and ``coverage_normalised``:
  coverage divided by its expectation for a perfect generaliser that samples
  uniformly from all valid strings ``S``, ``1 - (1 - 1/|S|)**Q``.
"""
from __future__ import annotations

import numpy as np
import torch

from qgm.errors import DataError

__all__ = ["valid_fraction", "qbas_score", "generalisation"]


def _indices(samples: np.ndarray | torch.Tensor, size: int) -> np.ndarray:
    x = np.asarray(samples.detach().cpu() if isinstance(samples, torch.Tensor) else samples).reshape(-1)
    if x.size == 0 or not np.issubdtype(x.dtype, np.integer):
        raise DataError(f"samples: expected a non-empty integer array of basis indices, got dtype {x.dtype}")
    if x.min() < 0 or x.max() >= size:
        raise DataError(f"samples: basis indices must lie in 0..{size - 1}")
    return x.astype(np.int64)


def valid_fraction(samples: np.ndarray | torch.Tensor, valid_mask: np.ndarray) -> float:
    """Share of ``samples`` (basis indices) that are valid under ``valid_mask`` ``(2**n,)`` bool."""
    mask = np.asarray(valid_mask, dtype=bool)
    return float(mask[_indices(samples, mask.size)].mean())


def qbas_score(samples: np.ndarray | torch.Tensor, valid_mask: np.ndarray) -> float:
    """Benedetti et al.'s qBAS F1 score of ``samples`` (0 when no sample is valid)."""
    mask = np.asarray(valid_mask, dtype=bool)
    x = _indices(samples, mask.size)
    hits = mask[x]
    precision = float(hits.mean())
    recall = len(np.unique(x[hits])) / int(mask.sum())
    return 0.0 if precision + recall == 0 else 2 * precision * recall / (precision + recall)


def generalisation(
    samples: np.ndarray | torch.Tensor, valid_mask: np.ndarray, train_mask: np.ndarray
) -> dict[str, float]:
    """Gili et al.'s fidelity, rate, coverage and normalised coverage (see module docstring).

    ``train_mask`` ``(2**n,)`` bool marks the training strings ``D``.
    """
    valid = np.asarray(valid_mask, dtype=bool)
    seen = np.asarray(train_mask, dtype=bool)
    if valid.shape != seen.shape:
        raise DataError(f"train_mask: shape {seen.shape} differs from valid_mask {valid.shape}")
    unseen_valid = int((valid & ~seen).sum())
    if unseen_valid == 0:
        raise DataError("train_mask: the training set holds every valid string; generalisation needs unseen ones")
    x = _indices(samples, valid.size)
    new = ~seen[x]
    sol = new & valid[x]
    coverage = len(np.unique(x[sol])) / unseen_valid
    expected = 1.0 - (1.0 - 1.0 / int(valid.sum())) ** len(x)
    return {
        "fidelity": float(sol.sum() / new.sum()) if new.any() else 0.0,
        "rate": float(sol.mean()),
        "coverage": coverage,
        "coverage_normalised": coverage / expected,
    }
