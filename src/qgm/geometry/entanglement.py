"""Entanglement of pure states: bipartite entropies, Meyer–Wallach Q and the
entangling capability of a circuit.

* ``entanglement_entropy``: von Neumann (``alpha=1``) or Rényi-α entropy of the
  reduced state ``ρ_A`` of any subsystem ``A``, from the Schmidt spectrum
  (eigenvalues of the smaller of ``M M†`` and ``M† M`` with ``M`` the state
  reshaped ``2^|A| × 2^(n−|A|)``). Natural log by default (a Bell pair has
  ``ln 2`` nats); ``base=2`` gives bits.
* ``meyer_wallach``: ``Q(ψ) = 2 (1 − (1/n) Σ_k Tr ρ_k²)`` ∈ [0, 1] (Meyer &
  Wallach 2002 in Brennen's form): 0 for product states, 1 for GHZ.
* ``entangling_capability``: mean ``Q`` over states of random parameter
  draws ``θ ~ U[0, 2π)^P`` (Sim et al.).

States are ``(..., 2**n)`` complex tensors, wire 0 = most significant bit;
everything is batched over the leading dimensions.
"""
from __future__ import annotations

import math
from typing import Optional, Sequence

import torch

from qgm.circuits.circuit import Circuit
from qgm.errors import ParameterError
from qgm.geometry.sampling import random_states, uniform_params

__all__ = [
    "reduced_density_matrix",
    "schmidt_spectrum",
    "entanglement_entropy",
    "meyer_wallach",
    "entangling_capability",
]

#: Schmidt weights at or below this count as zero (Rényi-0 / rank).
SPECTRUM_TOL = 1e-12


def _n_qubits(state: torch.Tensor) -> int:
    if not isinstance(state, torch.Tensor) or state.dim() < 1:
        raise ParameterError(f"state: expected a tensor (..., 2**n), got {type(state).__name__}")
    d = state.shape[-1]
    n = d.bit_length() - 1
    if d < 2 or 1 << n != d:
        raise ParameterError(f"state: last dimension must be 2**n with n >= 1, got {d}")
    return n


def _bipartition(state: torch.Tensor, subsystem: Sequence[int]) -> torch.Tensor:
    """The state as ``(B, 2^|A|, 2^(n−|A|))`` with the wires of ``subsystem`` (in order) first."""
    n = _n_qubits(state)
    a = [int(w) for w in subsystem]
    if len(set(a)) != len(a) or not all(0 <= w < n for w in a):
        raise ParameterError(f"subsystem: expected distinct wires in 0..{n - 1}, got {list(subsystem)}")
    rest = [w for w in range(n) if w not in a]
    psi = state.reshape(-1, *([2] * n)).permute(0, *[1 + w for w in a + rest])
    return psi.reshape(psi.shape[0], 1 << len(a), 1 << len(rest))


def reduced_density_matrix(state: torch.Tensor, subsystem: Sequence[int]) -> torch.Tensor:
    """``ρ_A = Tr_{rest} |ψ⟩⟨ψ|`` ``(..., 2^|A|, 2^|A|)``; the first wire of ``subsystem`` is the MSB."""
    m = _bipartition(state, subsystem)
    rho = m @ m.conj().transpose(1, 2)
    return rho.reshape(*state.shape[:-1], *rho.shape[1:])


def schmidt_spectrum(state: torch.Tensor, subsystem: Sequence[int]) -> torch.Tensor:
    """Eigenvalues of ``ρ_A`` (squared Schmidt coefficients), ``(..., min(2^|A|, 2^(n−|A|)))``, normalised to sum 1."""
    m = _bipartition(state, subsystem)
    gram = m @ m.conj().transpose(1, 2) if m.shape[1] <= m.shape[2] else m.conj().transpose(1, 2) @ m
    w = torch.linalg.eigvalsh(gram).clamp(min=0.0)
    w = w / w.sum(-1, keepdim=True)
    return w.reshape(*state.shape[:-1], w.shape[-1])


def entanglement_entropy(
    state: torch.Tensor,
    subsystem: Sequence[int],
    alpha: float = 1,
    base: float = math.e,
) -> torch.Tensor:
    """Entanglement entropy ``(...,)`` of the reduced state of ``subsystem``.

    Args:
        state: pure states ``(..., 2**n)`` (normalised; the spectrum is renormalised).
        subsystem: wires of ``A`` (any order, distinct).
        alpha: 1 = von Neumann ``−Tr ρ ln ρ``; otherwise Rényi ``ln(Tr ρ^α)/(1−α)``
            (``0``: log of the Schmidt rank, ``inf``: ``−ln λ_max``).
        base: logarithm base (default e: nats; 2: bits).
    """
    if not isinstance(alpha, (int, float)) or isinstance(alpha, bool) or alpha < 0 or math.isnan(alpha):
        raise ParameterError(f"alpha: expected a Rényi order >= 0 (1 = von Neumann, inf allowed), got {alpha!r}")
    if not isinstance(base, (int, float)) or base <= 0 or base == 1:
        raise ParameterError(f"base: expected a logarithm base > 0 and != 1 (e or 2), got {base!r}")
    p = schmidt_spectrum(state, subsystem)
    if alpha == 1:
        s = -torch.where(p > 0, p * torch.log(torch.where(p > 0, p, torch.ones_like(p))), torch.zeros_like(p)).sum(-1)
    elif alpha == 0:
        s = torch.log((p > SPECTRUM_TOL).sum(-1).to(p.dtype))
    elif math.isinf(alpha):
        s = -torch.log(p.max(-1).values)
    else:
        s = torch.log((p**alpha).sum(-1)) / (1 - alpha)
    return s / math.log(base)


def meyer_wallach(state: torch.Tensor) -> torch.Tensor:
    """Meyer–Wallach ``Q`` ``(...,)`` of pure states ``(..., 2**n)``: mean single-qubit linear entropy × 2."""
    n = _n_qubits(state)
    psi = state.reshape(-1, 1 << n)
    purity = torch.zeros(psi.shape[0], dtype=psi.real.dtype, device=psi.device)
    for k in range(n):
        x = psi.reshape(psi.shape[0], 1 << k, 2, 1 << (n - k - 1))
        rho = torch.einsum("baic,bajc->bij", x, x.conj())
        purity = purity + (rho.real**2 + rho.imag**2).sum((-1, -2))
    q = (2 * (1 - purity / n)).clamp(0.0, 1.0)  # rounding can leave ±1e-15 outside [0, 1]
    return q.reshape(state.shape[:-1])


def entangling_capability(
    circuit: Circuit,
    n_samples: int = 5000,
    generator: Optional[torch.Generator] = None,
    *,
    inputs=None,
) -> float:
    """Mean Meyer–Wallach ``Q`` over ``n_samples`` states with parameters drawn from U[0, 2π)."""
    params = uniform_params(circuit, n_samples, generator)
    total = sum(float(meyer_wallach(psi).sum()) for psi in random_states(circuit, params, inputs))
    return total / n_samples
