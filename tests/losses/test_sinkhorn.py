"""Sinkhorn divergence: S(a,a)=0, Dirac pairs, the large-ε MMD limit, envelope gradients (qcbm.md test 5)."""
import numpy as np
import pytest
import torch

from qgm.losses import SinkhornLoss, pairwise_distance, sinkhorn_divergence
from qgm.models import QCBM

N = 4


def dirichlet(seed: int, zeros: int = 0) -> torch.Tensor:
    rng = np.random.default_rng(seed)
    p = rng.dirichlet(np.ones(2**N))
    p[rng.choice(2**N, size=zeros, replace=False)] = 0.0
    return torch.as_tensor(p / p.sum())


@pytest.mark.parametrize("eps", [0.3, 1.0, 5.0])
def test_divergence_of_a_distribution_with_itself_is_zero(eps):
    a = dirichlet(0, zeros=5)
    res = sinkhorn_divergence(a, a, N, eps)
    assert res.converged and abs(res.value.item()) < 1e-9
    assert res.phi.abs().max() < 1e-8


@pytest.mark.parametrize("eps", [0.2, 3.0])
def test_dirac_pair_costs_hamming_distance(eps):
    """With point masses the plan is forced: S_ε(δ_x, δ_y) = d_H(x, y) for every ε."""
    a, b = torch.zeros(2**N, dtype=torch.float64), torch.zeros(2**N, dtype=torch.float64)
    a[0b0110], b[0b1011] = 1.0, 1.0
    assert sinkhorn_divergence(a, b, N, eps).value.item() == pytest.approx(3.0, abs=1e-9)


def test_large_epsilon_limit_is_mmd_with_minus_cost_kernel():
    a, b = dirichlet(1), dirichlet(2, zeros=6)
    idx = torch.arange(2**N)
    cost = pairwise_distance(idx, idx, N, "hamming")
    limit = (-0.5 * (a - b) @ cost @ (a - b)).item()
    value = sinkhorn_divergence(a, b, N, 1e4).value.item()
    assert limit > 0 and value == pytest.approx(limit, rel=1e-3)


def test_positive_and_between_mmd_limit_and_ot():
    a, b = dirichlet(3), dirichlet(4, zeros=8)
    values = [sinkhorn_divergence(a, b, N, eps).value.item() for eps in (0.5, 2.0, 20.0)]
    assert all(v > 0 for v in values)
    assert values[0] > values[1] > values[2]


def test_gradient_potential_matches_finite_differences():
    """φ(x) − φ(y) is the derivative of S along δ_x − δ_y, also for x off the support of α."""
    a, b = dirichlet(5, zeros=3), dirichlet(6, zeros=7)
    eps, t = 0.7, 1e-6
    res = sinkhorn_divergence(a, b, N, eps)
    off = int(torch.nonzero(a == 0)[0])
    on = int(torch.argmax(a))
    for x, y in [(off, on), (1 if a[1] > 0 else 2, on)]:
        step = torch.zeros_like(a)
        step[x], step[y] = t, -t
        fd = (sinkhorn_divergence(a + step, b, N, eps).value - res.value).item() / t
        assert fd == pytest.approx((res.phi[x] - res.phi[y]).item(), rel=1e-4, abs=1e-6)


def test_loss_gradient_across_diff_methods_and_finite_differences():
    target = dirichlet(7, zeros=10)
    grads = {}
    for method in ("backprop", "adjoint", "parameter-shift"):
        model = QCBM({"name": "liu_wang", "n_qubits": N, "depth": 1}, seed=3, diff_method=method)
        SinkhornLoss(N, target, epsilon=0.8)(model, None).backward()
        grads[method] = model.theta.grad
    for method in ("adjoint", "parameter-shift"):
        assert torch.allclose(grads[method], grads["backprop"], atol=1e-10)
    model = QCBM({"name": "liu_wang", "n_qubits": N, "depth": 1}, seed=3)
    loss, h = SinkhornLoss(N, target, epsilon=0.8), 1e-5
    with torch.no_grad():
        for k in (0, 5, 11):
            model.theta[k] += h
            up = loss(model, None).item()
            model.theta[k] -= 2 * h
            down = loss(model, None).item()
            model.theta[k] += h
            assert grads["backprop"][k].item() == pytest.approx((up - down) / (2 * h), rel=1e-5, abs=1e-8)


def test_shot_mode_runs_with_parameter_shift():
    model = QCBM({"name": "liu_wang", "n_qubits": N, "depth": 1}, seed=0, shots=200, diff_method="parameter-shift")
    loss = SinkhornLoss(N, dirichlet(8, zeros=10), epsilon=1.0, seed=1)
    value = loss(model, torch.tensor([0, 3, 5, 10]))
    value.backward()
    assert value.item() > 0 and torch.isfinite(model.theta.grad).all() and model.theta.grad.abs().max() > 0
