"""Angle expressions: reading them, their affine values ``scale * slot + offset``, and that algebra.

Grammar (as OpenQASM 3, for the part qgm reads)::

    expr  := term (('+' | '-') term)*
    term  := unary (('*' | '/') unary)*
    unary := ('-' | '+') unary | power
    power := atom ('**' unary)?               # right-associative; -a**b = -(a**b)
    atom  := number | name | function '(' expr (',' expr)* ')' | '(' expr ')'

:func:`parse_expression` reads one expression by operator precedence, without
recursion, into an :class:`Expr` in postfix order; :func:`evaluate` runs it on a
value stack. Neither recurses, so no expression can exhaust Python's stack;
:class:`~qgm.circuits.qasm.limits.QasmLimits` bounds their size
(``max_expression_terms``) and parenthesis nesting (``max_depth``).

A qgm angle is affine in at most one slot: :class:`Aff` is such a value;
:func:`add`, :func:`neg`, :func:`mul`, :func:`div` combine them and raise
:class:`NotAffine` when the result would leave that form. Besides slots an
expression may use :data:`CONSTANTS`, ``const`` declarations and
:data:`FUNCTIONS` of constants.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Callable, Iterator, Mapping, NamedTuple, Sequence

import numpy as np

from qgm.circuits.qasm.lexer import Token, TokenStream, clip, error
from qgm.circuits.qasm.limits import QasmLimits

__all__ = [
    "CONSTANTS",
    "FUNCTIONS",
    "Aff",
    "const",
    "NotAffine",
    "add",
    "neg",
    "mul",
    "div",
    "Expr",
    "parse_expression",
    "evaluate",
    "show",
]

CONSTANTS: dict[str, float] = {
    "pi": math.pi,
    "π": math.pi,
    "tau": 2 * math.pi,
    "τ": 2 * math.pi,
    "euler": math.e,
    "ℇ": math.e,
}

FUNCTIONS: dict[str, Callable[[float], float]] = {
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


# ---------------------------------------------------------------------------
# affine values
# ---------------------------------------------------------------------------


class Aff(NamedTuple):
    """``scale * slot + offset`` (``slot`` None: the constant ``offset``)."""

    scale: float
    slot: str | None
    offset: float


def const(x: float) -> Aff:
    return Aff(0.0, None, float(x))


#: The named constants as values.
CONSTANT_VALUES: dict[str, Aff] = {k: const(v) for k, v in CONSTANTS.items()}


class NotAffine(Exception):
    """An angle expression that is not ``scale * slot + offset`` (raised inside :func:`evaluate`)."""


def add(a: Aff, b: Aff) -> Aff:
    if a.slot is not None and b.slot is not None and a.slot != b.slot:
        raise NotAffine(f"it depends on two slots ('{a.slot}' and '{b.slot}')")
    if a.slot is None:
        return Aff(b.scale, b.slot, a.offset + b.offset)
    if b.slot is None:
        return Aff(a.scale, a.slot, a.offset + b.offset)
    return Aff(a.scale + b.scale, a.slot, a.offset + b.offset)


def neg(a: Aff) -> Aff:
    return Aff(-a.scale, a.slot, -a.offset)


def mul(a: Aff, b: Aff) -> Aff:
    if a.slot is not None and b.slot is not None:
        raise NotAffine(f"it multiplies slot '{a.slot}' by slot '{b.slot}'")
    if a.slot is None and b.slot is None:
        return const(a.offset * b.offset)
    if a.slot is None:
        return Aff(a.offset * b.scale, b.slot, a.offset * b.offset)
    return Aff(a.scale * b.offset, a.slot, a.offset * b.offset)


def div(a: Aff, b: Aff) -> Aff:
    if b.slot is not None:
        raise NotAffine(f"it divides by slot '{b.slot}'")
    if b.offset == 0:
        raise NotAffine("it divides by zero")
    if a.slot is None:
        return const(a.offset / b.offset)
    return Aff(a.scale / b.offset, a.slot, a.offset / b.offset)


def power(a: Aff, b: Aff) -> Aff:
    if a.slot is not None or b.slot is not None:
        raise NotAffine(f"it raises slot '{a.slot or b.slot}' to a power or uses it as exponent")
    try:
        v = a.offset**b.offset
    except (OverflowError, ZeroDivisionError) as exc:
        raise NotAffine(f"power failed ({exc})") from None
    if isinstance(v, complex):
        raise NotAffine("the power is not a real number")
    return const(v)


_BINARY: dict[str, Callable[[Aff, Aff], Aff]] = {
    "+": add,
    "-": lambda a, b: add(a, neg(b)),
    "*": mul,
    "/": div,
    "**": power,
}


# ---------------------------------------------------------------------------
# reading
# ---------------------------------------------------------------------------

# Postfix instructions; the last field of each is its source line:
#   ("num", value, text, line)   ("name", name, line)   ("neg", line)
#   ("bin", op, line)            ("call", function, n_args, line)
Instr = tuple


@dataclass(frozen=True)
class Expr:
    """An expression in postfix order (see the instruction forms above); ``line`` is its root's line."""

    code: tuple[Instr, ...]

    @property
    def line(self) -> int:
        return self.code[-1][-1]

    def names(self) -> Iterator[tuple[str, int]]:
        """``(name, line)`` of every name the expression uses, in order."""
        for ins in self.code:
            if ins[0] == "name":
                yield ins[1], ins[2]


# operator -> (precedence, right-associative); unary signs bind between '*' and '**'
_PRECEDENCE = {"+": (1, False), "-": (1, False), "*": (2, False), "/": (2, False), "**": (4, True)}
_UNARY = 3


def parse_expression(ts: TokenStream, limits: QasmLimits) -> Expr:
    """Read one expression from ``ts`` (operator precedence, no recursion); stops before the first token
    that cannot continue it.

    Raises :class:`CircuitError` on a syntax error, or when the expression has
    more than ``limits.max_expression_terms`` terms or nests parentheses deeper
    than ``limits.max_depth``.
    """
    out: list[Instr] = []
    # operator stack: ("bin", op, prec, line) / ("neg", _UNARY, line) / ("(", line) / ("fn", name, line, [n_args])
    stack: list[tuple] = []
    open_groups = 0
    terms = 0
    operand = True  # expecting an operand (or a prefix sign)
    while True:
        t = ts.peek()
        if terms > limits.max_expression_terms or open_groups > limits.max_depth:
            _refuse_size(ts, limits, t, terms, open_groups)
        if operand:
            kind, value = t.kind, t.value
            if kind == "op" and value in ("-", "+"):
                ts.next()
                terms += 1
                if value == "-":
                    stack.append(("neg", _UNARY, t.line))
            elif kind == "num":
                ts.next()
                terms += 1
                out.append(("num", _number(t.value, t.line), t.value, t.line))
                operand = False
            elif kind == "id":
                ts.next()
                terms += 1
                if t.value in FUNCTIONS and ts.at("("):
                    ts.next()
                    stack.append(("fn", t.value, t.line, [1]))
                    open_groups += 1
                else:
                    out.append(("name", t.value, t.line))
                    operand = False
            elif kind == "op" and value == "(":
                ts.next()
                stack.append(("(", t.line))
                open_groups += 1
            else:
                raise error(t.line, f"expected a number, name or '(' in an expression, found {ts.show(t)}")
            continue
        if t.kind == "op" and t.value in _PRECEDENCE:
            ts.next()
            terms += 1
            prec, right = _PRECEDENCE[t.value]
            while stack and stack[-1][0] in ("bin", "neg"):
                top_prec = stack[-1][2] if stack[-1][0] == "bin" else _UNARY
                if top_prec > prec or (top_prec == prec and not right):
                    _pop_operator(stack, out)
                else:
                    break
            stack.append(("bin", t.value, prec, t.line))
            operand = True
            continue
        group = _innermost_group(stack)
        if group is None or t.kind != "op" or t.value not in (")", ","):
            break
        if t.value == "," and group[0] == "(":
            break  # '(a, b)': reported below as a missing ')'
        ts.next()
        while stack[-1][0] in ("bin", "neg"):
            _pop_operator(stack, out)
        if t.value == ",":
            stack[-1][3][0] += 1
            operand = True
            continue
        opened = stack.pop()
        open_groups -= 1
        if opened[0] == "fn":
            out.append(("call", opened[1], opened[3][0], opened[2]))
    group = _innermost_group(stack)
    if group is not None:
        closing = "'('" if group[0] == "(" else f"{group[1]}("
        raise error(t.line, f"expected ')' closing {closing}, found {ts.show(t)}")
    while stack:
        _pop_operator(stack, out)
    return Expr(tuple(out))


def _pop_operator(stack: list[tuple], out: list[Instr]) -> None:
    top = stack.pop()
    out.append(("bin", top[1], top[3]) if top[0] == "bin" else ("neg", top[2]))


def _innermost_group(stack: list[tuple]) -> tuple | None:
    for entry in reversed(stack):
        if entry[0] in ("(", "fn"):
            return entry
    return None


def _number(text: str, line: int) -> float:
    try:
        return float(text)
    except ValueError:
        raise error(line, f"malformed number {clip(text)!r}; write digits with at most one '_' between them") from None


_SCAN_CHARS = 1 << 20  # source read past a limit to report the size the expression needed
# a term in UTF-8 bytes: '**', an operator, a name (bytes >= 0x80: letters such as 'π') or a number
_TERM_RE = re.compile(
    rb"\*\*|[-+*/]|[A-Za-z_\x80-\xff][\w\x80-\xff]*|(?:\d[\d_]*\.?[\d_]*|\.\d[\d_]*)(?:[eE][+-]?\d+)?"
)


def _refuse_size(ts: TokenStream, limits: QasmLimits, t: Token, terms: int, depth: int) -> None:
    """Raise the size refusal. The rest of the expression from token ``t`` (inside ``depth`` open
    parentheses; at most ``_SCAN_CHARS`` of it) is counted in bulk, to report the size it needed."""
    text = ts.lexer.text
    rest = text[t.pos : t.pos + _SCAN_CHARS].encode()  # '(' ')' ',' ';' are single bytes in UTF-8
    b = np.frombuffer(rest, dtype=np.uint8)
    level = depth + np.cumsum((b == ord("(")).astype(np.int64) - (b == ord(")")))
    # the expression ends where it closes more than it opened, at a ',' outside it, or at ';'
    ends = np.flatnonzero((level < 0) | ((b == ord(",")) & (level == 0)) | (b == ord(";")))
    stop = int(ends[0]) if ends.size else len(b)
    complete = ends.size > 0 or t.pos + _SCAN_CHARS >= len(text)
    more = "" if complete else "at least "
    deepest = max(depth, int(level[:stop].max(initial=0)))
    terms += len(_TERM_RE.findall(rest, 0, stop))
    if deepest > limits.max_depth:
        what = f"an expression nesting parentheses {more}{deepest:,} deep"
        raise error(t.line, limits.refuse("max_depth", deepest, what))
    raise error(t.line, limits.refuse("max_expression_terms", terms, f"an expression of {more}{terms:,} terms"))


# ---------------------------------------------------------------------------
# evaluating and showing
# ---------------------------------------------------------------------------


def evaluate(e: Expr, scopes: Sequence[Mapping[str, Aff]], where: str, allowed: str) -> Aff:
    """The value of ``e``, looking names up in ``scopes`` in turn.

    ``where`` prefixes messages (e.g. ``"in gate 'g' ...: "``) and ``allowed``
    says which names are visible, for the message about an undeclared one.
    Raises :class:`CircuitError` (located) on an undeclared name, a function
    outside its domain or a value that is not affine in one slot.
    """
    stack: list[Aff] = []
    try:
        for ins in e.code:
            op = ins[0]
            if op == "num":
                stack.append(const(ins[1]))
            elif op == "name":
                stack.append(_lookup(ins[1], ins[2], scopes, where, allowed))
            elif op == "neg":
                stack[-1] = neg(stack[-1])
            elif op == "bin":
                b = stack.pop()
                stack[-1] = _BINARY[ins[1]](stack[-1], b)
            else:
                stack.append(_call(ins, stack, where))
    except NotAffine as exc:
        raise error(
            e.line,
            f"{where}angle expression '{show(e)}' is not affine in one slot: {exc}. A qgm angle is "
            f"scale*slot + offset with one slot; introduce one slot for the combination or bind values",
        ) from None
    return stack[-1]


def _lookup(name: str, line: int, scopes: Sequence[Mapping[str, Aff]], where: str, allowed: str) -> Aff:
    for scope in scopes:
        v = scope.get(name)
        if v is not None:
            return v
    raise error(line, f"{where}undeclared identifier '{clip(name)}'; {allowed}")


def _call(ins: Instr, stack: list[Aff], where: str) -> Aff:
    _, fn, n_args, line = ins
    args = stack[len(stack) - n_args :]
    del stack[len(stack) - n_args :]
    if n_args != 1:
        raise error(line, f"{where}{fn}() takes one argument, got {n_args}")
    if args[0].slot is not None:
        raise NotAffine(f"it applies {fn}() to slot '{args[0].slot}'")
    try:
        return const(FUNCTIONS[fn](args[0].offset))
    except (ValueError, OverflowError) as exc:
        raise error(line, f"{where}{fn}({args[0].offset!r}) is undefined ({exc})") from None


def show(e: Expr, limit: int = 80) -> str:
    """``e`` as text for messages: binary operations in parentheses except the outermost, at most
    ``limit`` characters."""
    parts: list[str] = []
    for ins in e.code:
        op = ins[0]
        if op in ("num", "name"):
            parts.append(ins[2] if op == "num" else ins[1])
        elif op == "neg":
            parts[-1] = f"-{parts[-1]}"
        elif op == "bin":
            b = parts.pop()
            parts[-1] = f"({parts[-1]} {ins[1]} {b})"
        else:
            n = ins[2]
            args = ", ".join(parts[len(parts) - n :])
            del parts[len(parts) - n :]
            parts.append(f"{ins[1]}({args})")
        if len(parts[-1]) > 4 * limit:  # long expressions: keep the text bounded while building it
            parts[-1] = clip(parts[-1], 4 * limit)
    text = parts[-1][1:-1] if e.code[-1][0] == "bin" else parts[-1]
    return clip(text, limit)
