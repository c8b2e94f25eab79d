"""Arithmetic rules of the qubit count ``n`` used in configs (``"n"``, ``"n/4"``, ``"ceil(log2(n))"``).

Only numbers, ``n``, ``+ - * / // **`` and :data:`FUNCTIONS` are accepted. A rule
is evaluated by walking its syntax tree in floating point (never by ``eval``), so
no rule can run long or allocate much: it holds at most
:data:`~qgm.limits.MAX_EXPRESSION_CHARS` characters, and every number, input and
intermediate value must stay within :data:`~qgm.limits.MAX_RULE_VALUE` in
magnitude (``"9**9**9**9"`` is refused at once instead of computing a
350-million-digit integer).
"""
from __future__ import annotations

import ast
import math
import operator
from typing import Any, Callable, Union

from qgm.errors import ConfigError, brief
from qgm.limits import MAX_EXPRESSION_CHARS, MAX_RULE_VALUE

__all__ = ["eval_rule", "FUNCTIONS"]

FUNCTIONS: dict[str, Callable[[float], float]] = {
    "log2": math.log2, "log": math.log, "sqrt": math.sqrt, "ceil": math.ceil, "floor": math.floor,
}
_BINARY: dict[type, Callable[[float, float], Any]] = {
    ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul, ast.Div: operator.truediv,
    ast.FloorDiv: operator.floordiv, ast.Pow: operator.pow,
}
_UNARY: dict[type, Callable[[float], float]] = {ast.USub: operator.neg, ast.UAdd: operator.pos}


class _Refused(Exception):
    """A rule that cannot be evaluated; the message says why (turned into a ConfigError by :func:`eval_rule`)."""


def _bounded(value: Any) -> float:
    if isinstance(value, complex) or not math.isfinite(value) or abs(value) > MAX_RULE_VALUE:
        raise _Refused(f"a value ({brief(value, 30)}) leaves [-{MAX_RULE_VALUE:g}, {MAX_RULE_VALUE:g}] "
                       "(MAX_RULE_VALUE, qgm.limits)")
    return float(value)


def _value(node: ast.AST, n: float) -> float:
    """The value of expression ``node`` at ``n`` (floats throughout, every step bounded)."""
    if isinstance(node, ast.Constant) and type(node.value) in (int, float):
        return _bounded(float(node.value)) if abs(node.value) <= MAX_RULE_VALUE else _bounded(math.inf)
    if isinstance(node, ast.Name) and node.id == "n":
        return _bounded(n)
    if isinstance(node, ast.BinOp) and type(node.op) in _BINARY:
        left, right = _value(node.left, n), _value(node.right, n)
        try:
            return _bounded(_BINARY[type(node.op)](left, right))
        except ZeroDivisionError:
            raise _Refused("division by zero") from None
        except OverflowError:
            raise _Refused(f"a value leaves [-{MAX_RULE_VALUE:g}, {MAX_RULE_VALUE:g}] (MAX_RULE_VALUE, qgm.limits)") from None
    if isinstance(node, ast.UnaryOp) and type(node.op) in _UNARY:
        return _UNARY[type(node.op)](_value(node.operand, n))
    if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in FUNCTIONS
            and len(node.args) == 1 and not node.keywords):
        arg = _value(node.args[0], n)
        try:
            return _bounded(FUNCTIONS[node.func.id](arg))
        except (ValueError, OverflowError):
            raise _Refused(f"{node.func.id}({arg:g}) is undefined") from None
    raise _Refused("unsupported syntax")


def eval_rule(rule: Union[int, float, str], n: int, field: str = "rule") -> float:
    """Value of ``rule`` (a number, or an expression of ``n``) at ``n``; a one-line ConfigError naming ``field``."""
    if isinstance(rule, (int, float)) and not isinstance(rule, bool):
        try:
            return _bounded(float(rule))
        except (_Refused, OverflowError):
            raise ConfigError(f"{field}: {brief(rule)} is outside [-{MAX_RULE_VALUE:g}, {MAX_RULE_VALUE:g}] "
                              "(MAX_RULE_VALUE, qgm.limits)") from None
    if not isinstance(rule, str):
        raise ConfigError(f"{field}: expected a number or an expression of n such as 'ceil(log2(n))', got {brief(rule)}")
    if len(rule) > MAX_EXPRESSION_CHARS:
        raise ConfigError(f"{field}: the expression has {len(rule)} characters, over MAX_EXPRESSION_CHARS="
                          f"{MAX_EXPRESSION_CHARS} (qgm.limits); use e.g. 'n', '2*n', 'n/4' or 'ceil(log2(n))'")
    try:
        tree = ast.parse(rule.strip(), mode="eval")
    except (SyntaxError, ValueError):
        raise ConfigError(f"{field}: cannot parse {brief(rule)}; use e.g. 'n', '2*n', 'n/4' or 'ceil(log2(n))'") from None
    try:
        return _value(tree.body, float(n))
    except _Refused as why:
        raise ConfigError(
            f"{field}: {brief(rule)} at n={n}: {why}; rules may use n, numbers, + - * / // ** and "
            f"{', '.join(sorted(FUNCTIONS))}"
        ) from None
