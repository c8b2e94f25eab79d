"""Target quantum states for learning quantum data: GHZ, W, cluster and TFIM ground states.

Each builder returns a :class:`StateTarget`: the state vector ``(2**n,)``
complex128 (wire 0 = most significant bit of an index), its Born distribution,
and, where a short circuit prepares it from |0…0⟩, that circuit (the ``V`` of
the local quantum fidelity, :mod:`qgm.losses.fidelity`). A ``StateTarget``
has the attributes the fidelity and distribution losses read from a dataset
(``n_bits``, ``state``, ``prep``, ``target``), so
``LOSSES.create("local_fidelity", dataset=target_state("ghz", 12))`` works.

TFIM: ``H = −J Σ_i Z_i Z_{i+1} − h Σ_i X_i`` (open chain, or periodic), ground
state by sparse exact diagonalisation for ``n <= 14``. ``H`` is stoquastic
(off-diagonal entries ``−h <= 0``), so the ground state is chosen with
non-negative amplitudes (Perron-Frobenius); for ``h -> 0`` it tends to GHZ.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Callable, Optional

import numpy as np
import torch

from qgm.circuits import Circuit
from qgm.errors import ConfigError, ResourceError

__all__ = [
    "StateTarget", "TARGET_STATES", "target_state", "zero_state", "ghz_state", "w_state", "cluster_state",
    "tfim_ground_state", "tfim_hamiltonian", "ghz_circuit", "cluster_circuit", "MAX_ED_QUBITS",
]

#: Largest chain diagonalised exactly (2**14 = 16384 basis states).
MAX_ED_QUBITS = 14


@dataclass(frozen=True)
class StateTarget:
    """A named target state on ``n_bits`` qubits.

    Attributes:
        name: builder name, e.g. ``"ghz"``.
        state: normalised amplitudes ``(2**n,)`` complex128.
        prep: a parameter-free circuit with ``prep |0…0⟩ = state`` exactly, or None
            (then the fidelity losses use a Householder reflection).
    """

    name: str
    state: torch.Tensor
    prep: Optional[Circuit] = None

    @property
    def n_bits(self) -> int:
        return int(self.state.numel()).bit_length() - 1

    @property
    def target(self) -> torch.Tensor:
        """Born distribution ``|state|²`` ``(2**n,)`` float64 (for MMD/KL losses)."""
        return self.state.real**2 + self.state.imag**2


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


def zero_state(n: int) -> StateTarget:
    """|0…0⟩ (prepared by the empty circuit)."""
    n = _check_n(n)
    v = np.zeros(1 << n, dtype=np.complex128)
    v[0] = 1.0
    return StateTarget("zero", _vector(v), Circuit(n))


def ghz_circuit(n: int) -> Circuit:
    """H on wire 0, then the CNOT ladder 0→1→…→n−1: prepares (|0…0⟩ + |1…1⟩)/√2."""
    c = Circuit(_check_n(n)).h(0)
    for q in range(n - 1):
        c = c.cx(q, q + 1)
    return c


def ghz_state(n: int) -> StateTarget:
    """(|0…0⟩ + |1…1⟩)/√2."""
    n = _check_n(n)
    v = np.zeros(1 << n, dtype=np.complex128)
    v[0] = v[-1] = 1.0
    return StateTarget("ghz", _vector(v), ghz_circuit(n))


def w_state(n: int) -> StateTarget:
    """Equal superposition of the ``n`` one-hot strings (Householder unpreparation)."""
    n = _check_n(n, 2)
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


def cluster_state(n: int, periodic: bool = False) -> StateTarget:
    """1-D cluster state ``Π CZ H^⊗n |0…0⟩``: amplitude ``(−1)^{Σ x_i x_{i+1}} / 2^{n/2}``."""
    n = _check_n(n, 2)
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


def tfim_ground_state(n: int, h: float = 1.0, J: float = 1.0, periodic: bool = False) -> StateTarget:
    """Ground state of the transverse-field Ising chain at field ``h`` (non-negative amplitudes)."""
    from scipy.sparse.linalg import eigsh

    if not math.isfinite(float(h)):
        raise ConfigError(f"tfim: field h must be finite, got {h!r}")
    ham = tfim_hamiltonian(n, float(h), float(J), periodic)
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
