"""Reused buffers: no aliasing between calls, no state-sized allocations on the hot path."""
import numpy as np
import pytest
import torch
from torch.profiler import ProfilerActivity, profile

import qgm
import qgm.sim.engine as engine
from qgm.circuits import hardware_efficient
from qgm.sim import clear_workspaces
from reference import random_circuit, reference_state_torch


def _grad(c, th, w, method, dtype=torch.complex128):
    t = th.clone().requires_grad_(True)
    (qgm.sim.probs(c, t, diff_method=method, dtype=dtype) @ w).backward()
    return t.grad


def test_returned_states_are_not_overwritten_by_later_calls():
    c = hardware_efficient(5, 2)
    a = torch.rand(c.n_params, dtype=torch.float64)
    s1 = qgm.sim.state(c, a)
    keep = s1.clone()
    qgm.sim.state(c, a + 1)
    assert torch.equal(s1, keep)


def test_two_graphs_of_one_circuit_alive_at_once():
    rng = np.random.default_rng(1)
    for n in (5, 15):  # small ("pair") and large ("rotate") plans
        c = random_circuit(n, 30, rng)
        w = torch.tensor(rng.normal(size=2**n))
        th1 = torch.tensor(rng.uniform(-3, 3, c.n_params), requires_grad=True)
        th2 = torch.tensor(rng.uniform(-3, 3, c.n_params), requires_grad=True)
        l1 = qgm.sim.probs(c, th1, diff_method="backprop") @ w
        l2 = qgm.sim.probs(c, th2, diff_method="backprop") @ w  # overwrites the first call's saved states
        l1.backward()
        l2.backward()
        torch.testing.assert_close(th1.grad, _grad(c, th1.detach(), w, "adjoint"), atol=1e-12, rtol=0)
        torch.testing.assert_close(th2.grad, _grad(c, th2.detach(), w, "adjoint"), atol=1e-12, rtol=0)


def test_clear_workspaces_and_complex64():
    c = hardware_efficient(4, 2)
    th = torch.rand(c.n_params, dtype=torch.float32)
    w = torch.rand(16, dtype=torch.float32)
    g1 = _grad(c, th, w, "backprop", torch.complex64)
    clear_workspaces()
    g2 = _grad(c, th.double(), w.double(), "adjoint")
    torch.testing.assert_close(g1.double(), g2, atol=1e-5, rtol=0)


def _large_allocations(f, size: int) -> list[int]:
    """Sizes of the allocations of at least ``size`` bytes made by one (warm) call of ``f``."""
    f()
    with profile(activities=[ProfilerActivity.CPU], profile_memory=True) as prof:
        f()
    return [e.cpu_memory_usage for e in prof.events()
            if e.name in ("aten::empty", "aten::empty_strided") and e.cpu_memory_usage >= size]


def test_no_state_sized_allocations_on_the_hot_path():
    # large-n plan: buffers are reused, so a call allocates what it returns and nothing else of
    # that size (the forward: the state; forward + backward of probs: the probabilities, which the
    # engine returns without the state, and the gradient that reaches the final state)
    n = 15
    c = hardware_efficient(n, 2, rotations=("ry", "rz"), entangler="ring")
    th = torch.rand(c.n_params, dtype=torch.float64, requires_grad=True)
    state = 16 << n

    def forward():
        with torch.no_grad():
            qgm.sim.state(c, th)

    def step(method):
        th.grad = None
        qgm.sim.probs(c, th, diff_method=method).sum().backward()

    assert _large_allocations(forward, state // 4) == [state]
    for method in ("backprop", "adjoint"):
        assert sorted(_large_allocations(lambda m=method: step(m), state // 4)) == [state // 2, state]


@pytest.mark.parametrize("method", ["backprop", "adjoint"])
def test_initial_zero_state_written_into_a_buffer(method, monkeypatch):
    # at large n |0…0⟩ is not cached but written into the buffer the first kernel reads
    monkeypatch.setattr(engine, "ZERO_CACHE_MAX_N", 0)
    rng = np.random.default_rng(4)
    for n in (3, 9, 15):
        c = random_circuit(n, 20, rng, inputs=1)
        th = torch.tensor(rng.uniform(-3, 3, c.n_params), requires_grad=True)
        x = torch.tensor(rng.uniform(-3, 3, c.n_inputs))
        ref = reference_state_torch(c, th, x)
        (g_ref,) = torch.autograd.grad(ref.real.sum(), th)
        s = qgm.sim.state(c, th, x, diff_method=method)
        torch.testing.assert_close(s, ref, atol=1e-12, rtol=0)
        (g,) = torch.autograd.grad(s.real.sum(), th)
        torch.testing.assert_close(g, g_ref, atol=1e-10, rtol=0)


def test_refuses_work_that_cannot_fit():
    with pytest.raises(qgm.errors.ResourceError, match=r"n_qubits=36 .* GiB.*complex64"):
        qgm.sim.probs(hardware_efficient(36, 1), torch.zeros(144, dtype=torch.float64))


@pytest.mark.parametrize("n", [1020, 1100, 5000])
def test_memory_refusal_at_astronomical_sizes(n):
    # the memory check counts bytes in integers: past 2**1024 bytes a float division would overflow
    c = qgm.Circuit(n).add("ry", 0, qgm.circuits.P("t"))
    th = torch.zeros(1, dtype=torch.float64, requires_grad=True)
    for call in (lambda: qgm.sim.state(c, th), lambda: qgm.sim.probs(c, th), lambda: qgm.sim.sample(c, th, shots=2),
                 lambda: qgm.sim.noisy_probs(c, th, noise=None)):
        with pytest.raises(qgm.errors.ResourceError, match=rf"n_qubits={n}.*2\^\d+ GiB"):
            call()


def test_gib_text_is_exact_integer_arithmetic():
    from qgm.sim.validate import gib

    assert gib(3 * 2**29) == "1.5 GiB"
    assert gib(2**40) == "1024.0 GiB"
    assert gib(2**1030) == "2^1000 GiB"
    assert gib(0) == "0.0 GiB"
