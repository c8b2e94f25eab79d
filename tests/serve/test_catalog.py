"""What list_components offers, and how job progress is read from a run's metrics."""
from __future__ import annotations

import json

from qgm.serve.catalog import Examples, components, default_examples_dir, purpose
from qgm.serve.limits import Limits
from qgm.serve.progress import TAIL_BYTES, describe, last_records
from qgm.serve.table import Job
from qgm.train.run import load_plugins


def test_purpose_strips_markup():
    def f():
        """Registered factory: :class:`~qgm.data.BarsAndStripes` (``n_bits = rows*cols``).

        More text."""

    assert purpose(f) == "qgm.data.BarsAndStripes (n_bits = rows*cols)."
    assert purpose(lambda: None) == ""


def test_components_list_registries_examples_claims_limits():
    load_plugins()
    examples = Examples(default_examples_dir())
    out = components(examples, Limits(max_running_jobs=1).to_dict())
    datasets = {d["name"]: d for d in out["datasets"]}
    assert datasets["bas"]["options"] == {"rows": 3, "cols": 3}
    assert "file" not in datasets  # it reads a path named in the config: never offered to clients
    models = {m["name"]: m for m in out["models"]}
    assert models["qcbm"]["trains_on"] == ["Bits", "PureStates"] and "dataset" not in models["qcbm"]["options"]
    assert {"kl", "tv", "valid_fraction"} <= {m["name"] for m in out["metrics"]}
    kinds = {e["name"]: e["kind"] for e in out["examples"]}
    assert kinds["bas3x3_qcbm"] == "train" and kinds["plateau_global_vs_local"] == "plateau"
    assert "liu_wang_bas_exact" in {c["name"] for c in out["claims"]}
    assert out["limits"]["max_running_jobs"] == 1
    json.dumps(out)  # JSON-ready throughout


def test_last_records_tail_and_partial_lines(tmp_path):
    path = tmp_path / "metrics.jsonl"
    assert last_records(path) == (None, None)
    records = [{"step": 0, "kl": 2.0}] + [{"step": s, "loss": 1.0 / s, "lr": 0.1} for s in range(1, 4000)]
    text = "".join(json.dumps(r) + "\n" for r in records)
    assert len(text) > TAIL_BYTES  # the last record with metrics lies before the tail
    path.write_text(text + '{"step": 4000, "lo')  # a line being written
    last, evaluated = last_records(path)
    assert last == {"step": 3999, "loss": 1.0 / 3999, "lr": 0.1} and evaluated is None
    path.write_text('{"step": 0, "kl": 2.0}\n{"step": 1, "loss": 0.5, "lr": 0.1, "kl": 1.5}\n{"step": 2, "loss": 0.4}\n')
    assert last_records(path) == ({"step": 2, "loss": 0.4}, {"step": 1, "loss": 0.5, "lr": 0.1, "kl": 1.5})


def test_describe_progress_and_eta(tmp_path):
    (tmp_path / "metrics.jsonl").write_text("".join(json.dumps({"step": s, "loss": 0.1}) + "\n" for s in range(1, 26)))
    job = Job(id="0123456789abcdef", owner="a", kind="train", payload={"train": {"steps": 100}}, wall_s=60.0,
              state="running", created=900.0, started=1000.0)
    out = describe(job, tmp_path, now=1050.0)
    assert (out["step"], out["steps"], out["progress"], out["elapsed_s"]) == (25, 100, 0.25, 50.0)
    assert out["eta_s"] == 150.0  # 50 s for 25 steps, 75 steps to go
    assert out["started"] == "1970-01-01T00:16:40+00:00" and out["run_id"] == job.id
    queued = describe(Job(id=job.id, owner="a", kind="reproduce", payload={}, wall_s=1.0, created=5.0), tmp_path)
    assert queued["state"] == "queued" and "step" not in queued and "elapsed_s" not in queued
