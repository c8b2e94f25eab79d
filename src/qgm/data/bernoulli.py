"""Mixture of Bernoulli modes (Amin et al., PRX 8, 021050 (2018), arXiv:1601.02036, Sec. V).

``M`` random centres ``s^k ∈ {0,1}^N`` (uniform bits, numpy ``default_rng(seed)``); each mode
flips every bit of its centre independently with probability ``1 − p``:

``P(v) = (1/M) Σ_k p^{N − d_k(v)} (1 − p)^{d_k(v)}``, ``d_k`` = Hamming distance to ``s^k``.

The exact ``P`` is the dataset's ``target`` (so ``batch_size: null`` trains on it exactly, as
the paper does); ``train`` / ``test`` hold ``n_train`` / ``n_test`` draws from it. Wire 0 = bit 0
of a centre = the most significant bit of a basis index.
"""
from __future__ import annotations

import numpy as np

from qgm.data.base import BitDataset, check_fraction, check_n_bits, check_positive_int, index_to_bits, sample_indices
from qgm.limits import check_bytes
from qgm.registry import DATASETS

__all__ = ["BernoulliMixture", "bernoulli_mixture_probs", "bernoulli_mixture"]


def bernoulli_mixture_probs(centres: np.ndarray, p: float) -> np.ndarray:
    """``P(v)`` ``(2**N,)`` of the mixture of Bernoulli modes around ``centres`` ``(M, N)`` (0/1) with keep
    probability ``p``."""
    centres = np.asarray(centres, dtype=np.int64)
    n = centres.shape[1]
    bits = index_to_bits(np.arange(1 << n), n)  # (2**N, N)
    distance = (bits[:, None, :] != centres[None, :, :]).sum(-1)  # (2**N, M)
    return (p ** (n - distance) * (1 - p) ** distance).mean(1)


class BernoulliMixture(BitDataset):
    """``n_bits``-bit data from ``n_modes`` Bernoulli modes (see the module docstring).

    Attributes:
        centres: ``(n_modes, n_bits)`` int64 mode centres.
        p: probability that a bit equals its centre's.
    """

    def __init__(self, n_bits: int = 10, n_modes: int = 8, p: float = 0.9, n_train: int = 1000, n_test: int = 1000,
                 seed: int = 0) -> None:
        n = check_n_bits("bernoulli_mixture", check_positive_int("n_bits", n_bits))
        m = check_positive_int("n_modes", n_modes)
        check_bytes(2**n * m * (n + 16), "n_modes", f"the (2**{n}, {m}, {n}) mode distances",  # before allocating
                    "use fewer modes")
        self.p = check_fraction("p", p)
        self.centres = np.random.default_rng(int(seed)).integers(0, 2, size=(m, n))
        target = bernoulli_mixture_probs(self.centres, self.p)
        train = sample_indices(target, check_positive_int("n_train", n_train), seed)
        test = sample_indices(target, check_positive_int("n_test", n_test), int(seed) + 1)
        super().__init__("bernoulli_mixture", n, train, test=test, target=target)


@DATASETS.register("bernoulli_mixture")
def bernoulli_mixture(n_bits: int = 10, n_modes: int = 8, p: float = 0.9, n_train: int = 1000, n_test: int = 1000,
                      seed: int = 0) -> BernoulliMixture:
    """Registered factory: :class:`BernoulliMixture` (Amin et al.: ``n_bits=10, n_modes=8, p=0.9``)."""
    return BernoulliMixture(n_bits, n_modes, p, n_train, n_test, seed)
