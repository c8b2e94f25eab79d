"""Fidelity losses for learning a target quantum state |π⟩ (quantum data).

* ``global_fidelity``: ``L_QF = 1 − |⟨π|ψ_θ⟩|²``. Faithful, but a global cost:
  its gradients vanish exponentially in ``n`` (Cerezo et al. 2021).
* ``local_fidelity`` (Rudolph et al. arXiv:2305.02881; trainability.md §3):
  with a unitary ``V`` such that ``V|0…0⟩ = |π⟩``,
  ``L_LQF = 1 − (1/n) Σ_j ‖(⟨0|_j ⊗ I) V†|ψ_θ⟩‖²``, i.e. one minus the mean
  probability that wire ``j`` reads 0 after un-preparing the target. It is 0
  exactly when ``V†|ψ_θ⟩ = |0…0⟩`` up to a phase, i.e. ``|ψ_θ⟩ = |π⟩`` (phases
  included), and ``L_LQF <= L_QF <= n·L_LQF``.

``V`` is the target's preparation circuit when one is given (e.g. H + CNOT
ladder for GHZ), else the Householder reflection whose first column is |π⟩
(up to a global phase). The landscape of ``L_LQF`` depends on the choice of
``V`` beyond ``V|0⟩``; a circuit ``V`` keeps the cost local in the circuit's
sense, the Householder ``V`` is the generic fallback of the spec.

Both losses are exact (state-vector) :class:`~qgm.losses.StateEnsembleLoss`
es against an ensemble of one target: ``batch`` is ignored (the data is the
state) and ``shots`` are refused. A model provides its state by ``state()``
(models tagged ``prepares_state``, e.g. the QCBM). Registered factories read
the target from ``dataset.state`` (``(2**n,)`` complex, a
:class:`~qgm.data.StateTarget`) and optionally ``dataset.prep`` (a
parameter-free Circuit), or take ``target=`` amplitudes directly.
"""
from __future__ import annotations

from typing import Any, Optional

import numpy as np
import torch

from qgm import sim
from qgm.circuits import Circuit
from qgm.errors import ConfigError, DataError, ParameterError
from qgm.losses.ensemble import StateEnsembleLoss
from qgm.registry import LOSSES

__all__ = [
    "Unpreparation", "zero_marginals", "fidelity", "local_fidelity", "model_state",
    "GlobalFidelityLoss", "LocalFidelityLoss", "STATE_TOL",
]

#: Tolerance on the norm of a target state and on ``prep|0⟩ = state``.
STATE_TOL = 1e-8


def _as_state(values: Any, field: str) -> torch.Tensor:
    v = torch.as_tensor(np.asarray(values, dtype=np.complex128)).reshape(-1)
    n = v.numel().bit_length() - 1
    if v.numel() < 2 or v.numel() != 1 << n:
        raise DataError(f"{field}: expected 2**n amplitudes, got {v.numel()}")
    norm = float(torch.linalg.vector_norm(v))
    if abs(norm - 1.0) > STATE_TOL:
        raise DataError(f"{field}: state must be normalised, got norm {norm:.12g}")
    return v


def zero_marginals(p: torch.Tensor, n: int) -> torch.Tensor:
    """``P(wire j reads 0)`` ``(..., n)`` of distributions ``p`` ``(..., 2**n)`` (wire 0 = MSB)."""
    t = p.reshape(*p.shape[:-1], *([2] * n))
    lead = p.dim() - 1
    marginals = []
    for j in range(n):
        others = tuple(lead + i for i in range(n) if i != j)
        marginals.append((t.sum(dim=others) if others else t)[..., 0])
    return torch.stack(marginals, -1)


class Unpreparation:
    """``ψ -> V†ψ`` for a unitary ``V`` with ``V|0…0⟩ = |π⟩`` (see module docstring).

    Args:
        state: target amplitudes ``(2**n,)``.
        prep: parameter-free circuit preparing ``state`` from |0…0⟩, or None (Householder).
    """

    def __init__(self, state: Any, prep: Optional[Circuit] = None) -> None:
        self.state = _as_state(state, "target state")
        self.n_bits = self.state.numel().bit_length() - 1
        self.prep = prep
        if prep is not None:
            self._check_prep(prep)
            self._undo = prep.inverse()
            return
        # Householder H = I − 2 w w†/(w†w) maps |0⟩ to y = e^{−iα}|π⟩ with ⟨0|y⟩ = |π_0| real;
        # the global phase e^{iα} of V = e^{iα}H changes no norm, so V† acts as H.
        p0 = self.state[0]
        phase = p0 / p0.abs() if float(p0.abs()) > 0 else torch.ones((), dtype=p0.dtype)
        e0 = torch.zeros_like(self.state)
        e0[0] = 1.0
        w = e0 - self.state / phase
        self._w = w / torch.linalg.vector_norm(w) if float(torch.linalg.vector_norm(w)) > 1e-14 else None

    def _check_prep(self, prep: Circuit) -> None:
        if not isinstance(prep, Circuit) or prep.n_qubits != self.n_bits or prep.n_params or prep.n_inputs:
            raise ConfigError(
                f"prep: expected a parameter-free Circuit on {self.n_bits} qubits, got {prep!r}"
            )
        overlap = torch.vdot(self.state, sim.state(prep)).abs().item()
        if abs(overlap - 1.0) > STATE_TOL:
            raise ConfigError(f"prep: circuit does not prepare the target state (|<target|prep 0>| = {overlap:.6g})")

    def __call__(self, psi: torch.Tensor) -> torch.Tensor:
        """``V†ψ`` for states ``psi`` ``(..., 2**n)`` (differentiable)."""
        if psi.shape[-1] != self.state.numel():
            raise ParameterError(f"state: expected (..., {self.state.numel()}) amplitudes, got {tuple(psi.shape)}")
        if self.prep is not None:
            return sim.state(self._undo, initial_state=psi, dtype=psi.dtype, diff_method="backprop")
        if self._w is None:
            return psi
        w = self._w.to(dtype=psi.dtype, device=psi.device)
        return psi - 2.0 * (psi @ w.conj()).unsqueeze(-1) * w


def fidelity(psi: torch.Tensor, state: torch.Tensor) -> torch.Tensor:
    """``|⟨π|ψ⟩|²`` ``(...)`` of states ``psi`` ``(..., 2**n)`` with target ``state`` ``(2**n,)``."""
    overlap = psi @ state.to(dtype=psi.dtype, device=psi.device).conj()
    return overlap.real**2 + overlap.imag**2


def local_fidelity(psi: torch.Tensor, unprepare: Unpreparation) -> torch.Tensor:
    """``(1/n) Σ_j ‖(⟨0|_j ⊗ I) V†ψ‖²`` ``(...)`` of states ``psi`` ``(..., 2**n)``."""
    phi = unprepare(psi)
    return zero_marginals(phi.real**2 + phi.imag**2, unprepare.n_bits).mean(-1)


def model_state(model: Any) -> torch.Tensor:
    """The model's state ``(2**n,)`` from ``model.state()`` (models tagged ``prepares_state``)."""
    if not getattr(getattr(model, "tags", None), "prepares_state", False):
        raise ConfigError(
            f"fidelity losses need a model that prepares a state (a state() method, as the QCBM); "
            f"got {type(model).__name__}"
        )
    return model.state()


class _StateLoss(StateEnsembleLoss):
    """Shared target handling of the fidelity losses (exact only)."""

    def __init__(self, state: Any, prep: Optional[Circuit] = None, shots: Optional[int] = None) -> None:
        if shots is not None:
            raise ConfigError(f"{self.name}: shots={shots} not supported; fidelity losses are exact (shots: null)")
        self.unprepare = Unpreparation(state, prep)
        self.state = self.unprepare.state
        self.n_bits = self.unprepare.n_bits
        super().__init__(self.state[None])

    def check_model(self, model: Any) -> None:
        """The model must prepare a state of the target's qubits."""
        n = getattr(getattr(model, "space", None), "n", None)
        if n is not None and n != self.n_bits:
            raise ConfigError(f"{self.name} loss built for {self.n_bits} qubits, the model has {n}")

    def forward(self, model: Any, batch: Any) -> torch.Tensor:
        return self.distance(model_state(model)[None], self.data)


class GlobalFidelityLoss(_StateLoss):
    """``1 − |⟨π|ψ_θ⟩|²`` (scalar); ``batch`` is ignored."""

    name = "global_fidelity"

    def distance(self, generated: torch.Tensor, data: torch.Tensor) -> torch.Tensor:
        return 1.0 - fidelity(generated[0], data[0])


class LocalFidelityLoss(_StateLoss):
    """``1 − (1/n) Σ_j ‖(⟨0|_j ⊗ I) V†|ψ_θ⟩‖²`` (scalar); ``batch`` is ignored."""

    name = "local_fidelity"

    def distance(self, generated: torch.Tensor, data: torch.Tensor) -> torch.Tensor:
        return 1.0 - local_fidelity(generated[0], self.unprepare)


def _target_of(dataset: Any, target: Any, prep: Optional[Circuit], householder: bool) -> tuple[Any, Optional[Circuit]]:
    if target is None:
        if getattr(dataset, "state", None) is None:
            raise ConfigError(
                "fidelity loss: the dataset has no quantum 'state'; use a quantum-state dataset or give target="
            )
        target, prep = dataset.state, getattr(dataset, "prep", None) if prep is None else prep
    return target, None if householder else prep


@LOSSES.register("global_fidelity")
def global_fidelity(dataset: Any = None, target: Any = None, shots: Optional[int] = None) -> GlobalFidelityLoss:
    """Registered factory: :class:`GlobalFidelityLoss` to ``dataset.state`` (or ``target`` amplitudes)."""
    state, _ = _target_of(dataset, target, None, True)
    return GlobalFidelityLoss(state, shots=shots)


@LOSSES.register("local_fidelity")
def local_fidelity_loss(
    dataset: Any = None,
    target: Any = None,
    prep: Optional[Circuit] = None,
    householder: bool = False,
    shots: Optional[int] = None,
) -> LocalFidelityLoss:
    """Registered factory: :class:`LocalFidelityLoss` to ``dataset.state`` (or ``target``).

    ``V`` = ``prep`` (else ``dataset.prep``) unless ``householder`` is true or no circuit is known.
    """
    state, circuit = _target_of(dataset, target, prep, householder)
    return LocalFidelityLoss(state, circuit, shots=shots)
