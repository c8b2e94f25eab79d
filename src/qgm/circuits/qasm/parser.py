"""OpenQASM in: :func:`from_qasm` reads OpenQASM 3 (or 2) text into a :class:`Circuit`.

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
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

from qgm.circuits.circuit import Circuit, Op, Param
from qgm.circuits.gates import GATES, canonical_name, gate_matrix
from qgm.circuits.qasm.equivalence import dense, equal_up_to_phase
from qgm.circuits.qasm.expressions import (
    CONSTANTS,
    FUNCTIONS,
    Aff,
    Expr,
    NotAffine,
    add,
    const,
    div,
    mul,
    neg,
    show,
)
from qgm.circuits.qasm.lexer import KEYWORDS, Token, error, tokenize
from qgm.circuits.qasm.library import LIBRARY_SOURCE
from qgm.errors import CircuitError

__all__ = ["from_qasm"]

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


# A pending op: (catalogue name or "unitary", wires, angles as Aff, matrix, label)
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
        self.toks = tokenize(text)
        self.i = 0
        self.stmt_start = 0  # source offset of the statement being parsed
        self.st = state
        self.library = library if library is not None else {}
        self.is_library = library is None

    # -- token helpers ------------------------------------------------------
    def peek(self, k: int = 0) -> Token:
        return self.toks[min(self.i + k, len(self.toks) - 1)]

    def next(self) -> Token:
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
    def show(t: Token) -> str:
        return "end of file" if t.kind == "eof" else repr(t.value)

    def expect(self, value: str, context: str = "") -> Token:
        if self.at(value):
            return self.next()
        t = self.peek()
        if value == ";" and self.i > 0:
            prev = self.toks[self.i - 1]
            stmt = " ".join(self.text[min(self.stmt_start, prev.pos) : prev.end].split())
            if len(stmt) > 40:
                stmt = "..." + stmt[-37:]
            raise error(
                prev.line,
                f"expected ';' after {stmt!r}{context}, found {self.show(t)}; end each statement with ';'",
            )
        raise error(t.line, f"expected {value!r}{context}, found {self.show(t)}")

    def ident(self, what: str) -> Token:
        t = self.peek()
        if t.kind != "id":
            raise error(t.line, f"expected {what}, found {self.show(t)}")
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
            if self.at("(") and t.value in FUNCTIONS:
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
        raise error(t.line, f"expected a number, name or '(' in an expression, found {self.show(t)}")

    def evaluate(self, e: Expr, env: dict[str, Aff], where: str, allowed: str) -> Aff:
        """Evaluate ``e``; ``where`` prefixes messages, ``allowed`` explains the visible names."""
        try:
            return self._eval(e, env, where, allowed)
        except NotAffine as exc:
            raise error(
                e[-1],
                f"{where}angle expression '{show(e)}' is not affine in one slot: {exc}. A qgm angle is "
                f"scale*slot + offset with one slot; introduce one slot for the combination or bind values",
            ) from None

    def _eval(self, e: Expr, env: dict[str, Aff], where: str, allowed: str) -> Aff:
        kind = e[0]
        if kind == "num":
            return const(float(e[1]))
        if kind == "name":
            name = e[1]
            if name in env:
                return env[name]
            if name in self.st.consts:
                return const(self.st.consts[name])
            if name in CONSTANTS:
                return const(CONSTANTS[name])
            raise error(e[2], f"{where}undeclared identifier '{name}'; {allowed}")
        if kind == "neg":
            return neg(self._eval(e[1], env, where, allowed))
        if kind == "bin":
            a = self._eval(e[2], env, where, allowed)
            b = self._eval(e[3], env, where, allowed)
            op = e[1]
            if op == "+":
                return add(a, b)
            if op == "-":
                return add(a, neg(b))
            if op == "*":
                return mul(a, b)
            if op == "/":
                return div(a, b)
            if a.slot is not None or b.slot is not None:
                raise NotAffine(f"it raises slot '{a.slot or b.slot}' to a power or uses it as exponent")
            try:
                v = a.offset**b.offset
            except (OverflowError, ZeroDivisionError) as exc:
                raise NotAffine(f"power failed ({exc})") from None
            if isinstance(v, complex):
                raise NotAffine("the power is not a real number")
            return const(v)
        fn, args = e[1], e[2]
        vals = [self._eval(a, env, where, allowed) for a in args]
        if len(vals) != 1:
            raise error(e[3], f"{where}{fn}() takes one argument, got {len(vals)}")
        if vals[0].slot is not None:
            raise NotAffine(f"it applies {fn}() to slot '{vals[0].slot}'")
        try:
            return const(FUNCTIONS[fn](vals[0].offset))
        except (ValueError, OverflowError) as exc:
            raise error(e[3], f"{where}{fn}({vals[0].offset!r}) is undefined ({exc})") from None

    def const_int(self, e: Expr, what: str) -> int:
        v = self.evaluate(e, {}, "", "only numbers and constants are allowed here")
        if v.slot is not None or not float(v.offset).is_integer() or v.offset < 0:
            raise error(e[-1], f"{what} must be a non-negative integer, got '{show(e)}'")
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
                raise error(t.line, f"unexpected {self.show(t)} at the start of a statement")
            kw = t.value
            if kw == "OPENQASM":
                if not first:
                    raise error(t.line, "'OPENQASM' must be the first statement; move it to the top")
                self.next()
                v = self.peek()
                if v.kind != "num" or not (v.value.startswith("2") or v.value.startswith("3")):
                    raise error(v.line, f"unsupported OpenQASM version {self.show(v)}; use 'OPENQASM 3.0;' or 2.0")
                self.next()
                self.expect(";")
            elif kw == "include":
                self.next()
                s = self.peek()
                if s.kind != "str":
                    raise error(s.line, f'expected a file name in quotes after include, found {self.show(s)}')
                self.next()
                fname = s.value[1:-1]
                if fname not in ("stdgates.inc", "qelib1.inc"):
                    raise error(
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
                    raise error(m.line, "only measurement results can be assigned to bits ('c = measure q;')")
                wires = self.qarg_wires(self.qarg())
                self.expect(";")
                for w in wires:
                    self.st.measured.setdefault(w, t.line)
            elif kw in _UNSUPPORTED:
                raise error(t.line, _UNSUPPORTED[kw])
            else:
                self.top_call()
            first = False

    # -- statements ---------------------------------------------------------------
    def pragma(self, t: Token) -> None:
        words = t.value.split(None, 2)
        if not words or words[0] != "qgm":
            return  # other tools' pragmas
        if len(words) < 2:
            raise error(t.line, "empty '#pragma qgm'; expected 'inputs' or 'unitary'")
        if words[1] == "inputs":
            for name in (words[2].split() if len(words) > 2 else []):
                self.st.inputs.setdefault(name, t.line)
        elif words[1] == "unitary":
            self.unitary_pragma(t, words[2] if len(words) > 2 else "")
        else:
            raise error(t.line, f"unknown qgm pragma '{words[1]}'; expected 'inputs' or 'unitary'")

    def unitary_pragma(self, t: Token, rest: str) -> None:
        usage = "write '#pragma qgm unitary <name> <label JSON or null> <re> <im> ...' (4**k hex floats pairs)"
        parts = rest.split(None, 1)
        if len(parts) < 2 or not parts[0].isidentifier():
            raise error(t.line, f"malformed unitary pragma; {usage}")
        ident, rest = parts
        try:
            label, end = json.JSONDecoder().raw_decode(rest)
        except json.JSONDecodeError:
            raise error(t.line, f"unitary pragma '{ident}': label must be a JSON string or null; {usage}") from None
        if label is not None and not isinstance(label, str):
            raise error(t.line, f"unitary pragma '{ident}': label must be a JSON string or null; {usage}")
        try:
            vals = [float.fromhex(x) for x in rest[end:].split()]
        except ValueError:
            raise error(t.line, f"unitary pragma '{ident}': matrix entries must be hex floats; {usage}") from None
        d2 = len(vals) // 2
        d = math.isqrt(d2)
        if len(vals) % 2 or d * d != d2 or d < 2 or d & (d - 1):
            raise error(t.line, f"unitary pragma '{ident}': got {len(vals)} numbers, need 2*4**k; {usage}")
        m = (np.array(vals[0::2]) + 1j * np.array(vals[1::2])).reshape(d, d).astype(np.complex128)
        if not np.allclose(m.conj().T @ m, np.eye(d), atol=1e-10):
            raise error(t.line, f"unitary pragma '{ident}': the matrix is not unitary (U^dagger U != I)")
        m.setflags(write=False)
        if ident in self.st.unitaries or ident in self.st.defs:
            raise error(t.line, f"gate '{ident}' is already defined; use another name")
        self.st.unitaries[ident] = _Unitary(ident, label, m, t.line)

    def input_decl(self) -> None:
        self.next()
        ty = self.ident("a type ('float[64]' or 'angle')")
        if ty.value not in ("float", "angle"):
            raise error(
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

    def declare(self, name: Token, what: str) -> None:
        n = name.value
        st = self.st
        if n in st.slot_lines or n in st.consts or n in st.registers or n in st.clbits:
            raise error(name.line, f"'{n}' is already declared; use another name for this {what}")
        if n in CONSTANTS or n in KEYWORDS:
            raise error(name.line, f"'{n}' is a reserved name; use another name for this {what}")

    def const_decl(self) -> None:
        self.next()
        ty = self.ident("a type")
        if ty.value not in ("float", "angle", "int", "uint"):
            raise error(ty.line, f"const of type '{ty.value}' is not supported; use float")
        if self.accept("["):
            self.const_int(self.expr(), "the type width")
            self.expect("]")
        name = self.ident("a constant name")
        self.declare(name, "constant")
        self.expect("=", " in a const declaration")
        e = self.expr()
        v = self.evaluate(e, {}, "", "a const value may use only numbers and earlier constants")
        if v.slot is not None:
            raise error(name.line, f"const '{name.value}' depends on slot '{v.slot}'; a const must be a number")
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
            raise error(name.line, "cannot declare qubit registers after using physical qubits ($k); use one style")
        if size < 1:
            raise error(name.line, f"register '{name.value}' must have at least 1 qubit")
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
                raise error(m.line, "bits can only be initialised by 'measure'")
            wires = self.qarg_wires(self.qarg())
            for w in wires:
                self.st.measured.setdefault(w, m.line)
        self.expect(";")

    def carg(self) -> None:
        t = self.ident("a bit register")
        if t.value not in self.st.clbits:
            raise error(t.line, f"undeclared bit register '{t.value}'; declare it with 'bit[n] {t.value};'")
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
                raise error(name.line, "register slices and index sets are not supported; list the qubits")
            self.expect("]", " closing the qubit index")
        return (name.value, idx, name.line)

    def qarg_wires(self, qa: Any) -> list[int]:
        st = self.st
        if qa[0] == "$":
            if st.registers:
                raise error(qa[2], "cannot mix physical qubits ($k) with declared registers; use one style")
            st.physical = max(st.physical, qa[1])
            return [qa[1]]
        name, idx, line = qa
        reg = st.registers.get(name)
        if reg is None:
            if name in st.slot_lines or name in st.consts:
                raise error(line, f"'{name}' is not a qubit register")
            raise error(
                line,
                f"undeclared identifier '{name}' (expected a qubit register); declare it with 'qubit[n] {name};'",
            )
        if idx is None:
            return list(range(reg.start, reg.start + reg.size))
        if reg.scalar:
            raise error(line, f"'{name}' is a single qubit ({reg.decl}); write it without an index")
        k = self.const_int(idx, "a qubit index")
        if k >= reg.size:
            raise error(line, f"qubit index {k} out of range for {reg.decl} (use 0..{reg.size - 1})")
        return [reg.start + k]

    def call_head(self) -> tuple[Token, list[Expr]]:
        name = self.ident("a gate name")
        if self.at("@") or name.value in ("ctrl", "negctrl", "inv", "pow"):
            raise error(name.line, _UNSUPPORTED.get(name.value, "gate modifiers are not supported"))
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
            raise error(name.line, f"gate '{name.value}' needs qubit arguments (e.g. {name.value} q[0];)")
        qargs = [self.qarg()]
        while self.accept(","):
            qargs.append(self.qarg())
        self.expect(";")
        target = self.resolve(name.value, name.line)
        self.check_arity(target, name.value, len(args), len(qargs), name.line)
        env = {s: Aff(1.0, s, 0.0) for s in self.st.slots}
        allowed = "declare slots with 'input float[64] name;' before use"
        vals = [self.evaluate(e, env, "", allowed) for e in args]
        wire_lists = [self.qarg_wires(qa) for qa in qargs]
        sizes = {len(w) for w in wire_lists if len(w) != 1}
        if len(sizes) > 1:
            raise error(name.line, f"gate '{name.value}' broadcast over registers of different sizes {sorted(sizes)}")
        reps = sizes.pop() if sizes else 1
        for r in range(reps):
            wires = [w[r] if len(w) > 1 else w[0] for w in wire_lists]
            if len(set(wires)) != len(wires):
                raise error(name.line, f"gate '{name.value}' applied to the same qubit twice; use distinct qubits")
            for w in wires:
                if w in self.st.measured:
                    raise error(
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
        raise error(
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
            raise error(line, f"gate '{name}' takes {n_params} angle(s), got {n_args}")
        if n_qargs != n_wires:
            raise error(line, f"gate '{name}' acts on {n_wires} qubit(s), got {n_qargs}")

    def expand(self, target: Any, vals: list[Aff], wires: list[int], line: int) -> list[_Pending]:
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
                raise error(line, msg) from None
            out.extend(self.expand(call.target, args, [qmap[q] for q in call.qargs], line))
        return out

    # -- definitions ------------------------------------------------------------
    def gate_def(self) -> None:
        kw = self.next()
        name = self.ident("a gate name")
        if name.value in self.st.defs or name.value in self.st.unitaries:
            raise error(name.line, f"gate '{name.value}' is already defined; use another name")
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
                raise error(name.line, f"gate '{name.value}' repeats a {what} name; use distinct names")
        self.expect("{", f" to open the body of gate '{name.value}'")
        body: list[_Call] = []
        while not self.at("}"):
            t = self.peek()
            self.stmt_start = t.pos
            if t.kind == "eof":
                raise error(kw.line, f"gate '{name.value}' body is not closed; add '}}'")
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
                raise error(t.line, _UNSUPPORTED[t.value])
            cname, args = self.call_head()
            qa = [self.ident("a qubit name of the gate").value]
            while self.accept(","):
                qa.append(self.ident("a qubit name of the gate").value)
            self.expect(";")
            for q in qa:
                if q not in qubits:
                    raise error(
                        cname.line,
                        f"undeclared identifier '{q}' in gate '{name.value}'; its qubits are {', '.join(qubits)}",
                    )
            if len(set(qa)) != len(qa):
                raise error(cname.line, f"gate '{cname.value}' applied to the same qubit twice; use distinct qubits")
            if cname.value == name.value:
                raise error(cname.line, f"gate '{name.value}' calls itself; recursion is not allowed")
            target = self.resolve(cname.value, cname.line)
            self.check_arity(target, cname.value, len(args), len(qa), cname.line)
            # validate names now, so errors point at the definition
            env = {p: Aff(1.0, None, 0.0) for p in params}
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

    def _check_names(self, e: Expr, env: dict[str, Aff], where: str, allowed: str) -> None:
        if e[0] == "name":
            if e[1] not in env and e[1] not in self.st.consts and e[1] not in CONSTANTS:
                raise error(e[2], f"{where}undeclared identifier '{e[1]}'; {allowed}")
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
                ops = self.expand(("def", d), [const(x) for x in th], list(range(k)), 0)
            except CircuitError:
                return False
            got = dense(ops, k)
            want = gate_matrix(canon, torch.tensor(th, dtype=torch.float64)).numpy()
            if not equal_up_to_phase(got, want):
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
            raise error(
                name.line,
                f"opaque gate '{name.value}' has no definition; give it a 'gate' body "
                f"(or a '#pragma qgm unitary {name.value} ...' line before it)",
            )
        k = int(round(math.log2(u.matrix.shape[0])))
        if len(qubits) != k:
            raise error(name.line, f"opaque gate '{name.value}' has {len(qubits)} qubit(s) but its matrix acts on {k}")


_LIBRARY: dict[str, _GateDef] | None = None


def _library() -> dict[str, _GateDef]:
    global _LIBRARY
    if _LIBRARY is None:
        p = _Parser(LIBRARY_SOURCE, _State(), None)
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
            raise error(
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