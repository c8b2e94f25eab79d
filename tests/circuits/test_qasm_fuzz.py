"""The OpenQASM reader under hostile input: a Circuit or a one-line QGMError, never a traceback, within bounds.

* the corpus tests/corpus/qasm/nasty/ (every file has its expected outcome below);
* the reliability report's cases (gate bomb, 1,000-deep gate nesting, 5,000
  nested parentheses, a 100,000-term sum, 1,020 qubits, non-UTF-8 bytes), each
  refused with the number it would have needed;
* hypothesis: token soup, byte noise, and edits of valid programs;
* the one-line fast path of the reader against its tokenizer path, on
  generated statements and on the real-world corpus (same circuit or same
  message).

Every read runs under :func:`read_bounded`: at most ``MAX_SECONDS`` of CPU time
(this process's, so that other jobs on the machine do not count) and ``MAX_MB``
of Python allocations (tracemalloc) per input.
"""
from __future__ import annotations

import re
import time
import tracemalloc
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from qgm.circuits import Circuit, Op
from qgm.circuits.qasm import QasmLimits, from_qasm, parser, read_qasm
from qgm.errors import CircuitError, ConfigError, QGMError

CORPUS = Path(__file__).resolve().parents[1] / "corpus" / "qasm"
MAX_SECONDS = 10.0  # CPU seconds per input; each takes about a second at most (tracemalloc slows reading ~5x)
MAX_MB = 64
H3 = 'OPENQASM 3.0;\ninclude "stdgates.inc";\n'


def read_bounded(source: str | bytes | Path, **kw) -> Circuit | QGMError:
    """Read ``source`` (text, bytes or a file); return the circuit or the QGMError, checking the bounds.

    Any other exception propagates and fails the test: that is a traceback a user would see.
    """
    tracemalloc.start()
    t0 = time.process_time()
    try:
        result: Circuit | QGMError = read_qasm(source, **kw) if isinstance(source, Path) else from_qasm(source, **kw)
    except QGMError as exc:
        result = exc
    finally:
        elapsed = time.process_time() - t0
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    assert elapsed < MAX_SECONDS, f"took {elapsed:.1f} s of CPU"
    assert peak < MAX_MB * 2**20, f"allocated {peak / 2**20:.0f} MB"
    if isinstance(result, QGMError):
        msg = str(result)
        assert msg and "\n" not in msg and len(msg) < 800, msg
    return result


def refused(source, pattern: str, **kw) -> str:
    result = read_bounded(source, **kw)
    assert isinstance(result, CircuitError), result
    assert re.search(pattern, str(result)), str(result)
    return str(result)


# ---------------------------------------------------------------------------
# the corpus of nasty inputs
# ---------------------------------------------------------------------------

#: file -> pattern its one-line error must match (None: it reads)
EXPECTED = {
    "bad_version.qasm": r"^line 1: unsupported OpenQASM version '4.0'",
    "binary_noise.qasm": r"^line 2: the program is not UTF-8 text \(byte 0x80 at offset 128\)",
    "bom.qasm": None,
    "broadcast_mismatch.qasm": r"^line 5: gate 'cx' broadcast over registers of different sizes \[2, 3\]",
    "crlf.qasm": None,
    "deep_parentheses.qasm": r"^line 4: .*parentheses 300 deep needs max_depth=300 but the limit is 100",
    "deep_unary.qasm": r"^line 4: an expression of 20,002 terms needs max_expression_terms=20,002",
    "division_by_zero.qasm": r"^line 4: angle expression '1 / 0' is not affine in one slot: it divides by zero",
    "empty.qasm": r"^line 1: the program declares no qubits",
    "float_overflow.qasm": r"^line 4: gate 'rx': an angle evaluates to inf",
    "fractional_size.qasm": r"^line 3: the register size must be a non-negative integer, got '1.5'",
    "gate_after_measure.qasm": r"^line 6: gate 'h' acts on a qubit measured at line 5",
    "gate_bomb_30.qasm": r"^line 36: .*'g30'.* needs max_gates=1,073,741,824 but the limit is 2,000,000",
    "gate_chain_150.qasm": r"^line 155: gate 'g150' nesting gate definitions 151 deep needs max_depth=151",
    "huge_index.qasm": r"^line 4: qubit index \d+ out of range for qubit\[2\] q",
    "huge_physical.qasm": r"^line 3: physical qubit \$99999999999 needs max_qubits=100,000,000,000",
    "huge_register.qasm": r"^line 3: register 'q' needs max_qubits=100,000,000,000,000,000,000",
    "include_twice.qasm": None,
    "index_power.qasm": r"^line 4: qubit index 1180591620717411303424 out of range",
    "json_label_nesting.qasm": r"^line 3: unitary pragma 'u': label must be a JSON string or null",
    "long_identifier.qasm": r"^line 4: unknown gate 'g{57}\.\.\.'",
    "long_sum.qasm": r"^line 4: an expression of 11,999 terms needs max_expression_terms=11,999",
    "many_pragmas.qasm": None,
    "many_qubits_1020.qasm": r"^line 3: register 'q' needs max_qubits=1,020 but the limit is 1,000",
    "missing_semicolon_at_eof.qasm": r"^line 4: expected ';' after 'h q\[0\]', found end of file",
    "modifier.qasm": r"^line 4: gate modifiers \('ctrl @'\) are not supported",
    "nan_angle.qasm": r"^line 4: gate 'rx': an angle evaluates to nan",
    "negative_size.qasm": r"^line 3: the register size must be a non-negative integer, got '-2'",
    "nested_comments.qasm": r"^line 4: unexpected character '\?'",
    "not_unitary.qasm": r"^line 3: unitary pragma 'u': the matrix is not unitary",
    "not_utf8.qasm": r"^line 3: the program is not UTF-8 text \(byte 0xe9 at offset 44\); save it as UTF-8",
    "nul_byte.qasm": r"^line 4: unexpected character '\\x00'",
    "only_comments.qasm": r"^line 1: the program declares no qubits",
    "power_tower.qasm": r"^line 4: angle expression '9 \*\* \(9 \*\* \(9 \*\* 9\)\)' is not affine.*power failed",
    "reuse_of_names.qasm": r"^line 4: 'q' is already declared",
    "self_call.qasm": r"^line 3: gate 'g' calls itself",
    "slot_and_const_clash.qasm": r"^line 4: 'a' is already declared",
    "sqrt_of_negative.qasm": r"^line 4: sqrt\(-1.0\) is undefined",
    "stray_character.qasm": r"^line 4: unexpected character '`'",
    "unclosed_gate_body.qasm": r"^line 4: expected a qubit name of the gate",
    "unicode_names.qasm": None,
    "unterminated_comment.qasm": r"^line 4: unterminated block comment",
    "unterminated_string.qasm": r"^line 2: unexpected character '\"'",
    "uses_undeclared_slot.qasm": r"^line 4: undeclared identifier 'theta'",
    "weird_whitespace.qasm": None,
    "wrong_arity_in_body.qasm": r"^line 3: gate 'cx' acts on 2 qubit\(s\), got 1",
    "zero_qubits.qasm": r"^line 3: register 'q' must have at least 1 qubit",
}


def test_every_corpus_file_has_an_expectation():
    assert sorted(p.name for p in (CORPUS / "nasty").glob("*.qasm")) == sorted(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_nasty_corpus(name):
    pattern = EXPECTED[name]
    if pattern is None:
        assert isinstance(read_bounded(CORPUS / "nasty" / name), Circuit)
    else:
        refused(CORPUS / "nasty" / name, pattern)


def test_readable_nasty_files_mean_what_they_say():
    assert read_bounded(CORPUS / "nasty" / "bom.qasm").ops == (Op("h", (0,)),)
    assert read_bounded(CORPUS / "nasty" / "crlf.qasm").ops == (Op("h", (0,)), Op("cx", (0, 1)))
    c = read_bounded(CORPUS / "nasty" / "unicode_names.qasm")
    assert c.param_names == ("θ",) and c.ops[1].params[0].offset == pytest.approx(1.5707963267948966)
    ws = read_bounded(CORPUS / "nasty" / "weird_whitespace.qasm")
    assert [op.name for op in ws.ops] == ["h", "cx", "rz"] and ws.ops[2].params == (1.0471975511965976,)


# ---------------------------------------------------------------------------
# the cases of the reliability report, with the numbers they would have needed
# ---------------------------------------------------------------------------


def chain(depth: int, calls: int) -> str:
    """``g{i}`` calls ``g{i-1}`` ``calls`` times; the program calls the last one."""
    body = " ".join(["g{} a;"] * calls)
    defs = "".join(f"gate g{i} a {{ {body.format(*[i - 1] * calls)} }}\n" for i in range(1, depth + 1))
    return H3 + "gate g0 a { h a; }\n" + defs + f"qubit[1] q;\ng{depth} q[0];\n"


def test_gate_bomb_is_refused_at_its_call():
    refused(chain(30, 2), r"^line 35: the circuit with gate 'g30' here needs max_gates=1,073,741,824")


def test_a_small_doubling_chain_expands():
    c = read_bounded(chain(12, 2))
    assert len(c.ops) == 4096 and set(c.ops) == {Op("h", (0,))}


def test_longer_doubling_chains_saturate_instead_of_growing_integers():
    text = chain(90, 2)  # 2**90 gates: the size saturates at 2**62, the refusal says "at least"
    refused(text, r"^line 95: the circuit with gate 'g90' here \(at least\) needs max_gates=4,611,686,018,427,387,9")


def test_whole_register_barriers_and_measurements_cost_no_work_per_qubit():
    text = H3 + "qubit[1000] q;\nbit[1000] c;\n" + "barrier q;\nc = measure q;\n" * 5_000
    c = read_bounded(text)  # 10,000 statements on 1,000 qubits: 10 million wire visits before
    assert c.n_qubits == 1000 and c.ops == ()


def test_1000_deep_gate_nesting():
    refused(chain(1000, 1), r"^line 1005: gate 'g1000' nesting gate definitions 1,001 deep needs max_depth=1,001")


def test_deep_nesting_expands_without_recursion_when_allowed():
    c = read_bounded(chain(1500, 1), limits=QasmLimits(max_depth=2000))  # deeper than Python's stack
    assert c.ops == (Op("h", (0,)),)


def test_5000_nested_parentheses():
    text = H3 + "qubit[1] q;\nrx(" + "(" * 5000 + "0.5" + ")" * 5000 + ") q[0];\n"
    refused(text, r"^line 4: an expression nesting parentheses 5,000 deep needs max_depth=5,000")
    assert read_bounded(text, limits=QasmLimits(max_depth=5000)).ops == (Op("rx", (0,), (0.5,)),)


def test_100000_term_sum():
    text = H3 + "qubit[1] q;\nrx(" + "+".join(["1"] * 100_000) + ") q[0];\n"
    refused(text, r"^line 4: an expression of 199,999 terms needs max_expression_terms=199,999")
    shorter = H3 + "qubit[1] q;\nrx(" + "+".join(["1"] * 8_000) + ") q[0];\n"  # 15,999 terms
    big = QasmLimits(max_expression_terms=16_000)
    assert read_bounded(shorter, limits=big).ops == (Op("rx", (0,), (8000.0,)),)


@pytest.mark.parametrize("n", [1020, 1100, 10**9])
def test_circuits_beyond_max_qubits_are_refused(n):
    refused(H3 + f"qubit[{n}] q;\nh q[0];\n", rf"^line 3: register 'q' needs max_qubits={n:,} but the limit is 1,000")
    refused(H3 + f"qubit[600] a;\nqubit[{n}] b;\n", rf"register 'b' needs max_qubits={n + 600:,}")


def test_non_utf8_bytes_and_files(tmp_path):
    data = (H3 + "qubit[1] q;\n// \xff\n").encode("latin-1")
    refused(data, r"^line 4: the program is not UTF-8 text \(byte 0xff at offset \d+\); save it as UTF-8")
    path = tmp_path / "bad.qasm"
    path.write_bytes(data)
    refused(path, r"^line 4: the program is not UTF-8 text")


def test_size_limits_refuse_before_reading(tmp_path):
    text = H3 + "qubit[1] q;\n" + "h q[0];\n" * 1000
    limits = QasmLimits(max_chars=1000)
    refused(text, rf"the OpenQASM program needs max_chars={len(text):,} but the limit is 1,000", limits=limits)
    refused(text.encode(), rf"needs max_chars={len(text):,}", limits=limits)
    path = tmp_path / "big.qasm"
    path.write_text(text)
    refused(path, rf"^the OpenQASM file .*big\.qasm' needs max_chars={len(text):,} but", limits=limits)
    refused(text, r"^line 14: .*needs max_gates=11 but the limit is 10", limits=QasmLimits(max_gates=10))


def test_unreadable_files_give_one_line_errors(tmp_path):
    refused(tmp_path / "missing.qasm", r"^cannot read the OpenQASM file '.*missing\.qasm' \(No such file")
    refused(tmp_path, r"^cannot read the OpenQASM file")


@pytest.mark.parametrize("bad", [0, -1, 1.5, True, "10", None])
def test_limits_are_positive_integers(bad):
    with pytest.raises(ConfigError, match=r"QasmLimits\.max_gates must be a positive integer"):
        QasmLimits(max_gates=bad)


# ---------------------------------------------------------------------------
# hypothesis
# ---------------------------------------------------------------------------

TOKENS = [
    "OPENQASM 3.0;", "OPENQASM 2.0;", 'include "stdgates.inc";', 'include "qelib1.inc";', "qubit[3] q;",
    "qreg r[2];", "bit[2] c;", "creg c[2];", "input float[64] a;", "const float k = 2;", "gate", "opaque",
    "g", "h", "cx", "rx", "u3", "U", "cu3", "cswap", "measure", "->", "barrier", "gphase", "reset", "ctrl", "@",
    "q", "q[0]", "q[1]", "q[2]", "q[9]", "r[1]", "$0", "$7", "c[0]", "a", "k", "pi", "π", "sin", "sqrt",
    "0", "1", "0.5", "1e308", "1e999", "99999999999999999999", "1__0", ".5", "(", ")", "[", "]", "{", "}",
    ",", ";", "+", "-", "*", "/", "**", "=", "//", "/*", "*/", "\n", " ", "\t", '"', "#pragma qgm inputs a",
    "#pragma qgm unitary u null", "0x1p+0", "@annotation", "\x00", "\ufeff",
]
SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@SETTINGS
@given(st.lists(st.sampled_from(TOKENS), max_size=60), st.booleans())
def test_token_soup(tokens, header):
    read_bounded((H3 if header else "") + " ".join(tokens))


@settings(max_examples=150, deadline=None)
@given(st.binary(max_size=400))
def test_byte_noise(data):
    read_bounded(data)


REAL = sorted((CORPUS / "real").glob("*.qasm"))


@st.composite
def edited_programs(draw) -> str:
    """A real-world program with a few random edits (deletions, insertions, duplications, digit changes)."""
    text = draw(st.sampled_from(REAL)).read_text()
    for _ in range(draw(st.integers(1, 4))):
        i = draw(st.integers(0, len(text)))
        j = draw(st.integers(i, min(len(text), i + 40)))
        edit = draw(st.integers(0, 3))
        if edit == 0:
            text = text[:i] + text[j:]
        elif edit == 1:
            text = text[:i] + draw(st.sampled_from(TOKENS)) + text[i:]
        elif edit == 2:
            text = text[:j] + text[i:j] * draw(st.integers(2, 50)) + text[j:]
        else:
            text = re.sub(r"\d", lambda m: draw(st.sampled_from(["0", "7", "99999", "-1", "1e400"])), text, count=3)
    return text


@SETTINGS
@given(edited_programs())
def test_edited_real_programs(text):
    read_bounded(text)


# ---------------------------------------------------------------------------
# the fast path reads exactly as the tokenizer does
# ---------------------------------------------------------------------------


def read_both(text: str) -> tuple[object, object]:
    """``(fast, slow)``: the outcome (circuit or error message) with the one-line fast path, and without it."""
    outcomes = []
    for disabled in (False, True):
        with pytest.MonkeyPatch.context() as m:
            if disabled:
                m.setattr(parser, "_SIMPLE_CALL", re.compile(r"(?!)"))
            result = read_bounded(text)
        outcomes.append(str(result) if isinstance(result, QGMError) else result)
    return outcomes[0], outcomes[1]


ARGS = ["0.5", "-0.25", "+1.", ".5e-3", "1e3", "pi/4", "-pi", "2*a", "a", "b", "x", "1e999", "1__0", "1 .5",
        "sin(0.1)", "0.1 // c", "0.1 /* c */", "", " ", "π", "[1]", "0x1"]
NAMES = ["h", "rx", "cx", "crz", "u3", "U", "CX", "cu1", "u2", "measure", "g", "foo", "reset", "pragma", "rzz"]
QUBITS = ["q[0]", "q[1]", "q [ 2 ]", "q[3]", "q[01]", "r[0]", "q", "$1", "q[9999999999999999999]", "a[0]"]


@st.composite
def statements(draw) -> str:
    name = draw(st.sampled_from(NAMES))
    args = draw(st.lists(st.sampled_from(ARGS), max_size=3))
    qubits = draw(st.lists(st.sampled_from(QUBITS), min_size=1, max_size=3))
    sep = draw(st.sampled_from([" ", "\t", "  ", ""]))
    arg_text = f"({', '.join(args)})" if args or draw(st.booleans()) else ""
    return f"{name}{arg_text}{sep}{', '.join(qubits)};" + draw(st.sampled_from(["", " // end", "\n", " h q[0];"]))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(statements(), min_size=1, max_size=6))
def test_fast_path_equals_tokenizer(stmts):
    text = H3 + "gate g(t) a { rx(2*t) a; }\ninput float[64] a;\nqubit[4] q;\n" + "\n".join(stmts) + "\n"
    fast, slow = read_both(text)
    assert fast == slow


@pytest.mark.parametrize("path", REAL, ids=lambda p: p.name)
def test_fast_path_equals_tokenizer_on_real_programs(path):
    fast, slow = read_both(path.read_text())
    assert isinstance(fast, Circuit) and fast == slow
