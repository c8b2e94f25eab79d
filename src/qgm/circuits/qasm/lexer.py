"""Tokens of OpenQASM source text, made on demand, and the located error every reader problem raises.

:class:`Lexer` turns the text into :class:`Token` s one at a time (the text is
never held as a token list, so memory stays that of the text);
:class:`TokenStream` adds the lookahead and the ``expect``-style helpers a
recursive reader needs. Pragmas (``#pragma ...`` / ``pragma ...`` at the start
of a line) are tokens that own the rest of their line; annotations (``@name
...`` at the start of a line) are dropped with their line; comments and
whitespace are skipped.
"""
from __future__ import annotations

import re
from typing import NamedTuple

from qgm.errors import CircuitError

__all__ = ["KEYWORDS", "Token", "Lexer", "TokenStream", "error", "clip"]

#: Reserved words of OpenQASM 3 (and 2): never slot, register or gate names.
KEYWORDS = frozenset(
    """OPENQASM include defcalgrammar def cal defcal gate opaque extern box let break continue if
    else end return for while in switch case default pragma input output const readonly mutable
    qreg qubit creg bool bit int uint float angle complex array void duration stretch gphase inv
    pow ctrl negctrl dim durationof sizeof delay reset measure barrier true false im U CX""".split()
)

_MAX_MESSAGE = 600  # characters of an error message; user text beyond it is elided


def clip(text: str, n: int = 60, keep_end: bool = False) -> str:
    """``text`` shortened to at most ``n`` characters (for user text quoted in messages); ``keep_end``
    keeps its end instead of its start (for file paths)."""
    if len(text) <= n:
        return text
    return "..." + text[3 - n :] if keep_end else text[: n - 3] + "..."


def error(line: int, msg: str) -> CircuitError:
    """The one-line :class:`CircuitError` ``line N: msg`` (overlong messages are elided in the middle)."""
    msg = " ".join(msg.splitlines())
    if len(msg) > _MAX_MESSAGE:
        msg = msg[: _MAX_MESSAGE // 2] + " ... " + msg[-_MAX_MESSAGE // 2 :]
    return CircuitError(f"line {line}: {msg}")


class Token(NamedTuple):
    """One token: its kind (``num id hw str op pragma eof``), text, line and offsets ``[pos, end)``."""

    kind: str
    value: str
    line: int
    pos: int
    end: int


_TOKEN_RE = re.compile(
    r"""
    (?P<num>(?:\d[\d_]*\.[\d_]*|\.\d[\d_]*|\d[\d_]*)(?:[eE][+-]?\d+)?)
  | (?P<id>[^\W\d]\w*)
  | (?P<hw>\$\d+)
  | (?P<str>"[^"\n]*"|'[^'\n]*')
  | (?P<op>\*\*|->|==|!=|<=|>=|&&|\|\||[;,()\[\]{}+\-*/%=@:<>!&|^~])
    """,
    re.VERBOSE,
)
_SPACE_RE = re.compile(r"[ \t\r\f\v]+|//[^\n]*")
_LINE_DIRECTIVE_RE = re.compile(r"[ \t\r\f\v]*(#?pragma\b|@[^\W\d])([^\n]*)")


class Lexer:
    """Tokens of ``text`` on demand; ``pos``/``line`` are where the next token (or trivia) starts.

    Args:
        text: the source.
        line: number of the first line (for a piece of a larger source).
    """

    def __init__(self, text: str, line: int = 1) -> None:
        self.text = text
        self.pos = 0
        self.line = line
        self.at_line_start = True

    def skip_trivia(self) -> None:
        """Advance over whitespace, newlines, comments and annotations, up to a token or a pragma."""
        text, pos, line, start = self.text, self.pos, self.line, self.at_line_start
        n = len(text)
        while pos < n:
            if start:
                m = _LINE_DIRECTIVE_RE.match(text, pos)
                if m:
                    if m.group(1).endswith("pragma"):
                        break
                    pos = m.end()  # an annotation: dropped with the rest of its line
                    continue
            c = text[pos]
            if c == "\n":
                line += 1
                start = True
                pos += 1
                continue
            m = _SPACE_RE.match(text, pos)
            if m:
                pos = m.end()
                continue
            if text.startswith("/*", pos):
                end = text.find("*/", pos + 2)
                if end < 0:
                    self.line = line
                    raise error(line, "unterminated block comment '/*'; close it with '*/'")
                line += text.count("\n", pos, end)
                pos = end + 2
                continue
            break
        self.pos, self.line, self.at_line_start = pos, line, start

    def next(self) -> Token:
        """The next token (an ``eof`` token at the end, again on every later call)."""
        self.skip_trivia()
        text, pos = self.text, self.pos
        if pos >= len(text):
            return Token("eof", "", self.line, pos, pos)
        if self.at_line_start:
            m = _LINE_DIRECTIVE_RE.match(text, pos)
            if m:  # skip_trivia stops at a line start only for a pragma
                self.pos = m.end()
                return Token("pragma", m.group(2).strip(), self.line, m.start(1), m.end())
        m = _TOKEN_RE.match(text, pos)
        if m is None:
            raise error(self.line, f"unexpected character {text[pos]!r}; remove it")
        self.pos = m.end()
        self.at_line_start = False
        return Token(m.lastgroup, m.group(), self.line, pos, self.pos)  # type: ignore[arg-type]


class TokenStream:
    """A :class:`Lexer` with lookahead and the helpers of a recursive-descent reader.

    ``stmt_start`` (the source offset of the statement being read) and the last
    consumed token make the message of a missing ``;`` quote the statement.
    """

    def __init__(self, lexer: Lexer) -> None:
        self.lexer = lexer
        self.ahead: list[Token] = []
        self.prev: Token | None = None
        self.stmt_start = 0

    def peek(self, k: int = 0) -> Token:
        ahead = self.ahead
        while len(ahead) <= k:
            ahead.append(self.lexer.next())
        return ahead[k]

    def next(self) -> Token:
        t = self.peek()
        if t.kind != "eof":
            self.ahead.pop(0)
            self.prev = t
        return t

    def at(self, value: str) -> bool:
        t = self.peek()
        return t.value == value and t.kind in ("op", "id")

    def accept(self, value: str) -> bool:
        if self.at(value):
            self.next()
            return True
        return False

    @staticmethod
    def show(t: Token) -> str:
        return "end of file" if t.kind == "eof" else repr(clip(t.value))

    def expect(self, value: str, context: str = "") -> Token:
        if self.at(value):
            return self.next()
        t = self.peek()
        prev = self.prev
        if value == ";" and prev is not None:
            stmt = " ".join(self.lexer.text[min(self.stmt_start, prev.pos) : prev.end].split())
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
