"""Bernoulli-mixture data (Amin et al.) and Gibbs-state targets (CQCL benchmark) against known answers."""
import math

import numpy as np
import pytest
import scipy.linalg as sl
import torch

from qgm.data.bernoulli import bernoulli_mixture, bernoulli_mixture_probs
from qgm.data.gibbs import cqcl_tfim_coefficients, gibbs, tfim_gibbs
from qgm.data.states import tfim_hamiltonian
from qgm.errors import ConfigError, ParameterError, ResourceError
from qgm.registry import METRICS
from qgm.sim.hamiltonian import von_neumann_entropy
from qgm.spaces import DensityMatrices


def test_bernoulli_mixture_known_values():
    one = bernoulli_mixture_probs(np.array([[1, 0, 1]]), 0.9)
    assert one[0b101] == pytest.approx(0.9**3) and one[0b010] == pytest.approx(0.1**3)
    assert one[0b100] == pytest.approx(0.9**2 * 0.1) and one.sum() == pytest.approx(1.0)
    two = bernoulli_mixture_probs(np.array([[0, 0], [1, 1]]), 0.75)
    np.testing.assert_allclose(two, [0.3125, 0.1875, 0.1875, 0.3125])
    data = bernoulli_mixture(n_bits=10, n_modes=8, p=0.9, n_train=500, seed=3)
    assert data.centres.shape == (8, 10) and data.target.shape == (1024,) and float(data.target.sum()) == pytest.approx(1)
    centre = int((data.centres[0] * (1 << np.arange(9, -1, -1))).sum())
    assert float(data.target[centre]) >= 0.9**10 / 8
    again = bernoulli_mixture(n_bits=10, n_modes=8, p=0.9, n_train=500, seed=3)
    assert torch.equal(data.train, again.train) and len(data) == 500
    with pytest.raises(ConfigError, match="p: expected a number in"):
        bernoulli_mixture(p=1.5)


def test_tfim_gibbs_matches_expm_of_the_sparse_tfim():
    data = tfim_gibbs(5, beta=0.8, J=1.2, h=0.7, periodic=True)
    h = tfim_hamiltonian(5, 0.7, 1.2, periodic=True).toarray()
    rho = sl.expm(-0.8 * h)
    np.testing.assert_allclose(data.state.numpy(), rho / np.trace(rho), atol=1e-13)
    assert isinstance(data.space, DensityMatrices) and data.has_exact_target and len(data) == 1
    assert float(data.target.sum()) == pytest.approx(1.0)


def test_cqcl_target_reproduces_the_published_initial_relative_entropy():
    # ParamsTrue_t0_beta1-0_q8_*.npy of CQCL/qbm_benchmark_dataset (seed 1) and the first entry of its QRE histories
    assert cqcl_tfim_coefficients(1) == pytest.approx((0.34558419, 0.82161814), abs=1e-8)
    data = tfim_gibbs(8, beta=1.0, seed=1)
    assert 8 * math.log(2) - float(von_neumann_entropy(data.state)) == pytest.approx(2.10237079, abs=1e-8)


def test_gibbs_dataset_and_metric_errors_are_one_line():
    data = gibbs([[0.5, "ZZ"], [1.0, "XI"]], beta=2.0)
    assert data.terms == [(0.5, "ZZ"), (1.0, "XI")] and data.beta == 2.0
    for call, error in ((lambda: gibbs([[1.0, "ZQ"]]), ParameterError), (lambda: gibbs([[1.0, "Z"]], -1), ParameterError),
                        (lambda: tfim_gibbs(13, J=1.0, h=1.0), ResourceError), (lambda: tfim_gibbs(4, J=1.0), ConfigError)):
        with pytest.raises(error) as info:
            call()
        assert "\n" not in str(info.value)
    metric = METRICS.get("relative_entropy")
    with pytest.raises(ConfigError, match="needs density-matrix data"):
        metric(model=None, dataset=bernoulli_mixture(n_bits=3), samples=None, probs=None)
    with pytest.raises(ConfigError, match="prepares no density matrix"):
        metric(model=object(), dataset=data, samples=None, probs=None)
