"""Expressibility of a parametrised circuit (Sim, Johnson, Aspuru-Guzik, arXiv:1905.10876).

Draw pairs ``θ, φ ~ U[0, 2π)^P``, histogram the fidelities
``F = |⟨ψ_θ|ψ_φ⟩|²`` into ``bins`` equal bins on [0, 1], and compare with the
Haar distribution of ``F`` for ``N = 2**n``: ``P_Haar(F) = (N−1)(1−F)^{N−2}``,
whose bin masses are integrated exactly,
``(1−F_lo)^{N−1} − (1−F_hi)^{N−1}`` (computed in log space so that large ``N``
does not underflow). ``Expr = D_KL(P̂ ‖ P_Haar) = Σ_b P̂_b ln(P̂_b / P_Haar,b)``
in nats, bins with ``P̂_b = 0`` contributing 0. Lower means more expressive.

Finite-sample bias: even Haar-random states give ``Expr ≈ (#occupied bins −
1)/(2 · n_pairs)`` (≈ 0.0074 at 75 bins and 5000 pairs); report the pair and
bin counts with the number. An idle circuit gives exactly ``(N−1) ln(bins)``.
"""
from __future__ import annotations

from typing import Optional

import torch

from qgm.circuits.circuit import Circuit
from qgm.errors import ParameterError
from qgm.geometry.sampling import check_count, random_states, uniform_params

__all__ = ["fidelity_samples", "fidelity_histogram", "haar_log_masses", "kl_to_haar", "expressibility"]


def _check_bins(bins: int) -> None:
    if isinstance(bins, bool) or not isinstance(bins, int) or bins < 1:
        raise ParameterError(f"bins: expected a positive integer (Sim et al. use 75), got {bins!r}")


def fidelity_samples(
    circuit: Circuit,
    n_pairs: int = 5000,
    generator: Optional[torch.Generator] = None,
    *,
    shots: Optional[int] = None,
    inputs=None,
    dtype: torch.dtype = torch.complex128,
) -> torch.Tensor:
    """Fidelities ``(n_pairs,)`` float64 of independent pairs of random parameter draws.

    With ``shots`` each fidelity is estimated as on hardware by the
    compute–uncompute test ``U(φ)†U(θ)|0⟩``: the frequency of the all-zero
    outcome in ``shots`` runs, i.e. a Binomial(shots, F) draw divided by ``shots``.
    """
    check_count(n_pairs, "n_pairs")
    params = uniform_params(circuit, 2 * n_pairs, generator).reshape(n_pairs, 2, circuit.n_params)
    out = []
    for psi in random_states(circuit, params, inputs, dtype=dtype):
        overlap = (psi[:, 0].conj() * psi[:, 1]).sum(-1)
        out.append((overlap.real**2 + overlap.imag**2).to(torch.float64).clamp(0.0, 1.0))
    fids = torch.cat(out)
    if shots is None:
        return fids
    n = float(check_count(shots, "shots"))
    return torch.binomial(torch.full_like(fids, n), fids, generator=generator) / n


def fidelity_histogram(fidelities: torch.Tensor, bins: int = 75) -> torch.Tensor:
    """Empirical bin probabilities ``(bins,)`` of fidelities on [0, 1] (F = 1 falls in the last bin)."""
    _check_bins(bins)
    f = torch.as_tensor(fidelities, dtype=torch.float64).reshape(-1)
    if f.numel() == 0:
        raise ParameterError("fidelities: empty; give at least one fidelity")
    idx = torch.floor(f.clamp(0.0, 1.0) * bins).long().clamp_(max=bins - 1)
    return torch.bincount(idx, minlength=bins).to(torch.float64) / f.numel()


def haar_log_masses(n_qubits: int, bins: int = 75) -> torch.Tensor:
    """``ln`` of the Haar probability of each fidelity bin, ``(bins,)`` float64."""
    _check_bins(bins)
    m = float(2**n_qubits - 1)
    edges = torch.linspace(0.0, 1.0, bins + 1, dtype=torch.float64)
    lo, hi = torch.log1p(-edges[:-1]), torch.log1p(-edges[1:])  # ln(1 - F); -inf at F = 1
    # ln[(1-F_lo)^M - (1-F_hi)^M] = M ln(1-F_lo) + ln(1 - exp(M (ln(1-F_hi) - ln(1-F_lo))))
    return m * lo + torch.log(-torch.expm1(m * (hi - lo)))


def kl_to_haar(fidelities: torch.Tensor, n_qubits: int, bins: int = 75) -> float:
    """``D_KL(P̂ ‖ P_Haar)`` in nats of the fidelity histogram of ``n_qubits``-qubit states."""
    p = fidelity_histogram(fidelities, bins)
    log_q = haar_log_masses(n_qubits, bins)
    nz = p > 0
    return float((p[nz] * (torch.log(p[nz]) - log_q[nz])).sum())


def expressibility(
    circuit: Circuit,
    n_pairs: int = 5000,
    bins: int = 75,
    generator: Optional[torch.Generator] = None,
    *,
    shots: Optional[int] = None,
    inputs=None,
) -> float:
    """Sim et al.'s expressibility (KL divergence to Haar, nats) from ``n_pairs`` random pairs.

    Args:
        circuit: the ansatz; its trainable slots are drawn from U[0, 2π).
        n_pairs: number of fidelity samples (pairs of parameter draws).
        bins: histogram bins on [0, 1].
        generator: seeds the parameter draws (and the shot draws).
        shots: estimate each fidelity from this many compute–uncompute shots
            (:func:`fidelity_samples`); None = exact.
        inputs: values of the circuit's input slots, if any (held fixed).
    """
    _check_bins(bins)
    fids = fidelity_samples(circuit, n_pairs, generator, shots=shots, inputs=inputs)
    return kl_to_haar(fids, circuit.n_qubits, bins)
