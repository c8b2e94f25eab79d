"""Decoherence brushes: the analytic dephasing blend, qgm.sim's density matrices, trajectories."""
import math

import numpy as np
import pytest
import torch

from qgm import sim
from qgm.art import HeightMap, apply_channel, decohere, run_noisy
from qgm.circuits import Circuit
from qgm.errors import ParameterError, ResourceError
from qgm.sim import AmplitudeDamping, Depolarizing, NoiseModel, PhaseDamping, ReadoutError
from qgm.spaces import Images

TOL = 1e-12


def _rand(n, space, seed=0):
    g = torch.Generator().manual_seed(seed)
    return 0.05 + 0.95 * torch.rand(n, space.n_pixels, dtype=torch.float64, generator=g)


def _rho(encoded):
    s = encoded.states.reshape(-1, encoded.states.shape[-1])
    return s.T @ s.conj()


@pytest.mark.parametrize("gamma", [0.0, 0.36, 1.0])
def test_dephasing_between_hadamards_blends_partners(gamma):
    space = Images(4, 4)
    x = _rand(1, space)
    enc = HeightMap(space)
    e = enc.encode(x)
    w = enc.grid.y_wires[0]  # finest row wire: Gray partners are rows (0, 1) and (2, 3)
    out = decohere(e, PhaseDamping(gamma), [w]).decode().reshape(4, 4)
    lam = math.sqrt(1 - gamma)
    img = x.reshape(4, 4)
    partner = img[[1, 0, 3, 2]]
    assert torch.allclose(out, (1 + lam) / 2 * img + (1 - lam) / 2 * partner, atol=TOL)


@pytest.mark.parametrize("channel", [Depolarizing(0.3), AmplitudeDamping(0.4), PhaseDamping(0.7)])
def test_exact_branches_equal_the_density_matrix_simulator(channel):
    space = Images(2, 4)  # 3 address qubits
    e = HeightMap(space).encode(_rand(1, space, seed=1))
    psi = e.states.reshape(-1).real.numpy()
    v = np.eye(8)[0] - psi
    prep = np.eye(8) - 2 * np.outer(v, v) / (v @ v)  # Householder: prep|0> = psi
    brush = Circuit(3).h(0).cx(0, 2).add("id", 1).ry(2, 0.4).add("id", 0)
    noise = NoiseModel().add_gate_noise(channel, gates=("id", "cx"))
    want = sim.density_matrix(Circuit(3).unitary(prep, (0, 1, 2)).compose(brush), noise=noise)
    got = run_noisy(e, brush, noise)
    assert torch.allclose(_rho(got), want, atol=TOL)
    assert torch.allclose(got.norms(), torch.ones_like(got.norms()), atol=TOL)


def test_trajectories_are_unbiased_and_seeded():
    space = Images(4, 4)
    e = HeightMap(space).encode(_rand(2, space, seed=2))
    wires = [0, 2, 3]
    exact = decohere(e, Depolarizing(0.5), wires).decode()
    g = torch.Generator().manual_seed(0)
    sampled = decohere(e, Depolarizing(0.5), wires, trajectories=4000, generator=g)
    assert sampled.states.shape[-2] == 4000
    assert torch.allclose(sampled.norms(), torch.ones_like(sampled.norms()), atol=TOL)
    assert torch.allclose(sampled.decode(), exact, atol=0.03)
    again = decohere(e, Depolarizing(0.5), wires, trajectories=4000, generator=torch.Generator().manual_seed(0))
    assert torch.equal(again.states, sampled.states)


def test_amplitude_damping_darkens_towards_the_zero_address():
    space = Images(2, 2)
    x = torch.tensor([[0.2, 0.8, 0.5, 0.5]], dtype=torch.float64)
    enc = HeightMap(space, address="binary")
    out = apply_channel(enc.encode(x), AmplitudeDamping(1.0), [enc.grid.x_wires[0]]).decode(clip=False)
    assert torch.allclose(out, torch.tensor([[1.0, 0.0, 1.0, 0.0]], dtype=torch.float64), atol=TOL)


def test_decoherence_errors():
    space = Images(64, 64)
    e = HeightMap(space).encode(_rand(1, space))
    with pytest.raises(ResourceError, match="trajectories"):
        decohere(e, Depolarizing(0.5), list(range(12)))
    assert decohere(e, PhaseDamping(0.5), list(range(12)), trajectories=4,
                    generator=torch.Generator().manual_seed(0)).states.shape[-2] == 4
    with pytest.raises(ParameterError, match="readout"):
        run_noisy(e, Circuit(12).h(0), NoiseModel().add_readout(ReadoutError(0.1, 0.1)))
    with pytest.raises(ParameterError, match="2 wire"):
        apply_channel(e, Depolarizing(0.1, n_qubits=2), [0])
    with pytest.raises(ParameterError, match="basis"):
        decohere(e, PhaseDamping(0.1), [0], basis="y")
