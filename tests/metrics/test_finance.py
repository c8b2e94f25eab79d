import numpy as np
import pytest
from scipy import stats

from qgm.errors import DataError
from qgm.metrics import bootstrap_ci, joint_crash_frequency, kendall_tau, pseudo_observations, tail_dependence


def test_kendall_tau_matches_scipy():
    rng = np.random.default_rng(0)
    z = rng.multivariate_normal([0, 0], [[1, 0.6], [0.6, 1]], size=500)
    assert kendall_tau(z) == pytest.approx(stats.kendalltau(z[:, 0], z[:, 1]).statistic)
    # Gaussian: tau = 2/pi arcsin(rho)
    big = rng.multivariate_normal([0, 0], [[1, 0.6], [0.6, 1]], size=4000)
    assert kendall_tau(big) == pytest.approx(2 / np.pi * np.arcsin(0.6), abs=0.03)


def test_tail_dependence_comonotone_and_independent():
    rng = np.random.default_rng(1)
    x = rng.normal(size=20000)
    comonotone = np.stack([x, np.exp(x)], axis=1)
    assert tail_dependence(comonotone, 0.05, "lower") == pytest.approx(1.0)
    assert tail_dependence(comonotone, 0.05, "upper") == pytest.approx(1.0)
    counter = np.stack([x, -x], axis=1)
    assert tail_dependence(counter, 0.05, "lower") == 0.0
    indep = rng.normal(size=(20000, 2))
    for tail in ("lower", "upper"):
        assert tail_dependence(indep, 0.1, tail) == pytest.approx(0.1, abs=0.02)


def test_joint_crash_frequency():
    rng = np.random.default_rng(2)
    x = rng.normal(size=100000)
    assert joint_crash_frequency(np.stack([x, x], 1), 0.01) == pytest.approx(0.01, abs=1e-4)
    indep = rng.normal(size=(100000, 2))
    assert joint_crash_frequency(indep, 0.1) == pytest.approx(0.01, abs=0.002)
    assert joint_crash_frequency(indep, thresholds=np.array([0.0, 0.0])) == pytest.approx(0.25, abs=0.01)


def test_pseudo_observations_are_scaled_ranks():
    u = pseudo_observations(np.array([[3.0, 1.0], [1.0, 2.0], [2.0, 3.0]]))
    np.testing.assert_allclose(u, [[0.75, 0.25], [0.25, 0.5], [0.5, 0.75]])


def test_bootstrap_ci_covers_mean():
    rng = np.random.default_rng(3)
    x = rng.normal(1.0, 1.0, size=(400, 1))
    lo, hi = bootstrap_ci(lambda a: a.mean(), x, n_boot=400, seed=0)
    half = 1.96 / np.sqrt(400)
    assert lo < 1.0 < hi or abs(x.mean() - 1) > half
    assert hi - lo == pytest.approx(2 * half, rel=0.25)
    lo_b, hi_b = bootstrap_ci(lambda a: a.mean(), x, n_boot=200, block=20, seed=0)
    assert lo_b < x.mean() < hi_b


def test_errors():
    with pytest.raises(DataError, match="q"):
        tail_dependence(np.zeros((10, 2)), q=0.7)
    with pytest.raises(DataError, match="2 columns"):
        kendall_tau(np.zeros((10, 3)))
    with pytest.raises(DataError, match="block"):
        bootstrap_ci(np.mean, np.zeros(5), block=10)
