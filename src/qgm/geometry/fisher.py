"""Classical Fisher information of a Born machine's output distribution.

``F_ij(θ) = Σ_x ∂_i p_θ(x) ∂_j p_θ(x) / p_θ(x)`` over outcomes with
``p_θ(x) > tol`` (zero-probability outcomes carry no information at a regular
point). The probability Jacobian is exact: ``∂_i p = 2 Re(ψ̄ ∂_iψ)`` from the
state Jacobian, marginalised onto the measured wires. A computational-basis
measurement cannot beat the quantum Fisher information: ``F ≤ 4g`` (as
matrices), with equality e.g. for ``RY(θ)|0⟩`` measured in Z.
"""
from __future__ import annotations

from typing import Optional, Sequence

import torch

from qgm.circuits.circuit import Circuit
from qgm.geometry.jacobian import BoundAngles, jacobian_rows
from qgm.sim.engine import marginal

__all__ = ["classical_fisher", "probability_jacobian"]

#: Outcomes with probability at or below this are left out of the Fisher sum.
PROB_TOL = 1e-14


def probability_jacobian(
    circuit: Circuit,
    params,
    inputs=None,
    *,
    wires: Optional[Sequence[int]] = None,
    dtype: torch.dtype = torch.complex128,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Born probabilities ``(*batch, 2**k)`` over ``wires`` (default all) and their Jacobian ``(*batch, 2**k, P)``."""
    bound = BoundAngles(circuit, params, inputs, dtype)
    psi, rows = jacobian_rows(circuit, bound)
    n, b, n_par = circuit.n_qubits, bound.size, circuit.n_params
    ws = list(range(n)) if wires is None else [int(w) for w in wires]
    p = marginal(psi.real**2 + psi.imag**2, ws, n)
    dp_rows = 2 * (psi.conj().unsqueeze(1) * rows).real  # (B, P, D)
    dp_rows = marginal(dp_rows.reshape(b * n_par, -1), ws, n).reshape(b, n_par, -1)
    k = p.shape[-1]
    return p.reshape(*bound.batch, k), dp_rows.transpose(1, 2).reshape(*bound.batch, k, n_par)


def classical_fisher(
    circuit: Circuit,
    params,
    inputs=None,
    *,
    wires: Optional[Sequence[int]] = None,
    tol: float = PROB_TOL,
    dtype: torch.dtype = torch.complex128,
) -> torch.Tensor:
    """Fisher information ``(*batch, P, P)`` of the computational-basis outcome distribution on ``wires``.

    Units: per single measurement shot (multiply by the number of shots for a
    data set). ``tol`` drops outcomes with ``p ≤ tol`` from the sum.
    """
    p, dp = probability_jacobian(circuit, params, inputs, wires=wires, dtype=dtype)
    keep = p > tol
    inv = torch.where(keep, 1 / torch.where(keep, p, torch.ones_like(p)), torch.zeros_like(p))
    f = dp.transpose(-1, -2) @ (dp * inv.unsqueeze(-1))
    return (f + f.transpose(-1, -2)) / 2
