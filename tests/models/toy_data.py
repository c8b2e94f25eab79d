"""A tiny stand-in for the BitDataset contract (the fields model and loss factories read)."""
from dataclasses import dataclass
from typing import Optional

import numpy as np
import torch

from qgm.models.base import index_bits

#: BAS 2×2 with pixel (r, c) on wire 2r + c (wire 0 = most significant bit).
BAS22 = [0b0000, 0b0011, 0b1100, 0b1111, 0b0101, 0b1010]


@dataclass
class ToyBits:
    n_bits: int
    train: torch.Tensor
    target: Optional[torch.Tensor] = None

    def bits(self, indices: torch.Tensor) -> np.ndarray:
        return index_bits(indices, self.n_bits, torch.int64).numpy()

    def empirical(self, split: str) -> np.ndarray:
        assert split == "train"
        return (torch.bincount(self.train, minlength=1 << self.n_bits).double() / self.train.numel()).numpy()


def bas22() -> ToyBits:
    target = torch.zeros(16, dtype=torch.float64)
    target[BAS22] = 1 / 6
    return ToyBits(4, torch.tensor(BAS22 * 3), target)
