"""AdaInit (after Zhuang & Guan, arXiv:2502.13166): an adaptive search for a starting
point of large gradient variance, registered as the ``adainit`` init strategy.

**Deviation:** the paper's proposal generator is a large language model prompted
with the problem and the history; here it is a classical Gaussian proposal
refitted to the best candidates of each round (cross-entropy method). See
:func:`adainit_search`.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Callable, Union

import torch

from qgm.circuits import Circuit
from qgm.circuits.init import register_init
from qgm.errors import ConfigError

__all__ = ["adainit_search", "AdaInitResult"]


@dataclass
class AdaInitResult:
    """Outcome of :func:`adainit_search`: best angles, their score, and the per-round history
    (``round, best_candidate_score, accepted, best_score, proposal_scale``)."""

    theta: torch.Tensor
    score: float
    history: list[dict] = field(default_factory=list)


def _gradient_scores(circuit: Circuit, theta: torch.Tensor, cost: Any, statistic: str) -> torch.Tensor:
    from qgm.trainability.gradients import values_and_gradients

    _, grads = values_and_gradients(circuit, theta, [cost], list(range(circuit.n_params)), method="adjoint")
    g = grads[0]
    return g.var(dim=1) if statistic == "variance" else (g**2).mean(dim=1)


def adainit_search(
    circuit: Circuit,
    generator: torch.Generator,
    cost: Union[str, dict, Callable[[torch.Tensor], torch.Tensor]] = "local",
    candidates: int = 16,
    rounds: int = 20,
    patience: int = 5,
    elite: float = 0.25,
    scale: float = math.pi / 2,
    statistic: str = "variance",
) -> AdaInitResult:
    """AdaInit with a cross-entropy-method proposal in place of the paper's LLM.

    Round ``t``: draw ``candidates`` angle vectors from ``N(μ, s²)`` (``μ = 0``,
    ``s = scale`` at start), score them all in one batched engine call:
    ``V(θ)`` = variance across slots of ``∇C(θ)`` (``statistic="variance"``) or
    the mean squared gradient (``"norm"``), for ``cost`` (a scan cost spec,
    default the local cost, or a callable states ``(B, 2**n)`` -> ``(B,)``).
    The best candidate is accepted if ``V_t > V*`` (so ``V*`` is non-decreasing
    and bounded: the submartingale argument of the paper); ``μ, s`` are refitted
    to the top ``elite`` fraction of all scored candidates so far (CEM). Stops
    after ``rounds`` rounds or ``patience`` rounds without acceptance. The
    scoring protocol (cost, statistic, exact gradients) is fixed across rounds.
    """
    from qgm.trainability.costs import ScanCost, parse_cost

    if statistic not in ("variance", "norm"):
        raise ConfigError(f"statistic: expected 'variance' or 'norm', got {statistic!r}")
    if candidates < 2 or rounds < 1 or patience < 1 or not 0 < elite <= 1:
        raise ConfigError(
            f"adainit: need candidates >= 2, rounds >= 1, patience >= 1, 0 < elite <= 1; got "
            f"{candidates}, {rounds}, {patience}, {elite}"
        )
    score_cost = (
        ScanCost(circuit.n_qubits, lambda p: cost(p)) if callable(cost) and not isinstance(cost, (str, dict))
        else parse_cost(cost).build(circuit.n_qubits)
    )
    p = circuit.n_params
    mu, s = torch.zeros(p, dtype=torch.float64), torch.full((p,), float(scale), dtype=torch.float64)
    best_theta, best, stale = mu.clone(), -math.inf, 0
    pool_theta, pool_score = torch.zeros(0, p, dtype=torch.float64), torch.zeros(0, dtype=torch.float64)
    history = []
    for t in range(rounds):
        theta = mu + s * torch.randn(candidates, p, dtype=torch.float64, generator=generator)
        scores = _gradient_scores(circuit, theta, score_cost, statistic)
        j = int(scores.argmax())
        accepted = float(scores[j]) > best
        if accepted:
            best_theta, best, stale = theta[j].clone(), float(scores[j]), 0
        else:
            stale += 1
        pool_theta, pool_score = torch.cat([pool_theta, theta]), torch.cat([pool_score, scores])
        top = pool_theta[pool_score.argsort(descending=True)[: max(2, math.ceil(elite * len(pool_score)))]]
        mu, s = top.mean(0), top.std(0).clamp_min(1e-3)
        history.append({"round": t, "best_candidate_score": float(scores[j]), "accepted": accepted,
                        "best_score": best, "proposal_scale": float(s.mean())})
        if stale >= patience:
            break
    return AdaInitResult(best_theta, best, history)


@register_init("adainit")
def _adainit(circuit: Circuit, generator: torch.Generator, **options: Any) -> torch.Tensor:
    """Angles found by :func:`adainit_search` (options passed through)."""
    return adainit_search(circuit, generator, **options).theta
