import numpy as np
import pytest
import torch
from scipy import stats

import qgm.data  # noqa: F401
from qgm.errors import ConfigError
from qgm.registry import DATASETS
from qgm.spaces import Reals


def test_lognormal_zoufal_matches_scipy_density():
    d = DATASETS.create("lognormal_zoufal")
    x = np.arange(8.0)
    expected = stats.lognorm.pdf(x, s=1.0, scale=np.e)
    np.testing.assert_allclose(d.target.numpy(), expected / expected.sum(), rtol=1e-12)
    assert d.target[0] == 0.0 and d.n_bits == 3 and d.value_space.matches(Reals(1))
    assert len(d.train) == 20000
    np.testing.assert_array_equal(d.decode(torch.arange(8))[:, 0], x)


def test_lognormal_range_and_bits():
    d = DATASETS.create("lognormal", mu=0.5, sigma=0.4, bits=4, range=(0.5, 4.25))
    centres = np.linspace(0.5, 4.25, 16)
    expected = stats.lognorm.pdf(centres, s=0.4, scale=np.exp(0.5))
    np.testing.assert_allclose(d.target.numpy(), expected / expected.sum(), rtol=1e-12)
    np.testing.assert_allclose(d.decode(torch.tensor([0, 15]))[:, 0], [0.5, 4.25])


def test_train_draws_follow_target_and_are_seeded():
    d = DATASETS.create("lognormal_zoufal", n_train=50000, seed=3)
    assert np.abs(d.empirical("train") - d.target.numpy()).max() < 0.01
    again = DATASETS.create("lognormal_zoufal", n_train=50000, seed=3)
    assert torch.equal(d.train, again.train)
    assert not torch.equal(d.train, DATASETS.create("lognormal_zoufal", n_train=50000, seed=4).train)


def test_double_gaussian_liu_wang():
    d = DATASETS.create("double_gaussian", bits=10)
    x = np.arange(1024.0)
    expected = stats.norm.pdf(x, 2 / 7 * 1024, 128) + stats.norm.pdf(x, 5 / 7 * 1024, 128)
    np.testing.assert_allclose(d.target.numpy(), expected / expected.sum(), rtol=1e-10)
    assert d.n_bits == 10


def test_gaussian_2d_wire_order_variable_zero_first():
    cov = [[1.0, 0.6], [0.6, 2.0]]
    d = DATASETS.create("gaussian", mu=[2.0, 5.0], cov=cov, bits=3)
    assert d.n_bits == 6 and d.dim == 2
    c = np.arange(8.0)
    grid = stats.multivariate_normal([2.0, 5.0], cov).pdf(np.stack(np.meshgrid(c, c, indexing="ij"), -1))
    np.testing.assert_allclose(d.target.numpy().reshape(8, 8), grid / grid.sum(), rtol=1e-10)
    # index 0b011_101: variable 0 in bin 3, variable 1 in bin 5
    np.testing.assert_array_equal(d.decode(torch.tensor([0b011101])), [[3.0, 5.0]])
    m0, m1 = d.marginals(d.target.numpy())
    np.testing.assert_allclose(m0, (grid / grid.sum()).sum(1))
    np.testing.assert_allclose(m1, (grid / grid.sum()).sum(0))


def test_mixture_weights():
    comps = [{"mu": 1.0, "sigma": 0.5, "weight": 3}, {"family": "lognormal", "mu": 1.0, "sigma": 0.3, "weight": 1}]
    d = DATASETS.create("mixture", components=comps, bits=4, range=(0, 6))
    c = np.linspace(0, 6, 16)
    dens = 0.75 * stats.norm.pdf(c, 1, 0.5) + 0.25 * stats.lognorm.pdf(c, s=0.3, scale=np.e)
    np.testing.assert_allclose(d.target.numpy(), dens / dens.sum(), rtol=1e-10)


def test_custom_probabilities():
    d = DATASETS.create("custom", probs=[1, 1, 2, 0], range=(-1, 1))
    np.testing.assert_allclose(d.target.numpy(), [0.25, 0.25, 0.5, 0.0])
    np.testing.assert_allclose(d.decode(torch.arange(4))[:, 0], np.linspace(-1, 1, 4))
    two = DATASETS.create("custom", probs=np.ones(16), bits=2)
    assert two.dim == 2


@pytest.mark.parametrize(
    "name,options,match",
    [
        ("lognormal", {"sigma": -1.0}, "sigma"),
        ("lognormal", {"range": (3, 1)}, "range"),
        ("gaussian", {"mu": 100.0, "sigma": 0.01, "bits": 3}, "range"),
        ("mixture", {"components": []}, "components"),
        ("mixture", {"components": [{"mu": 1, "sd": 2}]}, "unknown key"),
        ("gaussian", {"mu": [0, 0], "cov": [[1, 2], [2, 1]]}, "cov"),
        ("custom", {"probs": [0.2, 0.3, 0.5]}, "probs"),
        ("custom", {"probs": np.ones(8), "bits": 2}, "bits"),
        ("lognormal_zoufal", {"n_train": 0}, "n_train"),
    ],
)
def test_config_errors(name, options, match):
    with pytest.raises(ConfigError, match=match):
        DATASETS.create(name, **options)


def test_zoufal_rounded_discretisation_matches_rounded_samples():
    d = DATASETS.create("lognormal_zoufal", discretisation="round")
    x = np.round(np.random.default_rng(0).lognormal(mean=1.0, sigma=1.0, size=400_000))
    x = x[x <= 7]
    empirical = np.bincount(x.astype(np.int64), minlength=8) / len(x)
    np.testing.assert_allclose(d.target.numpy(), empirical, atol=3e-3)
    assert d.target[0] == pytest.approx(0.0535, abs=5e-4)  # the density discretisation has p(0) = 0
    with pytest.raises(ConfigError, match="discretisation"):
        DATASETS.create("lognormal_zoufal", discretisation="floor")
