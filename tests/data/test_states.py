"""Target states: amplitudes, preparation circuits, TFIM exact diagonalisation."""
import numpy as np
import pytest
import torch

from qgm import sim
from qgm.data import target_state
from qgm.data.states import tfim_hamiltonian
from qgm.errors import ConfigError, ResourceError


@pytest.mark.parametrize("name", ["zero", "ghz", "w", "cluster"])
def test_states_are_normalised_and_prep_circuits_prepare_them(name):
    t = target_state(name, 4)
    assert t.n_bits == 4 and torch.linalg.vector_norm(t.state).item() == pytest.approx(1.0)
    assert t.target.sum().item() == pytest.approx(1.0)
    if t.prep is not None:
        assert torch.allclose(sim.state(t.prep), t.state, atol=1e-12)


def test_known_amplitudes():
    assert torch.allclose(target_state("ghz", 3).target[[0, 7]], torch.tensor([0.5, 0.5], dtype=torch.float64))
    w = target_state("w", 3).target
    assert torch.allclose(w[[1, 2, 4]], torch.full((3,), 1 / 3, dtype=torch.float64)) and w.sum() == pytest.approx(1)
    cl = target_state("cluster", 3).state * 2**1.5  # (-1)^(x0 x1 + x1 x2)
    assert cl[0b111].real.item() == pytest.approx(1.0) and cl[0b110].real.item() == pytest.approx(-1.0)


def test_tfim_ground_state_matches_dense_diagonalisation_and_limits():
    h = tfim_hamiltonian(6, 0.8).toarray()
    evals, evecs = np.linalg.eigh(h)
    t = target_state("tfim", 6, h=0.8)
    assert abs(np.vdot(evecs[:, 0], t.state.numpy())) == pytest.approx(1.0, abs=1e-10)
    assert (t.state.real >= -1e-12).all()
    energy = np.vdot(t.state.numpy(), h @ t.state.numpy()).real
    assert energy == pytest.approx(evals[0], abs=1e-10)
    assert torch.vdot(target_state("tfim", 4, h=0.02).state, target_state("ghz", 4).state).abs().item() > 0.99
    plus = torch.full((16,), 0.25, dtype=torch.complex128)
    assert torch.vdot(target_state("tfim", 4, h=50.0).state, plus).abs().item() > 0.99
    with pytest.raises(ResourceError):
        tfim_hamiltonian(15, 1.0)
    with pytest.raises(ConfigError):
        target_state("bell", 2)
