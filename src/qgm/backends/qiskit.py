"""Qiskit interop: :func:`to_qiskit`, :func:`from_qiskit` and :func:`run_on_backend`.

Bit order. qgm's wire 0 is the most significant bit of a basis index; Qiskit is
little-endian (qubit 0 is the least significant bit). qgm wire ``w`` is
therefore Qiskit qubit ``n - 1 - w``, and with that map
``Statevector(to_qiskit(c, params)).data`` equals ``qgm.sim.state(c, params)``
entry by entry (same index order), and a Qiskit counts bitstring of the
exported circuit measured with ``measure_all`` reads exactly as qgm's bitstring
(leftmost character = wire 0; as a binary number it is the qgm basis index).

Gates. Every catalogue gate is the Qiskit standard gate of the same matrix
(``u3`` is ``UGate``, ``p`` is ``PhaseGate``, ``rxx``/``ryy``/``rzz`` are
``RXXGate``/``RYYGate``/``RZZGate``, ``iswap`` is ``iSwapGate``); gate roles
(control, target) keep their order. A user ``unitary`` on wires
``(w0, …, wk-1)`` (``w0`` = most significant bit of its matrix) becomes a
``UnitaryGate`` of the same matrix on the Qiskit qubits of the wires in
reversed order, because Qiskit's first listed qubit is the least significant
bit of a gate matrix.

Slots. Unbound slots become Qiskit ``Parameter`` objects named like the slot;
an affine angle ``scale·slot + offset`` becomes the ``ParameterExpression``
``scale*slot + offset``. The exported circuit's ``metadata`` records the slot
order (``qgm_params``) and which slots are inputs (``qgm_inputs``), so that
``from_qiskit(to_qiskit(c)) == c``.
"""
from __future__ import annotations

from functools import lru_cache
from typing import TYPE_CHECKING, Any, Optional, Sequence

import numpy as np
import torch

from qgm.backends.extras import require
from qgm.circuits.circuit import Angle, Circuit, Op, Param
from qgm.errors import CircuitError, ParameterError
from qgm.sim.validate import as_angles

if TYPE_CHECKING:
    from qiskit.circuit import QuantumCircuit

__all__ = ["to_qiskit", "from_qiskit", "run_on_backend"]

#: Catalogue gate -> class name in ``qiskit.circuit.library`` (identical matrices).
QISKIT_GATES: dict[str, str] = {
    "id": "IGate", "x": "XGate", "y": "YGate", "z": "ZGate", "h": "HGate",
    "s": "SGate", "sdg": "SdgGate", "t": "TGate", "tdg": "TdgGate", "sx": "SXGate",
    "rx": "RXGate", "ry": "RYGate", "rz": "RZGate", "p": "PhaseGate", "u3": "UGate",
    "cx": "CXGate", "cy": "CYGate", "cz": "CZGate", "swap": "SwapGate", "iswap": "iSwapGate",
    "crx": "CRXGate", "cry": "CRYGate", "crz": "CRZGate",
    "rxx": "RXXGate", "ryy": "RYYGate", "rzz": "RZZGate", "ccx": "CCXGate",
}
#: Further Qiskit classes whose matrix is exactly a catalogue gate's.
_QISKIT_ALIASES: dict[str, str] = {"U3Gate": "u3", "U1Gate": "p"}
#: Instructions without effect on the measured distribution, dropped on import.
_IGNORED = frozenset({"barrier", "delay", "global_phase"})
#: Nesting limit when expanding parametrised non-catalogue gates through ``definition``.
_MAX_DEPTH = 16
_METADATA_PARAMS, _METADATA_INPUTS = "qgm_params", "qgm_inputs"


def _qubit(n: int, wire: int) -> int:
    """Qiskit qubit index of qgm ``wire`` in an ``n``-qubit circuit (and vice versa)."""
    return n - 1 - wire


def _slot_values(names: Sequence[str], value: Any, field: str) -> dict[str, float]:
    """``{slot name: number}`` for one vector ``value`` ``(len(names),)``; ``None`` binds nothing."""
    if value is None:
        return {}
    t = as_angles(value, len(names), field, torch.float64, torch.device("cpu"))
    if t.dim() != 1:
        raise ParameterError(
            f"{field}: expected one vector of shape ({len(names)},) to bind, got shape {tuple(t.shape)}; "
            "export one parameter set at a time"
        )
    return dict(zip(names, t.detach().tolist()))


def _qiskit_angle(a: Angle, values: dict[str, float], symbols: dict[str, Any]) -> Any:
    """A number (bound) or a Qiskit ``Parameter``/``ParameterExpression`` (symbolic)."""
    if not isinstance(a, Param):
        return float(a)
    if a.name in values:
        return a.scale * values[a.name] + a.offset
    expr = symbols[a.name] if a.scale == 1.0 else a.scale * symbols[a.name]
    return expr if a.offset == 0.0 else expr + a.offset


def to_qiskit(circuit: Circuit, params: Any = None, inputs: Any = None) -> "QuantumCircuit":
    """The Qiskit ``QuantumCircuit`` of ``circuit`` (qgm wire ``w`` -> Qiskit qubit ``n-1-w``).

    Args:
        circuit: the qgm circuit.
        params: trainable values ``(n_params,)`` to bind, or ``None`` to keep them
            as Qiskit ``Parameter`` objects named like the slots.
        inputs: input values ``(n_inputs,)`` to bind, or ``None`` (symbolic).

    Returns:
        A circuit without classical bits whose ``Statevector`` equals
        ``qgm.sim.state(circuit, params, inputs)`` in the same index order.
    """
    qk = require("qiskit.circuit")
    lib = require("qiskit.circuit.library")
    values = {
        **_slot_values(circuit.param_names, params, "params"),
        **_slot_values(circuit.input_names, inputs, "inputs"),
    }
    symbols = {
        name: qk.Parameter(name)
        for name in circuit.param_names + circuit.input_names
        if name not in values
    }
    n = circuit.n_qubits
    qc = qk.QuantumCircuit(n)
    for op in circuit.ops:
        qubits = [_qubit(n, w) for w in op.wires]
        if op.name == "unitary":
            qc.append(lib.UnitaryGate(op.matrix, label=op.label), qubits[::-1])
        else:
            gate = getattr(lib, QISKIT_GATES[op.name])
            qc.append(gate(*(_qiskit_angle(a, values, symbols) for a in op.params)), qubits)
    qc.metadata = {
        _METADATA_PARAMS: [p for p in circuit.param_names if p in symbols],
        _METADATA_INPUTS: [p for p in circuit.input_names if p in symbols],
    }
    return qc


@lru_cache(maxsize=1)
def _catalogue_classes() -> dict[type, str]:
    """Qiskit gate class -> catalogue name (built on first use: Qiskit is optional)."""
    lib = require("qiskit.circuit.library")
    names = {**{cls: name for name, cls in QISKIT_GATES.items()}, **_QISKIT_ALIASES}
    return {getattr(lib, cls): name for cls, name in names.items()}


def _catalogue_name(operation: Any) -> Optional[str]:
    """The catalogue gate ``operation`` is exactly (default control state), else ``None``."""
    name = _catalogue_classes().get(getattr(operation, "base_class", None))
    ctrl_state = getattr(operation, "ctrl_state", None)
    if name is None or (ctrl_state is not None and ctrl_state != 2**operation.num_ctrl_qubits - 1):
        return None
    return name


def _real(x: Any, where: str) -> float:
    z = complex(x)
    if z.imag != 0.0:
        raise CircuitError(f"{where}: angle {x} is complex; qgm angles are real")
    return z.real


def _has_free_parameters(operation: Any) -> bool:
    pe = require("qiskit.circuit").ParameterExpression
    return any(isinstance(p, pe) and p.parameters for p in operation.params)


class _Importer:
    """Reads Qiskit instructions into qgm ops (recursing into parametrised definitions)."""

    def __init__(self, input_names: set[str]) -> None:
        self.input_names = input_names
        self.ops: list[Op] = []
        self.measured: set[int] = set()
        self._pe = require("qiskit.circuit").ParameterExpression
        self._gate = require("qiskit.circuit").Gate
        self._operator = require("qiskit.quantum_info").Operator

    def angle(self, value: Any, where: str) -> Angle:
        """A qgm angle from a Qiskit gate parameter (number or expression affine in one parameter)."""
        if not isinstance(value, self._pe):
            return _real(value, where)
        free = value.parameters
        if not free:
            return _real(value.numeric(), where)
        if len(free) > 1:
            raise CircuitError(
                f"{where}: angle '{value}' depends on {len(free)} parameters "
                f"({', '.join(sorted(p.name for p in free))}); a qgm angle is affine in one slot"
            )
        (p,) = free
        scale = value.gradient(p)
        if isinstance(scale, self._pe):
            raise CircuitError(
                f"{where}: angle '{value}' is not affine in '{p.name}'; "
                "bind it (QuantumCircuit.assign_parameters) or rewrite it as scale*p + offset"
            )
        kind = "input" if p.name in self.input_names else "param"
        return Param(p.name, kind, _real(scale, where), _real(value.bind({p: 0.0}).numeric(), where))

    def read(self, qc: Any, wires: Sequence[int], depth: int = 0) -> None:
        """Append the ops of ``qc`` whose qubit ``i`` is qgm wire ``wires[i]``."""
        for inst in qc.data:
            operation, name = inst.operation, inst.operation.name
            ws = [wires[qc.find_bit(q).index] for q in inst.qubits]
            where = f"instruction '{name}' on qgm wires {ws}"
            if name in _IGNORED:
                continue
            if name == "measure":
                self.measured.update(ws)
                continue
            if self.measured & set(ws):
                raise CircuitError(
                    f"{where}: acts after a measurement of the same qubit; qgm circuits are measured only "
                    "at the end (drop mid-circuit measurements)"
                )
            canon = _catalogue_name(operation)
            if canon is not None:
                angles = tuple(self.angle(v, where) for v in operation.params)
                self.ops.append(Op(canon, tuple(ws), angles))
            elif not isinstance(operation, self._gate):
                raise CircuitError(
                    f"{where}: not a unitary gate; qgm circuits hold gates only (remove resets, "
                    "classical control and initialisation)"
                )
            elif not _has_free_parameters(operation):
                self.append_unitary(operation, ws, where)
            elif operation.definition is not None and depth < _MAX_DEPTH:
                self.read(operation.definition, ws, depth + 1)
            else:
                raise CircuitError(
                    f"{where}: parametrised gate outside the qgm catalogue without a decomposition; "
                    "bind its parameters (then it is imported as a unitary) or decompose it"
                )

    def append_unitary(self, operation: Any, ws: Sequence[int], where: str) -> None:
        """A parameter-free gate as a ``unitary`` op (Qiskit's first qubit is the LSB: reverse)."""
        try:
            matrix = np.array(self._operator(operation).data, dtype=np.complex128)
        except Exception as exc:  # Qiskit raises several types for gates without a matrix
            raise CircuitError(f"{where}: has no matrix ({exc}); decompose it before importing") from None
        matrix.setflags(write=False)
        label = operation.label
        if label is None and operation.name != "unitary":
            label = operation.name
        self.ops.append(Op("unitary", tuple(reversed(ws)), (), matrix, label))


def _metadata_names(qc: Any, key: str) -> list[str]:
    meta = qc.metadata or {}
    return [str(x) for x in meta.get(key, ())]


def from_qiskit(qc: "QuantumCircuit", inputs: Sequence[str] = ()) -> Circuit:
    """A qgm :class:`Circuit` from a Qiskit ``QuantumCircuit`` (Qiskit qubit ``q`` -> wire ``n-1-q``).

    Standard gates of the catalogue map to the same gate (``U3Gate``/``U1Gate``
    too); unbound ``Parameter`` objects become trainable slots of the same name
    (or input slots if named in ``inputs`` or in the circuit's ``qgm_inputs``
    metadata); angles may be expressions affine in one parameter. Barriers,
    delays, the global phase and final measurements are dropped. Any other gate
    becomes a ``unitary`` op (via ``qiskit.quantum_info.Operator``) when it has no
    free parameters, and is expanded through its Qiskit ``definition`` when it has.
    Anything else (resets, classical control, gates after a measurement,
    non-affine angles) is a :class:`CircuitError` naming the instruction.

    Slot order: the ``qgm_params``/``qgm_inputs`` metadata written by
    :func:`to_qiskit`, then the remaining parameters in Qiskit's own order
    (``qc.parameters``: sorted by name, ``ParameterVector`` elements by index),
    so that ``qgm.sim.state(from_qiskit(qc), x)`` equals
    ``Statevector(qc.assign_parameters(x))`` (up to a dropped global phase) for
    the same vector ``x``. Input slots take the order of the metadata, then of
    ``inputs``.
    """
    quantum_circuit = require("qiskit.circuit").QuantumCircuit
    if not isinstance(qc, quantum_circuit):
        raise CircuitError(
            f"from_qiskit: expected a qiskit QuantumCircuit, got {type(qc).__name__}; "
            "for OpenQASM text use qgm.Circuit.from_qasm"
        )
    n = qc.num_qubits
    if n < 1:
        raise CircuitError("from_qiskit: the Qiskit circuit has no qubits; a qgm circuit needs at least one")
    present = {p.name for p in qc.parameters}
    unknown = [x for x in inputs if x not in present]
    if unknown:
        raise CircuitError(
            f"from_qiskit: inputs {unknown} are not parameters of the circuit (its parameters: {sorted(present)})"
        )
    input_names = list(dict.fromkeys([*_metadata_names(qc, _METADATA_INPUTS), *inputs]))
    importer = _Importer(set(input_names))
    importer.read(qc, [_qubit(n, q) for q in range(n)])
    used = {a.name for op in importer.ops for a in op.params if isinstance(a, Param)}
    param_order = [*_metadata_names(qc, _METADATA_PARAMS), *(p.name for p in qc.parameters)]
    return Circuit(
        n,
        importer.ops,
        params=[p for p in param_order if p in used and p not in input_names],
        inputs=[p for p in input_names if p in used],
    )


def _basis_indices(bit_array: Any, n: int) -> torch.Tensor:
    """Per-shot qgm basis indices ``(shots,)`` from a Qiskit ``BitArray`` of ``n`` measured qubits.

    ``to_bool_array(order="big")`` puts classical bit ``n-1`` (Qiskit qubit ``n-1``,
    qgm wire 0) first, which is exactly qgm's most significant bit.
    """
    bits = np.asarray(bit_array.to_bool_array(order="big"), dtype=np.int64).reshape(-1, n)
    weights = np.left_shift(np.int64(1), np.arange(n - 1, -1, -1, dtype=np.int64))
    return torch.from_numpy(bits @ weights)


def run_on_backend(
    circuit: Circuit,
    params: Any = None,
    shots: int = 1024,
    backend: Any = None,
    seed: Optional[int] = None,
    *,
    inputs: Any = None,
    sampler: Any = None,
    optimization_level: int = 1,
) -> torch.Tensor:
    """Transpile and run ``circuit`` on a Qiskit backend; per-shot basis indices in qgm order.

    This is the path from a circuit trained here to a simulator or a real device:
    the bound circuit is measured on every qubit, transpiled for ``backend`` and
    sampled with a Qiskit ``SamplerV2``.

    Args:
        circuit: the qgm circuit (every slot bound by ``params``/``inputs``).
        params: trainable values ``(n_params,)``.
        shots: number of samples (>= 1).
        backend: a Qiskit ``BackendV2``; default ``qiskit_aer.AerSimulator()``. A
            real IBM device object from ``qiskit-ibm-runtime`` (e.g.
            ``QiskitRuntimeService().backend("ibm_...")``) works too: pass it as
            ``backend`` (transpilation target) together with
            ``sampler=qiskit_ibm_runtime.SamplerV2(mode=backend)``.
        seed: seeds the transpiler and the default sampler's simulator (the
            same seed gives the same shots on Aer).
        inputs: input values ``(n_inputs,)``.
        sampler: a ``SamplerV2``; default ``qiskit.primitives.BackendSamplerV2``
            on ``backend`` (seeded with ``seed`` on simulators).
        optimization_level: Qiskit transpiler optimisation level (0-3).

    Returns:
        LongTensor ``(shots,)`` of basis indices, wire 0 = most significant bit,
        the same format as ``qgm.sim.sample``; the empirical distribution is
        ``torch.bincount(idx, minlength=2**n) / shots``.
    """
    if not isinstance(shots, int) or isinstance(shots, bool) or shots < 1:
        raise ParameterError(f"shots: expected a positive integer, got {shots!r}")
    n = circuit.n_qubits
    if n > 63:
        raise ParameterError(f"run_on_backend: {n} qubits do not fit int64 basis indices; use at most 63")
    for names, value, field in ((circuit.param_names, params, "params"), (circuit.input_names, inputs, "inputs")):
        if names and value is None:
            raise ParameterError(f"{field}: the circuit has {len(names)} {field} slot(s); pass a vector to run it")
    qc = to_qiskit(circuit, params, inputs)
    qc.measure_all()
    if backend is None:
        backend = require("qiskit_aer").AerSimulator()
    transpiled = require("qiskit").transpile(
        qc, backend=backend, optimization_level=optimization_level, seed_transpiler=seed
    )
    if sampler is None:
        sampler = require("qiskit.primitives").BackendSamplerV2(
            backend=backend, options={"seed_simulator": seed}
        )
    result = sampler.run([transpiled], shots=shots).result()[0]
    return _basis_indices(getattr(result.data, qc.cregs[0].name), n)
