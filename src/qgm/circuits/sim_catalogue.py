"""The 19 parametrised circuits of Sim, Johnson & Aspuru-Guzik (arXiv:1905.10876, Fig. 2).

``sim_circuit(index, n_qubits, layers)`` rebuilds circuit ``index`` (1..19)
with ``layers`` repetitions of its repeated block (the paper's ``L``). Wire 0
is the top line of the paper's figure; ``CR(c → t)`` below means a controlled
gate with control ``c`` and target ``t``. Parameters are fresh slots
``theta_k`` in the order gates are appended. Per block, for n = 4 (the paper's
size), the parameter counts are 8, 8, 11, 11, 28, 28, 19, 19, 4, 4 (+4 once),
12, 12, 16, 16, 8, 11, 11, 12, 12.

Layouts (one block; ``RX·RZ`` = RX on every wire, then RZ on every wire):

==  ==========================================================================
 1  RX·RZ
 2  RX·RZ, CNOT ladder (n−1 → n−2), …, (1 → 0)
 3  RX·RZ, CRZ ladder as in 2
 4  RX·RZ, CRX ladder as in 2
 5  RX·RZ, CRZ from every control c = n−1 … 0 to every other target (n−1 … 0), RX·RZ
 6  as 5 with CRX
 7  RX·RZ, CRZ (1 → 0), (3 → 2), …; RX·RZ, CRZ (2 → 1), (4 → 3), …
 8  as 7 with CRX
 9  H on every wire, CZ ladder as in 2, RX
10  RY once before the first block; block = CZ ladder as in 2 plus CZ (n−1, 0), RY
11  RY·RZ, CNOT (1 → 0), (3 → 2), …; RY then RZ on the wires of the second
    pairs, CNOT (2 → 1), (4 → 3), …
12  as 11 with CZ
13  RY, CRZ ring (n−1 → 0), (n−2 → n−1), …, (0 → 1); RY, CRZ ring (n−1 → n−2),
    (0 → n−1), (1 → 0), …, (n−2 → n−3)
14  as 13 with CRX
15  as 13 with CNOT (no parameters in the entanglers)
16  RX·RZ, CRZ (1 → 0), (3 → 2), …, then (2 → 1), (4 → 3), …
17  as 16 with CRX
18  RX·RZ, CRZ ring as the first ring of 13
19  as 18 with CRX
==  ==========================================================================

Uncertainty (the figure is drawn for 4 qubits only). The 4-qubit layouts
match the gate-by-gate replication of bagmk/Quantum_Machine_Learning_Express
(the published Qiskit replication whose numbers ``docs/repro/geometry.md``
compares with), including circuit 10's initial RY layer outside the repeated
block (so it has 4L + 4 parameters, not 8L). Open points: (a) the order of
the CNOT ladders: bottom-up ((n−1 → n−2) first), our reading of the figure
and the replication's Qiskit code; the replication's PennyLane template applies them
top-down, which moves circuit 2's entangling capability at L = 1 from 0.622 to
0.563 (``docs/repro/geometry.md``); CZ gates commute and are symmetric, so the
CZ circuits 9, 10, 12 are unaffected; (b) the parameter order within a
rotation layer: gate-major (RX on every wire, then RZ on every wire), as in the
Qiskit replication — the unitary is the same for any order; (c) the generalisation to n ≠ 4 qubits
is ours: ladders, rings and nearest-neighbour pair layers extend in the
obvious way, the all-to-all block of 5/6 keeps its control-major order, the
inner rotations of 11/12 act on the wires of the second pair layer, and
circuit 10 (n = 2) drops the ring-closing CZ, which would repeat (1, 0).
"""
from __future__ import annotations

from typing import Sequence

from qgm.circuits.circuit import Circuit
from qgm.errors import CircuitError

__all__ = ["sim_circuit", "SIM_INDICES"]

SIM_INDICES = tuple(range(1, 20))

Pairs = list[tuple[int, int]]


def _rotations(c: Circuit, gates: Sequence[str], wires: Sequence[int]) -> Circuit:
    """Each gate of ``gates`` on every wire of ``wires`` (gate-major order)."""
    for g in gates:
        for w in wires:
            c = c.add(g, w)
    return c


def _entangle(c: Circuit, gate: str, pairs: Pairs) -> Circuit:
    for a, b in pairs:
        c = c.add(gate, (a, b))
    return c


def _ladder(n: int) -> Pairs:
    return [(q, q - 1) for q in range(n - 1, 0, -1)]


def _odd_pairs(n: int) -> Pairs:
    return [(q, q - 1) for q in range(1, n, 2)]


def _even_pairs(n: int) -> Pairs:
    return [(q, q - 1) for q in range(2, n, 2)]


def _ring_down(n: int) -> Pairs:
    """(n−1 → 0), (n−2 → n−1), …, (0 → 1)."""
    return [(q, (q + 1) % n) for q in range(n - 1, -1, -1)]


def _ring_up(n: int) -> Pairs:
    """(n−1 → n−2), (0 → n−1), (1 → 0), …, (n−2 → n−3)."""
    return [(q, (q - 1) % n) for q in [n - 1, *range(n - 1)]]


def _all_pairs(n: int) -> Pairs:
    return [(n - 1 - j, n - 1 - i) for j in range(n) for i in range(n) if i != j]


def _block(index: int, c: Circuit) -> Circuit:
    """One repetition of circuit ``index`` appended to ``c``."""
    n = c.n_qubits
    wires = range(n)
    xz = ("rx", "rz")
    ctrl = {3: "crz", 4: "crx", 5: "crz", 6: "crx", 7: "crz", 8: "crx", 13: "crz", 14: "crx", 15: "cx",
            16: "crz", 17: "crx", 18: "crz", 19: "crx", 11: "cx", 12: "cz"}.get(index)
    if index == 1:
        return _rotations(c, xz, wires)
    if index == 2:
        return _entangle(_rotations(c, xz, wires), "cx", _ladder(n))
    if index in (3, 4):
        return _entangle(_rotations(c, xz, wires), ctrl, _ladder(n))
    if index in (5, 6):
        return _rotations(_entangle(_rotations(c, xz, wires), ctrl, _all_pairs(n)), xz, wires)
    if index in (7, 8):
        c = _entangle(_rotations(c, xz, wires), ctrl, _odd_pairs(n))
        return _entangle(_rotations(c, xz, wires), ctrl, _even_pairs(n))
    if index == 9:
        for w in wires:
            c = c.h(w)
        return _rotations(_entangle(c, "cz", _ladder(n)), ("rx",), wires)
    if index == 10:
        ring = _ladder(n) + ([(n - 1, 0)] if n > 2 else [])
        return _rotations(_entangle(c, "cz", ring), ("ry",), wires)
    if index in (11, 12):
        c = _entangle(_rotations(c, ("ry", "rz"), wires), ctrl, _odd_pairs(n))
        inner = sorted({w for p in _even_pairs(n) for w in p})
        return _entangle(_rotations(c, ("ry", "rz"), inner), ctrl, _even_pairs(n))
    if index in (13, 14, 15):
        c = _entangle(_rotations(c, ("ry",), wires), ctrl, _ring_down(n))
        return _entangle(_rotations(c, ("ry",), wires), ctrl, _ring_up(n))
    if index in (16, 17):
        return _entangle(_rotations(c, xz, wires), ctrl, _odd_pairs(n) + _even_pairs(n))
    return _entangle(_rotations(c, xz, wires), ctrl, _ring_down(n))  # 18, 19


def sim_circuit(index: int, n_qubits: int = 4, layers: int = 1) -> Circuit:
    """Circuit ``index`` (1..19) of Sim et al. on ``n_qubits`` (>= 2) wires with ``layers`` (>= 1) blocks."""
    if isinstance(index, bool) or not isinstance(index, int) or index not in SIM_INDICES:
        raise CircuitError(f"index: Sim et al. circuits are numbered 1..19, got {index!r}")
    if isinstance(n_qubits, bool) or not isinstance(n_qubits, int) or n_qubits < 2:
        raise CircuitError(f"n_qubits: expected an integer >= 2, got {n_qubits!r}")
    if isinstance(layers, bool) or not isinstance(layers, int) or layers < 1:
        raise CircuitError(f"layers: expected an integer >= 1 (the paper's L), got {layers!r}")
    c = Circuit(n_qubits)
    if index == 10:
        c = _rotations(c, ("ry",), range(n_qubits))
    for _ in range(layers):
        c = _block(index, c)
    return c
