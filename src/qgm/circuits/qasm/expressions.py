"""Angle expressions: the affine values ``scale * slot + offset`` they evaluate to, and their algebra.

A qgm angle is affine in at most one slot; :class:`Aff` is such a value and
:func:`add`, :func:`neg`, :func:`mul`, :func:`div` combine them, raising
:class:`NotAffine` when the result would leave that form. :data:`CONSTANTS`
and :data:`FUNCTIONS` are the names an expression may use besides slots.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable

__all__ = ["CONSTANTS", "FUNCTIONS", "Aff", "const", "NotAffine", "add", "neg", "mul", "div", "Expr", "show"]

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

@dataclass(frozen=True)
class Aff:
    """``scale * slot + offset`` (``slot`` None: the constant ``offset``)."""

    scale: float
    slot: str | None
    offset: float


def const(x: float) -> Aff:
    return Aff(0.0, None, float(x))


class NotAffine(Exception):
    """An angle expression that is not ``scale * slot + offset`` (raised inside the expression evaluator)."""


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


def show(e: Expr) -> str:
    """An expression as text for messages (without redundant outer parentheses)."""
    s = _unparse(e)
    return s[1:-1] if e[0] == "bin" else s
