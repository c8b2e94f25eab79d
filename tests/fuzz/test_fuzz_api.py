"""Fuzzing the Python API: circuits built from random gates, the engine called with random parameters,
initial states, observables, shot counts and generators, dataset factories with random options, depth
rules of random text. Every call must succeed with a sane result or raise a one-line QGMError within
the budget of :mod:`budget`."""
from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from budget import bounded, examples, outcome, warm_up
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from qgm import sim
from qgm.circuits import GATES, Circuit, In, P
from qgm.errors import ResourceError
from qgm.registry import DATASETS
from qgm.train import load_plugins
from qgm.trainability.rules import eval_rule


def fuzz(n: int) -> settings:
    """Hypothesis settings of a fuzz test with ``n`` examples (times ``QGM_FUZZ_SCALE``)."""
    return settings(max_examples=examples(n), deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])


@pytest.fixture(scope="module", autouse=True)
def warm():
    warm_up()


NUMBERS = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True), st.integers(-(2**70), 2**70),
    st.sampled_from([0, 1, -1, 0.5, 1e308, -1e-308]),
)
ANGLES = st.one_of(st.none(), NUMBERS, st.sampled_from([P("a"), 2 * P("b") + 0.1, In("x"), P("x")]),
                   st.text(max_size=3), st.complex_numbers(max_magnitude=3))
GATE_NAMES = st.one_of(st.sampled_from(sorted(GATES)), st.sampled_from(["CX", "RY", "foo", "", "unitary"]))
WIRES = st.one_of(st.integers(-2, 5), st.lists(st.integers(-2, 5), max_size=4), st.sampled_from([1.5, "0", None]))
OPS = st.lists(st.tuples(GATE_NAMES, WIRES, st.lists(ANGLES, max_size=3)), max_size=8)


def _build(n: int, ops: list) -> Circuit:
    c = Circuit(n)
    for name, wires, angles in ops:
        c = c.add(name, wires, *angles)
    return c


@fuzz(100)
@given(n=st.one_of(st.integers(-1, 4), st.sampled_from([1.0, True, "2", 10**20])), ops=OPS)
def test_random_circuits_build_or_fail_in_one_line(n, ops):
    kind, value = outcome(lambda: _build(n, ops), seconds=5)
    if kind == "ok":
        assert value.n_qubits == n and len(value.ops) == len(ops)
        assert set(value.param_names).isdisjoint(value.input_names)


def _params(draw_kind: str, shape: tuple, rng: np.random.Generator):
    if draw_kind == "float":
        return torch.as_tensor(rng.normal(size=shape))
    if draw_kind == "nan":
        return torch.full(shape, math.nan)
    if draw_kind == "int":
        return torch.zeros(shape, dtype=torch.int64)
    if draw_kind == "complex":
        return torch.zeros(shape, dtype=torch.complex128)
    if draw_kind == "list":
        return rng.normal(size=shape).tolist()
    return "angles"


@fuzz(100)
@given(
    ops=st.lists(st.tuples(st.sampled_from(["ry", "rx", "cx", "h", "rzz", "u3"]), st.integers(0, 2)), min_size=1, max_size=6),
    batch=st.lists(st.integers(0, 3), max_size=2), extra=st.integers(-1, 1),
    kind=st.sampled_from(["float", "nan", "int", "complex", "list", "str"]),
    shots=st.one_of(st.none(), st.integers(-2, 50), st.sampled_from([2**70, 1.5, "10"])),
    generator=st.sampled_from([None, 42, "seed", torch.Generator().manual_seed(1)]),
    state_scale=st.one_of(st.none(), st.sampled_from([1.0, 2.0, 0.0, math.nan])),
    state_batch=st.sampled_from([(), (1,), (4,)]),
    seed=st.integers(0, 2**32 - 1),
)
def test_engine_calls_succeed_or_fail_in_one_line(ops, batch, extra, kind, shots, generator, state_scale, state_batch, seed):
    c = Circuit(3)
    for name, w in ops:
        c = c.add(name, [w, (w + 1) % 3][: GATES[name].n_wires])
    rng = np.random.default_rng(seed)
    params = _params(kind, (*batch, max(c.n_params + extra, 0)), rng)
    state = None
    if state_scale is not None:
        state = torch.zeros(*state_batch, 8, dtype=torch.complex128)
        state[..., 0] = state_scale
    kind_p, p = outcome(lambda: sim.probs(c, params, initial_state=state, shots=shots, generator=generator), seconds=10)
    if kind_p == "ok":
        assert torch.allclose(p.sum(-1), torch.ones((), dtype=p.dtype), atol=1e-9) and bool((p >= 0).all())
    kind_s, s = outcome(lambda: sim.sample(c, params, shots, initial_state=state, generator=generator), seconds=10)
    if kind_s == "ok":
        assert s.dtype == torch.int64 and bool(((s >= 0) & (s < 8)).all())


COEFS = st.one_of(NUMBERS, st.complex_numbers(max_magnitude=2), st.sampled_from(["1", None, [1], torch.tensor(2.0)]))
TERMS = st.tuples(COEFS, st.one_of(st.text("IXYZixyz", min_size=2, max_size=4), st.sampled_from(["ZZZ", "", 3])))


@fuzz(100)
@given(observable=st.one_of(st.text("IXYZ", max_size=4), st.lists(TERMS, max_size=3),
                            st.lists(st.one_of(st.text("IXYZ", min_size=3, max_size=3), st.lists(TERMS, max_size=2)),
                                     max_size=3)),
       shots=st.one_of(st.none(), st.integers(1, 20)))
def test_expectations_of_random_observables(observable, shots):
    c = Circuit(3).h(0).cx(0, 1).ry(2)
    kind, value = outcome(lambda: sim.expval(c, torch.tensor([0.3]), observable, shots=shots,
                                             generator=torch.Generator().manual_seed(0)), seconds=10)
    if kind == "ok":
        assert value.dtype == torch.float64 and bool(torch.isfinite(value).all())


OPTION_VALUES = st.one_of(
    st.integers(-3, 40), st.sampled_from([10**12, 2**70, 0.5, -1.0, math.nan, None, True, "x", [], [1, 2], {"a": 1}]),
)
#: Size options of dataset factories, each refused before allocating (once tracked as unchecked).
SIZE_OPTIONS = sorted({
    ("double_gaussian", "bits"), ("gaussian", "bits"), ("grid", "bits"), ("grid", "n_train"), ("grid", "side"),
    ("ring", "bits"), ("ring", "n_train"), ("ring", "n_modes"),
})
#: Factories with required options (kept out of the fuzz).
UNCHECKED_WITH_REQUIRED = {("mixture", "bits"), ("custom", "bits"), ("state_ensemble", "n_qubits")}
#: Datasets that read files or bundled data (not fuzzed here).
FILE_DATASETS = {"digits", "file", "market_copula", "market_returns", "qm9"}


@fuzz(100)
@given(data=st.data())
def test_dataset_factories_with_random_options(data):
    load_plugins()
    name = data.draw(st.sampled_from([n for n in DATASETS.names() if n not in FILE_DATASETS]))
    keys = [k for k in DATASETS.options(name) if (name, k) not in UNCHECKED_WITH_REQUIRED] + ["bogus"]
    options = data.draw(st.dictionaries(st.sampled_from(keys), OPTION_VALUES, max_size=3))
    kind, value = outcome(lambda: DATASETS.create(name, **options), seconds=15)
    if kind == "ok":
        assert len(value) >= 1 and value.space is not None


@pytest.mark.parametrize("name, key", SIZE_OPTIONS)
def test_dataset_sizes_are_refused_before_allocating(name, key):
    load_plugins()
    with bounded(seconds=15), pytest.raises(ResourceError, match=rf"^{key}|^{name}"):
        DATASETS.create(name, **{key: 10**12})


RULE_ATOMS = st.sampled_from(["n", "9", "**", "*", "+", "-", "/", "//", "(", ")", "log2(", "sqrt(", "ceil(", "1e308",
                              "0", ".", "x", "__import__", "[", "]", "lambda", ":", " ", "'"])


@fuzz(200)
@given(rule=st.one_of(st.lists(RULE_ATOMS, max_size=30).map("".join), st.text(max_size=40)), n=st.integers(1, 40))
def test_depth_rules_of_random_text(rule, n):
    assume(rule.strip())
    kind, value = outcome(lambda: eval_rule(rule, n, "depth"), seconds=2, megabytes=64)
    if kind == "ok":
        assert isinstance(value, float) and math.isfinite(value)
    else:
        assert str(value).startswith("depth: ")
