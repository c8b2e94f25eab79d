"""Losses between ensembles of quantum states (QuDDPM, state QGANs, quantum data).

The kernel is the state overlap ``k(ρ, σ) = Tr(ρσ)``: the fidelity
``|⟨ψ|φ⟩|²`` for pure states ``(N, 2**n)``, the Hilbert-Schmidt overlap for
density matrices ``(N, 2**n, 2**n)`` (a positive-definite kernel on both).

* :func:`fidelity_mmd`: ``F̄(A, A) + F̄(B, B) − 2 F̄(A, B)`` with ``F̄`` the mean
  over all pairs, diagonal included (the V-statistic of Zhang et al.'s
  "naturalDistance"; for pure states equal to ``2 d̄12 − d̄11 − d̄22`` with
  ``d = 1 − F``); 0 for identical ensembles.
* :func:`state_wasserstein`: exact optimal transport (POT's ``emd2``, uniform
  weights) with cost ``C_ij = 1 − k(a_i, b_j)``; differentiable in the states
  through the optimal plan.
* :func:`branch_mixture_mmd`: the fidelity MMD of an ensemble produced by
  measuring ancilla qubits (QuDDPM's backward steps), **averaged exactly over
  the measurement outcomes**. Generated state ``i`` is the post-measurement
  state ``φ_im`` with probability ``p_im``; with ``ρ_i = Σ_m p_im |φ_im⟩⟨φ_im|``
  (the reduced state of the data qubits, :func:`reduced_density`) the expected
  V-statistic is ``(1/N²)[Σ_{i≠j} Tr ρ_iρ_j + N] + K̄(B, B) − (2/NM) Σ ⟨b|ρ_i|b⟩``:
  linear in each ``ρ_i`` apart from the pair terms, smooth in the circuit
  parameters, and its gradient is the exact gradient of the expected loss
  (differentiating one sampled post-measurement state, as the reference code
  does, drops ``∂p_im/∂θ`` and is biased).

State utilities shared by the state models: :func:`haar_states` (uniform pure
states), :func:`reduced_density`, :func:`measure_ancillas` (one sampled
outcome per state, differentiable through the renormalised branch),
:func:`pauli_basis`.

:class:`StateEnsembleLoss` turns a distance into a training loss: the model's
states (``model.state()`` for models tagged ``prepares_state``, else
``model.sample(m, generator=…)`` evaluated with gradients) against a data batch
of states (``batch=None``: the whole data ensemble).
"""
from __future__ import annotations

from abc import abstractmethod
from typing import Any, Optional

import torch

from qgm.errors import ConfigError, ParameterError, ResourceError
from qgm.losses.base import Loss
from qgm.registry import LOSSES
from qgm.spaces import DensityMatrices, PureStates

__all__ = [
    "overlap_matrix", "fidelity_mmd", "state_wasserstein", "StateEnsembleLoss", "FidelityMMDLoss",
    "StateWassersteinLoss", "as_state_batch", "haar_states", "reduced_density", "measure_ancillas",
    "branch_mixture_mmd", "branch_decomposition", "pure_density", "pauli_basis", "MAX_PAULI_QUBITS",
]

#: Largest register for which :func:`pauli_basis` builds all ``4**n`` matrices.
MAX_PAULI_QUBITS = 6
_PAULI = {
    "I": ((1, 0), (0, 1)), "X": ((0, 1), (1, 0)), "Y": ((0, -1j), (1j, 0)), "Z": ((1, 0), (0, -1)),
}


def as_state_batch(x: Any, field: str) -> torch.Tensor:
    """``x`` as a complex batch of pure states ``(N, d)`` or density matrices ``(N, d, d)``."""
    if not isinstance(x, torch.Tensor) or not x.is_complex() or x.dim() not in (2, 3) or x.shape[0] == 0:
        raise ParameterError(f"{field}: expected complex states (N, 2**n) or density matrices (N, 2**n, 2**n), "
                             f"got {getattr(x, 'dtype', type(x).__name__)} of shape {tuple(getattr(x, 'shape', ()))}")
    if x.dim() == 3 and x.shape[1] != x.shape[2]:
        raise ParameterError(f"{field}: density matrices must be square, got shape {tuple(x.shape)}")
    return x


def overlap_matrix(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """``K_ij = Tr(a_i b_j)`` ``(N, M)`` float: ``|⟨a_i|b_j⟩|²`` for pure states ``(N, d)`` / ``(M, d)``,
    ``Tr(ρ_i σ_j)`` for density matrices ``(N, d, d)`` / ``(M, d, d)``."""
    a, b = as_state_batch(a, "a"), as_state_batch(b, "b")
    if a.shape[1:] != b.shape[1:]:
        raise ParameterError(f"ensembles differ in shape: {tuple(a.shape[1:])} vs {tuple(b.shape[1:])}")
    if a.dim() == 2:
        g = a.conj() @ b.to(a.dtype).T
        return g.real**2 + g.imag**2
    # Tr(ρσ) = Σ_ij ρ_ij conj(σ_ij) for Hermitian σ: one matrix product of the flattened matrices
    return (a.reshape(a.shape[0], -1) @ b.to(a.dtype).reshape(b.shape[0], -1).conj().T).real


def fidelity_mmd(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Squared MMD with the overlap kernel, V-statistic: ``K̄(a, a) + K̄(b, b) − 2 K̄(a, b)`` (scalar)."""
    return overlap_matrix(a, a).mean() + overlap_matrix(b, b).mean() - 2 * overlap_matrix(a, b).mean()


def state_wasserstein(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Exact 1-Wasserstein distance between uniform ensembles with cost ``1 − k(a_i, b_j)`` (scalar)."""
    try:
        import ot
    except ImportError:
        raise ConfigError("state_wasserstein needs POT; pip install 'qgm[states]'") from None
    cost = 1.0 - overlap_matrix(a, b)
    wa = torch.full((cost.shape[0],), 1.0 / cost.shape[0], dtype=cost.dtype, device=cost.device)
    wb = torch.full((cost.shape[1],), 1.0 / cost.shape[1], dtype=cost.dtype, device=cost.device)
    return ot.emd2(wa, wb, cost)


def haar_states(n_qubits: int, n_states: int, *, generator: Optional[torch.Generator] = None,
                dtype: torch.dtype = torch.complex128) -> torch.Tensor:
    """``n_states`` Haar-random pure states ``(N, 2**n)``: normalised complex Gaussian vectors."""
    for field, value in (("n_qubits", n_qubits), ("n_states", n_states)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ConfigError(f"{field}: expected a positive integer, got {value!r}")
    real = torch.float32 if dtype == torch.complex64 else torch.float64
    z = torch.randn(n_states, 2, 1 << n_qubits, generator=generator, dtype=real)
    z = torch.complex(z[:, 0], z[:, 1]).to(dtype)
    return z / torch.linalg.vector_norm(z, dim=1, keepdim=True)


def _split_ancillas(states: torch.Tensor, n_ancilla: int) -> torch.Tensor:
    """Pure states ``(N, 2**(k+n))`` as ``(N, 2**k, 2**n)``: ancillas = the first ``k`` (most significant) wires."""
    states = as_state_batch(states, "states")
    dim = states.shape[-1]
    ok = isinstance(n_ancilla, int) and not isinstance(n_ancilla, bool) and n_ancilla >= 0
    if states.dim() != 2 or not ok or (1 << n_ancilla) >= dim:
        raise ParameterError(f"n_ancilla: expected 0 <= n_ancilla < n_qubits of pure states (N, {dim}), got "
                             f"{n_ancilla!r} for shape {tuple(states.shape)}")
    return states.reshape(states.shape[0], 1 << n_ancilla, dim >> n_ancilla)


def reduced_density(states: torch.Tensor, n_ancilla: int) -> torch.Tensor:
    """Reduced states ``(N, 2**n, 2**n)`` of the last ``n`` wires of pure states ``(N, 2**(k+n))``
    after tracing out the first ``n_ancilla = k`` wires (differentiable)."""
    psi = _split_ancillas(states, n_ancilla)
    return psi.transpose(1, 2) @ psi.conj()


def pure_density(states: torch.Tensor) -> torch.Tensor:
    """``|ψ⟩⟨ψ|`` ``(N, d, d)`` of pure states ``(N, d)``."""
    states = as_state_batch(states, "states")
    return states[:, :, None] * states.conj()[:, None, :]


def branch_decomposition(states: torch.Tensor, n_ancilla: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Outcome probabilities ``p`` ``(N, 2**k)`` of measuring the first ``k = n_ancilla`` wires of pure states
    ``(N, 2**(k+n))`` and the renormalised post-measurement data states ``(N, 2**k, 2**n)`` (a zero vector for
    an outcome of probability 0); differentiable."""
    psi = _split_ancillas(states, n_ancilla)
    p = (psi.real**2 + psi.imag**2).sum(-1)
    return p, psi / p.sqrt().clamp_min(1e-150)[..., None]


def measure_ancillas(states: torch.Tensor, n_ancilla: int, generator: Optional[torch.Generator] = None
                     ) -> torch.Tensor:
    """Measure the first ``n_ancilla`` wires of each pure state ``(N, 2**(k+n))`` once (outcome ``m`` with
    probability ``‖Π_m ψ‖²``) and return the renormalised data states ``(N, 2**n)``.

    Differentiable through the renormalised branch only (the outcome is a draw): the
    reference code's estimator, biased for losses of the outcome distribution.
    """
    p, branches = branch_decomposition(states, n_ancilla)
    outcome = torch.multinomial(p.detach().to(torch.float64).cpu(), 1, generator=generator)[:, 0]
    return branches[torch.arange(p.shape[0]), outcome.to(p.device)]


def branch_mixture_mmd(rho: torch.Tensor, data: torch.Tensor) -> torch.Tensor:
    """Expected V-statistic fidelity MMD (scalar) between pure states drawn from the decompositions of
    ``rho`` ``(N, d, d)`` (one draw per state, independently) and the pure data states ``(M, d)``.

    Equals ``fidelity_mmd(rho, |b⟩⟨b|) + Σ_i (1 − Tr ρ_i²) / N²``: a sampled pure state overlaps
    itself with fidelity 1, whatever the decomposition (see the module docstring).
    """
    rho, data = as_state_batch(rho, "rho"), as_state_batch(data, "data")
    if rho.dim() != 3 or data.dim() != 2:
        raise ParameterError(f"branch_mixture_mmd: expected rho (N, d, d) and pure data (M, d), got "
                             f"{tuple(rho.shape)} and {tuple(data.shape)}")
    purity = (rho.real**2 + rho.imag**2).sum((1, 2))  # Tr ρ² = Σ |ρ_ij|² for Hermitian ρ
    return fidelity_mmd(rho, pure_density(data.to(rho.dtype))) + (1.0 - purity).sum() / rho.shape[0] ** 2


def pauli_basis(n_qubits: int, dtype: torch.dtype = torch.complex128) -> tuple[list[str], torch.Tensor]:
    """The ``4**n`` Pauli strings (``"IXZ"``: wire 0 leftmost, index order ``I, X, Y, Z`` per wire,
    wire 0 most significant) and their matrices ``(4**n, 2**n, 2**n)``."""
    if isinstance(n_qubits, bool) or not isinstance(n_qubits, int) or not 1 <= n_qubits <= MAX_PAULI_QUBITS:
        raise ResourceError(f"n_qubits: the Pauli basis is built for 1..{MAX_PAULI_QUBITS} qubits, got {n_qubits!r}")
    names, mats = [""], torch.ones(1, 1, 1, dtype=dtype)
    for _ in range(n_qubits):
        single = torch.tensor([_PAULI[c] for c in "IXYZ"], dtype=dtype)
        mats = torch.einsum("aij,bkl->abikjl", mats, single).reshape(len(names) * 4, mats.shape[1] * 2, -1)
        names = [a + c for a in names for c in "IXYZ"]
    return names, mats


class StateEnsembleLoss(Loss):
    """Distance between the model's ensemble of states and the data's (see the module docstring).

    Args:
        data: the data ensemble ``(N, 2**n)`` pure states or ``(N, 2**n, 2**n)`` density matrices,
            used for ``batch=None``.
        n_generated: states drawn from a sampling model per evaluation (None: as many as the batch).
        seed: seed of the loss's generator for the model's draws.
    """

    def __init__(self, data: Any, n_generated: Optional[int] = None, seed: int = 0) -> None:
        data = as_state_batch(data, "data")
        n = int(data.shape[1]).bit_length() - 1
        self.space = PureStates(n) if data.dim() == 2 else DensityMatrices(n)
        self.data = self.space.check(data, "data")
        if n_generated is not None and (isinstance(n_generated, bool) or not isinstance(n_generated, int)
                                        or n_generated < 1):
            raise ConfigError(f"n_generated: expected a positive integer or null, got {n_generated!r}")
        self.n_generated, self.seed = n_generated, int(seed)
        self._generator = torch.Generator().manual_seed(self.seed)

    def check_model(self, model: Any) -> None:
        """The model prepares a state of the data's qubits, or samples the data's space."""
        tags = getattr(model, "tags", None)
        space = getattr(model, "space", None)
        n = self.space.n
        ok = (getattr(tags, "prepares_state", False) and getattr(space, "n", None) == n) or (
            space is not None and space.matches(self.space))
        if not ok:
            got = space.describe() if space is not None else type(model).__name__
            raise ConfigError(f"{self.name}: the data are {self.space.describe()}; the model gives {got}")

    def model_states(self, model: Any, m: int) -> torch.Tensor:
        """The model's states: ``model.state()`` ``(1, 2**n)``, else ``m`` differentiable samples."""
        if getattr(model.tags, "prepares_state", False):
            return model.state()[None]
        return model.sample(self.n_generated or m, generator=self._generator)

    def forward(self, model: Any, batch: Any) -> torch.Tensor:
        data = self.data if batch is None else self.space.check(batch, "batch")
        return self.distance(self.model_states(model, len(data)), data.to(self.data.device))

    @abstractmethod
    def distance(self, generated: torch.Tensor, data: torch.Tensor) -> torch.Tensor:
        """Scalar distance between the generated and the data ensembles."""

    def state_dict(self) -> dict[str, Any]:
        return {"generator": self._generator.get_state()}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        if "generator" in state:
            self._generator.set_state(state["generator"])


class FidelityMMDLoss(StateEnsembleLoss):
    """:func:`fidelity_mmd` between the generated and the data ensembles."""

    name = "fidelity_mmd"

    def distance(self, generated: torch.Tensor, data: torch.Tensor) -> torch.Tensor:
        return fidelity_mmd(generated, data)


class StateWassersteinLoss(StateEnsembleLoss):
    """:func:`state_wasserstein` between the generated and the data ensembles."""

    name = "state_wasserstein"

    def distance(self, generated: torch.Tensor, data: torch.Tensor) -> torch.Tensor:
        return state_wasserstein(generated, data)


def _ensemble_factory(cls: type[StateEnsembleLoss]) -> Any:
    def factory(dataset: Any, n_generated: Optional[int] = None, seed: int = 0) -> StateEnsembleLoss:
        if not isinstance(getattr(dataset, "space", None), (PureStates, DensityMatrices)):
            raise ConfigError(f"{cls.name} needs a dataset of quantum states, got "
                              f"{getattr(getattr(dataset, 'space', None), 'describe', lambda: '?')()}")
        return cls(dataset.train, n_generated=n_generated, seed=seed)

    factory.__name__ = cls.name
    factory.__doc__ = f"Registered factory: :class:`{cls.__name__}` to the dataset's training ensemble."
    return LOSSES.register(cls.name)(factory)


_ensemble_factory(FidelityMMDLoss)
_ensemble_factory(StateWassersteinLoss)
