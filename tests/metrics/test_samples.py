import numpy as np
import pytest
from scipy import stats

from qgm.errors import DataError
from qgm.metrics import gaussian_kernel, ks_per_marginal, mmd, mmd_distributions


def naive_mmd(x, y, sigma):
    k = lambda a, b: np.exp(-np.sum((a - b) ** 2) / (2 * sigma**2))
    kxx = np.mean([k(a, b) for a in x for b in x])
    kyy = np.mean([k(a, b) for a in y for b in y])
    kxy = np.mean([k(a, b) for a in x for b in y])
    return kxx + kyy - 2 * kxy


def test_mmd_matches_naive_double_loop():
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(30, 2)), rng.normal(0.5, 1, size=(25, 2))
    assert mmd(x, y, 0.7) == pytest.approx(naive_mmd(x, y, 0.7), rel=1e-10)
    assert mmd(x, x, 1.0) == pytest.approx(0.0, abs=1e-12)
    both = mmd(x, y, [0.7, 2.0])
    assert both == pytest.approx(0.5 * (naive_mmd(x, y, 0.7) + naive_mmd(x, y, 2.0)), rel=1e-10)


def test_mmd_distributions_equals_weighted_samples():
    points = np.arange(4.0)[:, None]
    p, q = np.array([0.5, 0.5, 0, 0]), np.array([0, 0, 0.5, 0.5])
    # equal-weight distributions on two points each = the V-statistic of those two-point samples
    assert mmd_distributions(p, q, points, 1.5) == pytest.approx(mmd(points[:2], points[2:], 1.5))
    one = np.array([1.0, 0, 0, 0])
    two = np.array([0, 1.0, 0, 0])
    assert mmd_distributions(one, two, points, 1.0) == pytest.approx(2 - 2 * np.exp(-0.5))
    assert gaussian_kernel(points, points, 1.0).shape == (4, 4)


def test_ks_samples_vs_scipy():
    rng = np.random.default_rng(1)
    x, y = rng.normal(size=(200, 2)), rng.normal(0.3, 1.2, size=(150, 2))
    got = ks_per_marginal(x, y)
    for j in range(2):
        assert got[j] == pytest.approx(stats.ks_2samp(x[:, j], y[:, j]).statistic)


def test_ks_grid_uses_marginal_cdfs():
    rng = np.random.default_rng(2)
    p, q = rng.dirichlet(np.ones(16)), rng.dirichlet(np.ones(16))
    got = ks_per_marginal(p, q, shape=(4, 4))
    pg, qg = p.reshape(4, 4), q.reshape(4, 4)
    assert got[0] == pytest.approx(np.abs(np.cumsum(pg.sum(1)) - np.cumsum(qg.sum(1))).max())
    assert got[1] == pytest.approx(np.abs(np.cumsum(pg.sum(0)) - np.cumsum(qg.sum(0))).max())
    # 1-D grid KS = KS of the discrete distributions' CDFs, which scipy's ks_2samp also gives on large samples
    x = rng.choice(16, 4000, p=p)
    emp = np.bincount(x, minlength=16) / len(x)
    y = rng.choice(16, 4000, p=q)
    emp_y = np.bincount(y, minlength=16) / len(y)
    assert ks_per_marginal(emp, emp_y, shape=(16,))[0] == pytest.approx(stats.ks_2samp(x, y).statistic)


def test_bad_bandwidth():
    with pytest.raises(DataError, match="sigma"):
        mmd(np.zeros((2, 1)), np.ones((2, 1)), 0.0)
