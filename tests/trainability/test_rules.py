"""Depth rules: evaluated safely (never by eval), bounded in size and value, refused in one line."""
import math

import pytest

from qgm.errors import ConfigError
from qgm.trainability import depth_of
from qgm.trainability.rules import eval_rule
from reference import refused_quickly


def test_rules_evaluate_as_arithmetic():
    assert eval_rule("n", 6) == 6.0 and eval_rule("2*n + 1", 3) == 7.0 and eval_rule("n // 4", 9) == 2.0
    assert eval_rule("ceil(log2(n))", 5) == 3.0 and eval_rule("sqrt(n) ** 2", 9) == pytest.approx(9.0)
    assert eval_rule("-(-n)", 2) == 2.0 and eval_rule(" n/4 ", 2) == 0.5 and eval_rule(3, 99) == 3.0
    assert eval_rule("log(n)", 1) == 0.0 and eval_rule("floor(n / 3)", 10) == 3.0


@pytest.mark.parametrize("rule, message", [
    ("9**9**9**9", "at n=3: a value leaves [-1e+09, 1e+09] (MAX_RULE_VALUE"),
    ("n**n**n", "leaves [-1e+09, 1e+09]"),
    ("10**400", "leaves"),
    ("1" * 300, "MAX_EXPRESSION_CHARS=200"),
    ("1+" * 3000 + "n", "the expression has 6001 characters, over MAX_EXPRESSION_CHARS=200"),
    ("(" * 5000 + "n" + ")" * 5000, "MAX_EXPRESSION_CHARS"),
    ("n/0", "division by zero"),
    ("log2(-n)", "log2(-3) is undefined"),
    ("(-n)**0.5", "leaves"),
    ("__import__('os').system('true')", "unsupported syntax"),
    ("n.real", "unsupported syntax"),
    ("log2(n, 2)", "unsupported syntax"),
    ("[n]", "unsupported syntax"),
    ("lambda: 1", "unsupported syntax"),
    ("True", "unsupported syntax"),
    ("n +", "cannot parse"),
    ("\x00", "cannot parse"),
])
def test_bad_rules_are_refused_quickly_in_one_line(rule, message):
    assert len(refused_quickly(lambda: eval_rule(rule, 3, "depth"), "depth: ", message, seconds=0.5)) < 400


def test_numbers_and_types():
    for bad in (True, None, [1], math.inf, 1e300):
        with pytest.raises(ConfigError, match="^depth: "):
            eval_rule(bad, 3, "depth")
    assert depth_of("9**9", 2) == 9**9  # a big but finite depth: refused later by the ansatz size limit
