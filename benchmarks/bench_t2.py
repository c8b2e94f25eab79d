"""T2: forward + full gradient of ⟨Σ_i Z_i⟩ for A(n, 4), n = 4 … 20, and the memory-bandwidth bound.

Routes:

* qgm: ``qgm.sim.probs(…, diff_method=…) @ diag(Σ Z)`` then ``backward`` (the
  Z-sum diagonal is built once, outside the timing);
* PennyLane default.qubit (backprop, torch) and lightning.qubit (adjoint):
  ``qml.expval(Σ_i qml.Z(i))``;
* Qiskit: Aer statevector, parameter shift over 2P + 1 bound circuits in one job,
  ``save_expectation_value`` of Σ Z, for n ≤ 12 only (one evaluation is 2P + 1
  full simulations: about 20 s per repetition at n = 16 on the reference machine).

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
from bench_common import Row, ansatz, init_params, interleave, pl_ansatz, qiskit_ansatz, rows_from, zsum_diagonal

LAYERS = 4
QISKIT_MAX_N = 12


def qgm_method(n: int) -> str:
    """Differentiation method of the qgm route: backprop (fewer passes than adjoint; the
    stored states, 29 of them at n = 20, take 464 MiB)."""
    return "backprop"


def qgm_grad(n: int, theta0: np.ndarray):
    c = ansatz(n, LAYERS)
    z = torch.as_tensor(zsum_diagonal(n))
    theta = torch.tensor(theta0, requires_grad=True)
    method = qgm_method(n)

    def f() -> torch.Tensor:
        theta.grad = None
        val = qgm.sim.probs(c, theta, diff_method=method) @ z
        val.backward()
        return theta.grad

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
    from qiskit_aer import AerSimulator

    qc, pv = qiskit_ansatz(n, LAYERS)
    qc.save_expectation_value(SparsePauliOp.from_sparse_list([("Z", [q], 1.0) for q in range(n)], n), range(n))
    sim = AerSimulator(method="statevector")
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
    Forward: one per kernel. Backprop backward: two per dense kernel (``K†`` on
    the gradient; the matrix gradient reads gradient and saved state) and one per
    permutation. Born probabilities and their gradient: two.
    """
    prog = qgm.sim.compile_circuit(ansatz(n, LAYERS))
    dense = sum(1 for k in prog.kernels if type(k).__name__ != "PermKernel")
    perm = len(prog.kernels) - dense
    return dense * 3 + perm * 2 + 2


FRAMEWORKS = {
    "qgm": qgm_grad,
    "pennylane default.qubit (backprop)": default_qubit_grad,
    "pennylane lightning.qubit (adjoint)": lightning_grad,
    "qiskit aer statevector (param-shift)": qiskit_grad,
}


def run(quick: bool) -> tuple[list[Row], dict]:
    sizes = (4, 8, 12, 16) if quick else (4, 8, 12, 16, 20)
    rows: list[Row] = []
    bw = copy_bandwidth()
    bounds = {}
    for n in sizes:
        theta0 = init_params(n, LAYERS, seed=1)
        fns = {
            name: make(n, theta0)
            for name, make in FRAMEWORKS.items()
            if not (name.startswith("qiskit") and n > QISKIT_MAX_N)
        }
        ref = fns["qgm"]().clone()
        for name, f in fns.items():
            err = float((f() - ref).abs().max())
            if err > 1e-6:
                raise RuntimeError(f"T2 n={n}: {name} gradient differs from qgm by {err:.2e}")
        reps = 5 if n <= 12 else (3 if n <= 16 else 2)
        times = interleave(fns, reps=reps, warmup=0)  # the agreement check above was the warm-up
        rows += rows_from("T2", f"n={n}", times, notes={"qgm": qgm_method(n)})
        state_bytes = 16 * 2**n
        bounds[n] = {"passes": passes(n), "bytes": state_bytes, "bound_s": state_bytes * passes(n) / bw}
    return rows, {"bandwidth_Bps": bw, "bounds": bounds}
