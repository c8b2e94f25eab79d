"""The immutable :class:`Circuit`: ordered gate operations on ``n_qubits`` wires
with named trainable-parameter slots and named input (data/latent) slots.

A gate angle is either a number or an affine expression ``scale·slot + offset``
of one slot, written with :func:`P` (trainable) or :func:`In` (input)::

    c = Circuit(2).h(0).ry(1, P("a")).crx(0, 1, 2 * In("x") + 0.1)

Builder methods return a new circuit; nothing executes at build time. Wire 0 is
the most significant bit of a basis index.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Iterable, Literal, Sequence, Union

import numpy as np

from qgm.circuits.gates import GATES, canonical_name
from qgm.errors import CircuitError, brief
from qgm.registry import did_you_mean

if TYPE_CHECKING:
    from qgm.circuits.qasm.limits import QasmLimits

__all__ = ["Param", "P", "In", "Op", "Circuit", "Angle"]

SlotKind = Literal["param", "input"]


@dataclass(frozen=True)
class Param:
    """An angle ``scale · slot + offset`` where ``slot`` is a named parameter or input."""

    name: str
    kind: SlotKind = "param"
    scale: float = 1.0
    offset: float = 0.0

    def __mul__(self, k: float) -> "Param":
        return Param(self.name, self.kind, self.scale * float(k), self.offset * float(k))

    __rmul__ = __mul__

    def __truediv__(self, k: float) -> "Param":
        return self * (1.0 / float(k))

    def __add__(self, k: float) -> "Param":
        return Param(self.name, self.kind, self.scale, self.offset + float(k))

    __radd__ = __add__

    def __sub__(self, k: float) -> "Param":
        return self + (-float(k))

    def __rsub__(self, k: float) -> "Param":
        return (-self) + float(k)

    def __neg__(self) -> "Param":
        return self * -1.0


def P(name: str) -> Param:
    """A trainable-parameter slot named ``name`` (shared wherever the name recurs)."""
    return Param(name, "param")


def In(name: str) -> Param:
    """An input (data or latent) slot named ``name``, bound per call via ``inputs=``."""
    return Param(name, "input")


Angle = Union[float, int, Param]


@dataclass(frozen=True)
class Op:
    """One gate application.

    Attributes:
        name: canonical gate name (see :data:`qgm.circuits.gates.GATES`) or ``"unitary"``.
        wires: the wires, first = most significant bit of the gate matrix.
        params: angles (numbers or :class:`Param` expressions).
        matrix: the user matrix of a ``"unitary"`` op, ``(2**k, 2**k)`` complex128.
        label: the name a ``"unitary"`` op is exported under.
    """

    name: str
    wires: tuple[int, ...]
    params: tuple[Angle, ...] = ()
    matrix: np.ndarray | None = field(default=None, compare=False)
    label: str | None = None

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Op):
            return NotImplemented
        same = (self.name, self.wires, self.params, self.label) == (
            other.name,
            other.wires,
            other.params,
            other.label,
        )
        if not same or self.matrix is None or other.matrix is None:
            return same and (self.matrix is None) == (other.matrix is None)
        return bool(np.array_equal(self.matrix, other.matrix))

    def __hash__(self) -> int:
        return hash((self.name, self.wires, self.params, self.label))


_INVERSE_FIXED = {"s": "sdg", "sdg": "s", "t": "tdg", "tdg": "t"}
_SELF_INVERSE = {"id", "x", "y", "z", "h", "cx", "cy", "cz", "swap", "ccx"}


def _neg(a: Angle) -> Angle:
    return -a if isinstance(a, Param) else -float(a)


class Circuit:
    """An immutable quantum circuit.

    Args:
        n_qubits: number of wires (>= 1).
        ops: gate operations in application order.
        params: ordered trainable-slot names; names used by ``ops`` but missing
            here are appended in order of first use.
        inputs: ordered input-slot names, completed the same way.
    """

    __slots__ = ("_n", "_ops", "_params", "_inputs", "_cache")

    def __init__(
        self,
        n_qubits: int,
        ops: Iterable[Op] = (),
        params: Sequence[str] = (),
        inputs: Sequence[str] = (),
    ) -> None:
        if not isinstance(n_qubits, (int, np.integer)) or isinstance(n_qubits, bool) or n_qubits < 1:
            raise CircuitError(f"n_qubits must be a positive integer, got {n_qubits!r}")
        self._n = int(n_qubits)
        self._ops = tuple(ops)
        names = {"param": list(dict.fromkeys(params)), "input": list(dict.fromkeys(inputs))}
        for op in self._ops:
            self._check_op(op)
            for a in op.params:
                if isinstance(a, Param) and a.name not in names[a.kind]:
                    names[a.kind].append(a.name)
        clash = set(names["param"]) & set(names["input"])
        if clash:
            raise CircuitError(
                f"slot name(s) {sorted(clash)} used both as trainable parameter and as input; rename one"
            )
        self._params = tuple(names["param"])
        self._inputs = tuple(names["input"])
        self._cache: dict[Any, Any] = {}

    # -- validation ---------------------------------------------------------
    def _check_op(self, op: Op) -> None:
        for w in op.wires:
            if not isinstance(w, (int, np.integer)) or not 0 <= w < self._n:
                raise CircuitError(
                    f"gate '{op.name}': wire {w!r} out of range for a {self._n}-qubit circuit (use 0..{self._n - 1})"
                )
        if len(set(op.wires)) != len(op.wires):
            raise CircuitError(f"gate '{op.name}': duplicate wires {op.wires}; a gate needs distinct wires")
        if op.name == "unitary":
            k = len(op.wires)
            m = op.matrix
            if m is None or m.shape != (2**k, 2**k):
                raise CircuitError(
                    f"unitary on wires {op.wires}: matrix must have shape {(2**k, 2**k)}, got "
                    f"{None if m is None else m.shape}"
                )
            if not np.allclose(m.conj().T @ m, np.eye(2**k), atol=1e-10):
                raise CircuitError(f"unitary on wires {op.wires}: matrix is not unitary (U^dagger U != I)")
            return
        g = GATES.get(op.name)
        if g is None:
            raise CircuitError(f"unknown gate '{op.name}'; known gates: {', '.join(sorted(GATES))}, unitary")
        if len(op.wires) != g.n_wires:
            raise CircuitError(f"gate '{op.name}' acts on {g.n_wires} wire(s), got wires {op.wires}")
        if len(op.params) != g.n_params:
            raise CircuitError(f"gate '{op.name}' takes {g.n_params} angle(s), got {len(op.params)}")
        for a in op.params:
            finite = (
                math.isfinite(a.scale) and math.isfinite(a.offset) if isinstance(a, Param)
                else isinstance(a, (int, float, np.floating)) and math.isfinite(a)
            )
            if not finite:
                raise CircuitError(
                    f"gate '{op.name}': angle {a!r} must be a finite number or P(name)/In(name) with finite scale and offset"
                )

    # -- read-only properties ----------------------------------------------
    @property
    def n_qubits(self) -> int:
        return self._n

    @property
    def ops(self) -> tuple[Op, ...]:
        return self._ops

    @property
    def param_names(self) -> tuple[str, ...]:
        return self._params

    @property
    def input_names(self) -> tuple[str, ...]:
        return self._inputs

    @property
    def n_params(self) -> int:
        return len(self._params)

    @property
    def n_inputs(self) -> int:
        return len(self._inputs)

    def __len__(self) -> int:
        return len(self._ops)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Circuit):
            return NotImplemented
        return (self._n, self._ops, self._params, self._inputs) == (
            other._n,
            other._ops,
            other._params,
            other._inputs,
        )

    def __hash__(self) -> int:
        return id(self)

    def __repr__(self) -> str:
        return (
            f"Circuit(n_qubits={self._n}, ops={len(self._ops)}, "
            f"params={self.n_params}, inputs={self.n_inputs})"
        )

    def cache(self) -> dict[Any, Any]:
        """Per-circuit memo (used by the engine to keep compiled programs)."""
        return self._cache

    # -- building -----------------------------------------------------------
    def _auto_param(self, extra: int = 0) -> Param:
        k = self.n_params + extra
        sets = self._cache.get("_slot_sets")
        taken = sets["param"] if sets is not None else self._params
        while f"theta_{k}" in taken:
            k += 1
        return P(f"theta_{k}")

    def add(self, name: str, wires: int | Sequence[int], *params: Angle | None) -> "Circuit":
        """Append catalogue gate ``name`` on ``wires``; ``None`` angles become new trainable slots."""
        canon = canonical_name(name) if isinstance(name, str) else None
        if canon is None:
            raise CircuitError(f"unknown gate {brief(name)}; known gates: {', '.join(sorted(GATES))}, unitary")
        wires_t = (wires,) if isinstance(wires, (int, np.integer)) else tuple(wires) if isinstance(wires, (list, tuple)) else None
        if wires_t is None or not all(isinstance(w, (int, np.integer)) and not isinstance(w, bool) for w in wires_t):
            raise CircuitError(f"gate '{canon}': wires must be integers, got {brief(wires)}")
        g = GATES[canon]
        if not params and g.n_params:
            params = (None,) * g.n_params
        angles: list[Angle] = []
        n_new = 0
        for a in params:
            if a is None:
                angles.append(self._auto_param(n_new))
                n_new += 1
            elif isinstance(a, Param):
                angles.append(a)
            elif isinstance(a, (int, float, np.integer, np.floating)) and not isinstance(a, bool):
                angles.append(float(a))
            else:
                raise CircuitError(f"gate '{canon}': angle {brief(a)} must be a real number, P(name), In(name) or None")
        op = Op(canon, tuple(int(w) for w in wires_t), tuple(angles))
        return self._appended(op)

    def _appended(self, op: Op) -> "Circuit":
        """This circuit plus ``op``, checking only ``op`` (the rest was checked when it was built).

        The sets of slot names travel along a chain of appends in the per-circuit cache (taken from
        this circuit, handed to the new one), so building a circuit gate by gate does not rescan its
        gates or its slots at every step.
        """
        self._check_op(op)
        known = self._cache.pop("_slot_sets", None) or {"param": set(self._params), "input": set(self._inputs)}
        names = {"param": self._params, "input": self._inputs}
        for a in op.params:
            if isinstance(a, Param) and a.name not in known[a.kind]:
                if a.name in known["input" if a.kind == "param" else "param"]:
                    self._cache["_slot_sets"] = known
                    raise CircuitError(
                        f"slot name(s) {[a.name]} used both as trainable parameter and as input; rename one"
                    )
                known[a.kind].add(a.name)
                names[a.kind] = names[a.kind] + (a.name,)
        new = Circuit.__new__(Circuit)
        new._n, new._ops, new._params, new._inputs = self._n, self._ops + (op,), names["param"], names["input"]
        new._cache = {"_slot_sets": known}
        return new

    def unitary(self, matrix: Any, wires: int | Sequence[int], label: str | None = None) -> "Circuit":
        """Append a user-given unitary ``matrix`` ``(2**k, 2**k)`` on ``k`` wires."""
        wires_t = (wires,) if isinstance(wires, (int, np.integer)) else tuple(int(w) for w in wires)
        m = np.array(matrix, dtype=np.complex128)
        m.setflags(write=False)
        op = Op("unitary", wires_t, (), m, label)
        return Circuit(self._n, self._ops + (op,), self._params, self._inputs)

    def compose(self, other: "Circuit", wires: Sequence[int] | None = None) -> "Circuit":
        """This circuit followed by ``other`` (mapped onto ``wires``; slots shared by name)."""
        mapping = list(range(other.n_qubits)) if wires is None else [int(w) for w in wires]
        if len(mapping) != other.n_qubits:
            raise CircuitError(
                f"compose: wires has {len(mapping)} entries, the other circuit has {other.n_qubits} qubits"
            )
        ops = tuple(
            Op(op.name, tuple(mapping[w] for w in op.wires), op.params, op.matrix, op.label)
            for op in other.ops
        )
        return Circuit(
            max(self._n, max(mapping, default=-1) + 1),
            self._ops + ops,
            self._params + tuple(p for p in other.param_names if p not in self._params),
            self._inputs + tuple(p for p in other.input_names if p not in self._inputs),
        )

    def __add__(self, other: "Circuit") -> "Circuit":
        return self.compose(other)

    def inverse(self) -> "Circuit":
        """The adjoint circuit (reversed ops, negated angles); same slots in the same order."""
        ops: list[Op] = []
        for op in reversed(self._ops):
            if op.name == "unitary":
                m = op.matrix.conj().T.copy()  # type: ignore[union-attr]
                m.setflags(write=False)
                ops.append(Op("unitary", op.wires, (), m, op.label and f"{op.label}_dg"))
            elif op.name in _SELF_INVERSE:
                ops.append(op)
            elif op.name in _INVERSE_FIXED:
                ops.append(Op(_INVERSE_FIXED[op.name], op.wires))
            elif op.name == "sx":
                ops.extend([Op("sx", op.wires), Op("x", op.wires)])  # sx† = sx·x
            elif op.name == "iswap":
                ops.extend([Op("iswap", op.wires), Op("z", op.wires[:1]), Op("z", op.wires[1:])])
            elif op.name == "u3":
                th, phi, lam = op.params
                ops.append(Op("u3", op.wires, (_neg(th), _neg(lam), _neg(phi))))
            else:
                ops.append(Op(op.name, op.wires, tuple(_neg(a) for a in op.params)))
        return Circuit(self._n, ops, self._params, self._inputs)

    def bind(self, **values: float) -> "Circuit":
        """Replace the named slots by numbers (e.g. freeze some parameters); a CircuitError for a name that is
        no slot of this circuit or a value that is not a finite real number."""
        slots = (*self._params, *self._inputs)
        for name, value in values.items():
            if name not in slots:
                raise CircuitError(f"bind: {name!r} is no slot of this circuit{did_you_mean(name, slots)}; "
                                   f"its slots are {', '.join(slots) or 'none'}")
            try:
                ok = math.isfinite(float(value))
            except (TypeError, ValueError):
                ok = False
            if not ok or isinstance(value, (bool, complex)):
                raise CircuitError(f"bind: {name}={brief(value)}; give a finite real number")

        def sub(a: Angle) -> Angle:
            if isinstance(a, Param) and a.name in values:
                return a.scale * float(values[a.name]) + a.offset
            return a

        ops = [Op(op.name, op.wires, tuple(sub(a) for a in op.params), op.matrix, op.label) for op in self._ops]
        return Circuit(
            self._n,
            ops,
            [p for p in self._params if p not in values],
            [p for p in self._inputs if p not in values],
        )

    # -- OpenQASM -------------------------------------------------------------
    def to_qasm(self, version: int = 3) -> str:
        """OpenQASM text (version 3, or 2 for ``qelib1.inc`` tools) of this circuit."""
        from qgm.circuits.qasm import to_qasm

        return to_qasm(self, version=version)

    @classmethod
    def from_qasm(cls, text: str | bytes, *, limits: QasmLimits | None = None) -> "Circuit":
        """Parse OpenQASM 3 (``input float[64] name;`` declares a trainable slot); ``limits``: a
        :class:`qgm.circuits.qasm.QasmLimits` (default sizes otherwise)."""
        from qgm.circuits.qasm import from_qasm

        return from_qasm(text, limits=limits)


def _gate_method(name: str):
    g = GATES[name]

    def method(self: Circuit, *args: Any) -> Circuit:
        wires, angles = args[: g.n_wires], args[g.n_wires :]
        if len(wires) != g.n_wires:
            raise CircuitError(f"gate '{name}' needs {g.n_wires} wire(s), got {len(wires)}")
        if len(angles) > g.n_params:
            raise CircuitError(f"gate '{name}' takes {g.n_params} angle(s), got {len(angles)}")
        angles = tuple(angles) + (None,) * (g.n_params - len(angles))
        return self.add(name, wires, *angles)

    method.__name__ = name
    method.__doc__ = (
        f"Append ``{name}`` on {g.n_wires} wire(s)"
        + (f" with {g.n_params} angle(s) (omitted angles become new trainable slots)." if g.n_params else ".")
    )
    return method


for _name in GATES:
    setattr(Circuit, "i" if _name == "id" else _name, _gate_method(_name))
Circuit.cnot = Circuit.cx  # type: ignore[attr-defined]
Circuit.toffoli = Circuit.ccx  # type: ignore[attr-defined]
Circuit.phase = Circuit.p  # type: ignore[attr-defined]
