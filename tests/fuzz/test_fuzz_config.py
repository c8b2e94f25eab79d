"""Fuzzing run configs: the corpus of known-bad configs (tests/corpus/config, each with its expected
message) and hypothesis mutations of a valid config and of YAML text. Every input must end in a
one-line QGMError or a built run within the budget of :mod:`budget`."""
from __future__ import annotations

import math
from pathlib import Path

import pytest
import yaml
from budget import examples, outcome, warm_up
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from qgm.errors import QGMError
from qgm.train import build_run, load_config, parse_config
from qgm.train.config import apply_overrides, yaml_load

CORPUS = Path(__file__).parents[1] / "corpus" / "config"
VALID = yaml.safe_load((CORPUS / "valid.yaml").read_text())


@pytest.fixture(scope="module", autouse=True)
def warm():
    warm_up()


def expected(path: Path) -> str:
    """The ``# expect: ...`` first line of a corpus file."""
    first = path.read_bytes().split(b"\n", 1)[0].decode("ascii")
    assert first.startswith("# expect: "), path
    return first[len("# expect: "):]


@pytest.mark.parametrize("path", sorted(CORPUS.glob("*.yaml")), ids=lambda p: p.stem)
def test_config_corpus(path):
    want = expected(path)
    kind, value = outcome(lambda: build_run(load_config(path)))
    if want == "ok":
        assert kind == "ok", value
    else:
        assert kind == "error" and want in str(value), (path.name, str(value))
        assert len(str(value)) < 600


def test_oversized_config_is_refused_before_parsing(tmp_path):
    big = tmp_path / "big.yaml"
    big.write_text("name: x\npad: [" + "1, " * 600_000 + "1]\n")
    kind, exc = outcome(lambda: load_config(big), seconds=5)
    assert kind == "error" and "MAX_CONFIG_BYTES" in str(exc)
    kind, exc = outcome(lambda: yaml_load("a: '" + "x" * (2 << 20) + "'"), seconds=5)
    assert kind == "error" and "MAX_CONFIG_BYTES" in str(exc)


# ---------------------------------------------------------------------------- hypothesis
NASTY = st.one_of(
    st.none(), st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.sampled_from([0, -1, 1, 2, 3, 10**12, 2**63, 2**64 + 1, 10**400]),
    st.floats(allow_nan=True, allow_infinity=True), st.sampled_from([1e12, -0.0, 1e-320, 0.5]),
    st.text(max_size=30), st.sampled_from(["", "..", "n", "9**9**9**9", "ceil(log2(n))", "a" * 500]),
    st.lists(st.integers(-3, 3), max_size=4), st.dictionaries(st.text(max_size=5), st.integers(-2, 2), max_size=3),
)
#: Dotted keys of the valid config (and a few that are not there) to overwrite.
PATHS = [
    "name", "seed", "dataset", "dataset.name", "dataset.rows", "dataset.cols", "dataset.extra", "model", "model.name",
    "model.ansatz", "model.ansatz.depth", "model.ansatz.name", "model.ansatz.pairs", "model.shots", "model.init",
    "loss", "loss.name", "loss.sigmas", "optimizer", "optimizer.name", "optimizer.lr", "optimizer.betas", "schedule",
    "schedule.name", "train", "train.steps", "train.batch_size", "train.eval_every", "train.n_eval_samples",
    "train.keep_checkpoints", "train.early_stop", "train.callbacks", "metrics", "bogus",
]


def _with(raw: dict, path: str, value) -> dict:
    out = apply_overrides(raw, [])
    node = out
    *parents, last = path.split(".")
    for part in parents:
        if not isinstance(node.get(part), dict):
            node[part] = {}
        node = node[part]
    node[last] = value
    return out


@settings(max_examples=examples(40), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(edits=st.lists(st.tuples(st.sampled_from(PATHS), NASTY), min_size=1, max_size=3))
def test_mutated_configs_build_or_fail_in_one_line(edits):
    raw = VALID
    for path, value in edits:
        raw = _with(raw, path, value)
    kind, value = outcome(lambda: build_run(raw))
    if kind == "ok":  # what built must be what was asked for
        assert value.config == parse_config(value.config.to_dict())


YAML_ATOMS = st.sampled_from([
    "a", ": ", "- ", "[", "]", "{", "}", ",", "&x ", "*x", "!!int ", "!!python/name:os.system", "\n", "  ", "\t",
    "'", '"', "#", "?", "|", ">", "1e400", ".nan", "0x1F", "2001-13-45", "<<: ", "\x00", "\u00e9", "%YAML 1.1\n",
])


@settings(max_examples=examples(150), deadline=None)
@given(text=st.one_of(st.text(max_size=200), st.lists(YAML_ATOMS, max_size=40).map("".join)))
def test_yaml_text_parses_or_fails_in_one_line(text):
    kind, value = outcome(lambda: yaml_load(text, "fuzz.yaml"), seconds=5)
    if kind == "error":
        assert str(value).startswith("fuzz.yaml: ")


@settings(max_examples=examples(40), deadline=None)
@given(blob=st.binary(max_size=300))
def test_config_files_of_any_bytes(tmp_path_factory, blob):
    path = tmp_path_factory.mktemp("cfg") / "c.yaml"
    path.write_bytes(blob)
    kind, value = outcome(lambda: load_config(path), seconds=5)
    assert kind == "error" or isinstance(value, object)


def test_nasty_values_are_reported_briefly():
    for value in (10**400, math.inf, "x" * 10**6, [[[[["deep"]]]]] * 10**5, {i: i for i in range(10**5)}):
        with pytest.raises(QGMError) as info:
            parse_config({**VALID, "name": value})
        assert len(str(info.value)) < 300
