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

State-ensemble datasets (seeded train/test splits, one generator drawing the
training states first, then the test states), the data of QuDDPM (Zhang et al.,
PRL 132, 100602) and of flow matching:

* ``clustered_states``: ``ψ ∝ |c⟩ + s Σ_{x≠0} c_x U|x⟩`` with ``c_x`` complex standard
  normal around a centre ``|c⟩ = U|0…0⟩`` (default ``|0…0⟩``; ``s = 0.08`` for one
  qubit, ``0.06`` otherwise); attribute ``centre``.
* ``circular_states``: ``cos φ|0⟩ + sin φ|1⟩``, ``φ ~ U[0, 2π)`` (a great circle of
  the Bloch sphere in the x-z plane).
* ``correlated_noise_states``: ``e^{−iεXX}ψ₀`` with probability ``p`` else
  ``e^{−iεZZ}ψ₀``, ``ε ~ U[−δ, δ]``; :meth:`CorrelatedNoiseStates.infer_noise_probability`
  inverts the mean ``|⟨10|ψ⟩|²``.
* ``tfim_phase_states``: TFIM ground states at fields ``g`` drawn in ``[g_low,
  g_high]`` (uniform or log-uniform), labelled by phase (``labels``: 1 ordered,
  ``g < J``; 0 disordered), ``n <= 12``.
* ``haar_states``: uniformly random pure states.
* ``density_ensemble``: any of these as density matrices (space
  ``DensityMatrices(n)``), optionally depolarised ``ρ = (1−p)|ψ⟩⟨ψ| + p I/d``
  with ``p ~ U[0, depolarise]`` per state.

TFIM: ``H = −J Σ_i Z_i Z_{i+1} − h Σ_i X_i`` (open chain, or periodic), ground
state by sparse exact diagonalisation for ``n <= 14``. ``H`` is stoquastic
(off-diagonal entries ``−h <= 0``), so the ground state is chosen with
non-negative amplitudes (Perron-Frobenius); for ``h -> 0`` it tends to GHZ.
"""
from __future__ import annotations

import inspect
import math
from typing import Any, Callable, Optional, Sequence

import numpy as np
import torch

from qgm.circuits import Circuit
from qgm.data.base import Dataset, check_positive_int
from qgm.errors import ConfigError, DataError, ResourceError
from qgm.limits import STATE_COPIES, check_state
from qgm.losses.ensemble import haar_states, pure_density
from qgm.registry import DATASETS
from qgm.spaces import DensityMatrices, PureStates

__all__ = [
    "StateEnsemble", "StateTarget", "TARGET_STATES", "target_state", "zero_state", "ghz_state", "w_state",
    "cluster_state", "tfim_ground_state", "tfim_hamiltonian", "ghz_circuit", "cluster_circuit", "MAX_ED_QUBITS",
    "state_ensemble", "DensityEnsemble", "ClusteredStates", "CorrelatedNoiseStates", "TFIMPhaseStates",
    "clustered_states", "circular_states", "correlated_noise_states", "tfim_phase_states", "haar_state_ensemble",
    "density_ensemble", "tfim_ground_states", "MAX_PHASE_QUBITS", "MAX_ENSEMBLE_AMPLITUDES", "NOISE_PSI0",
]

#: Largest chain diagonalised exactly (2**14 = 16384 basis states).
MAX_ED_QUBITS = 14
#: Largest chain of the TFIM phase ensemble (one diagonalisation per state).
MAX_PHASE_QUBITS = 12
#: Largest ``N · 2**n`` amplitudes an ensemble dataset materialises (train + test).
MAX_ENSEMBLE_AMPLITUDES = 2**26
#: ψ₀ of the correlated-noise task of Zhang et al. (amplitudes of |00⟩, |01⟩, |10⟩, |11⟩).
NOISE_PSI0 = (math.sqrt(0.1) * complex(math.cos(0.8), math.sin(0.8)),
              math.sqrt(0.55) * complex(math.cos(1.7), math.sin(1.7)),
              0.0,
              math.sqrt(0.35) * complex(math.cos(2.4), math.sin(2.4)))


def _as_quantum(name: str, x: Any, matrices: bool) -> torch.Tensor:
    """``x`` as complex128 pure states ``(N, 2**n)`` (a single state may be 1-D) or density matrices
    ``(N, 2**n, 2**n)``; a DataError for a bad shape (norms and traces are checked by the space)."""
    t = x.to(torch.complex128) if isinstance(x, torch.Tensor) else torch.as_tensor(np.asarray(x, dtype=np.complex128))
    if not matrices and t.dim() == 1:
        t = t[None]
    rank = 3 if matrices else 2
    dim = t.shape[-1] if t.dim() == rank else 0
    if t.dim() != rank or t.shape[0] == 0 or (matrices and t.shape[1] != dim) or dim < 2 or dim & (dim - 1):
        what = "density matrices (N, 2**n, 2**n)" if matrices else "states (N, 2**n) with n >= 1"
        raise DataError(f"{name}: expected {what}, got shape {tuple(t.shape)}")
    return t


class _Ensemble(Dataset):
    """``N`` quantum states of ``n`` qubits in the space ``space_type(n)`` (``train``, optional ``test``)."""

    space_type: type = PureStates

    def __init__(self, name: str, states: Any, test: Any = None) -> None:
        matrices = self.space_type is DensityMatrices
        train = _as_quantum(f"{name}.train", states, matrices)
        n = int(train.shape[-1]).bit_length() - 1
        super().__init__(name, self.space_type(n), train,
                         None if test is None else _as_quantum(f"{name}.test", test, matrices))

    @property
    def n_qubits(self) -> int:
        """Qubits of each state."""
        return self.space.n  # type: ignore[attr-defined]


class StateEnsemble(_Ensemble):
    """``N`` pure states of ``n`` qubits: ``train`` ``(N, 2**n)`` complex128, ``test`` likewise or None."""


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
    """``n`` as the qubit count of a target state: an integer >= ``low`` whose state vectors fit in memory (with
    room for the builders' ``(2**n, n)`` bit tables: ``STATE_COPIES + n`` vectors in the estimate)."""
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < low:
        raise ConfigError(f"n_qubits: expected an integer >= {low}, got {n!r}")
    check_state(int(n), "n_qubits", copies=STATE_COPIES + min(int(n), 64))
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


# ---------------------------------------------------------------------------- state ensembles
def _ensemble_sizes(n: int, n_train: int, n_test: int) -> tuple[int, int]:
    """Validated split sizes; a ResourceError when ``(n_train + n_test) · 2**n`` is too large."""
    n_train = check_positive_int("n_train", n_train)
    n_test = check_positive_int("n_test", n_test, minimum=0)
    if (n_train + n_test) << n > MAX_ENSEMBLE_AMPLITUDES:
        raise ResourceError(f"n_train + n_test = {n_train + n_test} states of {n} qubits exceed "
                            f"{MAX_ENSEMBLE_AMPLITUDES} amplitudes; draw fewer states")
    return n_train, n_test


def _split(states: torch.Tensor, n_train: int) -> tuple[torch.Tensor, Optional[torch.Tensor]]:
    return states[:n_train], (states[n_train:] if states.shape[0] > n_train else None)


def _unit_rows(v: torch.Tensor) -> torch.Tensor:
    return v / torch.linalg.vector_norm(v, dim=-1, keepdim=True)


def _complex_normal(shape: tuple[int, ...], generator: torch.Generator) -> torch.Tensor:
    z = torch.randn(2, *shape, generator=generator, dtype=torch.float64)
    return torch.complex(z[0], z[1])


def _householder_to(centre: torch.Tensor) -> torch.Tensor:
    """A unitary ``(d, d)`` with ``U|0⟩ = centre``: the reflection swapping ``|0⟩`` and ``e^{-iα}|c⟩``
    (``α`` = phase of ``c_0``), then the phase ``e^{iα}``."""
    d = centre.shape[0]
    phase = centre[0] / centre[0].abs() if centre[0].abs() > 1e-12 else torch.ones((), dtype=centre.dtype)
    c = centre / phase
    e0 = torch.zeros(d, dtype=centre.dtype)
    e0[0] = 1
    v = e0 - c
    norm = torch.linalg.vector_norm(v)
    if norm < 1e-12:
        return phase * torch.eye(d, dtype=centre.dtype)
    v = v / norm
    return phase * (torch.eye(d, dtype=centre.dtype) - 2 * torch.outer(v, v.conj()))


class ClusteredStates(StateEnsemble):
    """Pure states clustered around :attr:`centre` ``(2**n,)``."""

    def __init__(self, name: str, train: torch.Tensor, test: Optional[torch.Tensor], centre: torch.Tensor) -> None:
        super().__init__(name, train, test)
        self.centre = centre


@DATASETS.register("clustered_states")
def clustered_states(n_qubits: int = 1, n_train: int = 1000, n_test: int = 1000, scale: Optional[float] = None,
                     centre: str = "zero", seed: int = 0) -> ClusteredStates:
    """``ψ ∝ |c⟩ + s Σ_{x≠0} c_x U|x⟩`` (see the module docstring); ``centre`` a name of
    :data:`TARGET_STATES` (``"zero"``: |0…0⟩); ``scale`` ``s`` (default 0.08 for one qubit, else 0.06)."""
    n = _check_n(n_qubits)
    n_train, n_test = _ensemble_sizes(n, n_train, n_test)
    s = (0.08 if n == 1 else 0.06) if scale is None else float(scale)
    if not (math.isfinite(s) and s >= 0):
        raise ConfigError(f"scale: expected a finite number >= 0, got {scale!r}")
    g = torch.Generator().manual_seed(int(seed))
    tail = s * _complex_normal((n_train + n_test, (1 << n) - 1), g)
    states = _unit_rows(torch.cat([torch.ones(n_train + n_test, 1, dtype=torch.complex128), tail], 1))
    c = target_state(centre, n).state
    states = states @ _householder_to(c).T
    train, test = _split(states, n_train)
    return ClusteredStates("clustered_states", train, test, c)


@DATASETS.register("circular_states")
def circular_states(n_train: int = 500, n_test: int = 500, seed: int = 0) -> StateEnsemble:
    """One-qubit states ``cos φ|0⟩ + sin φ|1⟩``, ``φ ~ U[0, 2π)``."""
    n_train, n_test = _ensemble_sizes(1, n_train, n_test)
    g = torch.Generator().manual_seed(int(seed))
    phi = 2 * math.pi * torch.rand(n_train + n_test, generator=g, dtype=torch.float64)
    states = torch.stack([phi.cos(), phi.sin()], 1).to(torch.complex128)
    return StateEnsemble("circular_states", *_split(states, n_train))


class CorrelatedNoiseStates(StateEnsemble):
    """``e^{−iεXX}ψ₀`` w.p. ``p`` else ``e^{−iεZZ}ψ₀``, ``ε ~ U[−δ, δ]`` (two qubits)."""

    def __init__(self, train: torch.Tensor, test: Optional[torch.Tensor], psi0: torch.Tensor, p: float,
                 delta: float) -> None:
        super().__init__("correlated_noise_states", train, test)
        self.psi0, self.p, self.delta = psi0, p, delta

    def infer_noise_probability(self, states: torch.Tensor) -> float:
        """``p`` inferred from states ``(N, 4)``: ``E|⟨10|ψ⟩|² = p |⟨01|ψ₀⟩|² E sin²ε`` when ``⟨10|ψ₀⟩ = 0``
        (``ZZ`` keeps ``|⟨10|ψ⟩|² = 0``, ``XX`` moves ``⟨01|ψ₀⟩`` there with amplitude ``sin ε``)."""
        if abs(complex(self.psi0[2])) > 1e-12:
            raise ConfigError("infer_noise_probability: needs ψ₀ with ⟨10|ψ₀⟩ = 0 (the default ψ₀)")
        states = PureStates(2).check(states, "states")
        d = self.delta
        sin2 = (d - 0.5 * math.sin(2 * d)) / (2 * d)
        return float((states[:, 2].abs() ** 2).mean()) / (sin2 * float(self.psi0[1].abs() ** 2))


@DATASETS.register("correlated_noise_states")
def correlated_noise_states(n_train: int = 500, n_test: int = 500, p: float = 0.8, delta: float = math.pi / 3,
                            psi0: Optional[Sequence[Any]] = None, seed: int = 0) -> CorrelatedNoiseStates:
    """The two-qubit correlated-noise ensemble (default ψ₀ = :data:`NOISE_PSI0`; ``psi0`` may be given as
    four complex amplitudes or ``[re, im]`` pairs)."""
    n_train, n_test = _ensemble_sizes(2, n_train, n_test)
    if not 0 <= float(p) <= 1:
        raise ConfigError(f"p: expected a probability in [0, 1], got {p!r}")
    if not (math.isfinite(float(delta)) and float(delta) > 0):
        raise ConfigError(f"delta: expected a positive angle, got {delta!r}")
    amps = np.asarray(NOISE_PSI0 if psi0 is None else psi0)
    amps = amps[..., 0] + 1j * amps[..., 1] if amps.ndim == 2 and amps.shape[-1] == 2 else amps
    if amps.shape != (4,) or not np.isfinite(amps).all() or np.linalg.norm(amps) == 0:
        raise ConfigError(f"psi0: expected 4 complex amplitudes, got {psi0!r}")
    psi = _vector(amps)
    g = torch.Generator().manual_seed(int(seed))
    total = n_train + n_test
    use_xx = torch.rand(total, generator=g, dtype=torch.float64) < float(p)
    eps = (2 * torch.rand(total, generator=g, dtype=torch.float64) - 1) * float(delta)
    # XX|ab⟩ = |(1−a)(1−b)⟩ reverses the index; ZZ is the diagonal (1, −1, −1, 1).
    flipped = torch.where(use_xx[:, None], psi.flip(0)[None], (psi * torch.tensor([1, -1, -1, 1]))[None])
    states = eps.cos()[:, None].to(torch.complex128) * psi[None] - 1j * eps.sin()[:, None] * flipped
    train, test = _split(states, n_train)
    return CorrelatedNoiseStates(train, test, psi, float(p), float(delta))


def tfim_ground_states(n_qubits: int, fields: Any, J: float = 1.0, periodic: bool = False) -> torch.Tensor:
    """Ground states ``(N, 2**n)`` (non-negative amplitudes) of the TFIM chain at the fields ``fields`` ``(N,)``:
    batched dense diagonalisation for ``n <= 8``, sparse Lanczos per field above."""
    n = _check_n(n_qubits, 2)
    if n > MAX_PHASE_QUBITS:
        raise ResourceError(f"n_qubits: the TFIM phase ensemble is limited to n <= {MAX_PHASE_QUBITS}, got {n}")
    gs = np.asarray(fields, dtype=np.float64).reshape(-1)
    if n > 8:
        return torch.stack([tfim_ground_state(n, float(h), J, periodic).state for h in gs])
    zz = tfim_hamiltonian(n, 0.0, J, periodic).toarray()
    x = tfim_hamiltonian(n, 1.0, 0.0, periodic).toarray()
    _, vecs = np.linalg.eigh(zz[None] + gs[:, None, None] * x[None])
    v = vecs[:, :, 0]
    v = v * np.sign(v.sum(1, keepdims=True))
    return _unit_rows(torch.as_tensor(v, dtype=torch.complex128))


class TFIMPhaseStates(StateEnsemble):
    """TFIM ground states with their fields ``g`` and phase labels (1: ordered, ``g < J``; 0: disordered)."""

    def __init__(self, train: torch.Tensor, test: Optional[torch.Tensor], fields: torch.Tensor, J: float,
                 periodic: bool) -> None:
        super().__init__("tfim_phase_states", train, test)
        self.J, self.periodic = J, periodic
        self.fields = {"train": fields[: len(train)], "test": fields[len(train):] if test is not None else None}

    def labels(self, split: str = "train") -> torch.Tensor:
        """Phase labels ``(N,)`` int64 of ``split``: 1 ordered (``g < J``), 0 disordered."""
        self.split(split)
        return (self.fields[split] < self.J).to(torch.int64)


@DATASETS.register("tfim_phase_states")
def tfim_phase_states(n_qubits: int = 4, n_train: int = 1000, n_test: int = 1000, g_low: float = 0.2,
                      g_high: float = 0.4, spacing: str = "uniform", J: float = 1.0, periodic: bool = False,
                      seed: int = 0) -> TFIMPhaseStates:
    """Ground states of ``H = −J Σ Z_i Z_{i+1} − g Σ X_i`` at ``g`` drawn ``uniform`` or ``log``-uniform
    in ``[g_low, g_high]`` (the phase transition is at ``g = J``)."""
    n = _check_n(n_qubits, 2)
    n_train, n_test = _ensemble_sizes(n, n_train, n_test)
    if not (0 < float(g_low) <= float(g_high) and math.isfinite(float(g_high))):
        raise ConfigError(f"g_low, g_high: expected 0 < g_low <= g_high, got {g_low!r}, {g_high!r}")
    if spacing not in ("uniform", "log"):
        raise ConfigError(f"spacing: expected 'uniform' or 'log', got {spacing!r}")
    g = torch.Generator().manual_seed(int(seed))
    u = torch.rand(n_train + n_test, generator=g, dtype=torch.float64)
    lo, hi = float(g_low), float(g_high)
    fields = lo + (hi - lo) * u if spacing == "uniform" else lo * (hi / lo) ** u
    states = tfim_ground_states(n, fields.numpy(), J, periodic)
    train, test = _split(states, n_train)
    return TFIMPhaseStates(train, test, fields, float(J), bool(periodic))


@DATASETS.register("haar_states")
def haar_state_ensemble(n_qubits: int = 1, n_train: int = 1000, n_test: int = 1000, seed: int = 0) -> StateEnsemble:
    """Haar-random pure states (normalised complex Gaussian vectors)."""
    n = _check_n(n_qubits)
    n_train, n_test = _ensemble_sizes(n, n_train, n_test)
    states = haar_states(n, n_train + n_test, generator=torch.Generator().manual_seed(int(seed)))
    return StateEnsemble("haar_states", *_split(states, n_train))


# ---------------------------------------------------------------------------- density matrices
class DensityEnsemble(_Ensemble):
    """``N`` density matrices of ``n`` qubits (space ``DensityMatrices(n)``), ``train``/``test`` ``(N, d, d)``."""

    space_type = DensityMatrices


def _depolarised(states: torch.Tensor, max_p: float, generator: torch.Generator) -> torch.Tensor:
    rho = pure_density(states)
    if max_p == 0:
        return rho
    d = states.shape[1]
    p = max_p * torch.rand(states.shape[0], generator=generator, dtype=torch.float64)
    eye = torch.eye(d, dtype=rho.dtype) / d
    return (1 - p)[:, None, None] * rho + p[:, None, None] * eye


@DATASETS.register("density_ensemble")
def density_ensemble(source: dict[str, Any], depolarise: float = 0.0, seed: int = 0) -> DensityEnsemble:
    """The pure-state dataset ``source`` (``{name: ..., options}``; its seed defaults to ``seed``) as density
    matrices, each depolarised with ``p ~ U[0, depolarise]``."""
    if not isinstance(source, dict) or "name" not in source:
        raise ConfigError("source: expected a dataset section {name: clustered_states, ...options}")
    if not (isinstance(depolarise, (int, float)) and 0 <= float(depolarise) <= 1):
        raise ConfigError(f"depolarise: expected a probability in [0, 1], got {depolarise!r}")
    options = {k: v for k, v in source.items() if k != "name"}
    if "seed" in inspect.signature(DATASETS.get(source["name"])).parameters:
        options.setdefault("seed", seed)
    pure = DATASETS.create(source["name"], **options)
    if not isinstance(pure.space, PureStates):
        raise ConfigError(f"source: '{source['name']}' holds {pure.space.describe()}, not pure states")
    g = torch.Generator().manual_seed(int(seed) + 1)
    train = _depolarised(pure.train, float(depolarise), g)
    test = None if pure.test is None else _depolarised(pure.test, float(depolarise), g)
    return DensityEnsemble(f"density_ensemble({source['name']})", train, test)
