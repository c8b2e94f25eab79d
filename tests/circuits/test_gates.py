"""Consistency checks that every gate of the catalogue obeys (Cirq-style)."""
from __future__ import annotations

import numpy as np
import pytest
import torch
from scipy.linalg import expm

import qgm
from qgm.circuits import GATES, Circuit, P
from qgm.circuits.gates import gate_matrix
from reference import embed

X = np.array([[0, 1], [1, 0]], dtype=complex)
Y = np.array([[0, -1j], [1j, 0]])
Z = np.diag([1.0, -1.0]).astype(complex)


@pytest.mark.parametrize("name", sorted(GATES))
def test_unitary(name):
    g = GATES[name]
    th = torch.tensor(np.random.default_rng(0).uniform(-3, 3, (5, g.n_params)))
    m = gate_matrix(name, th).numpy()
    for u in m:
        np.testing.assert_allclose(u.conj().T @ u, np.eye(u.shape[0]), atol=1e-13)


@pytest.mark.parametrize("name", sorted(GATES))
def test_engine_matches_matrix_on_all_basis_states(name):
    """The engine applying the gate to each basis state reproduces the matrix columns."""
    g = GATES[name]
    n = g.n_wires + 1
    wires = tuple(range(n - 1, 0, -1))[: g.n_wires]  # reversed, non-trivial wire order
    th = np.random.default_rng(1).uniform(-3, 3, g.n_params)
    c = Circuit(n).add(name, wires, *[P(f"a{i}") for i in range(g.n_params)])
    full = embed(gate_matrix(name, torch.tensor(th)).numpy(), wires, n)
    basis = torch.eye(2**n, dtype=torch.complex128)
    out = qgm.sim.state(c, torch.tensor(th).expand(2**n, -1), initial_state=basis).numpy()
    np.testing.assert_allclose(out.T, full, atol=1e-13)


@pytest.mark.parametrize(
    "name,gen",
    [("rx", X), ("ry", Y), ("rz", Z), ("rxx", np.kron(X, X)), ("ryy", np.kron(Y, Y)), ("rzz", np.kron(Z, Z))],
)
def test_rotation_convention(name, gen):
    t = 0.731
    np.testing.assert_allclose(gate_matrix(name, torch.tensor([t])).numpy(), expm(-1j * t * gen / 2), atol=1e-14)


@pytest.mark.parametrize("name", sorted(g for g in GATES if GATES[g].n_params))
def test_shift_rule_matches_autograd(name):
    g = GATES[name]
    rng = np.random.default_rng(2)
    n = g.n_wires
    c = Circuit(n)
    for w in range(n):
        c = c.h(w).ry(w, 0.3 + w)
    c = c.add(name, tuple(range(n)), *[P(f"a{i}") for i in range(g.n_params)])
    th = torch.tensor(rng.uniform(-3, 3, g.n_params), requires_grad=True)
    obs = [(1.0, "X" * n), (0.5, "Z" + "Y" * (n - 1))]
    qgm.sim.expval(c, th, obs, diff_method="backprop").backward()
    auto = th.grad.clone()
    th.grad = None
    qgm.sim.expval(c, th, obs, diff_method="parameter-shift").backward()
    torch.testing.assert_close(th.grad, auto, atol=1e-10, rtol=0)


def test_inverse_circuit_is_identity():
    from reference import random_circuit

    rng = np.random.default_rng(4)
    c = random_circuit(3, 25, rng)
    th = torch.tensor(rng.uniform(-3, 3, c.n_params))
    s = qgm.sim.state(c + c.inverse(), th)
    assert abs(abs(s[0].item()) - 1) < 1e-12
