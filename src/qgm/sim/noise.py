"""Noise: quantum channels as Kraus operators, classical readout errors, and the
:class:`NoiseModel` that attaches them to any circuit.

A channel on ``k`` wires maps ``ρ -> Σ_m K_m ρ K_m†`` with Kraus operators
``K_m`` of shape ``(2**k, 2**k)`` (first wire = most significant bit, as for gate
matrices). Every channel is built from weighted operators ``K_m = sqrt(w_m) A_m``
so that its superoperator ``Σ_m w_m A_m ⊗ conj(A_m)`` stays differentiable in the
probabilities even at ``p = 0`` (probabilities may be float or 0-d real tensors;
a tensor that requires grad makes the noisy result differentiable in it).

Conventions:

* :class:`Depolarizing` ``(p)``: ``ρ -> (1-p) ρ + p Tr(ρ) I/2**k`` — ``p`` is the
  probability of full depolarisation, as Qiskit's ``depolarizing_error(p, k)``.
  :meth:`Depolarizing.from_pauli_probability` takes PennyLane's
  ``DepolarizingChannel(p)`` convention instead (each non-identity Pauli with
  probability ``p/(4**k-1)``; the two are related by ``p_full = p·4**k/(4**k-1)``).
* :class:`AmplitudeDamping` / :class:`PhaseDamping` ``(gamma)``: the Kraus
  operators of Nielsen & Chuang §8.3 (as Qiskit and PennyLane).
* :class:`BitFlip` / :class:`PhaseFlip` ``(p)``: ``X`` / ``Z`` with probability ``p``.
* :class:`ReadoutError` ``(p01, p10)``: a classical confusion of one measured bit,
  ``p01 = P(read 1 | state 0)``, ``p10 = P(read 0 | state 1)``.
"""
from __future__ import annotations

import itertools
import numbers
from abc import ABC, abstractmethod
from dataclasses import dataclass, replace
from typing import Optional, Sequence, Union

import torch

from qgm.circuits.circuit import Op
from qgm.circuits.gates import GATES, canonical_name
from qgm.errors import ParameterError
from qgm.sim.validate import real_dtype_of

__all__ = [
    "Channel",
    "Depolarizing",
    "AmplitudeDamping",
    "PhaseDamping",
    "BitFlip",
    "PhaseFlip",
    "ReadoutError",
    "GateNoise",
    "ReadoutNoise",
    "NoiseModel",
]

#: A probability: a Python number or a 0-d real tensor (differentiable if it requires grad).
Prob = Union[float, torch.Tensor]

_PAULIS = {
    "I": ((1, 0), (0, 1)),
    "X": ((0, 1), (1, 0)),
    "Y": ((0, -1j), (1j, 0)),
    "Z": ((1, 0), (0, -1)),
}


def _prob(value: object, where: str, high: float = 1.0) -> Prob:
    """``value`` validated as a probability in ``[0, high]``: a float, or the 0-d real tensor itself."""
    if isinstance(value, torch.Tensor):
        if value.dim() != 0 or not value.is_floating_point() or value.is_complex():
            raise ParameterError(
                f"{where}: expected a float or a 0-d real tensor, got a tensor of shape "
                f"{tuple(value.shape)} and dtype {value.dtype}"
            )
        v = float(value.detach())
    elif isinstance(value, numbers.Real) and not isinstance(value, bool):
        v = float(value)
        value = v
    else:
        raise ParameterError(f"{where}: expected a probability (float or 0-d tensor), got {value!r}")
    if not 0.0 <= v <= high:  # also rejects NaN
        raise ParameterError(f"{where}: expected a value in [0, {high:g}], got {v!r}")
    return value


def _check_prob(owner: object, name: str, high: float = 1.0) -> None:
    """Validate (and normalise) the probability field ``name`` of the frozen dataclass ``owner``."""
    object.__setattr__(owner, name, _prob(getattr(owner, name), f"{type(owner).__name__}.{name}", high))


def _as_real(value: Prob, rdtype: torch.dtype, device: Optional[torch.device]) -> torch.Tensor:
    """A probability as a 0-d real tensor (keeps autograd for tensors)."""
    if isinstance(value, torch.Tensor):
        return value.to(dtype=rdtype, device=device if device is not None else value.device)
    return torch.tensor(value, dtype=rdtype, device=device)


def _pauli_products(k: int, dtype: torch.dtype, device: Optional[torch.device]) -> torch.Tensor:
    """All ``4**k`` Pauli products on ``k`` wires ``(4**k, 2**k, 2**k)``, identity first."""
    mats = []
    for labels in itertools.product("IXYZ", repeat=k):
        m = torch.ones(1, 1, dtype=dtype, device=device)
        for label in labels:
            m = torch.kron(m, torch.tensor(_PAULIS[label], dtype=dtype, device=device))
        mats.append(m)
    return torch.stack(mats)


class Channel(ABC):
    """A completely positive trace-preserving map on ``n_qubits`` wires."""

    n_qubits: int = 1

    @abstractmethod
    def _terms(self, dtype: torch.dtype, device: Optional[torch.device]) -> tuple[torch.Tensor, torch.Tensor]:
        """Weights ``w`` ``(m,)`` (real) and operators ``A`` ``(m, d, d)`` with ``K_m = sqrt(w_m) A_m``."""

    def kraus(self, dtype: torch.dtype = torch.complex128, device: Optional[torch.device] = None) -> torch.Tensor:
        """Kraus operators ``(m, 2**k, 2**k)`` with ``Σ_m K_m† K_m = I``."""
        w, a = self._terms(dtype, device)
        return torch.sqrt(w).to(dtype)[:, None, None] * a

    def superoperator(
        self, dtype: torch.dtype = torch.complex128, device: Optional[torch.device] = None
    ) -> torch.Tensor:
        """``Σ_m K_m ⊗ conj(K_m)`` ``(4**k, 4**k)``: the channel on the row-major vectorised ρ."""
        w, a = self._terms(dtype, device)
        d = a.shape[-1]
        kk = a[:, :, None, :, None] * a.conj()[:, None, :, None, :]
        return (w.to(dtype)[:, None, None] * kk.reshape(-1, d * d, d * d)).sum(0)


def _pauli_terms(
    probs: Sequence[torch.Tensor], labels: str, dtype: torch.dtype, device
) -> tuple[torch.Tensor, torch.Tensor]:
    """Terms of a 1-qubit Pauli channel: ``labels[i]`` with probability ``probs[i]``."""
    ops = torch.stack([torch.tensor(_PAULIS[c], dtype=dtype, device=device) for c in labels])
    return torch.stack(list(probs)), ops


def _damping_terms(
    gamma: Prob, k1: Sequence[Sequence[int]], dtype: torch.dtype, device: Optional[torch.device]
) -> tuple[torch.Tensor, torch.Tensor]:
    """Terms of a 1-qubit damping channel: ``K0 = [[1, 0], [0, sqrt(1-γ)]]`` with weight 1 and
    the 0/1 pattern ``k1`` (2×2) with weight ``γ`` (so ``K1 = sqrt(γ) k1``)."""
    g = _as_real(gamma, real_dtype_of(dtype), device)
    one, zero = torch.ones_like(g), torch.zeros_like(g)
    k0 = torch.stack([one, zero, zero, torch.sqrt(1 - g)]).reshape(2, 2)
    k1_op = torch.tensor(k1, dtype=g.dtype, device=g.device)
    return torch.stack([one, g]), torch.stack([k0, k1_op]).to(dtype)


@dataclass(frozen=True)
class Depolarizing(Channel):
    """``ρ -> (1-p) ρ + p Tr(ρ) I/2**k`` on ``n_qubits = k`` (1 or 2) wires (Qiskit's convention).

    ``p`` may exceed 1 up to ``4**k/(4**k-1)``, where the identity Kraus term
    vanishes (still a channel). For PennyLane's per-Pauli convention use
    :meth:`from_pauli_probability`.
    """

    p: Prob
    n_qubits: int = 1

    def __post_init__(self) -> None:
        if not isinstance(self.n_qubits, int) or isinstance(self.n_qubits, bool) or self.n_qubits not in (1, 2):
            raise ParameterError(f"Depolarizing.n_qubits: expected 1 or 2, got {self.n_qubits!r}")
        d2 = 4**self.n_qubits
        _check_prob(self, "p", high=d2 / (d2 - 1))

    @classmethod
    def from_pauli_probability(cls, p: Prob, n_qubits: int = 1) -> "Depolarizing":
        """PennyLane's ``DepolarizingChannel(p)``: each of the ``4**k-1`` non-identity
        Paulis with probability ``p/(4**k-1)`` (``p`` in [0, 1]); equals ``Depolarizing(p·4**k/(4**k-1))``."""
        p = _prob(p, "Depolarizing.from_pauli_probability.p")
        factor = 4**n_qubits / (4**n_qubits - 1) if n_qubits in (1, 2) else 1.0  # else __post_init__ refuses
        return cls(p * factor, n_qubits)

    def _terms(self, dtype, device):
        rdt = real_dtype_of(dtype)
        d2 = 4**self.n_qubits
        p = _as_real(self.p, rdt, device)
        each = p / d2
        w = torch.cat([(1 - p + each).reshape(1), each.expand(d2 - 1)])
        return w, _pauli_products(self.n_qubits, dtype, device)


@dataclass(frozen=True)
class AmplitudeDamping(Channel):
    """Energy relaxation ``|1⟩ -> |0⟩`` with probability ``gamma``:
    ``K0 = [[1, 0], [0, sqrt(1-γ)]]``, ``K1 = [[0, sqrt(γ)], [0, 0]]``."""

    gamma: Prob

    def __post_init__(self) -> None:
        _check_prob(self, "gamma")

    def _terms(self, dtype, device):
        return _damping_terms(self.gamma, ((0, 1), (0, 0)), dtype, device)


@dataclass(frozen=True)
class PhaseDamping(Channel):
    """Pure dephasing: coherences ``ρ01`` shrink by ``sqrt(1-gamma)``:
    ``K0 = [[1, 0], [0, sqrt(1-γ)]]``, ``K1 = [[0, 0], [0, sqrt(γ)]]``."""

    gamma: Prob

    def __post_init__(self) -> None:
        _check_prob(self, "gamma")

    def _terms(self, dtype, device):
        return _damping_terms(self.gamma, ((0, 0), (0, 1)), dtype, device)


@dataclass(frozen=True)
class BitFlip(Channel):
    """``X`` with probability ``p``: ``ρ -> (1-p) ρ + p XρX``."""

    p: Prob

    def __post_init__(self) -> None:
        _check_prob(self, "p")

    def _terms(self, dtype, device):
        p = _as_real(self.p, real_dtype_of(dtype), device)
        return _pauli_terms([1 - p, p], "IX", dtype, device)


@dataclass(frozen=True)
class PhaseFlip(Channel):
    """``Z`` with probability ``p``: ``ρ -> (1-p) ρ + p ZρZ`` (coherences shrink by ``1-2p``)."""

    p: Prob

    def __post_init__(self) -> None:
        _check_prob(self, "p")

    def _terms(self, dtype, device):
        p = _as_real(self.p, real_dtype_of(dtype), device)
        return _pauli_terms([1 - p, p], "IZ", dtype, device)


@dataclass(frozen=True)
class ReadoutError:
    """Classical confusion of one measured bit: ``p01 = P(read 1 | 0)``, ``p10 = P(read 0 | 1)``."""

    p01: Prob
    p10: Prob

    def __post_init__(self) -> None:
        _check_prob(self, "p01")
        _check_prob(self, "p10")

    def confusion(self, dtype: torch.dtype = torch.float64, device: Optional[torch.device] = None) -> torch.Tensor:
        """Column-stochastic ``C[read, true]`` ``(2, 2)``: ``p_read = C @ p_true``."""
        a, b = _as_real(self.p01, dtype, device), _as_real(self.p10, dtype, device)
        return torch.stack([1 - a, b, a, 1 - b]).reshape(2, 2)


GateSelector = Union[str, Sequence[str]]
_ARITY = {"1q": 1, "2q": 2}


def _normalise_gates(gates: GateSelector, channel: Channel) -> Union[str, tuple[str, ...]]:
    """``"all"``, ``"1q"``, ``"2q"`` or a tuple of canonical gate names (``"unitary"`` allowed)."""
    k = channel.n_qubits
    if isinstance(gates, str) and gates in ("all", *_ARITY):
        if k > 1 and _ARITY.get(gates) != k:
            raise ParameterError(
                f"gates={gates!r}: a {k}-qubit channel can only follow {k}-qubit gates; use gates='{k}q' or gate names"
            )
        return gates
    names = (gates,) if isinstance(gates, str) else tuple(gates)
    out = []
    for name in names:
        canon = "unitary" if name == "unitary" else canonical_name(str(name))
        if canon is None:
            raise ParameterError(
                f"gates: unknown gate {name!r}; use 'all', '1q', '2q', 'unitary' or names from qgm.circuits.GATES"
            )
        if k > 1 and canon != "unitary" and GATES[canon].n_wires != k:
            raise ParameterError(
                f"gates: a {k}-qubit channel cannot follow '{canon}' ({GATES[canon].n_wires} wire(s)); "
                "use a 1-qubit channel or gates with matching arity"
            )
        out.append(canon)
    if not out:
        raise ParameterError("gates: empty selection; use 'all', '1q', '2q' or gate names")
    return tuple(out)


def _normalise_wires(wires: Optional[Sequence[int]], field_name: str) -> Optional[frozenset[int]]:
    if wires is None:
        return None
    ws = (wires,) if isinstance(wires, int) else tuple(wires)
    if not ws or not all(isinstance(w, int) and not isinstance(w, bool) and w >= 0 for w in ws):
        raise ParameterError(f"{field_name}: expected None (all wires) or non-negative wire indices, got {wires!r}")
    return frozenset(ws)


@dataclass(frozen=True)
class GateNoise:
    """Rule: after every selected gate, apply ``channel`` on that gate's wires.

    A 1-qubit channel acts on each of the gate's wires that lies in ``wires``
    (all wires if ``None``); a ``k``-qubit channel follows ``k``-qubit gates
    whose wires all lie in ``wires``, on the gate's wires in the gate's order.
    """

    channel: Channel
    gates: Union[str, tuple[str, ...]] = "all"
    wires: Optional[frozenset[int]] = None

    def placements(self, op: Op) -> list[tuple[int, ...]]:
        """Wire tuples where this rule applies ``channel`` right after ``op`` (maybe none)."""
        arity = len(op.wires)
        if self.gates == "all":
            selected = True
        elif isinstance(self.gates, str):
            selected = _ARITY[self.gates] == arity
        else:
            selected = op.name in self.gates
        k = self.channel.n_qubits
        if not selected or (k > 1 and arity != k):
            return []
        if k == 1:
            return [(w,) for w in op.wires if self.wires is None or w in self.wires]
        return [op.wires] if self.wires is None or set(op.wires) <= self.wires else []


@dataclass(frozen=True)
class ReadoutNoise:
    """Rule: every measured wire in ``wires`` (all if ``None``) is read through ``error``."""

    error: ReadoutError
    wires: Optional[frozenset[int]] = None


@dataclass(frozen=True)
class NoiseModel:
    """Noise attachable to any circuit: gate-noise rules and readout rules.

    Immutable; builder methods return a new model::

        noise = (NoiseModel()
                 .add_gate_noise(Depolarizing(0.01), gates="1q")
                 .add_gate_noise(Depolarizing(0.05, n_qubits=2), gates=("cx", "cz"))
                 .add_gate_noise(AmplitudeDamping(0.02))          # after every gate
                 .add_readout(ReadoutError(0.02, 0.05), wires=[0, 1]))

    Several rules matching one gate apply in the order they were added; several
    readout rules on one wire compose (first added acts first). Rules naming
    wires a circuit does not have never fire, so one model serves circuits of
    any width.
    """

    gate_noise: tuple[GateNoise, ...] = ()
    readout: tuple[ReadoutNoise, ...] = ()

    def add_gate_noise(
        self,
        channel: Channel,
        gates: GateSelector = "all",
        wires: Optional[Sequence[int]] = None,
    ) -> "NoiseModel":
        """After every gate selected by ``gates`` (``"all"``, ``"1q"``, ``"2q"``, a name
        or names such as ``("cx", "cz")``), apply ``channel`` on its wires (see :class:`GateNoise`)."""
        if not isinstance(channel, Channel):
            raise ParameterError(
                f"channel: expected a qgm.sim.noise.Channel (Depolarizing, AmplitudeDamping, ...), got {channel!r}"
            )
        rule = GateNoise(channel, _normalise_gates(gates, channel), _normalise_wires(wires, "wires"))
        return replace(self, gate_noise=self.gate_noise + (rule,))

    def add_readout(self, error: ReadoutError, wires: Optional[Sequence[int]] = None) -> "NoiseModel":
        """Read every measured wire in ``wires`` (default all) through ``error``."""
        if not isinstance(error, ReadoutError):
            raise ParameterError(f"error: expected a qgm.sim.noise.ReadoutError, got {error!r}")
        return replace(self, readout=self.readout + (ReadoutNoise(error, _normalise_wires(wires, "wires")),))

    def channels_after(self, op: Op) -> list[tuple[Channel, tuple[int, ...]]]:
        """``(channel, wires)`` to apply right after ``op``, in order."""
        return [(rule.channel, ws) for rule in self.gate_noise for ws in rule.placements(op)]

    def confusion(
        self, wire: int, dtype: torch.dtype = torch.float64, device: Optional[torch.device] = None
    ) -> Optional[torch.Tensor]:
        """Composed ``(2, 2)`` confusion matrix of ``wire`` (``None`` if it is read perfectly)."""
        out = None
        for rule in self.readout:
            if rule.wires is None or wire in rule.wires:
                c = rule.error.confusion(dtype, device)
                out = c if out is None else c @ out
        return out
