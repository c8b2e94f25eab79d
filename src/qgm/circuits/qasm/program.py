"""The program being read: declarations, gate definitions, and the gates their calls emit.

:class:`Program` is what the reader (:mod:`.parser`) builds statement by
statement: qubit registers (consecutive wires in declaration order) or
physical qubits, ``input`` slots, ``const`` values, bit registers, ``gate``
definitions and ``#pragma qgm unitary`` matrices. :meth:`Program.apply` runs one
gate call: it resolves the name, checks arities and qubits, broadcasts over
registers, expands definitions (without recursion) and appends the
:class:`~qgm.circuits.circuit.Op` s; :meth:`Program.circuit` returns the
:class:`~qgm.circuits.circuit.Circuit`. Sizes are checked against
:class:`~qgm.circuits.qasm.limits.QasmLimits` before anything is expanded.
"""
from __future__ import annotations

import difflib
import math
from dataclasses import dataclass
from typing import Any, Iterator, Sequence, Union

import numpy as np
import torch

from qgm.circuits.circuit import Circuit, Op, Param
from qgm.circuits.gates import GATES, canonical_name, gate_matrix
from qgm.circuits.qasm.equivalence import equals_gate
from qgm.circuits.qasm.expressions import CONSTANT_VALUES, Aff, Expr, const, evaluate, show
from qgm.circuits.qasm.lexer import KEYWORDS, Token, clip, error
from qgm.circuits.qasm.limits import QasmLimits
from qgm.errors import CircuitError

__all__ = ["Register", "Call", "GateDef", "UnitaryDef", "Program"]

_INTERNED = 1 << 16  # angle-free ops kept for reuse (one Op object per gate kind and wires)
_MAX_CHECKED_BODY = 1000  # gates of a definition compared with the catalogue gate of its name
#: Sizes of definitions saturate here: a chain of doubling definitions would otherwise hold ever longer integers.
SIZE_CAP = 2**62


@dataclass
class Register:
    name: str
    start: int
    size: int
    scalar: bool
    decl: str  # how it was declared, for messages


@dataclass
class Call:
    """A gate call in a definition body: callee, argument expressions, qubits as indices of the formals."""

    name: str
    args: list[Expr]
    qargs: list[int]
    line: int
    target: "Target"


@dataclass
class GateDef:
    """A ``gate`` definition.

    Attributes:
        origin: "defined at line N" or "standard definition", for messages.
        native: the catalogue gate the body equals (a call then emits that gate), or None.
        size: gates one call emits once expanded (at most :data:`SIZE_CAP`).
        depth: nesting depth of definitions under this one (1: the body calls no defined gate).
    """

    name: str
    params: list[str]
    qubits: list[str]
    body: list[Call]
    origin: str
    native: str | None = None
    size: int = 0
    depth: int = 1


@dataclass
class UnitaryDef:
    ident: str
    label: str | None
    matrix: np.ndarray
    line: int


#: What a gate name resolves to: ("cat", catalogue name), ("unitary", UnitaryDef) or ("def", GateDef).
Target = tuple
#: A qubit argument: ("$", k, line) for a physical qubit, else (register, index, line) where the index is
#: None (the whole register), a number or an expression.
QArg = tuple
#: A gate argument: a number already read, or an expression.
Arg = Union[float, Expr]


class Program:
    """The state of a program being read (see the module docstring).

    Args:
        limits: the sizes to refuse beyond.
        library: standard definitions to resolve names against after the
            catalogue; None while reading the standard library itself (its
            definitions then become :attr:`library`).
    """

    def __init__(self, limits: QasmLimits, library: dict[str, GateDef] | None) -> None:
        self.limits = limits
        self.is_library = library is None
        self.library: dict[str, GateDef] = {} if library is None else library
        self.slots: list[str] = []
        self.slot_lines: dict[str, int] = {}
        self.slot_values: dict[str, Aff] = {}  # slot -> the value 1 * slot + 0
        self.inputs: dict[str, int] = {}  # name -> line of its '#pragma qgm inputs'
        self.consts: dict[str, Aff] = {}
        self.registers: dict[str, Register] = {}
        self.n_wires = 0
        self.physical = -1  # highest $k used (-1: none)
        self.clbits: set[str] = set()
        self.defs: dict[str, GateDef] = {}
        self.unitaries: dict[str, UnitaryDef] = {}
        self.measured: dict[int, int] = {}  # wire -> line
        self._measured_registers: set[range] = set()
        self.ops: list[Op] = []
        self.slot_ops: list[int] = []  # indices of ops with a slot angle
        self.last_line = 1
        self._resolved: dict[str, tuple[Target, int, int]] = {}
        self._interned: dict[tuple[str, tuple[int, ...]], Op] = {}

    # -- declarations -------------------------------------------------------------
    def check_new_name(self, name: Token, what: str) -> None:
        n = name.value
        if n in self.slot_lines or n in self.consts or n in self.registers or n in self.clbits:
            raise error(name.line, f"'{clip(n)}' is already declared; use another name for this {what}")
        if n in CONSTANT_VALUES or n in KEYWORDS:
            raise error(name.line, f"'{n}' is a reserved name; use another name for this {what}")

    def add_slot(self, name: Token) -> None:
        self.slots.append(name.value)
        self.slot_lines[name.value] = name.line
        self.slot_values[name.value] = Aff(1.0, name.value, 0.0)

    def add_const(self, name: Token, value: Aff) -> None:
        if value.slot is not None:
            raise error(name.line, f"const '{name.value}' depends on slot '{value.slot}'; a const must be a number")
        self.consts[name.value] = value

    def add_register(self, name: Token, size: int, scalar: bool, decl: str) -> None:
        if self.physical >= 0:
            raise error(name.line, "cannot declare qubit registers after using physical qubits ($k); use one style")
        if size < 1:
            raise error(name.line, f"register '{name.value}' must have at least 1 qubit")
        if self.n_wires + size > self.limits.max_qubits:
            raise error(name.line, self.limits.refuse("max_qubits", self.n_wires + size, f"register '{name.value}'"))
        self.registers[name.value] = Register(name.value, self.n_wires, size, scalar, decl)
        self.n_wires += size

    def add_definition(self, d: GateDef) -> None:
        """Register ``d``: its size and depth from its body, and the catalogue gate it equals if any."""
        d.size = min(sum(_size(c.target) for c in d.body), SIZE_CAP)
        d.depth = 1 + max((_depth(c.target) for c in d.body), default=0)
        canon = canonical_name(d.name)
        if canon is not None and (GATES[canon].n_params, GATES[canon].n_wires) == (len(d.params), len(d.qubits)):
            if d.size <= _MAX_CHECKED_BODY and equals_gate(lambda th: self._body_matrices(d, th), canon):
                d.native = canon
                d.size = d.depth = 1
        if self.is_library:
            self.library[d.name] = d
        else:
            self.defs[d.name] = d
        self._resolved.clear()

    def add_unitary(self, u: UnitaryDef) -> None:
        if u.ident in self.unitaries or u.ident in self.defs:
            raise error(u.line, f"gate '{u.ident}' is already defined; use another name")
        self.unitaries[u.ident] = u
        self._resolved.clear()

    def mark_measured(self, wires: Sequence[int], line: int) -> None:
        """Record the first measurement of each of ``wires`` (a whole register is walked only once)."""
        if isinstance(wires, range):
            if wires in self._measured_registers:
                return
            self._measured_registers.add(wires)
        for w in wires:
            self.measured.setdefault(w, line)

    # -- values -------------------------------------------------------------------
    def value(self, e: Expr, env: dict[str, Aff], where: str, allowed: str) -> Aff:
        """Value of ``e`` with names from ``env``, then constants."""
        return evaluate(e, (env, self.consts, CONSTANT_VALUES), where, allowed)

    def const_value(self, e: Expr, allowed: str) -> Aff:
        return evaluate(e, (self.consts, CONSTANT_VALUES), "", allowed)

    def const_int(self, e: Expr, what: str) -> int:
        v = self.const_value(e, "only numbers and constants are allowed here")
        if v.slot is not None or not float(v.offset).is_integer() or v.offset < 0:
            raise error(e.line, f"{what} must be a non-negative integer, got '{show(e)}'")
        return int(v.offset)

    def check_body_names(self, e: Expr, params: Sequence[str], gate: str) -> None:
        """Refuse names in a definition body other than its parameters and constants (at the definition)."""
        for name, line in e.names():
            if name not in params and name not in self.consts and name not in CONSTANT_VALUES:
                raise error(
                    line,
                    f"in gate '{gate}': undeclared identifier '{clip(name)}'; a gate body can use only its "
                    f"parameters ({', '.join(params) or 'none'}) and constants",
                )

    # -- qubits -------------------------------------------------------------------
    def wires(self, qa: QArg) -> Sequence[int]:
        """The wires of a qubit argument (a whole register: the range of its wires, made in O(1))."""
        if qa[0] == "$":
            if self.registers:
                raise error(qa[2], "cannot mix physical qubits ($k) with declared registers; use one style")
            if qa[1] >= self.limits.max_qubits:
                raise error(qa[2], self.limits.refuse("max_qubits", qa[1] + 1, f"physical qubit ${qa[1]}"))
            self.physical = max(self.physical, qa[1])
            return [qa[1]]
        name, idx, line = qa
        reg = self.registers.get(name)
        if reg is None:
            if name in self.slot_lines or name in self.consts:
                raise error(line, f"'{name}' is not a qubit register")
            raise error(
                line,
                f"undeclared identifier '{clip(name)}' (expected a qubit register); "
                f"declare it with 'qubit[n] {clip(name)};'",
            )
        if idx is None:
            return range(reg.start, reg.start + reg.size)
        if reg.scalar:
            raise error(line, f"'{name}' is a single qubit ({reg.decl}); write it without an index")
        k = int(idx) if isinstance(idx, float) else self.const_int(idx, "a qubit index")
        if k >= reg.size:
            raise error(line, f"qubit index {k} out of range for {reg.decl} (use 0..{reg.size - 1})")
        return [reg.start + k]

    # -- gate calls -----------------------------------------------------------------
    def resolve(self, name: str, line: int) -> Target:
        return self._entry(name, line)[0]

    def _entry(self, name: str, line: int) -> tuple[Target, int, int]:
        """``(target, n_params, n_wires)`` of gate ``name`` (cached until the next definition)."""
        entry = self._resolved.get(name)
        if entry is None:
            target = self._resolve(name, line)
            entry = self._resolved[name] = (target, *_arity(target))
        return entry

    def _resolve(self, name: str, line: int) -> Target:
        if name in self.defs:
            return ("def", self.defs[name])
        if name in self.unitaries:
            return ("unitary", self.unitaries[name])
        canon = canonical_name(name)
        if canon is not None:
            return ("cat", canon)
        if name in self.library:
            return ("def", self.library[name])
        known = sorted(set(GATES) | set(self.library) | set(self.defs) | set(self.unitaries) | {"U", "CX"})
        close = difflib.get_close_matches(name, known, n=1)
        hint = f"; did you mean '{close[0]}'?" if close else ""
        raise error(
            line,
            f"unknown gate '{clip(name)}'; known gates: {', '.join(known)} "
            f"(define others with 'gate {clip(name)} ... {{ }}'){hint}",
        )

    def check_arity(self, target: Target, name: str, n_args: int, n_qargs: int, line: int) -> None:
        n_params, n_wires = _arity(target)
        if n_args != n_params:
            raise error(line, f"gate '{name}' takes {n_params} angle(s), got {n_args}")
        if n_qargs != n_wires:
            raise error(line, f"gate '{name}' acts on {n_wires} qubit(s), got {n_qargs}")

    def apply(self, name: str, line: int, args: Sequence[Arg], qargs: Sequence[QArg]) -> None:
        """Run the top-level call ``name(args) qargs;`` of source line ``line``."""
        self.last_line = line
        target, n_params, n_wires = self._entry(name, line)
        if len(args) != n_params or len(qargs) != n_wires:
            self.check_arity(target, name, len(args), len(qargs), line)
        vals = [a if a.__class__ is float else self._slot_value(a) for a in args]
        wire_lists = [self.wires(qa) for qa in qargs]
        reps = 1
        for w in wire_lists:
            if len(w) != 1:
                if reps != 1 and len(w) != reps:
                    sizes = sorted({len(x) for x in wire_lists if len(x) != 1})
                    raise error(line, f"gate '{name}' broadcast over registers of different sizes {sizes}")
                reps = len(w)
        if target[0] == "def" and target[1].depth > self.limits.max_depth:
            what = f"gate '{clip(name)}' nesting gate definitions {target[1].depth:,} deep"
            raise error(line, self.limits.refuse("max_depth", target[1].depth, what))
        needed = len(self.ops) + (target[1].size if target[0] == "def" else 1) * reps
        if needed > self.limits.max_gates:
            what = f"the circuit with gate '{clip(name)}' here" + (" (at least)" if needed >= SIZE_CAP else "")
            raise error(line, self.limits.refuse("max_gates", needed, what))
        if reps == 1:
            self._apply_on(target, name, tuple([w[0] for w in wire_lists]), vals, line)
            return
        for r in range(reps):
            self._apply_on(target, name, tuple([w[r] if len(w) > 1 else w[0] for w in wire_lists]), vals, line)

    def _apply_on(self, target: Target, name: str, wires: tuple[int, ...], vals: list, line: int) -> None:
        """Append the gates of one call of ``target`` on ``wires``."""
        if len(wires) > 1 and len(set(wires)) != len(wires):
            raise error(line, f"gate '{name}' applied to the same qubit twice; use distinct qubits")
        if self.measured:
            self._check_not_measured(name, wires, line)
        if target[0] == "cat":
            self.emit(target[1], wires, vals, line)
            return
        for (leaf_kind, leaf), leaf_wires, leaf_vals in self.expand(target, vals, wires, line):
            if leaf_kind == "cat":
                self.emit(leaf, leaf_wires, leaf_vals, line)
            else:
                self.ops.append(Op("unitary", leaf_wires, (), leaf.matrix, leaf.label))

    def _slot_value(self, e: Expr) -> float | Aff:
        """A top-level argument: its number, or its value when it has a slot."""
        v = self.value(e, self.slot_values, "", "declare slots with 'input float[64] name;' before use")
        return v.offset if v.slot is None else v

    def _check_not_measured(self, name: str, wires: tuple[int, ...], line: int) -> None:
        for w in wires:
            if w in self.measured:
                raise error(
                    line,
                    f"gate '{name}' acts on a qubit measured at line {self.measured[w]}; "
                    f"qgm circuits are measured only at the end — move the measurement to the end",
                )

    def expand(
        self, target: Target, vals: Sequence[float | Aff], wires: tuple[int, ...], line: int
    ) -> Iterator[tuple[Target, tuple[int, ...], Sequence[float | Aff]]]:
        """The catalogue gates and unitaries a call of ``target`` stands for, in order (depth-first, with
        an explicit stack: definitions nested ``max_depth`` deep never recurse). Errors in a body are
        reported at the call's ``line``, naming the definition."""
        kind, d = target
        if kind != "def" or d.native is not None:
            yield ((kind, d) if kind != "def" else ("cat", d.native)), wires, vals
            return
        env = {p: const(v) if v.__class__ is float else v for p, v in zip(d.params, vals)}
        stack: list[tuple[GateDef, dict[str, Aff], tuple[int, ...], int]] = [(d, env, wires, 0)]
        while stack:
            d, env, w, i = stack[-1]
            if i == len(d.body):
                stack.pop()
                continue
            stack[-1] = (d, env, w, i + 1)
            call = d.body[i]
            where = f"in gate '{d.name}' ({d.origin}, body line {call.line}): "
            allowed = f"a gate body can use only its parameters ({', '.join(d.params) or 'none'}) and constants"
            try:
                args = [self.value(e, env, where, allowed) for e in call.args]
            except CircuitError as exc:  # report at the call site, keep the body detail
                raise error(line, str(exc).split(": ", 1)[1]) from None
            call_wires = tuple(w[q] for q in call.qargs)
            ckind, callee = call.target
            if ckind == "def" and callee.native is None:
                stack.append((callee, dict(zip(callee.params, args)), call_wires, 0))
            elif ckind == "def":
                yield ("cat", callee.native), call_wires, args
            else:
                yield call.target, call_wires, args

    def emit(self, name: str, wires: tuple[int, ...], vals: Sequence[float | Aff], line: int) -> None:
        """Append catalogue gate ``name``; angles are numbers or values with a slot. Angle-free ops are
        shared objects (an Op is immutable)."""
        if not vals:
            key = (name, wires)
            op = self._interned.get(key)
            if op is None:
                op = Op(name, wires)
                if len(self._interned) < _INTERNED:
                    self._interned[key] = op
            self.ops.append(op)
            return
        angles: list[Any] = []
        has_slot = False
        for v in vals:
            if v.__class__ is not float:
                if v.slot is not None:
                    if not (math.isfinite(v.scale) and math.isfinite(v.offset)):
                        raise error(line, f"gate '{name}': an angle {v.scale!r}*{v.slot} + {v.offset!r} is not finite")
                    has_slot = True
                    angles.append(Param(v.slot, "param", v.scale, v.offset))
                    continue
                v = v.offset
            if not math.isfinite(v):
                raise error(line, f"gate '{name}': an angle evaluates to {v!r}; angles must be finite numbers")
            angles.append(v)
        if has_slot:
            self.slot_ops.append(len(self.ops))
        self.ops.append(Op(name, wires, tuple(angles)))

    def _body_matrices(self, d: GateDef, angles: list[float]) -> list[tuple[np.ndarray, tuple[int, ...]]]:
        """``(matrix, wires)`` of each gate a call of ``d`` with numeric ``angles`` on wires 0..k-1 emits."""
        out = []
        formals = tuple(range(len(d.qubits)))
        for (kind, obj), wires, vals in self.expand(("def", d), [const(x) for x in angles], formals, 0):
            if kind == "unitary":
                out.append((obj.matrix, wires))
            else:
                angles = [v.offset for v in vals]  # numeric: the body's angles come from numbers
                m = gate_matrix(obj, torch.tensor(angles, dtype=torch.float64)).numpy()
                out.append((m, wires))
        return out

    # -- result ---------------------------------------------------------------------
    def circuit(self) -> Circuit:
        """The circuit read; slots named in ``#pragma qgm inputs`` become input slots."""
        for name, line in self.inputs.items():
            if name not in self.slot_lines:
                raise error(
                    line,
                    f"'#pragma qgm inputs' names '{clip(name)}', which is not declared; "
                    f"add 'input float[64] {clip(name)};'",
                )
        n = self.n_wires if self.registers else self.physical + 1
        if n < 1:
            raise CircuitError("line 1: the program declares no qubits; add 'qubit[n] q;'")
        ops = self.ops
        if self.inputs:
            for i in self.slot_ops:
                op = ops[i]
                params = tuple(
                    Param(a.name, "input", a.scale, a.offset) if isinstance(a, Param) and a.name in self.inputs else a
                    for a in op.params
                )
                ops[i] = Op(op.name, op.wires, params)
        try:
            return Circuit(
                n,
                ops,
                [s for s in self.slots if s not in self.inputs],
                [s for s in self.slots if s in self.inputs],
            )
        except CircuitError as exc:  # pragma: no cover - the reader checks these first
            raise CircuitError(f"line {self.last_line}: {exc}") from None


def _arity(target: Target) -> tuple[int, int]:
    kind, obj = target
    if kind == "cat":
        return GATES[obj].n_params, GATES[obj].n_wires
    if kind == "unitary":
        return 0, int(round(math.log2(obj.matrix.shape[0])))
    return len(obj.params), len(obj.qubits)


def _size(target: Target) -> int:
    return target[1].size if target[0] == "def" else 1


def _depth(target: Target) -> int:
    return target[1].depth if target[0] == "def" else 0
