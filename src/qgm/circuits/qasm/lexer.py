"""Tokens of OpenQASM source text, and the located error every reader problem raises.

Pragmas (``#pragma ...`` / ``pragma ...`` at the start of a line) are tokens
that own the rest of their line; annotations (``@name ...``) are dropped with
their line; comments and whitespace are skipped.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from qgm.errors import CircuitError

__all__ = ["KEYWORDS", "Token", "tokenize", "error"]

#: Reserved words of OpenQASM 3 (and 2): never slot, register or gate names.
KEYWORDS = frozenset(
    """OPENQASM include defcalgrammar def cal defcal gate opaque extern box let break continue if
    else end return for while in switch case default pragma input output const readonly mutable
    qreg qubit creg bool bit int uint float angle complex array void duration stretch gphase inv
    pow ctrl negctrl dim durationof sizeof delay reset measure barrier true false im U CX""".split()
)


def error(line: int, msg: str) -> CircuitError:
    """The one-line :class:`CircuitError` ``line N: msg``."""
    return CircuitError(f"line {line}: {msg}")


@dataclass(frozen=True)
class Token:
    """One token: its kind, text, line and offsets ``[pos, end)`` in the source."""

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


def tokenize(text: str, line0: int = 1) -> list[Token]:
    """All tokens of ``text`` (lines counted from ``line0``), ending with an ``eof`` token."""
    toks: list[Token] = []
    pos, line, at_line_start = 0, line0, True
    n = len(text)
    while pos < n:
        if at_line_start:
            # pragmas and annotations own the rest of their line
            m = _LINE_DIRECTIVE_RE.match(text, pos)
            if m:
                if m.group(1).endswith("pragma"):
                    toks.append(Token("pragma", m.group(2).strip(), line, m.start(1), m.end()))
                pos = m.end()
                continue
        m = _TOKEN_RE.match(text, pos)
        if m is None:
            raise error(line, f"unexpected character {text[pos]!r}; remove it")
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
                raise error(line, "unterminated block comment '/*'; close it with '*/'")
            line += text.count("\n", pos, end)
            pos = end + 2
            continue
        pos = m.end()
        if kind in ("ws", "lc"):
            continue
        at_line_start = False
        toks.append(Token(kind, m.group(), line, m.start(), m.end()))
    toks.append(Token("eof", "", line, n, n))
    return toks
