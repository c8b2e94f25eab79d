"""OpenQASM out: :func:`to_qasm` writes a circuit as OpenQASM 3 (default) or 2.

Export (OpenQASM 3)::

    OPENQASM 3.0;
    include "stdgates.inc";
    #pragma qgm inputs x z                     // only if the circuit has input slots
    gate rzz(theta) a, b { cx a, b; rz(theta) b; cx a, b; }   // only gates in use
    #pragma qgm unitary unitary_0 "my label" 0x1.0000000000000p+0 0x0.0p+0 ...
    opaque unitary_0 a0, a1;
    input float[64] a;                         // trainable slots, circuit.param_names order
    input float[64] x;                         // then input slots, circuit.input_names order
    input float[64] z;
    qubit[3] q;
    h q[0];
    rzz(2.5*a - 0.1) q[0], q[1];
    unitary_0 q[2], q[0];

Format decisions (all read back by :func:`qgm.circuits.qasm.from_qasm`, so that
``Circuit.from_qasm(c.to_qasm()) == c`` exactly):

* Angles are written with ``repr`` of the Python float (which round-trips
  bit-exactly), always with a decimal point (``1.0e-05``); slot expressions as
  ``scale*name + offset`` with scale 1 and offset 0 omitted and ``-name`` for
  scale -1.
* Every slot is an ``input float[64]``. Data/latent (input) slots are named in
  ``#pragma qgm inputs n1 n2 ...``; without that pragma every ``input`` is a
  trainable parameter. Slot order is declaration order.
* Gate names follow ``stdgates.inc``; ``u3`` is written as the built-in ``U``
  (its matrix equals the catalogue's ``u3`` exactly). ``rxx``, ``ryy``,
  ``rzz`` and ``iswap`` are not in ``stdgates.inc`` and get ``gate``
  definitions in terms of standard gates; on import, any definition whose name
  is a catalogue gate and whose body equals that gate (checked numerically, up
  to global phase) becomes the native gate again.
* A user ``unitary`` op is carried by a qgm-specific line
  ``#pragma qgm unitary <ident> <label as JSON string or null> <entries>``
  with the ``4**k`` matrix entries row-major, each as ``float.hex(re)
  float.hex(im)`` (exact), followed by ``opaque <ident> a0, ..., a{k-1};``.
  Other OpenQASM tools do not understand this pragma and will reject the
  opaque gate; export such circuits for them only after decomposing the unitary.

Export (OpenQASM 2, ``version=2``): ``OPENQASM 2.0; include "qelib1.inc";
qreg q[n];`` with numeric angles only (bind slots first) and only the gates of
the original ``qelib1.inc`` (as loaded by ``qiskit.qasm2.loads``); ``sx``,
``swap``, ``crx``, ``cry``, ``rxx``, ``ryy``, ``rzz`` and ``iswap`` get
``gate`` definitions, ``p`` is written ``u1`` and a one-qubit user unitary is
written as ``u3`` (global phase dropped: OpenQASM 2 has none). Larger user
unitaries cannot be written in OpenQASM 2.
"""
from __future__ import annotations

import json
import math
from typing import Any

import numpy as np

from qgm.circuits.circuit import Circuit, Param
from qgm.circuits.gates import ALIASES, GATES
from qgm.circuits.qasm.expressions import CONSTANTS
from qgm.circuits.qasm.lexer import KEYWORDS
from qgm.circuits.qasm.library import LIBRARY_GATES, QASM2_DEFINITIONS, QASM2_NATIVE, QASM3_DEFINITIONS, QASM3_NAMES
from qgm.errors import CircuitError

__all__ = ["to_qasm"]


def _num(x: float) -> str:
    """Exact (``repr``) decimal form of ``x`` that always has a decimal point."""
    x = float(x)
    if not math.isfinite(x):
        raise CircuitError(f"cannot write the non-finite angle value {x!r} to OpenQASM; use a finite number")
    s = repr(x)
    if "e" in s and "." not in s:
        mant, exp = s.split("e")
        s = f"{mant}.0e{exp}"
    return s


def _angle3(a: Any) -> str:
    if not isinstance(a, Param):
        return _num(a)
    scale, offset = float(a.scale), float(a.offset)
    if scale == 1.0:
        text = a.name
    elif scale == -1.0:
        text = f"-{a.name}"
    else:
        text = f"{_num(scale)}*{a.name}"
    if offset > 0:
        text += f" + {_num(offset)}"
    elif offset < 0:
        text += f" - {_num(-offset)}"
    elif offset != 0:  # nan
        _num(offset)
    return text


def _check_slot_name(name: str, kind: str) -> None:
    if not name.isidentifier() or name in KEYWORDS or name in CONSTANTS:
        what = "trainable parameter" if kind == "param" else "input"
        raise CircuitError(
            f"{what} slot name {name!r} cannot be written as an OpenQASM identifier "
            f"(it must be a letter/underscore followed by letters, digits or underscores, and not a "
            f"keyword or constant such as 'pi'); rename the slot"
        )


def _u3_angles(m: np.ndarray) -> tuple[float, float, float]:
    """``(θ, φ, λ)`` with ``m = e^{iγ} u3(θ, φ, λ)`` for a 2x2 unitary ``m``."""
    a, b, c, d = m[0, 0], m[0, 1], m[1, 0], m[1, 1]
    tiny = 1e-13
    theta = 2.0 * math.atan2(abs(c), abs(a))
    gamma = float(np.angle(a)) if abs(a) > tiny else float(np.angle(c))
    phi = float(np.angle(c)) - gamma if abs(c) > tiny else 0.0
    lam = float(np.angle(-b)) - gamma if abs(b) > tiny else float(np.angle(d)) - gamma - phi
    return theta, phi, lam


def to_qasm(circuit: Circuit, version: int = 3) -> str:
    """OpenQASM text of ``circuit``.

    Args:
        circuit: the circuit to write.
        version: 3 (default; slots become ``input float[64]`` declarations and the
            text reads back exactly with :func:`from_qasm`) or 2 (``qelib1.inc``
            gates and numeric angles only, for older tools).

    Returns:
        The program text, one statement per line, ending with a newline.
    """
    if version not in (2, 3):
        raise CircuitError(f"to_qasm: version must be 2 or 3, got {version!r}")
    if version == 2:
        return _to_qasm2(circuit)
    return _to_qasm3(circuit)


def _to_qasm3(circuit: Circuit) -> str:
    for name in circuit.param_names:
        _check_slot_name(name, "param")
    for name in circuit.input_names:
        _check_slot_name(name, "input")
    slots = set(circuit.param_names) | set(circuit.input_names)

    taken = set(GATES) | set(ALIASES) | set(LIBRARY_GATES) | KEYWORDS | set(CONSTANTS) | slots
    unitary_ident: list[str] = []  # per op (None for non-unitary ops)
    defs: list[tuple[str, str | None, np.ndarray]] = []  # (ident, label, matrix)
    idents: set[str] = set()
    for op in circuit.ops:
        if op.name != "unitary":
            unitary_ident.append("")
            continue
        m = np.asarray(op.matrix, dtype=np.complex128)
        found = next(
            (i for i, lb, mm in defs if lb == op.label and mm.shape == m.shape and np.array_equal(mm, m)), None
        )
        if found is None:
            lb = op.label
            if lb is not None and lb.isidentifier() and lb not in taken and lb not in idents:
                found = lb
            else:
                k = len(defs)
                while f"unitary_{k}" in taken or f"unitary_{k}" in idents:
                    k += 1
                found = f"unitary_{k}"
            idents.add(found)
            defs.append((found, op.label, m))
        unitary_ident.append(found)

    reg = "q"
    while reg in slots or reg in idents:
        reg += "_"

    lines = ["OPENQASM 3.0;", 'include "stdgates.inc";']
    if circuit.input_names:
        lines.append("#pragma qgm inputs " + " ".join(circuit.input_names))
    used = {op.name for op in circuit.ops}
    for g, text in QASM3_DEFINITIONS.items():
        if g in used:
            lines.append(text)
    for ident, label, m in defs:
        k = int(round(math.log2(m.shape[0])))
        entries = " ".join(f"{float(z.real).hex()} {float(z.imag).hex()}" for z in m.reshape(-1))
        lines.append(f"#pragma qgm unitary {ident} {json.dumps(label)} {entries}")
        lines.append(f"opaque {ident} " + ", ".join(f"a{i}" for i in range(k)) + ";")
    for name in circuit.param_names + circuit.input_names:
        lines.append(f"input float[64] {name};")
    lines.append(f"qubit[{circuit.n_qubits}] {reg};")
    for op, ident in zip(circuit.ops, unitary_ident):
        wires = ", ".join(f"{reg}[{w}]" for w in op.wires)
        if op.name == "unitary":
            lines.append(f"{ident} {wires};")
            continue
        args = f"({', '.join(_angle3(a) for a in op.params)})" if op.params else ""
        lines.append(f"{QASM3_NAMES[op.name]}{args} {wires};")
    return "\n".join(lines) + "\n"


def _to_qasm2(circuit: Circuit) -> str:
    unbound = list(circuit.param_names) + list(circuit.input_names)
    if unbound:
        shown = ", ".join(repr(n) for n in unbound[:8]) + (" ..." if len(unbound) > 8 else "")
        raise CircuitError(
            f"to_qasm(version=2): OpenQASM 2 has no parameters but slot(s) {shown} are unbound; "
            f"bind parameters first: circuit.bind(**values)"
        )
    used = {op.name for op in circuit.ops}
    lines = ["OPENQASM 2.0;", 'include "qelib1.inc";']
    for g, text in QASM2_DEFINITIONS.items():
        if g in used and g not in QASM2_NATIVE:
            lines.append(text)
    lines.append(f"qreg q[{circuit.n_qubits}];")
    for op in circuit.ops:
        wires = ",".join(f"q[{w}]" for w in op.wires)
        if op.name == "unitary":
            if len(op.wires) != 1:
                raise CircuitError(
                    f"to_qasm(version=2): a {len(op.wires)}-qubit user unitary (label {op.label!r}) cannot be "
                    f"written in OpenQASM 2; use version=3 (qgm pragma) or decompose it into gates"
                )
            th, ph, la = _u3_angles(np.asarray(op.matrix))
            lines.append(f"u3({_num(th)},{_num(ph)},{_num(la)}) {wires};")
            continue
        name = QASM2_NATIVE.get(op.name, op.name)
        args = f"({','.join(_num(a) for a in op.params)})" if op.params else ""
        lines.append(f"{name}{args} {wires};")
    return "\n".join(lines) + "\n"
