"""Gibbs-state targets: quantum data in space ``DensityMatrices(n)`` and the ``relative_entropy`` metric.

:class:`GibbsStateData` holds one density matrix ``η = e^{−βH}/Z`` of a Pauli-sum Hamiltonian
(exact, from :mod:`qgm.sim.hamiltonian`; at most 12 qubits) as its single training element, so
a batch of any size is copies of ``η`` and ``batch_size: null`` hands the exact target to a model
that owns its objective (the QBM stores ``Tr(η O_k)`` and ``S(η)``). Registered datasets:

* ``gibbs``: any Hamiltonian ``terms: [[coef, "ZZI"], ...]`` at inverse temperature ``beta``;
* ``tfim_gibbs``: the transverse-field Ising chain ``H = −J Σ Z_i Z_{i+1} − h Σ X_i`` at ``beta``
  (``periodic`` adds the ``(n−1, 0)`` bond). Without ``J`` and ``h`` it is the target of the CQCL
  ``qbm_benchmark_dataset`` (``--t 0 --seed seed``): ``H = c_0 Σ Z_i Z_{i+1} + c_1 Σ X_i`` with
  ``(c_0, c_1) = numpy.random.default_rng(seed).normal(size=2)``.

The registered metric ``relative_entropy`` is ``S(η‖ρ) = Tr η log η − Tr η log ρ`` (nats) of the
dataset's state ``η`` (the mean of its training elements) and the model's state ``ρ``: through
``model.terms()`` (``log ρ = −H − log Z``, exact) when the model has them, else through
``model.gibbs_state()``.
"""
from __future__ import annotations

from typing import Any, Optional

import numpy as np
import torch

from qgm.data.base import Dataset
from qgm.errors import ConfigError
from qgm.registry import DATASETS, METRICS
from qgm.sim.hamiltonian import (
    Term,
    check_beta,
    check_gibbs_size,
    check_terms,
    gibbs_relative_entropy,
    gibbs_state,
    relative_entropy,
    tfim_terms,
)
from qgm.spaces import DensityMatrices

__all__ = ["GibbsStateData", "gibbs", "tfim_gibbs", "cqcl_tfim_coefficients", "state_relative_entropy"]


class GibbsStateData(Dataset):
    """The Gibbs state of ``terms`` at inverse temperature ``beta`` (space ``DensityMatrices(n)``, one element).

    Attributes:
        terms: the Hamiltonian ``[(coef, pauli_string)]``.
        beta: inverse temperature.
        state: ``η`` ``(2**n, 2**n)`` complex128.
    """

    def __init__(self, name: str, terms: Any, beta: float = 1.0) -> None:
        self.terms: list[Term] = check_terms(terms)
        n = check_gibbs_size(len(self.terms[0][1]), "terms")
        self.beta = check_beta(beta)
        rho = gibbs_state(self.terms, self.beta).to(torch.complex128)
        rho = (rho + rho.mH) / 2  # exactly Hermitian
        super().__init__(name, DensityMatrices(n), rho[None])

    @property
    def n_qubits(self) -> int:
        """Qubits of the state."""
        return self.space.n  # type: ignore[attr-defined]

    @property
    def state(self) -> torch.Tensor:
        """``η`` ``(2**n, 2**n)`` complex128."""
        return self.train[0]

    @property
    def target(self) -> torch.Tensor:
        """The Z-basis distribution ``diag η`` ``(2**n,)`` float64."""
        return self.state.diagonal().real.clamp_min(0.0)

    @property
    def has_exact_target(self) -> bool:
        """One known state: a model may train on it whole (``batch=None``)."""
        return True


@DATASETS.register("gibbs")
def gibbs(terms: Any, beta: float = 1.0) -> GibbsStateData:
    """Registered factory: the Gibbs state of ``terms`` (list of ``[coef, "PAULIS"]``) at ``beta``."""
    return GibbsStateData("gibbs", terms, beta)


def cqcl_tfim_coefficients(seed: int) -> tuple[float, float]:
    """``(c_0, c_1)`` of the CQCL benchmark's TFIM target for ``--seed seed``: ``default_rng(seed).normal(size=2)``."""
    c = np.random.default_rng(int(seed)).normal(size=2)
    return float(c[0]), float(c[1])


@DATASETS.register("tfim_gibbs")
def tfim_gibbs(n_qubits: int = 8, beta: float = 1.0, J: Optional[float] = None, h: Optional[float] = None,
               periodic: bool = False, seed: int = 1) -> GibbsStateData:
    """Registered factory: the TFIM chain's Gibbs state (see the module docstring; ``seed`` only
    matters when ``J`` and ``h`` are not given)."""
    n = check_gibbs_size(n_qubits)
    if n < 2:
        raise ConfigError(f"n_qubits: the TFIM chain needs at least 2 qubits, got {n_qubits!r}")
    if (J is None) != (h is None):
        raise ConfigError("J, h: give both couplings (H = −J ΣZZ − h ΣX) or neither (the CQCL random target)")
    zz, x = cqcl_tfim_coefficients(seed) if J is None else (-float(J), -float(h))  # type: ignore[arg-type]
    return GibbsStateData("tfim_gibbs", tfim_terms(n, zz, x, graph="ring" if periodic else "chain"), beta)


def state_relative_entropy(model: Any, eta: torch.Tensor) -> float:
    """``S(η‖ρ_model)`` (nats): exact through ``model.terms()`` if present, else through ``model.gibbs_state()``."""
    if callable(getattr(model, "terms", None)):
        return float(gibbs_relative_entropy(eta, model.terms()))
    return float(relative_entropy(eta, model.gibbs_state().detach().to(eta.dtype)))


@METRICS.register("relative_entropy")
def _relative_entropy(*, model: Any, dataset: Any, samples: Any, probs: Optional[torch.Tensor]) -> float:
    """Quantum relative entropy ``S(η‖ρ)`` of the dataset's state and the model's (see the module docstring)."""
    name = getattr(dataset, "name", type(dataset).__name__)
    if not isinstance(dataset.space, DensityMatrices):
        raise ConfigError(f"metric 'relative_entropy' does not apply to dataset '{name}': it needs density-matrix data; "
                          "remove it from metrics (use kl for bit data)")
    if not callable(getattr(model, "terms", None)) and not callable(getattr(model, "gibbs_state", None)):
        raise ConfigError(f"metric 'relative_entropy': {type(model).__name__} prepares no density matrix "
                          "(needs terms() or gibbs_state()); remove it from metrics")
    return state_relative_entropy(model, dataset.train.mean(0))
