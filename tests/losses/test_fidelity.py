"""Global and local quantum fidelity losses (Rudolph et al.): exactness at the target, bounds, gradients."""
import pytest
import torch

from qgm import sim
from qgm.circuits import Circuit, hardware_efficient
from qgm.errors import ConfigError, DataError
from qgm.losses.fidelity import GlobalFidelityLoss, LocalFidelityLoss, Unpreparation, fidelity, local_fidelity
from qgm.models import QCBM
from qgm.registry import LOSSES
from qgm.trainability import target_state


def random_states(n, m, seed=0):
    g = torch.Generator().manual_seed(seed)
    v = torch.randn(m, 2**n, dtype=torch.complex128, generator=g)
    return v / torch.linalg.vector_norm(v, dim=-1, keepdim=True)


@pytest.mark.parametrize("name,opts", [("ghz", {}), ("w", {}), ("cluster", {}), ("tfim", {"h": 0.7})])
@pytest.mark.parametrize("householder", [False, True])
def test_local_fidelity_is_one_exactly_at_the_target_and_below_elsewhere(name, opts, householder):
    t = target_state(name, 4, **opts)
    u = Unpreparation(t.state, None if householder else t.prep)
    assert local_fidelity(t.state * 1j, u).item() == pytest.approx(1.0, abs=1e-12)  # global phase is free
    psi = random_states(4, 50)
    lf, f = local_fidelity(psi, u), fidelity(psi, t.state)
    assert (lf < 1 - 1e-6).all()
    # C_L <= C_G <= n C_L  (spec §2)
    assert ((1 - lf) <= (1 - f) + 1e-12).all() and ((1 - f) <= 4 * (1 - lf) + 1e-12).all()
    # a relative phase between components is seen (stronger than matching p)
    flipped = t.state * torch.where(torch.arange(16) % 2 == 1, -1.0, 1.0)  # same |amplitudes|
    if fidelity(flipped, t.state) < 1 - 1e-9:
        assert local_fidelity(flipped, u).item() < 1 - 1e-6


def test_zero_target_local_fidelity_is_the_mean_single_qubit_probability():
    psi = random_states(3, 4, seed=2)
    p = (psi.abs() ** 2).reshape(4, 2, 2, 2)
    mean0 = (p[:, 0].sum((1, 2)) + p[:, :, 0].sum((1, 2)) + p[:, :, :, 0].sum((1, 2))) / 3
    assert torch.allclose(local_fidelity(psi, Unpreparation(target_state("zero", 3).state)), mean0, atol=1e-12)


def ghz_model():
    """RY(θ0) on wire 0 then the CNOT ladder: GHZ at θ0 = π/2."""
    return QCBM(Circuit(3).ry(0).cx(0, 1).cx(1, 2))


@pytest.mark.parametrize("factory", ["global_fidelity", "local_fidelity"])
def test_registered_losses_vanish_at_the_target_and_have_correct_gradients(factory):
    loss = LOSSES.create(factory, dataset=target_state("ghz", 3))
    model = ghz_model()
    with torch.no_grad():
        model.theta.fill_(torch.pi / 2)
    assert loss(model, None).item() == pytest.approx(0.0, abs=1e-12)
    with torch.no_grad():
        model.theta.fill_(0.9)
    value = loss(model, None)
    value.backward()
    eps = 1e-6
    vals = []
    for s in (eps, -eps):
        with torch.no_grad():
            model.theta.fill_(0.9 + s)
            vals.append(loss(model, None).item())
    assert model.theta.grad.item() == pytest.approx((vals[0] - vals[1]) / (2 * eps), abs=1e-7)
    assert value.item() > 0


def test_global_loss_matches_one_minus_overlap_and_local_loss_is_smaller():
    t = target_state("w", 3)
    model = QCBM(hardware_efficient(3, 2), seed=4)
    psi = sim.state(model.circuit, model.theta.detach())
    g, loc = GlobalFidelityLoss(t.state)(model, None), LocalFidelityLoss(t.state)(model, None)
    assert g.item() == pytest.approx(1 - abs(torch.vdot(t.state, psi).item()) ** 2)
    assert 0 < loc.item() <= g.item()


def test_errors():
    with pytest.raises(DataError):
        Unpreparation(torch.ones(4))
    with pytest.raises(ConfigError):
        Unpreparation(target_state("ghz", 3).state, Circuit(3).h(0))
    with pytest.raises(ConfigError):
        LOSSES.create("local_fidelity", dataset=None)
    with pytest.raises(ConfigError):
        LOSSES.create("global_fidelity", target=target_state("ghz", 2).state, shots=100)
    with pytest.raises(ConfigError):
        LocalFidelityLoss(target_state("ghz", 2).state)(object(), None)
