"""OpenQASM export/import: exact round trips, hand-written programs, Qiskit cross-checks, errors."""
from __future__ import annotations

import math
import re

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy.stats import unitary_group

from qgm.circuits import GATES, Circuit, In, Op, P, Param
from qgm.circuits.gates import gate_matrix
from qgm.circuits.qasm import QASM2_DEFINITIONS, QASM3_DEFINITIONS, from_qasm, to_qasm
from qgm.errors import CircuitError
from reference import embed

HEADER = 'OPENQASM 3.0;\ninclude "stdgates.inc";\n'


# ---------------------------------------------------------------------------
# helpers (independent of qgm.circuits.qasm and of the engine)
# ---------------------------------------------------------------------------


def dense_unitary(c: Circuit) -> np.ndarray:
    """Full unitary of a circuit with numeric angles (wire 0 = most significant bit)."""
    n = c.n_qubits
    u = np.eye(2**n, dtype=np.complex128)
    for op in c.ops:
        if op.name == "unitary":
            m = np.asarray(op.matrix)
        else:
            assert not any(isinstance(a, Param) for a in op.params)
            m = gate_matrix(op.name, torch.tensor([float(a) for a in op.params], dtype=torch.float64)).numpy()
        u = embed(m, op.wires, n) @ u
    return u


def reverse_qubit_order(m: np.ndarray, n: int) -> np.ndarray:
    """Convert a Qiskit (little-endian: qubit 0 = LSB) matrix to qgm order (wire 0 = MSB)."""
    t = m.reshape([2] * (2 * n))
    rev = list(range(n - 1, -1, -1))
    return t.transpose(rev + [n + i for i in rev]).reshape(2**n, 2**n)


def assert_equal_up_to_phase(a: np.ndarray, b: np.ndarray, atol: float = 1e-10) -> None:
    i = np.unravel_index(np.argmax(np.abs(b)), b.shape)
    phase = b[i] / a[i]
    assert abs(abs(phase) - 1) < atol
    np.testing.assert_allclose(a * phase, b, atol=atol)


def random_unitary(d: int, seed: int) -> np.ndarray:
    m = np.asarray(unitary_group.rvs(d, random_state=seed), dtype=np.complex128)
    m.setflags(write=False)
    return m


def random_numeric_circuit(n: int, n_ops: int, seed: int, one_qubit_unitaries: bool = True) -> Circuit:
    rng = np.random.default_rng(seed)
    names = [g for g in GATES if GATES[g].n_wires <= n]
    c = Circuit(n)
    for i in range(n_ops):
        if one_qubit_unitaries and i % 7 == 3:
            c = c.unitary(random_unitary(2, seed * 100 + i), int(rng.integers(n)), label="V")
            continue
        name = names[rng.integers(len(names))]
        g = GATES[name]
        wires = [int(w) for w in rng.permutation(n)[: g.n_wires]]
        c = c.add(name, wires, *rng.uniform(-4, 4, g.n_params))
    return c


# ---------------------------------------------------------------------------
# exact round trips
# ---------------------------------------------------------------------------

PARAM_POOL = ["a", "b", "theta_0", "q", "w1"]  # 'q' clashes with the default register name
INPUT_POOL = ["x", "z", "data_0"]
finite = st.floats(allow_nan=False, allow_infinity=False)


@st.composite
def angles(draw):
    choice = draw(st.integers(0, 2))
    if choice == 0:
        return draw(finite)
    kind, pool = ("param", PARAM_POOL) if choice == 1 else ("input", INPUT_POOL)
    name = draw(st.sampled_from(pool))
    scale = draw(st.one_of(st.sampled_from([1.0, -1.0, 2.0, 0.5]), finite))
    offset = draw(st.one_of(st.just(0.0), finite))
    return Param(name, kind, scale, offset)


@st.composite
def circuits(draw):
    n = draw(st.integers(1, 4))
    names = [g for g in GATES if GATES[g].n_wires <= n] + ["unitary"]
    ops = []
    for _ in range(draw(st.integers(0, 10))):
        name = draw(st.sampled_from(names))
        perm = draw(st.permutations(range(n)))
        if name == "unitary":
            k = draw(st.integers(1, min(2, n)))
            m = random_unitary(2**k, draw(st.integers(0, 2**31)))
            label = draw(st.sampled_from([None, "my gate", "U_a", "h", "q", "unitary_0"]))
            ops.append(Op("unitary", tuple(perm[:k]), (), m, label))
        else:
            g = GATES[name]
            ops.append(Op(name, tuple(perm[: g.n_wires]), tuple(draw(angles()) for _ in range(g.n_params))))
    params = draw(st.lists(st.sampled_from(PARAM_POOL), unique=True))
    inputs = draw(st.lists(st.sampled_from(INPUT_POOL), unique=True))
    return Circuit(n, ops, params, inputs)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(circuits())
def test_round_trip_random_circuits_is_exact(c):
    text = c.to_qasm()
    back = Circuit.from_qasm(text)
    assert back == c
    assert back.param_names == c.param_names and back.input_names == c.input_names
    assert back.to_qasm() == text


@pytest.mark.parametrize("name", sorted(GATES))
def test_round_trip_every_catalogue_gate(name):
    g = GATES[name]
    wires = tuple(range(g.n_wires - 1, -1, -1))
    numeric = Circuit(g.n_wires).add(name, wires, *[0.1 * (i + 1) - 0.35 for i in range(g.n_params)])
    slotted = Circuit(g.n_wires).add(
        name, wires, *[[P("a"), 2.5 * In("x") - 0.25, -P("b") + math.pi][i] for i in range(g.n_params)]
    )
    for c in (numeric, slotted):
        assert from_qasm(to_qasm(c)) == c


def test_exact_float_round_trip_of_awkward_numbers():
    vals = [0.1, -0.0, 5e-324, 1e-05, 1.7976931348623157e308, math.pi, 1 / 3, -2.5e-17, 123456789.123456789]
    c = Circuit(1)
    for v in vals:
        c = c.rz(0, v).rx(0, v * P("t") + v).ry(0, -v * In("u") - v)
    back = from_qasm(c.to_qasm())
    assert back == c
    for o1, o2 in zip(c.ops, back.ops):
        for a1, a2 in zip(o1.params, o2.params):
            if isinstance(a1, Param):
                assert (a1.scale, a1.offset) == (a2.scale, a2.offset)
            else:
                assert float(a1).hex() == float(a2).hex() or a1 == a2 == 0.0


def test_exported_text_format():
    c = (
        Circuit(2, params=["b", "a"])
        .h(0)
        .rzz(0, 1, 2.5 * P("a") - 0.1)
        .u3(1, P("b"), -In("x"), 0.5)
        .unitary(np.eye(2), [1], label="my id")
    )
    text = c.to_qasm()
    lines = text.splitlines()
    assert lines[:3] == ["OPENQASM 3.0;", 'include "stdgates.inc";', "#pragma qgm inputs x"]
    assert QASM3_DEFINITIONS["rzz"] in lines
    assert "gate rxx" not in text  # only definitions in use
    assert lines.index("input float[64] b;") < lines.index("input float[64] a;") < lines.index("input float[64] x;")
    assert "qubit[2] q;" in lines
    assert "rzz(2.5*a - 0.1) q[0], q[1];" in lines
    assert "U(b, -x, 0.5) q[1];" in lines
    pragma = next(ln for ln in lines if ln.startswith("#pragma qgm unitary"))
    assert pragma.split()[3:6] == ['unitary_0', '"my', 'id"']
    assert "opaque unitary_0 a0;" in lines and "unitary_0 q[1];" in lines


def test_same_label_different_matrices_get_distinct_gates():
    c = Circuit(2).unitary(random_unitary(2, 1), 0, "G").unitary(random_unitary(2, 2), 1, "G")
    c = c.unitary(random_unitary(2, 1), 1, "G")
    text = c.to_qasm()
    assert text.count("#pragma qgm unitary") == 2
    assert from_qasm(text) == c


def test_slot_names_that_are_not_identifiers_are_refused():
    for bad in ("pi", "a b", "gate", "1x"):
        with pytest.raises(CircuitError, match="rename the slot"):
            Circuit(1).rx(0, P(bad)).to_qasm()


def test_version_must_be_2_or_3():
    with pytest.raises(CircuitError, match="version must be 2 or 3"):
        Circuit(1).h(0).to_qasm(version=4)


# ---------------------------------------------------------------------------
# hand-written programs
# ---------------------------------------------------------------------------


def test_hand_written_program_parses_to_expected_ops():
    text = """OPENQASM 3.0;
include "stdgates.inc";
// a comment
/* a block
   comment */
input float[64] beta;
input angle[32] alpha;
input float gamma;
qubit[2] q;
qubit r;
bit[3] c;
h q[0];
rx(pi/2) q[1];
ry(2*alpha + π) r;
crz(-beta/2) q[0], r;
CX q[0], q[1];
U(pi, 0, gamma - 1) q[1];
cnot q[1], r;
phase(1.5e-1) r;
barrier q, r;
c[0] = measure q[0];
measure r -> c[2];
"""
    c = from_qasm(text)
    assert c.n_qubits == 3
    assert c.param_names == ("beta", "alpha", "gamma")  # declaration order, not use order
    assert c.input_names == ()
    assert c.ops == (
        Op("h", (0,)),
        Op("rx", (1,), (math.pi / 2,)),
        Op("ry", (2,), (Param("alpha", "param", 2.0, math.pi),)),
        Op("crz", (0, 2), (Param("beta", "param", -0.5, 0.0),)),
        Op("cx", (0, 1)),
        Op("u3", (1,), (math.pi, 0.0, Param("gamma", "param", 1.0, -1.0))),
        Op("cx", (1, 2)),
        Op("p", (2,), (0.15,)),
    )


def test_parameter_order_is_declaration_order():
    text = HEADER + "input float[64] z3;\ninput float[64] a1;\ninput float[64] m2;\nqubit[1] q;\n"
    text += "rx(m2) q[0];\nry(a1) q[0];\nrz(z3) q[0];\n"
    c = from_qasm(text)
    assert c.param_names == ("z3", "a1", "m2")
    assert [op.params[0].name for op in c.ops] == ["m2", "a1", "z3"]


def test_inputs_pragma_marks_data_slots():
    body = "input float[64] w;\ninput float[64] x;\nqubit[1] q;\nrx(w) q[0];\nry(3*x) q[0];\n"
    c = from_qasm(HEADER + "#pragma qgm inputs x\n" + body)
    assert c.param_names == ("w",) and c.input_names == ("x",)
    assert c.ops[1].params == (3 * In("x"),)
    c2 = from_qasm(HEADER + body)  # no pragma: everything is trainable
    assert c2.param_names == ("w", "x") and c2.input_names == ()


def test_qasm2_style_and_multiple_registers():
    text = """OPENQASM 2.0;
include "qelib1.inc";
qreg a[2];
qreg b[1];
creg c[3];
h a;
cx a[1], b[0];
u1(0.25) b[0];
measure a -> c;
"""
    c = from_qasm(text)
    assert c.n_qubits == 3
    assert c.ops == (Op("h", (0,)), Op("h", (1,)), Op("cx", (1, 2)), Op("p", (2,), (0.25,)))
    scalars = from_qasm(HEADER + "qubit q0;\nqubit q1;\ncx q1, q0;\n")
    assert scalars.n_qubits == 2 and scalars.ops == (Op("cx", (1, 0)),)
    physical = from_qasm(HEADER + "h $2;\ncz $0, $2;\n")
    assert physical.n_qubits == 3 and physical.ops == (Op("h", (2,)), Op("cz", (0, 2)))


def test_user_defined_gates_are_expanded_inline():
    text = HEADER + """const float k = 0.5;
gate bell(t) a, b { h a; cx a, b; rz(2*t + k) b; }
gate twice(s) a, b {
  bell(s + 1) a, b;
  gphase(s);
  bell(-s) b, a;
}
input float[64] w;
qubit[3] q;
twice(3*w) q[2], q[0];
"""
    c = from_qasm(text)
    assert c.param_names == ("w",)
    assert c.ops == (
        Op("h", (2,)),
        Op("cx", (2, 0)),
        Op("rz", (0,), (Param("w", "param", 6.0, 2.5),)),
        Op("h", (0,)),
        Op("cx", (0, 2)),
        Op("rz", (2,), (Param("w", "param", -6.0, 0.5),)),
    )


def test_exporter_definitions_import_as_native_gates():
    for name, definition in QASM3_DEFINITIONS.items():
        g = GATES[name]
        args = "(0.3)" if g.n_params else ""
        c = from_qasm(HEADER + definition + f"\nqubit[2] q;\n{name}{args} q[1], q[0];\n")
        assert c.ops == (Op(name, (1, 0), (0.3,) if g.n_params else ()),)


def test_foreign_definition_with_a_catalogue_name_but_other_matrix_is_expanded():
    text = HEADER + "gate rzz(t) a, b { cx a, b; rz(2*t) b; cx a, b; }\nqubit[2] q;\nrzz(0.3) q[0], q[1];\n"
    assert from_qasm(text).ops == (Op("cx", (0, 1)), Op("rz", (1,), (0.6,)), Op("cx", (0, 1)))


# ---------------------------------------------------------------------------
# definitions equal the catalogue (dense numpy product of the body's gates)
# ---------------------------------------------------------------------------

_DEF_RE = re.compile(r"gate (\w+)(?:\((\w+)\))? (\w+)(?:, (\w+))? \{(.*)\}")
_CALL_RE = re.compile(r"(\w+)(?:\(([^)]*)\))? (\w+)(?:, (\w+))?")


def body_matrix(definition: str, theta: float) -> tuple[str, np.ndarray]:
    name, param, *formals, body = _DEF_RE.fullmatch(definition).groups()
    formals = [f for f in formals if f]
    k = len(formals)
    u = np.eye(2**k, dtype=np.complex128)
    for stmt in filter(None, (s.strip() for s in body.split(";"))):
        g, arg, *qs = _CALL_RE.fullmatch(stmt).groups()
        angles = [eval(arg, {"__builtins__": {}}, {param: theta, "pi": math.pi})] if arg else []  # noqa: S307
        m = gate_matrix(g, torch.tensor(angles, dtype=torch.float64)).numpy()
        u = embed(m, tuple(formals.index(q) for q in qs if q), k) @ u
    return name, u


@pytest.mark.parametrize("definition", sorted(set(QASM3_DEFINITIONS.values()) | set(QASM2_DEFINITIONS.values())))
def test_definition_bodies_equal_catalogue_matrices(definition):
    for theta in (0.0, 0.731, -2.9, 4.4):
        name, u = body_matrix(definition, theta)
        want = gate_matrix(name, torch.tensor([theta] * GATES[name].n_params, dtype=torch.float64)).numpy()
        if name == "sx":  # OpenQASM 2 has no global phase: sdg·h·sdg = e^{-iπ/4} sx
            assert_equal_up_to_phase(u, want, atol=1e-14)
        else:
            np.testing.assert_allclose(u, want, atol=1e-14)


# ---------------------------------------------------------------------------
# OpenQASM 2 and Qiskit
# ---------------------------------------------------------------------------

try:
    import qiskit.qasm2
    from qiskit.quantum_info import Operator

    HAVE_QISKIT = True
except ImportError:  # optional dependency (qgm[interop])
    HAVE_QISKIT = False

needs_qiskit = pytest.mark.skipif(not HAVE_QISKIT, reason="needs qiskit (pip install 'qgm[interop]')")


def qiskit_unitary_in_qgm_order(text: str, custom: bool = False) -> np.ndarray:
    kw = {"custom_instructions": qiskit.qasm2.LEGACY_CUSTOM_INSTRUCTIONS} if custom else {}
    qc = qiskit.qasm2.loads(text, **kw)
    return reverse_qubit_order(Operator(qc).data, qc.num_qubits)


@needs_qiskit
def test_bit_order_conversion_is_needed_and_right():
    c = Circuit(2).x(0)  # wire 0 = MSB: |00> -> |10> = index 2
    u = qiskit_unitary_in_qgm_order(c.to_qasm(version=2))
    assert u[2, 0] == 1
    raw = Operator(qiskit.qasm2.loads(c.to_qasm(version=2))).data
    assert raw[1, 0] == 1  # Qiskit: qubit 0 is the LSB


@needs_qiskit
@pytest.mark.parametrize("seed", range(6))
def test_qasm2_export_loads_in_qiskit_and_matches_the_unitary(seed):
    n = 3 if seed % 2 else 4
    c = random_numeric_circuit(n, 30, seed)
    text = c.to_qasm(version=2)
    assert text.startswith('OPENQASM 2.0;\ninclude "qelib1.inc";\n')
    assert f"qreg q[{n}];" in text
    assert_equal_up_to_phase(qiskit_unitary_in_qgm_order(text), dense_unitary(c))


@needs_qiskit
def test_qasm2_export_of_bound_circuit_and_errors():
    c = Circuit(2).ry(0, P("a")).crx(0, 1, 2 * In("x") + 1).rzz(1, 0, P("a"))
    with pytest.raises(CircuitError, match=r"'a', 'x'.*bind parameters first: circuit\.bind\(\*\*values\)"):
        c.to_qasm(version=2)
    b = c.bind(a=0.3, x=-0.2)
    assert_equal_up_to_phase(qiskit_unitary_in_qgm_order(b.to_qasm(version=2)), dense_unitary(b))
    with pytest.raises(CircuitError, match="2-qubit user unitary"):
        Circuit(2).unitary(random_unitary(4, 0), [0, 1]).to_qasm(version=2)


def test_qasm2_export_reads_back_up_to_phase():
    c = random_numeric_circuit(3, 25, 11)
    assert_equal_up_to_phase(dense_unitary(from_qasm(c.to_qasm(version=2))), dense_unitary(c))


@needs_qiskit
@pytest.mark.parametrize(
    "stmt,custom",
    [
        ("u1(0.4) q[0];", False),
        ("u2(0.4, -1.1) q[1];", False),
        ("ch q[0], q[1];", False),
        ("cu1(0.7) q[1], q[0];", False),
        ("cu3(0.3, -0.8, 1.9) q[0], q[2];", False),
        ("cp(0.7) q[2], q[0];", True),
        ("cswap q[1], q[0], q[2];", True),
        ("cu(0.3, -0.8, 1.9, 0.6) q[2], q[1];", True),
        ("sxdg q[1];", True),
        ("csx q[0], q[2];", True),
    ],
)
def test_standard_gates_outside_the_catalogue_match_qiskit(stmt, custom):
    text = f'OPENQASM 2.0;\ninclude "qelib1.inc";\nqreg q[3];\nh q;\nry(0.3) q[1];\n{stmt}\n'
    assert_equal_up_to_phase(dense_unitary(from_qasm(text)), qiskit_unitary_in_qgm_order(text, custom))


# ---------------------------------------------------------------------------
# errors carry line numbers and a fix
# ---------------------------------------------------------------------------

ERROR_CASES = [
    ("qubit[2] q;\nh q[0];\nfoo q[1];\n", r"^line 5: unknown gate 'foo'; known gates: .*ccx"),
    ("qubit[2] q;\nh q[0]\ncx q[0], q[1];\n", r"^line 4: expected ';' after 'h q\[0\]', found 'cx'"),
    ("qubit[4] q;\n\n\nh q[9];\n", r"^line 6: qubit index 9 out of range for qubit\[4\] q"),
    ("qreg q[2];\nx q[2];\n", r"^line 4: qubit index 2 out of range for qreg q\[2\]"),
    ("qubit[2] q;\nrx(theta) q[0];\n", r"^line 4: undeclared identifier 'theta'.*input float\[64\]"),
    ("qubit[2] q;\nh r[0];\n", r"^line 4: undeclared identifier 'r'"),
    (
        "input float[64] a;\ninput float[64] b;\nqubit[1] q;\nrx(a*b) q[0];\n",
        r"^line 6: angle expression 'a \* b' is not affine",
    ),
    ("input float[64] a;\nqubit[1] q;\nrx(sin(a)) q[0];\n", r"^line 5: .*not affine.*sin"),
    ("input float[64] a;\ninput float[64] b;\nqubit[1] q;\nrx(a + b) q[0];\n", r"^line 6: .*two slots"),
    ("input float[64] a;\nqubit[1] q;\nrx(1/a) q[0];\n", r"^line 5: .*divides by slot 'a'"),
    ("qubit[2] q;\ncx q[0];\n", r"^line 4: gate 'cx' acts on 2 qubit\(s\), got 1"),
    ("qubit[2] q;\nrx q[0];\n", r"^line 4: gate 'rx' takes 1 angle\(s\), got 0"),
    ("qubit[2] q;\ncx q[1], q[1];\n", r"^line 4: .*same qubit twice"),
    ("qubit[2] q;\nbit[2] c;\nc[0] = measure q[0];\nh q[0];\n", r"^line 6: .*measured at line 5"),
    ("qubit[2] q;\nctrl @ x q[0], q[1];\n", r"^line 4: gate modifiers"),
    ("qubit[1] q;\nreset q[0];\n", r"^line 4: reset is not supported"),
    ('include "mylib.inc";\n', r"^line 3: cannot include 'mylib.inc'"),
    ("gate g(t) a { rx(u) a; }\nqubit[1] q;\n", r"^line 3: in gate 'g': undeclared identifier 'u'"),
    ("qubit[1] q;\nh q[0]; /* never closed\n", r"^line 4: unterminated block comment"),
    ("#pragma qgm inputs nope\nqubit[1] q;\n", r"^line 3: '#pragma qgm inputs' names 'nope'"),
    ("opaque mystery a;\n", r"^line 3: opaque gate 'mystery' has no definition"),
    ("input float[64] a;\ninput float[64] a;\n", r"^line 4: 'a' is already declared"),
]


@pytest.mark.parametrize("body,pattern", ERROR_CASES)
def test_errors_carry_line_numbers(body, pattern):
    with pytest.raises(CircuitError, match=pattern):
        from_qasm(HEADER + body)


def test_non_affine_inside_a_gate_body_is_reported_at_the_call():
    text = HEADER + "gate g(s, t) a { rx(s*t) a; }\ninput float[64] u;\nqubit[1] q;\ng(0.5, 2) q[0];\ng(u, u) q[0];\n"
    with pytest.raises(CircuitError, match=r"^line 7: in gate 'g' \(defined at line 3, body line 3\).*not affine"):
        from_qasm(text)


def test_no_qubits_is_an_error():
    with pytest.raises(CircuitError, match="declares no qubits"):
        from_qasm(HEADER)
