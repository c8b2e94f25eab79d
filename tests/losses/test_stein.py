"""Discrete Stein discrepancy: brute-force κ from the spec formula, SD(q)=0 (qcbm.md test 6), gradients."""
import numpy as np
import pytest
import torch

from qgm.losses import SteinLoss, make_kernel, stein_kernel
from qgm.models import QCBM
from reference import measured_samples

N = 3


def positive(seed: int) -> torch.Tensor:
    return torch.as_tensor(np.random.default_rng(seed).dirichlet(np.ones(2**N)))


def brute_force_kappa(q: np.ndarray, k: np.ndarray) -> np.ndarray:
    """κ(x, y) entry by entry, transcribed from specs/qcbm.md."""
    def flip(x, i):
        return x ^ (1 << (N - 1 - i))

    def score(x):
        return np.array([1 - q[flip(x, i)] / q[x] for i in range(N)])

    out = np.zeros_like(k)
    for x in range(2**N):
        for y in range(2**N):
            d_y = np.array([k[x, y] - k[x, flip(y, i)] for i in range(N)])
            d_x = np.array([k[x, y] - k[flip(x, i), y] for i in range(N)])
            trace = N * k[x, y] - sum(k[flip(x, i), y] + k[x, flip(y, i)] - k[flip(x, i), flip(y, i)] for i in range(N))
            out[x, y] = score(x) @ score(y) * k[x, y] - score(x) @ d_y - d_x @ score(y) + trace
    return out


@pytest.mark.parametrize("distance", ["hamming", "integer"])
def test_stein_kernel_matches_spec_formula_and_vanishes_at_q(distance):
    q = positive(0)
    kernel = make_kernel(N, sigmas=[0.7, 3.0], distance=distance)
    kappa = stein_kernel(q, kernel)
    assert np.allclose(kappa.numpy(), brute_force_kappa(q.numpy(), kernel.dense().numpy()), atol=1e-12)
    assert abs((q @ kappa @ q).item()) < 1e-12
    p = positive(1)
    assert (p @ kappa @ p).item() > 1e-4
    assert torch.linalg.eigvalsh(kappa).min() > -1e-10


def test_loss_gradient_agrees_across_diff_methods():
    target = positive(2)
    grads = {}
    for method in ("backprop", "adjoint", "parameter-shift"):
        model = QCBM({"name": "hardware_efficient", "n_qubits": N, "depth": 2}, seed=1, diff_method=method)
        SteinLoss(N, target, smoothing=0.1)(model, None).backward()
        grads[method] = model.theta.grad
    assert grads["backprop"].abs().max() > 1e-4
    for method in ("adjoint", "parameter-shift"):
        assert torch.allclose(grads[method], grads["backprop"], atol=1e-9)


def test_smoothing_makes_zero_probability_targets_usable():
    target = torch.zeros(2**N, dtype=torch.float64)
    target[[0, 7]] = 0.5
    loss = SteinLoss(N, target, smoothing=0.2)
    smoothed = 0.8 * target + 0.2 / 2**N
    assert abs((smoothed @ loss.kappa @ smoothed).item()) < 1e-12


def test_shot_u_statistic_matches_pairwise_sum():
    """With shots the loss is Σ_{i≠j} κ(x_i, x_j) / (m(m−1)) over the model's samples."""
    m = 25
    spec = {"name": "hardware_efficient", "n_qubits": N, "depth": 2}
    model = QCBM(spec, seed=4, shots=m, diff_method="parameter-shift")
    loss = SteinLoss(N, positive(3), smoothing=0.1, seed=11)
    with torch.no_grad():
        value = loss(model, None).item()
    x = measured_samples(model, m, seed=11)  # what the loss measured (same seed)
    block = loss.kappa[x][:, x]
    assert value == pytest.approx(((block.sum() - block.diagonal().sum()) / (m * (m - 1))).item(), rel=1e-10)
