"""Does a transverse field let sampling tunnel out of local minima? SQA vs SA on rugged instances (issue 13).

The survey's claim (REPORT §3.3): the ``σ^x`` term "introduces quantum tunneling, allowing the system to
traverse energy barriers that would trap a classical thermal walker". Measured here, at equal numbers
of Monte Carlo sweeps, on two 16-spin instance families:

* **weak-strong cluster** (after Denchev et al., PRX 6, 031015 (2016)): two 8-spin ferromagnetic
  clusters (all-to-all ``J = −1`` inside), coupled spin by spin (``J = −1``); the strong cluster
  feels ``h = −1`` per spin, the weak one ``h = +0.44``. Ground state: all spins ``+1``
  (``E_0 = −68.48``); the weak cluster flipped against it is a false minimum ``8.96`` higher,
  separated by an 8-spin barrier. The instance is fixed; the seed drives the samplers.
* **Sherrington-Kirkpatrick ±1 glass**: ``J_ab = ±1`` i.i.d. (seeded), no fields.

Samplers (``qgm.samplers``): **SA** anneals ``β`` geometrically over dwave's default range for the
instance (``β_hot → β_cold``); **SQA** (path-integral, continuous imaginary time) keeps ``β`` fixed and
lowers ``Γ`` linearly to 0, in two settings: *matched* (``β = β_cold`` of SA, ``Γ_0 = 3``) and
*strong* (``β = 10``, ``Γ_0 = 5``). Per sweep count: probability of the exact ground state
(enumeration) over the reads, and the mean residual energy per spin ``(E − E_0)/N``.
"""
from __future__ import annotations

import time
from typing import Any

import numpy as np

from qgm.reproduce.base import CLAIMS, Claim

__all__ = ["weak_strong_cluster", "sk_glass", "tunnelling_runs", "SWEEPS", "READS", "SQA_SETTINGS"]

#: Sweep counts (one sweep = one Metropolis / worldline update per spin) and reads per point.
SWEEPS, READS = (10, 100, 500), 20
#: SQA settings: name -> (β, or None for SA's β_cold; initial transverse field Γ_0).
SQA_SETTINGS: dict[str, tuple[Any, float]] = {"matched": (None, 3.0), "strong": (10.0, 5.0)}


def weak_strong_cluster(k: int = 8, weak: float = 0.44, strong: float = -1.0) -> Any:
    """The weak-strong cluster pair on ``2k`` spins (weak cluster first; see the module docstring)."""
    from qgm.samplers import IsingProblem

    n = 2 * k
    h = np.concatenate([np.full(k, weak), np.full(k, strong)])
    J = np.zeros((n, n))
    for start in (0, k):
        block = np.triu(np.full((k, k), -1.0), 1)
        J[start:start + k, start:start + k] = block
    J[np.arange(k), k + np.arange(k)] = -1.0
    return IsingProblem(h, J, np.zeros(n))


def sk_glass(n: int, seed: int) -> Any:
    """A Sherrington-Kirkpatrick ±1 glass on ``n`` spins (couplings from ``default_rng(seed)``)."""
    from qgm.samplers import IsingProblem

    J = np.triu(np.random.default_rng(seed).choice([-1.0, 1.0], size=(n, n)), 1)
    return IsingProblem(np.zeros(n), J, np.zeros(n))


def _score(problem: Any, x: Any, e0: float) -> tuple[float, float]:
    e = problem.energies(x)
    return float(np.isclose(e, e0).mean()), float((e - e0).mean() / problem.n)


def tunnelling_runs(seed: int, quick: bool) -> dict[str, float]:
    """P(ground state) and residual energy per spin of SA and both SQA settings vs sweeps (both tunnelling claims
    read this one measurement)."""
    import torch
    from dwave.samplers.sa.sampler import _default_ising_beta_range

    from qgm.samplers import geometric_schedule, linear_schedule, path_integral_annealing, simulated_annealing

    torch.set_num_threads(1)
    sweeps = SWEEPS  # quick: the same sweeps on one seed
    out: dict[str, float] = {}
    for family, problem in (("wsc", weak_strong_cluster()), ("sk", sk_glass(16, seed))):
        bqm = problem.to_bqm()
        beta_hot, beta_cold = _default_ising_beta_range(bqm.linear, bqm.quadratic)
        e0 = problem.ground_energy()
        gen = torch.Generator().manual_seed(seed)
        for s in sweeps:
            start = time.process_time()
            x = simulated_annealing(problem, READS, geometric_schedule(beta_hot, beta_cold, s), generator=gen)
            out[f"{family}_sa_cpu@{s}"] = time.process_time() - start
            out[f"{family}_sa_p@{s}"], out[f"{family}_sa_res@{s}"] = _score(problem, x, e0)
            for name, (beta, gamma0) in SQA_SETTINGS.items():
                start = time.process_time()
                y = path_integral_annealing(problem, READS, linear_schedule(gamma0, 0.0, s),
                                            beta=beta_cold if beta is None else beta, generator=gen)
                out[f"{family}_sqa_{name}_cpu@{s}"] = time.process_time() - start
                out[f"{family}_sqa_{name}_p@{s}"], out[f"{family}_sqa_{name}_res@{s}"] = _score(problem, y, e0)
        last = sweeps[-1]
        for name in SQA_SETTINGS:
            out[f"{family}_{name}_minus_sa"] = out[f"{family}_sqa_{name}_p@{last}"] - out[f"{family}_sa_p@{last}"]
    return out


for _family, _label in (("wsc", "weak-strong cluster (16 spins)"), ("sk", "SK ±1 spin glass (16 spins)")):
    _name = f"tunnelling_{_family}"
    CLAIMS.register(_name)(Claim(
        name=_name, title=f"SQA finds the ground state of a {_label} more often than SA at equal sweeps",
        paper="survey claim (REPORT §3.3, QBM tunnelling); instances after Denchev et al., PRX 6, 031015 (2016)",
        metric=f"{_family}_strong_minus_sa", paper_value=None, threshold=0.0, direction="above",
        setting=f"{SWEEPS[-1]} sweeps, {READS} reads; SA geometric β over dwave's default range; SQA β = 10, Γ 5 → 0 "
                "linear (the 'matched' setting β = β_cold, Γ 3 → 0 is reported beside it)",
        convention="P(exact ground state) of SQA minus that of SA at the largest sweep count; one sweep = one update "
                   "per spin for both (a worldline sweep costs more CPU)",
        seeds=tuple(range(10)), quick_seeds=(0, 1, 2),  # per-seed values straddle the bar on the glass
        measure=tunnelling_runs, command=f"qgm reproduce {_name}"))
