import numpy as np
import pytest
import torch
from scipy import stats

import qgm.data  # noqa: F401
from qgm.data import discretise_uniforms, fit_gaussian_copula, load_returns, sample_gaussian_copula
from qgm.errors import ConfigError
from qgm.metrics import kendall_tau, tail_dependence
from qgm.registry import DATASETS
from qgm.spaces import Reals


@pytest.fixture(scope="module")
def copula():
    return DATASETS.create("market_copula", bits=4, test_fraction=0.2)


def test_returns_are_aligned_log_returns():
    import arch.data.nasdaq
    import arch.data.sp500

    returns, dates = load_returns(["sp500", "nasdaq"])
    sp = arch.data.sp500.load()["Adj Close"]
    assert returns.shape == (len(sp) - 1, 2)
    np.testing.assert_allclose(returns[:, 0], np.diff(np.log(sp.to_numpy())))
    assert np.all(np.diff(dates.astype(np.int64)) > 0)
    nq = arch.data.nasdaq.load()["Adj Close"]
    assert returns[0, 1] == pytest.approx(np.log(nq.iloc[1] / nq.iloc[0]))


def test_split_by_date_and_shapes(copula):
    assert copula.n_bits == 8 and copula.value_space is not None and copula.target is None
    assert len(copula.train) + len(copula.test) == len(copula.returns("train")) + len(copula.returns("test"))
    assert len(copula.test) == pytest.approx(0.2 * (len(copula.train) + len(copula.test)), abs=1)
    assert copula.dates["train"][-1] < copula.dates["test"][0]


def test_marginals_uniform_and_bins_match_ranks(copula):
    for split in ("train", "test"):
        for m in copula.marginals(copula.empirical(split)):
            np.testing.assert_allclose(m, 1 / 16, atol=2 / len(copula.split(split)))
    u = copula.uniforms("train")
    bins = copula.bin_indices(copula.train)
    np.testing.assert_array_equal(bins, np.floor(u * 16).astype(int))
    # variable 0 (sp500) is the most significant nibble
    np.testing.assert_array_equal(copula.train.numpy() >> 4, bins[:, 0])


def test_decode_is_training_quantile(copula):
    x = copula.decode(torch.tensor([0, 255]))
    train = copula.returns("train")
    np.testing.assert_allclose(x[0], np.quantile(train, 1 / 32, axis=0))
    np.testing.assert_allclose(x[1], np.quantile(train, 31 / 32, axis=0))
    g = torch.Generator().manual_seed(0)
    jitter = copula.decode(torch.full((2000,), 0b00001111), generator=g)
    assert np.all(jitter[:, 0] <= np.quantile(train[:, 0], 1 / 16) + 1e-15)
    assert np.all(jitter[:, 1] >= np.quantile(train[:, 1], 15 / 16) - 1e-15)
    # decoded rank order reproduces the data's dependence (strongly positive for sp500/nasdaq)
    decoded = copula.decode(copula.train, generator=torch.Generator().manual_seed(1))
    assert kendall_tau(decoded) == pytest.approx(kendall_tau(train), abs=0.05)


def test_gaussian_copula_fit_and_sample(copula):
    corr = fit_gaussian_copula(copula.uniforms("train"))
    assert corr.shape == (2, 2) and 0.8 < corr[0, 1] < 0.95
    u = sample_gaussian_copula(corr, 20000, generator=torch.Generator().manual_seed(0))
    assert u.min() > 0 and u.max() < 1
    assert kendall_tau(u) == pytest.approx(2 / np.pi * np.arcsin(corr[0, 1]), abs=0.02)
    assert stats.kstest(u[:, 0], "uniform").statistic < 0.02
    idx = copula.encode(u)
    assert idx.dtype == torch.int64 and int(idx.max()) < 256
    # Gaussian-copula tail dependence at a deep level is below the data's (known qualitative fact)
    assert tail_dependence(u, 0.01) < tail_dependence(copula.returns("train"), 0.01) + 0.1


def test_discretise_uniforms_order():
    idx = discretise_uniforms(np.array([[0.99, 0.0], [0.0, 0.99], [1.0, 1.0]]), bits=2)
    assert idx.tolist() == [0b1100, 0b0011, 0b1111]


def test_market_returns_and_errors():
    d = DATASETS.create("market_returns", test_fraction=0.1)
    assert d.space == Reals(2) and d.dim == 2
    assert d.sample(5, generator=torch.Generator().manual_seed(0)).shape == (5, 2)
    with pytest.raises(ConfigError, match="assets"):
        DATASETS.create("market_copula", assets=["ftse"])
    with pytest.raises(ConfigError, match="test_fraction"):
        DATASETS.create("market_copula", test_fraction=1.5)
    three = DATASETS.create("market_copula", assets=["sp500", "nasdaq", "crude"], bits=2)
    assert three.n_bits == 6 and three.dim == 3
