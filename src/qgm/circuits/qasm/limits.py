"""What the OpenQASM reader accepts at most: :class:`QasmLimits`.

Every limit refuses the program with a one-line :class:`CircuitError` that
names the setting and the number the program would have needed, before the
work is done (a gate that expands to 2**30 gates is refused at its call, in
microseconds). Pass other limits to read larger programs::

    Circuit.from_qasm(text, limits=QasmLimits(max_gates=20_000_000))
"""
from __future__ import annotations

from dataclasses import dataclass, fields

from qgm.errors import ConfigError

__all__ = ["QasmLimits", "DEFAULT_LIMITS"]


@dataclass(frozen=True)
class QasmLimits:
    """Limits of :func:`qgm.circuits.qasm.from_qasm` (all positive integers).

    Attributes:
        max_chars: size of the program text in characters (bytes for ``bytes``
            input and for files, checked before decoding or reading). 64 MiB is
            about 2.4 million gates written as Qiskit writes them.
        max_depth: nesting depth of parentheses and function calls in one
            expression, and of the ``gate`` definitions a call expands through
            (a gate whose body calls only standard gates has depth 1).
        max_gates: gates in the circuit, counted after expanding ``gate``
            definitions and register broadcasts (the gate-expansion count).
            Reading takes about 10 µs and 0.2 kB per gate; the default bounds
            a load at a few hundred MB.
        max_expression_terms: numbers, names and operators in one expression.
        max_qubits: qubits of the circuit (all registers, or the highest
            physical ``$k`` plus one).
    """

    max_chars: int = 64 * 2**20
    max_depth: int = 100
    max_gates: int = 2_000_000
    max_expression_terms: int = 10_000
    max_qubits: int = 1_000

    def __post_init__(self) -> None:
        for f in fields(self):
            v = getattr(self, f.name)
            if not isinstance(v, int) or isinstance(v, bool) or v < 1:
                raise ConfigError(f"QasmLimits.{f.name} must be a positive integer, got {v!r}")

    def refuse(self, name: str, needed: int, what: str) -> str:
        """Message text: ``what`` needs ``needed`` but setting ``name`` allows less, and how to raise it."""
        return (
            f"{what} needs {name}={needed:,} but the limit is {getattr(self, name):,}; "
            f"pass limits=QasmLimits({name}=...) to allow it"
        )


#: The limits used when none are given.
DEFAULT_LIMITS = QasmLimits()
