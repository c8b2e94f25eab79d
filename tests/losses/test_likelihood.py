"""KL / NLL losses: values against direct formulas, gradients against finite differences."""
import math

import numpy as np
import pytest
import torch

from qgm.baselines import MADE, RBM
from qgm.losses import KLLoss, NLLLoss
from qgm.models import QCBM


def target_with_zeros(n: int, seed: int) -> torch.Tensor:
    rng = np.random.default_rng(seed)
    p = rng.dirichlet(np.ones(2**n))
    p[rng.choice(2**n, size=2**n // 4, replace=False)] = 0.0
    return torch.as_tensor(p / p.sum())


def qcbm(seed: int = 0, **kw) -> QCBM:
    return QCBM({"name": "hardware_efficient", "n_qubits": 3, "depth": 2}, seed=seed, **kw)


def test_kl_and_nll_values():
    pi = target_with_zeros(3, 0)
    model = qcbm()
    p = model.probs().detach().numpy()
    nz = pi.numpy() > 0
    kl = np.sum(pi.numpy()[nz] * np.log(pi.numpy()[nz] / p[nz]))
    assert KLLoss(3, pi)(model, None).item() == pytest.approx(kl, rel=1e-12)
    entropy = -np.sum(pi.numpy()[nz] * np.log(pi.numpy()[nz]))
    assert NLLLoss(3, pi)(model, None).item() == pytest.approx(kl + entropy, rel=1e-12)
    batch = torch.tensor([0, 5, 5, 7])
    assert NLLLoss(3, pi)(model, batch).item() == pytest.approx(-np.mean(np.log(p[[0, 5, 5, 7]])), rel=1e-12)
    hist = np.array([1, 0, 0, 0, 0, 2, 0, 1]) / 4
    hz = hist > 0
    assert KLLoss(3, pi)(model, batch).item() == pytest.approx(np.sum(hist[hz] * np.log(hist[hz] / p[hz])))


@pytest.mark.parametrize("diff_method", ["backprop", "adjoint", "parameter-shift"])
def test_kl_gradient_matches_finite_differences(diff_method):
    pi = target_with_zeros(3, 1)
    model = qcbm(seed=2, diff_method=diff_method)
    loss = KLLoss(3, pi)
    loss(model, None).backward()
    grad = model.theta.grad.clone()
    h = 1e-6
    theta0 = model.theta.detach().clone()
    fd = torch.zeros_like(theta0)
    with torch.no_grad():
        for k in range(theta0.numel()):
            for sign in (1, -1):
                model.theta.copy_(theta0)
                model.theta[k] += sign * h
                fd[k] += sign * loss(model, None) / (2 * h)
    assert torch.allclose(grad, fd, atol=1e-7, rtol=1e-6)


@pytest.mark.parametrize("model", [RBM(4, n_hidden=3, init_scale=0.5, seed=1), MADE(4, hidden=(8,), seed=1)])
def test_nll_gradient_of_classical_models(model):
    """Exact NLL (through the RBM partition function / MADE conditionals) vs finite differences."""
    batch = torch.tensor([0, 3, 3, 9, 15])
    loss = NLLLoss(4, torch.ones(16, dtype=torch.float64) / 16)
    loss(model, batch).backward()
    param = next(p for p in model.parameters() if p.dim() == 2)
    h = 1e-6
    with torch.no_grad():
        for idx in [(0, 0), (1, 2), (3, 1)]:
            old = param[idx].item()
            param[idx] = old + h
            up = loss(model, batch).item()
            param[idx] = old - h
            down = loss(model, batch).item()
            param[idx] = old
            assert param.grad[idx].item() == pytest.approx((up - down) / (2 * h), abs=1e-7)


def test_shots_clip_and_warn():
    pi = target_with_zeros(3, 0)
    model = qcbm(shots=5, diff_method="parameter-shift")
    loss = KLLoss(3, pi, eps=1e-10)
    with pytest.warns(UserWarning, match="clipped"):
        value = loss(model, None)
    assert math.isfinite(value.item()) and value.item() > 0
    value.backward()
    assert torch.isfinite(model.theta.grad).all()
