from math import comb

import numpy as np
import pytest
import torch

import qgm.data  # noqa: F401
from qgm.errors import ConfigError
from qgm.registry import DATASETS


@pytest.mark.parametrize("n,k,frac", [(6, 3, 0.3), (8, 4, 0.5), (5, 1, 0.9)])
def test_split_sizes_and_weights(n, k, frac):
    d = DATASETS.create("cardinality", n=n, k=k, train_fraction=frac, seed=1)
    total = comb(n, k)
    assert len(d.train) == min(max(1, round(frac * total)), total - 1)
    assert len(d.train) + len(d.test) == total == d.n_valid
    assert not set(d.train.tolist()) & set(d.test.tolist())
    assert np.all(d.bits(torch.cat([d.train, d.test])).sum(1) == k)
    np.testing.assert_allclose(d.target.numpy(), d.empirical("train"))
    assert d.valid(d.test).all() and not d.valid(torch.tensor([0])).any()


def test_seeded_split():
    a = DATASETS.create("cardinality", n=8, k=4, seed=5)
    assert torch.equal(a.train, DATASETS.create("cardinality", n=8, k=4, seed=5).train)
    assert not torch.equal(a.train, DATASETS.create("cardinality", n=8, k=4, seed=6).train)


@pytest.mark.parametrize("options,match", [
    ({"k": 9}, "k"), ({"train_fraction": 1.0}, "train_fraction"), ({"n": 3, "k": 3}, "split"),
])
def test_errors(options, match):
    with pytest.raises(ConfigError, match=match):
        DATASETS.create("cardinality", **{"n": 8, **options})


def test_sizes_and_seeds_are_checked_before_allocating():
    import time

    from qgm.errors import ResourceError

    start = time.perf_counter()
    with pytest.raises(ResourceError, match=r"^n: 30 bits would need \(2\*\*30,\) vectors \(17.0 GiB\); .*MAX_BITS=24"):
        DATASETS.create("cardinality", n=30, k=15)
    assert time.perf_counter() - start < 1.0  # refused before the 2**30 strings are enumerated
    for seed in (-1, 2**63, None, 0.5):
        with pytest.raises(ConfigError, match=r"^seed: expected an integer seed in \[0, 2\*\*63 - 1\]"):
            DATASETS.create("cardinality", n=6, k=3, seed=seed)
