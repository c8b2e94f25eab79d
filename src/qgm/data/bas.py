"""Bars and Stripes (Liu & Wang arXiv:1804.04168; Benedetti et al. arXiv:1801.07686).

An ``rows x cols`` binary image is valid when every row is constant (stripes) or
every column is constant (bars): ``2**rows + 2**cols - 2`` patterns (all-0 and
all-1 are both). Pixel ``(r, c)`` is wire ``r*cols + c``. The training set is the
valid patterns, each once, and the target is uniform over them.
"""
from __future__ import annotations

import itertools

import numpy as np
import torch

from qgm.data.base import ValidSetDataset, bits_to_index, check_n_bits, check_positive_int
from qgm.registry import DATASETS

__all__ = ["BarsAndStripes", "bas_patterns", "bas"]


def bas_patterns(rows: int, cols: int) -> np.ndarray:
    """All valid ``rows x cols`` patterns as sorted basis indices ``(2**rows + 2**cols - 2,)``."""
    images = []
    for stripe in itertools.product((0, 1), repeat=rows):
        images.append(np.repeat(np.array(stripe)[:, None], cols, axis=1))
    for bar in itertools.product((0, 1), repeat=cols):
        images.append(np.repeat(np.array(bar)[None, :], rows, axis=0))
    flat = np.stack([im.reshape(-1) for im in images])
    return np.unique(bits_to_index(flat))


class BarsAndStripes(ValidSetDataset):
    """The ``rows x cols`` Bars-and-Stripes dataset (see module docstring)."""

    def __init__(self, rows: int = 3, cols: int = 3) -> None:
        self.rows = check_positive_int("rows", rows)
        self.cols = check_positive_int("cols", cols)
        n_bits = check_n_bits("rows, cols", self.rows * self.cols)
        patterns = bas_patterns(self.rows, self.cols)
        mask = np.zeros(1 << n_bits, dtype=bool)
        mask[patterns] = True
        super().__init__("bas", n_bits, torch.as_tensor(patterns), valid_mask=mask, target=mask / mask.sum())

    def images(self, indices: torch.Tensor | np.ndarray) -> np.ndarray:
        """Images ``(len, rows, cols)`` int64 of basis indices."""
        return self.bits(indices).reshape(-1, self.rows, self.cols)


@DATASETS.register("bas")
def bas(rows: int = 3, cols: int = 3) -> BarsAndStripes:
    """Registered factory: :class:`BarsAndStripes` (``n_bits = rows*cols``)."""
    return BarsAndStripes(rows, cols)
