"""T3: 100,000 shots, state simulation included.

Cases: A(9, 6) at the parameters qgm reached in T1 (or θ₀ when T1 is not run)
and A(20, 4) at random parameters. Routes: ``qgm.sim.sample``; PennyLane
``qml.sample()`` with ``shots=100000`` on default.qubit and lightning.qubit;
Qiskit Aer statevector with ``measure_all`` and 100,000 shots (counts); qulacs
``QuantumState.sampling`` after ``update_quantum_state`` (parameters set each call).
"""
from __future__ import annotations

from typing import Optional

import numpy as np
import torch

import qgm.sim
from bench_common import Row, aer_simulator, ansatz, init_params, interleave, pl_ansatz, qiskit_ansatz, qulacs_ansatz, rows_from

SHOTS = 100_000


def qgm_sampler(n: int, layers: int, theta: np.ndarray):
    c = ansatz(n, layers)
    t = torch.as_tensor(theta)
    gen = torch.Generator().manual_seed(0)
    return lambda: qgm.sim.sample(c, t, SHOTS, generator=gen)


def _pl_sampler(device: str, n: int, layers: int, theta: np.ndarray):
    import pennylane as qml

    dev = qml.device(device, wires=n, seed=0) if device == "default.qubit" else qml.device(device, wires=n)

    @qml.set_shots(SHOTS)
    @qml.qnode(dev, interface="numpy", diff_method=None)
    def circuit(t):
        pl_ansatz(t, n, layers)
        return qml.sample()

    return lambda: circuit(theta)


def default_qubit_sampler(n: int, layers: int, theta: np.ndarray):
    return _pl_sampler("default.qubit", n, layers, theta)


def lightning_sampler(n: int, layers: int, theta: np.ndarray):
    return _pl_sampler("lightning.qubit", n, layers, theta)


def qiskit_sampler(n: int, layers: int, theta: np.ndarray):
    from qiskit import transpile

    qc, pv = qiskit_ansatz(n, layers)
    qc.measure_all()
    sim = aer_simulator(seed_simulator=0)
    tqc = transpile(qc.assign_parameters(dict(zip(pv, theta))), sim, optimization_level=0)
    return lambda: sim.run(tqc, shots=SHOTS).result().get_counts()


def qulacs_sampler(n: int, layers: int, theta: np.ndarray):
    from qulacs import QuantumState

    qc = qulacs_ansatz(n, layers)
    state = QuantumState(n)
    values = (-np.asarray(theta)).tolist()

    def f():
        for k, v in enumerate(values):
            qc.set_parameter(k, v)
        state.set_zero_state()
        qc.update_quantum_state(state)
        return state.sampling(SHOTS, 0)

    return f


FRAMEWORKS = {
    "qgm": qgm_sampler,
    "pennylane default.qubit": default_qubit_sampler,
    "pennylane lightning.qubit": lightning_sampler,
    "qiskit aer statevector": qiskit_sampler,
    "qulacs": qulacs_sampler,
}


def run(quick: bool, trained: Optional[torch.Tensor] = None) -> list[Row]:
    cases = [
        ("A(9,6) trained" if trained is not None else "A(9,6) θ₀", 9, 6,
         trained.numpy() if trained is not None else init_params(9, 6, seed=0)),
        ("A(20,4) random", 20, 4, init_params(20, 4, seed=2)),
    ]
    rows: list[Row] = []
    for label, n, layers, theta in cases:
        fns = {name: make(n, layers, theta) for name, make in FRAMEWORKS.items()}
        reps = 2 if quick else (7 if n <= 12 else 3)
        rows += rows_from("T3", label, interleave(fns, reps=reps, warmup=1))
    return rows
