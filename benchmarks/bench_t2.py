"""T2: forward + full gradient of ⟨Σ_i Z_i⟩ for A(n, 4), n = 4 … 24 (peak memory at 20-24),
forward only at n = 20 … 26, and the memory-bandwidth bound.

Routes (forward + gradient):

* qgm: ``qgm.sim.probs(c, θ) @ diag(Σ Z)`` then ``backward``, ``diff_method="auto"``
  (the method it resolves to is in the note; the Z-sum diagonal is built once,
  outside the timing);
* PennyLane default.qubit (backprop, torch) and lightning.qubit (adjoint):
  ``qml.expval(Σ_i qml.Z(i))``;
* Qiskit: Aer statevector, parameter shift over 2P + 1 bound circuits in one job,
  ``save_expectation_value`` of Σ Z, for n ≤ 12 only (one evaluation is 2P + 1
  full simulations: about 20 s per repetition at n = 16 on the reference machine);
  default.qubit for n ≤ 20 (its backprop tape at n = 22 needs more than 16 GiB).

Forward only (⟨Σ Z⟩ at θ₀): qgm ``probs @ diag(Σ Z)`` under ``torch.no_grad``,
lightning.qubit ``qml.expval`` without gradient, qulacs ``Observable.get_expectation_value``
after ``update_quantum_state`` on a reused state (parameters set each call).

Peak memory: one subprocess per (framework, n) runs one forward + gradient and
reports its peak resident set (``ru_maxrss``) and the increase over its resident
set before the call (after imports and set-up).

Method comparison (the thresholds of ``diff_method="auto"``): qgm backprop against
qgm adjoint, interleaved, at n = 16, 20, 22.

Large n (qgm only, one subprocess per case, complex64 and complex128): forward
⟨Σ Z⟩ and 1,000 samples at n = 26 and 28, time of one call and peak memory.

Bound: ``state bytes × passes ÷ copy bandwidth``, where ``passes`` is the number
of full passes over the state the qgm route makes (read + write of one
state-sized tensor counts as one pass, as a copy does) and the bandwidth is
that of a torch copy of a 256 MiB buffer (bytes copied per second).
"""
from __future__ import annotations

import time

import numpy as np
import torch

import qgm.sim
from bench_common import (
    Row,
    aer_simulator,
    ansatz,
    init_params,
    interleave,
    peak_rss_mib,
    pl_ansatz,
    qiskit_ansatz,
    qulacs_ansatz,
    qulacs_zsum,
    rows_from,
    zsum_diagonal,
)

LAYERS = 4
QISKIT_MAX_N = 12
DEFAULT_QUBIT_MAX_N = 20


def qgm_method(n: int) -> str:
    """The method ``diff_method="auto"`` resolves to for A(n, 4) (backprop while its saved states
    fit :data:`qgm.sim.diff.BACKPROP_BUDGET_BYTES`, adjoint beyond)."""
    return qgm.sim.resolve_diff_method(circuit=ansatz(n, LAYERS))


def qgm_grad(n: int, theta0: np.ndarray):
    c = ansatz(n, LAYERS)
    z = torch.as_tensor(zsum_diagonal(n))
    theta = torch.tensor(theta0, requires_grad=True)

    def f() -> torch.Tensor:
        theta.grad = None
        val = qgm.sim.probs(c, theta) @ z
        val.backward()
        return theta.grad

    return f


def qgm_forward(n: int, theta0: np.ndarray):
    c = ansatz(n, LAYERS)
    z = torch.as_tensor(zsum_diagonal(n))
    theta = torch.tensor(theta0)

    def f() -> float:
        with torch.no_grad():
            return float(qgm.sim.probs(c, theta) @ z)

    return f


def lightning_forward(n: int, theta0: np.ndarray):
    import pennylane as qml

    dev = qml.device("lightning.qubit", wires=n)
    obs = qml.sum(*[qml.Z(i) for i in range(n)])

    @qml.qnode(dev, diff_method=None)
    def circuit(t):
        pl_ansatz(t, n, LAYERS)
        return qml.expval(obs)

    return lambda: float(circuit(theta0))


def qulacs_forward(n: int, theta0: np.ndarray):
    from qulacs import QuantumState

    qc = qulacs_ansatz(n, LAYERS)
    obs = qulacs_zsum(n)
    state = QuantumState(n)
    values = (-theta0).tolist()

    def f() -> float:
        for k, v in enumerate(values):
            qc.set_parameter(k, v)
        state.set_zero_state()
        qc.update_quantum_state(state)
        return float(obs.get_expectation_value(state))

    return f


def _pl_grad(n: int, theta0: np.ndarray, device: str, diff_method: str):
    import pennylane as qml

    dev = qml.device(device, wires=n)
    obs = qml.sum(*[qml.Z(i) for i in range(n)])

    @qml.qnode(dev, interface="torch", diff_method=diff_method)
    def circuit(t):
        pl_ansatz(t, n, LAYERS)
        return qml.expval(obs)

    theta = torch.tensor(theta0, requires_grad=True)

    def f() -> torch.Tensor:
        theta.grad = None
        circuit(theta).backward()
        return theta.grad

    return f


def default_qubit_grad(n: int, theta0: np.ndarray):
    return _pl_grad(n, theta0, "default.qubit", "backprop")


def lightning_grad(n: int, theta0: np.ndarray):
    return _pl_grad(n, theta0, "lightning.qubit", "adjoint")


def qiskit_grad(n: int, theta0: np.ndarray):
    from qiskit import transpile
    from qiskit.quantum_info import SparsePauliOp

    qc, pv = qiskit_ansatz(n, LAYERS)
    sim = aer_simulator()  # importing Aer adds the save_* instructions
    qc.save_expectation_value(SparsePauliOp.from_sparse_list([("Z", [q], 1.0) for q in range(n)], n), range(n))
    tqc = transpile(qc, sim, optimization_level=0)
    n_p = len(pv)
    shifts = np.concatenate([np.zeros((1, n_p)), np.pi / 2 * np.eye(n_p), -np.pi / 2 * np.eye(n_p)])

    def f() -> torch.Tensor:
        values = theta0[None, :] + shifts
        res = sim.run(tqc, parameter_binds=[{pv[k]: values[:, k].tolist() for k in range(n_p)}]).result()
        e = np.array([res.data(i)["expectation_value"] for i in range(len(values))])
        return torch.as_tensor((e[1 : 1 + n_p] - e[1 + n_p :]) / 2)

    return f


def copy_bandwidth(mib: int = 256, reps: int = 5) -> float:
    """Bytes copied per second by ``torch`` for a ``mib`` MiB buffer (median of ``reps``)."""
    src = torch.ones(mib * 2**20 // 8, dtype=torch.float64)
    dst = torch.empty_like(src)
    dst.copy_(src)
    ts = []
    for _ in range(reps):
        t0 = time.perf_counter()
        dst.copy_(src)
        ts.append(time.perf_counter() - t0)
    return src.numel() * 8 / float(np.median(ts))


def passes(n: int) -> int:
    """Full passes over the state the qgm route makes for one forward + gradient.

    A pass reads and writes one state-sized tensor (as a copy does) or reads two.
    Forward: one per kernel. Backward: one per kernel (the gradient pulled back),
    one per correlation (reads gradient and saved state), and with the adjoint method
    one more per kernel (the state un-computed). Born probabilities, the dot with
    Σ Z and their gradients: three.
    """
    from qgm.sim.executable import plan_kind

    plan = qgm.sim.compile_circuit(ansatz(n, LAYERS)).plan(plan_kind(n))
    kernels = len(plan.steps)
    pairs = sum(1 for s in plan.steps if s.pair >= 0)
    undo = kernels if qgm_method(n) == "adjoint" else 0
    return kernels + kernels + pairs + undo + 3


FRAMEWORKS = {
    "qgm": qgm_grad,
    "pennylane default.qubit (backprop)": default_qubit_grad,
    "pennylane lightning.qubit (adjoint)": lightning_grad,
    "qiskit aer statevector (param-shift)": qiskit_grad,
}
FORWARD = {
    "qgm": qgm_forward,
    "pennylane lightning.qubit": lightning_forward,
    "qulacs": qulacs_forward,
}
MEMORY = {"qgm": qgm_grad, "pennylane lightning.qubit (adjoint)": lightning_grad}
LARGE = ((26, "complex64"), (28, "complex64"), (28, "complex128"))
#: From this n, default.qubit's gradient rows are timed apart from the others (see _gradient_rows).
ALONE_N = 20


def _gradient_rows(n: int) -> list[Row]:
    theta0 = init_params(n, LAYERS, seed=1)
    fns = {
        name: make(n, theta0)
        for name, make in FRAMEWORKS.items()
        if not (name.startswith("qiskit") and n > QISKIT_MAX_N)
        and not (name.startswith("pennylane default") and n > DEFAULT_QUBIT_MAX_N)
    }
    ref = fns["qgm"]().clone()
    for name, f in fns.items():
        err = float((f() - ref).abs().max())
        if err > 1e-6:
            raise RuntimeError(f"T2 n={n}: {name} gradient differs from qgm by {err:.2e}")
    reps = 5 if n <= 12 else (3 if n <= 16 else 2)
    # default.qubit's backprop holds ~14 GiB at n = 20: interleaved, the call after it found its
    # memory reclaimed (qgm 1.26 s against 0.46 s in the same run's method rows), so from
    # n = 20 it is timed in its own pass after the others
    alone = {k: fns.pop(k) for k in list(fns) if k.startswith("pennylane default") and n >= ALONE_N}
    times = interleave(fns, reps=reps, warmup=0)  # the agreement check above was the warm-up
    times.update(interleave(alone, reps=reps, warmup=0) if alone else {})
    notes = {"qgm": qgm_method(n), **{k: "own pass (memory)" for k in alone}}
    return rows_from("T2", f"n={n}", times, notes=notes)


def _forward_rows(n: int) -> list[Row]:
    theta0 = init_params(n, LAYERS, seed=1)
    fns = {name: make(n, theta0) for name, make in FORWARD.items()}
    ref = fns["qgm"]()
    for name, f in fns.items():
        if abs(f() - ref) > 1e-8:
            raise RuntimeError(f"T2 forward n={n}: {name} value differs from qgm")
    reps = 3 if n <= 22 else 2
    return rows_from("T2 fwd", f"n={n}", interleave(fns, reps=reps, warmup=0))


def _child(call: str) -> dict:
    """Run ``bench_t2.<call>`` in a fresh Python process and return its JSON result."""
    import json
    import os
    import subprocess
    import sys

    code = ("import sys, json, torch; torch.set_num_threads(1); sys.path.insert(0, %r); import bench_t2; "
            "print(json.dumps(bench_t2.%s))" % (os.path.dirname(os.path.abspath(__file__)), call))
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    if out.returncode:  # a refusal (ResourceError) or a crash: recorded, the run goes on
        lines = (out.stderr or "exit status %d" % out.returncode).strip().splitlines()
        return {"error": lines[-1] if lines else f"exit status {out.returncode}"}
    return json.loads(out.stdout.strip().splitlines()[-1])


def memory(name: str, n: int) -> dict:
    """Peak resident memory of one forward + gradient of ``name`` at ``n`` (run in a fresh process)."""
    return _child(f"_memory_child({name!r}, {n})")


def _memory_child(name: str, n: int) -> dict:
    f = MEMORY[name](n, init_params(n, LAYERS, seed=1))
    before = peak_rss_mib()
    f()
    return {"peak_mib": peak_rss_mib(), "before_mib": before}


def _large_child(n: int, dtype: str) -> dict:
    """One forward ⟨Σ Z⟩ and one draw of 1,000 samples at ``n`` qubits in ``dtype`` (qgm)."""
    c = ansatz(n, LAYERS)
    cdt = getattr(torch, dtype)
    rdt = torch.float32 if cdt == torch.complex64 else torch.float64
    theta = torch.tensor(init_params(n, LAYERS, seed=1), dtype=rdt)
    z = torch.as_tensor(zsum_diagonal(n), dtype=theta.dtype)
    qgm.sim.compile_circuit(c)  # compilation (2**n gather indices) is not timed
    before = peak_rss_mib()
    t0 = time.perf_counter()
    with torch.no_grad():
        value = float(qgm.sim.probs(c, theta, dtype=cdt) @ z)
    t1 = time.perf_counter()
    qgm.sim.sample(c, theta, 1000, dtype=cdt, generator=torch.Generator().manual_seed(0))
    t2 = time.perf_counter()
    return {"forward_s": t1 - t0, "sample_s": t2 - t1, "value": value, "peak_mib": peak_rss_mib(), "before_mib": before}


def _method_rows(n: int) -> list[Row]:
    theta0 = init_params(n, LAYERS, seed=1)
    c = ansatz(n, LAYERS)
    z = torch.as_tensor(zsum_diagonal(n))

    def make(method: str):
        theta = torch.tensor(theta0, requires_grad=True)

        def f() -> torch.Tensor:
            theta.grad = None
            (qgm.sim.probs(c, theta, diff_method=method) @ z).backward()
            return theta.grad

        return f

    fns = {f"qgm {m}": make(m) for m in ("backprop", "adjoint")}
    err = float((fns["qgm backprop"]() - fns["qgm adjoint"]()).abs().max())
    if err > 1e-10:
        raise RuntimeError(f"T2 n={n}: backprop and adjoint gradients differ by {err:.2e}")
    return rows_from("T2 method", f"n={n}", interleave(fns, reps=3 if n <= 20 else 2, warmup=0))


def run(quick: bool) -> tuple[list[Row], dict]:
    sizes = (4, 8, 12, 16) if quick else (4, 8, 12, 16, 20, 22, 24)
    rows: list[Row] = []
    # the fresh-process probes first, while this process is small (the 28-qubit complex128 probe
    # needs 8 GiB free; after the gradient rows this process held 15 GiB)
    mem = {}
    for n in (16,) if quick else (20, 22, 24):
        mem[n] = {name: memory(name, n) for name in MEMORY}
    large = {} if quick else {(n, dt): _child(f"_large_child({n}, {dt!r})") for n, dt in LARGE}
    bw = copy_bandwidth()
    bounds = {}
    for n in sizes:
        rows += _gradient_rows(n)
        state_bytes = 16 * 2**n
        bounds[n] = {"passes": passes(n), "bytes": state_bytes, "bound_s": state_bytes * passes(n) / bw}
    for n in (16, 20) if quick else (20, 22, 24, 26):
        rows += _forward_rows(n)
    for n in (16,) if quick else (16, 20, 22):
        rows += _method_rows(n)
    return rows, {"bandwidth_Bps": bw, "bounds": bounds, "memory": mem, "large": large}
