"""The whole-step small-n engine (qgm.sim.compact) against the independent oracle
(tests/reference.py) and against the general engine, on the circuits it runs: single-qubit
stages (rotations, constant gates, and other parametrised kinds through autograd) and
constant monomial runs (CNOT/CY/CZ/SWAP/iSWAP/Toffoli, phases)."""
import numpy as np
import pytest
import torch

import qgm
import qgm.sim.compact as compact
from qgm.circuits.ansatz import hardware_efficient
from qgm.sim import native
from qgm.sim.program import compile_circuit
from reference import random_circuit, reference_state_torch

TOL = 1e-10
#: Gates the engine runs with the closed-form rotation expansion.
ROTATION_GATES = ["rx", "ry", "rz", "x", "y", "z", "h", "s", "sdg", "t", "tdg", "sx", "id",
                  "cx", "cy", "cz", "swap", "iswap", "ccx"]


def _cp(c):
    return compact.compact_program(compile_circuit(c), torch.device("cpu"), torch.complex128)


def _random(rng, gates, n_range=(2, 8)):
    while True:
        n = int(rng.integers(*n_range))
        c = random_circuit(n, int(rng.integers(4, 40)), rng, gates=[g for g in gates if g != "ccx" or n >= 3],
                           inputs=2)
        if c.n_params + c.n_inputs and _cp(c) is not None:
            return c


def _grads(loss, args):
    got = torch.autograd.grad(loss, args, allow_unused=True, retain_graph=True)
    return [g if g is not None else torch.zeros_like(a) for g, a in zip(got, args)]


@pytest.mark.parametrize("gates,expansion", [(ROTATION_GATES, True), (ROTATION_GATES + ["p", "u3"], False)])
def test_matches_oracle(gates, expansion):
    """Probabilities, states and every gradient (params, inputs) to 1e-10 on 40 random circuits."""
    rng = np.random.default_rng(11 if expansion else 12)
    seen = set()
    for _ in range(40):
        c = _random(rng, gates)
        seen.add(_cp(c).expansion is not None)
        th0 = torch.tensor(rng.uniform(-3, 3, c.n_params))
        x0 = torch.tensor(rng.uniform(-3, 3, c.n_inputs))
        w = torch.tensor(rng.normal(size=2**c.n_qubits))
        v = torch.tensor(rng.normal(size=2**c.n_qubits) + 1j * rng.normal(size=2**c.n_qubits))
        th, x = th0.clone().requires_grad_(), x0.clone().requires_grad_()
        ref = reference_state_torch(c, th, x)
        ref_p = _grads((ref.real**2 + ref.imag**2) @ w, [th, x])
        ref_s = _grads((ref * v).real.sum(), [th, x])
        p = qgm.sim.probs(c, th, x, diff_method="backprop")
        s = qgm.sim.state(c, th, x, diff_method="backprop")
        torch.testing.assert_close(s.detach(), ref.detach(), atol=TOL, rtol=0)
        for got, want in zip(_grads(p @ w, [th, x]) + _grads((s * v).real.sum(), [th, x]), ref_p + ref_s):
            torch.testing.assert_close(got, want, atol=TOL, rtol=0)
    assert expansion in seen  # both routes to the angles (closed form, autograd) are exercised


def test_batch_of_initial_states_with_gradient():
    """Shared angles over a batch of initial states: gradients of params and of every state (probs)."""
    rng = np.random.default_rng(3)
    c = _random(rng, ROTATION_GATES, (4, 5))
    z = rng.normal(size=(3, 16)) + 1j * rng.normal(size=(3, 16))
    s0 = torch.tensor(z / np.linalg.norm(z, axis=1, keepdims=True), requires_grad=True)
    th = torch.tensor(rng.uniform(-3, 3, c.n_params), requires_grad=True)
    w = torch.tensor(rng.normal(size=(3, 16)))
    loss = (qgm.sim.probs(c, th, initial_state=s0) * w).sum()
    g_th, g_s0 = torch.autograd.grad(loss, [th, s0])
    th2, s2 = th.detach().clone().requires_grad_(), s0.detach().clone().requires_grad_()
    psi = _oracle_batch(c, th2, None, s2)
    r_th, r_s0 = torch.autograd.grad(((psi.real**2 + psi.imag**2) * w).sum(), [th2, s2])
    torch.testing.assert_close(g_th, r_th, atol=TOL, rtol=0)
    torch.testing.assert_close(g_s0, r_s0, atol=TOL, rtol=0)


def _oracle_batch(c, th, x, s0):
    """The oracle's final states for initial states ``s0`` ``(B, 2**n)``: the circuit's unitary (its
    columns are the images of the basis states) applied to each, differentiable in all three."""
    cols = torch.stack([reference_state_torch(_with_initial(c, k), th, x) for k in range(2**c.n_qubits)], 1)
    return s0 @ cols.T


def _with_initial(c, k):
    """``c`` preceded by X gates preparing basis state ``k`` (wire 0 most significant)."""
    from qgm.circuits import Circuit

    prep = Circuit(c.n_qubits)
    for w in range(c.n_qubits):
        if (k >> (c.n_qubits - 1 - w)) & 1:
            prep = prep.add("x", w)
    for op in c.ops:
        prep = prep.unitary(op.matrix, op.wires) if op.name == "unitary" else prep.add(op.name, op.wires, *op.params)
    return prep


@pytest.mark.parametrize("sweep", ["compiled", "torch"])
def test_same_maps_as_the_general_engine(sweep, monkeypatch):
    """Values and gradients equal (1e-12) to the general engine's on the same circuits, complex64 too,
    with either sweep of the small-n engine (compiled: qgm.sim.native, needs numba)."""
    if sweep == "compiled":
        assert native.AVAILABLE, "numba (the 'fast' extra) is part of the test set-up"
    monkeypatch.setattr(compact, "USE_NATIVE", sweep == "compiled")
    rng = np.random.default_rng(5)
    circuits = [_random(rng, ROTATION_GATES + ["p"]) for _ in range(10)] + [hardware_efficient(9, 3)]
    got = [_probs_and_grad(c, dt) for c in circuits for dt in (torch.complex128, torch.complex64)]
    monkeypatch.setattr(compact, "COMPACT_N", 0)
    for c in circuits:
        compile_circuit(c)._device_cache.clear()
    want = [_probs_and_grad(c, dt) for c in circuits for dt in (torch.complex128, torch.complex64)]
    for (p, g), (p2, g2), dt in zip(got, want, [torch.complex128, torch.complex64] * len(circuits)):
        tol = 1e-12 if dt == torch.complex128 else 1e-4  # float32: the gradient's scale is ~ 2**n
        torch.testing.assert_close(p, p2, atol=tol, rtol=0)
        torch.testing.assert_close(g, g2, atol=tol * max(1.0, float(g2.abs().max())), rtol=0)
    for c in circuits:
        compile_circuit(c)._device_cache.clear()


@pytest.mark.parametrize("sweep,bsz", [("compiled", 5), ("compiled", 37), ("torch", 5)])
def test_batch_with_initial_states_both_sweeps(sweep, bsz, monkeypatch):
    """Shared angles over 5 initial states (37: two chunks of the compiled sweep, the last padded)
    with phases in the monomial runs (CY, iSWAP, S): both sweeps give the oracle's states and
    gradients (params and initial states)."""
    monkeypatch.setattr(compact, "USE_NATIVE", sweep == "compiled")
    monkeypatch.setattr(compact, "NATIVE_MAX_AMPLITUDES", 1 << 20)  # the batch through the compiled sweep too
    rng = np.random.default_rng(9)
    c = _random(rng, ["ry", "rz", "rx", "cy", "iswap", "s", "cx", "ccx"], (5, 6))
    dim = 2**c.n_qubits
    z = rng.normal(size=(bsz, dim)) + 1j * rng.normal(size=(bsz, dim))
    s0 = torch.tensor(z / np.linalg.norm(z, axis=1, keepdims=True), requires_grad=True)
    th = torch.tensor(rng.uniform(-3, 3, c.n_params), requires_grad=True)
    x = torch.tensor(rng.uniform(-3, 3, c.n_inputs))
    v = torch.tensor(rng.normal(size=(bsz, dim)) + 1j * rng.normal(size=(bsz, dim)))
    out = qgm.sim.state(c, th, x, initial_state=s0)
    g_th, g_s0 = torch.autograd.grad((out * v).real.sum(), [th, s0])
    th2, s2 = th.detach().clone().requires_grad_(), s0.detach().clone().requires_grad_()
    ref = _oracle_batch(c, th2, x, s2)
    torch.testing.assert_close(out.detach(), ref.detach(), atol=TOL, rtol=0)
    r_th, r_s0 = torch.autograd.grad((ref * v).real.sum(), [th2, s2])
    torch.testing.assert_close(g_th, r_th, atol=TOL, rtol=0)
    torch.testing.assert_close(g_s0, r_s0, atol=TOL, rtol=0)


def _probs_and_grad(c, dtype):
    th = torch.tensor(np.random.default_rng(0).uniform(-3, 3, c.n_params), requires_grad=True)
    x = torch.full((c.n_inputs,), 0.4)
    p = qgm.sim.probs(c, th, x, dtype=dtype)
    (g,) = torch.autograd.grad((p * torch.arange(p.shape[-1])).sum(), [th])
    return p.detach().double(), g


def test_second_derivatives_match_finite_differences():
    c = hardware_efficient(4, 2)
    th = torch.tensor(np.random.default_rng(2).uniform(-3, 3, c.n_params), requires_grad=True)
    w = torch.arange(16, dtype=torch.float64)

    def grad(t):
        return torch.autograd.grad(qgm.sim.probs(c, t) @ w, [t], create_graph=True)[0]

    g = grad(th)
    (hv,) = torch.autograd.grad(g @ torch.ones_like(g), [th])
    eps = 1e-5
    d = torch.ones_like(th)
    plus, minus = ((th.detach() + sign * eps * d).requires_grad_() for sign in (1, -1))
    fd = (grad(plus).detach() - grad(minus).detach()) @ torch.ones_like(g) / (2 * eps)
    torch.testing.assert_close(hv.sum(), fd, atol=1e-6, rtol=0)
    assert float(hv.abs().sum()) > 1e-3  # the second derivative is not trivially zero


def test_structure_of_a_hardware_efficient_ansatz():
    """A(9, 6): seven stages, six ring permutations (one gather each), rotations in closed form."""
    cp = _cp(hardware_efficient(9, 6, rotations=("ry", "rz"), entangler="ring"))
    assert cp is not None and cp.expansion is not None
    assert cp.n_stages == 7 and len(cp.monos) == 6
    assert all(m.phase is None for m in cp.monos)


def test_not_used_where_it_does_not_apply():
    from qgm.circuits import Circuit, P

    assert _cp(Circuit(3).add("rzz", (0, 1), P("a")).add("ry", 2, P("b"))) is None  # parametrised two-qubit gate
    assert _cp(Circuit(1).add("ry", 0, P("a"))) is None  # one qubit
    assert _cp(hardware_efficient(compact.COMPACT_N + 1, 1)) is None


def _rows_route(monkeypatch):
    """Count the calls that take the per-row sweeps."""
    calls = []
    apply = compact.CompactRows.apply
    monkeypatch.setattr(compact.CompactRows, "apply", lambda *a: calls.append(1) or apply(*a))
    return calls


@pytest.mark.parametrize("shared_params", [False, True])
def test_per_row_angles_match_oracle(shared_params, monkeypatch):
    """A batch of 11 rows (not a whole number of chunks) with its own inputs (and params, or shared
    params), initial states with gradients, phases in the monomial runs: states, probabilities and
    every gradient equal the oracle's row by row (1e-10), on the compiled per-row sweeps."""
    assert native.AVAILABLE, "numba (the 'fast' extra) is part of the test set-up"
    calls = _rows_route(monkeypatch)
    rng = np.random.default_rng(21 if shared_params else 22)
    for _ in range(4):
        c = _random(rng, ["ry", "rz", "rx", "cy", "iswap", "s", "cx", "ccx", "h"], (3, 7))
        bsz, dim = 11, 2**c.n_qubits
        th = torch.tensor(rng.uniform(-3, 3, (1 if shared_params else bsz, c.n_params)), requires_grad=True)
        x = torch.tensor(rng.uniform(-3, 3, (bsz, c.n_inputs)), requires_grad=True)
        z = rng.normal(size=(bsz, dim)) + 1j * rng.normal(size=(bsz, dim))
        s0 = torch.tensor(z / np.linalg.norm(z, axis=1, keepdims=True), requires_grad=True)
        w = torch.tensor(rng.normal(size=(bsz, dim)))
        v = torch.tensor(rng.normal(size=(bsz, dim)) + 1j * rng.normal(size=(bsz, dim)))
        p = qgm.sim.probs(c, th[0] if shared_params else th, x, initial_state=s0)
        s = qgm.sim.state(c, th[0] if shared_params else th, x, initial_state=s0)
        got = _grads((p * w).sum(), [th, x, s0]) + _grads((s * v).real.sum(), [th, x, s0])
        th2, x2, s2 = (t.detach().clone().requires_grad_() for t in (th, x, s0))
        ref = torch.stack([_oracle_batch(c, th2[0 if shared_params else b], x2[b], s2[b : b + 1])[0]
                           for b in range(bsz)])
        torch.testing.assert_close(s.detach(), ref.detach(), atol=TOL, rtol=0)
        torch.testing.assert_close(p.detach(), (ref.real**2 + ref.imag**2).detach(), atol=TOL, rtol=0)
        want = _grads(((ref.real**2 + ref.imag**2) * w).sum(), [th2, x2, s2]) + _grads((ref * v).real.sum(), [th2, x2, s2])
        for g, r in zip(got, want):
            torch.testing.assert_close(g, r, atol=TOL, rtol=0)
    assert len(calls) == 8


def test_per_row_angles_match_the_general_engine(monkeypatch):
    """Per-row angles of A(9, 3) over 45 rows (two chunks, the last padded), complex128 and complex64,
    with and without gradients:
    the per-row sweeps equal the general engine, and a later call before the backward pass of an
    earlier one (reusing the buffers; the general engine's gradient was wrong here before its
    no-grad calls claimed them) leaves that backward pass correct on both."""
    calls = _rows_route(monkeypatch)
    c = hardware_efficient(9, 3)
    th = torch.tensor(np.random.default_rng(4).uniform(-3, 3, (45, c.n_params)), requires_grad=True)
    z = torch.arange(512, dtype=torch.float64)

    def run(dtype):
        p = qgm.sim.probs(c, th, dtype=dtype)
        qgm.sim.probs(c, th.detach().flip(0), dtype=dtype)  # a later call on the same buffers
        (g,) = torch.autograd.grad((p @ z.to(p.dtype)).sum(), [th])
        with torch.no_grad():
            return p.detach().double(), g, qgm.sim.probs(c, th, dtype=dtype).double()

    got = [run(dt) for dt in (torch.complex128, torch.complex64)]
    assert len(calls) == 2
    monkeypatch.setattr(compact, "USE_NATIVE", False)  # per-row angles: the general engine
    want = [run(dt) for dt in (torch.complex128, torch.complex64)]
    assert len(calls) == 2
    for (p, g, p_ng), (p2, g2, _), tol in zip(got, want, (1e-12, 1e-4)):
        torch.testing.assert_close(p, p2, atol=tol, rtol=0)
        torch.testing.assert_close(p_ng, p2, atol=tol, rtol=0)
        torch.testing.assert_close(g, g2, atol=tol * float(g2.abs().max()), rtol=0)


def test_per_row_second_derivatives_match_finite_differences(monkeypatch):
    calls = _rows_route(monkeypatch)
    c = hardware_efficient(4, 2)
    th = torch.tensor(np.random.default_rng(6).uniform(-3, 3, (3, c.n_params)), requires_grad=True)
    w = torch.arange(16, dtype=torch.float64)

    def grad(t):
        return torch.autograd.grad((qgm.sim.probs(c, t) @ w).sum(), [t], create_graph=True)[0]

    g = grad(th)
    (hv,) = torch.autograd.grad(g.sum(), [th])
    eps = 1e-5
    plus, minus = ((th.detach() + sign * eps).requires_grad_() for sign in (1, -1))
    fd = (grad(plus).detach() - grad(minus).detach()).sum() / (2 * eps)
    torch.testing.assert_close(hv.sum(), fd, atol=1e-6, rtol=0)
    assert float(hv.abs().sum()) > 1e-3 and calls
