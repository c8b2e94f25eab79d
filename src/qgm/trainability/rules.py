"""Arithmetic rules of the qubit count ``n`` used in configs (``"n"``, ``"n/4"``, ``"ceil(log2(n))"``).

Only numbers, ``n``, ``+ - * / // **`` and :data:`FUNCTIONS` are accepted
(checked on the syntax tree before evaluation).
"""
from __future__ import annotations

import ast
import math
from typing import Union

from qgm.errors import ConfigError

__all__ = ["eval_rule", "FUNCTIONS"]

FUNCTIONS = {"log2": math.log2, "log": math.log, "sqrt": math.sqrt, "ceil": math.ceil, "floor": math.floor}
_ALLOWED_NODES = (
    ast.Expression, ast.BinOp, ast.UnaryOp, ast.Call, ast.Name, ast.Load, ast.Constant,
    ast.Add, ast.Sub, ast.Mult, ast.Div, ast.Pow, ast.FloorDiv, ast.USub, ast.UAdd,
)


def eval_rule(rule: Union[int, float, str], n: int, field: str = "rule") -> float:
    """Value of ``rule`` (a number, or an expression of ``n``) at ``n``."""
    if isinstance(rule, (int, float)) and not isinstance(rule, bool):
        return float(rule)
    if not isinstance(rule, str):
        raise ConfigError(f"{field}: expected a number or an expression of n such as 'ceil(log2(n))', got {rule!r}")
    try:
        tree = ast.parse(rule, mode="eval")
    except SyntaxError:
        raise ConfigError(f"{field}: cannot parse {rule!r}; use e.g. 'n', '2*n', 'n/4' or 'ceil(log2(n))'") from None
    for node in ast.walk(tree):
        bad_name = isinstance(node, ast.Name) and node.id not in FUNCTIONS and node.id != "n"
        if not isinstance(node, _ALLOWED_NODES) or bad_name:
            raise ConfigError(f"{field}: {rule!r} may use n, numbers, + - * / ** and {sorted(FUNCTIONS)} only")
    try:
        return float(eval(compile(tree, "<rule>", "eval"), {"__builtins__": {}}, {**FUNCTIONS, "n": n}))
    except (ValueError, ZeroDivisionError, TypeError) as err:
        raise ConfigError(f"{field}: {rule!r} fails at n={n} ({err})") from None
