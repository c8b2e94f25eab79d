import itertools

import numpy as np
import pytest
import torch

import qgm.data  # noqa: F401  (registers the datasets)
from qgm.data import BarsAndStripes, bas_patterns
from qgm.errors import ConfigError
from qgm.registry import DATASETS
from qgm.spaces import Bits


def is_bar_or_stripe(image: np.ndarray) -> bool:
    rows_constant = all(len(set(row)) == 1 for row in image)
    cols_constant = all(len(set(col)) == 1 for col in image.T)
    return rows_constant or cols_constant


@pytest.mark.parametrize("rows,cols", [(1, 1), (2, 2), (2, 3), (3, 3), (3, 4), (4, 4)])
def test_pattern_count_and_each_is_bar_or_stripe(rows, cols):
    d = DATASETS.create("bas", rows=rows, cols=cols)
    assert d.n_bits == rows * cols
    assert len(d.train) == 2**rows + 2**cols - 2
    assert len(set(d.train.tolist())) == len(d.train)
    assert all(is_bar_or_stripe(im) for im in d.images(d.train))


def test_valid_matches_brute_force_on_all_strings():
    d = BarsAndStripes(3, 3)
    every = torch.arange(2**9)
    brute = np.array([is_bar_or_stripe(im) for im in d.images(every)])
    np.testing.assert_array_equal(d.valid(every), brute)
    assert d.n_valid == 14


def test_target_uniform_over_patterns_and_equals_training_histogram():
    d = BarsAndStripes(2, 2)
    assert d.target.dtype == torch.float64
    np.testing.assert_allclose(d.target.numpy()[d.train.numpy()], 1 / 6)
    np.testing.assert_allclose(d.empirical("train"), d.target.numpy())
    assert d.test is None and d.space == Bits(d.n_bits) and d.value_space is None


def test_pixel_wire_order_row_major_msb_first():
    # 2x2: top row lit = wires 0,1 = bits '1100' = index 12; left column lit = wires 0,2 = '1010' = 10.
    assert set(bas_patterns(2, 2).tolist()) == {0, 3, 12, 15, 5, 10}
    d = BarsAndStripes(2, 3)
    im = d.images(torch.tensor([0b111000]))[0]
    np.testing.assert_array_equal(im, [[1, 1, 1], [0, 0, 0]])
    np.testing.assert_array_equal(d.decode(torch.tensor([5])), d.bits(torch.tensor([5])).astype(float))


def test_bad_options_are_config_errors():
    with pytest.raises(ConfigError, match="rows"):
        DATASETS.create("bas", rows=0, cols=2)
    with pytest.raises(ConfigError, match="unknown option"):
        DATASETS.create("bas", rows=2, colz=2)
    with pytest.raises(ConfigError, match="split"):
        BarsAndStripes(2, 2).empirical("validation")


def test_bits_roundtrip():
    d = BarsAndStripes(2, 2)
    for idx, bits in zip(range(16), itertools.product((0, 1), repeat=4)):
        np.testing.assert_array_equal(d.bits(torch.tensor([idx]))[0], bits)


def test_sizes_are_checked_before_allocating():
    from qgm.errors import ResourceError

    with pytest.raises(ResourceError, match=r"^rows, cols: 64 bits would need \(2\*\*64,\) vectors \(272.0 EiB\); "
                                            r"datasets hold at most MAX_BITS=24 bits"):
        DATASETS.create("bas", rows=8, cols=8)
    with pytest.raises(ResourceError, match=r"10000000000000000000000 bits would need \(2\*\*10000000000000000000000,\)"):
        DATASETS.create("bas", rows=10**22, cols=1)
    assert BarsAndStripes(4, 5).n_bits == 20
