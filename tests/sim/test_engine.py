"""Engine correctness: independent dense oracle, gradients, batching, sampling, errors."""
from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

import qgm
from qgm.circuits import GATES, Circuit, P, hardware_efficient
from qgm.errors import CircuitError, ParameterError, ResourceError
from reference import random_circuit, reference_state


@pytest.mark.parametrize("seed", range(4))
def test_state_matches_dense_oracle(seed):
    rng = np.random.default_rng(seed)
    for _ in range(40):
        n = int(rng.integers(1, 7))
        c = random_circuit(n, int(rng.integers(1, 30)), rng, inputs=2)
        th, x = rng.uniform(-3, 3, c.n_params), rng.uniform(-3, 3, c.n_inputs)
        got = qgm.sim.state(c, torch.tensor(th), torch.tensor(x)).numpy()
        np.testing.assert_allclose(got, reference_state(c, th, x), atol=1e-12)


def test_complex64_opt_in():
    rng = np.random.default_rng(5)
    c = random_circuit(4, 20, rng)
    th = rng.uniform(-3, 3, c.n_params)
    s = qgm.sim.state(c, torch.tensor(th, dtype=torch.float32), dtype=torch.complex64)
    assert s.dtype == torch.complex64
    np.testing.assert_allclose(s.numpy(), reference_state(c, th), atol=1e-5)


@pytest.mark.parametrize("seed", range(3))
def test_three_diff_methods_agree(seed):
    rng = np.random.default_rng(100 + seed)
    for _ in range(15):
        n = int(rng.integers(1, 6))
        c = random_circuit(n, int(rng.integers(2, 20)), rng, inputs=2)
        if c.n_params == 0:
            continue
        th0, x0 = torch.tensor(rng.uniform(-3, 3, c.n_params)), torch.tensor(rng.uniform(-3, 3, c.n_inputs))
        w = torch.tensor(rng.normal(size=2**n))
        grads = {}
        for m in ["backprop", "adjoint", "parameter-shift"]:
            th, x = th0.clone().requires_grad_(), x0.clone().requires_grad_()
            (qgm.sim.probs(c, th, x, diff_method=m) @ w).backward()
            xg = x.grad if x.grad is not None else torch.zeros_like(x)
            grads[m] = torch.cat([th.grad, xg])
        torch.testing.assert_close(grads["adjoint"], grads["backprop"], atol=1e-8, rtol=0)
        torch.testing.assert_close(grads["parameter-shift"], grads["backprop"], atol=1e-8, rtol=0)


def test_gradient_matches_finite_differences():
    rng = np.random.default_rng(7)
    c = random_circuit(3, 15, rng)
    th = torch.tensor(rng.uniform(-3, 3, c.n_params), requires_grad=True)
    f = lambda t: qgm.sim.expval(c, t, [(0.7, "ZXI"), (-0.2, "YYZ")])  # noqa: E731
    f(th).backward()
    eps = 1e-6
    basis = torch.eye(c.n_params, dtype=torch.float64)
    fd = torch.stack([(f(th.detach() + eps * e) - f(th.detach() - eps * e)) / (2 * eps) for e in basis])
    torch.testing.assert_close(th.grad, fd, atol=1e-7, rtol=0)


def test_expval_all_methods_and_dense_observable():
    rng = np.random.default_rng(8)
    c = random_circuit(3, 12, rng)
    th = rng.uniform(-3, 3, c.n_params)
    psi = reference_state(c, th)
    pauli = {"I": np.eye(2), "X": np.array([[0, 1], [1, 0]]), "Y": np.array([[0, -1j], [1j, 0]]), "Z": np.diag([1, -1])}
    obs = [(0.5, "XYZ"), (1.5, "ZZI"), (-1.0, "IYX")]
    dense = sum(c_ * np.kron(np.kron(pauli[s[0]], pauli[s[1]]), pauli[s[2]]) for c_, s in obs)
    want = float(np.real(psi.conj() @ dense @ psi))
    for m in ["backprop", "adjoint", "parameter-shift"]:
        assert abs(qgm.sim.expval(c, torch.tensor(th), obs, diff_method=m).item() - want) < 1e-12


def test_parameter_shift_with_shots_is_unbiased():
    c = Circuit(1).ry(0, P("a"))
    a = torch.tensor([0.7], requires_grad=True)
    gen = torch.Generator().manual_seed(0)
    grads = []
    for _ in range(200):
        a.grad = None
        qgm.sim.expval(c, a, "Z", shots=200, generator=gen).backward()
        grads.append(a.grad.item())
    # d<Z>/da = -sin(a); standard error of the mean of 200 estimates
    se = np.std(grads) / math.sqrt(len(grads))
    assert abs(np.mean(grads) + math.sin(0.7)) < 4 * se


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 10_000), b1=st.integers(1, 3), b2=st.integers(1, 3))
def test_batch_equals_loop(seed, b1, b2):
    rng = np.random.default_rng(seed)
    c = random_circuit(3, 12, rng, inputs=2)
    th = torch.tensor(rng.uniform(-3, 3, (b1, 1, c.n_params)))
    x = torch.tensor(rng.uniform(-3, 3, (b2, c.n_inputs)))
    s = qgm.sim.state(c, th, x)
    assert s.shape == (b1, b2, 8)
    for i in range(b1):
        for j in range(b2):
            torch.testing.assert_close(s[i, j], qgm.sim.state(c, th[i, 0], x[j]), atol=1e-13, rtol=0)


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 10_000), n=st.integers(1, 6))
def test_normalisation(seed, n):
    rng = np.random.default_rng(seed)
    c = random_circuit(n, 15, rng)
    p = qgm.sim.probs(c, torch.tensor(rng.uniform(-3, 3, c.n_params)))
    assert abs(p.sum().item() - 1) < 1e-12 and bool((p >= 0).all())


def test_marginal_probs_order():
    rng = np.random.default_rng(3)
    c = random_circuit(4, 20, rng)
    th = torch.tensor(rng.uniform(-3, 3, c.n_params))
    full = qgm.sim.probs(c, th).reshape(2, 2, 2, 2)
    m = qgm.sim.probs(c, th, wires=[2, 0])
    torch.testing.assert_close(m.reshape(2, 2), full.sum(dim=(1, 3)).T)


def test_sampling_matches_probabilities_chi2():
    c = hardware_efficient(4, 2)
    th = torch.tensor(np.random.default_rng(0).uniform(-3, 3, c.n_params))
    p = qgm.sim.probs(c, th).numpy()
    gen = torch.Generator().manual_seed(1234)
    s = qgm.sim.sample(c, th, 20000, generator=gen)
    assert s.dtype == torch.int64 and s.shape == (20000,)
    counts = np.bincount(s.numpy(), minlength=16)
    keep = p * 20000 > 5
    chi2 = ((counts[keep] - 20000 * p[keep]) ** 2 / (20000 * p[keep])).sum()
    assert chi2 < stats.chi2.ppf(0.999, keep.sum() - 1)
    # subset of wires, batched, and seeded reproducibility
    s2 = qgm.sim.sample(c, th.expand(3, -1), 100, wires=[1, 3], generator=torch.Generator().manual_seed(5))
    s3 = qgm.sim.sample(c, th.expand(3, -1), 100, wires=[1, 3], generator=torch.Generator().manual_seed(5))
    assert s2.shape == (3, 100) and int(s2.max()) < 4 and torch.equal(s2, s3)


def test_ghz_and_known_states():
    c = Circuit(3).h(0).cnot(0, 1).cnot(1, 2)
    p = qgm.sim.probs(c)
    torch.testing.assert_close(p, torch.tensor([0.5, 0, 0, 0, 0, 0, 0, 0.5], dtype=torch.float64))
    # RY(theta) on wire 1 of 2: wire 0 is the most significant bit
    c2 = Circuit(2).ry(1, P("t"))
    p2 = qgm.sim.probs(c2, torch.tensor([math.pi / 3]))
    expected = torch.tensor([math.cos(math.pi / 6) ** 2, math.sin(math.pi / 6) ** 2, 0, 0], dtype=torch.float64)
    torch.testing.assert_close(p2, expected)


def test_bad_input_errors():
    c = hardware_efficient(2, 1)
    with pytest.raises(ParameterError, match=r"params: expected shape \(\.\.\., 8\)"):
        qgm.sim.state(c, torch.zeros(7, dtype=torch.float64))
    with pytest.raises(ParameterError, match="real floating"):
        qgm.sim.state(c, torch.zeros(8, dtype=torch.int64))
    with pytest.raises(ParameterError, match="non-finite"):
        qgm.sim.state(c, torch.tensor([0.0] * 7 + [float("nan")]))
    with pytest.raises(ParameterError, match="dtype"):
        qgm.sim.state(c, torch.zeros(8), dtype=torch.float64)
    with pytest.raises(ParameterError, match="parameter-shift"):
        qgm.sim.state(c, torch.zeros(8), diff_method="parameter-shift")
    with pytest.raises(ParameterError, match="shots"):
        qgm.sim.probs(c, torch.zeros(8, requires_grad=True), shots=10, diff_method="backprop")
    with pytest.raises(CircuitError, match="out of range"):
        Circuit(2).cnot(0, 2)
    with pytest.raises(CircuitError, match="duplicate wires"):
        Circuit(2).cnot(1, 1)
    with pytest.raises(ResourceError, match="GiB"):
        qgm.sim.state(Circuit(40).h(0))


def test_gate_catalogue_is_complete():
    want = {"id", "x", "y", "z", "h", "s", "sdg", "t", "tdg", "sx", "rx", "ry", "rz", "p", "u3", "cx", "cy",
            "cz", "swap", "iswap", "crx", "cry", "crz", "rxx", "ryy", "rzz", "ccx"}
    assert want <= set(GATES)


@pytest.mark.parametrize("n", [3, 14])
@pytest.mark.parametrize("per_row", [False, True])
@pytest.mark.parametrize("state_batch", [(3,), (1,), ()])
def test_parameter_shift_with_batched_initial_state(n, per_row, state_batch):
    # regression: the previous engine broadcast shifted angle rows against a batch of initial states
    # in its kernels (a shape error, or wrong numbers for a single state with shared angles)
    rng = np.random.default_rng(n)
    c = random_circuit(n, 12, rng, inputs=1)
    psi = torch.tensor(rng.normal(size=(*state_batch, 2**n)) + 1j * rng.normal(size=(*state_batch, 2**n)))
    psi = psi / psi.norm(dim=-1, keepdim=True)
    shape = (3, c.n_params) if per_row else (c.n_params,)
    th = torch.tensor(rng.uniform(-3, 3, shape), requires_grad=True)
    x = torch.tensor(rng.uniform(-3, 3, c.n_inputs))
    obs = "Z" + "X" + "I" * (n - 2)
    w = torch.tensor(rng.normal(size=2**n))
    grads = {}
    for method in ("backprop", "adjoint", "parameter-shift"):
        p = qgm.sim.probs(c, th, x, initial_state=psi, diff_method=method)
        e = qgm.sim.expval(c, th, obs, x, initial_state=psi, diff_method=method)
        grads[method] = torch.autograd.grad((p * w).sum() + (e * torch.arange(1, e.numel() + 1)).sum(), th)[0]
    torch.testing.assert_close(grads["parameter-shift"], grads["backprop"], atol=1e-10, rtol=0)
    torch.testing.assert_close(grads["adjoint"], grads["backprop"], atol=1e-10, rtol=0)
    est = qgm.sim.expval(c, th, obs, x, initial_state=psi, shots=50, generator=torch.Generator().manual_seed(0))
    (g,) = torch.autograd.grad(est.sum(), th)  # sampled estimates run through the same shifted batch
    assert g.shape == th.shape and torch.isfinite(g).all()


def test_parameter_shift_refuses_a_differentiated_initial_state():
    c = hardware_efficient(2, 1)
    psi = torch.tensor([[1, 0, 0, 0]], dtype=torch.complex128, requires_grad=True)
    th = torch.zeros(c.n_params, dtype=torch.float64, requires_grad=True)
    with pytest.raises(ParameterError, match="initial_state requires grad"):
        qgm.sim.expval(c, th, "ZZ", initial_state=psi, diff_method="parameter-shift")
    with pytest.raises(ParameterError, match="initial_state requires grad"):
        qgm.sim.probs(c, th, initial_state=psi, shots=10)
    (g,) = torch.autograd.grad(qgm.sim.expval(c, th, "ZZ", initial_state=psi).sum(), psi)  # auto: exact autograd
    assert g.shape == psi.shape
