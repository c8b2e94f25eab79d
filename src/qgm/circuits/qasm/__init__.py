"""OpenQASM in and out.

* :func:`to_qasm` (:mod:`.export`): a circuit as OpenQASM 3 (reads back exactly) or 2.
* :func:`from_qasm` / :func:`read_qasm` (:mod:`.parser`): OpenQASM 3 (or 2) text or file as a
  circuit, within :class:`QasmLimits` (:mod:`.limits`).

The reader's pieces: :mod:`.lexer` (tokens), :mod:`.expressions` (angle
expressions and their affine values), :mod:`.program` (declarations, gate
definitions and their expansion), :mod:`.library` (gate tables of both
directions), :mod:`.equivalence` (recognising definitions of catalogue gates).
"""
from qgm.circuits.qasm.export import to_qasm
from qgm.circuits.qasm.library import QASM2_DEFINITIONS, QASM3_DEFINITIONS
from qgm.circuits.qasm.limits import DEFAULT_LIMITS, QasmLimits
from qgm.circuits.qasm.parser import from_qasm, read_qasm

__all__ = [
    "to_qasm",
    "from_qasm",
    "read_qasm",
    "QasmLimits",
    "DEFAULT_LIMITS",
    "QASM2_DEFINITIONS",
    "QASM3_DEFINITIONS",
]
