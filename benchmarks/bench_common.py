"""Shared pieces of the speed benchmarks (tasks of ``shared/bench/TASKS.md``).

The ansatz A(n, L) is written once per framework here, with the same gate
order and the same parameter order (layer by layer, wire by wire, RY then RZ):

* qgm: ``qgm.circuits.hardware_efficient(n, L, rotations=("ry", "rz"), entangler="ring")``;
* PennyLane: the same gates on wires ``0..n-1`` (wire 0 = most significant bit, as in qgm);
* Qiskit: qgm wire ``w`` is Qiskit qubit ``n - 1 - w``, so a Qiskit (little-endian)
  basis index equals the qgm basis index;
* qulacs: the same mapping (qulacs is little-endian too); qulacs' ``RX/RY/RZ(θ)`` are
  ``exp(+iθP/2)``, so every angle is passed negated.

:func:`interleave` times several implementations of one task in turn, so a
change of machine load hits all of them alike; results are medians.
"""
from __future__ import annotations

import statistics
import time
from dataclasses import dataclass, field
from typing import Callable, Optional

import numpy as np
import torch

from qgm.circuits import Circuit, hardware_efficient

__all__ = [
    "Row",
    "ansatz",
    "init_params",
    "interleave",
    "n_params",
    "pl_ansatz",
    "qiskit_ansatz",
    "qulacs_ansatz",
    "qulacs_circuit",
    "qulacs_zsum",
    "peak_rss_mib",
    "aer_simulator",
    "rows_from",
    "zsum_diagonal",
]

Step = Callable[[], object]


@dataclass
class Row:
    """One measured cell group: a task case, a framework, its median time (seconds)."""

    task: str
    case: str
    framework: str
    median_s: float
    reps: int
    times: list[float] = field(default_factory=list, repr=False)
    note: str = ""


def n_params(n: int, layers: int) -> int:
    """P = 2 n (L + 1) parameters of A(n, L)."""
    return 2 * n * (layers + 1)


def ansatz(n: int, layers: int) -> Circuit:
    """A(n, L) for qgm."""
    return hardware_efficient(n, layers, rotations=("ry", "rz"), entangler="ring")


def init_params(n: int, layers: int, seed: int = 0, batch: Optional[int] = None) -> np.ndarray:
    """θ ~ Uniform(-π, π) from ``seed``: ``(P,)`` or ``(batch, P)`` float64."""
    rng = np.random.default_rng(seed)
    shape = (n_params(n, layers),) if batch is None else (batch, n_params(n, layers))
    return rng.uniform(-np.pi, np.pi, size=shape)


def pl_ansatz(theta, n: int, layers: int) -> None:
    """A(n, L) as PennyLane operations (call inside a QNode). ``theta``: ``(..., P)``."""
    import pennylane as qml

    k = 0
    for layer in range(layers + 1):
        for q in range(n):
            qml.RY(theta[..., k], wires=q)
            qml.RZ(theta[..., k + 1], wires=q)
            k += 2
        if layer < layers:
            for q in range(n):
                qml.CNOT(wires=[q, (q + 1) % n])


def qiskit_ansatz(n: int, layers: int):
    """A(n, L) as a parametrised Qiskit circuit; returns ``(QuantumCircuit, ParameterVector)``."""
    from qiskit import QuantumCircuit
    from qiskit.circuit import ParameterVector

    theta = ParameterVector("t", n_params(n, layers))
    qc = QuantumCircuit(n)
    k = 0
    for layer in range(layers + 1):
        for q in range(n):
            qc.ry(theta[k], n - 1 - q)
            qc.rz(theta[k + 1], n - 1 - q)
            k += 2
        if layer < layers:
            for q in range(n):
                qc.cx(n - 1 - q, n - 1 - (q + 1) % n)
    return qc, theta


def qulacs_ansatz(n: int, layers: int):
    """A(n, L) as a qulacs ``ParametricQuantumCircuit``; parameter ``k`` is qgm's ``θ_k`` negated
    (set them with ``circuit.set_parameter(k, -θ_k)``)."""
    from qulacs import ParametricQuantumCircuit

    qc = ParametricQuantumCircuit(n)
    for layer in range(layers + 1):
        for q in range(n):
            qc.add_parametric_RY_gate(n - 1 - q, 0.0)
            qc.add_parametric_RZ_gate(n - 1 - q, 0.0)
        if layer < layers:
            for q in range(n):
                qc.add_CNOT_gate(n - 1 - q, n - 1 - (q + 1) % n)
    return qc


def qulacs_zsum(n: int):
    """``Σ_i Z_i`` as a qulacs ``Observable``."""
    from qulacs import Observable

    obs = Observable(n)
    for q in range(n):
        obs.add_operator(1.0, f"Z {q}")
    return obs


_QULACS_1Q = {"h": "H", "x": "X", "y": "Y", "z": "Z", "s": "S", "sdg": "Sdag", "t": "T", "tdg": "Tdag",
              "sx": "sqrtX"}


def qulacs_circuit(circuit: Circuit):
    """A qulacs ``QuantumCircuit`` of a qgm circuit with constant angles (wire ``w`` = qubit ``n-1-w``).

    Catalogue gates map one to one (``rx/ry/rz`` with negated angles, ``p`` -> ``U1``,
    ``cx``/``cz``/``swap``/``ccx`` -> CNOT/CZ/SWAP/TOFFOLI); other gates as dense matrices.
    """
    from qulacs import QuantumCircuit
    from qulacs import gate as G

    from qgm.circuits.gates import gate_matrix

    n = circuit.n_qubits
    qc = QuantumCircuit(n)
    for op in circuit.ops:
        q = [n - 1 - w for w in op.wires]
        a = [float(x) for x in op.params]
        name = op.name
        if name in _QULACS_1Q:
            getattr(qc, f"add_{_QULACS_1Q[name]}_gate")(q[0])
        elif name in ("rx", "ry", "rz"):
            getattr(qc, f"add_{name.upper()}_gate")(q[0], -a[0])
        elif name == "p":
            qc.add_U1_gate(q[0], a[0])
        elif name == "cx":
            qc.add_CNOT_gate(q[0], q[1])
        elif name == "cz":
            qc.add_CZ_gate(q[0], q[1])
        elif name == "swap":
            qc.add_SWAP_gate(q[0], q[1])
        elif name == "ccx":
            qc.add_gate(G.TOFFOLI(q[0], q[1], q[2]))
        else:  # qulacs' matrix index: first listed qubit = least significant bit
            m = op.matrix if name == "unitary" else gate_matrix(name, torch.tensor(a, dtype=torch.float64)).numpy()
            qc.add_dense_matrix_gate(list(reversed(q)), np.asarray(m))
    return qc


def aer_simulator(**options):
    """Aer's statevector simulator with ``max_parallel_threads`` from ``OMP_NUM_THREADS`` (0: Aer's default)."""
    import os

    from qiskit_aer import AerSimulator

    return AerSimulator(method="statevector", max_parallel_threads=int(os.environ.get("OMP_NUM_THREADS", "0")),
                        **options)


def peak_rss_mib() -> float:
    """Peak resident memory of this process so far (MiB): ``VmHWM`` of ``/proc/self/status``.

    Not ``ru_maxrss``: Linux carries that high-water mark over ``fork``/``exec``, so a probe
    started from a large parent reports the parent's peak (every probe of one run read 15.27 GiB)."""
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def zsum_diagonal(n: int) -> np.ndarray:
    """Diagonal of ``Σ_i Z_i`` over basis indices: ``n - 2·popcount(x)`` ``(2**n,)`` float64."""
    x = np.arange(1 << n, dtype=np.int64)
    ones = np.zeros_like(x)
    for i in range(n):
        ones += (x >> i) & 1
    return (n - 2 * ones).astype(np.float64)


def interleave(steps: dict[str, Step], reps: int, warmup: int = 1) -> dict[str, list[float]]:
    """Wall times (seconds) of ``reps`` calls of every step, taken in turn (A B C A B C …)."""
    for _ in range(warmup):
        for f in steps.values():
            f()
    times: dict[str, list[float]] = {k: [] for k in steps}
    for _ in range(reps):
        for name, f in steps.items():
            t0 = time.perf_counter()
            f()
            times[name].append(time.perf_counter() - t0)
    return times


def rows_from(task: str, case: str, times: dict[str, list[float]], scale: Optional[dict[str, float]] = None,
              notes: Optional[dict[str, str]] = None) -> list[Row]:
    """Rows of medians; ``scale[name]`` divides a framework's times (per-item costs)."""
    scale = scale or {}
    notes = notes or {}
    out = []
    for name, ts in times.items():
        s = [t / scale.get(name, 1.0) for t in ts]
        out.append(Row(task, case, name, statistics.median(s), len(s), s, notes.get(name, "")))
    return out
