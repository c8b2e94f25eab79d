"""Conditional sampling of a Born machine: model.sample(condition=, method=), its cost report,
`qgm sample --condition`, and the market-copula joint-crash scenarios."""
from __future__ import annotations

import json

import numpy as np
import pytest
import torch
import yaml
from scipy.stats import chi2

from qgm import sim
from qgm.circuits import Circuit
from qgm.cli import main
from qgm.data.base import GridDataset
from qgm.errors import ConfigError, DataError, ParameterError, QGMError
from qgm.models import QCBM
from qgm.models.scenarios import joint_crash, resolve_condition, scenarios


def trained_like(n: int = 5, seed: int = 0) -> QCBM:
    model = QCBM({"name": "hardware_efficient", "n_qubits": n, "depth": 3, "entangler": "all"}, seed=seed)
    with torch.no_grad():
        model.theta.uniform_(0, 6.28, generator=torch.Generator().manual_seed(seed))
    return model


def conditional(model: QCBM, mask: torch.Tensor) -> np.ndarray:
    p = model.probs().detach() * mask
    return (p / p.sum()).numpy()


def chi2_ok(samples: torch.Tensor, target: np.ndarray) -> bool:
    counts = np.bincount(samples.numpy(), minlength=len(target))
    keep = target > 0
    n = len(samples)
    stat = ((counts[keep] - n * target[keep]) ** 2 / (n * target[keep])).sum()
    return counts[~keep].sum() == 0 and stat < chi2.ppf(0.999, keep.sum() - 1)


@pytest.mark.parametrize("method, options", [
    ("reject", {}), ("amplify", {}), ("amplify", {"schedule": "grover"}), ("amplify", {"schedule": "zero_failure"}),
    ("amplify", {"schedule": "fixed_point", "p_min": 0.01}), ("exact", {}),
])
def test_conditional_samples_follow_the_model_conditional(method, options):
    model = trained_like()
    assert model.tags.conditional
    x = torch.arange(32)
    mask = ((x >> 4) & 1 == 1) & ((x >> 0) & 1 == 0)  # x0 = 1 (MSB), x4 = 0 (LSB)
    g = torch.Generator().manual_seed(1)
    samples = model.sample(1500, generator=g, condition="x0=1,x4=0", method=method, **options)
    assert samples.shape == (1500,) and samples.dtype == torch.int64
    assert chi2_ok(samples, conditional(model, mask))
    again = model.sample(1500, generator=torch.Generator().manual_seed(1), condition={0: 1, 4: 0}, method=method, **options)
    assert torch.equal(samples, again)


def test_every_condition_form_reaches_the_model():
    model = trained_like(4, seed=2)
    allowed = [1, 2, 4, 8]  # weight-one strings
    forms = [allowed, torch.tensor(allowed), torch.isin(torch.arange(16), torch.tensor(allowed)),
             lambda bits: bits.sum(1) == 1]
    target = conditional(model, torch.isin(torch.arange(16), torch.tensor(allowed)))
    for form in forms:
        samples = model.sample(800, generator=torch.Generator().manual_seed(0), condition=form, method="amplify")
        assert set(samples.tolist()) <= set(allowed) and chi2_ok(samples, target)


def test_cost_report_amplify_beats_reject_on_a_rare_condition():
    model = trained_like(6, seed=3)
    cond = "x0=1,x1=1,x2=0,x3=1,x5=0"
    p = float(model.probs().detach()[[i for i in range(64) if (i >> 5) & 1 and (i >> 4) & 1 and not (i >> 3) & 1
                                          and (i >> 2) & 1 and not i & 1]].sum())
    reject = model.sample_conditional(400, cond, method="reject", generator=torch.Generator().manual_seed(0))
    amplified = model.sample_conditional(400, cond, method="amplify", schedule="grover",
                                         generator=torch.Generator().manual_seed(0))
    assert reject.p == pytest.approx(p, rel=1e-10) == amplified.p
    assert p < 0.05 and amplified.queries_per_sample < 0.5 * reject.queries_per_sample
    assert abs(reject.queries_per_sample * p - 1) < 0.25  # 1/p state preparations per sample
    stats = json.loads(json.dumps(amplified.stats()))
    assert stats["samples"] == 400 and stats["queries"] == amplified.queries and stats["schedule"] == "grover"


def test_unconditioned_sampling_is_unchanged():
    model = trained_like()
    got = model.sample(100, generator=torch.Generator().manual_seed(5))
    want = sim.sample(model.circuit, model.theta.detach(), 100, generator=torch.Generator().manual_seed(5))
    assert torch.equal(got, want)


@pytest.mark.parametrize("kwargs, exc, text", [
    ({"condition": "x0=1", "method": "magic"}, ConfigError, "method"),
    ({"condition": "x0=1", "schedule": "grover"}, ConfigError, "method='amplify'"),
    ({"condition": "x0=1", "method": "exact", "p_min": 0.1}, ConfigError, "p_min"),
    ({"method": "amplify"}, ConfigError, "condition="),
    ({"schedule": "bbht"}, ConfigError, "condition="),
    ({"condition": "x9=1"}, ParameterError, "x0..x4"),
    ({"condition": "x0=1", "method": "amplify", "schedule": "nope"}, ConfigError, "schedule"),
    ({"condition": "x0=1", "method": "amplify", "shots": 3}, ConfigError, "unknown option"),
])
def test_bad_requests_are_one_line_errors(kwargs, exc, text):
    with pytest.raises(exc) as info:
        trained_like().sample(10, generator=torch.Generator(), **kwargs)
    assert "\n" not in str(info.value) and text in str(info.value)


def test_impossible_condition_through_the_model():
    model = QCBM(Circuit(3).ry(1).cx(1, 2).ry(2))
    assert float(model.probs().detach()[4:].sum()) < 1e-20  # wire 0 stays |0>: x0=1 never happens
    for method in ("reject", "amplify", "exact"):
        with pytest.raises(DataError, match="p = 0"):
            model.sample(5, condition="x0=1", method=method)


# -- joint-crash scenarios -------------------------------------------------------------------------


def grid(bits: int = 3, d: int = 2) -> GridDataset:
    train = torch.randint(0, 1 << (bits * d), (50,), generator=torch.Generator().manual_seed(0))
    return GridDataset("toy_grid", bits, [np.linspace(-1, 1, 1 << bits)] * d, train)


def test_joint_crash_regions():
    data = grid(bits=3, d=2)
    assert joint_crash(data, 0.05) == {0: 0, 1: 0, 2: 0, 3: 0, 4: 0, 5: 0}  # lowest 1 of 8 bins each
    assert joint_crash(data, 0.25) == {0: 0, 1: 0, 3: 0, 4: 0}  # lowest 2 of 8 bins: two leading bits 0
    assert joint_crash(data, 0.5) == {0: 0, 3: 0}
    mask = joint_crash(data, 0.3)  # ceil(2.4) = 3 bins per asset: not a power of two
    b = data.bin_indices(torch.arange(64))
    assert torch.equal(mask, torch.from_numpy((b < 3).all(axis=1)))
    assert joint_crash(data, 1.0) == {}
    assert resolve_condition(data, "joint_crash:0.5") == {0: 0, 3: 0} and resolve_condition(data, "x0=1") == "x0=1"
    for bad in (0.0, 1.5, "x"):
        with pytest.raises(QGMError):
            joint_crash(data, bad)
    with pytest.raises(ParameterError, match="numeric level"):
        resolve_condition(data, "joint_crash:low")
    with pytest.raises(ConfigError, match="market_copula"):
        joint_crash(object())


def test_joint_crash_scenarios_decode_to_the_lowest_bins():
    data = grid(bits=3, d=2)
    model = trained_like(6, seed=4)
    out = scenarios(model, data, 200, torch.Generator().manual_seed(0), condition="joint_crash:0.25", method="amplify")
    assert out.shape == (200, 2) and np.all(out <= data.centres[0][1] + 1e-12)
    with pytest.raises(ConfigError, match="cannot sample under a condition"):
        class Plain:
            tags = type("T", (), {"conditional": False})()

        scenarios(Plain(), data, 3, condition="joint_crash")


# -- the CLI ---------------------------------------------------------------------------------------


CONFIG = {
    "name": "cond_bas22", "dataset": {"name": "bas", "rows": 2, "cols": 2},
    "model": {"name": "qcbm", "ansatz": {"name": "liu_wang", "depth": 2}}, "loss": {"name": "mmd"},
    "optimizer": {"name": "adam", "lr": 0.1},
    "train": {"steps": 5, "eval_every": 5, "checkpoint_every": 5, "n_eval_samples": 50, "plots": False},
    "metrics": ["kl"],
}


def test_cli_sample_with_condition(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "c.yaml").write_text(yaml.safe_dump(CONFIG))
    assert main(["train", "c.yaml"]) == 0
    capsys.readouterr()
    assert main(["sample", "runs/cond_bas22", "--condition", "x0=1,x3=0", "--method", "amplify", "--n", "60"]) == 0
    stats = json.loads(capsys.readouterr().out.splitlines()[0])
    rows = np.load(tmp_path / "runs" / "cond_bas22" / "sampled.npy")
    assert rows.shape == (60, 4) and np.all(rows[:, 0] == 1) and np.all(rows[:, 3] == 0)
    assert stats["schedule"] == "bbht" and stats["samples"] == 60 and stats["queries"] >= 60
    assert main(["sample", "runs/cond_bas22", "--n", "5", "--method", "amplify"]) == 2
    assert "--condition" in capsys.readouterr().err
    assert main(["sample", "runs/cond_bas22", "--n", "5", "--condition", "x0=7"]) == 2
    assert "x0=1,x4=0" in capsys.readouterr().err


def test_cli_joint_crash_scenarios(tmp_path, monkeypatch, capsys):
    pytest.importorskip("arch")
    monkeypatch.chdir(tmp_path)
    config = {**CONFIG, "name": "crash", "dataset": {"name": "market_copula", "bits": 3},
              "model": {"name": "qcbm", "ansatz": {"name": "hardware_efficient", "depth": 2}},
              "loss": {"name": "kl"}, "train": {**CONFIG["train"], "batch_size": None}}
    (tmp_path / "c.yaml").write_text(yaml.safe_dump(config))
    assert main(["train", "c.yaml"]) == 0
    assert main(["scenarios", "runs/crash", "--n", "40", "--condition", "joint_crash:0.25", "--method", "amplify",
                 "--schedule", "grover", "--out", "crash.csv"]) == 0
    days = np.loadtxt(tmp_path / "crash.csv", delimiter=",", skiprows=1)
    from qgm.data.market import MarketCopula

    train = MarketCopula(bits=3).returns("train")
    assert days.shape == (40, 2) and np.all(days <= np.quantile(train, 0.25, axis=0) + 1e-12)
    capsys.readouterr()
    assert main(["scenarios", "runs/crash", "--n", "5", "--schedule", "grover"]) == 2
