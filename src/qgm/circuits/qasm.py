"""OpenQASM in and out: :func:`to_qasm` (version 3 or 2) and :func:`from_qasm`.

Export (OpenQASM 3)::

    OPENQASM 3.0;
    include "stdgates.inc";
    #pragma qgm inputs x z                     // only if the circuit has input slots
    gate rzz(theta) a, b { cx a, b; rz(theta) b; cx a, b; }   // only gates in use
    #pragma qgm unitary unitary_0 "my label" 0x1.0000000000000p+0 0x0.0p+0 ...
    opaque unitary_0 a0, a1;
    input float[64] a;                         // trainable slots, circuit.param_names order
    input float[64] x;                         // then input slots, circuit.input_names order
    input float[64] z;
    qubit[3] q;
    h q[0];
    rzz(2.5*a - 0.1) q[0], q[1];
    unitary_0 q[2], q[0];

Format decisions (all read back by :func:`from_qasm`, so that
``Circuit.from_qasm(c.to_qasm()) == c`` exactly):

* Angles are written with ``repr`` of the Python float (which round-trips
  bit-exactly), always with a decimal point (``1.0e-05``); slot expressions as
  ``scale*name + offset`` with scale 1 and offset 0 omitted and ``-name`` for
  scale -1.
* Every slot is an ``input float[64]``. Data/latent (input) slots are named in
  ``#pragma qgm inputs n1 n2 ...``; without that pragma every ``input`` is a
  trainable parameter. Slot order is declaration order.
* Gate names follow ``stdgates.inc``; ``u3`` is written as the built-in ``U``
  (its matrix equals the catalogue's ``u3`` exactly). ``rxx``, ``ryy``,
  ``rzz`` and ``iswap`` are not in ``stdgates.inc`` and get ``gate``
  definitions in terms of standard gates; on import, any definition whose name
  is a catalogue gate and whose body equals that gate (checked numerically, up
  to global phase) becomes the native gate again.
* A user ``unitary`` op is carried by a qgm-specific line
  ``#pragma qgm unitary <ident> <label as JSON string or null> <entries>``
  with the ``4**k`` matrix entries row-major, each as ``float.hex(re)
  float.hex(im)`` (exact), followed by ``opaque <ident> a0, ..., a{k-1};``.
  Other OpenQASM tools do not understand this pragma and will reject the
  opaque gate; export such circuits for them only after decomposing the unitary.

Export (OpenQASM 2, ``version=2``): ``OPENQASM 2.0; include "qelib1.inc";
qreg q[n];`` with numeric angles only (bind slots first) and only the gates of
the original ``qelib1.inc`` (as loaded by ``qiskit.qasm2.loads``); ``sx``,
``swap``, ``crx``, ``cry``, ``rxx``, ``ryy``, ``rzz`` and ``iswap`` get
``gate`` definitions, ``p`` is written ``u1`` and a one-qubit user unitary is
written as ``u3`` (global phase dropped: OpenQASM 2 has none). Larger user
unitaries cannot be written in OpenQASM 2.

Import reads an OpenQASM 3 subset (and OpenQASM 2): ``OPENQASM``, ``include
"stdgates.inc"``/``"qelib1.inc"``, ``input float[..]``/``angle[..]`` slots,
``const`` numeric constants, ``qubit[n] q;``/``qubit q;``/``qreg q[n];``
(registers become consecutive wires in declaration order) or physical qubits
``$i``, gate calls on ``q[i]`` or on whole registers (broadcast), ``gate``
definitions (expanded inline), ``barrier`` and ``gphase`` (ignored; the global
phase is not tracked), comments, pragmas and annotations. ``bit``/``creg``
declarations and ``measure`` are accepted and ignored as long as no gate acts on
a qubit after it was measured (qgm circuits are measured at the end). Angle
expressions may use numbers, ``pi``/``π``, ``tau``/``τ``, ``euler``/``ℇ``,
``+ - * / **``, parentheses, ``sin cos tan arcsin arccos arctan exp ln sqrt`` of
constants and slot names; each angle must be affine in at most one slot.
Standard gates outside the catalogue (``cp``/``cphase``/``cu1``, ``u1``,
``u2``, ``u0``, ``ch``, ``cswap``, ``cu3``, ``cu``, ``sxdg``, ``csx``) are
expanded into catalogue gates, up to global phase (``u2`` and ``cu`` follow
``qelib1.inc``/Qiskit). Gate modifiers (``ctrl @`` ...), classical control,
``reset`` and mid-circuit measurement are refused.

Every problem raises :class:`qgm.errors.CircuitError` whose message starts with
``line N:`` and says how to fix it.
"""
from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, field
from typing import Any, Callable, Sequence

import numpy as np
import torch

from qgm.circuits.circuit import Circuit, Op, Param
from qgm.circuits.gates import ALIASES, GATES, canonical_name, gate_matrix
from qgm.errors import CircuitError

__all__ = ["to_qasm", "from_qasm"]

# ---------------------------------------------------------------------------
# shared tables
# ---------------------------------------------------------------------------

#: Exporter definitions of catalogue gates missing from ``stdgates.inc`` (OpenQASM 3).
#: Each body equals the catalogue matrix exactly (checked in tests/circuits/test_qasm.py).
QASM3_DEFINITIONS: dict[str, str] = {
    "rxx": "gate rxx(theta) a, b { h a; h b; cx a, b; rz(theta) b; cx a, b; h a; h b; }",
    "ryy": (
        "gate ryy(theta) a, b { sdg a; sdg b; h a; h b; cx a, b; rz(theta) b; cx a, b; "
        "h a; h b; s a; s b; }"
    ),
    "rzz": "gate rzz(theta) a, b { cx a, b; rz(theta) b; cx a, b; }",
    "iswap": "gate iswap a, b { s a; s b; h a; cx a, b; cx b, a; h b; }",
}

#: Exporter definitions for OpenQASM 2 (bodies use only the original ``qelib1.inc``).
#: Exact except ``sx`` (equal up to the global phase e^{iπ/4}; OpenQASM 2 has no phase).
QASM2_DEFINITIONS: dict[str, str] = {
    "sx": "gate sx a { sdg a; h a; sdg a; }",
    "swap": "gate swap a, b { cx a, b; cx b, a; cx a, b; }",
    "crx": "gate crx(theta) a, b { h b; crz(theta) a, b; h b; }",
    "cry": "gate cry(theta) a, b { ry(theta/2) b; cx a, b; ry(-theta/2) b; cx a, b; }",
    **QASM3_DEFINITIONS,
}

#: Catalogue gate -> name written in OpenQASM 3 (stdgates.inc or a definition above).
_QASM3_NAMES: dict[str, str] = {g: g for g in GATES}
_QASM3_NAMES["u3"] = "U"

#: Catalogue gates written natively in OpenQASM 2 (original qelib1.inc), with their names.
_QASM2_NATIVE: dict[str, str] = {
    g: g
    for g in "id x y z h s sdg t tdg rx ry rz u3 cx cy cz ccx crz".split()
}
_QASM2_NATIVE["p"] = "u1"

#: Standard gates that are not in the catalogue, defined in catalogue gates for import.
_LIBRARY_SOURCE = """
gate u1(lambda) q { p(lambda) q; }
gate u2(phi, lambda) q { U(pi/2, phi, lambda) q; }
gate u0(gamma) q { id q; }
gate cp(lambda) a, b { p(lambda/2) a; cx a, b; p(-lambda/2) b; cx a, b; p(lambda/2) b; }
gate cphase(lambda) a, b { cp(lambda) a, b; }
gate cu1(lambda) a, b { cp(lambda) a, b; }
gate ch a, b { s b; h b; t b; cx a, b; tdg b; h b; sdg b; }
gate cswap a, b, c { cx c, b; ccx a, b, c; cx c, b; }
gate cu3(theta, phi, lambda) c, t {
  p((lambda+phi)/2) c; p((lambda-phi)/2) t; cx c, t;
  U(-theta/2, 0, -(phi+lambda)/2) t; cx c, t; U(theta/2, phi, 0) t;
}
gate cu(theta, phi, lambda, gamma) c, t { p(gamma) c; cu3(theta, phi, lambda) c, t; }
gate sxdg a { sx a; x a; }
gate csx a, b { h b; cp(pi/2) a, b; h b; }
"""

_CONSTANTS: dict[str, float] = {
    "pi": math.pi,
    "π": math.pi,
    "tau": 2 * math.pi,
    "τ": 2 * math.pi,
    "euler": math.e,
    "ℇ": math.e,
}

_FUNCTIONS: dict[str, Callable[[float], float]] = {
    "sin": math.sin,
    "cos": math.cos,
    "tan": math.tan,
    "arcsin": math.asin,
    "arccos": math.acos,
    "arctan": math.atan,
    "exp": math.exp,
    "ln": math.log,
    "sqrt": math.sqrt,
}

_KEYWORDS = frozenset(
    """OPENQASM include defcalgrammar def cal defcal gate opaque extern box let break continue if
    else end return for while in switch case default pragma input output const readonly mutable
    qreg qubit creg bool bit int uint float angle complex array void duration stretch gphase inv
    pow ctrl negctrl dim durationof sizeof delay reset measure barrier true false im U CX""".split()
)

_UNSUPPORTED = {
    "reset": "reset is not supported (qgm circuits start in |0...0>); remove it",
    "if": "classical control ('if') is not supported; qgm circuits have no classical feedback",
    "for": "loops are not supported; unroll the loop",
    "while": "loops are not supported; unroll the loop",
    "def": "subroutines ('def') are not supported; use 'gate' definitions",
    "defcal": "calibrations ('defcal') are not supported; remove them",
    "cal": "calibration blocks ('cal') are not supported; remove them",
    "box": "'box' is not supported; remove it",
    "delay": "'delay' is not supported; remove it",
    "let": "aliases ('let') are not supported; index the register directly",
    "extern": "'extern' functions are not supported",
    "switch": "'switch' is not supported",
    "output": "'output' variables are not supported",
    "ctrl": "gate modifiers ('ctrl @') are not supported; write the controlled gate (e.g. cx, crx) or define it",
    "negctrl": "gate modifiers ('negctrl @') are not supported; define the gate instead",
    "inv": "gate modifiers ('inv @') are not supported; write the inverse gate explicitly",
    "pow": "gate modifiers ('pow @') are not supported; write the gate explicitly",
}
for _kw in ("int", "uint", "bool", "complex", "duration", "stretch", "array", "float", "angle"):
    _UNSUPPORTED[_kw] = (
        "classical variables are not supported; declare angles as 'input float[64] name;' "
        "or 'const float name = value;'"
    )


def _err(line: int, msg: str) -> CircuitError:
    return CircuitError(f"line {line}: {msg}")


# ---------------------------------------------------------------------------
# export
# ---------------------------------------------------------------------------


def _num(x: float) -> str:
    """Exact (``repr``) decimal form of ``x`` that always has a decimal point."""
    x = float(x)
    if not math.isfinite(x):
        raise CircuitError(f"cannot write the non-finite angle value {x!r} to OpenQASM; use a finite number")
    s = repr(x)
    if "e" in s and "." not in s:
        mant, exp = s.split("e")
        s = f"{mant}.0e{exp}"
    return s


def _angle3(a: Any) -> str:
    if not isinstance(a, Param):
        return _num(a)
    scale, offset = float(a.scale), float(a.offset)
    if scale == 1.0:
        text = a.name
    elif scale == -1.0:
        text = f"-{a.name}"
    else:
        text = f"{_num(scale)}*{a.name}"
    if offset > 0:
        text += f" + {_num(offset)}"
    elif offset < 0:
        text += f" - {_num(-offset)}"
    elif offset != 0:  # nan
        _num(offset)
    return text


def _check_slot_name(name: str, kind: str) -> None:
    if not name.isidentifier() or name in _KEYWORDS or name in _CONSTANTS:
        what = "trainable parameter" if kind == "param" else "input"
        raise CircuitError(
            f"{what} slot name {name!r} cannot be written as an OpenQASM identifier "
            f"(it must be a letter/underscore followed by letters, digits or underscores, and not a "
            f"keyword or constant such as 'pi'); rename the slot"
        )


def _u3_angles(m: np.ndarray) -> tuple[float, float, float]:
    """``(θ, φ, λ)`` with ``m = e^{iγ} u3(θ, φ, λ)`` for a 2x2 unitary ``m``."""
    a, b, c, d = m[0, 0], m[0, 1], m[1, 0], m[1, 1]
    tiny = 1e-13
    theta = 2.0 * math.atan2(abs(c), abs(a))
    gamma = float(np.angle(a)) if abs(a) > tiny else float(np.angle(c))
    phi = float(np.angle(c)) - gamma if abs(c) > tiny else 0.0
    lam = float(np.angle(-b)) - gamma if abs(b) > tiny else float(np.angle(d)) - gamma - phi
    return theta, phi, lam


def to_qasm(circuit: Circuit, version: int = 3) -> str:
    """OpenQASM text of ``circuit``.

    Args:
        circuit: the circuit to write.
        version: 3 (default; slots become ``input float[64]`` declarations and the
            text reads back exactly with :func:`from_qasm`) or 2 (``qelib1.inc``
            gates and numeric angles only, for older tools).

    Returns:
        The program text, one statement per line, ending with a newline.
    """
    if version not in (2, 3):
        raise CircuitError(f"to_qasm: version must be 2 or 3, got {version!r}")
    if version == 2:
        return _to_qasm2(circuit)
    return _to_qasm3(circuit)


def _to_qasm3(circuit: Circuit) -> str:
    for name in circuit.param_names:
        _check_slot_name(name, "param")
    for name in circuit.input_names:
        _check_slot_name(name, "input")
    slots = set(circuit.param_names) | set(circuit.input_names)

    taken = set(GATES) | set(ALIASES) | set(_library()) | _KEYWORDS | set(_UNSUPPORTED) | set(_CONSTANTS) | slots
    unitary_ident: list[str] = []  # per op (None for non-unitary ops)
    defs: list[tuple[str, str | None, np.ndarray]] = []  # (ident, label, matrix)
    idents: set[str] = set()
    for op in circuit.ops:
        if op.name != "unitary":
            unitary_ident.append("")
            continue
        m = np.asarray(op.matrix, dtype=np.complex128)
        found = next(
            (i for i, lb, mm in defs if lb == op.label and mm.shape == m.shape and np.array_equal(mm, m)), None
        )
        if found is None:
            lb = op.label
            if lb is not None and lb.isidentifier() and lb not in taken and lb not in idents:
                found = lb
            else:
                k = len(defs)
                while f"unitary_{k}" in taken or f"unitary_{k}" in idents:
                    k += 1
                found = f"unitary_{k}"
            idents.add(found)
            defs.append((found, op.label, m))
        unitary_ident.append(found)

    reg = "q"
    while reg in slots or reg in idents:
        reg += "_"

    lines = ["OPENQASM 3.0;", 'include "stdgates.inc";']
    if circuit.input_names:
        lines.append("#pragma qgm inputs " + " ".join(circuit.input_names))
    used = {op.name for op in circuit.ops}
    for g, text in QASM3_DEFINITIONS.items():
        if g in used:
            lines.append(text)
    for ident, label, m in defs:
        k = int(round(math.log2(m.shape[0])))
        entries = " ".join(f"{float(z.real).hex()} {float(z.imag).hex()}" for z in m.reshape(-1))
        lines.append(f"#pragma qgm unitary {ident} {json.dumps(label)} {entries}")
        lines.append(f"opaque {ident} " + ", ".join(f"a{i}" for i in range(k)) + ";")
    for name in circuit.param_names + circuit.input_names:
        lines.append(f"input float[64] {name};")
    lines.append(f"qubit[{circuit.n_qubits}] {reg};")
    for op, ident in zip(circuit.ops, unitary_ident):
        wires = ", ".join(f"{reg}[{w}]" for w in op.wires)
        if op.name == "unitary":
            lines.append(f"{ident} {wires};")
            continue
        args = f"({', '.join(_angle3(a) for a in op.params)})" if op.params else ""
        lines.append(f"{_QASM3_NAMES[op.name]}{args} {wires};")
    return "\n".join(lines) + "\n"


def _to_qasm2(circuit: Circuit) -> str:
    unbound = list(circuit.param_names) + list(circuit.input_names)
    if unbound:
        shown = ", ".join(repr(n) for n in unbound[:8]) + (" ..." if len(unbound) > 8 else "")
        raise CircuitError(
            f"to_qasm(version=2): OpenQASM 2 has no parameters but slot(s) {shown} are unbound; "
            f"bind parameters first: circuit.bind(**values)"
        )
    used = {op.name for op in circuit.ops}
    lines = ["OPENQASM 2.0;", 'include "qelib1.inc";']
    for g, text in QASM2_DEFINITIONS.items():
        if g in used and g not in _QASM2_NATIVE:
            lines.append(text)
    lines.append(f"qreg q[{circuit.n_qubits}];")
    for op in circuit.ops:
        wires = ",".join(f"q[{w}]" for w in op.wires)
        if op.name == "unitary":
            if len(op.wires) != 1:
                raise CircuitError(
                    f"to_qasm(version=2): a {len(op.wires)}-qubit user unitary (label {op.label!r}) cannot be "
                    f"written in OpenQASM 2; use version=3 (qgm pragma) or decompose it into gates"
                )
            th, ph, la = _u3_angles(np.asarray(op.matrix))
            lines.append(f"u3({_num(th)},{_num(ph)},{_num(la)}) {wires};")
            continue
        name = _QASM2_NATIVE.get(op.name, op.name)
        args = f"({','.join(_num(a) for a in op.params)})" if op.params else ""
        lines.append(f"{name}{args} {wires};")
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------------------
# import: tokens
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class _Tok:
    kind: str  # num id hw str op pragma eof
    value: str
    line: int
    pos: int = 0  # offsets in the source text
    end: int = 0


_TOKEN_RE = re.compile(
    r"""
    (?P<nl>\n)
  | (?P<ws>[ \t\r\f\v]+)
  | (?P<lc>//[^\n]*)
  | (?P<bc>/\*)
  | (?P<num>(?:\d[\d_]*\.[\d_]*|\.\d[\d_]*|\d[\d_]*)(?:[eE][+-]?\d+)?)
  | (?P<id>[^\W\d]\w*)
  | (?P<hw>\$\d+)
  | (?P<str>"[^"\n]*"|'[^'\n]*')
  | (?P<op>\*\*|->|==|!=|<=|>=|&&|\|\||[;,()\[\]{}+\-*/%=@:<>!&|^~])
    """,
    re.VERBOSE,
)


_LINE_DIRECTIVE_RE = re.compile(r"[ \t\r\f\v]*(#?pragma\b|@[^\W\d])([^\n]*)")


def _tokenize(text: str, line0: int = 1) -> list[_Tok]:
    toks: list[_Tok] = []
    pos, line, at_line_start = 0, line0, True
    n = len(text)
    while pos < n:
        if at_line_start:
            # pragmas and annotations own the rest of their line
            m = _LINE_DIRECTIVE_RE.match(text, pos)
            if m:
                if m.group(1).endswith("pragma"):
                    toks.append(_Tok("pragma", m.group(2).strip(), line, m.start(1), m.end()))
                pos = m.end()
                continue
        m = _TOKEN_RE.match(text, pos)
        if m is None:
            raise _err(line, f"unexpected character {text[pos]!r}; remove it")
        kind = m.lastgroup
        assert kind is not None
        if kind == "nl":
            line += 1
            at_line_start = True
            pos = m.end()
            continue
        if kind == "bc":
            end = text.find("*/", m.end())
            if end < 0:
                raise _err(line, "unterminated block comment '/*'; close it with '*/'")
            line += text.count("\n", pos, end)
            pos = end + 2
            continue
        pos = m.end()
        if kind in ("ws", "lc"):
            continue
        at_line_start = False
        toks.append(_Tok(kind, m.group(), line, m.start(), m.end()))
    toks.append(_Tok("eof", "", line, n, n))
    return toks


# ---------------------------------------------------------------------------
# import: affine angle values and expressions
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class _Aff:
    """``scale * slot + offset`` (``slot`` None: the constant ``offset``)."""

    scale: float
    slot: str | None
    offset: float


def _const(x: float) -> _Aff:
    return _Aff(0.0, None, float(x))


class _NotAffine(Exception):
    """An angle expression that is not ``scale * slot + offset`` (raised inside the expression evaluator)."""


def _add(a: _Aff, b: _Aff) -> _Aff:
    if a.slot is not None and b.slot is not None and a.slot != b.slot:
        raise _NotAffine(f"it depends on two slots ('{a.slot}' and '{b.slot}')")
    if a.slot is None:
        return _Aff(b.scale, b.slot, a.offset + b.offset)
    if b.slot is None:
        return _Aff(a.scale, a.slot, a.offset + b.offset)
    return _Aff(a.scale + b.scale, a.slot, a.offset + b.offset)


def _neg(a: _Aff) -> _Aff:
    return _Aff(-a.scale, a.slot, -a.offset)


def _mul(a: _Aff, b: _Aff) -> _Aff:
    if a.slot is not None and b.slot is not None:
        raise _NotAffine(f"it multiplies slot '{a.slot}' by slot '{b.slot}'")
    if a.slot is None and b.slot is None:
        return _const(a.offset * b.offset)
    if a.slot is None:
        return _Aff(a.offset * b.scale, b.slot, a.offset * b.offset)
    return _Aff(a.scale * b.offset, a.slot, a.offset * b.offset)


def _div(a: _Aff, b: _Aff) -> _Aff:
    if b.slot is not None:
        raise _NotAffine(f"it divides by slot '{b.slot}'")
    if b.offset == 0:
        raise _NotAffine("it divides by zero")
    if a.slot is None:
        return _const(a.offset / b.offset)
    return _Aff(a.scale / b.offset, a.slot, a.offset / b.offset)


# expression nodes: ("num", value) ("name", name) ("neg", e) ("bin", op, a, b) ("call", fn, [args])
Expr = tuple


def _unparse(e: Expr) -> str:
    kind = e[0]
    if kind == "num":
        return e[1]
    if kind == "name":
        return e[1]
    if kind == "neg":
        return f"-{_unparse(e[1])}"
    if kind == "bin":
        return f"({_unparse(e[2])} {e[1]} {_unparse(e[3])})"
    return f"{e[1]}({', '.join(_unparse(a) for a in e[2])})"


def _show(e: Expr) -> str:
    """An expression as text for messages (without redundant outer parentheses)."""
    s = _unparse(e)
    return s[1:-1] if e[0] == "bin" else s


# ---------------------------------------------------------------------------
# import: gate definitions and parser
# ---------------------------------------------------------------------------


@dataclass
class _Call:
    name: str
    args: list[Expr]
    qargs: list[Any]  # formal names (in bodies) or (register, index expr | None) / ("$", k)
    line: int
    target: Any = None  # resolved callee (bodies only)


@dataclass
class _GateDef:
    name: str
    params: list[str]
    qubits: list[str]
    body: list[_Call]
    origin: str  # "defined at line N" / "standard definition"
    native: str | None = None  # catalogue gate the body equals


@dataclass
class _Unitary:
    ident: str
    label: str | None
    matrix: np.ndarray
    line: int


# A pending op: (catalogue name or "unitary", wires, angles as _Aff, matrix, label)
_Pending = tuple


@dataclass
class _Register:
    name: str
    start: int
    size: int
    scalar: bool
    decl: str  # how it was declared, for messages


@dataclass
class _State:
    slots: list[str] = field(default_factory=list)
    slot_lines: dict[str, int] = field(default_factory=dict)
    inputs: dict[str, int] = field(default_factory=dict)  # name -> pragma line
    consts: dict[str, float] = field(default_factory=dict)
    registers: dict[str, _Register] = field(default_factory=dict)
    n_wires: int = 0
    physical: int = -1  # highest $k used (-1: none)
    clbits: set[str] = field(default_factory=set)
    defs: dict[str, _GateDef] = field(default_factory=dict)
    unitaries: dict[str, _Unitary] = field(default_factory=dict)
    measured: dict[int, int] = field(default_factory=dict)  # wire -> line
    ops: list[tuple[_Pending, int]] = field(default_factory=list)


class _Parser:
    def __init__(self, text: str, state: _State, library: dict[str, _GateDef] | None) -> None:
        self.text = text
        self.toks = _tokenize(text)
        self.i = 0
        self.stmt_start = 0  # source offset of the statement being parsed
        self.st = state
        self.library = library if library is not None else {}
        self.is_library = library is None

    # -- token helpers ------------------------------------------------------
    def peek(self, k: int = 0) -> _Tok:
        return self.toks[min(self.i + k, len(self.toks) - 1)]

    def next(self) -> _Tok:
        t = self.toks[self.i]
        if t.kind != "eof":
            self.i += 1
        return t

    def at(self, value: str) -> bool:
        t = self.peek()
        return t.kind in ("op", "id") and t.value == value

    def accept(self, value: str) -> bool:
        if self.at(value):
            self.next()
            return True
        return False

    @staticmethod
    def show(t: _Tok) -> str:
        return "end of file" if t.kind == "eof" else repr(t.value)

    def expect(self, value: str, context: str = "") -> _Tok:
        if self.at(value):
            return self.next()
        t = self.peek()
        if value == ";" and self.i > 0:
            prev = self.toks[self.i - 1]
            stmt = " ".join(self.text[min(self.stmt_start, prev.pos) : prev.end].split())
            if len(stmt) > 40:
                stmt = "..." + stmt[-37:]
            raise _err(
                prev.line,
                f"expected ';' after {stmt!r}{context}, found {self.show(t)}; end each statement with ';'",
            )
        raise _err(t.line, f"expected {value!r}{context}, found {self.show(t)}")

    def ident(self, what: str) -> _Tok:
        t = self.peek()
        if t.kind != "id":
            raise _err(t.line, f"expected {what}, found {self.show(t)}")
        return self.next()

    # -- expressions ----------------------------------------------------------
    def expr(self) -> Expr:
        e = self.term()
        while self.at("+") or self.at("-"):
            op = self.next()
            e = ("bin", op.value, e, self.term(), op.line)
        return e

    def term(self) -> Expr:
        e = self.unary()
        while self.at("*") or self.at("/"):
            op = self.next()
            e = ("bin", op.value, e, self.unary(), op.line)
        return e

    def unary(self) -> Expr:
        if self.at("-"):
            t = self.next()
            return ("neg", self.unary(), t.line)
        if self.accept("+"):
            return self.unary()
        return self.power()

    def power(self) -> Expr:
        e = self.atom()
        if self.at("**"):
            op = self.next()
            e = ("bin", "**", e, self.unary(), op.line)
        return e

    def atom(self) -> Expr:
        t = self.peek()
        if t.kind == "num":
            self.next()
            return ("num", t.value, t.line)
        if t.kind == "id":
            self.next()
            if self.at("(") and t.value in _FUNCTIONS:
                self.next()
                args = [self.expr()]
                while self.accept(","):
                    args.append(self.expr())
                self.expect(")", f" closing {t.value}(")
                return ("call", t.value, args, t.line)
            return ("name", t.value, t.line)
        if self.accept("("):
            e = self.expr()
            self.expect(")", " closing '('")
            return e
        raise _err(t.line, f"expected a number, name or '(' in an expression, found {self.show(t)}")

    def evaluate(self, e: Expr, env: dict[str, _Aff], where: str, allowed: str) -> _Aff:
        """Evaluate ``e``; ``where`` prefixes messages, ``allowed`` explains the visible names."""
        try:
            return self._eval(e, env, where, allowed)
        except _NotAffine as exc:
            raise _err(
                e[-1],
                f"{where}angle expression '{_show(e)}' is not affine in one slot: {exc}. A qgm angle is "
                f"scale*slot + offset with one slot; introduce one slot for the combination or bind values",
            ) from None

    def _eval(self, e: Expr, env: dict[str, _Aff], where: str, allowed: str) -> _Aff:
        kind = e[0]
        if kind == "num":
            return _const(float(e[1]))
        if kind == "name":
            name = e[1]
            if name in env:
                return env[name]
            if name in self.st.consts:
                return _const(self.st.consts[name])
            if name in _CONSTANTS:
                return _const(_CONSTANTS[name])
            raise _err(e[2], f"{where}undeclared identifier '{name}'; {allowed}")
        if kind == "neg":
            return _neg(self._eval(e[1], env, where, allowed))
        if kind == "bin":
            a = self._eval(e[2], env, where, allowed)
            b = self._eval(e[3], env, where, allowed)
            op = e[1]
            if op == "+":
                return _add(a, b)
            if op == "-":
                return _add(a, _neg(b))
            if op == "*":
                return _mul(a, b)
            if op == "/":
                return _div(a, b)
            if a.slot is not None or b.slot is not None:
                raise _NotAffine(f"it raises slot '{a.slot or b.slot}' to a power or uses it as exponent")
            try:
                v = a.offset**b.offset
            except (OverflowError, ZeroDivisionError) as exc:
                raise _NotAffine(f"power failed ({exc})") from None
            if isinstance(v, complex):
                raise _NotAffine("the power is not a real number")
            return _const(v)
        fn, args = e[1], e[2]
        vals = [self._eval(a, env, where, allowed) for a in args]
        if len(vals) != 1:
            raise _err(e[3], f"{where}{fn}() takes one argument, got {len(vals)}")
        if vals[0].slot is not None:
            raise _NotAffine(f"it applies {fn}() to slot '{vals[0].slot}'")
        try:
            return _const(_FUNCTIONS[fn](vals[0].offset))
        except (ValueError, OverflowError) as exc:
            raise _err(e[3], f"{where}{fn}({vals[0].offset!r}) is undefined ({exc})") from None

    def const_int(self, e: Expr, what: str) -> int:
        v = self.evaluate(e, {}, "", "only numbers and constants are allowed here")
        if v.slot is not None or not float(v.offset).is_integer() or v.offset < 0:
            raise _err(e[-1], f"{what} must be a non-negative integer, got '{_show(e)}'")
        return int(v.offset)

    # -- program ----------------------------------------------------------------
    def parse(self) -> None:
        first = True
        while self.peek().kind != "eof":
            t = self.peek()
            self.stmt_start = t.pos
            if t.kind == "pragma":
                self.next()
                self.pragma(t)
                continue
            if t.kind != "id":
                raise _err(t.line, f"unexpected {self.show(t)} at the start of a statement")
            kw = t.value
            if kw == "OPENQASM":
                if not first:
                    raise _err(t.line, "'OPENQASM' must be the first statement; move it to the top")
                self.next()
                v = self.peek()
                if v.kind != "num" or not (v.value.startswith("2") or v.value.startswith("3")):
                    raise _err(v.line, f"unsupported OpenQASM version {self.show(v)}; use 'OPENQASM 3.0;' or 2.0")
                self.next()
                self.expect(";")
            elif kw == "include":
                self.next()
                s = self.peek()
                if s.kind != "str":
                    raise _err(s.line, f'expected a file name in quotes after include, found {self.show(s)}')
                self.next()
                fname = s.value[1:-1]
                if fname not in ("stdgates.inc", "qelib1.inc"):
                    raise _err(
                        s.line,
                        f"cannot include {fname!r} (only stdgates.inc and qelib1.inc are known); "
                        f"paste its gate definitions into the program",
                    )
                self.expect(";")
            elif kw == "input":
                self.input_decl()
            elif kw == "const":
                self.const_decl()
            elif kw in ("qubit", "qreg"):
                self.qubit_decl(kw)
            elif kw in ("bit", "creg"):
                self.bit_decl(kw)
            elif kw == "gate":
                self.gate_def()
            elif kw == "opaque":
                self.opaque_decl()
            elif kw == "measure":
                self.next()
                wires = self.qarg_wires(self.qarg())
                if self.accept("->"):
                    self.carg()
                self.expect(";")
                for w in wires:
                    self.st.measured.setdefault(w, t.line)
            elif kw == "barrier":
                self.next()
                if not self.at(";"):
                    self.qarg_wires(self.qarg())
                    while self.accept(","):
                        self.qarg_wires(self.qarg())
                self.expect(";")
            elif kw == "gphase":
                self.gphase()
            elif kw in self.st.clbits and (self.peek(1).value in ("=", "[")):
                self.carg()
                self.expect("=", " (only 'c = measure q;' assignments are supported)")
                m = self.ident("'measure'")
                if m.value != "measure":
                    raise _err(m.line, "only measurement results can be assigned to bits ('c = measure q;')")
                wires = self.qarg_wires(self.qarg())
                self.expect(";")
                for w in wires:
                    self.st.measured.setdefault(w, t.line)
            elif kw in _UNSUPPORTED:
                raise _err(t.line, _UNSUPPORTED[kw])
            else:
                self.top_call()
            first = False

    # -- statements ---------------------------------------------------------------
    def pragma(self, t: _Tok) -> None:
        words = t.value.split(None, 2)
        if not words or words[0] != "qgm":
            return  # other tools' pragmas
        if len(words) < 2:
            raise _err(t.line, "empty '#pragma qgm'; expected 'inputs' or 'unitary'")
        if words[1] == "inputs":
            for name in (words[2].split() if len(words) > 2 else []):
                self.st.inputs.setdefault(name, t.line)
        elif words[1] == "unitary":
            self.unitary_pragma(t, words[2] if len(words) > 2 else "")
        else:
            raise _err(t.line, f"unknown qgm pragma '{words[1]}'; expected 'inputs' or 'unitary'")

    def unitary_pragma(self, t: _Tok, rest: str) -> None:
        usage = "write '#pragma qgm unitary <name> <label JSON or null> <re> <im> ...' (4**k hex floats pairs)"
        parts = rest.split(None, 1)
        if len(parts) < 2 or not parts[0].isidentifier():
            raise _err(t.line, f"malformed unitary pragma; {usage}")
        ident, rest = parts
        try:
            label, end = json.JSONDecoder().raw_decode(rest)
        except json.JSONDecodeError:
            raise _err(t.line, f"unitary pragma '{ident}': label must be a JSON string or null; {usage}") from None
        if label is not None and not isinstance(label, str):
            raise _err(t.line, f"unitary pragma '{ident}': label must be a JSON string or null; {usage}")
        try:
            vals = [float.fromhex(x) for x in rest[end:].split()]
        except ValueError:
            raise _err(t.line, f"unitary pragma '{ident}': matrix entries must be hex floats; {usage}") from None
        d2 = len(vals) // 2
        d = math.isqrt(d2)
        if len(vals) % 2 or d * d != d2 or d < 2 or d & (d - 1):
            raise _err(t.line, f"unitary pragma '{ident}': got {len(vals)} numbers, need 2*4**k; {usage}")
        m = (np.array(vals[0::2]) + 1j * np.array(vals[1::2])).reshape(d, d).astype(np.complex128)
        if not np.allclose(m.conj().T @ m, np.eye(d), atol=1e-10):
            raise _err(t.line, f"unitary pragma '{ident}': the matrix is not unitary (U^dagger U != I)")
        m.setflags(write=False)
        if ident in self.st.unitaries or ident in self.st.defs:
            raise _err(t.line, f"gate '{ident}' is already defined; use another name")
        self.st.unitaries[ident] = _Unitary(ident, label, m, t.line)

    def input_decl(self) -> None:
        self.next()
        ty = self.ident("a type ('float[64]' or 'angle')")
        if ty.value not in ("float", "angle"):
            raise _err(
                ty.line,
                f"input of type '{ty.value}' is not supported; declare angles as 'input float[64] name;'",
            )
        if self.accept("["):
            self.const_int(self.expr(), "the type width")
            self.expect("]")
        name = self.ident("a slot name")
        self.declare(name, "input")
        self.expect(";")
        self.st.slots.append(name.value)
        self.st.slot_lines[name.value] = name.line

    def declare(self, name: _Tok, what: str) -> None:
        n = name.value
        st = self.st
        if n in st.slot_lines or n in st.consts or n in st.registers or n in st.clbits:
            raise _err(name.line, f"'{n}' is already declared; use another name for this {what}")
        if n in _CONSTANTS or n in _KEYWORDS:
            raise _err(name.line, f"'{n}' is a reserved name; use another name for this {what}")

    def const_decl(self) -> None:
        self.next()
        ty = self.ident("a type")
        if ty.value not in ("float", "angle", "int", "uint"):
            raise _err(ty.line, f"const of type '{ty.value}' is not supported; use float")
        if self.accept("["):
            self.const_int(self.expr(), "the type width")
            self.expect("]")
        name = self.ident("a constant name")
        self.declare(name, "constant")
        self.expect("=", " in a const declaration")
        e = self.expr()
        v = self.evaluate(e, {}, "", "a const value may use only numbers and earlier constants")
        if v.slot is not None:
            raise _err(name.line, f"const '{name.value}' depends on slot '{v.slot}'; a const must be a number")
        self.expect(";")
        self.st.consts[name.value] = v.offset

    def qubit_decl(self, kw: str) -> None:
        self.next()
        st = self.st
        size, scalar = 1, True
        if kw == "qubit" and self.accept("["):
            size, scalar = self.const_int(self.expr(), "the register size"), False
            self.expect("]")
        name = self.ident("a register name")
        if kw == "qreg":
            self.expect("[", " after the qreg name")
            size, scalar = self.const_int(self.expr(), "the register size"), False
            self.expect("]")
        self.declare(name, "register")
        if st.physical >= 0:
            raise _err(name.line, "cannot declare qubit registers after using physical qubits ($k); use one style")
        if size < 1:
            raise _err(name.line, f"register '{name.value}' must have at least 1 qubit")
        decl = f"qreg {name.value}[{size}]" if kw == "qreg" else (
            f"qubit {name.value}" if scalar else f"qubit[{size}] {name.value}"
        )
        self.expect(";")
        st.registers[name.value] = _Register(name.value, st.n_wires, size, scalar, decl)
        st.n_wires += size

    def bit_decl(self, kw: str) -> None:
        self.next()
        if kw == "bit" and self.accept("["):
            self.const_int(self.expr(), "the register size")
            self.expect("]")
        name = self.ident("a bit register name")
        if kw == "creg":
            self.expect("[")
            self.const_int(self.expr(), "the register size")
            self.expect("]")
        self.declare(name, "bit register")
        self.st.clbits.add(name.value)
        if self.accept("="):
            m = self.ident("'measure'")
            if m.value != "measure":
                raise _err(m.line, "bits can only be initialised by 'measure'")
            wires = self.qarg_wires(self.qarg())
            for w in wires:
                self.st.measured.setdefault(w, m.line)
        self.expect(";")

    def carg(self) -> None:
        t = self.ident("a bit register")
        if t.value not in self.st.clbits:
            raise _err(t.line, f"undeclared bit register '{t.value}'; declare it with 'bit[n] {t.value};'")
        if self.accept("["):
            self.expr()
            self.expect("]")

    def gphase(self) -> None:
        self.next()
        self.expect("(", " after gphase")
        self.expr()
        self.expect(")")
        self.expect(";")

    def qarg(self) -> Any:
        t = self.peek()
        if t.kind == "hw":
            self.next()
            return ("$", int(t.value[1:]), t.line)
        name = self.ident("a qubit (e.g. q[0])")
        idx = None
        if self.accept("["):
            idx = self.expr()
            if self.at(":") or self.at(","):
                raise _err(name.line, "register slices and index sets are not supported; list the qubits")
            self.expect("]", " closing the qubit index")
        return (name.value, idx, name.line)

    def qarg_wires(self, qa: Any) -> list[int]:
        st = self.st
        if qa[0] == "$":
            if st.registers:
                raise _err(qa[2], "cannot mix physical qubits ($k) with declared registers; use one style")
            st.physical = max(st.physical, qa[1])
            return [qa[1]]
        name, idx, line = qa
        reg = st.registers.get(name)
        if reg is None:
            if name in st.slot_lines or name in st.consts:
                raise _err(line, f"'{name}' is not a qubit register")
            raise _err(
                line,
                f"undeclared identifier '{name}' (expected a qubit register); declare it with 'qubit[n] {name};'",
            )
        if idx is None:
            return list(range(reg.start, reg.start + reg.size))
        if reg.scalar:
            raise _err(line, f"'{name}' is a single qubit ({reg.decl}); write it without an index")
        k = self.const_int(idx, "a qubit index")
        if k >= reg.size:
            raise _err(line, f"qubit index {k} out of range for {reg.decl} (use 0..{reg.size - 1})")
        return [reg.start + k]

    def call_head(self) -> tuple[_Tok, list[Expr]]:
        name = self.ident("a gate name")
        if self.at("@") or name.value in ("ctrl", "negctrl", "inv", "pow"):
            raise _err(name.line, _UNSUPPORTED.get(name.value, "gate modifiers are not supported"))
        args: list[Expr] = []
        if self.accept("("):
            if not self.at(")"):
                args.append(self.expr())
                while self.accept(","):
                    args.append(self.expr())
            self.expect(")", f" closing the arguments of '{name.value}'")
        return name, args

    def top_call(self) -> None:
        name, args = self.call_head()
        if self.at(";"):
            raise _err(name.line, f"gate '{name.value}' needs qubit arguments (e.g. {name.value} q[0];)")
        qargs = [self.qarg()]
        while self.accept(","):
            qargs.append(self.qarg())
        self.expect(";")
        target = self.resolve(name.value, name.line)
        self.check_arity(target, name.value, len(args), len(qargs), name.line)
        env = {s: _Aff(1.0, s, 0.0) for s in self.st.slots}
        allowed = "declare slots with 'input float[64] name;' before use"
        vals = [self.evaluate(e, env, "", allowed) for e in args]
        wire_lists = [self.qarg_wires(qa) for qa in qargs]
        sizes = {len(w) for w in wire_lists if len(w) != 1}
        if len(sizes) > 1:
            raise _err(name.line, f"gate '{name.value}' broadcast over registers of different sizes {sorted(sizes)}")
        reps = sizes.pop() if sizes else 1
        for r in range(reps):
            wires = [w[r] if len(w) > 1 else w[0] for w in wire_lists]
            if len(set(wires)) != len(wires):
                raise _err(name.line, f"gate '{name.value}' applied to the same qubit twice; use distinct qubits")
            for w in wires:
                if w in self.st.measured:
                    raise _err(
                        name.line,
                        f"gate '{name.value}' acts on a qubit measured at line {self.st.measured[w]}; "
                        f"qgm circuits are measured only at the end — move the measurement to the end",
                    )
            for p in self.expand(target, vals, wires, name.line):
                self.st.ops.append((p, name.line))

    # -- gate resolution and expansion ----------------------------------------
    def resolve(self, name: str, line: int) -> Any:
        if name in self.st.defs:
            return ("def", self.st.defs[name])
        if name in self.st.unitaries:
            return ("unitary", self.st.unitaries[name])
        canon = canonical_name(name)
        if canon is not None:
            return ("cat", canon)
        if name in self.library:
            return ("def", self.library[name])
        known = sorted(set(GATES) | set(self.library) | set(self.st.defs) | set(self.st.unitaries) | {"U", "CX"})
        raise _err(
            line,
            f"unknown gate '{name}'; known gates: {', '.join(known)} (define others with 'gate {name} ... {{ }}')",
        )

    @staticmethod
    def arity(target: Any) -> tuple[int, int]:
        kind, obj = target
        if kind == "cat":
            return GATES[obj].n_params, GATES[obj].n_wires
        if kind == "unitary":
            return 0, int(round(math.log2(obj.matrix.shape[0])))
        return len(obj.params), len(obj.qubits)

    def check_arity(self, target: Any, name: str, n_args: int, n_qargs: int, line: int) -> None:
        n_params, n_wires = self.arity(target)
        if n_args != n_params:
            raise _err(line, f"gate '{name}' takes {n_params} angle(s), got {n_args}")
        if n_qargs != n_wires:
            raise _err(line, f"gate '{name}' acts on {n_wires} qubit(s), got {n_qargs}")

    def expand(self, target: Any, vals: list[_Aff], wires: list[int], line: int) -> list[_Pending]:
        kind, obj = target
        if kind == "cat":
            return [(obj, tuple(wires), tuple(vals), None, None)]
        if kind == "unitary":
            return [("unitary", tuple(wires), (), obj.matrix, obj.label)]
        if obj.native is not None:
            return [(obj.native, tuple(wires), tuple(vals), None, None)]
        env = dict(zip(obj.params, vals))
        qmap = dict(zip(obj.qubits, wires))
        out: list[_Pending] = []
        where = f"in gate '{obj.name}' ({obj.origin}, body line {{}}): "
        for call in obj.body:
            w = where.format(call.line)
            allowed = f"a gate body can use only its parameters ({', '.join(obj.params) or 'none'}) and constants"
            try:
                args = [self.evaluate(e, env, w, allowed) for e in call.args]
            except CircuitError as exc:
                # report at the call site, keep the body detail
                msg = str(exc).split(": ", 1)[1]
                raise _err(line, msg) from None
            out.extend(self.expand(call.target, args, [qmap[q] for q in call.qargs], line))
        return out

    # -- definitions ------------------------------------------------------------
    def gate_def(self) -> None:
        kw = self.next()
        name = self.ident("a gate name")
        if name.value in self.st.defs or name.value in self.st.unitaries:
            raise _err(name.line, f"gate '{name.value}' is already defined; use another name")
        params: list[str] = []
        if self.accept("("):
            if not self.at(")"):
                params.append(self.ident("a parameter name").value)
                while self.accept(","):
                    params.append(self.ident("a parameter name").value)
            self.expect(")", f" closing the parameters of gate '{name.value}'")
        qubits = [self.ident("a qubit name").value]
        while self.accept(","):
            qubits.append(self.ident("a qubit name").value)
        for group, what in ((params, "parameter"), (qubits, "qubit")):
            if len(set(group)) != len(group):
                raise _err(name.line, f"gate '{name.value}' repeats a {what} name; use distinct names")
        self.expect("{", f" to open the body of gate '{name.value}'")
        body: list[_Call] = []
        while not self.at("}"):
            t = self.peek()
            self.stmt_start = t.pos
            if t.kind == "eof":
                raise _err(kw.line, f"gate '{name.value}' body is not closed; add '}}'")
            if t.kind == "pragma":
                self.next()
                continue
            if t.kind == "id" and t.value == "gphase":
                self.gphase()
                continue
            if t.kind == "id" and t.value == "barrier":
                self.next()
                while not self.at(";") and self.peek().kind != "eof":
                    self.next()
                self.expect(";")
                continue
            if t.kind == "id" and t.value in _UNSUPPORTED and t.value not in ("ctrl", "negctrl", "inv", "pow"):
                raise _err(t.line, _UNSUPPORTED[t.value])
            cname, args = self.call_head()
            qa = [self.ident("a qubit name of the gate").value]
            while self.accept(","):
                qa.append(self.ident("a qubit name of the gate").value)
            self.expect(";")
            for q in qa:
                if q not in qubits:
                    raise _err(
                        cname.line,
                        f"undeclared identifier '{q}' in gate '{name.value}'; its qubits are {', '.join(qubits)}",
                    )
            if len(set(qa)) != len(qa):
                raise _err(cname.line, f"gate '{cname.value}' applied to the same qubit twice; use distinct qubits")
            if cname.value == name.value:
                raise _err(cname.line, f"gate '{name.value}' calls itself; recursion is not allowed")
            target = self.resolve(cname.value, cname.line)
            self.check_arity(target, cname.value, len(args), len(qa), cname.line)
            # validate names now, so errors point at the definition
            env = {p: _Aff(1.0, None, 0.0) for p in params}
            allowed = f"a gate body can use only its parameters ({', '.join(params) or 'none'}) and constants"
            for e in args:
                self._check_names(e, env, f"in gate '{name.value}': ", allowed)
            body.append(_Call(cname.value, args, qa, cname.line, target))
        self.next()
        origin = "standard definition" if self.is_library else f"defined at line {name.line}"
        d = _GateDef(name.value, params, qubits, body, origin)
        canon = canonical_name(name.value)
        if canon is not None and GATES[canon].n_params == len(params) and GATES[canon].n_wires == len(qubits):
            if self._equals_catalogue(d, canon):
                d.native = canon
        if self.is_library:
            self.library[name.value] = d
        else:
            self.st.defs[name.value] = d

    def _check_names(self, e: Expr, env: dict[str, _Aff], where: str, allowed: str) -> None:
        if e[0] == "name":
            if e[1] not in env and e[1] not in self.st.consts and e[1] not in _CONSTANTS:
                raise _err(e[2], f"{where}undeclared identifier '{e[1]}'; {allowed}")
        elif e[0] == "neg":
            self._check_names(e[1], env, where, allowed)
        elif e[0] == "bin":
            self._check_names(e[2], env, where, allowed)
            self._check_names(e[3], env, where, allowed)
        elif e[0] == "call":
            for a in e[2]:
                self._check_names(a, env, where, allowed)

    def _equals_catalogue(self, d: _GateDef, canon: str) -> bool:
        """Whether the body of ``d`` equals catalogue gate ``canon`` (up to global phase)."""
        g = GATES[canon]
        k = g.n_wires
        for trial in ([0.7123, -1.3171, 2.2213, 0.4481], [-2.0917, 0.3319, -0.8846, 1.7707]):
            th = trial[: g.n_params]
            try:
                ops = self.expand(("def", d), [_const(x) for x in th], list(range(k)), 0)
            except CircuitError:
                return False
            got = _dense(ops, k)
            want = gate_matrix(canon, torch.tensor(th, dtype=torch.float64)).numpy()
            if not _equal_up_to_phase(got, want):
                return False
        return True

    def opaque_decl(self) -> None:
        self.next()
        name = self.ident("a gate name")
        if self.accept("("):
            while not self.at(")") and self.peek().kind != "eof":
                self.next()
            self.expect(")")
        qubits = [self.ident("a qubit name")]
        while self.accept(","):
            qubits.append(self.ident("a qubit name"))
        self.expect(";")
        u = self.st.unitaries.get(name.value)
        if u is None:
            raise _err(
                name.line,
                f"opaque gate '{name.value}' has no definition; give it a 'gate' body "
                f"(or a '#pragma qgm unitary {name.value} ...' line before it)",
            )
        k = int(round(math.log2(u.matrix.shape[0])))
        if len(qubits) != k:
            raise _err(name.line, f"opaque gate '{name.value}' has {len(qubits)} qubit(s) but its matrix acts on {k}")


# ---------------------------------------------------------------------------
# dense helpers (used to recognise definitions of catalogue gates)
# ---------------------------------------------------------------------------


def _embed(u: np.ndarray, wires: Sequence[int], n: int) -> np.ndarray:
    k = len(wires)
    others = [w for w in range(n) if w not in wires]
    full = np.kron(u, np.eye(2 ** (n - k)))
    order = list(wires) + others
    inv = [order.index(w) for w in range(n)]
    t = full.reshape([2] * (2 * n)).transpose(inv + [n + i for i in inv])
    return t.reshape(2**n, 2**n)


def _dense(ops: list[_Pending], n: int) -> np.ndarray:
    m = np.eye(2**n, dtype=np.complex128)
    for name, wires, vals, matrix, _ in ops:
        if name == "unitary":
            u = matrix
        else:
            u = gate_matrix(name, torch.tensor([v.offset for v in vals], dtype=torch.float64)).numpy()
        m = _embed(u, wires, n) @ m
    return m


def _equal_up_to_phase(a: np.ndarray, b: np.ndarray, atol: float = 1e-9) -> bool:
    i = np.unravel_index(np.argmax(np.abs(b)), b.shape)
    if abs(a[i]) < 1e-12:
        return False
    phase = b[i] / a[i]
    return bool(abs(abs(phase) - 1) < atol and np.allclose(a * phase, b, atol=atol))


_LIBRARY: dict[str, _GateDef] | None = None


def _library() -> dict[str, _GateDef]:
    global _LIBRARY
    if _LIBRARY is None:
        p = _Parser(_LIBRARY_SOURCE, _State(), None)
        p.parse()
        _LIBRARY = p.library
    return _LIBRARY


# ---------------------------------------------------------------------------
# import entry point
# ---------------------------------------------------------------------------


def from_qasm(text: str) -> Circuit:
    """Parse OpenQASM 3 (or 2) ``text`` into a :class:`Circuit`.

    ``input float[64] name;`` declares a trainable slot (an input slot when
    named in ``#pragma qgm inputs``), in declaration order. See the module
    docstring for the supported subset. Raises :class:`CircuitError` with the
    line number on any problem.
    """
    if not isinstance(text, str):
        raise CircuitError(f"from_qasm expects the program text as a str, got {type(text).__name__}")
    st = _State()
    parser = _Parser(text, st, _library())
    parser.parse()
    for name, line in st.inputs.items():
        if name not in st.slot_lines:
            raise _err(
                line, f"'#pragma qgm inputs' names '{name}', which is not declared; add 'input float[64] {name};'"
            )
    n = st.n_wires if st.registers else st.physical + 1
    if n < 1:
        raise CircuitError("line 1: the program declares no qubits; add 'qubit[n] q;'")
    kinds = {s: ("input" if s in st.inputs else "param") for s in st.slots}
    ops: list[Op] = []
    for (name, wires, vals, matrix, label), _line in st.ops:
        angles = tuple(
            float(v.offset)
            if v.slot is None
            else Param(v.slot, kinds[v.slot], float(v.scale), float(v.offset))  # type: ignore[arg-type]
            for v in vals
        )
        ops.append(Op(name, wires, angles, matrix, label))
    try:
        return Circuit(
            n,
            ops,
            [s for s in st.slots if kinds[s] == "param"],
            [s for s in st.slots if kinds[s] == "input"],
        )
    except CircuitError as exc:  # pragma: no cover - the parser checks these first
        raise CircuitError(f"line {st.ops[-1][1] if st.ops else 1}: {exc}") from None
