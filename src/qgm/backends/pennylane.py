"""PennyLane interop: :func:`to_pennylane` (a quantum function) and :func:`to_pennylane_qnode`.

PennyLane's wire convention is qgm's: the first wire of ``wire_order`` is the
most significant bit of a basis index (``qml.probs``, ``qml.state``), so qgm
wire ``i`` maps to PennyLane wire ``wires[i]`` (default ``i``) and no bit
reversal is needed. Every catalogue gate is the PennyLane operation of the same
matrix: ``u3`` -> ``qml.U3`` (equal to OpenQASM's ``U``), ``p`` ->
``qml.PhaseShift``, ``rxx``/``ryy``/``rzz`` -> ``qml.IsingXX``/``IsingYY``/
``IsingZZ``, ``iswap`` -> ``qml.ISWAP``, ``sdg``/``tdg`` -> ``qml.adjoint`` of
``qml.S``/``qml.T``, a user ``unitary`` -> ``qml.QubitUnitary`` on the same wires
(first wire = most significant bit in both libraries).

Angles are computed from the slot vectors with ordinary arithmetic
(``scale * params[..., i] + offset``), so Torch, Autograd, JAX or TensorFlow
tensors keep their gradients and a leading batch dimension is broadcast by
PennyLane.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable, Sequence, Union

import numpy as np

from qgm.backends.extras import require
from qgm.circuits.circuit import Angle, Circuit, Op, Param
from qgm.errors import ParameterError
from qgm.sim.observables import Observable, PauliTerm, parse_observable

if TYPE_CHECKING:
    import pennylane

__all__ = ["to_pennylane", "to_pennylane_qnode", "PENNYLANE_GATES"]

#: Catalogue gate -> PennyLane operation class name (identical matrices).
PENNYLANE_GATES: dict[str, str] = {
    "id": "Identity", "x": "PauliX", "y": "PauliY", "z": "PauliZ", "h": "Hadamard",
    "s": "S", "sdg": "S", "t": "T", "tdg": "T", "sx": "SX",
    "rx": "RX", "ry": "RY", "rz": "RZ", "p": "PhaseShift", "u3": "U3",
    "cx": "CNOT", "cy": "CY", "cz": "CZ", "swap": "SWAP", "iswap": "ISWAP",
    "crx": "CRX", "cry": "CRY", "crz": "CRZ",
    "rxx": "IsingXX", "ryy": "IsingYY", "rzz": "IsingZZ", "ccx": "Toffoli",
}
#: Catalogue gates applied as the adjoint of their PennyLane class.
_ADJOINT = frozenset({"sdg", "tdg"})

Measurement = Union[str, Observable]


def _slot_vector(value: Any, names: Sequence[str], field: str) -> Any:
    """``value`` as an indexable ``(..., len(names))`` array/tensor (framework tensors pass through)."""
    if value is None:
        if names:
            raise ParameterError(
                f"{field}: the circuit has {len(names)} {field} slot(s); pass a vector of shape (..., {len(names)})"
            )
        return None
    if isinstance(value, (list, tuple)):
        value = np.asarray(value, dtype=np.float64)
    shape = tuple(getattr(value, "shape", ()))
    if not shape or shape[-1] != len(names):
        raise ParameterError(
            f"{field}: expected shape (..., {len(names)}) (one entry per slot), got {shape or type(value).__name__}"
        )
    return value


def _angle(a: Angle, index: dict[tuple[str, str], int], params: Any, inputs: Any) -> Any:
    """The angle of ``a``: a number, or ``scale * vector[..., i] + offset`` of its slot."""
    if not isinstance(a, Param):
        return float(a)
    vector = params if a.kind == "param" else inputs
    value = vector[..., index[a.kind, a.name]]
    if a.scale != 1.0:
        value = a.scale * value
    return value + a.offset if a.offset != 0.0 else value


def _same_framework(qml: Any, angles: list[Any]) -> list[Any]:
    """Numbers converted to the tensor type of the gate's slot angles.

    PennyLane combines a gate's angles arithmetically when building its matrix,
    and NumPy scalars do not mix with Torch tensors there.
    """
    like = next((a for a in angles if not isinstance(a, float)), None)
    if like is None:
        return angles

    def convert(a: float) -> Any:
        # via a float64 array: convert_like of a Python float goes through float32 for Torch
        return qml.math.cast_like(qml.math.convert_like(np.asarray(a, dtype=np.float64), like), like)

    return [convert(a) if isinstance(a, float) else a for a in angles]


def _apply(qml: Any, op: Op, angles: list[Any], wire_map: Sequence[Any]) -> None:
    wires = [wire_map[w] for w in op.wires]
    if op.name == "unitary":
        qml.QubitUnitary(op.matrix, wires=wires)
        return
    gate = getattr(qml, PENNYLANE_GATES[op.name])
    if op.name in _ADJOINT:
        qml.adjoint(gate)(wires=wires)
    else:
        gate(*_same_framework(qml, angles), wires=wires)


def _wire_labels(circuit: Circuit, wires: Sequence[Any] | None) -> list[Any]:
    """PennyLane wire label of each qgm wire (default: the qgm wire number)."""
    if wires is None:
        return list(range(circuit.n_qubits))
    labels = list(wires)
    if len(labels) != circuit.n_qubits or len(set(labels)) != len(labels):
        raise ParameterError(
            f"wires: expected {circuit.n_qubits} distinct PennyLane wire labels (one per qgm wire), got {labels!r}"
        )
    return labels


def to_pennylane(
    circuit: Circuit,
    params: Any = None,
    inputs: Any = None,
    wires: Sequence[Any] | None = None,
) -> Callable[..., None]:
    """A PennyLane quantum function ``ops(params=None, inputs=None)`` applying ``circuit``'s gates.

    Call it inside a QNode (or ``qml.tape``/``qml.matrix``). qgm wire ``i``
    acts on PennyLane wire ``wires[i]`` (default ``i``), so measuring
    ``qml.probs(wires=wires)`` gives qgm's ``(..., 2**n)`` order. ``params``
    ``(..., n_params)`` and ``inputs`` ``(..., n_inputs)`` given here are
    defaults; values passed to ``ops`` take precedence. Slot vectors may be any
    array/tensor type PennyLane accepts (gradients flow; a leading batch
    dimension broadcasts).

    Example::

        ops = to_pennylane(circuit)

        @qml.qnode(qml.device("default.qubit", wires=circuit.n_qubits), interface="torch")
        def probs(theta):
            ops(theta)
            return qml.probs()
    """
    qml = require("pennylane")
    wire_map = _wire_labels(circuit, wires)
    index = {("param", p): i for i, p in enumerate(circuit.param_names)}
    index.update({("input", x): i for i, x in enumerate(circuit.input_names)})
    default_params, default_inputs = params, inputs

    def ops(params: Any = None, inputs: Any = None) -> None:
        p = _slot_vector(default_params if params is None else params, circuit.param_names, "params")
        x = _slot_vector(default_inputs if inputs is None else inputs, circuit.input_names, "inputs")
        for op in circuit.ops:
            _apply(qml, op, [_angle(a, index, p, x) for a in op.params], wire_map)

    return ops


def _observable(qml: Any, terms: list[PauliTerm], wire_map: Sequence[Any]) -> Any:
    """The PennyLane operator ``Σ coef · P`` of parsed Pauli terms (character ``i`` on ``wire_map[i]``)."""
    sentence = qml.pauli.PauliSentence()
    for t in terms:
        word = qml.pauli.PauliWord({wire_map[w]: ch for w, ch in enumerate(t.string) if ch != "I"})
        sentence[word] = sentence.get(word, 0.0) + t.coef
    return sentence.operation(wire_order=wire_map)


def _measurement(qml: Any, measurement: Measurement, wire_map: Sequence[Any]) -> Callable[[], Any]:
    """A zero-argument function returning the measurement process (called inside the QNode)."""
    n = len(wire_map)
    if measurement == "probs":
        return lambda: qml.probs(wires=wire_map)
    if measurement == "state":
        return qml.state
    if isinstance(measurement, str) and set(measurement.upper()) - set("IXYZ"):
        raise ParameterError(
            f"measurement: expected 'probs', 'state' or a Pauli observable such as {'Z' * n!r}, got {measurement!r}"
        )
    obs = _observable(qml, parse_observable(measurement, n), wire_map)
    return lambda: qml.expval(obs)


def to_pennylane_qnode(
    circuit: Circuit,
    device: Any = "default.qubit",
    measurement: Measurement = "probs",
    interface: str = "torch",
    wires: Sequence[Any] | None = None,
    **qnode_kwargs: Any,
) -> "pennylane.QNode":
    """A QNode ``qnode(params=None, inputs=None)`` running ``circuit`` on a PennyLane device.

    Args:
        circuit: the qgm circuit.
        device: a device name (created on ``wires``) or a device object whose
            wires include ``wires``.
        measurement: ``"probs"`` -> ``(..., 2**n)`` Born probabilities (wire 0 =
            most significant bit, as in qgm); ``"state"`` -> ``(..., 2**d)`` state
            vector over the device's wires (qgm's order when the device's
            wires are ``wires``, in that order); or a qgm observable (``"ZZI"`` or
            ``[(coef, "XXI"), ...]``) -> its expectation value.
        interface: PennyLane ML interface (``"torch"``, ``"autograd"``, ``"jax"``, ...).
        wires: PennyLane label of each qgm wire (default ``0..n-1``).
        **qnode_kwargs: passed to ``qml.QNode`` (e.g. ``diff_method="adjoint"``).
    """
    qml = require("pennylane")
    wire_map = _wire_labels(circuit, wires)
    dev = qml.device(device, wires=wire_map) if isinstance(device, str) else device
    measure = _measurement(qml, measurement, wire_map)
    ops = to_pennylane(circuit, wires=wire_map)

    def qfunc(params: Any = None, inputs: Any = None) -> Any:
        ops(params, inputs)
        return measure()

    return qml.QNode(qfunc, dev, interface=interface, **qnode_kwargs)
