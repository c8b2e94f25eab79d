"""Every differentiation method against a frozen, independent oracle (tests/reference.py:
per-gate tensordot with torch autograd, sharing no code with qgm.sim), to 1e-10, on 200
random circuits: 160 through the small-n engines (qgm.sim.compact where the circuit allows it,
else the "pair" plan) and 40 with the large-n ("rotate") plan forced at n = 8..10 (rotating and
in-place blocks, gathers in between)."""
import numpy as np
import pytest
import torch

import qgm
import qgm.sim.compact as compact
import qgm.sim.executable as executable
import qgm.sim.kernels as kernels
from reference import random_circuit, reference_state_torch

METHODS = ("backprop", "adjoint", "parameter-shift")
TOL = 1e-10


def _oracle(c, th0, x0, w, v):
    th, x = th0.clone().requires_grad_(), x0.clone().requires_grad_()
    psi = reference_state_torch(c, th, x)
    loss_p = (psi.real**2 + psi.imag**2) @ w
    loss_s = (psi * v).real.sum()
    gp = torch.autograd.grad(loss_p, [th, x], allow_unused=True, retain_graph=True)
    gs = torch.autograd.grad(loss_s, [th, x], allow_unused=True)
    z = [torch.zeros_like(th), torch.zeros_like(x)]
    return [torch.cat([a if a is not None else b for a, b in zip(g, z)]) for g in (gp, gs)]


def _engine(c, th0, x0, w, v, method, measured):
    th, x = th0.clone().requires_grad_(), x0.clone().requires_grad_()
    if measured:
        loss = qgm.sim.probs(c, th, x, diff_method=method) @ w
    else:
        loss = (qgm.sim.state(c, th, x, diff_method=method) * v).real.sum()
    gt, gx = torch.autograd.grad(loss, [th, x], allow_unused=True)
    return torch.cat([gt if gt is not None else torch.zeros_like(th), gx if gx is not None else torch.zeros_like(x)])


def _check(seed: int, n_range: tuple[int, int], count: int) -> int:
    rng = np.random.default_rng(seed)
    done = 0
    while done < count:
        n = int(rng.integers(*n_range))
        c = random_circuit(n, int(rng.integers(2, 40)), rng, inputs=2)
        if c.n_params + c.n_inputs == 0:
            continue
        th0 = torch.tensor(rng.uniform(-3, 3, c.n_params))
        x0 = torch.tensor(rng.uniform(-3, 3, c.n_inputs))
        w = torch.tensor(rng.normal(size=2**n))
        v = torch.tensor(rng.normal(size=2**n) + 1j * rng.normal(size=2**n))
        ref_p, ref_s = _oracle(c, th0, x0, w, v)
        for m in METHODS:
            torch.testing.assert_close(_engine(c, th0, x0, w, v, m, True), ref_p, atol=TOL, rtol=0)
            if m != "parameter-shift":
                torch.testing.assert_close(_engine(c, th0, x0, w, v, m, False), ref_s, atol=TOL, rtol=0)
        done += 1
    return done


@pytest.mark.parametrize("seed", range(4))
def test_small_plan_matches_oracle(seed):
    assert _check(1000 + seed, (1, 7), 40) == 40


@pytest.mark.parametrize("seed", range(2))
def test_rotate_plan_matches_oracle(seed, monkeypatch):
    monkeypatch.setattr(executable, "SMALL_N", 3)
    monkeypatch.setattr(compact, "COMPACT_N", 0)  # the general engine's rotating plan, not the small-n engine
    monkeypatch.setattr(kernels, "MIN_MIDDLE_STRIDE", 1 << 3)  # exercise in-place middle blocks too
    for prog in list(qgm.sim.program._CACHE.values()):
        prog._device_cache.clear()
    assert _check(2000 + seed, (8, 11), 20) == 20


def test_batched_rows_and_initial_state_gradient():
    rng = np.random.default_rng(7)
    c = random_circuit(4, 25, rng, inputs=2)
    th = torch.tensor(rng.uniform(-3, 3, (3, c.n_params)), requires_grad=True)
    x = torch.tensor(rng.uniform(-3, 3, (3, c.n_inputs)))
    z = rng.normal(size=(3, 16)) + 1j * rng.normal(size=(3, 16))
    s0 = torch.tensor(z / np.linalg.norm(z, axis=1, keepdims=True), requires_grad=True)  # probs need unit norm
    w = torch.tensor(rng.normal(size=16))
    for m in ("backprop", "adjoint"):
        g_th, g_s0 = torch.autograd.grad(
            (qgm.sim.probs(c, th, x, initial_state=s0, diff_method=m) @ w).sum(), [th, s0])
        for i in range(3):
            t, s = th[i].detach().clone().requires_grad_(), s0[i].detach().clone().requires_grad_()
            # the oracle starts from |0>: evolve the initial state by linearity, column by column
            cols = torch.stack([_basis_evolve(c, t, x[i], j) for j in range(16)], 1)
            psi = cols @ s
            rt, rs = torch.autograd.grad((psi.real**2 + psi.imag**2) @ w, [t, s])
            torch.testing.assert_close(g_th[i], rt, atol=TOL, rtol=0)
            torch.testing.assert_close(g_s0[i], rs, atol=TOL, rtol=0)


def _basis_evolve(c, t, x, j):
    """The oracle's state of ``c`` from basis state ``j`` (X gates prepended)."""
    from qgm.circuits import Circuit

    prep = Circuit(c.n_qubits)
    for w in range(c.n_qubits):
        if (j >> (c.n_qubits - 1 - w)) & 1:
            prep = prep.x(w)
    full = Circuit(c.n_qubits, list(prep.ops) + list(c.ops), c.param_names, c.input_names)
    return reference_state_torch(full, t, x)
