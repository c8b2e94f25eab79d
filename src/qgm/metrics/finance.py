"""Dependence and tail statistics of multivariate return samples ``(N, d)``.

* :func:`pseudo_observations`: ranks / (N + 1) per column (average ranks for ties).
* :func:`tail_dependence`: empirical tail-dependence coefficient at level ``q``:
  lower ``P(U_j <= q | U_i <= q)``, upper ``P(U_j > 1-q | U_i > 1-q)`` on the
  pseudo-observations (1 for comonotone data, about ``q`` for independent data;
  a Gaussian copula's tends to 0 as ``q -> 0``).
* :func:`joint_crash_frequency`: share of rows with every column below its
  ``q`` quantile (its own, or given thresholds).
* :func:`bootstrap_ci`: percentile interval of a statistic under an i.i.d. or
  moving-block bootstrap of the rows.
"""
from __future__ import annotations

from typing import Callable, Optional

import numpy as np
from scipy import stats

from qgm.errors import DataError

__all__ = [
    "pseudo_observations", "kendall_tau", "tail_dependence", "joint_crash_frequency", "bootstrap_ci",
    "pairwise_mean",
]


def _matrix(name: str, x: np.ndarray, min_cols: int = 1) -> np.ndarray:
    a = np.asarray(x, dtype=np.float64)
    if a.ndim != 2 or a.shape[0] < 2 or a.shape[1] < min_cols or not np.all(np.isfinite(a)):
        raise DataError(f"{name}: expected a finite (N >= 2, d >= {min_cols}) array, got shape {a.shape}")
    return a


def pseudo_observations(x: np.ndarray) -> np.ndarray:
    """Ranks ``/ (N + 1)`` of each column of ``x`` ``(N, d)``: values in ``(0, 1)``."""
    a = _matrix("x", x)
    return stats.rankdata(a, axis=0) / (a.shape[0] + 1)


def kendall_tau(x: np.ndarray) -> float:
    """Kendall's tau-b between the two columns of ``x`` ``(N, 2)``."""
    a = _matrix("x", x, min_cols=2)
    if a.shape[1] != 2:
        raise DataError(f"x: kendall_tau needs exactly 2 columns, got {a.shape[1]}; use pairwise_mean for more")
    return float(stats.kendalltau(a[:, 0], a[:, 1]).statistic)


def tail_dependence(x: np.ndarray, q: float = 0.05, tail: str = "lower") -> float:
    """Empirical tail-dependence coefficient of the two columns of ``x`` ``(N, 2)`` at level ``q``."""
    if not 0.0 < q < 0.5:
        raise DataError(f"q: expected a tail level in (0, 0.5), got {q}")
    u = pseudo_observations(_matrix("x", x, min_cols=2))
    if u.shape[1] != 2:
        raise DataError(f"x: tail_dependence needs exactly 2 columns, got {u.shape[1]}")
    if tail == "lower":
        first, both = u[:, 0] <= q, (u[:, 0] <= q) & (u[:, 1] <= q)
    elif tail == "upper":
        first, both = u[:, 0] > 1 - q, (u[:, 0] > 1 - q) & (u[:, 1] > 1 - q)
    else:
        raise DataError(f"tail: expected 'lower' or 'upper', got {tail!r}")
    if not first.any():
        raise DataError(f"q: no observation lies in the {tail} {q} tail of {len(u)} rows; use a larger q or more data")
    return float(both.sum() / first.sum())


def joint_crash_frequency(x: np.ndarray, q: float = 0.01, thresholds: Optional[np.ndarray] = None) -> float:
    """Share of rows of ``x`` ``(N, d)`` with every column below its threshold.

    ``thresholds`` ``(d,)`` default to each column's own ``q`` quantile.
    """
    a = _matrix("x", x)
    t = np.quantile(a, q, axis=0) if thresholds is None else np.asarray(thresholds, dtype=np.float64)
    if t.shape != (a.shape[1],):
        raise DataError(f"thresholds: expected {a.shape[1]} values, got shape {t.shape}")
    return float(np.all(a < t, axis=1).mean())


def pairwise_mean(statistic: Callable[[np.ndarray], float], x: np.ndarray) -> float:
    """Mean of a two-column ``statistic`` over every pair of columns of ``x`` ``(N, d >= 2)``."""
    a = _matrix("x", x, min_cols=2)
    d = a.shape[1]
    return float(np.mean([statistic(a[:, [i, j]]) for i in range(d) for j in range(i + 1, d)]))


def bootstrap_ci(
    statistic: Callable[[np.ndarray], float],
    x: np.ndarray,
    *,
    n_boot: int = 1000,
    level: float = 0.95,
    block: int = 1,
    seed: int = 0,
) -> tuple[float, float]:
    """Percentile ``level`` interval of ``statistic(x[rows])`` over ``n_boot`` bootstrap resamples.

    ``block > 1`` uses the moving-block bootstrap (contiguous runs of ``block`` rows),
    which keeps the short-range serial dependence of daily returns.
    """
    a = np.asarray(x)
    n = len(a)
    if not 1 <= block <= n or n_boot < 2 or not 0 < level < 1:
        raise DataError(f"bootstrap_ci: need 1 <= block <= N={n}, n_boot >= 2, 0 < level < 1")
    rng = np.random.default_rng(seed)
    n_blocks = -(-n // block)
    values = np.empty(n_boot)
    for b in range(n_boot):
        starts = rng.integers(0, n - block + 1, size=n_blocks)
        rows = (starts[:, None] + np.arange(block)).reshape(-1)[:n]
        values[b] = statistic(a[rows])
    alpha = (1 - level) / 2
    lo, hi = np.quantile(values, [alpha, 1 - alpha])
    return float(lo), float(hi)
