"""Statistics of a barren-plateau scan: gradient variances with errors, and decay fits.

Variance of a gradient over ``M`` initialisations: the unbiased sample
variance (``ddof=1``), averaged over the differentiated slots when there are
several. Its standard error and ``n_boot`` replicates come from a bootstrap
over the initialisations (rows resampled with replacement), so they hold for
non-Gaussian gradients too (Gaussian reference: relative s.e. ``√(2/(M−1))``).

Decay fit (trainability.md §1): ordinary least squares of ``log2 Var`` on
``n`` (slope = bits of variance lost per qubit; a 2-design gives −1), with a
95 % confidence interval from the bootstrap replicates (each replicate set
refitted; percentile interval) or, without replicates, the Student-t interval
of the OLS slope. The power-law alternative regresses ``log2 Var`` on
``log2 n``; ``barren_plateau`` is flagged when the exponential fit has the
larger R² and its interval excludes 0.
"""
from __future__ import annotations

import math
from typing import Optional, Sequence

import numpy as np
from scipy import stats

from qgm.errors import ConfigError

__all__ = ["variance_stats", "fit_decay", "ols"]

CI_LEVEL = 0.95


def variance_stats(grads: np.ndarray, n_boot: int = 200, seed: int = 0) -> tuple[float, float, np.ndarray]:
    """``(var, stderr, boot)`` of gradients ``(M,)`` or ``(M, K)`` (mean over the K slots).

    ``boot`` ``(n_boot,)`` are bootstrap replicates of ``var`` (rows resampled).
    """
    g = np.asarray(grads, dtype=np.float64)
    g = g[:, None] if g.ndim == 1 else g
    m = g.shape[0]
    if m < 2:
        raise ConfigError(f"n_inits: need at least 2 initialisations for a variance, got {m}")
    var = float(g.var(axis=0, ddof=1).mean())
    rows = np.random.default_rng(seed).integers(0, m, size=(n_boot, m))
    boot = np.array([g[r].var(axis=0, ddof=1).mean() for r in rows]) if n_boot else np.zeros(0)
    stderr = float(boot.std(ddof=1)) if n_boot > 1 else var * math.sqrt(2.0 / (m - 1))
    return var, stderr, boot


def ols(x: np.ndarray, y: np.ndarray) -> tuple[float, float, float, float]:
    """``(slope, intercept, r2, slope_stderr)`` of the least-squares line ``y ≈ a + b x``."""
    x, y = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
    res = stats.linregress(x, y)
    r2 = float(res.rvalue**2) if np.ptp(y) > 0 else 1.0
    return float(res.slope), float(res.intercept), r2, float(res.stderr)


def _log2(v: np.ndarray) -> np.ndarray:
    v = np.asarray(v, dtype=np.float64)
    if np.any(v <= 0) or not np.all(np.isfinite(v)):
        raise ConfigError(f"fit: variances must be positive and finite to take log2, got {v.tolist()}")
    return np.log2(v)


def fit_decay(
    ns: Sequence[int], variances: Sequence[float], boot: Optional[Sequence[Sequence[float]]] = None
) -> dict:
    """Fit ``log2 Var = a + slope·n`` (and the power law); see module docstring.

    Args:
        ns: qubit counts (at least 2 distinct).
        variances: one variance per ``n``.
        boot: per ``n`` a list of bootstrap replicate variances (same length for all ``n``).

    Returns a dict with ``slope, intercept, r2, ci [lo, hi], ci_level, ci_method, slope_stderr,
    power_slope, power_intercept, power_r2, barren_plateau, ns``.
    """
    x = np.asarray(ns, dtype=np.float64)
    if len(np.unique(x)) < 2:
        raise ConfigError(f"fit: need at least two distinct qubit counts, got {list(ns)}")
    y = _log2(variances)
    slope, intercept, r2, se = ols(x, y)
    if boot is not None and min(len(b) for b in boot) > 1:
        reps = np.asarray([list(b) for b in boot], dtype=np.float64)  # (len(ns), n_boot)
        reps = np.where(reps > 0, reps, np.asarray(variances, dtype=np.float64)[:, None])
        slopes = np.array([ols(x, np.log2(reps[:, j]))[0] for j in range(reps.shape[1])])
        alpha = (1 - CI_LEVEL) / 2 * 100
        ci, method = [float(np.percentile(slopes, alpha)), float(np.percentile(slopes, 100 - alpha))], "bootstrap"
    elif len(x) > 2:
        half = float(stats.t.ppf(1 - (1 - CI_LEVEL) / 2, len(x) - 2)) * se
        ci, method = [slope - half, slope + half], "ols-t"
    else:
        ci, method = [float("nan"), float("nan")], "none"
    power_slope, power_intercept, power_r2, _ = ols(np.log2(x), y)
    bp = bool(r2 >= power_r2 and ci[1] < 0)
    return {
        "slope": slope, "intercept": intercept, "r2": r2, "ci": ci, "ci_level": CI_LEVEL, "ci_method": method,
        "slope_stderr": se,
        "power_slope": power_slope, "power_intercept": power_intercept, "power_r2": power_r2, "barren_plateau": bp,
        "ns": [int(v) for v in ns],
    }
