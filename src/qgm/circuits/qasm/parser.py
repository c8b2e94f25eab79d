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

Every problem raises a one-line :class:`qgm.errors.CircuitError`; problems of the
text start with ``line N:``, and every message says how to fix it. Sizes are
bounded by :class:`~qgm.circuits.qasm.limits.QasmLimits` (file size, nesting,
gate expansions, expression terms, qubits), each refused before the work.

Speed: a statement that is a plain gate call on indexed qubits written on one
line (``rz(0.25) q[3];``, ``cx q[0], q[1];``, as exporters write them) is read
with one regular-expression match instead of token by token; anything else, or
anything that match cannot read, goes through the tokenizer with the same
meaning and the same messages.
"""
from __future__ import annotations

import functools
import json
import math
import os
import re
from pathlib import Path
from typing import Union

import numpy as np

from qgm.circuits.circuit import Circuit
from qgm.circuits.qasm.expressions import Expr, parse_expression
from qgm.circuits.qasm.lexer import KEYWORDS, Lexer, Token, TokenStream, clip, error
from qgm.circuits.qasm.library import LIBRARY_SOURCE
from qgm.circuits.qasm.limits import DEFAULT_LIMITS, QasmLimits
from qgm.circuits.qasm.program import Arg, Call, GateDef, Program, QArg, UnitaryDef
from qgm.errors import CircuitError

__all__ = ["from_qasm", "read_qasm"]

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
_MODIFIERS = ("ctrl", "negctrl", "inv", "pow")

# A gate call on indexed qubits on one line, e.g. 'rz(pi/4) q[3];' or 'cx q[0],q[1];' (the fast path).
_ID = r"[A-Za-z_][A-Za-z0-9_]*"
_QUBIT = _ID + r"[ \t]*\[[ \t]*[0-9]+[ \t]*\]"
_SIMPLE_CALL = re.compile(
    rf"({_ID})(?:[ \t]*\(([^()\n;]*)\)[ \t]*|[ \t]+)"  # name, arguments
    rf"({_ID})[ \t]*\[[ \t]*([0-9]+)[ \t]*\]((?:[ \t]*,[ \t]*{_QUBIT})*)[ \t]*;"  # first qubit, the others
    r"(?:[ \t\r]*(\n))?"  # and the end of its line, when nothing else is on it
)
_QUBIT_PARTS = re.compile(rf"({_ID})[ \t]*\[[ \t]*([0-9]+)[ \t]*\]")
_NUMBER = re.compile(r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
_STATEMENT_WORDS = KEYWORDS - {"U", "CX"}  # words that start something other than a gate call
_CACHED_ARGUMENTS = 1 << 16
_CHUNK = 1 << 20  # bytes read at a time from a file


class Parser:
    """Reads the statements of ``text`` into ``program`` (see the module docstring)."""

    def __init__(self, text: str, program: Program) -> None:
        self.text = text
        self.ts = TokenStream(Lexer(text))
        self.program = program
        self.limits = program.limits
        self.arguments: dict[str, Arg] = {}  # argument text -> number or expression, for the fast path

    def expr(self) -> Expr:
        return parse_expression(self.ts, self.limits)

    # -- program ----------------------------------------------------------------
    def parse(self) -> None:
        ts, lexer, prog = self.ts, self.ts.lexer, self.program
        first = True
        while True:
            if not ts.ahead:
                # a statement starting right here needs no trivia skipped (a 'pragma' is a statement word)
                m = _SIMPLE_CALL.match(self.text, lexer.pos)
                if m is None:
                    lexer.skip_trivia()
                    m = _SIMPLE_CALL.match(self.text, lexer.pos)
                if m is not None and self.simple_call(m, lexer.line):
                    lexer.pos = m.end()
                    lexer.at_line_start = m.group(6) is not None
                    lexer.line += lexer.at_line_start
                    first = False
                    continue
            t = ts.peek()
            if t.kind == "eof":
                return
            ts.stmt_start = t.pos
            if t.kind == "pragma":
                ts.next()
                self.pragma(t)
                continue
            if t.kind != "id":
                raise error(t.line, f"unexpected {ts.show(t)} at the start of a statement")
            kw = t.value
            if kw == "OPENQASM":
                if not first:
                    raise error(t.line, "'OPENQASM' must be the first statement; move it to the top")
                self.version()
            elif kw == "include":
                self.include()
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
                self.measure(t)
            elif kw == "barrier":
                self.barrier()
            elif kw == "gphase":
                self.gphase()
            elif kw in prog.clbits and ts.peek(1).value in ("=", "["):
                self.measure_assignment(t)
            elif kw in _UNSUPPORTED:
                raise error(t.line, _UNSUPPORTED[kw])
            else:
                self.top_call()
            first = False

    def simple_call(self, m: re.Match, line: int) -> bool:
        """Run the one-line gate call ``m`` of ``_SIMPLE_CALL``; False (nothing done) if the tokenizer must
        read it instead (a keyword, comments or anything unusual in the arguments)."""
        name, arg_text, reg, index, more_qubits, _ = m.groups()
        if name in _STATEMENT_WORDS:
            return False
        args: list[Arg] = []
        if arg_text is not None and arg_text.strip():
            if "//" in arg_text or "/*" in arg_text:
                return False
            for piece in arg_text.split(","):
                piece = piece.strip()
                if _NUMBER.fullmatch(piece):
                    args.append(float(piece))
                    continue
                a = self.arguments.get(piece)
                if a is None:
                    a = self._argument(piece, line)
                if a is None:
                    return False
                args.append(a)
        qargs: list[QArg] = [(reg, float(index), line)]
        if more_qubits:
            qargs.extend((r, float(i), line) for r, i in _QUBIT_PARTS.findall(more_qubits))
        if any(q[1] >= 1e15 for q in qargs):  # huge indices (even inf): the tokenizer reports them
            return False
        self.program.apply(name, line, args, qargs)
        return True

    def _argument(self, piece: str, line: int) -> Arg | None:
        """``piece`` (one argument's text) as its number if it has no slot, else as an expression (cached);
        None if it is not exactly one expression.

        A number is final: names cannot be declared again, so ``piece`` means the
        same wherever it recurs. Errors are left to :meth:`Program.apply`, which
        reports them in the same order as for any other call.
        """
        lexer = Lexer(piece, line)
        lexer.at_line_start = False  # inside a statement: no pragmas or annotations
        ts = TokenStream(lexer)
        try:
            e = parse_expression(ts, self.limits)
        except CircuitError:
            return None
        if ts.peek().kind != "eof":
            return None
        arg: Arg = e
        try:
            v = self.program.value(e, self.program.slot_values, "", "")
            if v.slot is None:
                arg = v.offset
        except CircuitError:
            return e
        if len(self.arguments) < _CACHED_ARGUMENTS:
            self.arguments[piece] = arg
        return arg

    # -- statements ---------------------------------------------------------------
    def version(self) -> None:
        ts = self.ts
        ts.next()
        v = ts.peek()
        if v.kind != "num" or not (v.value.startswith("2") or v.value.startswith("3")):
            raise error(v.line, f"unsupported OpenQASM version {ts.show(v)}; use 'OPENQASM 3.0;' or 2.0")
        ts.next()
        ts.expect(";")

    def include(self) -> None:
        ts = self.ts
        ts.next()
        s = ts.peek()
        if s.kind != "str":
            raise error(s.line, f"expected a file name in quotes after include, found {ts.show(s)}")
        ts.next()
        fname = s.value[1:-1]
        if fname not in ("stdgates.inc", "qelib1.inc"):
            raise error(
                s.line,
                f"cannot include {clip(fname)!r} (only stdgates.inc and qelib1.inc are known); "
                f"paste its gate definitions into the program",
            )
        ts.expect(";")

    def pragma(self, t: Token) -> None:
        words = t.value.split(None, 2)
        if not words or words[0] != "qgm":
            return  # other tools' pragmas
        if len(words) < 2:
            raise error(t.line, "empty '#pragma qgm'; expected 'inputs' or 'unitary'")
        if words[1] == "inputs":
            for name in (words[2].split() if len(words) > 2 else []):
                self.program.inputs.setdefault(name, t.line)
        elif words[1] == "unitary":
            self.unitary_pragma(t, words[2] if len(words) > 2 else "")
        else:
            raise error(t.line, f"unknown qgm pragma '{clip(words[1])}'; expected 'inputs' or 'unitary'")

    def unitary_pragma(self, t: Token, rest: str) -> None:
        usage = "write '#pragma qgm unitary <name> <label JSON or null> <re> <im> ...' (4**k hex floats pairs)"
        parts = rest.split(None, 1)
        if len(parts) < 2 or not parts[0].isidentifier():
            raise error(t.line, f"malformed unitary pragma; {usage}")
        ident, rest = parts
        try:
            label, end = json.JSONDecoder().raw_decode(rest)
        except (json.JSONDecodeError, RecursionError):  # RecursionError: deeply nested JSON arrays
            label, end = None, -1
        if end < 0 or (label is not None and not isinstance(label, str)):
            raise error(t.line, f"unitary pragma '{clip(ident)}': label must be a JSON string or null; {usage}")
        try:
            vals = [float.fromhex(x) for x in rest[end:].split()]
        except ValueError:
            raise error(t.line, f"unitary pragma '{clip(ident)}': matrix entries must be hex floats; {usage}") from None
        d2 = len(vals) // 2
        d = math.isqrt(d2)
        if len(vals) % 2 or d * d != d2 or d < 2 or d & (d - 1):
            raise error(t.line, f"unitary pragma '{clip(ident)}': got {len(vals)} numbers, need 2*4**k; {usage}")
        m = (np.array(vals[0::2]) + 1j * np.array(vals[1::2])).reshape(d, d).astype(np.complex128)
        if not np.allclose(m.conj().T @ m, np.eye(d), atol=1e-10):
            raise error(t.line, f"unitary pragma '{clip(ident)}': the matrix is not unitary (U^dagger U != I)")
        m.setflags(write=False)
        self.program.add_unitary(UnitaryDef(ident, label, m, t.line))

    def type_width(self) -> None:
        if self.ts.accept("["):
            self.program.const_int(self.expr(), "the type width")
            self.ts.expect("]")

    def input_decl(self) -> None:
        ts = self.ts
        ts.next()
        ty = ts.ident("a type ('float[64]' or 'angle')")
        if ty.value not in ("float", "angle"):
            raise error(
                ty.line,
                f"input of type '{clip(ty.value)}' is not supported; declare angles as 'input float[64] name;'",
            )
        self.type_width()
        name = ts.ident("a slot name")
        self.program.check_new_name(name, "input")
        ts.expect(";")
        self.program.add_slot(name)

    def const_decl(self) -> None:
        ts = self.ts
        ts.next()
        ty = ts.ident("a type")
        if ty.value not in ("float", "angle", "int", "uint"):
            raise error(ty.line, f"const of type '{clip(ty.value)}' is not supported; use float")
        self.type_width()
        name = ts.ident("a constant name")
        self.program.check_new_name(name, "constant")
        ts.expect("=", " in a const declaration")
        v = self.program.const_value(self.expr(), "a const value may use only numbers and earlier constants")
        self.program.add_const(name, v)
        ts.expect(";")

    def qubit_decl(self, kw: str) -> None:
        ts, prog = self.ts, self.program
        ts.next()
        size, scalar = 1, True
        if kw == "qubit" and ts.accept("["):
            size, scalar = prog.const_int(self.expr(), "the register size"), False
            ts.expect("]")
        name = ts.ident("a register name")
        if kw == "qreg":
            ts.expect("[", " after the qreg name")
            size, scalar = prog.const_int(self.expr(), "the register size"), False
            ts.expect("]")
        prog.check_new_name(name, "register")
        decl = f"qreg {name.value}[{size}]" if kw == "qreg" else (
            f"qubit {name.value}" if scalar else f"qubit[{size}] {name.value}"
        )
        prog.add_register(name, size, scalar, decl)
        ts.expect(";")

    def bit_decl(self, kw: str) -> None:
        ts, prog = self.ts, self.program
        ts.next()
        if kw == "bit" and ts.accept("["):
            prog.const_int(self.expr(), "the register size")
            ts.expect("]")
        name = ts.ident("a bit register name")
        if kw == "creg":
            ts.expect("[")
            prog.const_int(self.expr(), "the register size")
            ts.expect("]")
        prog.check_new_name(name, "bit register")
        prog.clbits.add(name.value)
        if ts.accept("="):
            m = ts.ident("'measure'")
            if m.value != "measure":
                raise error(m.line, "bits can only be initialised by 'measure'")
            prog.mark_measured(prog.wires(self.qarg()), m.line)
        ts.expect(";")

    def measure(self, t: Token) -> None:
        ts = self.ts
        ts.next()
        wires = self.program.wires(self.qarg())
        if ts.accept("->"):
            self.carg()
        ts.expect(";")
        self.program.mark_measured(wires, t.line)

    def measure_assignment(self, t: Token) -> None:
        ts = self.ts
        self.carg()
        ts.expect("=", " (only 'c = measure q;' assignments are supported)")
        m = ts.ident("'measure'")
        if m.value != "measure":
            raise error(m.line, "only measurement results can be assigned to bits ('c = measure q;')")
        wires = self.program.wires(self.qarg())
        ts.expect(";")
        self.program.mark_measured(wires, t.line)

    def barrier(self) -> None:
        ts = self.ts
        ts.next()
        if not ts.at(";"):
            self.program.wires(self.qarg())
            while ts.accept(","):
                self.program.wires(self.qarg())
        ts.expect(";")

    def carg(self) -> None:
        t = self.ts.ident("a bit register")
        if t.value not in self.program.clbits:
            raise error(t.line, f"undeclared bit register '{clip(t.value)}'; declare it with 'bit[n] {clip(t.value)};'")
        if self.ts.accept("["):
            self.expr()
            self.ts.expect("]")

    def gphase(self) -> None:
        ts = self.ts
        ts.next()
        ts.expect("(", " after gphase")
        self.expr()
        ts.expect(")")
        ts.expect(";")

    def qarg(self) -> QArg:
        ts = self.ts
        t = ts.peek()
        if t.kind == "hw":
            ts.next()
            return ("$", int(t.value[1:]), t.line)
        name = ts.ident("a qubit (e.g. q[0])")
        idx = None
        if ts.accept("["):
            idx = self.expr()
            if ts.at(":") or ts.at(","):
                raise error(name.line, "register slices and index sets are not supported; list the qubits")
            ts.expect("]", " closing the qubit index")
        return (name.value, idx, name.line)

    def call_head(self) -> tuple[Token, list[Expr]]:
        ts = self.ts
        name = ts.ident("a gate name")
        if ts.at("@") or name.value in _MODIFIERS:
            raise error(name.line, _UNSUPPORTED.get(name.value, "gate modifiers are not supported"))
        args: list[Expr] = []
        if ts.accept("("):
            if not ts.at(")"):
                args.append(self.expr())
                while ts.accept(","):
                    args.append(self.expr())
            ts.expect(")", f" closing the arguments of '{clip(name.value)}'")
        return name, args

    def top_call(self) -> None:
        ts = self.ts
        name, args = self.call_head()
        if ts.at(";"):
            raise error(name.line, f"gate '{clip(name.value)}' needs qubit arguments (e.g. {clip(name.value)} q[0];)")
        qargs = [self.qarg()]
        while ts.accept(","):
            qargs.append(self.qarg())
        ts.expect(";")
        self.program.apply(name.value, name.line, args, qargs)

    # -- definitions ------------------------------------------------------------
    def gate_def(self) -> None:
        ts, prog = self.ts, self.program
        kw = ts.next()
        name = ts.ident("a gate name")
        if name.value in prog.defs or name.value in prog.unitaries:
            raise error(name.line, f"gate '{clip(name.value)}' is already defined; use another name")
        params: list[str] = []
        if ts.accept("("):
            if not ts.at(")"):
                params.append(ts.ident("a parameter name").value)
                while ts.accept(","):
                    params.append(ts.ident("a parameter name").value)
            ts.expect(")", f" closing the parameters of gate '{clip(name.value)}'")
        qubits = [ts.ident("a qubit name").value]
        while ts.accept(","):
            qubits.append(ts.ident("a qubit name").value)
        for group, what in ((params, "parameter"), (qubits, "qubit")):
            if len(set(group)) != len(group):
                raise error(name.line, f"gate '{clip(name.value)}' repeats a {what} name; use distinct names")
        ts.expect("{", f" to open the body of gate '{clip(name.value)}'")
        body: list[Call] = []
        while not ts.at("}"):
            call = self.body_statement(kw, name.value, params, qubits)
            if call is not None:
                body.append(call)
        ts.next()
        origin = "standard definition" if prog.is_library else f"defined at line {name.line}"
        prog.add_definition(GateDef(name.value, params, qubits, body, origin))

    def body_statement(self, kw: Token, gate: str, params: list[str], qubits: list[str]) -> Call | None:
        """One statement of the body of ``gate``: a gate call, or None for what the body may hold besides."""
        ts, prog = self.ts, self.program
        t = ts.peek()
        ts.stmt_start = t.pos
        if t.kind == "eof":
            raise error(kw.line, f"gate '{clip(gate)}' body is not closed; add '}}'")
        if t.kind == "pragma":
            ts.next()
            return None
        if t.kind == "id" and t.value == "gphase":
            self.gphase()
            return None
        if t.kind == "id" and t.value == "barrier":
            ts.next()
            while not ts.at(";") and ts.peek().kind != "eof":
                ts.next()
            ts.expect(";")
            return None
        if t.kind == "id" and t.value in _UNSUPPORTED and t.value not in _MODIFIERS:
            raise error(t.line, _UNSUPPORTED[t.value])
        cname, args = self.call_head()
        qa = [ts.ident("a qubit name of the gate").value]
        while ts.accept(","):
            qa.append(ts.ident("a qubit name of the gate").value)
        ts.expect(";")
        for q in qa:
            if q not in qubits:
                raise error(
                    cname.line,
                    f"undeclared identifier '{clip(q)}' in gate '{clip(gate)}'; its qubits are {', '.join(qubits)}",
                )
        if len(set(qa)) != len(qa):
            raise error(cname.line, f"gate '{clip(cname.value)}' applied to the same qubit twice; use distinct qubits")
        if cname.value == gate:
            raise error(cname.line, f"gate '{clip(gate)}' calls itself; recursion is not allowed")
        target = prog.resolve(cname.value, cname.line)
        prog.check_arity(target, cname.value, len(args), len(qa), cname.line)
        for e in args:  # names are checked now, so that errors point at the definition
            prog.check_body_names(e, params, gate)
        return Call(cname.value, args, [qubits.index(q) for q in qa], cname.line, target)

    def opaque_decl(self) -> None:
        ts = self.ts
        ts.next()
        name = ts.ident("a gate name")
        if ts.accept("("):
            while not ts.at(")") and ts.peek().kind != "eof":
                ts.next()
            ts.expect(")")
        qubits = [ts.ident("a qubit name")]
        while ts.accept(","):
            qubits.append(ts.ident("a qubit name"))
        ts.expect(";")
        u = self.program.unitaries.get(name.value)
        if u is None:
            raise error(
                name.line,
                f"opaque gate '{clip(name.value)}' has no definition; give it a 'gate' body "
                f"(or a '#pragma qgm unitary {clip(name.value)} ...' line before it)",
            )
        k = int(round(math.log2(u.matrix.shape[0])))
        if len(qubits) != k:
            raise error(
                name.line, f"opaque gate '{name.value}' has {len(qubits)} qubit(s) but its matrix acts on {k}"
            )


@functools.cache
def standard_library() -> dict[str, GateDef]:
    """The standard definitions of :data:`~qgm.circuits.qasm.library.LIBRARY_SOURCE`, read once."""
    program = Program(DEFAULT_LIMITS, None)
    Parser(LIBRARY_SOURCE, program).parse()
    return program.library


# ---------------------------------------------------------------------------
# entry points
# ---------------------------------------------------------------------------


def from_qasm(source: Union[str, bytes], *, limits: QasmLimits | None = None) -> Circuit:
    """Read OpenQASM 3 (or 2) ``source`` into a :class:`Circuit`.

    Args:
        source: the program text (``bytes`` are decoded as UTF-8, a leading
            byte-order mark allowed).
        limits: sizes to refuse beyond (default :data:`DEFAULT_LIMITS`).

    ``input float[64] name;`` declares a trainable slot (an input slot when
    named in ``#pragma qgm inputs``), in declaration order. See the module
    docstring for the supported subset. Raises a one-line
    :class:`CircuitError` (with the line number where there is one) on any
    problem.
    """
    limits = DEFAULT_LIMITS if limits is None else limits
    text = _text(source, limits)
    program = Program(limits, standard_library())
    Parser(text, program).parse()
    return program.circuit()


def read_qasm(path: Union[str, Path], *, limits: QasmLimits | None = None) -> Circuit:
    """Read the OpenQASM file at ``path`` (UTF-8) with :func:`from_qasm`; a file larger than
    ``limits.max_chars`` bytes is refused before it is read (a file of unknown size, such as a pipe,
    as soon as that much has been read)."""
    limits = DEFAULT_LIMITS if limits is None else limits
    what = f"the OpenQASM file {clip(str(path), 80, keep_end=True)!r}"
    try:
        with open(path, "rb") as f:
            size = os.fstat(f.fileno()).st_size
            if size > limits.max_chars:
                raise CircuitError(limits.refuse("max_chars", size, what))
            chunks, total = [], 0
            while chunk := f.read(_CHUNK):
                total += len(chunk)
                if total > limits.max_chars:
                    raise CircuitError(limits.refuse("max_chars", total, f"{what} (at least)"))
                chunks.append(chunk)
    except OSError as exc:
        raise CircuitError(f"cannot read {what} ({exc.strerror or exc}); give a readable file") from None
    return from_qasm(b"".join(chunks), limits=limits)


def _text(source: object, limits: QasmLimits) -> str:
    """``source`` as text, refused when larger than ``limits.max_chars`` or not UTF-8."""
    if not isinstance(source, (str, bytes, bytearray)):
        raise CircuitError(f"from_qasm expects the program text as a str, got {type(source).__name__}")
    if len(source) > limits.max_chars:
        raise CircuitError(limits.refuse("max_chars", len(source), "the OpenQASM program"))
    if isinstance(source, str):
        return source
    try:
        return bytes(source).decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = source.count(b"\n", 0, exc.start) + 1
        raise error(
            line,
            f"the program is not UTF-8 text (byte 0x{source[exc.start]:02x} at offset {exc.start}); "
            f"save it as UTF-8",
        ) from None
