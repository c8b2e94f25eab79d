"""Conditional sampling of a prepared state by amplitude amplification (and by rejection).

A circuit ``A`` (e.g. a trained Born machine) prepares ``|ψ⟩ = A|0…0⟩``; a
:class:`~qgm.circuits.conditions.Condition` accepts some basis states, with
acceptance probability ``p = ‖Π|ψ⟩‖²`` (``Π`` the projector on accepted states).
Rejection sampling prepares and measures ``|ψ⟩`` about ``1/p`` times per accepted
sample. Amplitude amplification (Brassard, Høyer, Mosca & Tapp 2002) applies
generalised Grover iterates

    ``G(α, β) = -A S_0(α) A† S_f(β)``,  ``S_f(β) = I - (1 - e^{iβ}) Π``,
    ``S_0(α) = I - (1 - e^{iα}) |0…0⟩⟨0…0|``

(standard Grover: ``α = β = π``) before measuring, so about ``1/√p`` applications
of ``A`` or ``A†`` (*queries*) buy one accepted sample. Every iterate keeps the
state in the plane of ``Π|ψ⟩`` and ``(I - Π)|ψ⟩``, so an accepted outcome is
distributed exactly as the conditional ``|⟨x|ψ⟩|² / p``: amplification changes how
often a shot is accepted, never what an accepted shot is.

Schedules (:data:`SCHEDULES`):

* ``"reject"``: no iterate (``k = 0``), one query per shot;
* ``"grover"`` (known ``p``): ``k = ⌊π / (4 arcsin √p)⌋`` standard iterates;
* ``"zero_failure"`` (known ``p``): ``k = ⌈π / (4θ) - 1/2⌉`` iterates with the phase
  ``φ = 2 arcsin(sin(π / (4k + 2)) / sin θ)`` on both reflections (Long, PRA 64,
  022307, 2001): success probability exactly 1;
* ``"bbht"`` (unknown ``p``): the exponential search of Boyer, Brassard, Høyer &
  Tapp (Fortschr. Phys. 46, 493, 1998): for each sample, ``m = 1``; repeat: draw ``j``
  uniformly in ``{0, …, ⌈m⌉ - 1}``, measure ``G^j|ψ⟩``, stop if accepted, else
  ``m ← growth · m`` (``growth = 6/5``);
* ``"fixed_point"`` (a lower bound ``p_min``): the fixed-point search of Yoder, Low
  & Chuang (PRL 113, 210501, 2014): ``l`` iterates with phases ``α_j = -β_{l-j+1} =
  2 cot⁻¹(tan(2πj/L) √(1 - γ²))``, ``L = 2l + 1``, ``γ⁻¹ = T_{1/L}(1/δ)``; for every
  ``p ≥ p_min`` the success probability is ``1 - δ² T_L(√(1 - p)/γ)² ≥ 1 - δ²``: it
  cannot overshoot.

The iterates run on the engine's public API: ``A`` and ``A†`` are
``sim.state(circuit, params, initial_state=ψ)`` of the circuit and its inverse,
the reflections are diagonal phase multiplications. :func:`amplified_state` gives the
exact amplified state (success probability, queries); :func:`sample_conditional`
draws shots from it until ``n`` are accepted and reports the queries and shots
used. The gate-level circuit of the same iterates is
:func:`qgm.circuits.oracles.amplified_circuit`.

On a classical simulator the exact conditional ``|⟨x|ψ⟩|² / p`` is cheaper than any
of this; the query counts are the figures that carry over to quantum hardware.
"""
from __future__ import annotations

import functools
import math
import warnings
from dataclasses import dataclass, field
from typing import Any, Optional

import torch

from qgm.circuits.circuit import Circuit
from qgm.circuits.conditions import Condition, ConditionLike, as_condition
from qgm.errors import ConfigError, DataError, ParameterError, ResourceError
from qgm.sim.engine import sample, state

__all__ = [
    "SCHEDULES", "SAMPLE_OPTIONS", "Schedule", "Amplifier", "AmplifiedState", "ConditionalSamples",
    "grover_iterations", "grover_schedule", "zero_failure_schedule", "fixed_point_schedule",
    "fixed_point_length", "fixed_point_success", "make_schedule", "amplified_state", "sample_conditional",
    "bbht_expected_queries", "sample_exact_conditional",
    "P_ZERO", "P_ONE", "MAX_ITERATES", "MAX_QUERIES", "BBHT_GROWTH", "DEFAULT_DELTA",
]

#: Schedule names (module docstring).
SCHEDULES = ("reject", "grover", "zero_failure", "fixed_point", "bbht")
#: Keyword options of :meth:`Amplifier.sample` besides the schedule and the generator.
SAMPLE_OPTIONS = ("p", "p_min", "delta", "growth", "max_queries")
#: Acceptance probabilities at or below this are zero up to rounding: the condition is impossible.
P_ZERO = 1e-20
#: Acceptance probabilities at or above this are one up to rounding: no iterate is needed.
P_ONE = 1 - 1e-12
#: Most iterates one amplified state may use (each costs two simulations of ``A``).
MAX_ITERATES = 100_000
#: Default budget of queries (applications of ``A`` or ``A†``) of one sampling call.
MAX_QUERIES = 10**9
#: BBHT's growth factor of ``m`` (any value in ``(1, 4/3)`` keeps the expected cost ``O(1/√p)``).
BBHT_GROWTH = 6 / 5
#: Default error ``δ`` of the fixed-point schedule (success ``≥ 1 - δ²``).
DEFAULT_DELTA = 0.1
#: Most bytes of kept powers ``G^j|ψ⟩`` per :class:`Amplifier` (beyond: recomputed).
_CACHE_BYTES = 1 << 30
#: Largest chunk of shots drawn at once.
_CHUNK = 1 << 20


# ----------------------------------------------------------------------------- schedules
@dataclass(frozen=True)
class Schedule:
    """A fixed sequence of iterates ``G(α_j, β_j)``, ``j = 1..k`` in application order.

    Attributes:
        name: schedule name (:data:`SCHEDULES`).
        zero_phases: ``α_j`` (phase put on ``|0…0⟩`` by ``S_0``), radians.
        oracle_phases: ``β_j`` (phase put on accepted states by ``S_f``), radians.
    """

    name: str
    zero_phases: tuple[float, ...] = ()
    oracle_phases: tuple[float, ...] = ()

    @property
    def iterations(self) -> int:
        """Number of iterates ``k``."""
        return len(self.zero_phases)

    @property
    def queries(self) -> int:
        """Applications of ``A`` or ``A†`` per prepared state: ``2k + 1``."""
        return 2 * self.iterations + 1

    @property
    def phases(self) -> list[tuple[float, float]]:
        """``[(α_1, β_1), …]`` for :func:`qgm.circuits.oracles.amplified_circuit`."""
        return list(zip(self.zero_phases, self.oracle_phases))


def _angle(p: float, field_name: str = "p") -> float:
    """``θ = arcsin √p`` of a probability in ``(0, 1]`` (``π/2`` from :data:`P_ONE` on)."""
    if not isinstance(p, (int, float)) or isinstance(p, bool) or not 0 < p <= 1:
        raise ParameterError(f"{field_name}: expected an acceptance probability in (0, 1], got {p!r}")
    return math.pi / 2 if p >= P_ONE else math.asin(math.sqrt(p))


def _check_iterates(k: int, what: str) -> int:
    if k > MAX_ITERATES:
        raise ResourceError(
            f"{what} needs {k} iterates (more than {MAX_ITERATES}); the condition is too rare to amplify here: "
            "relax it or sample the exact conditional (method='exact')"
        )
    return k


def grover_iterations(p: float) -> int:
    """``k = ⌊π / (4 arcsin √p)⌋``: the standard iterates that maximise the success probability near ``p``."""
    return _check_iterates(math.floor(math.pi / (4 * _angle(p))), f"grover at p={p:.3g}")


def grover_schedule(p: float) -> Schedule:
    """``k = grover_iterations(p)`` standard iterates (``α = β = π``); success ``sin²((2k + 1)θ)``."""
    k = grover_iterations(p)
    return Schedule("grover", (math.pi,) * k, (math.pi,) * k)


def zero_failure_schedule(p: float) -> Schedule:
    """Long's phase-matched iterates with success probability exactly 1 at the given ``p``."""
    theta = _angle(p)
    k = _check_iterates(max(0, math.ceil(math.pi / (4 * theta) - 0.5)), f"zero_failure at p={p:.3g}")
    if k == 0:
        return Schedule("zero_failure")
    phi = 2 * math.asin(min(1.0, math.sin(math.pi / (4 * k + 2)) / math.sin(theta)))
    return Schedule("zero_failure", (phi,) * k, (phi,) * k)


def _check_delta(delta: float) -> float:
    if isinstance(delta, bool) or not isinstance(delta, (int, float)) or not 0 < delta < 1:
        raise ParameterError(f"delta: expected the fixed-point error bound in (0, 1), got {delta!r}")
    return float(delta)


def fixed_point_length(p_min: float, delta: float = DEFAULT_DELTA) -> int:
    """Smallest odd ``L`` whose fixed-point sequence guarantees success ``≥ 1 - δ²`` for every ``p ≥ p_min``.

    The guarantee holds when ``T_{1/L}(1/δ) √(1 - p_min) ≤ 1``, i.e.
    ``L ≥ cosh⁻¹(1/δ) / cosh⁻¹(1/√(1 - p_min))`` (about ``log(2/δ) / √p_min``).
    """
    _angle(p_min, "p_min")
    delta = _check_delta(delta)
    if p_min >= P_ONE:
        return 1
    bound = math.acosh(1 / delta) / math.acosh(1 / math.sqrt(1 - p_min))
    length = max(1, math.ceil(bound - 1e-12))
    length += 1 - length % 2
    _check_iterates((length - 1) // 2, f"fixed_point at p_min={p_min:.3g}")
    return length


def _chebyshev(order: float, x: float) -> float:
    """``T_order(x)`` for ``x ≥ 0`` (``cos(order·acos x)`` inside ``[0, 1]``, ``cosh(order·acosh x)`` beyond)."""
    return math.cos(order * math.acos(x)) if x <= 1 else math.cosh(order * math.acosh(x))


def fixed_point_success(p: float, length: int, delta: float = DEFAULT_DELTA) -> float:
    """Success probability ``1 - δ² T_L(T_{1/L}(1/δ) √(1 - p))²`` of the length-``L`` fixed-point sequence."""
    _angle(p)
    delta = _check_delta(delta)
    return 1 - delta**2 * _chebyshev(length, _chebyshev(1 / length, 1 / delta) * math.sqrt(1 - p)) ** 2


def fixed_point_schedule(p_min: float, delta: float = DEFAULT_DELTA) -> Schedule:
    """Yoder-Low-Chuang iterates for a lower bound ``p_min`` of ``p`` and error ``δ`` (module docstring)."""
    length = fixed_point_length(p_min, delta)
    half = (length - 1) // 2  # YLC's l
    gamma = 1 / _chebyshev(1 / length, 1 / delta)
    root = math.sqrt(max(0.0, 1 - gamma**2))
    # α_j = 2 cot⁻¹(tan(2πj/L) √(1 - γ²)); atan2 picks a branch, the phases matter mod 2π only
    alpha = [2 * math.atan2(1.0, math.tan(2 * math.pi * j / length) * root) for j in range(1, half + 1)]
    beta = [-alpha[half - j] for j in range(1, half + 1)]
    # YLC's S_s(α) puts e^{-iα} on |s⟩: in this module's convention the phase on |0…0⟩ is -α_j
    return Schedule("fixed_point", tuple(-a for a in alpha), tuple(beta))


def make_schedule(
    name: str, p: float, *, p_min: Optional[float] = None, delta: float = DEFAULT_DELTA
) -> Schedule:
    """The fixed schedule ``name`` for acceptance probability ``p`` (``fixed_point`` uses ``p_min``, default ``p``)."""
    if name == "reject":
        return Schedule("reject")
    if name == "grover":
        return grover_schedule(p)
    if name == "zero_failure":
        return zero_failure_schedule(p)
    if name == "fixed_point":
        return fixed_point_schedule(p if p_min is None else p_min, delta)
    if name == "bbht":
        raise ConfigError("schedule 'bbht' draws its iterate counts at random; use sample_conditional for it")
    raise ConfigError(f"schedule: expected one of {SCHEDULES}, got {name!r}")


# ----------------------------------------------------------------------------- results
@dataclass(frozen=True)
class AmplifiedState:
    """The exact result of a fixed schedule.

    Attributes:
        state: complex128 ``(2**n,)`` (with the exact signs of ``G = -A S_0 A† S_f``).
        schedule: the schedule applied.
        success: probability that a measurement of ``state`` is accepted.
        p: acceptance probability of ``A|0…0⟩``.
    """

    state: torch.Tensor
    schedule: Schedule
    success: float
    p: float

    @property
    def queries(self) -> int:
        """Applications of ``A`` or ``A†`` per prepared state (``2k + 1``)."""
        return self.schedule.queries

    @property
    def queries_per_sample(self) -> float:
        """Expected queries per accepted sample: ``(2k + 1) / success``."""
        return self.queries / self.success


@dataclass(frozen=True)
class ConditionalSamples:
    """Accepted samples and what they cost.

    Attributes:
        samples: LongTensor ``(n,)`` of accepted basis indices, in the order they were found.
        schedule: the schedule name (``"exact"`` for draws from the simulated conditional).
        p: acceptance probability of ``A|0…0⟩`` (exact).
        shots: measurements made (accepted or not).
        queries: applications of ``A`` or ``A†`` over all shots.
        iterations: ``{k: shots measured after k iterates}``.
        success: exact success probability of one shot (fixed schedules; None for ``bbht``).
    """

    samples: torch.Tensor
    schedule: str
    p: float
    shots: int
    queries: int
    iterations: dict[int, int] = field(default_factory=dict)
    success: Optional[float] = None

    @property
    def acceptance(self) -> float:
        """Accepted shots / shots."""
        return len(self.samples) / self.shots

    @property
    def queries_per_sample(self) -> float:
        """Queries per accepted sample (state preparations per sample, ``A`` and ``A†`` alike)."""
        return self.queries / len(self.samples)

    def stats(self) -> dict[str, object]:
        """Plain summary (JSON-ready)."""
        return {
            "schedule": self.schedule, "samples": len(self.samples), "p": self.p, "shots": self.shots,
            "queries": self.queries, "acceptance": self.acceptance, "queries_per_sample": self.queries_per_sample,
            "success": self.success, "iterations": {str(k): v for k, v in sorted(self.iterations.items())},
        }


def _check_count(n: object) -> None:
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ParameterError(f"n: expected a positive number of samples, got {n!r}")


# ----------------------------------------------------------------------------- the iterate
@functools.lru_cache(maxsize=None)
def _identity(n: int) -> Circuit:
    """The empty circuit on ``n`` wires (measures an initial state); one object per ``n`` so it compiles once."""
    return Circuit(n)


def _inverse(circuit: Circuit) -> Circuit:
    """``circuit.inverse()``, kept in the circuit's memo so the engine compiles it once per circuit."""
    memo = circuit.cache()
    key = ("qgm.sim.amplify", "inverse")
    if key not in memo:
        memo[key] = circuit.inverse()
    return memo[key]


class Amplifier:
    """Generalised Grover iterates of ``A = circuit(params)`` toward ``condition``, and sampling with them.

    The prepared state and the standard powers ``G^j|ψ⟩`` are computed once and kept
    (up to 1 GiB), so the ``grover`` and ``bbht`` schedules of one condition share them.

    Args:
        circuit: the state preparation ``A`` (no input slots).
        params: its trainable values ``(n_params,)`` (detached; amplification is not differentiated).
        condition: the accepted set (any form of :func:`~qgm.circuits.conditions.as_condition`).
    """

    def __init__(self, circuit: Circuit, params: Optional[torch.Tensor], condition: ConditionLike) -> None:
        if not isinstance(circuit, Circuit):
            raise ParameterError(f"circuit: expected a qgm.Circuit, got {type(circuit).__name__}")
        if circuit.n_inputs:
            raise ParameterError(f"circuit: bind its input slots {list(circuit.input_names)} before amplifying")
        self.circuit, self.inverse = circuit, _inverse(circuit)
        self.params = None if params is None else torch.as_tensor(params).detach()
        self.n = circuit.n_qubits
        self.condition: Condition = as_condition(condition, self.n)
        with torch.no_grad():
            self.prepared = state(circuit, self.params)
        self.mask = self.condition.mask.to(self.prepared.device)
        self.p = self.success(self.prepared)
        self._empty = _identity(self.n)
        self._powers = [self.prepared]

    def success(self, psi: torch.Tensor) -> float:
        """Probability that measuring ``psi`` ``(2**n,)`` gives an accepted outcome."""
        amp = psi[self.mask]
        return float((amp.real**2 + amp.imag**2).sum())

    def conditional_state(self) -> torch.Tensor:
        """``Π|ψ⟩ / ‖Π|ψ⟩‖`` ``(2**n,)``: the normalised projection of the prepared state."""
        self.check_possible()
        return torch.where(self.mask, self.prepared, 0) / math.sqrt(self.p)

    def check_possible(self) -> None:
        """DataError when the model never produces an accepted outcome; a warning when it always does."""
        if self.p <= P_ZERO:
            raise DataError(
                f"condition {self.condition.description!r}: the model gives it probability p = {self.p:.1e} (zero); "
                "no number of state preparations finds an accepted sample: relax the condition"
            )
        if self.p >= P_ONE:
            warnings.warn(
                f"condition {self.condition.description!r}: every outcome of the model is accepted (p = 1); "
                "no amplification is needed, samples are plain samples",
                stacklevel=3,
            )

    def iterate(self, psi: torch.Tensor, zero_phase: float = math.pi, oracle_phase: float = math.pi) -> torch.Tensor:
        """``G(α, β) ψ = -A S_0(α) A† S_f(β) ψ`` for ``psi`` ``(2**n,)`` (two queries)."""
        with torch.no_grad():
            psi = torch.where(self.mask, psi * complex(math.cos(oracle_phase), math.sin(oracle_phase)), psi)
            psi = state(self.inverse, self.params, initial_state=psi)
            psi = psi.clone()
            psi[0] = psi[0] * complex(math.cos(zero_phase), math.sin(zero_phase))
            return -state(self.circuit, self.params, initial_state=psi)

    def power(self, j: int) -> torch.Tensor:
        """``G^j|ψ⟩`` with standard iterates (kept for later calls while the cache has room)."""
        room = _CACHE_BYTES // (16 * self.prepared.numel())
        while len(self._powers) <= j and len(self._powers) < room:
            self._powers.append(self.iterate(self._powers[-1]))
        psi = self._powers[min(j, len(self._powers) - 1)]
        for _ in range(j - len(self._powers) + 1):
            psi = self.iterate(psi)
        return psi

    def run(self, schedule: Schedule) -> AmplifiedState:
        """The exact amplified state of a fixed ``schedule`` (call :meth:`check_possible` first)."""
        if all(a == math.pi and b == math.pi for a, b in schedule.phases):
            psi = self.power(schedule.iterations)
        else:
            psi = self.prepared
            for alpha, beta in schedule.phases:
                psi = self.iterate(psi, alpha, beta)
        return AmplifiedState(psi, schedule, self.success(psi), self.p)

    def draw(self, psi: torch.Tensor, shots: int, generator: Optional[torch.Generator]) -> torch.Tensor:
        """``shots`` measured basis indices ``(shots,)`` of ``psi`` ``(2**n,)``."""
        return sample(self._empty, None, shots, initial_state=psi, generator=generator)

    # -- sampling ---------------------------------------------------------------------------
    def sample(
        self,
        n: int,
        schedule: str = "bbht",
        *,
        generator: Optional[torch.Generator] = None,
        p: Optional[float] = None,
        p_min: Optional[float] = None,
        delta: float = DEFAULT_DELTA,
        growth: float = BBHT_GROWTH,
        max_queries: int = MAX_QUERIES,
    ) -> ConditionalSamples:
        """``n`` accepted samples by ``schedule`` (see :func:`sample_conditional`)."""
        _check_count(n)
        if schedule not in SCHEDULES:
            raise ConfigError(f"schedule: expected one of {SCHEDULES}, got {schedule!r}")
        if isinstance(growth, bool) or not isinstance(growth, (int, float)) or not 1 < growth < 4 / 3:
            raise ParameterError(f"growth: BBHT's factor must lie in (1, 4/3), got {growth!r}")
        self.check_possible()
        if schedule == "bbht":
            return self._bbht(n, generator, float(growth), max_queries)
        result = self.run(make_schedule(schedule, self.p if p is None else p, p_min=p_min, delta=delta))
        return self._shots_until(result, n, generator, max_queries)

    def sample_exact(self, n: int, generator: Optional[torch.Generator] = None) -> ConditionalSamples:
        """``n`` draws from the simulated conditional (no shots of ``A``: ``queries = 0``)."""
        _check_count(n)
        x = self.draw(self.conditional_state(), n, generator)
        return ConditionalSamples(x, "exact", self.p, n, 0, {}, 1.0)

    def _check_budget(self, expected: float, n: int, name: str, max_queries: int) -> None:
        if expected > max_queries:
            raise ResourceError(
                f"condition {self.condition.description!r} (p = {self.p:.2e}): {n} samples with schedule {name!r} "
                f"need about {expected:.2e} queries, over max_queries={max_queries:.0e}; amplify, relax the "
                "condition or raise max_queries"
            )

    def _shots_until(
        self, result: AmplifiedState, n: int, generator: Optional[torch.Generator], max_queries: int
    ) -> ConditionalSamples:
        """Measure ``result.state`` until ``n`` shots are accepted (a fixed schedule)."""
        per, name = result.queries, result.schedule.name
        self._check_budget(n * result.queries_per_sample, n, name, max_queries)
        found: list[torch.Tensor] = []
        shots, need = 0, n
        while need:
            chunk = min(_CHUNK, math.ceil(1.1 * need / max(result.success, 1e-300)) + 16)
            x = self.draw(result.state, chunk, generator)
            hits = self.condition.accepts(x).nonzero().squeeze(1)
            if len(hits) >= need:
                shots += int(hits[need - 1]) + 1
                hits = hits[:need]
            else:
                shots += chunk
            found.append(x[hits])
            need -= len(hits)
            self._check_budget(shots * per, n, name, max_queries)
        k = result.schedule.iterations
        return ConditionalSamples(torch.cat(found), name, self.p, shots, shots * per, {k: shots}, result.success)

    def _bbht(self, n: int, generator: Optional[torch.Generator], growth: float, max_queries: int) -> ConditionalSamples:
        """``n`` independent BBHT searches, advanced together round by round."""
        m = torch.ones(n, dtype=torch.float64)
        out = torch.full((n,), -1, dtype=torch.int64)
        hist: dict[int, int] = {}
        shots = queries = 0
        active = torch.arange(n)
        while len(active):
            j = (torch.rand(len(active), dtype=torch.float64, generator=generator) * m[active].ceil()).floor().long()
            accepted = torch.zeros(len(active), dtype=torch.bool)
            for jv in j.unique().tolist():
                rows = (j == jv).nonzero().squeeze(1)
                x = self.draw(self.power(jv), len(rows), generator)
                ok = self.condition.accepts(x)
                out[active[rows[ok]]] = x[ok]
                accepted[rows[ok]] = True
                hist[jv] = hist.get(jv, 0) + len(rows)
            shots += len(active)
            queries += int((2 * j + 1).sum())
            self._check_budget(queries, n, "bbht", max_queries)
            failed = active[~accepted]
            m[failed] = m[failed] * growth
            active = failed
        return ConditionalSamples(out, "bbht", self.p, shots, queries, hist)


def bbht_expected_queries(p: float, growth: float = BBHT_GROWTH, tol: float = 1e-13) -> float:
    """Expected queries per accepted sample of BBHT at acceptance probability ``p`` (theory).

    Round ``r`` (``m_r = growth^r``, ``M = ⌈m_r⌉``) is reached when every earlier round
    failed; it costs ``E[2j + 1] = M`` queries and succeeds with the mean of
    ``sin²((2j + 1)θ)`` over ``j < M``, ``1/2 - sin(4Mθ) / (4M sin 2θ)`` (BBHT Lemma 1).
    Summed until the probability of reaching the next round is below ``tol``.
    """
    theta = _angle(p)
    if theta == math.pi / 2:
        return 1.0
    survive, expected, m = 1.0, 0.0, 1.0
    while survive > tol:
        size = math.ceil(m - 1e-12)
        expected += survive * size
        survive *= 0.5 + math.sin(4 * size * theta) / (4 * size * math.sin(2 * theta))
        m *= growth
    return expected


def sample_exact_conditional(
    circuit: Circuit,
    params: Optional[torch.Tensor],
    condition: ConditionLike,
    n: int,
    *,
    generator: Optional[torch.Generator] = None,
) -> ConditionalSamples:
    """``n`` draws from the exact conditional ``|⟨x|ψ⟩|² / p`` computed on the simulator.

    What a classical simulator does best: no shots of the model are measured, so
    ``shots = n`` and ``queries = 0`` (schedule ``"exact"``).
    """
    _check_count(n)
    return Amplifier(circuit, params, condition).sample_exact(n, generator)


def amplified_state(
    circuit: Circuit,
    params: Optional[torch.Tensor],
    condition: ConditionLike,
    schedule: str = "grover",
    *,
    p: Optional[float] = None,
    p_min: Optional[float] = None,
    delta: float = DEFAULT_DELTA,
) -> AmplifiedState:
    """The exact amplified state of ``A = circuit(params)`` under a fixed ``schedule``.

    Args:
        circuit, params: the state preparation ``A``.
        condition: the accepted set.
        schedule: ``"reject" | "grover" | "zero_failure" | "fixed_point"``.
        p: the acceptance probability the known-``p`` schedules are built for (default: exact).
        p_min: lower bound of ``p`` for ``fixed_point`` (default: the exact ``p``).
        delta: error bound of ``fixed_point`` (success ``≥ 1 - δ²``).
    """
    amp = Amplifier(circuit, params, condition)
    amp.check_possible()
    return amp.run(make_schedule(schedule, amp.p if p is None else p, p_min=p_min, delta=delta))


def sample_conditional(
    circuit: Circuit,
    params: Optional[torch.Tensor],
    condition: ConditionLike,
    n: int,
    *,
    schedule: str = "bbht",
    generator: Optional[torch.Generator] = None,
    **options: Any,
) -> ConditionalSamples:
    """``n`` samples of ``A|0…0⟩`` conditioned on ``condition``, by rejection or amplification.

    Shots of the (amplified) state are measured until ``n`` are accepted; accepted
    samples are distributed exactly as the conditional.

    Args:
        circuit, params: the state preparation ``A``.
        condition: the accepted set.
        n: number of accepted samples.
        schedule: one of :data:`SCHEDULES`.
        generator: seeds the shots (and BBHT's iterate counts).
        options: of :meth:`Amplifier.sample`: ``p`` and ``p_min``, ``delta`` (as in
            :func:`amplified_state`), ``growth`` (BBHT's factor), ``max_queries`` (a budget of
            ``A``/``A†`` applications checked before and while sampling; ResourceError beyond it).

    Raises:
        DataError: the condition has probability zero under the model.
    """
    _check_count(n)
    return Amplifier(circuit, params, condition).sample(n, schedule, generator=generator, **options)
