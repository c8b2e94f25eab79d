"""Quantum-state data: target states and ensembles of pure states (space ``PureStates(n)``).

* :class:`StateEnsemble`: ``N`` pure states ``(N, 2**n)`` complex128 (wire 0 =
  most significant bit of an index), the data of state-ensemble models
  (diffusion, flow matching) and of :class:`~qgm.losses.StateEnsembleLoss`.
* :class:`StateTarget`: one named target state, with its Born distribution
  (``target``, for distribution losses) and, where a short circuit prepares it
  from |0…0⟩, that circuit (the ``V`` of the local quantum fidelity,
  :mod:`qgm.losses.fidelity`). Registered datasets ``zero_state``, ``ghz``,
  ``w_state``, ``cluster``, ``tfim_ground`` (``n_qubits`` and the builder's
  options) and ``state_ensemble`` (a list of such targets).

TFIM: ``H = −J Σ_i Z_i Z_{i+1} − h Σ_i X_i`` (open chain, or periodic), ground
state by sparse exact diagonalisation for ``n <= 14``. ``H`` is stoquastic
(off-diagonal entries ``−h <= 0``), so the ground state is chosen with
non-negative amplitudes (Perron-Frobenius); for ``h -> 0`` it tends to GHZ.
"""
from __future__ import annotations

import math
from typing import Any, Callable, Optional, Sequence

import numpy as np
import torch

from qgm.circuits import Circuit
from qgm.data.base import Dataset
from qgm.errors import ConfigError, DataError, ResourceError
from qgm.registry import DATASETS
from qgm.spaces import PureStates

__all__ = [
    "StateEnsemble", "StateTarget", "TARGET_STATES", "target_state", "zero_state", "ghz_state", "w_state",
    "cluster_state", "tfim_ground_state", "tfim_hamiltonian", "ghz_circuit", "cluster_circuit", "MAX_ED_QUBITS",
    "state_ensemble",
]

#: Largest chain diagonalised exactly (2**14 = 16384 basis states).
MAX_ED_QUBITS = 14


def _as_states(name: str, states: Any) -> torch.Tensor:
    """``states`` as complex128 ``(N, 2**n)``; a DataError for a bad shape (norms are checked by the space)."""
    t = torch.as_tensor(np.asarray(states, dtype=np.complex128)) if not isinstance(states, torch.Tensor) \
        else states.to(torch.complex128)
    if t.dim() == 1:
        t = t[None]
    dim = t.shape[-1] if t.dim() == 2 else 0
    if t.dim() != 2 or t.shape[0] == 0 or dim < 2 or dim & (dim - 1):
        raise DataError(f"{name}: expected states (N, 2**n) with n >= 1, got shape {tuple(t.shape)}")
    return t


class StateEnsemble(Dataset):
    """``N`` pure states of ``n`` qubits: ``train`` ``(N, 2**n)`` complex128, ``test`` likewise or None."""

    def __init__(self, name: str, states: Any, test: Any = None) -> None:
        train = _as_states(f"{name}.train", states)
        n = int(train.shape[1]).bit_length() - 1
        super().__init__(name, PureStates(n), train, None if test is None else _as_states(f"{name}.test", test))

    @property
    def n_qubits(self) -> int:
        """Qubits of each state."""
        return self.space.n  # type: ignore[attr-defined]


class StateTarget(StateEnsemble):
    """A named target state on ``n_bits`` qubits (an ensemble of one).

    Attributes:
        name: builder name, e.g. ``"ghz"``.
        state: normalised amplitudes ``(2**n,)`` complex128.
        prep: a parameter-free circuit with ``prep |0…0⟩ = state`` exactly, or None
            (then the fidelity losses use a Householder reflection).
    """

    def __init__(self, name: str, state: torch.Tensor, prep: Optional[Circuit] = None) -> None:
        super().__init__(name, state)
        self.prep = prep

    @property
    def state(self) -> torch.Tensor:
        """The amplitudes ``(2**n,)``."""
        return self.train[0]

    @property
    def n_bits(self) -> int:
        """Qubits (= bits of a measured sample)."""
        return self.n_qubits

    @property
    def target(self) -> torch.Tensor:
        """Born distribution ``|state|²`` ``(2**n,)`` float64 (for MMD/KL losses)."""
        return self.state.real**2 + self.state.imag**2

    @property
    def has_exact_target(self) -> bool:
        """A single known state: losses may use it whole (``batch=None``)."""
        return True


def _check_n(n: int, low: int = 1) -> int:
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < low:
        raise ConfigError(f"n_qubits: expected an integer >= {low}, got {n!r}")
    return int(n)


def _wire_bits(n: int) -> np.ndarray:
    """Bits ``(2**n, n)`` of every index; column ``i`` = wire ``i`` (wire 0 = MSB)."""
    x = np.arange(1 << n)[:, None]
    return (x >> np.arange(n - 1, -1, -1)) & 1


def _vector(amplitudes: np.ndarray) -> torch.Tensor:
    v = torch.as_tensor(np.asarray(amplitudes, dtype=np.complex128))
    return v / torch.linalg.vector_norm(v)


def zero_state(n_qubits: int) -> StateTarget:
    """|0…0⟩ (prepared by the empty circuit)."""
    n = _check_n(n_qubits)
    v = np.zeros(1 << n, dtype=np.complex128)
    v[0] = 1.0
    return StateTarget("zero", _vector(v), Circuit(n))


def ghz_circuit(n: int) -> Circuit:
    """H on wire 0, then the CNOT ladder 0→1→…→n−1: prepares (|0…0⟩ + |1…1⟩)/√2."""
    c = Circuit(_check_n(n)).h(0)
    for q in range(n - 1):
        c = c.cx(q, q + 1)
    return c


def ghz_state(n_qubits: int) -> StateTarget:
    """(|0…0⟩ + |1…1⟩)/√2."""
    n = _check_n(n_qubits)
    v = np.zeros(1 << n, dtype=np.complex128)
    v[0] = v[-1] = 1.0
    return StateTarget("ghz", _vector(v), ghz_circuit(n))


def w_state(n_qubits: int) -> StateTarget:
    """Equal superposition of the ``n`` one-hot strings (Householder unpreparation)."""
    n = _check_n(n_qubits, 2)
    v = np.zeros(1 << n, dtype=np.complex128)
    v[1 << np.arange(n)] = 1.0
    return StateTarget("w", _vector(v))


def cluster_circuit(n: int, periodic: bool = False) -> Circuit:
    """H on every wire, then CZ on neighbours (i, i+1) (and (n−1, 0) if ``periodic``)."""
    c = Circuit(_check_n(n))
    for q in range(n):
        c = c.h(q)
    pairs = [(q, q + 1) for q in range(n - 1)] + ([(n - 1, 0)] if periodic and n > 2 else [])
    for a, b in pairs:
        c = c.cz(a, b)
    return c


def cluster_state(n_qubits: int, periodic: bool = False) -> StateTarget:
    """1-D cluster state ``Π CZ H^⊗n |0…0⟩``: amplitude ``(−1)^{Σ x_i x_{i+1}} / 2^{n/2}``."""
    n = _check_n(n_qubits, 2)
    bits = _wire_bits(n)
    nxt = np.roll(bits, -1, axis=1) if periodic and n > 2 else bits[:, 1:]
    edges = (bits if periodic and n > 2 else bits[:, :-1]) * nxt
    return StateTarget("cluster", _vector((-1.0) ** edges.sum(1)), cluster_circuit(n, periodic))


def tfim_hamiltonian(n: int, h: float, J: float = 1.0, periodic: bool = False) -> Any:
    """Sparse ``H = −J Σ Z_i Z_{i+1} − h Σ X_i`` ``(2**n, 2**n)`` (scipy CSR, float64)."""
    from scipy import sparse

    n = _check_n(n, 2)
    if n > MAX_ED_QUBITS:
        raise ResourceError(f"tfim: exact diagonalisation limited to n <= {MAX_ED_QUBITS} qubits, got n={n}")
    spins = 1.0 - 2.0 * _wire_bits(n)  # Z eigenvalue of each wire
    pairs = [(q, q + 1) for q in range(n - 1)] + ([(n - 1, 0)] if periodic and n > 2 else [])
    diag = -J * sum(spins[:, a] * spins[:, b] for a, b in pairs)
    idx = np.arange(1 << n)
    rows = np.concatenate([idx] * n)
    cols = np.concatenate([idx ^ (1 << (n - 1 - q)) for q in range(n)])
    flips = sparse.csr_matrix((np.full(rows.size, -float(h)), (rows, cols)), shape=(1 << n, 1 << n))
    return (sparse.diags(diag) + flips).tocsr()


def tfim_ground_state(n_qubits: int, h: float = 1.0, J: float = 1.0, periodic: bool = False) -> StateTarget:
    """Ground state of the transverse-field Ising chain at field ``h`` (non-negative amplitudes)."""
    from scipy.sparse.linalg import eigsh

    if not math.isfinite(float(h)):
        raise ConfigError(f"tfim: field h must be finite, got {h!r}")
    ham = tfim_hamiltonian(n_qubits, float(h), float(J), periodic)
    # v0 = uniform vector: positive overlap with the (positive) ground state, deterministic.
    _, vecs = eigsh(ham, k=1, which="SA", v0=np.ones(ham.shape[0]), tol=1e-13)
    v = vecs[:, 0]
    return StateTarget("tfim", _vector(v * np.sign(v.sum())))


#: Builders ``(n_qubits, **options) -> StateTarget`` by name.
TARGET_STATES: dict[str, Callable[..., StateTarget]] = {
    "zero": zero_state,
    "ghz": ghz_state,
    "w": w_state,
    "cluster": cluster_state,
    "tfim": tfim_ground_state,
}


def target_state(name: str, n_qubits: int, **options: Any) -> StateTarget:
    """The target ``name`` (key of :data:`TARGET_STATES`) on ``n_qubits`` qubits."""
    if name not in TARGET_STATES:
        raise ConfigError(f"target state {name!r} unknown; known: {sorted(TARGET_STATES)}")
    try:
        return TARGET_STATES[name](n_qubits, **options)
    except TypeError as err:
        raise ConfigError(f"target state {name!r}: bad options {sorted(options)} ({err})") from None


for _name, _builder in (("zero_state", zero_state), ("ghz", ghz_state), ("w_state", w_state),
                        ("cluster", cluster_state), ("tfim_ground", tfim_ground_state)):
    DATASETS.register(_name)(_builder)


@DATASETS.register("state_ensemble")
def state_ensemble(n_qubits: int, states: Sequence[dict[str, Any]]) -> StateEnsemble:
    """Registered factory: the ensemble of targets ``states`` (each ``{"state": name, **options}``,
    e.g. ``[{state: tfim, h: 0.5}, {state: tfim, h: 1.5}]``) on ``n_qubits`` qubits."""
    if not isinstance(states, (list, tuple)) or not states or not all(isinstance(t, dict) and "state" in t
                                                                       for t in states):
        raise ConfigError("states: expected a non-empty list of {state: name, ...options}")
    targets = [target_state(t["state"], n_qubits, **{k: v for k, v in t.items() if k != "state"}) for t in states]
    return StateEnsemble("state_ensemble", torch.stack([t.state for t in targets]))
