"""The leading single-qubit layer on |0…0⟩ as a product state (qgm.sim.head): the split is exact,
and differentiated calls through it give the whole circuit's values and gradients."""
import numpy as np
import pytest
import torch

import qgm
import qgm.sim.engine as engine
import qgm.sim.head as head
from qgm.circuits import Circuit, In, P
from qgm.circuits.ansatz import hardware_efficient
from reference import random_circuit


def _with_head(n, rng, gates):
    """A random circuit behind a leading layer of ``gates`` on every wire (angles from params and
    one input), so the split has a head on all wires."""
    c = Circuit(n)
    for w in range(n):
        for g in gates:
            if g == "u3":
                c = c.add("u3", w, P(f"u{w}a"), In("x") * 0.5, P(f"u{w}c"))
            elif g in ("rx", "ry", "rz", "p"):
                c = c.add(g, w, P(f"h{w}{g}"))
            else:
                c = c.add(g, w)
    body = random_circuit(n, 30, rng, gates=["ry", "rz", "cx", "cz", "h", "swap", "rzz"], inputs=1)
    return Circuit(n, c.ops + body.ops)


def test_split_recombines_to_the_circuit():
    rng = np.random.default_rng(1)
    c = _with_head(5, rng, ["ry", "rz"])
    h, t = head.split_head(c)
    assert len(h) >= 10 and len(h) + len(t) == len(c)
    assert all(len(op.wires) == 1 for op in h.ops)
    th = torch.tensor(rng.uniform(-3, 3, c.n_params))
    x = torch.tensor(rng.uniform(-3, 3, c.n_inputs))
    whole = qgm.sim.state(c, th, x)
    torch.testing.assert_close(qgm.sim.state(t, th, x, initial_state=qgm.sim.state(h, th, x)), whole, atol=1e-12, rtol=0)
    prog_h, _ = head.head_programs(c)
    torch.testing.assert_close(head.head_state(prog_h, th[None], x[None], torch.complex128)[0],
                               qgm.sim.state(h, th, x), atol=1e-12, rtol=0)
    assert head.split_head(Circuit(3).add("cx", (0, 1))) is None  # no head
    assert head.split_head(Circuit(3).add("ry", 0, P("a"))) is None  # no tail


@pytest.mark.parametrize("gates", [["ry", "rz"], ["h", "rx", "p"], ["u3"]])
def test_gradients_through_the_head_equal_the_whole_circuit(gates, monkeypatch):
    """Probabilities and gradients (params and inputs) with the head as a product state equal the
    whole circuit's on the general engine (1e-10), for rotations, fixed and other single-qubit kinds."""
    rng = np.random.default_rng(len(gates))
    n = 12
    c = _with_head(n, rng, gates)
    th = torch.tensor(rng.uniform(-3, 3, c.n_params), requires_grad=True)
    x = torch.tensor(rng.uniform(-3, 3, c.n_inputs), requires_grad=True)
    w = torch.tensor(rng.normal(size=2**n))
    calls = []
    state = head.head_state
    monkeypatch.setattr(engine, "head_state", lambda *a: calls.append(1) or state(*a))

    def run(min_n):
        monkeypatch.setattr(engine, "HEAD_MIN_N", min_n)
        p = qgm.sim.probs(c, th, x, diff_method="backprop")
        return [p.detach()] + list(torch.autograd.grad(p @ w, [th, x]))

    split, whole = run(n), run(n + 1)
    assert calls == [1]  # the split ran once (the second run, n + 1 > n, did not)
    for a, b in zip(split, whole):
        torch.testing.assert_close(a, b, atol=1e-10, rtol=0)


def test_used_only_where_it_applies(monkeypatch):
    """Not for adjoint, batches, initial states or small registers."""
    calls = []
    monkeypatch.setattr(engine, "head_state", lambda *a: calls.append(1))
    monkeypatch.setattr(engine, "HEAD_MIN_N", 6)
    c = hardware_efficient(6, 2)
    th = torch.zeros(c.n_params, requires_grad=True)
    qgm.sim.probs(c, th, diff_method="adjoint")
    qgm.sim.probs(c, torch.zeros(3, c.n_params, requires_grad=True), diff_method="backprop")
    qgm.sim.probs(c, th, diff_method="backprop", initial_state=torch.eye(64, dtype=torch.complex128)[5])
    with torch.no_grad():
        qgm.sim.probs(c, th, diff_method="backprop")
    monkeypatch.setattr(engine, "HEAD_MIN_N", 7)
    qgm.sim.probs(c, th, diff_method="backprop")
    assert calls == []
