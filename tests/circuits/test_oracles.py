"""Conditions and gate-level oracles: masks of every condition form, disjoint cube covers,
ancilla-free multi-controlled gates against their exact matrices, the amplified circuit
against the vector iterates of qgm.sim.amplify, and its OpenQASM export run in Qiskit Aer."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from qgm import sim
from qgm.circuits import Circuit, hardware_efficient
from qgm.circuits.conditions import MAX_FUNCTION_BITS, Condition, as_condition
from qgm.circuits.oracles import amplified_circuit, mcphase, mcx, mcz, phase_oracle, zero_reflection
from qgm.errors import ParameterError, QGMError, ResourceError
from qgm.sim.amplify import Amplifier, fixed_point_schedule, grover_schedule

STDGATES = {"x", "h", "p", "cx", "ccx"}


def unitary(c: Circuit) -> np.ndarray:
    """Full matrix ``(2**n, 2**n)`` of a parameter-free circuit (engine on every basis state)."""
    n = c.n_qubits
    basis = torch.eye(2**n, dtype=torch.complex128)
    return sim.state(c, torch.zeros(2**n, 0, dtype=torch.float64), initial_state=basis).numpy().T


def bit(x: np.ndarray, wire: int, n: int) -> np.ndarray:
    return (x >> (n - 1 - wire)) & 1


def same_up_to_phase(a: np.ndarray, b: np.ndarray, tol: float = 1e-10) -> bool:
    k = np.unravel_index(np.argmax(abs(b)), b.shape)
    phase = a[k] / b[k]
    return abs(abs(phase) - 1) < tol and np.allclose(a, phase * b, atol=tol)


# -- conditions ------------------------------------------------------------------------------------


def test_every_condition_form_gives_the_same_mask():
    n = 5
    x = np.arange(2**n)
    want = (bit(x, 0, n) == 1) & (bit(x, 4, n) == 0)
    forms = [
        "x0=1,x4=0", " x0=1  x4=0 ", {0: 1, 4: 0}, {"x0": True, "x4": 0}, list(np.flatnonzero(want)),
        torch.from_numpy(np.flatnonzero(want)), want, torch.from_numpy(want),
        lambda bits: (bits[:, 0] == 1) & (bits[:, 4] == 0), lambda bits: (bits[:, 0] * (1 - bits[:, 4])).numpy(),
    ]
    for form in forms:
        cond = as_condition(form, n)
        assert np.array_equal(cond.mask.numpy(), want), form
        assert cond.n_accepted == 8
    fixed = as_condition("x4=0,x0=1", n)
    assert fixed.fixed == {0: 1, 4: 0} and fixed.description == "x0=1,x4=0"
    assert as_condition(fixed, n) is fixed
    assert as_condition({}, 3).mask.all() and as_condition([], 3).n_accepted == 0


def test_accepts_and_probability():
    cond = as_condition([1, 6], 3)
    assert cond.accepts(torch.tensor([0, 1, 6, 7])).tolist() == [False, True, True, False]
    p = torch.arange(8, dtype=torch.float64) / 28
    assert cond.probability(p) == pytest.approx(7 / 28, abs=1e-15)


@pytest.mark.parametrize("bad, fix", [
    ("x0=2", "x0=1,x4=0"), ("x9=1", "x0..x4"), ("y0=1", "x0=1,x4=0"), ("x1=1,x1=0", "once"), ("", "x0=1"),
    ({7: 1}, "x0..x4"), ({0: 3}, "0 or 1"), ([0.5], "basis indices"), ([40], "0..31"),
    (np.ones(8, dtype=bool), "shape (32,)"), (3.0, "predicate"),
    (lambda bits: bits[:, 0], None), (lambda bits: bits[:4, 0] == 1, "32 booleans"), (lambda bits: bits[:, 0] * 2, "0/1"),
])
def test_bad_conditions_are_one_line_errors(bad, fix):
    if fix is None:  # a 0/1 integer predicate is fine
        assert as_condition(bad, 5).n_accepted == 16
        return
    with pytest.raises(QGMError) as info:
        as_condition(bad, 5)
    assert "\n" not in str(info.value) and fix in str(info.value)


def test_sizes_are_refused_before_evaluating():
    calls = []
    with pytest.raises(ResourceError, match="n <= 20"):
        as_condition(lambda bits: calls.append(1), MAX_FUNCTION_BITS + 1)
    assert not calls
    with pytest.raises(ResourceError):
        as_condition({0: 1}, 40)
    with pytest.raises(ParameterError):
        as_condition({0: 1}, 0)


@pytest.mark.parametrize("seed", range(6))
def test_cubes_are_a_disjoint_cover(seed):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(1, 8))
    mask = rng.random(2**n) < rng.uniform(0.05, 0.95)
    cubes = Condition(n, torch.from_numpy(mask), "random").cubes()
    x = np.arange(2**n)
    hits = sum(np.all([bit(x, w, n) == b for w, b in cube.items()], axis=0) if cube else np.ones(2**n, bool)
               for cube in cubes)
    assert np.array_equal(np.asarray(hits, dtype=int) if cubes else np.zeros(2**n, int), mask.astype(int))


def test_cubes_of_fixed_bits_given_as_a_mask_collapse_to_one():
    mask = as_condition("x1=1,x4=0", 6).mask
    assert Condition(6, mask, "m").cubes() == [{1: 1, 4: 0}]
    assert Condition(3, torch.ones(8, dtype=torch.bool), "all").cubes() == [{}]
    assert Condition(3, torch.zeros(8, dtype=torch.bool), "none").cubes() == []


# -- multi-controlled gates ------------------------------------------------------------------------


@pytest.mark.parametrize("n", range(1, 7))
def test_mcx_is_the_controlled_flip_for_every_size_and_wire_order(n):
    rng = np.random.default_rng(n)
    x = np.arange(2**n)
    for m in range(n):
        wires = [int(w) for w in rng.permutation(n)]
        controls, target = wires[:m], wires[m]
        c = mcx(Circuit(n), controls, target)
        on = np.all([bit(x, w, n) == 1 for w in controls], axis=0) if controls else np.ones(2**n, bool)
        want = np.zeros((2**n, 2**n))
        want[np.where(on, x ^ (1 << (n - 1 - target)), x), x] = 1
        np.testing.assert_allclose(unitary(c), want, atol=1e-12)
        assert {op.name for op in c.ops} <= STDGATES


@pytest.mark.parametrize("n", range(1, 7))
def test_mcphase_is_the_exact_diagonal(n):
    x = np.arange(2**n)
    lam = 0.731
    for k in range(1, n + 1):
        wires = [int(w) for w in np.random.default_rng(k).permutation(n)[:k]]
        on = np.all([bit(x, w, n) == 1 for w in wires], axis=0)
        np.testing.assert_allclose(unitary(mcphase(Circuit(n), lam, wires)), np.diag(np.where(on, np.exp(1j * lam), 1)),
                                   atol=1e-12)
    np.testing.assert_allclose(unitary(mcz(Circuit(n), range(n))), np.diag(np.where(x == 2**n - 1, -1.0, 1.0)),
                               atol=1e-12)


def test_mcz_needs_quadratically_many_gates_without_ancillas():
    """Barenco Corollary 7.6: O(n^2) gates even when the gate covers every wire (no qubit to borrow)."""
    counts = {n: len(mcz(Circuit(n), range(n)).ops) for n in (8, 16, 32)}
    assert all(counts[n] <= 8 * n * n for n in counts)
    assert counts[32] / counts[16] < 5.5  # quadratic (4x) plus lower-order terms; a Gray code would be 2**16x
    with pytest.raises(QGMError, match="distinct wires"):
        mcz(Circuit(3), [0, 0])


# -- oracles and the amplified circuit -------------------------------------------------------------


@pytest.mark.parametrize("seed", range(4))
def test_phase_oracle_and_zero_reflection_are_the_diagonals(seed):
    rng = np.random.default_rng(seed)
    n = 4
    mask = rng.random(2**n) < [0.2, 0.5, 0.8, 0.5][seed]
    beta, alpha = rng.uniform(-3, 3, 2)
    got = unitary(phase_oracle(torch.from_numpy(mask), n, beta))
    assert same_up_to_phase(got, np.diag(np.where(mask, np.exp(1j * beta), 1)))
    zero = np.ones(2**n, complex)
    zero[0] = np.exp(1j * alpha)
    assert same_up_to_phase(unitary(zero_reflection(n, alpha)), np.diag(zero))
    assert same_up_to_phase(unitary(phase_oracle("x1=0,x3=1", n)), np.diag(np.where(
        (bit(np.arange(16), 1, n) == 0) & (bit(np.arange(16), 3, n) == 1), -1.0, 1.0)))


def _model(n: int = 4, seed: int = 0) -> tuple[Circuit, torch.Tensor]:
    c = hardware_efficient(n, 2)
    return c, torch.rand(c.n_params, dtype=torch.float64, generator=torch.Generator().manual_seed(seed)) * 6


@pytest.mark.parametrize("condition", ["x0=1,x2=0", [3, 6, 9, 12, 13]])
def test_amplified_circuit_equals_the_vector_iterates(condition):
    c, theta = _model()
    amp = Amplifier(c, theta, condition)
    for schedule in (grover_schedule(amp.p), fixed_point_schedule(amp.p / 2, 0.3)):
        psi = amp.run(schedule).state.numpy()
        circ = amplified_circuit(c, condition, schedule.phases)
        assert circ.param_names == c.param_names
        got = sim.state(circ, theta).numpy()
        assert abs(abs(np.vdot(got, psi)) - 1) < 1e-10


# -- OpenQASM 3 export, run in Qiskit Aer ----------------------------------------------------------


@pytest.mark.interop
def test_exported_amplified_circuit_gives_the_same_distribution_in_qiskit_aer():
    qiskit = pytest.importorskip("qiskit")
    aer = pytest.importorskip("qiskit_aer")
    from qiskit.quantum_info import Statevector
    from scipy.stats import chi2

    c, theta = _model(4, seed=3)
    condition = "x0=1,x3=1"
    amp = Amplifier(c, theta, condition)
    schedule = grover_schedule(amp.p)
    assert schedule.iterations >= 1
    want = amp.run(schedule).state
    bound = amplified_circuit(c, condition, schedule.phases).bind(**dict(zip(c.param_names, theta.tolist())))
    texts = [bound.to_qasm(version=2)]
    loaders = [qiskit.qasm2.loads]
    try:
        import qiskit_qasm3_import  # noqa: F401

        texts.append(bound.to_qasm())
        loaders.append(qiskit.qasm3.loads)
    except ImportError:  # OpenQASM 3 import needs the qiskit-qasm3-import package
        pass
    p = want.abs().pow(2).numpy()
    for text, load in zip(texts, loaders):
        qc = load(text)
        sv = np.asarray(Statevector(qc).reverse_qargs().data)  # Qiskit is little-endian
        assert abs(abs(np.vdot(sv, want.numpy())) - 1) < 1e-10
        qc.measure_all()
        backend = aer.AerSimulator(seed_simulator=7)
        shots = 20000
        counts = backend.run(qiskit.transpile(qc, backend), shots=shots, memory=False).result().get_counts()
        freq = np.zeros(16)
        for key, v in counts.items():
            freq[int(key[::-1], 2)] += v  # Qiskit's key prints qubit 0 (= qgm wire 0) last
        keep = p > 1e-9
        stat = ((freq[keep] - shots * p[keep]) ** 2 / (shots * p[keep])).sum()
        assert stat < chi2.ppf(0.999, keep.sum() - 1)
        assert freq[~keep].sum() == 0
        assert freq[amp.condition.mask.numpy()].sum() / shots > 0.9 > amp.p
