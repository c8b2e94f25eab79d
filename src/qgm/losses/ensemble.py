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

:class:`StateEnsembleLoss` turns a distance into a training loss: the model's
states (``model.state()`` for models tagged ``prepares_state``, else
``model.sample(m, generator=…)`` evaluated with gradients) against a data batch
of states (``batch=None``: the whole data ensemble).
"""
from __future__ import annotations

from abc import abstractmethod
from typing import Any, Optional

import torch

from qgm.errors import ConfigError, ParameterError
from qgm.losses.base import Loss
from qgm.registry import LOSSES
from qgm.spaces import DensityMatrices, PureStates

__all__ = [
    "overlap_matrix", "fidelity_mmd", "state_wasserstein", "StateEnsembleLoss", "FidelityMMDLoss",
    "StateWassersteinLoss", "as_state_batch",
]


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
    return torch.einsum("aij,bij->ab", a, b.to(a.dtype).conj()).real


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
