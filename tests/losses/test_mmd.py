"""MMD loss: analytic values (qcbm.md tests 1, 3, 4), kernel paths, gradients, estimators."""
import math
from types import SimpleNamespace

import numpy as np
import pytest
import torch

from qgm.circuits import Circuit
from qgm.errors import ConfigError, ParameterError
from qgm.losses import GaussianMixtureKernel, MMDLoss, expected_bodyness, make_kernel, mmd_from_samples
from qgm.models import QCBM
from qgm.registry import LOSSES
from reference import measured_samples

DIFF_METHODS = ("backprop", "adjoint", "parameter-shift")


def dirichlet(k: int, seed: int) -> torch.Tensor:
    return torch.as_tensor(np.random.default_rng(seed).dirichlet(np.ones(k)))


def random_qcbm(n: int, depth: int, seed: int, **kw) -> QCBM:
    return QCBM({"name": "hardware_efficient", "n_qubits": n, "depth": depth}, seed=seed, **kw)


@pytest.mark.parametrize("diff_method", DIFF_METHODS)
@pytest.mark.parametrize("theta,pi0,h", [(0.7, 0.2, 1.0), (2.3, 0.9, 0.5), (-1.1, 0.5, 4.0)])
def test_one_qubit_value_and_shift_gradient(diff_method, theta, pi0, h):
    """L = 2(1-e)(p0-π0)², dL/dθ = -2(1-e)(p0-π0) sin θ with e = exp(-1/(2h))."""
    model = QCBM(Circuit(1).ry(0), diff_method=diff_method)
    with torch.no_grad():
        model.theta.fill_(theta)
    loss = MMDLoss(1, [pi0, 1 - pi0], sigmas=[h])
    value = loss(model, None)
    value.backward()
    e = math.exp(-1 / (2 * h))
    p0 = math.cos(theta / 2) ** 2
    assert value.item() == pytest.approx(2 * (1 - e) * (p0 - pi0) ** 2, abs=1e-13)
    assert model.theta.grad.item() == pytest.approx(-2 * (1 - e) * (p0 - pi0) * math.sin(theta), abs=1e-12)


def z_expansion(p: np.ndarray, q: np.ndarray, n: int, gamma: float) -> float:
    """Σ_A a^(n-|A|) b^|A| (⟨Z_A⟩_p − ⟨Z_A⟩_q)² (independent of the kernel code)."""
    e = math.exp(-gamma)
    a, b = (1 + e) / 2, (1 - e) / 2
    x = np.arange(2**n)
    total = 0.0
    for mask in range(2**n):
        signs = np.array([(-1) ** bin(v & mask).count("1") for v in x])
        k = bin(mask).count("1")
        total += a ** (n - k) * b**k * (signs @ p - signs @ q) ** 2
    return total


@pytest.mark.parametrize("sigmas", [[1.0], [0.5, 2.0, 7.0]])
def test_z_expansion_identity(sigmas):
    n = 4
    p, q = dirichlet(2**n, 1), dirichlet(2**n, 2)
    kernel = GaussianMixtureKernel.from_sigmas(n, sigmas)
    expected = np.mean([z_expansion(p.numpy(), q.numpy(), n, 1 / (2 * s)) for s in sigmas])
    assert kernel.quadratic(p - q).item() == pytest.approx(expected, rel=1e-12)


def test_expected_bodyness():
    n, sigma = 6, 3.0
    q = (1 - math.exp(-1 / (2 * sigma))) / 2
    mean_body = sum(k * math.comb(n, k) * q**k * (1 - q) ** (n - k) for k in range(n + 1))
    assert expected_bodyness(sigma, n) == pytest.approx(mean_body, rel=1e-12)
    assert expected_bodyness(1000.0, 40) == pytest.approx(40 / 4000, rel=1e-3)
    assert expected_bodyness([1.0, 3.0], n) == pytest.approx((expected_bodyness(1.0, n) + mean_body) / 2)
    gauss = expected_bodyness(2.0, n, convention="gaussian")
    assert gauss == pytest.approx(n * (1 - math.exp(-1 / 8)) / 2)


def test_bandwidth_conventions():
    k_lw = make_kernel(3, sigmas=[2.0], convention="liu-wang")
    k_g = make_kernel(3, sigmas=[2.0], convention="gaussian")
    k_raw = make_kernel(3, gammas=[0.25])
    assert k_lw.gammas == (0.25,) and k_g.gammas == (0.125,)
    x, y = torch.tensor([0b000]), torch.tensor([0b111])
    assert k_lw.pairwise(x, y).item() == pytest.approx(math.exp(-3 / 4))
    assert k_raw.pairwise(x, y).item() == k_lw.pairwise(x, y).item()
    k_int = make_kernel(3, sigmas=[2.0], distance="integer")
    assert k_int.pairwise(torch.tensor([1]), torch.tensor([4])).item() == pytest.approx(math.exp(-9 / 4))
    with pytest.raises(ConfigError):
        make_kernel(3, sigmas=[1.0], gammas=[1.0])
    with pytest.raises(ConfigError):
        make_kernel(3, sigmas=[-1.0])
    with pytest.raises(ConfigError):
        make_kernel(3, convention="gaussian")
    with pytest.raises(ConfigError):
        make_kernel(3, distance="euclid")


@pytest.mark.parametrize("distance", ["hamming", "integer"])
def test_structured_product_matches_dense(distance):
    """The matrix-free K v (Kronecker / FFT Toeplitz, used above 10 bits) equals the dense matrix."""
    n = 6
    dense = make_kernel(n, sigmas=[0.5, 3.0, 40.0], distance=distance)
    free = make_kernel(n, sigmas=[0.5, 3.0, 40.0], distance=distance, dense_max_bits=0)
    v = torch.randn(3, 2**n, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    assert torch.allclose(free.apply(v), dense.apply(v), atol=1e-12, rtol=0)
    idx = torch.arange(2**n)
    assert torch.allclose(dense.dense(), dense.pairwise(idx, idx).T)


def test_gradient_agrees_across_diff_methods():
    target = dirichlet(8, 3)
    batch = torch.tensor([0, 3, 3, 5, 7, 1])
    grads = {}
    for method in DIFF_METHODS:
        model = random_qcbm(3, 2, seed=4, diff_method=method)
        loss = MMDLoss(3, target, sigmas=[0.5, 1.0, 4.0])
        (loss(model, None) + loss(model, batch)).backward()
        grads[method] = model.theta.grad
    assert grads["backprop"].abs().max() > 1e-3
    for method in ("adjoint", "parameter-shift"):
        assert torch.allclose(grads[method], grads["backprop"], atol=1e-10, rtol=0)


def test_exact_with_batch_uses_histogram():
    model = random_qcbm(3, 1, seed=0)
    batch = torch.tensor([1, 1, 6, 2])
    hist = torch.bincount(batch, minlength=8).double() / 4
    loss = MMDLoss(3, dirichlet(8, 0), sigmas=[1.0])
    p = model.probs().detach()
    expected = (p - hist) @ loss.kernel.dense() @ (p - hist)
    assert loss(model, batch).item() == pytest.approx(expected.item(), rel=1e-12)


def test_unbiased_estimator_mean_and_v_statistic():
    """Mean of MMD²_u over 2000 seeds is the exact MMD within 3 s.e.; every V-statistic is >= 0."""
    n, m, m_data, seeds = 3, 12, 10, 2000
    model = random_qcbm(n, 2, seed=1)
    target = dirichlet(2**n, 5)
    exact = MMDLoss(n, target, sigmas=[1.0, 2.0])(model, None).item()
    data_gen = torch.Generator().manual_seed(99)
    # one loss object per estimator: its generator advances, so every call draws fresh shots
    u = MMDLoss(n, target, sigmas=[1.0, 2.0], estimator="unbiased", shots=m, seed=0)
    v = MMDLoss(n, target, sigmas=[1.0, 2.0], estimator="biased", shots=m, seed=1)
    u_values, v_values = [], []
    with torch.no_grad():
        for _ in range(seeds):
            batch = torch.multinomial(target, m_data, replacement=True, generator=data_gen)
            u_values.append(u(model, batch).item())
            v_values.append(v(model, batch).item())
    u_values = np.array(u_values)
    se = u_values.std(ddof=1) / math.sqrt(seeds)
    assert abs(u_values.mean() - exact) < 3 * se
    assert min(v_values) >= 0
    assert u_values.min() < 0  # the U-statistic is unbiased, hence sometimes negative


def test_histogram_u_statistic_equals_pairwise_formula():
    """The histogram form of MMD²_u equals the spec's i≠j pairwise sums on the same samples."""
    n, m = 4, 30
    model = random_qcbm(n, 2, seed=2)
    kernel = make_kernel(n, sigmas=[0.5, 2.0])
    batch = torch.tensor([0, 3, 5, 5, 10, 12, 15, 15, 3])
    for unbiased in (True, False):
        loss = MMDLoss(n, dirichlet(2**n, 0), sigmas=[0.5, 2.0], shots=m, seed=7,
                       estimator="unbiased" if unbiased else "biased")
        with torch.no_grad():
            value = loss(model, batch).item()
        samples = measured_samples(model, m, seed=7)  # what the loss measured (same seed)
        assert samples.numel() == m
        assert value == pytest.approx(mmd_from_samples(samples, batch, kernel, unbiased).item(), rel=1e-10)


def test_shot_gradient_is_unbiased():
    """Parameter-shift gradients from independent sample sets average to the exact gradient."""
    n, m, seeds = 2, 40, 400
    target = dirichlet(2**n, 8)
    exact_model = random_qcbm(n, 1, seed=3)
    MMDLoss(n, target, sigmas=[1.0])(exact_model, None).backward()
    exact = exact_model.theta.grad
    grads = []
    for seed in range(seeds):
        model = random_qcbm(n, 1, seed=3, diff_method="parameter-shift", shots=m)
        MMDLoss(n, target, sigmas=[1.0], seed=seed)(model, None).backward()
        grads.append(model.theta.grad)
    grads = torch.stack(grads)
    se = grads.std(0) / math.sqrt(seeds)
    assert ((grads.mean(0) - exact).abs() < 4 * se + 1e-12).all()


def test_estimator_shot_consistency_errors():
    target = dirichlet(4, 0)
    model = random_qcbm(2, 1, seed=0)
    with pytest.raises(ParameterError):
        MMDLoss(2, target, estimator="unbiased")(model, None)
    with pytest.raises(ParameterError):
        MMDLoss(2, target, estimator="exact", shots=10)(model, None)
    with pytest.raises(ConfigError):
        MMDLoss(2, target, estimator="median")
    with pytest.raises(ConfigError):
        MMDLoss(3, dirichlet(8, 0))(model, None)
    with pytest.raises(ParameterError):
        MMDLoss(2, target)(model, torch.tensor([0, 4]))


def test_registered_factory_and_generator_state():
    data = SimpleNamespace(n_bits=2, target=None, empirical=lambda split: [0.5, 0.0, 0.0, 0.5])
    loss = LOSSES.create("mmd", dataset=data, sigmas=[1.0], shots=16, seed=3)
    assert torch.equal(loss.target, torch.tensor([0.5, 0.0, 0.0, 0.5], dtype=torch.float64))
    model = random_qcbm(2, 1, seed=0)
    with torch.no_grad():
        loss(model, None)
        state = loss.state_dict()
        first = loss(model, None)
        loss.load_state_dict(state)
        assert loss(model, None).item() == first.item()
    with pytest.raises(ConfigError):
        LOSSES.create("mmd", dataset=data, bandwidth=1.0)
