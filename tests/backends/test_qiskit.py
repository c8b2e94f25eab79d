"""Qiskit interop: export/import round trips, hand-written Qiskit circuits,
sampling on Aer and on a hardware-like target, and error messages."""
from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from qgm import sim
from qgm.circuits import Circuit, In, P
from qgm.errors import CircuitError, ParameterError
from reference import random_circuit

qiskit = pytest.importorskip("qiskit")
pytest.importorskip("qiskit_aer")
from qiskit.circuit import Gate, Parameter  # noqa: E402
from qiskit.circuit.library import CXGate, U1Gate, U3Gate  # noqa: E402
from qiskit.quantum_info import Statevector  # noqa: E402
from scipy.stats import chi2  # noqa: E402

from qgm.backends import from_qiskit, run_on_backend, to_qiskit  # noqa: E402

pytestmark = pytest.mark.interop

TOL = 1e-10


def _random_cases(count: int, seed: int):
    rng = np.random.default_rng(seed)
    for _ in range(count):
        n = int(rng.integers(1, 6))
        c = random_circuit(n, 12, rng, inputs=2)
        yield c, rng.uniform(-3, 3, c.n_params), rng.uniform(-3, 3, c.n_inputs)


def _state(qc) -> np.ndarray:
    return np.asarray(Statevector(qc).data)


def _assert_same_ray(a: np.ndarray, b: np.ndarray) -> None:
    """Equal up to a global phase (dropped by qgm on import)."""
    assert abs(abs(np.vdot(a, b)) - 1) < TOL


# -- round trips ---------------------------------------------------------------------


def test_round_trip_of_symbolic_random_circuits():
    for c, _, _ in _random_cases(60, seed=1):
        assert from_qiskit(to_qiskit(c)) == c
        inv = c.inverse()  # slot order is no longer order of first use
        assert from_qiskit(to_qiskit(inv)) == inv


def test_round_trip_keeps_unitary_labels_and_exact_matrices():
    m = np.array([[0, 1j], [1j, 0]]) @ np.diag([1, np.exp(0.3j)])
    c = Circuit(2).unitary(m, 1, label="mine").ry(0, 2 * P("a") - 0.25)
    back = from_qiskit(to_qiskit(c))
    assert back == c and back.ops[0].label == "mine"
    assert np.array_equal(back.ops[0].matrix, m)


def test_symbolic_export_binds_to_the_engine_state():
    for c, p, x in _random_cases(30, seed=2):
        values = dict(zip(c.param_names + c.input_names, [*p, *x]))
        qc = to_qiskit(c)
        assert {q.name for q in qc.parameters} == set(values)
        bound = qc.assign_parameters({q: values[q.name] for q in qc.parameters})
        np.testing.assert_allclose(_state(bound), sim.state(c, p, x).numpy(), atol=TOL)


def test_partial_binding_keeps_the_other_kind_symbolic():
    c = Circuit(2).ry(0, P("a")).rx(1, 3 * In("x") + 1.0)
    qc = to_qiskit(c, params=[0.4])
    assert [q.name for q in qc.parameters] == ["x"]
    assert qc.metadata == {"qgm_params": [], "qgm_inputs": ["x"]}
    assert from_qiskit(qc) == c.bind(a=0.4)


# -- import of Qiskit-written circuits ---------------------------------------------


def test_import_orders_slots_as_qiskit_and_marks_inputs():
    b, a, x = Parameter("b"), Parameter("a"), Parameter("x")
    qc = qiskit.QuantumCircuit(3)
    qc.rx(b, 0)
    qc.crz(0.5 * x - 1, 1, 2)
    qc.ryy(2 * a + 0.1, 0, 2)
    c = from_qiskit(qc, inputs=["x"])
    assert c.param_names == ("a", "b") and c.input_names == ("x",)  # qc.parameters order, not first use
    expected = Circuit(3, params=["a"]).rx(2, P("b")).crz(1, 0, In("x") * 0.5 - 1).ryy(2, 0, 2 * P("a") + 0.1)
    assert c == expected


def test_imported_parameter_vector_takes_qiskit_values_in_qiskit_order():
    """The same value vector binds both: ``qc.assign_parameters(x)`` and ``sim.state(c, x)``."""
    from qiskit.circuit import ParameterVector
    from qiskit.circuit.library import efficient_su2

    qc = efficient_su2(3, reps=2)
    extra = ParameterVector("th", 11)  # th[10] sorts after th[9] in Qiskit, not after th[1]
    for k in (10, 1, 9, 0):
        qc.ry(extra[k], k % 3)
    c = from_qiskit(qc)
    assert c.param_names == tuple(p.name for p in qc.parameters)
    x = np.random.default_rng(4).uniform(-3, 3, c.n_params)
    np.testing.assert_allclose(sim.state(c, x).numpy(), _state(qc.assign_parameters(x)), atol=TOL)


def test_import_of_mixed_qiskit_circuit_matches_statevector():
    t = Parameter("t")
    qc = qiskit.QuantumCircuit(4, 4)
    qc.h(range(4))
    qc.append(U3Gate(0.3, 0.2, -0.7), [1])  # -> u3
    qc.append(U1Gate(0.9), [2])  # -> p
    qc.cp(0.4, 0, 3)  # numeric, outside the catalogue -> unitary
    qc.cp(2 * t + 0.1, 1, 2)  # parametrised, outside the catalogue -> its definition
    qc.rzx(t, 3, 0)
    qc.append(CXGate(ctrl_state=0), [2, 1])  # open control -> unitary
    qc.ecr(0, 1)
    qc.barrier()
    qc.delay(100, 0)
    qc.measure(range(4), range(4))
    c = from_qiskit(qc)
    assert c.param_names == ("t",)
    assert {op.label for op in c.ops if op.name == "unitary"} == {"cp", "cx_o0", "ecr"}
    value = 0.61
    reference = _state(qc.remove_final_measurements(inplace=False).assign_parameters({t: value}))
    _assert_same_ray(sim.state(c, [value]).numpy(), reference)


def test_import_of_global_phase_drops_only_the_phase():
    qc = qiskit.QuantumCircuit(2, global_phase=0.8)
    qc.h(1)
    qc.cx(1, 0)
    c = from_qiskit(qc)
    assert c == Circuit(2).h(0).cx(0, 1)
    np.testing.assert_allclose(sim.state(c).numpy(), np.exp(-0.8j) * _state(qc), atol=TOL)


@pytest.mark.parametrize(
    "build, match",
    [
        (lambda qc, p, q: qc.rx(p.sin(), 0), "not affine"),
        (lambda qc, p, q: qc.rx(p + q, 0), "depends on 2 parameters"),
        (lambda qc, p, q: qc.reset(0), "'reset'"),
        (lambda qc, p, q: (qc.measure(0, 0), qc.h(0)), "after a measurement"),
        (lambda qc, p, q: qc.append(Gate("mygate", 1, [p]), [0]), "'mygate'"),
        (lambda qc, p, q: qc.append(Gate("opaque", 1, []), [0]), "'opaque'.*no matrix"),
    ],
)
def test_import_errors_name_the_instruction(build, match):
    qc = qiskit.QuantumCircuit(2, 1)
    build(qc, Parameter("p"), Parameter("q"))
    with pytest.raises(CircuitError, match=match):
        from_qiskit(qc)


def test_import_rejects_what_is_not_a_quantum_circuit():
    with pytest.raises(CircuitError, match="expected a qiskit QuantumCircuit, got str"):
        from_qiskit("OPENQASM 3.0;")


def test_import_rejects_unknown_input_names():
    qc = qiskit.QuantumCircuit(1)
    qc.rx(Parameter("p"), 0)
    with pytest.raises(CircuitError, match="inputs \\['z'\\]"):
        from_qiskit(qc, inputs=["z"])


# -- export argument checks --------------------------------------------------------


@pytest.mark.parametrize("params", [[0.1], np.zeros((2, 2))])
def test_export_rejects_bad_parameter_vectors(params):
    with pytest.raises(ParameterError, match="params"):
        to_qiskit(Circuit(2).ry(0).ry(1), params)


# -- running on a Qiskit backend -----------------------------------------------------


def _chi_squared(idx: torch.Tensor, p: torch.Tensor) -> tuple[float, int]:
    """Pearson statistic of sampled indices against ``p`` (bins with expectation >= 5) and its dof."""
    counts = torch.bincount(idx, minlength=p.numel()).double()
    expected = p * idx.numel()
    keep = expected >= 5
    stat = ((counts[keep] - expected[keep]) ** 2 / expected[keep]).sum().item()
    return stat, int(keep.sum()) - 1


@pytest.mark.filterwarnings("ignore:Qiskit backend .* has no QubitProperties")
@pytest.mark.parametrize("hardware_like", [False, True])
def test_trained_circuit_on_backend_matches_engine_distribution(hardware_like, trained):
    c, params, target = trained
    backend = None
    if hardware_like:  # coupling map, basis gates and layout as on a device; noiseless
        from qiskit.providers.fake_provider import GenericBackendV2

        backend = GenericBackendV2(num_qubits=6, seed=11, noise_info=False)
    shots = 20_000
    idx = run_on_backend(c, params, shots, backend, seed=7)
    assert idx.shape == (shots,) and idx.dtype == torch.long
    p = sim.probs(c, params)
    stat, dof = _chi_squared(idx, p)
    assert stat < chi2.ppf(0.999, dof), f"chi2={stat:.1f} with {dof} dof"
    # the test has power: the bit-reversed (wrong-endian) distribution is rejected
    n = c.n_qubits
    reversed_p = p.reshape([2] * n).permute(*range(n - 1, -1, -1)).reshape(-1)
    assert _chi_squared(idx, reversed_p)[0] > chi2.ppf(0.999, dof)
    # and the backend reproduces what was learned: its histogram is close to the training target
    histogram = torch.bincount(idx, minlength=2**n).double() / shots
    assert 0.5 * (histogram - target).abs().sum() < 0.05


def test_run_on_backend_is_seeded_and_endianness_is_qgm(trained):
    c = Circuit(3).x(0).rx(1, In("a"))  # |110> = index 6 when a = pi
    idx = run_on_backend(c, inputs=[math.pi], shots=64, seed=1)
    assert torch.equal(idx, torch.full((64,), 6))
    c, params, _ = trained
    first = run_on_backend(c, params, 500, None, 3)  # the documented positional order
    assert torch.equal(first, run_on_backend(c, params, 500, seed=3))
    assert not torch.equal(first, run_on_backend(c, params, 500, seed=4))


def test_qiskit_counts_bitstrings_read_as_qgm_bitstrings():
    """Aer's own ``get_counts`` on the exported circuit: the key is qgm's bitstring, wire 0 leftmost."""
    from qiskit_aer import AerSimulator

    for wires, expected in [((0,), "1000"), ((1, 3), "0101"), ((0, 1, 2), "1110")]:
        c = Circuit(4)
        for w in wires:
            c = c.x(w)
        assert format(int(sim.probs(c).argmax()), "04b") == expected  # the engine's own reading
        qc = to_qiskit(c)
        qc.measure_all()
        assert AerSimulator().run(qc, shots=16, seed_simulator=0).result().get_counts() == {expected: 16}


@pytest.mark.parametrize(
    "kwargs, match",
    [({"params": None, "shots": 10}, "params"), ({"params": [0.0, 0.0], "shots": 0}, "shots")],
)
def test_run_on_backend_argument_errors(kwargs, match):
    with pytest.raises(ParameterError, match=match):
        run_on_backend(Circuit(2).ry(0).ry(1), **kwargs)
