"""Annealing-style samplers on :class:`~qgm.samplers.ising.IsingProblem`: exact, simulated
annealing and path-integral (simulated quantum) annealing through D-Wave's ``dwave-samplers``.

Every sampler returns the same tensor as every ``Bits`` model: a LongTensor ``(num_reads,)`` of
basis indices (wire 0 = most significant bit, spin ``+1`` = bit 0).

* **Simulated annealing** (``SimulatedAnnealingSampler``): per sweep, Metropolis flips of every
  spin at inverse temperature ``β_k``; ``β`` follows ``beta_schedule`` (one value per sweep).
  A constant schedule ``[β] * sweeps`` is Metropolis MCMC at ``β``, i.e. Boltzmann sampling of
  the classical part.
* **Path-integral annealing** (``PathIntegralAnnealingSampler``): continuous-imaginary-time
  worldline Monte Carlo of ``βH(s) = A_k (Σ h Z + Σ J ZZ) − B_k Σ X`` with the schedules
  ``A_k = β·problem_schedule[k]`` (dwave's ``Hp_field``) and ``B_k = β·Γ_k`` (``Hd_field``),
  one sweep per point; the returned spins are one imaginary-time slice, i.e. measurements in
  the Z basis. Constant schedules ``Γ_k = Γ`` sample the diagonal of ``e^{−βH}/Z``; a decreasing
  ``Γ_k`` is quantum annealing at fixed temperature.
"""
from __future__ import annotations

from typing import Any, Optional, Sequence

import numpy as np
import torch

from qgm.errors import ConfigError, ParameterError
from qgm.samplers.ising import IsingProblem, dwave
from qgm.sim.hamiltonian import check_beta, gibbs_state

__all__ = [
    "SAMPLERS", "simulated_annealing", "path_integral_annealing", "sample_thermal", "worldline_breaks",
    "geometric_schedule", "linear_schedule", "seed_from",
]

#: Sampler names of :func:`sample_thermal` (and ``qgm sample --sampler``).
SAMPLERS = ("exact", "sa", "sqa")


def seed_from(generator: Optional[torch.Generator]) -> int:
    """A 31-bit integer seed for the C samplers, drawn from ``generator`` (fresh entropy if None)."""
    return int(torch.randint(0, 2**31 - 1, (1,), generator=generator))


def _positive(value: Any, field: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ParameterError(f"{field}: expected a positive integer, got {value!r}")
    return int(value)


def _schedule(values: Sequence[float], field: str) -> np.ndarray:
    arr = np.asarray(values, dtype=np.float64).reshape(-1)
    if arr.size == 0 or not np.all(np.isfinite(arr)) or np.any(arr < 0):
        raise ParameterError(f"{field}: expected a non-empty sequence of finite values >= 0, got {values!r}")
    return arr


def geometric_schedule(start: float, stop: float, points: int) -> np.ndarray:
    """``points`` values from ``start`` to ``stop`` (both > 0), evenly spaced in log."""
    return np.geomspace(start, stop, _positive(points, "points"))


def linear_schedule(start: float, stop: float, points: int) -> np.ndarray:
    """``points`` values from ``start`` to ``stop``, evenly spaced."""
    return np.linspace(start, stop, _positive(points, "points"))


def _indices(sampleset: Any, n: int) -> torch.Tensor:
    """Basis indices ``(reads,)`` of a dimod SampleSet over variables ``0..n−1`` (occurrences expanded)."""
    labels = list(sampleset.variables)
    cols = [labels.index(a) for a in range(n)]
    spins = np.repeat(sampleset.record.sample[:, cols], sampleset.record.num_occurrences, axis=0)
    bits = (1 - spins.astype(np.int64)) // 2
    return torch.as_tensor(bits @ (1 << np.arange(n - 1, -1, -1, dtype=np.int64)))


def simulated_annealing(
    problem: IsingProblem, num_reads: int, beta_schedule: Sequence[float], *,
    generator: Optional[torch.Generator] = None,
) -> torch.Tensor:
    """``num_reads`` independent anneals, one Metropolis sweep at each ``β`` of ``beta_schedule`` (random
    initial spins); the final states as basis indices ``(num_reads,)``."""
    sampler = dwave("dwave.samplers").SimulatedAnnealingSampler()
    betas = _schedule(beta_schedule, "beta_schedule")
    ss = sampler.sample(problem.to_bqm(), num_reads=_positive(num_reads, "num_reads"), beta_schedule_type="custom",
                        beta_schedule=betas, num_sweeps_per_beta=1, seed=seed_from(generator))
    return _indices(ss, problem.n)


def _pimc(problem: IsingProblem, num_reads: int, beta: float, gamma_schedule: Sequence[float],
          problem_schedule: Optional[Sequence[float]], generator: Optional[torch.Generator],
          project_worldlines: bool) -> Any:
    beta = check_beta(beta)
    gammas = _schedule(gamma_schedule, "gamma_schedule")
    scale = np.ones_like(gammas) if problem_schedule is None else _schedule(problem_schedule, "problem_schedule")
    if scale.shape != gammas.shape:
        raise ParameterError(f"problem_schedule: expected {gammas.size} values (one per gamma_schedule point), "
                             f"got {scale.size}")
    sampler = dwave("dwave.samplers").PathIntegralAnnealingSampler()
    return sampler.sample(problem.to_bqm(), num_reads=_positive(num_reads, "num_reads"), beta_schedule_type="custom",
                          Hp_field=beta * scale, Hd_field=beta * gammas, num_sweeps_per_beta=1,
                          seed=seed_from(generator), project_states=(True, project_worldlines))


def path_integral_annealing(
    problem: IsingProblem, num_reads: int, gamma_schedule: Sequence[float], *, beta: float = 1.0,
    problem_schedule: Optional[Sequence[float]] = None, generator: Optional[torch.Generator] = None,
) -> torch.Tensor:
    """``num_reads`` path-integral anneals at inverse temperature ``beta``: one sweep at each transverse
    field ``Γ_k`` of ``gamma_schedule`` (the problem's own ``gamma`` is ignored), with the classical part
    scaled by ``problem_schedule[k]`` (default 1). Final Z-basis measurements as basis indices."""
    return _indices(_pimc(problem, num_reads, beta, gamma_schedule, problem_schedule, generator, True), problem.n)


def worldline_breaks(problem: IsingProblem, num_reads: int, gamma: float, sweeps: int, *, beta: float = 1.0,
                     generator: Optional[torch.Generator] = None) -> tuple[torch.Tensor, np.ndarray]:
    """Thermal path-integral samples at fixed ``Γ`` and ``β``: (basis indices ``(reads,)``, number of
    worldline breaks ``(reads, n)``). In continuous imaginary time ``⟨σ^x_a⟩ = E[breaks_a] / (βΓ)``."""
    ss = _pimc(problem, num_reads, beta, [gamma] * _positive(sweeps, "sweeps"), None, generator, False)
    labels = list(ss.variables)
    breaks = np.asarray(ss.info["num_breaks"])[:, [labels.index(a) for a in range(problem.n)]]
    return _indices(ss, problem.n), breaks


def sample_thermal(
    problem: IsingProblem, num_reads: int, sampler: str = "exact", *, beta: float = 1.0, sweeps: int = 1000,
    generator: Optional[torch.Generator] = None,
) -> torch.Tensor:
    """``num_reads`` Z-basis samples of the Gibbs state ``e^{−βH}/Z`` of ``problem``.

    ``"exact"``: i.i.d. draws from the exact diagonal (dense, up to 12 spins with a transverse
    field, 24 without); ``"sa"``: ``sweeps`` Metropolis sweeps at ``β`` of the **classical part
    only** (``Γ`` ignored: exact only in the classical limit); ``"sqa"``: ``sweeps`` path-integral
    sweeps at ``β`` and the problem's (uniform) ``Γ``.
    """
    beta = check_beta(beta)
    if sampler == "exact":
        if float(np.abs(problem.gamma).max(initial=0.0)) == 0.0:
            p = torch.as_tensor(problem.boltzmann(beta))
        else:
            p = gibbs_state(problem.terms(), beta).diagonal().real.clamp_min(0.0)
        return torch.multinomial(p, _positive(num_reads, "num_reads"), replacement=True, generator=generator)
    if sampler == "sa":
        return simulated_annealing(problem, num_reads, [beta] * _positive(sweeps, "sweeps"), generator=generator)
    if sampler == "sqa":
        gamma = problem.uniform_gamma
        if gamma == 0.0:
            raise ConfigError("sampler 'sqa': the problem has no transverse field (Γ = 0); use sampler 'sa' "
                              "for a classical Boltzmann distribution")
        return path_integral_annealing(problem, num_reads, [gamma] * _positive(sweeps, "sweeps"), beta=beta,
                                       generator=generator)
    raise ConfigError(f"sampler: expected one of {SAMPLERS}, got {sampler!r}")
