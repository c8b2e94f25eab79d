"""Sweeps: trial expansion, idempotent reruns, failed trials recorded, aggregation; Ray = local (slow)."""
import json

import pytest

from qgm.errors import ConfigError
from qgm.sweep import MAX_TRIALS, expand_trials, parse_grid, run_sweep

BASE = {
    "name": "tiny", "dataset": {"name": "bas", "rows": 2, "cols": 2},
    "model": {"name": "qcbm", "ansatz": {"name": "hardware_efficient", "depth": 1}},
    "loss": {"name": "mmd"}, "optimizer": {"name": "adam", "lr": 0.1},
    "train": {"steps": 3, "plots": False, "checkpoint_every": 0}, "metrics": ["kl"],
}


def test_grid_expansion_and_stable_keys():
    grid = parse_grid(["optimizer.lr=0.01,0.1", "model.ansatz.depth=1,2,3"])
    assert grid == [("optimizer.lr", [0.01, 0.1]), ("model.ansatz.depth", [1, 2, 3])]
    trials = expand_trials("train", BASE, grid, seeds=2)
    assert len(trials) == 12 and len({t.key for t in trials}) == 12
    assert trials[0].config["optimizer"]["lr"] == 0.01 and BASE["optimizer"]["lr"] == 0.1  # base untouched
    assert [t.key for t in expand_trials("train", BASE, grid, seeds=2)] == [t.key for t in trials]
    with pytest.raises(ConfigError, match="key.path=v1,v2"):
        parse_grid(["optimizer.lr"])
    with pytest.raises(ConfigError, match="limit"):
        expand_trials("train", BASE, [("seed", list(range(MAX_TRIALS)))], seeds=2)


def test_rerun_skips_finished_trials_and_failures_do_not_stop_the_others(tmp_path):
    trials = expand_trials("train", BASE, parse_grid(["optimizer.lr=0.1,-1"]), seeds=2)
    summary = run_sweep(trials, tmp_path, workers=1, progress=False)
    assert summary["n_trials"] == 4 and summary["n_ok"] == 2
    rows = (tmp_path / "sweep.csv").read_text().splitlines()
    assert rows[0].startswith("optimizer.lr,seed,status") and sum(",failed," in r for r in rows) == 2
    failed = [json.loads((tmp_path / "trials" / t.key / "result.json").read_text()) for t in trials[2:]]
    assert all("optimizer.lr" in r["error"] for r in failed)
    ok_file = tmp_path / "trials" / trials[0].key / "result.json"
    stamp = ok_file.stat().st_mtime_ns
    run_sweep(trials, tmp_path, workers=1, progress=False)
    assert ok_file.stat().st_mtime_ns == stamp  # finished trials are not rerun
    stats = json.loads((tmp_path / "sweep.json").read_text())["points"][0]["stats"]
    assert stats["loss"]["n"] == 2 and stats["loss"]["min"] <= stats["loss"]["median"] <= stats["loss"]["max"]
    assert (tmp_path / "sweep.png").is_file()


@pytest.mark.slow
def test_ray_and_local_executors_give_identical_trials(tmp_path):
    pytest.importorskip("ray")
    trials = expand_trials("train", BASE, parse_grid(["optimizer.lr=0.05,0.1"]), seeds=4)
    local = run_sweep(trials, tmp_path / "local", executor="local", workers=2, progress=False)
    ray = run_sweep(trials, tmp_path / "ray", executor="ray", workers=2, progress=False)
    assert local["n_ok"] == ray["n_ok"] == 8
    for t in trials:
        a = json.loads((tmp_path / "local" / "trials" / t.key / "result.json").read_text())["numbers"]
        b = json.loads((tmp_path / "ray" / "trials" / t.key / "result.json").read_text())["numbers"]
        assert {k: v for k, v in a.items() if k != "train_time_s"} == {k: v for k, v in b.items() if k != "train_time_s"}
