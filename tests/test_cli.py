"""`qgm` end to end in a temporary directory: train, resume, sample, eval, list, errors."""
import json
import subprocess
import sys

import numpy as np
import pytest
import yaml

from qgm.circuits import Circuit
from qgm.cli import COMMANDS, main
from qgm.errors import ConfigError
from qgm.train import read_records

CONFIG = {
    "name": "cli_bas22",
    "dataset": {"name": "bas", "rows": 2, "cols": 2},
    "model": {"name": "qcbm", "ansatz": {"name": "liu_wang", "depth": 2}},
    "loss": {"name": "mmd"},
    "optimizer": {"name": "adam", "lr": 0.1},
    "train": {"steps": 30, "eval_every": 10, "checkpoint_every": 10, "n_eval_samples": 200, "plots": False},
    "metrics": ["kl", "valid_fraction"],
}


@pytest.fixture
def config_file(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    path = tmp_path / "bas.yaml"
    path.write_text(yaml.safe_dump(CONFIG))
    return path


def test_train_sample_eval(config_file, tmp_path, capsys):
    assert main(["train", str(config_file), "--set", "train.steps=20"]) == 0
    run = tmp_path / "runs" / "cli_bas22"
    summary = json.loads(capsys.readouterr().out)
    assert summary["steps"] == 20 and json.loads((run / "summary.json").read_text()) == summary
    assert yaml.safe_load((run / "config.yaml").read_text())["train"]["steps"] == 20

    assert main(["train", "--resume", str(run), "--set", "train.steps=30"]) == 0
    assert json.loads(capsys.readouterr().out)["steps"] == 30
    assert [r["step"] for r in read_records(run / "metrics.jsonl")] == list(range(31))
    assert main(["train", str(config_file), "--resume", "--out", str(run)]) == 0  # finished: nothing left to do
    capsys.readouterr()

    assert main(["sample", str(run), "--n", "7", "--out", str(tmp_path / "s"), "--seed", "1"]) == 0
    samples = np.load(tmp_path / "s.npy")
    assert samples.shape == (7, 4) and samples.dtype == np.int64 and set(np.unique(samples)) <= {0, 1}
    capsys.readouterr()

    assert main(["eval", str(run), "--n-samples", "300"]) == 0
    metrics = json.loads(capsys.readouterr().out)
    assert set(metrics) == {"kl", "valid_fraction"} and metrics["kl"] == summary_kl(run)
    assert main(["eval", str(run), "--metrics", "tv,qbas"]) == 0
    assert set(json.loads(capsys.readouterr().out)) == {"tv", "qbas"}


def summary_kl(run):
    return json.loads((run / "summary.json").read_text())["metrics"]["kl"]


def test_sample_values_dataset(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    cfg = dict(CONFIG, name="gauss", dataset={"name": "gaussian", "bits": 3},
               loss={"name": "mmd", "distance": "integer"}, metrics=[], train={"steps": 2, "plots": True})
    (tmp_path / "g.yaml").write_text(yaml.safe_dump(cfg))
    assert main(["train", "g.yaml"]) == 0
    assert (tmp_path / "runs/gauss/plots/values.png").is_file()
    assert main(["sample", "runs/gauss", "--n", "5", "--out", "v.npy"]) == 0
    values = np.load(tmp_path / "v.npy")
    assert values.dtype == np.float64 and values.shape == (5, 1)


def test_list(capsys):
    assert main(["list", "--json"]) == 0
    names = json.loads(capsys.readouterr().out)
    assert {"bas"} <= set(names["datasets"]) and {"qcbm"} <= set(names["models"])
    assert {"mmd", "kl"} <= set(names["losses"]) and {"adam", "sgd", "lbfgs", "rmsprop"} <= set(names["optimizers"])
    assert "kl" in names["metrics"] and set(COMMANDS) >= {"train", "sample", "eval", "list"}


@pytest.mark.parametrize(
    "args, message",
    [
        (["train", "{cfg}", "--set", "train.steps=0"], "train.steps: must be >= 1"),
        (["train", "{cfg}", "--set", "model.ansatz.n_qubits=3"], "model: ansatz n_qubits=3 differs"),
        (["train", "missing.yaml"], "not found"),
        (["train"], "CONFIG: give a config file"),
        (["train", "{cfg}", "--resume"], "train: error: --resume: no checkpoint"),
        (["sample", "nowhere", "--n", "3", "--out", "x.npy"], "not a run directory"),
    ],
)
def test_errors_exit_2_with_one_line(config_file, capsys, args, message):
    assert main([a.replace("{cfg}", str(config_file)) for a in args]) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1 and "Traceback" not in err


def test_entry_point_exit_code_and_debug(config_file):
    bad = [sys.executable, "-m", "qgm.cli", "train", str(config_file), "--set", "train.stepz=3"]
    proc = subprocess.run(bad, capture_output=True, text=True)
    assert proc.returncode == 2 and "train.stepz: unknown key" in proc.stderr and "Traceback" not in proc.stderr
    with pytest.raises(ConfigError, match="train.stepz"):
        main(bad[3:] + ["--debug"])


def test_geometry_of_a_qasm_circuit(tmp_path, capsys):
    from qgm.circuits import Circuit

    qasm = tmp_path / "c.qasm"
    qasm.write_text(Circuit(2).ry(0).ry(1).to_qasm())  # product state: no entanglement, metric diag(1/4)
    assert main(["geometry", str(qasm), "--n-pairs", "200", "--bins", "20", "--plot", str(tmp_path / "g.png")]) == 0
    out = capsys.readouterr().out
    report = json.loads(out[: out.rindex("}") + 1])
    assert report["n_params"] == 2 and report["metric_rank"] == 2
    assert report["entangling_capability"] == pytest.approx(0.0, abs=1e-12)
    assert report["metric_trace"] == pytest.approx(0.5, abs=1e-12)
    assert (tmp_path / "g.png").stat().st_size > 0


def test_geometry_of_a_training_config(config_file, capsys):
    assert main(["geometry", str(config_file), "--n-pairs", "100"]) == 0
    assert '"expressibility"' in capsys.readouterr().out


def test_plateau_writes_json(tmp_path, capsys):
    cfg = {
        "name": "tiny", "ansatz": {"name": "hardware_efficient"}, "n_qubits": [2, 3, 4], "n_inits": 64,
        "seed": 0, "scans": [{"cost": "global", "depth": "n"}],
    }
    path = tmp_path / "p.yaml"
    path.write_text(yaml.safe_dump(cfg))
    assert main(["plateau", str(path), "--out", str(tmp_path / "out")]) == 0
    result = json.loads((tmp_path / "out" / "plateau.json").read_text())
    assert len(result["points"]) == 3 and all(p["n_inits"] == 64 for p in result["points"])
    assert len(result["fits"]) == 1 and result["fits"][0]["slope"] < 0


def test_scenarios_writes_returns(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    cfg = {
        "name": "mkt", "dataset": {"name": "market_copula", "bits": 2},
        "model": {"name": "qcbm", "ansatz": {"name": "hardware_efficient", "depth": 1}},
        "loss": {"name": "mmd"}, "optimizer": {"name": "adam", "lr": 0.1},
        "train": {"steps": 2, "plots": False, "n_eval_samples": 100}, "metrics": ["kl"],
    }
    (tmp_path / "m.yaml").write_text(yaml.safe_dump(cfg))
    assert main(["train", "m.yaml", "--out", "run"]) == 0
    assert main(["scenarios", "run", "--n", "50", "--out", "s.csv"]) == 0
    x = np.loadtxt(tmp_path / "s.csv", delimiter=",", skiprows=1)
    assert x.shape == (50, 2) and np.all(np.abs(x) < 0.5)  # daily log-returns, not bin indices
    assert main(["scenarios", "run", "--n", "0"]) == 2


def test_threads_option(monkeypatch, capsys):
    import torch

    before = torch.get_num_threads()
    try:
        assert main(["--threads", "1", "list"]) == 0
        assert torch.get_num_threads() == 1
        assert main(["--threads", "0", "list"]) == 2
        monkeypatch.setenv("QGM_THREADS", "many")
        assert main(["list"]) == 2
        assert "QGM_THREADS" in capsys.readouterr().err
    finally:
        torch.set_num_threads(before)


def test_version_and_global_options_after_the_command(capsys):
    import torch

    import qgm

    with pytest.raises(SystemExit) as info:
        main(["--version"])
    assert info.value.code == 0 and capsys.readouterr().out.strip() == f"qgm {qgm.__version__}"
    threads = torch.get_num_threads()
    try:
        assert main(["list", "models", "--threads", "2"]) == 0 and torch.get_num_threads() == 2
    finally:
        torch.set_num_threads(threads)
    with pytest.raises(ConfigError, match="KIND: 'gatez' unknown"):
        main(["list", "gatez", "--debug"])


def test_list_is_complete_and_filters(capsys):
    from qgm.circuits import ANSATZE, GATES
    from qgm.losses.adversarial import ADVERSARIAL_LOSSES
    from qgm.models.discriminators import DISCRIMINATORS

    assert main(["list", "--json"]) == 0
    names = json.loads(capsys.readouterr().out)
    assert names["ansatzes"] == sorted(ANSATZE) and names["gates"] == sorted(GATES)
    assert names["adversarial_losses"] == sorted(ADVERSARIAL_LOSSES) and names["discriminators"] == sorted(DISCRIMINATORS)
    assert names["schedules"] == ["cosine", "exponential", "none", "step"] and "layerwise" in names["callbacks"]
    assert {"initializers", "plateau_costs", "datasets", "models", "losses", "optimizers", "metrics"} <= set(names)
    assert main(["list", "ansatzes", "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == {"ansatzes": sorted(ANSATZE)}


def test_a_closed_stdout_ends_quietly(monkeypatch, capsys):
    class Closed:
        def write(self, text):
            raise BrokenPipeError(32, "Broken pipe")

        def flush(self):
            raise BrokenPipeError(32, "Broken pipe")

    monkeypatch.setattr(sys, "stdout", Closed())
    assert main(["list", "--json"]) == 141
    assert capsys.readouterr().err == ""


def test_operating_system_errors_are_one_line(config_file, monkeypatch, capsys):
    import qgm.atomic

    def full(*args, **kwargs):
        raise OSError(28, "No space left on device", "runs/cli_bas22/config.yaml")

    monkeypatch.setattr(qgm.atomic, "atomic_write", full)
    assert main(["train", str(config_file), "--set", "train.steps=1"]) == 1
    assert capsys.readouterr().err == "qgm train: error: No space left on device: runs/cli_bas22/config.yaml\n"


def test_progress_bars_for_geometry_and_within_plateau_points(tmp_path, capsys):
    qasm = tmp_path / "c.qasm"
    qasm.write_text(Circuit(2).ry(0).cx(0, 1).ry(1).to_qasm())
    assert main(["geometry", str(qasm), "--n-pairs", "50", "--bins", "10"]) == 0
    err = capsys.readouterr().err
    assert "geometry" in err and "3/3" in err and "entangling capability" in err
    cfg = {"ansatz": {"name": "hardware_efficient"}, "n_qubits": [2, 3], "n_inits": 40, "n_boot": 10, "plot": False,
           "scans": [{"cost": "global", "depth": "n"}]}
    (tmp_path / "p.yaml").write_text(yaml.safe_dump(cfg))
    assert main(["plateau", str(tmp_path / "p.yaml"), "--out", str(tmp_path / "p")]) == 0
    err = capsys.readouterr().err
    assert "global depth=n n=2:" in err and "global depth=n n=3:" in err and "0/40" in err
    assert main(["plateau", str(tmp_path / "p.yaml"), "--out", str(tmp_path / "p2"), "--no-progress"]) == 0
    assert "/40" not in capsys.readouterr().err
