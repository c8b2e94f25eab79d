"""Run directories survive: failed resumes, second writers, truncated metrics, damaged checkpoints; files are
written atomically and checkpoints pruned; `qgm eval` reproduces summary.json."""
import json
import logging
import os
from pathlib import Path

import pytest
import torch

import qgm.atomic
from qgm.cli import main
from qgm.errors import ConfigError
from qgm.lock import LOCK_NAME, RunLock
from qgm.train import eval_run, read_records, run_config
from qgm.train.callbacks import checkpoints
from qgm.train.config import parse_config
from qgm.train.run import default_run_dir

CONFIG = {
    "name": "rundir", "dataset": {"name": "bas", "rows": 2, "cols": 2},
    "model": {"name": "qcbm", "ansatz": {"name": "liu_wang", "depth": 1}}, "loss": {"name": "mmd"},
    "optimizer": {"name": "adam", "lr": 0.1},
    "train": {"steps": 10, "batch_size": 4, "eval_every": 5, "checkpoint_every": 5, "n_eval_samples": 300,
              "plots": False, "progress": False},
    "metrics": ["kl", "valid_fraction"],
}


def with_train(**changes):
    return {**CONFIG, "train": {**CONFIG["train"], **changes}}


def snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    """An uninterrupted 15-step run: its records and final weights."""
    out = tmp_path_factory.mktemp("ref") / "run"
    run_config(with_train(steps=15), out)
    return read_records(out / "metrics.jsonl"), torch.load(out / "model.pt", weights_only=True)["state_dict"]


def assert_same_run(out: Path, reference) -> None:
    records, state = reference
    assert read_records(out / "metrics.jsonl") == records
    resumed = torch.load(out / "model.pt", weights_only=True)["state_dict"]
    assert all(torch.equal(resumed[k], state[k]) for k in state)


def test_a_refused_resume_changes_nothing(tmp_path, capsys):
    out = tmp_path / "run"
    run_config(CONFIG, out)
    before = snapshot(out)
    for change, key in (("model.ansatz.depth=3", "model.ansatz.depth: 1 -> 3"), ("optimizer.lr=0.5", "optimizer.lr"),
                        ("seed=4", "seed: 0 -> 4"), ("train.batch_size=8", "train.batch_size: 4 -> 8")):
        assert main(["train", "--resume", str(out), "--set", change]) == 2
        err = capsys.readouterr().err
        assert f"--resume: the config differs from {out / 'config.yaml'} ({key}" in err and err.count("\n") == 1
        assert snapshot(out) == before  # config.yaml, metrics and checkpoints untouched, no lock left behind
    assert main(["train", "--resume", str(out), "--set", "train.steps=15", "--set", "metrics=[kl]"]) == 0
    assert json.loads(capsys.readouterr().out)["steps"] == 15


def test_a_second_writer_is_refused(tmp_path, capsys):
    out = tmp_path / "run"
    run_config(CONFIG, out)
    before = snapshot(out)
    with RunLock(out):  # another process owns the run (here: this one)
        assert main(["train", "--resume", str(out), "--set", "train.steps=15"]) == 2
        err = capsys.readouterr().err
        assert f"--out: {out} is in use by pid {os.getpid()} on host" in err and err.count("\n") == 1
        assert {k: v for k, v in snapshot(out).items() if k != LOCK_NAME} == before


def test_resume_drops_a_truncated_metrics_line(tmp_path, capsys, reference):
    out = tmp_path / "run"
    run_config(CONFIG, out)
    text = (out / "metrics.jsonl").read_text()
    (out / "metrics.jsonl").write_text(text[: len(text) - 25])  # the last record cut short (a full disk)
    assert main(["train", "--resume", str(out), "--set", "train.steps=15"]) == 0
    err = capsys.readouterr().err
    assert "qgm train: note:" in err and "metrics.jsonl: dropped line 11, a record cut short" in err
    assert "metrics.jsonl: put back the record of step 10 from the checkpoint" in err
    assert_same_run(out, reference)


def test_a_damaged_line_before_the_last_is_an_error(tmp_path):
    path = tmp_path / "metrics.jsonl"
    path.write_text('{"step": 0}\n{"step": \n{"step": 2}\n')
    with pytest.raises(ConfigError, match="metrics.jsonl: line 2 is not a metrics record .*the file is damaged"):
        read_records(path)


@pytest.mark.parametrize("damage", [lambda b: b[: len(b) // 2], lambda b: b"", lambda b: b"\x00" * 64])
def test_resume_falls_back_to_the_newest_readable_checkpoint(tmp_path, caplog, reference, damage):
    out = tmp_path / "run"
    run_config(CONFIG, out)
    latest = out / "checkpoints" / "step_000010.pt"
    latest.write_bytes(damage(latest.read_bytes()))
    with caplog.at_level(logging.WARNING, logger="qgm"):
        run_config(with_train(steps=15), out, resume=True)
    assert f"checkpoint '{latest}' cannot be read" in caplog.text and "trying the previous checkpoint" in caplog.text
    assert (out / "checkpoints" / "step_000010.pt.damaged").is_file()  # set aside, not silently reused
    assert_same_run(out, reference)


def test_no_readable_checkpoint_is_an_error(tmp_path):
    out = tmp_path / "run"
    run_config(CONFIG, out)
    for _, path in checkpoints(out / "checkpoints"):
        path.write_bytes(b"")
    with pytest.raises(ConfigError, match="none of the 2 checkpoints in .* can be read; start a new run"):
        run_config(with_train(steps=15), out, resume=True)


@pytest.mark.parametrize("keep, kept", [(None, list(range(1, 11))), (3, [8, 9, 10]), (1, [10])])
def test_checkpoints_are_pruned_to_keep_checkpoints(tmp_path, keep, kept):
    out = tmp_path / "run"
    run_config(with_train(checkpoint_every=1, keep_checkpoints=keep, eval_every=0), out)
    assert [step for step, _ in checkpoints(out / "checkpoints")] == kept
    assert parse_config(CONFIG).train.keep_checkpoints == 3


def test_every_run_file_is_written_atomically(tmp_path, monkeypatch):
    written = []
    replace = os.replace

    def recording_replace(src, dst):
        written.append(Path(dst).resolve())
        replace(src, dst)

    monkeypatch.setattr(qgm.atomic.os, "replace", recording_replace)
    out = tmp_path / "run"
    run_config(with_train(plots=True), out)
    files = {p.resolve() for p in out.rglob("*") if p.is_file()}
    appended = {(out / "metrics.jsonl").resolve()}  # cut back atomically, then appended line by line
    assert files - appended <= set(written)
    assert {"config.yaml", "samples.npy", "summary.json", "model.pt", "curves.png"} <= {p.name for p in written}
    assert not [p for p in out.rglob(".tmp-*")] and not (out / LOCK_NAME).exists()


def test_a_run_name_cannot_leave_the_runs_folder():
    for bad in ("..", ".", "../x", "a/b", ".hidden", "-x"):
        with pytest.raises(ConfigError, match="^name: use letters, digits"):
            parse_config({**CONFIG, "name": bad})
    assert default_run_dir(parse_config({**CONFIG, "name": "a..b"})) == Path("runs") / "a..b"


def test_eval_reproduces_summary_json_and_says_which_seed(tmp_path, capsys):
    out = tmp_path / "run"
    summary = run_config(CONFIG, out)
    assert eval_run(out) == summary["metrics"]  # valid_fraction is estimated from samples: same stream, same value
    assert main(["eval", str(out)]) == 0
    captured = capsys.readouterr()
    assert json.loads(captured.out) == summary["metrics"]
    assert "note: sampled with the run's evaluation stream at step 10, as in summary.json" in captured.err
    assert main(["eval", str(out), "--seed", "3"]) == 0
    assert "sampled with seed 3 (summary.json used the run's own evaluation stream" in capsys.readouterr().err
