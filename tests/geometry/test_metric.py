"""Fubini–Study metric: closed forms, finite differences on an independent dense
simulator, block structure, batching, gate derivative rules."""
from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from qgm.circuits import GATES, Circuit, In, P, gate_matrix, hardware_efficient
from qgm.errors import CircuitError, ParameterError
from qgm.geometry import fubini_study, gate_generator, metric_tensor, parametrized_layers, quantum_fisher, state_jacobian
from qgm.geometry.jacobian import STATE_SHIFT_RULES
from reference import random_circuit, reference_state

APPROX = [None, "block-diag", "diag"]


def fd_jacobian(circuit: Circuit, theta: np.ndarray, x=None, h: float = 1e-5) -> np.ndarray:
    """Central finite differences of the dense oracle's state: ``(2**n, P)``."""
    cols = []
    for s in range(circuit.n_params):
        e = np.zeros_like(theta)
        e[s] = h
        cols.append((reference_state(circuit, theta + e, x) - reference_state(circuit, theta - e, x)) / (2 * h))
    return np.stack(cols, 1)


def fd_metric(circuit: Circuit, theta: np.ndarray, x=None) -> np.ndarray:
    psi = reference_state(circuit, theta, x)
    j = fd_jacobian(circuit, theta, x)
    a = psi.conj() @ j
    return (j.conj().T @ j).real - np.outer(a.conj(), a).real


@pytest.mark.parametrize("approx", APPROX)
def test_bloch_sphere_closed_form(approx):
    c = Circuit(1).ry(0, P("theta")).rz(0, P("phi"))  # |ψ⟩ = RZ(φ) RY(θ)|0⟩
    theta = torch.tensor([[0.3, 1.1], [1.9, -0.4], [math.pi / 2, 2.0]], dtype=torch.float64)
    g = metric_tensor(c, theta, approx)
    want = torch.zeros(3, 2, 2, dtype=torch.float64)
    want[:, 0, 0] = 0.25
    want[:, 1, 1] = torch.sin(theta[:, 0]) ** 2 / 4
    torch.testing.assert_close(g, want, atol=1e-14, rtol=0)


def test_product_state_metric_is_diagonal_and_known():
    rng = np.random.default_rng(0)
    n = 3
    c = Circuit(n)
    for q in range(n):
        c = c.rx(q).rz(q)  # slots: rx_0, rz_0, rx_1, ...
    theta = torch.tensor(rng.uniform(-3, 3, c.n_params))
    want = torch.zeros(2 * n, dtype=torch.float64)
    want[0::2] = 0.25
    want[1::2] = torch.sin(theta[0::2]) ** 2 / 4
    for approx in APPROX:
        torch.testing.assert_close(metric_tensor(c, theta, approx), torch.diag(want), atol=1e-14, rtol=0)


@pytest.mark.parametrize("seed", range(3))
def test_full_metric_matches_finite_differences_of_dense_oracle(seed):
    # random catalogue circuits: shared slots, affine angle expressions, u3, controlled gates, unitaries
    rng = np.random.default_rng(seed)
    for _ in range(4):
        c = random_circuit(3, 18, rng, inputs=1)
        th, x = rng.uniform(-3, 3, c.n_params), rng.uniform(-3, 3, c.n_inputs)
        got = metric_tensor(c, torch.tensor(th), inputs=torch.tensor(x)).numpy()
        np.testing.assert_allclose(got, fd_metric(c, th, x), atol=1e-8)


def test_state_jacobian_matches_finite_differences():
    rng = np.random.default_rng(7)
    c = random_circuit(3, 20, rng)
    th = rng.uniform(-3, 3, c.n_params)
    psi, jac = state_jacobian(c, torch.tensor(th))
    np.testing.assert_allclose(psi.numpy(), reference_state(c, th), atol=1e-12)
    np.testing.assert_allclose(jac.numpy(), fd_jacobian(c, th), atol=1e-8)


def test_fubini_study_formula_and_qfi():
    rng = np.random.default_rng(1)
    c = hardware_efficient(3, 2)
    th = torch.tensor(rng.uniform(-3, 3, c.n_params))
    psi, jac = state_jacobian(c, th)
    g = metric_tensor(c, th)
    torch.testing.assert_close(fubini_study(psi, jac), g)
    torch.testing.assert_close(quantum_fisher(c, th, "block-diag"), 4 * metric_tensor(c, th, "block-diag"))
    assert torch.allclose(g, g.T, atol=0) and torch.linalg.eigvalsh(g).min() > -1e-12


def test_metric_vanishes_along_global_phase():
    # p(a)·X·p(a)·X = e^{ia}·I: slot "a" only changes the global phase
    c = Circuit(2).ry(0).cx(0, 1).p(1, P("a")).x(1).p(1, P("a")).x(1).rx(1)
    th = torch.tensor([0.7, 1.3, -0.4], dtype=torch.float64)
    a = c.param_names.index("a")
    g = metric_tensor(c, th)
    assert torch.all(g[a].abs() < 1e-14) and torch.all(g[:, a].abs() < 1e-14)


def _one_slot_per_gate(circuit: Circuit) -> bool:
    return all(len(op.params) == 1 for op in circuit.ops if op.params)


@pytest.mark.parametrize("layering", ["pennylane", "depth"])
@pytest.mark.parametrize("seed", range(3))
def test_block_diag_reproduces_the_full_metric_blocks(seed, layering):
    rng = np.random.default_rng(seed)
    gates = ["rx", "ry", "rz", "p", "crx", "cry", "crz", "rxx", "ryy", "rzz", "cx", "cz", "h"]
    circuits = [hardware_efficient(3, 3), random_circuit(3, 25, rng, gates=gates)]
    for c in circuits:
        # fresh slot per gate so that slot blocks are layer blocks
        fresh = Circuit(3)
        for op in c.ops:
            fresh = fresh.add(op.name, op.wires, *([None] * len(op.params)))
        th = torch.tensor(rng.uniform(-3, 3, fresh.n_params))
        full, block, diag = (metric_tensor(fresh, th, a, layering=layering) for a in APPROX)
        mask = torch.zeros_like(full, dtype=torch.bool)
        for layer in parametrized_layers(fresh, layering):
            idx = torch.tensor([g.slot for g in layer.generators])
            mask[idx[:, None], idx[None, :]] = True
        torch.testing.assert_close(block[mask], full[mask], atol=1e-13, rtol=0)
        assert torch.all(block[~mask] == 0)
        torch.testing.assert_close(diag, torch.diag(torch.diagonal(full)), atol=1e-13, rtol=0)


def test_layerings_on_hardware_efficient():
    c = hardware_efficient(4, 2)  # RY0 RZ0 RY1 RZ1 … per rotation block, CNOT ring between blocks
    greedy = parametrized_layers(c)  # PennyLane: greedy in listing order
    assert [[g.slot for g in layer.generators] for layer in greedy[:5]] == [[0], [1, 2], [3, 4], [5, 6], [7]]
    assert [len(layer.generators) for layer in greedy] == [1, 2, 2, 2, 1] * 3
    depth = parametrized_layers(c, "depth")  # fewest layers: all RY, then all RZ, per block
    assert [len(layer.generators) for layer in depth] == [4] * 6
    assert [g.slot for g in depth[0].generators] == [0, 2, 4, 6]
    assert [g.slot for g in depth[1].generators] == [1, 3, 5, 7]
    assert len(depth[0].prefix) == 0 and len(depth[1].prefix) == 4 and len(depth[2].prefix) == 8 + 4
    with pytest.raises(ParameterError, match="layering"):
        parametrized_layers(c, "greedy")


def test_shared_slot_chain_rule_for_approximations():
    # slot "a" appears twice (scaled); approximations map occurrences to slots by A^T g A
    c = Circuit(2).ry(0, P("a")).ry(1, 2 * P("a") + 0.3).cx(0, 1).rx(1, P("b"))
    th = torch.tensor([0.4, 1.2], dtype=torch.float64)
    free = Circuit(2).ry(0, P("u")).ry(1, P("v")).cx(0, 1).rx(1, P("b"))
    gf = metric_tensor(free, torch.tensor([0.4, 2 * 0.4 + 0.3, 1.2], dtype=torch.float64), "block-diag")
    a = torch.tensor([[1.0, 0.0], [2.0, 0.0], [0.0, 1.0]], dtype=torch.float64)
    torch.testing.assert_close(metric_tensor(c, th, "block-diag"), a.T @ gf @ a)


def test_batching_and_inputs_broadcast():
    c = Circuit(2).ry(0).rx(1, In("x")).cry(0, 1).rz(1)
    th = torch.rand(2, 3, c.n_params, dtype=torch.float64) * 6
    x = torch.rand(3, 1, dtype=torch.float64) * 6
    for approx in APPROX:
        g = metric_tensor(c, th, approx, inputs=x)
        assert g.shape == (2, 3, 3, 3)
        for i in range(2):
            for j in range(3):
                bound = c.bind(x=float(x[j, 0]))
                torch.testing.assert_close(g[i, j], metric_tensor(bound, th[i, j], approx))


def test_complex64_precision():
    c = hardware_efficient(3, 2)
    th = torch.rand(c.n_params, dtype=torch.float64) * 6
    g32 = metric_tensor(c, th.float(), dtype=torch.complex64)
    assert g32.dtype == torch.float32
    torch.testing.assert_close(g32.double(), metric_tensor(c, th), atol=1e-5, rtol=0)


def test_errors():
    c = Circuit(1).ry(0)
    with pytest.raises(ParameterError, match="approx"):
        metric_tensor(c, torch.zeros(1), "full")
    with pytest.raises(ParameterError, match="params"):
        metric_tensor(c, torch.zeros(2))
    with pytest.raises(ParameterError, match="circuit"):
        metric_tensor("not a circuit", torch.zeros(1))
    with pytest.raises(CircuitError, match="no single generator"):
        gate_generator("u3")


PARAM_GATES = sorted(name for name, g in GATES.items() if g.n_params)


@pytest.mark.parametrize("name", PARAM_GATES)
def test_state_shift_rule_is_the_exact_derivative(name):
    g = GATES[name]
    assert name in STATE_SHIFT_RULES, f"gate {name} needs a state derivative rule"
    phi = torch.tensor([0.37, -1.21, 2.05][: g.n_params], dtype=torch.float64)
    jac = torch.autograd.functional.jacobian(
        lambda t: torch.view_as_real(gate_matrix(name, t)), phi
    )  # (d, d, 2, n_params)
    for j, rule in enumerate(STATE_SHIFT_RULES[name]):
        want = torch.complex(jac[..., 0, j], jac[..., 1, j])
        got = 0
        for s, coef in rule:
            shifted = phi.clone()
            shifted[j] += s
            got = got + coef * gate_matrix(name, shifted)
        torch.testing.assert_close(got, want, atol=1e-13, rtol=0)


@pytest.mark.parametrize("name", [n for n in PARAM_GATES if GATES[n].n_params == 1])
def test_generator_exponentiates_to_the_gate(name):
    k = gate_generator(name)
    assert torch.allclose(k, k.conj().T, atol=0)
    phi = 0.83
    u = torch.linalg.matrix_exp(-1j * phi * k)
    torch.testing.assert_close(u, gate_matrix(name, torch.tensor([phi], dtype=torch.float64)), atol=1e-13, rtol=0)
