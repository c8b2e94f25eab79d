"""State-ensemble losses: known answers for fidelity MMD and Wasserstein, gradients, training."""
import math

import pytest
import torch

from qgm.circuits import hardware_efficient
from qgm.data import StateEnsemble
from qgm.errors import ConfigError, ParameterError
from qgm.losses import FidelityMMDLoss, StateWassersteinLoss, fidelity_mmd, overlap_matrix, state_wasserstein
from qgm.models import QCBM
from qgm.registry import LOSSES

C = torch.complex128


def haar(n_states, dim, seed):
    g = torch.Generator().manual_seed(seed)
    z = torch.complex(torch.randn(n_states, dim, generator=g, dtype=torch.float64),
                      torch.randn(n_states, dim, generator=g, dtype=torch.float64))
    return z / torch.linalg.vector_norm(z, dim=1, keepdim=True)


def test_overlap_kernel_of_pure_and_mixed_states_agree():
    a, b = haar(3, 4, 0), haar(5, 4, 1)
    pure = overlap_matrix(a, b)
    rho, sigma = torch.einsum("ni,nj->nij", a, a.conj()), torch.einsum("ni,nj->nij", b, b.conj())
    assert torch.allclose(overlap_matrix(rho, sigma), pure, atol=1e-14)
    assert torch.allclose(pure, (a.conj() @ b.T).abs() ** 2, atol=1e-14)


def test_fidelity_mmd_known_answers():
    a = haar(6, 4, 2)
    assert fidelity_mmd(a, a).item() == pytest.approx(0.0, abs=1e-14)
    zero = torch.tensor([[1, 0]], dtype=C)
    one = torch.tensor([[0, 1]], dtype=C)
    assert fidelity_mmd(zero, one).item() == pytest.approx(2.0)
    # E_Haar |<0|psi>|^2 = 1/d: MMD({|0>}, Haar) -> 1 + E F(Haar, Haar) - 2/d = 1 - 1/d
    big = haar(4000, 2, 3)
    assert fidelity_mmd(zero, big).item() == pytest.approx(1 - 1 / 2, abs=0.02)


def test_wasserstein_known_answers_and_gradient():
    zero = torch.tensor([[1, 0]], dtype=C)
    one = torch.tensor([[0, 1]], dtype=C)
    assert state_wasserstein(zero, one).item() == pytest.approx(1.0)
    a = haar(5, 4, 4)
    assert state_wasserstein(a, a).item() == pytest.approx(0.0, abs=1e-12)
    theta = torch.tensor(0.3, dtype=torch.float64, requires_grad=True)
    psi = torch.stack([torch.cos(theta / 2), torch.sin(theta / 2)]).to(C)[None]
    state_wasserstein(psi, zero).backward()
    assert theta.grad.item() == pytest.approx(math.sin(0.3) / 2, rel=1e-10)  # d/dθ (1 − cos²(θ/2))


def test_losses_train_a_born_machine_towards_a_state_ensemble():
    target = QCBM({"name": "hardware_efficient", "n_qubits": 2, "depth": 2}, seed=7).state().detach()
    data = StateEnsemble("one", target[None])
    for factory in ("fidelity_mmd", "state_wasserstein"):
        model = QCBM({"name": "hardware_efficient", "n_qubits": 2, "depth": 2}, seed=1)
        loss = LOSSES.create(factory, dataset=data)
        opt = torch.optim.Adam(model.parameters(), lr=0.1)
        start = loss(model, None).item()
        for _ in range(60):
            opt.zero_grad()
            loss(model, None).backward()
            opt.step()
        assert loss(model, None).item() < 0.1 * start


def test_bad_inputs_are_one_line_errors():
    with pytest.raises(ParameterError, match="complex"):
        fidelity_mmd(torch.zeros(2, 2), torch.zeros(2, 2))
    with pytest.raises(ParameterError, match="differ"):
        fidelity_mmd(haar(2, 2, 0), haar(2, 4, 0))
    with pytest.raises(ParameterError, match="normalised"):
        FidelityMMDLoss(2 * haar(2, 2, 0))
    with pytest.raises(ConfigError, match="quantum states"):
        LOSSES.create("fidelity_mmd", dataset=type("D", (), {"space": None})())
    model = QCBM(hardware_efficient(3, 1))
    with pytest.raises(ConfigError, match="PureStates"):
        StateWassersteinLoss(haar(2, 4, 0))(model, None)
