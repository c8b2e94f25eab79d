"""Amplitude amplification: every schedule leaves the accepted part of the state equal to the
normalised projection (exact, 1e-10), success probabilities equal their closed forms
(sin²((2k+1)θ), 1 for zero-failure, the Yoder-Low-Chuang Chebyshev formula), the fixed point
never loses more than δ², shot statistics match the exact quantities, and p = 0 / p = 1 /
hopeless p give one-line messages instead of loops."""
from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from scipy.stats import chi2

from qgm.circuits import Circuit, hardware_efficient
from qgm.errors import ConfigError, DataError, ParameterError, QGMError, ResourceError
from qgm.sim.amplify import (
    MAX_ITERATES,
    SCHEDULES,
    Amplifier,
    amplified_state,
    bbht_expected_queries,
    fixed_point_length,
    fixed_point_schedule,
    fixed_point_success,
    grover_iterations,
    make_schedule,
    sample_conditional,
    sample_exact_conditional,
    zero_failure_schedule,
)

FIXED = ("reject", "grover", "zero_failure", "fixed_point")
CONDITIONS = ["x0=1", "x0=1,x3=0", "x1=0,x2=1,x4=0,x5=1", lambda bits: bits.sum(1) == 5]


def model(n: int = 6, seed: int = 0) -> tuple[Circuit, torch.Tensor]:
    c = hardware_efficient(n, 3, entangler="all")
    return c, torch.rand(c.n_params, dtype=torch.float64, generator=torch.Generator().manual_seed(seed)) * 2 * math.pi


def tilted(p: float, n: int = 3) -> tuple[Circuit, torch.Tensor, str]:
    """A circuit whose condition ``x0=1`` has probability exactly ``p`` (wire 0 rotated, the rest entangled)."""
    c = Circuit(n).ry(0, 2 * math.asin(math.sqrt(p)))
    for w in range(1, n):
        c = c.h(w).cx(w - 1, w).ry(w, 0.3 * w)
    return c, torch.zeros(0, dtype=torch.float64), "x0=1"


def accepted_part(amp: Amplifier, psi: torch.Tensor) -> torch.Tensor:
    good = torch.where(amp.mask, psi, 0)
    return good / good.norm()


def assert_same_ray(a: torch.Tensor, b: torch.Tensor, tol: float = 1e-10) -> None:
    assert abs(abs(torch.vdot(a, b).item()) - 1) < tol
    phase = torch.vdot(b, a) / abs(torch.vdot(b, a))
    assert float((a - phase * b).abs().max()) < tol


@pytest.mark.parametrize("condition", CONDITIONS, ids=["1bit", "2bits", "4bits", "weight5"])
@pytest.mark.parametrize("schedule", FIXED)
def test_amplified_state_is_the_projection_at_the_prescribed_k(condition, schedule):
    c, theta = model()
    amp = Amplifier(c, theta, condition)
    result = amplified_state(c, theta, condition, schedule)
    projection = amp.conditional_state()
    assert_same_ray(accepted_part(amp, result.state), projection)
    assert abs(float(result.state.norm()) - 1) < 1e-12
    p, th = amp.p, math.asin(math.sqrt(amp.p))
    k = result.schedule.iterations
    want = {
        "reject": p,
        "grover": math.sin((2 * k + 1) * th) ** 2,
        "zero_failure": 1.0,
        "fixed_point": fixed_point_success(p, result.schedule.queries, 0.1),
    }[schedule]
    assert result.success == pytest.approx(want, abs=1e-10)
    assert k == {"reject": 0, "grover": math.floor(math.pi / (4 * th)), "zero_failure": math.ceil(math.pi / (4 * th) - 0.5),
                 "fixed_point": (fixed_point_length(p) - 1) // 2}[schedule]
    assert result.queries == 2 * k + 1 and result.queries_per_sample == pytest.approx((2 * k + 1) / want, rel=1e-9)
    if schedule == "zero_failure":  # success 1: the whole state is the projection
        assert_same_ray(result.state, projection)


def test_every_bbht_power_keeps_the_projection():
    c, theta = model(seed=1)
    amp = Amplifier(c, theta, "x1=0,x2=1,x4=0")
    psi, th = amp.prepared, math.asin(math.sqrt(amp.p))
    for j in range(1, 12):
        psi = amp.iterate(psi)
        assert_same_ray(accepted_part(amp, psi), amp.conditional_state())
        assert amp.success(psi) == pytest.approx(math.sin((2 * j + 1) * th) ** 2, abs=1e-10)


def test_powers_beyond_the_cache_are_recomputed(monkeypatch):
    import qgm.sim.amplify as module

    c, theta = model(4, seed=5)
    monkeypatch.setattr(module, "_CACHE_BYTES", 3 * 16 * 16)  # room for three states of 4 qubits
    amp = Amplifier(c, theta, "x0=1,x1=0")
    psi = amp.prepared
    for _ in range(7):
        psi = amp.iterate(psi)
    assert torch.allclose(amp.power(7), psi, atol=1e-13) and len(amp._powers) == 3
    assert torch.allclose(amp.power(1), amp.iterate(amp.prepared), atol=1e-13)


def test_bbht_expectation_matches_the_simulated_success_probabilities():
    """BBHT's closed-form round success equals the mean of simulated ``‖Π G^j ψ‖²``, round by round."""
    c, theta = model(5, seed=4)
    amp = Amplifier(c, theta, "x0=1,x3=1,x4=0")
    s, psi = [], amp.prepared
    survive, expected, m = 1.0, 0.0, 1.0
    while survive > 1e-9:
        size = math.ceil(m - 1e-12)
        while len(s) < size:
            s.append(amp.success(psi))
            psi = amp.iterate(psi)
        expected += survive * size
        survive *= 1 - sum(s[:size]) / size
        m *= 6 / 5
    assert bbht_expected_queries(amp.p) == pytest.approx(expected, rel=1e-6)  # the loop above stops at 1e-9
    assert bbht_expected_queries(1.0) == 1.0


def test_grover_finds_one_of_four_with_certainty():
    """p = 1/4: θ = π/6, one iterate rotates to 3θ = π/2 (the textbook two-qubit search)."""
    c = Circuit(2).h(0).h(1)
    assert grover_iterations(0.25) == 1
    result = amplified_state(c, None, [2], "grover")
    assert result.success == pytest.approx(1.0, abs=1e-12)
    assert result.state.abs()[2].item() == pytest.approx(1.0, abs=1e-12)
    (alpha, beta), = zero_failure_schedule(0.25).phases  # Long's phase is π when Grover is already exact
    assert alpha == beta == pytest.approx(math.pi, abs=1e-7)  # arcsin at 1 amplifies rounding to ~1e-8


@pytest.mark.parametrize("p_min, delta", [(0.01, 0.1), (0.05, 0.3), (0.2, 0.05)])
def test_fixed_point_never_loses_more_than_its_guarantee(p_min, delta):
    length = fixed_point_length(p_min, delta)
    assert length % 2 == 1 and length <= math.log(2 / delta) / math.sqrt(p_min) + 3
    schedule = fixed_point_schedule(p_min, delta)
    assert schedule.queries == length
    worst = 1.0
    for p in np.concatenate([np.geomspace(p_min, 1, 15), [0.999999]]):
        c, theta, cond = tilted(float(p))
        result = Amplifier(c, theta, cond).run(schedule)
        assert result.success == pytest.approx(fixed_point_success(float(p), length, delta), abs=1e-10)
        worst = min(worst, result.success)
    assert worst >= 1 - delta**2 - 1e-12
    shorter = fixed_point_schedule(p_min * 4, delta)  # a too-optimistic bound can lose more
    c, theta, cond = tilted(p_min)
    assert Amplifier(c, theta, cond).run(shorter).success < 1 - delta**2


def test_fixed_point_length_is_the_smallest_odd_length():
    for p_min, delta in [(0.003, 0.1), (0.2, 0.5), (1e-4, 0.01)]:
        length = fixed_point_length(p_min, delta)
        gamma_ok = [fixed_point_success(p_min, L, delta) >= 1 - delta**2 - 1e-12 for L in (length, length - 2)]
        assert gamma_ok == [True, length == 1]
    assert fixed_point_length(1.0) == 1


@pytest.mark.parametrize("schedule", SCHEDULES)
def test_shots_are_drawn_from_the_exact_conditional(schedule):
    c, theta = model(5, seed=2)
    cond = "x0=1,x2=0,x4=1"
    amp = Amplifier(c, theta, cond)
    n = 2000
    out = sample_conditional(c, theta, cond, n, schedule=schedule, generator=torch.Generator().manual_seed(3))
    assert out.samples.shape == (n,) and out.samples.dtype == torch.int64
    assert bool(amp.condition.accepts(out.samples).all())
    target = (amp.conditional_state().abs() ** 2).numpy()
    counts = np.bincount(out.samples.numpy(), minlength=32)
    keep = target > 0
    stat = ((counts[keep] - n * target[keep]) ** 2 / (n * target[keep])).sum()
    assert stat < chi2.ppf(0.999, keep.sum() - 1)
    assert sum(out.iterations.values()) == out.shots and out.acceptance == n / out.shots
    if schedule == "bbht":
        assert out.queries == sum((2 * j + 1) * m for j, m in out.iterations.items())
        exact = bbht_expected_queries(amp.p)
        assert abs(out.queries_per_sample - exact) < 0.15 * exact
        return
    result = amp.run(make_schedule(schedule, amp.p))
    assert out.queries == out.shots * result.queries and out.success == pytest.approx(result.success)
    sd = math.sqrt(result.success * (1 - result.success) / out.shots)
    assert abs(out.acceptance - result.success) < 5 * sd + 1e-12


def test_same_generator_same_samples_and_exact_conditional():
    c, theta = model(4)
    a, b = (sample_conditional(c, theta, "x1=1", 50, generator=torch.Generator().manual_seed(9)) for _ in range(2))
    assert torch.equal(a.samples, b.samples) and a.queries == b.queries
    exact = sample_exact_conditional(c, theta, "x1=1", 3000, generator=torch.Generator().manual_seed(0))
    assert exact.queries == 0 and exact.schedule == "exact" and bool((exact.samples & 0b0100).bool().all())


def test_reject_costs_one_over_p_and_grover_one_over_root_p():
    for p in (2.0**-4, 2.0**-8, 2.0**-12):
        c, theta, cond = tilted(p)
        amp = Amplifier(c, theta, cond)
        assert amp.run(make_schedule("reject", amp.p)).queries_per_sample == pytest.approx(1 / p, rel=1e-9)
        grover = amp.run(make_schedule("grover", amp.p)).queries_per_sample
        assert 0.9 * math.pi / (2 * math.sqrt(p)) < grover < 1.25 * math.pi / (2 * math.sqrt(p)) + 3


# -- impossible, certain and hopeless conditions ---------------------------------------------------


def test_impossible_condition_is_a_clear_error_for_every_schedule():
    c = Circuit(3).h(1).h(2)  # wire 0 stays |0>: x0=1 never happens
    calls = [lambda s=s: sample_conditional(c, None, "x0=1", 5, schedule=s) for s in SCHEDULES]
    calls += [lambda: amplified_state(c, None, "x0=1"), lambda: sample_exact_conditional(c, None, "x0=1", 5),
              lambda: sample_conditional(c, None, [], 5)]
    for call in calls:
        with pytest.raises(DataError) as info:
            call()
        message = str(info.value)
        assert "\n" not in message and "probability p = 0" in message and "relax the condition" in message


def test_certain_condition_warns_and_samples_without_iterates():
    c = Circuit(3).x(0).h(1).h(2)
    for schedule in SCHEDULES:
        with pytest.warns(UserWarning, match=r"p = 1"):
            out = sample_conditional(c, None, "x0=1", 20, schedule=schedule, generator=torch.Generator().manual_seed(0))
        assert out.shots == 20 and out.queries == 20 and out.iterations == {0: 20}
    assert make_schedule("zero_failure", 1.0).iterations == 0 and fixed_point_length(1.0, 0.1) == 1


def test_hopeless_conditions_are_refused_before_sampling():
    c, theta, cond = tilted(1e-14)
    with pytest.raises(ResourceError, match="max_queries"):
        sample_conditional(c, theta, cond, 10, schedule="reject")
    for schedule in ("grover", "zero_failure", "fixed_point"):
        with pytest.raises(ResourceError, match=str(MAX_ITERATES)):
            sample_conditional(c, theta, cond, 10, schedule=schedule)
    c, theta, cond = tilted(1e-4)
    with pytest.raises(ResourceError, match="max_queries"):
        sample_conditional(c, theta, cond, 100, schedule="bbht", max_queries=200, generator=torch.Generator())


@pytest.mark.parametrize("call, exc", [
    (lambda c: sample_conditional(c, None, "x0=1", 0), ParameterError),
    (lambda c: sample_conditional(c, None, "x0=1", 5, schedule="magic"), ConfigError),
    (lambda c: sample_conditional(c, None, "x0=1", 5, growth=1.5), ParameterError),
    (lambda c: sample_conditional(c, None, "x0=1", 5, schedule="fixed_point", delta=1.0), ParameterError),
    (lambda c: amplified_state(c, None, "x0=1", "fixed_point", p_min=0.0), ParameterError),
    (lambda c: amplified_state(c, None, "x0=1", "bbht"), ConfigError),
    (lambda c: amplified_state(c, None, "x7=1"), ParameterError),
    (lambda c: Amplifier("not a circuit", None, "x0=1"), ParameterError),
])
def test_bad_arguments_are_one_line_errors(call, exc):
    with pytest.raises(exc) as info:
        call(Circuit(2).h(0))
    assert isinstance(info.value, QGMError) and "\n" not in str(info.value)
