"""Metrics of generated quantum-state ensembles (pure states ``(N, 2**n)`` or density
matrices ``(N, 2**n, 2**n)``): pure functions, and adapters registered in
:data:`qgm.registry.METRICS`.

Registered (the reference ensemble is the dataset's test split, else its
training split; at most :data:`MAX_REFERENCE` states of each side are used,
the first ones):

* ``state_mmd``: fidelity MMD (V-statistic, overlap kernel ``Tr ρσ``), the
  QuDDPM paper's ``D_MMD``; ``state_wasserstein``: exact OT with cost ``1 − Tr ρσ``;
* ``centre_fidelity``: mean ``⟨c|ρ|c⟩`` to the dataset's ``centre`` (clustered states);
* ``magnetisation``: mean ``M = Σ_x p(x) |(1/n) Σ_i (2x_i − 1)|``; ``ordered_fraction``:
  share of samples with ``M`` above that of the TFIM ground state at the critical
  field ``g = J`` (the same chain), i.e. classified as ordered;
* ``purity_w1``, ``entropy_w1``, ``entanglement_w1``: 1-Wasserstein distance
  between the distributions of purity ``Tr ρ²``, von Neumann entropy ``S(ρ)`` (bits)
  and entanglement entropy ``S(ρ_A)`` of the first ``⌊n/2⌋`` qubits, samples vs data;
* ``validity_rate``: share of samples that are physical states (:func:`physical_validity`).
"""
from __future__ import annotations

from typing import Any, Optional

import numpy as np
import torch

from qgm.errors import ParameterError
from qgm.losses.ensemble import fidelity_mmd, pure_density, state_wasserstein
from qgm.metrics.evaluate import require
from qgm.registry import METRICS
from qgm.spaces import DensityMatrices, PureStates

__all__ = [
    "as_density", "purities", "von_neumann_entropies", "partial_trace", "entanglement_entropies", "magnetisations",
    "bloch_vectors", "physical_validity", "wasserstein_1d", "critical_magnetisation", "MAX_REFERENCE", "VALIDITY_TOL",
]

#: States of each ensemble used by the registered metrics.
MAX_REFERENCE = 2000
#: Tolerance of :func:`physical_validity` used by the ``validity_rate`` metric.
VALIDITY_TOL = 1e-8


def as_density(x: torch.Tensor) -> torch.Tensor:
    """Density matrices ``(N, d, d)`` of pure states ``(N, d)`` (matrices pass through)."""
    if not isinstance(x, torch.Tensor) or not x.is_complex() or x.dim() not in (2, 3):
        raise ParameterError(f"states: expected complex states (N, d) or matrices (N, d, d), got "
                             f"{getattr(x, 'dtype', type(x).__name__)} of shape {tuple(getattr(x, 'shape', ()))}")
    return pure_density(x) if x.dim() == 2 else x


def purities(x: torch.Tensor) -> torch.Tensor:
    """``Tr ρ²`` ``(N,)`` (1 for pure states)."""
    rho = as_density(x)
    return torch.einsum("nij,nji->n", rho, rho).real


def von_neumann_entropies(x: torch.Tensor) -> torch.Tensor:
    """``S(ρ) = −Tr ρ log₂ ρ`` ``(N,)`` in bits (eigenvalues of the Hermitian part, negatives clipped to 0)."""
    rho = as_density(x)
    lam = torch.linalg.eigvalsh((rho + rho.mH) / 2).clamp_min(0)
    return -(lam * torch.log2(torch.where(lam > 0, lam, torch.ones_like(lam)))).sum(-1)


def partial_trace(x: torch.Tensor, n_keep: int) -> torch.Tensor:
    """Reduced states ``(N, 2**k, 2**k)`` of the first ``k = n_keep`` wires (wire 0 = most significant)."""
    rho = as_density(x)
    d = rho.shape[-1]
    n = d.bit_length() - 1
    if not 0 < n_keep <= n:
        raise ParameterError(f"n_keep: expected 1..{n} wires to keep, got {n_keep}")
    a, b = 1 << n_keep, d >> n_keep
    return torch.einsum("nibjb->nij", rho.reshape(-1, a, b, a, b))


def entanglement_entropies(x: torch.Tensor, n_keep: Optional[int] = None) -> torch.Tensor:
    """``S(ρ_A)`` ``(N,)`` in bits of the first ``n_keep`` wires (default ``⌊n/2⌋``; ``n >= 2``)."""
    rho = as_density(x)
    n = rho.shape[-1].bit_length() - 1
    if n < 2:
        raise ParameterError("entanglement entropy: needs at least 2 qubits")
    return von_neumann_entropies(partial_trace(rho, n // 2 if n_keep is None else n_keep))


def magnetisations(x: torch.Tensor) -> torch.Tensor:
    """``M = Σ_x p(x) |(1/n) Σ_i (2x_i − 1)|`` ``(N,)`` from the diagonal (computational basis) of each state."""
    p = torch.diagonal(as_density(x), dim1=-2, dim2=-1).real
    n = p.shape[-1].bit_length() - 1
    bits = (torch.arange(p.shape[-1], device=p.device)[:, None] >> torch.arange(n - 1, -1, -1, device=p.device)) & 1
    m = (2.0 * bits.to(p.dtype) - 1).mean(1).abs()
    return p @ m


def critical_magnetisation(n_qubits: int, J: float = 1.0, periodic: bool = False) -> float:
    """``M`` of the TFIM ground state at the critical field ``g = J`` (the ordered/disordered threshold)."""
    from qgm.data.states import tfim_ground_states

    return float(magnetisations(tfim_ground_states(n_qubits, [J], J, periodic))[0])


def bloch_vectors(states: torch.Tensor) -> torch.Tensor:
    """Bloch vectors ``(N, 3)`` ``(⟨X⟩, ⟨Y⟩, ⟨Z⟩)`` of one-qubit states ``(N, 2)`` or ``(N, 2, 2)``."""
    rho = as_density(states)
    if rho.shape[-1] != 2:
        raise ParameterError(f"bloch_vectors: expected one-qubit states, got dimension {rho.shape[-1]}")
    return torch.stack([2 * rho[:, 0, 1].real, -2 * rho[:, 0, 1].imag, (rho[:, 0, 0] - rho[:, 1, 1]).real], 1)


def physical_validity(matrices: torch.Tensor, tol: float = VALIDITY_TOL) -> dict[str, torch.Tensor]:
    """Per matrix ``(N, d, d)``: ``hermiticity`` (max ``|ρ − ρ†|``), ``trace_error`` (``|Tr ρ − 1|``),
    ``min_eigenvalue`` (of the Hermitian part) and ``valid`` (all three within ``tol``: Hermitian, unit
    trace, positive semidefinite)."""
    rho = as_density(matrices)
    herm = (rho - rho.mH).abs().amax((-2, -1))
    trace = torch.diagonal(rho, dim1=-2, dim2=-1).sum(-1)
    trace_err = (trace - 1).abs()
    lam = torch.linalg.eigvalsh((rho + rho.mH) / 2)[:, 0]
    return {"hermiticity": herm, "trace_error": trace_err, "min_eigenvalue": lam,
            "valid": (herm <= tol) & (trace_err <= tol) & (lam >= -tol)}


def wasserstein_1d(a: torch.Tensor | np.ndarray, b: torch.Tensor | np.ndarray) -> float:
    """1-Wasserstein distance between the empirical distributions of two samples of numbers."""
    from scipy.stats import wasserstein_distance

    return float(wasserstein_distance(np.asarray(torch.as_tensor(a).detach().cpu()).ravel(),
                                      np.asarray(torch.as_tensor(b).detach().cpu()).ravel()))


# ---------------------------------------------------------------------------- registered adapters
def _states(metric: str, dataset: Any, samples: Any) -> tuple[torch.Tensor, torch.Tensor]:
    """The model's samples and the dataset's reference ensemble (test, else train), at most MAX_REFERENCE each."""
    require(metric, dataset, isinstance(dataset.space, (PureStates, DensityMatrices)), "it holds no quantum states")
    ref = dataset.test if getattr(dataset, "test", None) is not None else dataset.train
    return torch.as_tensor(samples)[:MAX_REFERENCE], ref[:MAX_REFERENCE].to(torch.as_tensor(samples).device)


def _same_form(a: torch.Tensor, b: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    return (a, b) if a.dim() == b.dim() else (as_density(a), as_density(b))


@METRICS.register("state_mmd")
def _state_mmd(*, model: Any, dataset: Any, samples: torch.Tensor, probs: Optional[torch.Tensor]) -> float:
    """Fidelity MMD between the samples and the reference ensemble."""
    return float(fidelity_mmd(*_same_form(*_states("state_mmd", dataset, samples))))


@METRICS.register("state_wasserstein")
def _state_wasserstein(*, model: Any, dataset: Any, samples: torch.Tensor, probs: Optional[torch.Tensor]) -> float:
    """Exact OT distance (cost ``1 − Tr ρσ``) between the samples and the reference ensemble."""
    return float(state_wasserstein(*_same_form(*_states("state_wasserstein", dataset, samples))))


@METRICS.register("centre_fidelity")
def _centre_fidelity(*, model: Any, dataset: Any, samples: torch.Tensor, probs: Optional[torch.Tensor]) -> float:
    """Mean fidelity ``⟨c|ρ|c⟩`` of the samples to the dataset's ``centre``."""
    require("centre_fidelity", dataset, getattr(dataset, "centre", None) is not None, "it has no centre state")
    x, _ = _states("centre_fidelity", dataset, samples)
    c = dataset.centre.to(x.device, torch.complex128)
    return float(torch.einsum("i,nij,j->n", c.conj(), as_density(x).to(c.dtype), c).real.mean())


@METRICS.register("magnetisation")
def _magnetisation(*, model: Any, dataset: Any, samples: torch.Tensor, probs: Optional[torch.Tensor]) -> float:
    """Mean magnetisation ``M`` of the samples."""
    x, _ = _states("magnetisation", dataset, samples)
    return float(magnetisations(x).mean())


@METRICS.register("ordered_fraction")
def _ordered_fraction(*, model: Any, dataset: Any, samples: torch.Tensor, probs: Optional[torch.Tensor]) -> float:
    """Share of samples classified as ordered (``M`` above the critical ground state's) on TFIM data."""
    require("ordered_fraction", dataset, hasattr(dataset, "fields") and hasattr(dataset, "J"), "it is not TFIM data")
    x, _ = _states("ordered_fraction", dataset, samples)
    n = x.shape[-1].bit_length() - 1
    return float((magnetisations(x) > critical_magnetisation(n, dataset.J, dataset.periodic)).to(torch.float64).mean())


def _w1_metric(name: str, fn: Any, doc: str) -> None:
    def metric(*, model: Any, dataset: Any, samples: torch.Tensor, probs: Optional[torch.Tensor]) -> float:
        x, ref = _states(name, dataset, samples)
        return wasserstein_1d(fn(x), fn(ref))

    metric.__name__ = name
    metric.__doc__ = f"1-Wasserstein distance between the {doc} distributions of the samples and the data."
    METRICS.register(name)(metric)


_w1_metric("purity_w1", purities, "purity")
_w1_metric("entropy_w1", von_neumann_entropies, "von Neumann entropy")
_w1_metric("entanglement_w1", entanglement_entropies, "entanglement entropy")


@METRICS.register("validity_rate")
def _validity_rate(*, model: Any, dataset: Any, samples: torch.Tensor, probs: Optional[torch.Tensor]) -> float:
    """Share of samples that are physical states (Hermitian, unit trace, PSD within ``VALIDITY_TOL``)."""
    x, _ = _states("validity_rate", dataset, samples)
    return float(physical_validity(x)["valid"].to(torch.float64).mean())
