"""T4: forward + gradient of ⟨Σ_i Z_i⟩ for 512 random parameter sets of A(n, n), n = 6, 10, 14.

Reported per parameter set (total ÷ number of sets), so batched and looped
routes compare directly:

* qgm batched: one call with ``params`` of shape ``(512, P)``;
* qgm loop: single calls (the Must: batched ≥ 10× cheaper per set);
* PennyLane lightning.qubit (adjoint) and default.qubit (backprop): a loop of
  single calls; default.qubit also broadcast over the 512 sets at n = 6
  (parameter broadcasting; at n ≥ 10 its backprop tape of 512 states per gate
  does not fit in this machine's memory).

Loops run over the first :func:`loop_sets` sets and are scaled per set: every
set costs the same (same circuit, same sizes). ``--quick`` skips n = 14.
"""
from __future__ import annotations

import numpy as np
import torch

import qgm.sim
from bench_common import Row, ansatz, init_params, interleave, pl_ansatz, rows_from, zsum_diagonal

SETS = 512


def loop_sets(n: int, quick: bool) -> int:
    """Parameter sets the looped routes run (per-set cost = loop time / sets)."""
    return 8 if n >= 14 else (8 if quick else 32)


def qgm_method(n: int) -> str:
    """The method ``diff_method="auto"`` resolves to for the batched route."""
    return qgm.sim.resolve_diff_method(circuit=ansatz(n, n), batch_size=SETS)


def qgm_batched(n: int, thetas: np.ndarray):
    c = ansatz(n, n)
    z = torch.as_tensor(zsum_diagonal(n))
    theta = torch.tensor(thetas, requires_grad=True)

    def f() -> torch.Tensor:
        theta.grad = None
        (qgm.sim.probs(c, theta) @ z).sum().backward()
        return theta.grad

    return f


def qgm_loop(n: int, thetas: np.ndarray):
    c = ansatz(n, n)
    z = torch.as_tensor(zsum_diagonal(n))
    thetas_t = [torch.tensor(t, requires_grad=True) for t in thetas]

    def f() -> torch.Tensor:
        out = []
        for t in thetas_t:
            t.grad = None
            (qgm.sim.probs(c, t) @ z).backward()
            out.append(t.grad)
        return torch.stack(out)

    return f


def _pl_loop(device: str, diff_method: str, n: int, thetas: np.ndarray):
    import pennylane as qml

    dev = qml.device(device, wires=n)
    obs = qml.sum(*[qml.Z(i) for i in range(n)])

    @qml.qnode(dev, interface="torch", diff_method=diff_method)
    def circuit(t):
        pl_ansatz(t, n, n)
        return qml.expval(obs)

    thetas_t = [torch.tensor(t, requires_grad=True) for t in thetas]

    def f() -> torch.Tensor:
        out = []
        for t in thetas_t:
            t.grad = None
            circuit(t).backward()
            out.append(t.grad)
        return torch.stack(out)

    return f


def default_qubit_broadcast(n: int, thetas: np.ndarray):
    import pennylane as qml

    dev = qml.device("default.qubit", wires=n)
    obs = qml.sum(*[qml.Z(i) for i in range(n)])

    @qml.qnode(dev, interface="torch", diff_method="backprop")
    def circuit(t):
        pl_ansatz(t, n, n)
        return qml.expval(obs)

    theta = torch.tensor(thetas, requires_grad=True)

    def f() -> torch.Tensor:
        theta.grad = None
        circuit(theta).sum().backward()
        return theta.grad

    return f


def run(quick: bool) -> list[Row]:
    rows: list[Row] = []
    for n in (6, 10) if quick else (6, 10, 14):
        thetas = init_params(n, n, seed=3, batch=SETS)
        m = loop_sets(n, quick)
        fns = {
            f"qgm batched ({qgm_method(n)})": qgm_batched(n, thetas),
            "qgm loop": qgm_loop(n, thetas[:m]),
            "pennylane lightning.qubit loop (adjoint)": _pl_loop("lightning.qubit", "adjoint", n, thetas[:m]),
            "pennylane default.qubit loop (backprop)": _pl_loop("default.qubit", "backprop", n, thetas[:m]),
        }
        scale = {name: float(m) for name in fns}
        scale[f"qgm batched ({qgm_method(n)})"] = float(SETS)
        if n <= 6:
            fns["pennylane default.qubit broadcast (backprop)"] = default_qubit_broadcast(n, thetas)
            scale["pennylane default.qubit broadcast (backprop)"] = float(SETS)
        ref = fns[f"qgm batched ({qgm_method(n)})"]()
        for name, f in fns.items():
            g = f()
            err = float((g - ref[: g.shape[0]]).abs().max())
            if err > 1e-6:
                raise RuntimeError(f"T4 n={n}: {name} gradients differ from qgm batched by {err:.2e}")
        reps = 2 if (quick or n >= 14) else 5
        times = interleave(fns, reps=reps, warmup=0)  # the agreement check above was the warm-up
        notes = {name: f"loop over {m} sets, per set" for name in fns if "loop" in name}
        rows += rows_from("T4", f"n={n}, L={n}, 512 sets", times, scale=scale, notes=notes)
    return rows
