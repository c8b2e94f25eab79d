"""Shared pieces of the speed benchmarks (tasks of ``shared/bench/TASKS.md``).

The ansatz A(n, L) is written once per framework here, with the same gate
order and the same parameter order (layer by layer, wire by wire, RY then RZ):

* qgm: ``qgm.circuits.hardware_efficient(n, L, rotations=("ry", "rz"), entangler="ring")``;
* PennyLane: the same gates on wires ``0..n-1`` (wire 0 = most significant bit, as in qgm);
* Qiskit: qgm wire ``w`` is Qiskit qubit ``n - 1 - w``, so a Qiskit (little-endian)
  basis index equals the qgm basis index.

:func:`interleave` times several implementations of one task in turn, so a
change of machine load hits all of them alike; results are medians.
"""
from __future__ import annotations

import statistics
import time
from dataclasses import dataclass, field
from typing import Callable, Optional

import numpy as np

from qgm.circuits import Circuit, hardware_efficient

__all__ = [
    "Row",
    "ansatz",
    "init_params",
    "interleave",
    "n_params",
    "pl_ansatz",
    "qiskit_ansatz",
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
