import numpy as np
import pytest
import torch
from scipy.spatial.distance import jensenshannon
from scipy.stats import entropy

from qgm.errors import DataError
from qgm.metrics import hellinger_fidelity, js, kl, tv


def random_pair(seed, k=16):
    rng = np.random.default_rng(seed)
    return rng.dirichlet(np.ones(k)), rng.dirichlet(np.ones(k))


def test_known_values():
    p, q = np.array([0.5, 0.5]), np.array([0.25, 0.75])
    assert kl(p, q) == pytest.approx(0.5 * np.log(2) + 0.5 * np.log(2 / 3))
    assert tv(p, q) == pytest.approx(0.25)
    assert hellinger_fidelity(p, q) == pytest.approx((np.sqrt(0.125) + np.sqrt(0.375)) ** 2)
    assert js(np.array([1.0, 0.0]), np.array([0.0, 1.0])) == pytest.approx(np.log(2))
    assert tv(np.array([1.0, 0.0]), np.array([0.0, 1.0])) == pytest.approx(1.0)


@pytest.mark.parametrize("seed", range(3))
def test_against_scipy(seed):
    p, q = random_pair(seed)
    assert kl(p, q) == pytest.approx(entropy(p, q))
    assert js(p, q) == pytest.approx(jensenshannon(p, q) ** 2)
    assert kl(torch.tensor(p), torch.tensor(p)) == pytest.approx(0.0, abs=1e-12)
    assert hellinger_fidelity(p, p) == pytest.approx(1.0)


def test_kl_sums_over_support_of_p_and_floors_q():
    p = np.array([0.5, 0.5, 0.0])
    q = np.array([0.0, 0.5, 0.5])
    assert kl(p, q, eps=1e-10) == pytest.approx(0.5 * np.log(0.5 / 1e-10))
    assert np.isfinite(kl(p, q))


def test_bad_inputs():
    with pytest.raises(DataError, match="sum to 1"):
        kl(np.array([0.5, 0.6]), np.array([0.5, 0.5]))
    with pytest.raises(DataError, match="shapes differ"):
        tv(np.array([1.0]), np.array([0.5, 0.5]))
