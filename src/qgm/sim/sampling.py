"""Shot sampling from Born probabilities: measured indices and measured frequencies.

Both take rows of probabilities ``p`` ``(B, K)`` (unnormalised rows are fine: they are
divided by their sum) and a seeded ``torch.Generator``.

* :func:`sample_indices` draws ``shots`` indices per row by inverse CDF (``O(shots log K)``);
* :func:`frequencies` draws the multinomial counts of ``shots`` draws directly by binary
  splitting, one vectorised binomial draw per level of the ``K = 2**k`` index tree, so
  its cost is ``O(K log K)`` whatever ``shots`` is: 20 000-shot estimates of 500
  parameter-shifted circuits cost milliseconds, not seconds. The counts have exactly the
  multinomial law of ``shots`` independent measurements.
"""
from __future__ import annotations

from typing import Optional

import torch

from qgm.errors import ParameterError
from qgm.sim.validate import check_shots  # re-exported: the one shots validator lives in validate

__all__ = ["check_shots", "sample_indices", "frequencies"]


def sample_indices(p: torch.Tensor, shots: int, generator: Optional[torch.Generator]) -> torch.Tensor:
    """``shots`` draws from each row of ``p`` ``(B, K)`` by inverse CDF -> LongTensor ``(B, shots)``."""
    cdf = torch.cumsum(p.detach().to(torch.float64), -1)
    u = torch.rand(p.shape[0], shots, dtype=torch.float64, device=p.device, generator=generator)
    idx = torch.searchsorted(cdf, u * cdf[:, -1:], right=True)
    return idx.clamp_(max=p.shape[-1] - 1)


def frequencies(p: torch.Tensor, shots: int, generator: Optional[torch.Generator]) -> torch.Tensor:
    """Measured frequencies ``(B, K)`` (counts / shots, dtype of ``p``) of ``shots`` draws per row.

    ``K`` must be a power of two (probabilities of a register of wires). Level by level, the
    count of every node is split between its two halves with a binomial draw whose success
    probability is the left half's share of the node's mass.
    """
    rows, k = p.shape
    if k & (k - 1):
        raise ParameterError(f"frequencies: the number of outcomes must be a power of two, got {k}")
    mass = p.detach().to(torch.float64).clamp_min(0.0)
    counts = torch.full((rows, 1), float(shots), dtype=torch.float64, device=p.device)
    width = k
    while width > 1:
        width //= 2
        halves = mass.reshape(rows, -1, 2, width).sum(-1)  # (rows, nodes, 2)
        total = halves.sum(-1)
        share = torch.where(total > 0, halves[..., 0] / total.clamp_min(torch.finfo(torch.float64).tiny), 0.0)
        left = torch.binomial(counts, share.clamp(0.0, 1.0), generator=generator)
        counts = torch.stack((left, counts - left), -1).reshape(rows, -1)
    return (counts / shots).to(p.dtype)
