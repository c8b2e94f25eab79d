"""Real-world-style OpenQASM files (tests/corpus/qasm/real/) read by qgm and by Qiskit must give the same state.

Each file is read with :func:`qgm.circuits.qasm.read_qasm` and simulated by the
engine, and read independently by Qiskit's own loader (``qiskit.qasm2.loads``
with the legacy gates of Qiskit's ``qelib1.inc``, or ``qiskit.qasm3.loads``)
and simulated with ``Statevector`` after dropping the final measurements.
qgm wire 0 is the most significant bit of a basis index; Qiskit's qubit 0 is
the least significant, so Qiskit's amplitudes are reordered (bit-reversed
index) before comparing, up to the global phase (qgm drops ``gphase`` and
follows ``qelib1.inc`` up to phase). Files whose algorithm has a known answer
are also checked against it, independently of Qiskit.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from qgm import sim
from qgm.circuits import Circuit
from qgm.circuits.qasm import read_qasm

REAL = Path(__file__).resolve().parents[1] / "corpus" / "qasm" / "real"
FILES = sorted(p.name for p in REAL.glob("*.qasm"))
TOL = 1e-10


def slot_values(c: Circuit) -> dict[str, float]:
    """Seeded angles for the circuit's slots (the variational file declares ``input`` angles)."""
    rng = np.random.default_rng(7)
    return {name: float(rng.uniform(-np.pi, np.pi)) for name in c.param_names}


def qgm_state(c: Circuit, values: dict[str, float]) -> np.ndarray:
    params = torch.tensor([values[n] for n in c.param_names], dtype=torch.float64)
    return sim.state(c, params).numpy()


def qiskit_state_in_qgm_order(text: str, values: dict[str, float]) -> np.ndarray:
    import qiskit.qasm2
    import qiskit.qasm3
    from qiskit.quantum_info import Statevector

    if "OPENQASM 3" in text[:200]:
        qc = qiskit.qasm3.loads(text)
    else:
        qc = qiskit.qasm2.loads(text, custom_instructions=qiskit.qasm2.LEGACY_CUSTOM_INSTRUCTIONS)
    qc = qc.remove_final_measurements(inplace=False)
    if qc.parameters:
        qc = qc.assign_parameters({p: values[p.name] for p in qc.parameters})
    psi = Statevector(qc).data
    n = qc.num_qubits
    # Qiskit index bit i = qubit i; qgm index bit n-1-w = wire w, and wire w is Qiskit qubit w
    return psi.reshape([2] * n).transpose(range(n - 1, -1, -1)).reshape(-1)


def assert_same_state_up_to_phase(a: np.ndarray, b: np.ndarray) -> None:
    overlap = np.vdot(a, b)
    assert abs(abs(overlap) - 1) < TOL
    np.testing.assert_allclose(a * (overlap / abs(overlap)), b, atol=TOL)


def probs_of(c: Circuit, wires: list[int]) -> np.ndarray:
    return sim.probs(c, torch.zeros(0, dtype=torch.float64), wires=wires).numpy()


def index(bits: str) -> int:
    """Basis index of a bitstring (first character = most significant bit = lowest wire)."""
    return int(bits, 2)


def test_the_corpus_is_there():
    assert len(FILES) >= 15


@pytest.mark.interop
@pytest.mark.parametrize("name", FILES)
def test_state_matches_qiskit(name):
    pytest.importorskip("qiskit")
    path = REAL / name
    c = read_qasm(path)
    values = slot_values(c)
    assert_same_state_up_to_phase(qgm_state(c, values), qiskit_state_in_qgm_order(path.read_text(), values))


def test_adder_adds():
    c = read_qasm(REAL / "adder_cuccaro_4.qasm")  # wires: cin, a[0..3], b[0..3], cout; registers little-endian
    a, b = 11, 6
    s = a + b
    bits = "0" + "".join(str(a >> i & 1) for i in range(4)) + "".join(str(s >> i & 1) for i in range(4)) + str(s >> 4)
    p = probs_of(c, list(range(10)))
    assert p[index(bits)] == pytest.approx(1.0, abs=1e-12)


def test_bernstein_vazirani_reads_the_hidden_string():
    c = read_qasm(REAL / "bernstein_vazirani_7.qasm")
    assert probs_of(c, list(range(7)))[index("1011011")] == pytest.approx(1.0, abs=1e-12)


def test_phase_estimation_reads_the_phase():
    c = read_qasm(REAL / "phase_estimation_4.qasm")  # counting register c[0..3] = wires 0..3, c[0] first
    assert probs_of(c, [0, 1, 2, 3])[5] == pytest.approx(1.0, abs=1e-12)


def test_deutsch_jozsa_says_balanced_and_ghz_has_two_branches():
    dj = read_qasm(REAL / "deutsch_jozsa_5.qasm")
    assert probs_of(dj, list(range(5)))[0] == pytest.approx(0.0, abs=1e-12)
    p = probs_of(read_qasm(REAL / "ghz_10.qasm"), list(range(10)))
    assert p[0] == pytest.approx(0.5) and p[-1] == pytest.approx(0.5) and p.sum() == pytest.approx(1.0)


def test_teleportation_moves_the_state():
    c = read_qasm(REAL / "teleport_deferred_3.qasm")
    psi = qgm_state(c, {}).reshape(4, 2)  # (wires 0-1, wire 2)
    rho = psi.T @ psi.conj()  # reduced state of wire 2
    phi = qgm_state(Circuit(1).u3(0, 0.9, 0.4, -1.3), {})
    np.testing.assert_allclose(rho, np.outer(phi, phi.conj()), atol=1e-12)
