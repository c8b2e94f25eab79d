"""Limits and the request checks that apply them (plain data, nothing built)."""
from __future__ import annotations

import re

import pytest

from conftest import TINY
from qgm.errors import ConfigError, ResourceError
from qgm.serve.catalog import Examples, default_examples_dir
from qgm.serve.configs import plateau_payload, request_data, train_payload
from qgm.serve.limits import Limits, check_count, check_no_paths, declared_width
from qgm.train.config import parse_config, yaml_load

LIMITS = Limits(max_running_jobs=1, max_qubits=12, max_steps=100, max_samples=1000)


def tiny(**sections) -> dict:
    raw = yaml_load(TINY)
    for key, value in sections.items():
        raw[key] = {**raw[key], **value} if key == "train" else value  # train keys are merged, other sections replaced
    return raw


def test_limits_from_pairs_types_and_refusals():
    limits = Limits.from_pairs(["max_qubits=10", "max_wall_s=2.5"], LIMITS)
    assert (limits.max_qubits, limits.max_wall_s, limits.max_steps) == (10, 2.5, 100)
    assert isinstance(limits.max_qubits, int)
    with pytest.raises(ConfigError, match="--limit 'max_bits=3': expected NAME=VALUE with NAME one of max_running_jobs"):
        Limits.from_pairs(["max_bits=3"])
    with pytest.raises(ConfigError, match="--limit max_qubits: expected a number"):
        Limits.from_pairs(["max_qubits=many"])
    with pytest.raises(ConfigError, match="limits.max_steps: expected a positive number"):
        Limits(max_steps=0)


def test_declared_width_reads_width_keys_and_grids_at_any_depth():
    assert declared_width({"name": "bas", "rows": 5, "cols": 8}, "dataset") == (40, "dataset.rows*cols")
    assert declared_width({"name": "ghz", "n_qubits": 40}, "dataset") == (40, "dataset.n_qubits")
    assert declared_width({"name": "qgan", "ansatz": {"n": 7}, "n_qubits": 3}, "model") == (7, "model.ansatz.n")
    assert declared_width({"name": "x", "enc": {"rows": 3, "cols": 4}}, "dataset") == (12, "dataset.enc.rows*cols")
    assert declared_width({"name": "qcbm", "ansatz": {"depth": 50}}, "model") == (0, "")


def test_check_count_bounds():
    assert check_count("n", 1000, 1000) == 1000
    with pytest.raises(ResourceError, match=r"limits.max_samples: n=1001 is more than this server's 1000"):
        check_count("n", 1001, 1000)
    for bad in (0, -3, 2.5, True, "7"):
        with pytest.raises(ConfigError, match="n: expected a positive integer"):
            check_count("n", bad, 1000)


@pytest.mark.parametrize("section,where", [
    ({"name": "file", "path": "../../etc/passwd"}, "dataset.path"),
    ({"name": "bas", "extra": [{"test_path": "/etc"}]}, "dataset.extra[0].test_path"),
    ({"name": "bas", "out_dir": "x"}, "dataset.out_dir"),
    ({"name": "bas", "source": {"url": "http://x"}}, "dataset.source.url"),
    ({"name": "qm9", "source": "../../etc/passwd"}, "dataset.source"),
])
def test_paths_are_refused_wherever_they_hide(section, where):
    with pytest.raises(ConfigError, match="^" + re.escape(where) + ": this server does not read"):
        check_no_paths(section, "dataset")


def test_dataset_sections_named_source_are_not_paths():
    check_no_paths({"name": "density_ensemble", "source": {"name": "clustered_states", "n_qubits": 2}}, "dataset")


def test_train_payload_validates_limits_and_applies_policy():
    payload = train_payload(tiny(), LIMITS)
    assert payload["train"]["progress"] is False
    assert payload["train"]["checkpoint_every"] == 1  # a tenth of 5 steps, at least 1
    assert payload["dataset"] == {"name": "bas", "rows": 2, "cols": 2}
    explicit = tiny(train={"steps": 50, "checkpoint_every": 0})
    assert train_payload(explicit, LIMITS)["train"]["checkpoint_every"] == 0
    assert train_payload(tiny(train={"steps": 50}), LIMITS)["train"]["checkpoint_every"] == 5
    parse_config(payload)  # what the job receives passes the CLI's schema again


@pytest.mark.parametrize("change,message", [
    ({"dataset": {"name": "bas", "rows": 5, "cols": 8}}, r"limits.max_qubits: dataset.rows\*cols = 40 qubits"),
    ({"dataset": {"name": "ghz", "n_qubits": 40}}, "limits.max_qubits: dataset.n_qubits = 40 qubits"),
    ({"train": {"steps": 101}}, "limits.max_steps: train.steps=101"),
    ({"train": {"n_eval_samples": 5000}}, "limits.max_samples: train.n_eval_samples=5000"),
    ({"train": {"batch_size": 5000}}, "limits.max_samples: train.batch_size=5000"),
    ({"train": {"loggers": ["jsonl", "mlflow"]}}, "train.loggers: .*set train.loggers: \\[jsonl\\]"),
    ({"dataset": {"name": "file", "path": "../../etc/passwd"}}, "dataset.path: this server does not read"),
    ({"name": "../../etc"}, "name: use letters, digits"),
    ({"train": {"steps": "many"}}, "train.steps: expected an integer"),
    ({"model": {"name": "qcbmm"}}, "model.name: .*did you mean 'qcbm'"),
    ({"metrics": ["kl", "nope"]}, "metrics\\[1\\]: "),
])
def test_train_payload_refusals(change, message):
    with pytest.raises((ConfigError, ResourceError), match=message):
        train_payload(tiny(**change), LIMITS)


def test_request_data_examples_overrides_and_text():
    examples = Examples(default_examples_dir())
    raw = request_data("bas3x3_qcbm", None, {"dataset.rows": 2, "train.steps": 7}, "train", examples, LIMITS)
    assert raw["dataset"] == {"name": "bas", "rows": 2, "cols": 3} and raw["train"]["steps"] == 7
    assert examples.items["bas3x3_qcbm"].data["dataset"]["rows"] == 3  # the example itself is untouched
    assert request_data(None, '{"name": "j", "seed": 3}', None, "train", examples, LIMITS) == {"name": "j", "seed": 3}
    with pytest.raises(ConfigError, match="example, config: give exactly one"):
        request_data("bas3x3_qcbm", TINY, None, "train", examples, LIMITS)
    with pytest.raises(ConfigError, match="example: '../../etc' is not a train example"):
        request_data("../../etc", None, None, "train", examples, LIMITS)
    with pytest.raises(ConfigError, match="example: 'plateau_global_vs_local' is not a train example"):
        request_data("plateau_global_vs_local", None, None, "train", examples, LIMITS)
    with pytest.raises(ConfigError, match="config: 70000 characters; this server takes at most 65536"):
        request_data(None, "#" * 70000, None, "train", examples, Limits(max_running_jobs=1))
    with pytest.raises(ConfigError, match="overrides: expected an object"):
        request_data("bas3x3_qcbm", None, ["train.steps=3"], "train", examples, LIMITS)


def test_plateau_payload_limits():
    config = {"ansatz": {"name": "hardware_efficient"}, "n_qubits": [2, 4], "depth": 2, "cost": "global",
              "n_inits": 20}
    assert plateau_payload(config, LIMITS)["n_qubits"] == [2, 4]
    with pytest.raises(ResourceError, match="limits.max_qubits: n_qubits = 40 qubits"):
        plateau_payload({**config, "n_qubits": {"start": 2, "stop": 40}}, LIMITS)
    with pytest.raises(ResourceError, match=r"limits.max_samples: scans\[0\].n_inits=5000"):
        plateau_payload({**config, "scans": [{"n_inits": 5000}]}, LIMITS)
    with pytest.raises(ConfigError, match="plateau config: unknown key"):
        plateau_payload({**config, "cache_dir": "/tmp"}, LIMITS)
