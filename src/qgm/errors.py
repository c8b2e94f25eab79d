"""The qgm error hierarchy.

Every error a user can cause is a :class:`QGMError` whose message is one line
naming the field, the bad value and the fix. The CLI prints it and exits 2.

Messages stay short whatever the input: a value quoted in a message goes
through :func:`brief` (at most :data:`MAX_VALUE_CHARS` characters, however
large or deeply nested the value), and a message longer than
:data:`MAX_MESSAGE_CHARS` is clipped when the error is made.
"""
from __future__ import annotations

import reprlib
from typing import Any

__all__ = [
    "QGMError",
    "ConfigError",
    "DataError",
    "CircuitError",
    "ParameterError",
    "ResourceError",
    "brief",
    "key_name",
    "MAX_MESSAGE_CHARS",
    "MAX_VALUE_CHARS",
]

#: Longest message a :class:`QGMError` keeps (longer ones are clipped with a count of what was cut).
MAX_MESSAGE_CHARS = 1000
#: Longest quotation of a user value inside a message (:func:`brief`).
MAX_VALUE_CHARS = 80

_REPR = reprlib.Repr()
_REPR.maxlevel, _REPR.maxstring, _REPR.maxother = 3, MAX_VALUE_CHARS, MAX_VALUE_CHARS
_REPR.maxlist = _REPR.maxtuple = _REPR.maxdict = _REPR.maxset = _REPR.maxfrozenset = 6


def brief(value: Any, limit: int = MAX_VALUE_CHARS) -> str:
    """``repr(value)`` bounded to about ``limit`` characters, in time and memory independent of the value's size.

    Containers show their first few items and ``...`` (nesting cut at 3 levels), so a
    YAML alias bomb or a 10**6-element list costs no more to quote than a short list.
    """
    text = _REPR.repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def key_name(key: Any) -> str:
    """A mapping key as it appears in a dotted path (``train.steps``): short plain strings bare, anything else
    through :func:`brief`."""
    if isinstance(key, str) and key.isprintable() and 0 < len(key) <= MAX_VALUE_CHARS:
        return key
    return brief(key)


def _clip(message: str) -> str:
    if len(message) <= MAX_MESSAGE_CHARS:
        return message
    cut = len(message) - MAX_MESSAGE_CHARS
    return f"{message[:MAX_MESSAGE_CHARS]}... [{cut} more characters]"


class QGMError(Exception):
    """Base class of every user-facing qgm error (message clipped to :data:`MAX_MESSAGE_CHARS`)."""

    def __init__(self, *args: Any) -> None:
        if args and isinstance(args[0], str):
            args = (_clip(args[0]), *args[1:])
        super().__init__(*args)


class ConfigError(QGMError, ValueError):
    """A configuration key is unknown, mistyped or impossible."""


class DataError(QGMError, ValueError):
    """A dataset or data file cannot be used as given."""


class CircuitError(QGMError, ValueError):
    """A circuit is malformed: bad gate, wire, parameter or QASM text."""


class ParameterError(QGMError, ValueError):
    """A parameter or input tensor has the wrong shape, dtype or values."""


class ResourceError(QGMError, MemoryError):
    """The requested work would not fit in memory (or on the device)."""
