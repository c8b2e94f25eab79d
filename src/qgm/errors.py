"""The qgm error hierarchy.

Every error a user can cause is a :class:`QGMError` whose message is one line
naming the field, the bad value and the fix. The CLI prints it and exits 2.
"""
from __future__ import annotations

__all__ = [
    "QGMError",
    "ConfigError",
    "DataError",
    "CircuitError",
    "ParameterError",
    "ResourceError",
]


class QGMError(Exception):
    """Base class of every user-facing qgm error."""


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
