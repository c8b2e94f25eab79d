"""The Fubini–Study metric (real part of the quantum geometric tensor) and the
quantum Fisher information of a circuit's pure output state.

``g_ij = Re[⟨∂_iψ|∂_jψ⟩ − ⟨∂_iψ|ψ⟩⟨ψ|∂_jψ⟩]`` with derivatives taken with
respect to the circuit's trainable slots (Stokes et al., Quantum 4, 269).
``g`` is real, symmetric, positive semi-definite and blind to global phases;
single rotation blocks are at most 1/4 (generators ``X/2`` …). The quantum
Fisher information is ``4g``.

Approximations (``approx=``), as PennyLane's ``qml.metric_tensor``:

* ``None``: the full metric from the exact state Jacobian
  (:func:`qgm.geometry.state_jacobian`);
* ``"block-diag"``: per parametrised layer (:func:`parametrized_layers`;
  ``layering="pennylane"`` by default, ``"depth"`` for the fewest, largest layers), the
  covariance ``⟨K_iK_j⟩ − ⟨K_i⟩⟨K_j⟩`` of the layer's generators in the state
  before the layer; entries between layers are zero;
* ``"diag"``: only the variances ``⟨K_i²⟩ − ⟨K_i⟩²``.

Both approximations are computed per angle occurrence and mapped to slots by
``g_slot = Aᵀ g_occ A`` with ``A[o, s] = dφ_o/dθ_s`` (what PennyLane does with the
classical Jacobian), so a slot shared by gates of several layers couples them.
"""
from __future__ import annotations

from typing import Optional

import torch

from qgm.circuits.circuit import Circuit
from qgm.errors import ParameterError
from qgm.geometry.jacobian import BoundAngles, jacobian_rows
from qgm.geometry.layers import parametrized_layers, slot_map
from qgm.sim.engine import state
from qgm.sim.kernels import WiresKernel

__all__ = ["APPROXIMATIONS", "fubini_study", "metric_tensor", "quantum_fisher"]

APPROXIMATIONS = (None, "block-diag", "diag")


def fubini_study(psi: torch.Tensor, jac: torch.Tensor) -> torch.Tensor:
    """Metric ``(..., P, P)`` of a normalised state ``psi`` ``(..., D)`` with Jacobian ``jac`` ``(..., D, P)``."""
    return _from_rows(psi, jac.transpose(-1, -2))


def _from_rows(psi: torch.Tensor, rows: torch.Tensor) -> torch.Tensor:
    """Metric from Jacobian rows ``(..., P, D)`` (row ``i`` = ``∂_iψ``)."""
    a = (rows @ psi.conj().unsqueeze(-1)).squeeze(-1)  # a_i = ⟨ψ|∂_iψ⟩
    g = (rows.conj() @ rows.transpose(-1, -2)).real - (a.conj().unsqueeze(-1) * a.unsqueeze(-2)).real
    return (g + g.transpose(-1, -2)) / 2


def _check_approx(approx: Optional[str]) -> None:
    if approx not in APPROXIMATIONS:
        raise ParameterError(f"approx must be one of {APPROXIMATIONS}, got {approx!r}")


def _layered(circuit: Circuit, bound: BoundAngles, diagonal: bool, layering: str) -> torch.Tensor:
    """Block-diagonal (or diagonal) metric in slot space, ``(B, P, P)``."""
    layers = parametrized_layers(circuit, layering)
    n, b = circuit.n_qubits, bound.size
    a = torch.as_tensor(slot_map(circuit, layers), dtype=bound.params.dtype, device=bound.device)
    g_occ = torch.zeros(b, a.shape[0], a.shape[0], dtype=bound.params.dtype, device=bound.device)
    start = 0
    for layer in layers:
        psi = state(layer.prefix, bound.params, bound.inputs, dtype=bound.dtype)
        kv = torch.stack(
            [
                WiresKernel(n, g.wires).apply(psi, g.matrix.to(dtype=bound.dtype, device=bound.device)[None])
                for g in layer.generators
            ],
            1,
        )  # (B, m, D): K_i|ψ_ℓ⟩
        mean = (kv @ psi.conj().unsqueeze(-1)).squeeze(-1).real  # ⟨K_i⟩ (Hermitian: real)
        m = kv.shape[1]
        idx = torch.arange(start, start + m, device=bound.device)
        if diagonal:
            var = (kv.conj() * kv).real.sum(-1) - mean**2
            g_occ[:, idx, idx] = var
        else:
            cov = (kv.conj() @ kv.transpose(1, 2)).real - mean.unsqueeze(-1) * mean.unsqueeze(-2)
            g_occ[:, start : start + m, start : start + m] = (cov + cov.transpose(1, 2)) / 2
        start += m
    return a.T @ g_occ @ a


def metric_tensor(
    circuit: Circuit,
    params,
    approx: Optional[str] = None,
    *,
    inputs=None,
    layering: str = "pennylane",
    dtype: torch.dtype = torch.complex128,
) -> torch.Tensor:
    """Fubini–Study metric of ``circuit``'s output state with respect to its trainable slots.

    Args:
        circuit: the circuit (any catalogue gates; input slots are held at ``inputs``).
        params: ``(*bp, P)`` trainable slots (radians).
        approx: ``None`` (full), ``"block-diag"`` or ``"diag"`` (see the module docstring).
        inputs: ``(*bi, I)`` input slots, broadcast with ``params``.
        layering: layers of the approximations, ``"pennylane"`` or ``"depth"``
            (:func:`~qgm.geometry.parametrized_layers`); ignored by the full metric.
        dtype: simulation precision, complex128 (default) or complex64.
    Returns:
        ``(*batch, P, P)`` real symmetric PSD tensor (float64 for complex128), no autograd graph.
    """
    _check_approx(approx)
    bound = BoundAngles(circuit, params, inputs, dtype)
    if approx is None:
        g = _from_rows(*jacobian_rows(circuit, bound))
    else:
        g = _layered(circuit, bound, approx == "diag", layering)
    return g.reshape(*bound.batch, circuit.n_params, circuit.n_params)


def quantum_fisher(
    circuit: Circuit,
    params,
    approx: Optional[str] = None,
    *,
    inputs=None,
    layering: str = "pennylane",
    dtype: torch.dtype = torch.complex128,
) -> torch.Tensor:
    """Quantum Fisher information ``4 g`` ``(*batch, P, P)`` of the pure output state (see :func:`metric_tensor`)."""
    return 4 * metric_tensor(circuit, params, approx, inputs=inputs, layering=layering, dtype=dtype)
