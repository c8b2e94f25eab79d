"""Fixed-cardinality bitstrings (Gili et al., arXiv:2207.13645).

The valid strings ``S`` are the ``C(n, k)`` strings of Hamming weight ``k``. A seeded
random fraction ``train_fraction`` of them (at least one, at most ``|S| - 1`` so
that some are left unseen) forms the training set ``D`` (each string once); the rest
is the test split. The target is the training distribution (uniform over ``D``):
what a model is fitted to; generalisation metrics then ask how much of ``S \\ D``
it produces.
"""
from __future__ import annotations

import numpy as np
import torch

from qgm.data.base import ValidSetDataset, check_fraction, check_n_bits, check_positive_int
from qgm.errors import ConfigError
from qgm.limits import check_seed
from qgm.registry import DATASETS

__all__ = ["Cardinality", "weight_k_strings", "cardinality"]


def weight_k_strings(n: int, k: int) -> np.ndarray:
    """Sorted basis indices ``(C(n, k),)`` of the ``n``-bit strings with Hamming weight ``k``."""
    x = np.arange(1 << n, dtype=np.int64)
    weights = np.zeros_like(x)
    for bit in range(n):
        weights += (x >> bit) & 1
    return x[weights == k]


class Cardinality(ValidSetDataset):
    """Hamming-weight-``k`` strings on ``n`` bits with a seeded train/test split."""

    def __init__(self, n: int = 8, k: int = 4, train_fraction: float = 0.3, seed: int = 0) -> None:
        n = check_n_bits("n", check_positive_int("n", n))
        k = check_positive_int("k", k, minimum=0)
        if k > n:
            raise ConfigError(f"k: the Hamming weight must be <= n={n}, got {k}")
        self.k = k
        self.train_fraction = check_fraction("train_fraction", train_fraction)
        valid = weight_k_strings(n, k)
        if len(valid) < 2:
            raise ConfigError(f"n, k: C({n}, {k}) = {len(valid)} string(s) cannot be split; use 0 < k < n")
        n_train = min(max(1, int(round(self.train_fraction * len(valid)))), len(valid) - 1)
        g = torch.Generator().manual_seed(check_seed(seed))
        order = torch.randperm(len(valid), generator=g).numpy()
        train = np.sort(valid[order[:n_train]])
        test = np.sort(valid[order[n_train:]])
        mask = np.zeros(1 << n, dtype=bool)
        mask[valid] = True
        target = np.zeros(1 << n)
        target[train] = 1.0 / n_train
        super().__init__("cardinality", n, torch.as_tensor(train), valid_mask=mask, test=torch.as_tensor(test), target=target)


@DATASETS.register("cardinality")
def cardinality(n: int = 8, k: int = 4, train_fraction: float = 0.3, seed: int = 0) -> Cardinality:
    """Registered factory: :class:`Cardinality`."""
    return Cardinality(n, k, train_fraction, seed)
