"""Distances between basis states of ``n`` bits, given as integer indices.

Wire 0 is the most significant bit of an index. Two distances are offered:

* ``"hamming"``: number of differing bits (bitstring data such as BAS);
* ``"integer"``: squared integer difference ``(x - y)**2``, for distributions over
  the ordered values ``0 … 2**n - 1`` (1-D tasks such as a Gaussian mixture).
"""
from __future__ import annotations

import torch

from qgm.errors import ConfigError

__all__ = ["DISTANCES", "check_distance", "pairwise_distance", "flip_bit"]

DISTANCES = ("hamming", "integer")


def check_distance(distance: str) -> str:
    """``distance`` if it is one of :data:`DISTANCES`, else a ConfigError."""
    if distance not in DISTANCES:
        raise ConfigError(f"distance must be one of {DISTANCES}, got {distance!r}")
    return distance


def _popcount(x: torch.Tensor, n_bits: int) -> torch.Tensor:
    count = torch.zeros_like(x)
    for k in range(n_bits):
        count += (x >> k) & 1
    return count


def pairwise_distance(x: torch.Tensor, y: torch.Tensor, n_bits: int, distance: str) -> torch.Tensor:
    """Distances ``d(x_i, y_j)`` as float64 ``(len(x), len(y))`` for index tensors ``x``, ``y``."""
    check_distance(distance)
    x = x.to(torch.int64).reshape(-1, 1)
    y = y.to(device=x.device, dtype=torch.int64).reshape(1, -1)
    if distance == "hamming":
        return _popcount(x ^ y, n_bits).to(torch.float64)
    return (x - y).to(torch.float64) ** 2


def flip_bit(x: torch.Tensor, wire: int, n_bits: int) -> torch.Tensor:
    """Indices ``x`` with the bit of ``wire`` flipped (wire 0 = most significant bit)."""
    return x ^ (1 << (n_bits - 1 - wire))
