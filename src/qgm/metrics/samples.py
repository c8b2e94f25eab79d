"""Two-sample and marginal distances: Gaussian-kernel MMD and Kolmogorov-Smirnov.

* :func:`mmd`: biased (V-statistic) squared MMD between samples ``x (N, d)`` and
  ``y (M, d)`` with kernel ``mean_i exp(-|a - b|**2 / (2 sigma_i**2))``.
* :func:`mmd_distributions`: the same for two distributions ``p, q`` on common
  support ``points (K, d)``: ``(p - q)^T K (p - q)``.
* :func:`ks_per_marginal`: per-variable KS statistic, either between two joint
  distributions on a grid (sup distance of the marginal CDFs) or between two
  samples (``scipy.stats.ks_2samp``).
"""
from __future__ import annotations

from typing import Optional, Sequence

import numpy as np
from scipy import stats

from qgm.data.base import grid_marginals
from qgm.errors import DataError
from qgm.metrics.divergences import as_distribution

__all__ = ["gaussian_kernel", "mmd", "mmd_distributions", "ks_per_marginal"]


def _points(name: str, x: np.ndarray) -> np.ndarray:
    a = np.asarray(x, dtype=np.float64)
    a = a[:, None] if a.ndim == 1 else a
    if a.ndim != 2 or a.shape[0] == 0:
        raise DataError(f"{name}: expected a non-empty (N, d) array, got shape {np.shape(x)}")
    return a


def _sigmas(sigma: float | Sequence[float]) -> np.ndarray:
    s = np.atleast_1d(np.asarray(sigma, dtype=np.float64))
    if s.size == 0 or np.any(s <= 0):
        raise DataError(f"sigma: expected positive bandwidth(s), got {sigma!r}")
    return s


def gaussian_kernel(a: np.ndarray, b: np.ndarray, sigma: float | Sequence[float] = 1.0) -> np.ndarray:
    """Kernel matrix ``(len(a), len(b))``: ``mean_i exp(-|a - b|**2 / (2 sigma_i**2))``."""
    a, b = _points("a", a), _points("b", b)
    if a.shape[1] != b.shape[1]:
        raise DataError(f"a, b: dimensions differ ({a.shape[1]} vs {b.shape[1]})")
    d2 = np.maximum((a**2).sum(1)[:, None] + (b**2).sum(1)[None, :] - 2 * a @ b.T, 0.0)
    return np.mean([np.exp(-d2 / (2 * s**2)) for s in _sigmas(sigma)], axis=0)


def mmd(x: np.ndarray, y: np.ndarray, sigma: float | Sequence[float] = 1.0) -> float:
    """Biased squared MMD (V-statistic, always >= 0) between samples ``x`` and ``y``."""
    kxx = gaussian_kernel(x, x, sigma).mean()
    kyy = gaussian_kernel(y, y, sigma).mean()
    kxy = gaussian_kernel(x, y, sigma).mean()
    return float(max(kxx + kyy - 2 * kxy, 0.0))


def mmd_distributions(
    p: np.ndarray, q: np.ndarray, points: np.ndarray, sigma: float | Sequence[float] = 1.0
) -> float:
    """Squared MMD ``(p - q)^T K (p - q)`` of distributions on ``points`` ``(K, d)``."""
    diff = as_distribution("p", p) - as_distribution("q", q)
    pts = _points("points", points)
    if pts.shape[0] != diff.size:
        raise DataError(f"points: expected {diff.size} rows (one per state), got {pts.shape[0]}")
    return float(max(diff @ gaussian_kernel(pts, pts, sigma) @ diff, 0.0))


def ks_per_marginal(a: np.ndarray, b: np.ndarray, shape: Optional[Sequence[int]] = None) -> np.ndarray:
    """KS statistic of each variable ``(d,)``.

    With ``shape`` (e.g. ``(2**bits,) * d``), ``a`` and ``b`` are joint distributions on
    that grid and the statistic is ``max |F_a - F_b|`` of the marginal CDFs; without it
    they are samples ``(N, d)``, ``(M, d)`` and it is ``scipy.stats.ks_2samp``'s.
    """
    if shape is not None:
        return np.array([
            np.abs(np.cumsum(ma) - np.cumsum(mb)).max()
            for ma, mb in zip(grid_marginals(as_distribution("a", a), shape), grid_marginals(as_distribution("b", b), shape))
        ])
    x, y = _points("a", a), _points("b", b)
    if x.shape[1] != y.shape[1]:
        raise DataError(f"a, b: dimensions differ ({x.shape[1]} vs {y.shape[1]})")
    return np.array([stats.ks_2samp(x[:, j], y[:, j]).statistic for j in range(x.shape[1])])
