"""Differential test of the engine against Qiskit's ``Statevector``.

500 random circuits of 1-10 qubits (50 per size) over the whole catalogue plus
random 1-3 qubit unitaries, with trainable and input slots in affine angles,
are exported gate by gate with ``qgm.backends.to_qiskit`` and simulated by
Qiskit; amplitudes must agree to 1e-10 in complex128, in the same index order
(qgm wire 0 = most significant bit = Qiskit qubit n-1).

Because ``to_qiskit`` and the engine could share a convention bug, a second
group compares the engine with Qiskit circuits written by hand (GHZ, a basis
state, CRX, U3, a two-qubit unitary on both wire orders) and with the analytic
amplitudes.
"""
from __future__ import annotations

import functools
import math

import numpy as np
import pytest
import torch

from qgm import sim
from qgm.circuits import GATES, Circuit
from reference import random_circuit

qiskit = pytest.importorskip("qiskit")
from qiskit.quantum_info import Statevector  # noqa: E402

from qgm.backends import to_qiskit  # noqa: E402

pytestmark = pytest.mark.interop

SIZES = range(1, 11)
PER_SIZE = 50
TOL = 1e-10


def _ops_for(n: int) -> int:
    """Enough gates to mix every wire, fewer at large n to keep the test fast."""
    return min(4 * n + 6, 28)


@functools.lru_cache(maxsize=None)
def _cases(n: int) -> tuple[tuple[Circuit, np.ndarray, np.ndarray], ...]:
    """The ``PER_SIZE`` random circuits of ``n`` qubits with their slot values (seeded by n)."""
    rng = np.random.default_rng(1000 + n)
    out = []
    for _ in range(PER_SIZE):
        c = random_circuit(n, _ops_for(n), rng, inputs=2)
        out.append((c, rng.uniform(-np.pi, np.pi, c.n_params), rng.uniform(-np.pi, np.pi, c.n_inputs)))
    return tuple(out)


def _qiskit_state(qc) -> np.ndarray:
    return np.asarray(Statevector(qc).data)


def _engine_state(c: Circuit, params=None, inputs=None) -> np.ndarray:
    return sim.state(c, params, inputs).numpy()


@pytest.mark.parametrize("n", SIZES)
def test_random_circuits_match_qiskit_statevector(n):
    worst = 0.0
    for k, (c, p, x) in enumerate(_cases(n)):
        err = np.abs(_engine_state(c, p, x) - _qiskit_state(to_qiskit(c, p, x))).max()
        assert err <= TOL, f"n={n} circuit {k}: max amplitude error {err:.3e}"
        worst = max(worst, err)
    assert worst <= TOL


def test_random_set_uses_every_gate_and_every_size():
    used = {op.name for n in SIZES for c, _, _ in _cases(n) for op in c.ops}
    assert used >= set(GATES) | {"unitary"}, f"missing gates: {sorted(set(GATES) | {'unitary'} - used)}"
    assert len(SIZES) * PER_SIZE >= 500


# -- hand-written Qiskit circuits (no to_qiskit) --------------------------------------


def _hand_cases():
    """(qgm circuit, the same circuit written directly in Qiskit, analytic state)."""
    QC = qiskit.QuantumCircuit
    s2 = 1 / math.sqrt(2)

    ghz = QC(3)  # qgm wire w is Qiskit qubit 2 - w
    ghz.h(2)
    ghz.cx(2, 1)
    ghz.cx(1, 0)
    ghz_state = np.zeros(8, complex)
    ghz_state[[0, 7]] = s2

    basis = QC(3)  # |110>: wires 0 and 1 set -> index 6 = 0b110
    basis.x(2)
    basis.x(1)
    basis_state = np.zeros(8, complex)
    basis_state[6] = 1

    a = 0.7
    crx = QC(2)  # control wire 0 (MSB) set, target wire 1 rotated
    crx.x(1)
    crx.crx(a, 1, 0)
    crx_state = np.array([0, 0, math.cos(a / 2), -1j * math.sin(a / 2)])

    th, ph, lam = 1.1, -0.4, 2.3
    u = QC(2)  # u3 on wire 1 (Qiskit qubit 0) of a two-qubit circuit
    u.u(th, ph, lam, 0)
    u_state = np.array([math.cos(th / 2), np.exp(1j * ph) * math.sin(th / 2), 0, 0])

    return {
        "ghz": (Circuit(3).h(0).cx(0, 1).cx(1, 2), ghz, ghz_state),
        "basis": (Circuit(3).x(0).x(1), basis, basis_state),
        "crx": (Circuit(2).x(0).crx(0, 1, a), crx, crx_state),
        "u3": (Circuit(2).u3(1, th, ph, lam), u, u_state),
    }


@pytest.mark.parametrize("name", ["ghz", "basis", "crx", "u3"])
def test_engine_matches_hand_written_qiskit(name):
    c, qc, analytic = _hand_cases()[name]
    ours = _engine_state(c)
    np.testing.assert_allclose(ours, analytic, atol=TOL)
    np.testing.assert_allclose(_qiskit_state(qc), analytic, atol=TOL)
    np.testing.assert_allclose(_qiskit_state(to_qiskit(c)), analytic, atol=TOL)


@pytest.mark.parametrize("wires", [(0, 1), (1, 0)])
def test_two_qubit_unitary_matches_hand_written_qiskit(wires):
    """A user matrix's first wire is its MSB in qgm and its LSB in Qiskit's ``unitary``."""
    from scipy.stats import unitary_group

    m = unitary_group.rvs(4, random_state=np.random.default_rng(5))
    c = Circuit(3).h(2).unitary(m, wires)
    qc = qiskit.QuantumCircuit(3)
    qc.h(0)  # wire 2
    qc.unitary(m, [2 - w for w in reversed(wires)])
    np.testing.assert_allclose(_engine_state(c), _qiskit_state(qc), atol=TOL)
    np.testing.assert_allclose(_qiskit_state(to_qiskit(c)), _qiskit_state(qc), atol=TOL)
    # amplitude of |w0 w1 w2> is m[row, 0] / sqrt(2), row = the bits of (wires[0], wires[1])
    column = m[:, 0] if wires == (0, 1) else m[[0, 2, 1, 3], 0]
    np.testing.assert_allclose(_engine_state(c), np.kron(column, [1 / math.sqrt(2)] * 2), atol=TOL)


def test_complex64_engine_matches_qiskit_to_single_precision():
    c, p, x = _cases(6)[0]
    ours = sim.state(c, p, x, dtype=torch.complex64).numpy()
    assert np.abs(ours - _qiskit_state(to_qiskit(c, p, x))).max() < 1e-5
