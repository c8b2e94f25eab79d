"""Sinkhorn divergence (Feydy et al. arXiv:1810.08278; as a QCBM loss: Coyle et al.).

``OT_ε(α, β) = min_P ⟨P, C⟩ + ε KL(P ‖ α⊗β)`` and the debiased divergence
``S_ε(α, β) = OT_ε(α, β) − ½ OT_ε(α, α) − ½ OT_ε(β, β)`` with ``C`` the Hamming
distance between basis states (or the squared integer difference). ``S_ε(α, α)
= 0``; ε → 0 gives optimal transport, ε → ∞ gives ``−½ (α − β)ᵀ C (α − β)``
(MMD with kernel −C).

The potentials are computed on the supports of α and β by log-domain Sinkhorn
(alternating updates for ``(α, β)``, averaged symmetric updates for ``(α, α)``
and ``(β, β)``); then ``S = ⟨α, f_αβ − f_αα⟩ + ⟨β, g_αβ − g_ββ⟩``. By the
envelope theorem ``∂S/∂α(x) = φ(x) = f_αβ(x) − f_αα(x)`` (up to a constant that
cancels on the simplex; fixed here by ``⟨α, φ⟩ = 0``); φ is extended to every basis state by the soft
c-transform ``f(x) = −ε log Σ_j w_j exp((h_j − C(x, y_j)) / ε)``, because
parameter-shifted circuits put mass off the current support. The loss returns
``S`` with gradient ``Σ_x φ(x) ∂α(x)``, so every engine diff method (and
parameter shift with shots) gives the spec's ``½[E_{p⁺}φ − E_{p⁻}φ]``.
"""
from __future__ import annotations

import warnings
from typing import Any, NamedTuple, Optional

import torch

from qgm.errors import ConfigError, ResourceError
from qgm.losses.base import DistributionLoss, target_distribution
from qgm.losses.distance import check_distance, pairwise_distance
from qgm.registry import LOSSES

__all__ = ["SinkhornLoss", "SinkhornResult", "sinkhorn_divergence", "MAX_COST_ENTRIES"]

#: Largest cost block (entries) built at once: 2**26 float64 = 512 MiB.
MAX_COST_ENTRIES = 2**26


class SinkhornResult(NamedTuple):
    """Divergence ``value`` (0-d), gradient potential ``phi`` ``(2**n,)``, and whether all solves converged."""

    value: torch.Tensor
    phi: torch.Tensor
    converged: bool


def _softmin(eps: float, cost: torch.Tensor, log_w: torch.Tensor, h: torch.Tensor) -> torch.Tensor:
    """``−ε log Σ_j w_j exp((h_j − C_ij)/ε)`` for every row i of ``cost`` ``(I, J)``."""
    return -eps * torch.logsumexp(log_w + (h - cost) / eps, dim=-1)


def _cost(x: torch.Tensor, y: torch.Tensor, n_bits: int, distance: str) -> torch.Tensor:
    if x.numel() * y.numel() > MAX_COST_ENTRIES:
        raise ResourceError(
            f"sinkhorn: a {x.numel()} × {y.numel()} cost block exceeds {MAX_COST_ENTRIES} entries; "
            "use fewer qubits or shots (smaller supports)"
        )
    return pairwise_distance(x, y, n_bits, distance)


def _pair_potentials(
    log_a: torch.Tensor, log_b: torch.Tensor, cost: torch.Tensor, eps: float, max_iter: int, tol: float
) -> tuple[torch.Tensor, torch.Tensor, bool]:
    f = torch.zeros_like(log_a)
    g = _softmin(eps, cost.T, log_a, f)
    for _ in range(max_iter):
        f_new = _softmin(eps, cost, log_b, g)
        g = _softmin(eps, cost.T, log_a, f_new)
        err = float((f_new - f).abs().max())
        f = f_new
        if err < tol:
            return f, g, True
    return f, g, False


def _self_potential(
    log_a: torch.Tensor, cost: torch.Tensor, eps: float, max_iter: int, tol: float
) -> tuple[torch.Tensor, bool]:
    f = _softmin(eps, cost, log_a, torch.zeros_like(log_a))
    for _ in range(max_iter):
        f_new = 0.5 * (f + _softmin(eps, cost, log_a, f))
        err = float((f_new - f).abs().max())
        f = f_new
        if err < tol:
            return f, True
    return f, False


def sinkhorn_divergence(
    alpha: torch.Tensor,
    beta: torch.Tensor,
    n_bits: int,
    epsilon: float,
    distance: str = "hamming",
    max_iter: int = 2000,
    tol: float = 1e-10,
) -> SinkhornResult:
    """``S_ε(α, β)`` and its gradient potential for distributions ``(2**n,)`` over basis states.

    Computed without autograd; ``tol`` bounds the sup-norm change of a potential
    between iterations (same units as the cost).
    """
    with torch.no_grad():
        alpha = alpha.detach().to(torch.float64)
        beta = beta.to(device=alpha.device, dtype=torch.float64)
        xa = torch.nonzero(alpha > 0).reshape(-1)
        xb = torch.nonzero(beta > 0).reshape(-1)
        la, lb = alpha[xa].log(), beta[xb].log()
        f_ab, g_ab, ok_ab = _pair_potentials(la, lb, _cost(xa, xb, n_bits, distance), epsilon, max_iter, tol)
        f_aa, ok_aa = _self_potential(la, _cost(xa, xa, n_bits, distance), epsilon, max_iter, tol)
        g_bb, ok_bb = _self_potential(lb, _cost(xb, xb, n_bits, distance), epsilon, max_iter, tol)
        value = (alpha[xa] * (f_ab - f_aa)).sum() + (beta[xb] * (g_ab - g_bb)).sum()
        every = torch.arange(1 << n_bits, device=alpha.device)
        phi = _softmin(epsilon, _cost(every, xb, n_bits, distance), lb, g_ab) - _softmin(
            epsilon, _cost(every, xa, n_bits, distance), la, f_aa
        )
        phi = phi - (alpha * phi).sum()  # fix the free constant: ⟨α, φ⟩ = 0
    return SinkhornResult(value, phi, ok_ab and ok_aa and ok_bb)


class SinkhornLoss(DistributionLoss):
    """Sinkhorn divergence between the model and the data (exact or from shots).

    Args:
        n_bits: bits per data point.
        target: exact target distribution ``(2**n,)`` (used when ``batch`` is None).
        epsilon: entropic regularisation ε in cost units (bit flips for Hamming). Small ε
            (≲ 0.3 for Hamming costs) makes Sinkhorn converge very slowly, because
            supports at distance d couple only through ``exp(−d/ε)``.
        distance: cost ``"hamming"`` (default) or ``"integer"`` ((x−y)²).
        shots: model samples per evaluation (None: the model's ``shots``).
        max_iter, tol: Sinkhorn iteration limit and sup-norm tolerance on the potentials.
        seed: seed of the generator for the shots.
    """

    name = "sinkhorn"

    def __init__(
        self,
        n_bits: int,
        target: Any,
        *,
        epsilon: float = 1.0,
        distance: str = "hamming",
        shots: Optional[int] = None,
        max_iter: int = 2000,
        tol: float = 1e-10,
        seed: int = 0,
    ) -> None:
        super().__init__(n_bits, target, shots, seed)
        if not float(epsilon) > 0:
            raise ConfigError(f"epsilon: expected a positive regularisation, got {epsilon}")
        self.epsilon = float(epsilon)
        self.distance = check_distance(distance)
        self.max_iter = int(max_iter)
        self.tol = float(tol)
        self.converged = True

    def forward(self, model: Any, batch: Optional[torch.Tensor]) -> torch.Tensor:
        p = self.model_distribution(model, self.resolved_shots(model))
        q = self.data_distribution(batch, p.device)
        res = sinkhorn_divergence(p, q, self.n_bits, self.epsilon, self.distance, self.max_iter, self.tol)
        if not res.converged and self.converged:
            warnings.warn(
                f"sinkhorn: potentials not converged in max_iter={self.max_iter} iterations at "
                f"epsilon={self.epsilon:g}; raise epsilon or max_iter",
                stacklevel=3,
            )
        self.converged = res.converged
        return res.value + (res.phi * (p - p.detach())).sum()


@LOSSES.register("sinkhorn")
def sinkhorn(
    dataset: Any,
    epsilon: float = 1.0,
    distance: str = "hamming",
    shots: Optional[int] = None,
    max_iter: int = 2000,
    tol: float = 1e-10,
    seed: int = 0,
) -> SinkhornLoss:
    """Registered factory: :class:`SinkhornLoss` against ``dataset``'s target."""
    return SinkhornLoss(
        dataset.n_bits, target_distribution(dataset), epsilon=epsilon, distance=distance, shots=shots,
        max_iter=max_iter, tol=tol, seed=seed,
    )
