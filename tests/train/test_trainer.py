"""The Trainer and run directories: resume equals an uninterrupted run, determinism, BAS 2x2 training,
L-BFGS, early stopping, self-stepping models, checkpoints loadable with weights_only."""
import json

import numpy as np
import pytest
import torch

from qgm import sim
from qgm.errors import ConfigError
from qgm.losses import KLLoss, MMDLoss
from qgm.models import QCBM, ModelTags
from qgm.registry import DATASETS
from qgm.train import (
    Callback,
    Trainer,
    apply_overrides,
    build_optimizer,
    latest_checkpoint,
    load_checkpoint,
    read_records,
    run_config,
)

BASE = {
    "name": "bas22",
    "seed": 3,
    "dataset": {"name": "bas", "rows": 2, "cols": 2},
    "model": {"name": "qcbm", "ansatz": {"name": "liu_wang", "depth": 2, "pairs": "ring"}},
    "loss": {"name": "mmd"},
    "optimizer": {"name": "adam", "lr": 0.1},
    "train": {"steps": 20, "eval_every": 5, "checkpoint_every": 10, "n_eval_samples": 500,
              "progress": False, "plots": False},
    "metrics": ["kl", "valid_fraction"],
}
#: Every random stream in play: minibatches, shot-based loss, evaluation samples, a schedule.
NOISY = ["train.batch_size=8", "loss.shots=64", "schedule=cosine"]


def config(*overrides):
    return apply_overrides(BASE, list(overrides))


class Interrupt(Callback):
    """Simulates a crash after step ``at`` (after the step's checkpoint, if any)."""

    def __init__(self, at):
        self.at = at

    def on_step_end(self, trainer, record):
        if record["step"] == self.at:
            raise KeyboardInterrupt


def final_theta(run):
    return torch.load(run / "model.pt", weights_only=True)["state_dict"]["theta"]


def test_resume_continues_bit_exactly(tmp_path):
    whole, split = tmp_path / "whole", tmp_path / "split"
    s_whole = run_config(config(*NOISY), whole)
    with pytest.raises(KeyboardInterrupt):
        run_config(config(*NOISY), split, callbacks=[Interrupt(13)])
    assert latest_checkpoint(split / "checkpoints").name == "step_000010.pt"
    assert read_records(split / "metrics.jsonl")[-1]["step"] == 13
    s_split = run_config(config(*NOISY), split, resume=True)
    assert read_records(split / "metrics.jsonl") == read_records(whole / "metrics.jsonl")
    assert torch.equal(final_theta(split), final_theta(whole))
    assert s_split["metrics"] == s_whole["metrics"] and s_split["loss"] == s_whole["loss"]
    assert np.array_equal(np.load(split / "samples.npy"), np.load(whole / "samples.npy"))


def test_same_seed_same_run_other_seed_other_run(tmp_path):
    run_config(config(*NOISY), tmp_path / "a")
    run_config(config(*NOISY), tmp_path / "b")
    run_config(config(*NOISY, "seed=4"), tmp_path / "c")
    a, b, c = (read_records(tmp_path / k / "metrics.jsonl") for k in "abc")
    assert a == b and a != c
    assert torch.equal(final_theta(tmp_path / "a"), final_theta(tmp_path / "b"))


def test_bas22_run_directory_and_kl(tmp_path):
    out = tmp_path / "run"
    summary = run_config(config("train.steps=150", "train.eval_every=50", "train.plots=true", "train.checkpoint_every=50",
                                "metrics=[kl, valid_fraction, qbas]"), out)
    assert summary["metrics"]["kl"] < 0.05 and summary["metrics"]["valid_fraction"] > 0.9
    assert summary["steps"] == 150 and summary["n_params"] == QCBM_PARAMS and not summary["stopped_early"]
    assert json.loads((out / "summary.json").read_text()) == summary
    for name in ("config.yaml", "metrics.jsonl", "model.pt", "samples.npy",
                 "plots/curves.png", "plots/distribution.png", "plots/samples.png"):
        assert (out / name).is_file(), name
    records = read_records(out / "metrics.jsonl")
    assert [r["step"] for r in records] == list(range(151))
    assert records[0].keys() == {"step", "kl", "valid_fraction", "qbas"} and records[1].keys() == {"step", "loss", "lr"}
    assert records[-1]["kl"] == summary["metrics"]["kl"]
    samples = np.load(out / "samples.npy")
    assert samples.dtype == np.int64 and samples.shape == (500, 4) and set(np.unique(samples)) <= {0, 1}
    state = load_checkpoint(latest_checkpoint(out / "checkpoints"))  # weights_only=True
    assert state["step"] == 150 and torch.equal(state["model"]["theta"], final_theta(out))
    assert sorted(p.name for p in (out / "checkpoints").iterdir()) == [
        "step_000050.pt", "step_000100.pt", "step_000150.pt"]


#: Liu-Wang depth 2 on 4 qubits: 4 RX + 4 (RZ RX RZ) + 4 (RZ RX) angles.
QCBM_PARAMS = 4 * 2 + 4 * 3 + 4 * 2


def test_existing_run_needs_resume_or_overwrite(tmp_path):
    run_config(config("train.steps=2"), tmp_path)
    with pytest.raises(ConfigError, match="already holds a run"):
        run_config(config("train.steps=2"), tmp_path)
    run_config(config("train.steps=2"), tmp_path, overwrite=True)
    with pytest.raises(ConfigError, match="no checkpoint"):
        run_config(config("train.steps=2"), tmp_path / "new", resume=True)


def test_resume_extends_a_finished_run(tmp_path):
    run_config(config("train.steps=5"), tmp_path)
    summary = run_config(config("train.steps=8"), tmp_path, resume=True)
    assert summary["steps"] == 8 and [r["step"] for r in read_records(tmp_path / "metrics.jsonl")] == list(range(9))


def test_lbfgs_and_early_stopping(tmp_path):
    summary = run_config(config("optimizer={name: lbfgs, max_iter: 10}", "train.eval_every=1",
                                "train.early_stop={metric: kl, below: 0.01, patience: 2}"), tmp_path)
    assert summary["stopped_early"] and summary["steps"] < 20 and summary["metrics"]["kl"] < 0.01
    assert latest_checkpoint(tmp_path / "checkpoints").name == f"step_{summary['steps']:06d}.pt"


def test_trainer_batches_and_loss_path_checks():
    data = DATASETS.create("bas", rows=2, cols=2)
    model = QCBM({"name": "liu_wang", "n_qubits": 4, "depth": 1})
    opt = build_optimizer(model.parameters(), {"name": "sgd", "lr": 0.1})
    trainer = Trainer(model, data, MMDLoss(4, data.target), opt, steps=1, batch_size=5, seed=1)
    g = torch.Generator().manual_seed(1)
    assert torch.equal(trainer.next_batch(), data.train[torch.randint(len(data.train), (5,), generator=g)])
    with pytest.raises(ConfigError, match="loss: required"):
        Trainer(model, data, None, opt, steps=1)
    with pytest.raises(ConfigError, match="has players"):
        Trainer(model, data, MMDLoss(4, data.target), {"a": opt, "b": opt}, steps=1)


class TwoPlayer(QCBM):
    """A toy model owning its objective: two players (the even and odd angles), each with its own optimizer."""

    tags = ModelTags(exact_probs=True, owns_objective=True)

    def players(self):
        return {"even": 1, "odd": 2}

    def configure_optimizers(self, spec):
        self.kl = KLLoss(self.n_bits, DATASETS.create("bas", rows=2, cols=2).target)
        return {name: build_optimizer([self.theta], spec[name], model=self) for name in ("even", "odd")}

    def objective(self, batch, player):
        mask = torch.zeros_like(self.theta, dtype=torch.bool)
        mask[(player == "odd")::2] = True
        theta = torch.where(mask, self.theta, self.theta.detach())
        p, target = sim.probs(self.circuit, theta), self.kl.target
        value = (target * (target.clamp_min(1e-300).log() - p.clamp_min(1e-300).log())).sum()
        return {"loss": value, f"loss_{player}": value.detach()}


def test_models_owning_their_objective_drive_their_players(tmp_path):
    data = DATASETS.create("bas", rows=2, cols=2)
    model = TwoPlayer({"name": "liu_wang", "n_qubits": 4, "depth": 2})
    spec = {"even": {"name": "adam", "lr": 0.1}, "odd": {"name": "adam", "lr": 0.1}}
    opts = model.configure_optimizers(spec)
    with pytest.raises(ConfigError, match="defines its own objective"):
        Trainer(model, data, MMDLoss(4, data.target), opts, steps=1)
    with pytest.raises(ConfigError, match="has players"):
        Trainer(model, data, None, {"even": opts["even"]}, steps=1)
    start = model.kl(model, None).item()
    theta0 = model.theta.detach().clone()
    trainer = Trainer(model, data, None, opts, steps=60, metrics=["kl"], n_eval_samples=100)
    first = trainer.train_step(None)
    assert set(first) == {"loss", "loss_even", "loss_odd"} and first["loss"] == first["loss_odd"]
    assert not torch.equal(model.theta[0::2], theta0[0::2]) and not torch.equal(model.theta[1::2], theta0[1::2])
    final = trainer.fit()
    assert final["kl"] < start / 2 and set(trainer.lrs()) == {"lr_even", "lr_odd"}
    state = trainer.state_dict()
    assert set(state["optimizers"]) == {"even", "odd"} and state["optimizers"]["odd"]["state"]
    path = tmp_path / "ckpt.pt"
    torch.save(state, path)
    assert torch.load(path, weights_only=True)["step"] == 60


class ThetaLog(Callback):
    """Records the angles after every update."""

    def __init__(self):
        self.thetas = []

    def on_update(self, trainer):
        self.thetas.append(trainer.model.theta.detach().clone())


def test_layerwise_training_freezes_all_but_the_active_layers(tmp_path):
    from qgm.circuits.init import layerwise_phases
    from qgm.train import build_run

    lw = "train.callbacks=[{name: layerwise, steps_per_phase: 4, partitions: 1}]"
    masks = layerwise_phases(build_run(config("model.init=layerwise", lw)).model.circuit, 1, 1, 1)
    assert len(masks) >= 3 and bool(masks[-1].all())  # grow layer by layer, then one partition = all
    steps = 4 * len(masks) + 4
    cfg = config("model.init=layerwise", lw, f"train.steps={steps}", "train.checkpoint_every=8")
    log = ThetaLog()
    run_config(cfg, tmp_path / "lw", callbacks=[log])  # user callbacks run after the layerwise one
    thetas = torch.stack(log.thetas)  # (steps, P)
    for phase, mask in enumerate(masks):
        block = thetas[4 * phase: 4 * phase + 4]
        start = thetas[4 * phase - 1] if phase else block[0]
        assert torch.equal(block[:, ~mask], start[~mask].expand_as(block[:, ~mask])), phase
        assert bool((block[-1, mask] != start[mask]).any() or phase == 0), phase
    assert not torch.equal(thetas[-1], thetas[-5])  # after the schedule every slot trains
    ckpt = torch.load(tmp_path / "lw" / "checkpoints" / "step_000008.pt", weights_only=True)
    assert ckpt["callbacks"]["LayerwiseTraining"]["phase"] == 1
    with pytest.raises(KeyboardInterrupt):  # resume is bit-exact with the callback's state
        run_config(cfg, tmp_path / "split", callbacks=[Interrupt(10)])
    run_config(cfg, tmp_path / "split", resume=True)
    assert torch.equal(final_theta(tmp_path / "split"), final_theta(tmp_path / "lw"))


def test_layerwise_needs_a_single_circuit_model(tmp_path):
    cfg = config("model={name: made}", "train.callbacks=[{name: layerwise, steps_per_phase: 2}]")
    with pytest.raises(ConfigError, match=r"train.callbacks\[0\].*single circuit"):
        run_config(cfg, tmp_path / "x")


def test_tensorboard_and_mlflow_get_the_jsonl_records_and_resume(tmp_path):
    pytest.importorskip("tensorboard")
    pytest.importorskip("mlflow")
    from mlflow.tracking import MlflowClient
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    cfg = config("train.steps=6", "train.checkpoint_every=3", "train.loggers=[jsonl, tensorboard, mlflow]")
    with pytest.raises(KeyboardInterrupt):
        run_config(cfg, tmp_path, callbacks=[Interrupt(4)])
    run_config(cfg, tmp_path, resume=True)
    records = read_records(tmp_path / "metrics.jsonl")
    events = EventAccumulator(str(tmp_path / "tensorboard")).Reload()
    assert [(e.step, e.value) for e in events.Scalars("loss")] == [
        (r["step"], pytest.approx(r["loss"], rel=1e-6)) for r in records if "loss" in r]
    runs = list((tmp_path / "mlruns").glob("*/*/meta.yaml"))
    assert len(runs) == 1  # the resumed run continued the same MLflow run
    run_id = runs[0].parent.name
    client = MlflowClient(tracking_uri=(tmp_path / "mlruns").resolve().as_uri())
    history = client.get_metric_history(run_id, "loss")
    assert sorted({m.step for m in history}) == [r["step"] for r in records if "loss" in r]
    assert client.get_run(run_id).data.params["optimizer.lr"] == "0.1"
    with pytest.raises(ConfigError, match=r"train.loggers\[0\]: unknown logger 'wandb'"):
        run_config(config("train.loggers=[wandb]"), tmp_path / "x")
