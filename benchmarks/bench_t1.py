"""T1: one QCBM training step on Bars-and-Stripes 3×3 (forward, loss, backward, Adam update).

A(9, 6), 126 parameters. Loss: squared MMD between the exact model
probabilities ``p`` and the target ``q`` (uniform over the 14 valid 3×3
bars-and-stripes patterns, pixel (r, c) = wire 3r + c):
``(p - q)ᵀ K (p - q)`` with ``K(x, y) = mean_σ exp(-d_H(x, y) / (2σ))``,
σ ∈ {0.5, 1, 2, 4}. Adam, lr 0.1, every framework from the same θ₀.

Routes:

* qgm: ``qgm.sim.probs`` (``diff_method="auto"``: backprop) → torch loss → ``backward``;
* PennyLane default.qubit: ``qml.probs`` QNode, backprop, torch interface;
* PennyLane lightning.qubit: its adjoint method does not differentiate
  ``qml.probs``; the fastest route we found runs the probabilities without
  gradient, takes ``w = ∂L/∂p`` with torch, and differentiates
  ``⟨ψ|diag(w)|ψ⟩`` (a ``SparseHamiltonian``) with the adjoint method — one
  forward and one adjoint pass, the same gradient;
* Qiskit: Aer statevector, parameter shift: the 2P + 1 = 253 bound circuits
  run as one job (``parameter_binds``), probabilities saved per circuit, the
  gradient is ``Σ_x ∂L/∂p_x · (p_x(θ+π/2 e_k) − p_x(θ−π/2 e_k)) / 2``.
"""
from __future__ import annotations

from typing import Callable

import numpy as np
import torch

import qgm.sim
from bench_common import Row, aer_simulator, ansatz, init_params, interleave, pl_ansatz, qiskit_ansatz, rows_from

N, LAYERS, LR = 9, 6, 0.1
SIGMAS = (0.5, 1.0, 2.0, 4.0)


def bas_patterns(rows: int = 3, cols: int = 3) -> list[int]:
    """Basis indices of the valid bars-and-stripes images (pixel (r, c) = wire r·cols + c, wire 0 = MSB)."""
    n = rows * cols
    pats = set()
    for m in range(1 << rows):  # horizontal bars: row r on when bit r of m
        pats.add(sum(1 << (n - 1 - (r * cols + c)) for r in range(rows) if (m >> r) & 1 for c in range(cols)))
    for m in range(1 << cols):  # vertical stripes
        pats.add(sum(1 << (n - 1 - (r * cols + c)) for c in range(cols) if (m >> c) & 1 for r in range(rows)))
    return sorted(pats)


def mmd_kernel(n: int) -> torch.Tensor:
    """``K(x, y) = mean_σ exp(-d_H(x, y) / (2σ))`` over all basis pairs: ``(2**n, 2**n)`` float64."""
    x = np.arange(1 << n)
    bits = (x[:, None] >> (n - 1 - np.arange(n))) & 1
    d = (bits[:, None, :] != bits[None, :, :]).sum(-1)
    return torch.tensor(np.mean([np.exp(-d / (2 * s)) for s in SIGMAS], axis=0))


class Problem:
    """Target, kernel and the loss shared by every framework."""

    def __init__(self) -> None:
        self.kernel = mmd_kernel(N)
        self.target = torch.zeros(1 << N, dtype=torch.float64)
        pats = bas_patterns()
        assert len(pats) == 14
        self.target[pats] = 1.0 / len(pats)

    def loss(self, p: torch.Tensor) -> torch.Tensor:
        e = p - self.target
        return e @ self.kernel @ e

    def loss_grad_p(self, p: np.ndarray) -> np.ndarray:
        """``∂L/∂p = 2 K (p - q)`` (K symmetric)."""
        return 2.0 * (self.kernel.numpy() @ (p - self.target.numpy()))


def _torch_step(theta: torch.Tensor, forward: Callable[[torch.Tensor], torch.Tensor], prob: Problem):
    opt = torch.optim.Adam([theta], lr=LR)

    def step() -> float:
        opt.zero_grad()
        loss = prob.loss(forward(theta))
        loss.backward()
        opt.step()
        return float(loss.detach())

    return step


def qgm_step(theta0: np.ndarray, prob: Problem):
    c = ansatz(N, LAYERS)
    theta = torch.tensor(theta0, requires_grad=True)
    return _torch_step(theta, lambda t: qgm.sim.probs(c, t), prob), theta


def default_qubit_step(theta0: np.ndarray, prob: Problem):
    import pennylane as qml

    dev = qml.device("default.qubit", wires=N)

    @qml.qnode(dev, interface="torch", diff_method="backprop")
    def circuit(t):
        pl_ansatz(t, N, LAYERS)
        return qml.probs(wires=range(N))

    theta = torch.tensor(theta0, requires_grad=True)
    return _torch_step(theta, circuit, prob), theta


def lightning_step(theta0: np.ndarray, prob: Problem):
    import pennylane as qml
    import scipy.sparse as sp

    dev = qml.device("lightning.qubit", wires=N)

    @qml.qnode(dev, interface="torch", diff_method=None)
    def probs(t):
        pl_ansatz(t, N, LAYERS)
        return qml.probs(wires=range(N))

    @qml.qnode(dev, interface="torch", diff_method="adjoint")
    def weighted(t, h):
        pl_ansatz(t, N, LAYERS)
        return qml.expval(h)

    theta = torch.tensor(theta0, requires_grad=True)
    opt = torch.optim.Adam([theta], lr=LR)

    def step() -> float:
        opt.zero_grad()
        with torch.no_grad():
            p = probs(theta)
        p = p.detach().requires_grad_(True)
        loss = prob.loss(p)
        (w,) = torch.autograd.grad(loss, p)
        h = qml.SparseHamiltonian(sp.diags(w.numpy()).tocsr(), wires=range(N))
        weighted(theta, h).backward()
        opt.step()
        return float(loss.detach())

    return step, theta


def qiskit_step(theta0: np.ndarray, prob: Problem):
    from qiskit import transpile

    qc, pv = qiskit_ansatz(N, LAYERS)
    sim = aer_simulator()  # importing Aer adds the save_* instructions
    qc.save_probabilities()
    tqc = transpile(qc, sim, optimization_level=0)
    theta = torch.tensor(theta0, requires_grad=True)
    opt = torch.optim.Adam([theta], lr=LR)
    n_p = len(pv)
    shifts = np.concatenate([np.zeros((1, n_p)), np.pi / 2 * np.eye(n_p), -np.pi / 2 * np.eye(n_p)])

    def step() -> float:
        opt.zero_grad()
        values = theta.detach().numpy()[None, :] + shifts  # (2P + 1, P)
        binds = [{pv[k]: values[:, k].tolist() for k in range(n_p)}]
        res = sim.run(tqc, parameter_binds=binds).result()
        p = np.array([res.data(i)["probabilities"] for i in range(len(values))])
        loss = prob.loss(torch.as_tensor(p[0]))
        dp = (p[1 : 1 + n_p] - p[1 + n_p :]) / 2  # (P, 2**n)
        theta.grad = torch.as_tensor(dp @ prob.loss_grad_p(p[0]))
        opt.step()
        return float(loss)

    return step, theta


FRAMEWORKS = {
    "qgm": qgm_step,
    "pennylane default.qubit (backprop)": default_qubit_step,
    "pennylane lightning.qubit (adjoint)": lightning_step,
    "qiskit aer statevector (param-shift)": qiskit_step,
}


def run(quick: bool) -> tuple[list[Row], dict]:
    """Interleaved Adam steps; returns rows and the trained qgm parameters (for T3)."""
    prob = Problem()
    theta0 = init_params(N, LAYERS, seed=0)
    made = {name: make(theta0, prob) for name, make in FRAMEWORKS.items()}
    first = {name: s() for name, (s, _) in made.items()}
    ref = first["qgm"]
    for name, val in first.items():
        if abs(val - ref) > 1e-8:
            raise RuntimeError(f"T1: {name} loss at θ₀ {val!r} differs from qgm {ref!r}")
    steps = 20 if quick else 200
    times = interleave({name: s for name, (s, _) in made.items()}, reps=steps, warmup=2)
    final = {name: s() for name, (s, _) in made.items()}
    notes = {name: f"loss after {steps + 4} steps {final[name]:.4f}" for name in made}
    rows = rows_from("T1", "BAS 3x3, A(9,6)", times, notes=notes)
    return rows, {"theta": made["qgm"][1].detach().clone(), "loss0": ref}
