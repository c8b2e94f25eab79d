"""A tiny Bars-and-Stripes 2x2 dataset for model and loss tests."""
import torch

from qgm.data import BitDataset

#: BAS 2×2 with pixel (r, c) on wire 2r + c (wire 0 = most significant bit).
BAS22 = [0b0000, 0b0011, 0b1100, 0b1111, 0b0101, 0b1010]


def bas22() -> BitDataset:
    target = torch.zeros(16, dtype=torch.float64)
    target[BAS22] = 1 / 6
    return BitDataset("bas22", 4, torch.tensor(BAS22 * 3), target=target)
