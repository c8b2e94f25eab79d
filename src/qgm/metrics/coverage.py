"""Mode coverage of 2-D (or any-D) Gaussian-mixture samples.

Definitions of the unrolled-GAN and VEEGAN papers (Metz et al. arXiv:1611.02163,
appendix; Srivastava et al. arXiv:1705.07761, sec. 5.1): a sample is *high
quality* when it lies within ``radius`` (3 standard deviations of the mixture's
components) of its nearest mode; a mode is *covered* when at least ``min_count``
high-quality samples are assigned to it (VEEGAN: 1; PacGAN, Lin et al.
arXiv:1712.04086, uses 20 of 2500 samples). ``mode_kl`` is PacGAN's evenness
measure: ``KL(share of high-quality samples per mode || uniform)`` (0 when every
mode gets the same share; ``log K`` when one mode gets them all).
"""
from __future__ import annotations

import numpy as np

from qgm.errors import DataError

__all__ = ["mode_coverage"]


def mode_coverage(
    samples: np.ndarray, modes: np.ndarray, radius: float, *, min_count: int = 1
) -> dict[str, float]:
    """``{"modes_covered", "high_quality_fraction", "mode_kl"}`` of ``samples (N, d)`` for ``modes (K, d)``.

    ``mode_kl`` is ``inf`` when there is no high-quality sample at all.
    """
    x = np.asarray(samples, dtype=np.float64)
    m = np.asarray(modes, dtype=np.float64)
    if x.ndim != 2 or m.ndim != 2 or x.shape[1] != m.shape[1] or len(x) == 0:
        raise DataError(f"samples, modes: expected (N, d) and (K, d) arrays, got {x.shape} and {m.shape}")
    if radius <= 0 or min_count < 1:
        raise DataError(f"radius, min_count: expected radius > 0 and min_count >= 1, got {radius}, {min_count}")
    d2 = ((x[:, None, :] - m[None, :, :]) ** 2).sum(-1)
    nearest = d2.argmin(1)
    good = d2[np.arange(len(x)), nearest] <= radius**2
    counts = np.bincount(nearest[good], minlength=len(m))
    if good.any():
        share = counts / counts.sum()
        nz = share > 0
        mode_kl = float(np.sum(share[nz] * np.log(share[nz] * len(m))))
    else:
        mode_kl = float("inf")
    return {
        "modes_covered": float((counts >= min_count).sum()),
        "high_quality_fraction": float(good.mean()),
        "mode_kl": mode_kl,
    }
