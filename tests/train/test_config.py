"""Config schema: typed parsing, key-path errors, overrides, round trip."""
import pytest

from qgm.errors import ConfigError, QGMError
from qgm.train import apply_overrides, build_run, parse_config
from qgm.train.config import yaml_load

BASE = {
    "name": "t",
    "dataset": {"name": "bas", "rows": 2, "cols": 2},
    "model": {"name": "qcbm", "ansatz": {"name": "liu_wang", "depth": 1}},
    "loss": {"name": "mmd"},
    "optimizer": {"name": "adam", "lr": 0.1},
    "train": {"steps": 3},
    "metrics": ["kl"],
}


def with_(*overrides: str) -> dict:
    return apply_overrides(BASE, list(overrides))


def error_of(raw: dict, build: bool = False) -> str:
    with pytest.raises(QGMError) as info:
        build_run(raw) if build else parse_config(raw)
    return str(info.value)


def test_defaults_and_round_trip():
    cfg = parse_config(BASE)
    assert cfg.seed == 0 and cfg.train.batch_size is None and cfg.train.log_every == 1 and cfg.schedule is None
    assert cfg.optimizer.options == {"lr": 0.1} and not cfg.per_player
    assert parse_config(cfg.to_dict()) == cfg


@pytest.mark.parametrize(
    "override, path",
    [
        ("trian={steps: 3}", "trian: unknown key"),
        ("train.stepz=3", "train.stepz: unknown key"),
        ("train.steps=ten", "train.steps: expected an integer"),
        ("train.steps=2.5", "train.steps: expected an integer"),
        ("train.steps=true", "train.steps: expected an integer"),
        ("train.steps=0", "train.steps: must be >= 1"),
        ("train.batch_size=-4", "train.batch_size: must be >= 1"),
        ("train.progress=3", "train.progress: expected true/false"),
        ("seed=-1", "seed: expected an integer seed in [0, 2**63 - 1], got -1"),
        ("metrics=kl", "metrics: expected a list"),
        ("metrics=[kl, 3]", "metrics[1]: expected a string"),
        ("optimizer.lr=-0.1", "optimizer.lr: must be > 0"),
        ("optimizer.lr=fast", "optimizer.lr: expected a number"),
        ("schedule=linear", "schedule.name: 'linear' unknown"),
        ("train.early_stop={metric: kl, patience: 2}", "train.early_stop: give exactly one"),
        ("train.early_stop={metric: tv, below: 0.1}", "train.early_stop.metric"),
        ("train.early_stop={metric: kl, below: 0.1, patiense: 2}", "train.early_stop.patiense: unknown key"),
        ("name=a/b", "name: use letters, digits"),
    ],
)
def test_schema_errors_name_the_key(override, path):
    assert error_of(with_(override)).startswith(path)


def test_missing_sections():
    raw = dict(BASE)
    del raw["model"]
    assert error_of(raw).startswith("model: required key missing")
    assert error_of(with_("dataset={rows: 2}")).startswith("dataset.name: required key missing")


@pytest.mark.parametrize(
    "override, expected",
    [
        ("model.ansatz.n_qubits=5", "model: ansatz n_qubits=5 differs"),
        ("model.colour=red", "model.colour: unknown option of model 'qcbm'"),
        ("dataset.name=bass", "dataset.name: unknown dataset 'bass'"),
        ("dataset.rows=0", "dataset.rows: expected an integer >= 1"),
        ("loss.sigma=2", "loss.sigma: unknown option of loss 'mmd'"),
        ("optimizer.momentum=0.9", "optimizer.momentum: unknown option of optimizer 'adam'"),
        ("metrics=[kl, accuracy]", "metrics[1]: unknown metric 'accuracy'"),
        ("optimizer={generator: {name: adam}, discriminator: {name: sgd}}", "optimizer: QCBM takes one optimizer"),
        ("schedule={name: step, step_sise: 3}", "schedule.step_sise: unknown option of schedule 'step' (did you mean"),
    ],
)
def test_build_errors_name_the_section(override, expected):
    assert error_of(with_(override), build=True).startswith(expected)


def test_build_injects_run_seed():
    parts = build_run(with_("seed=7"))
    assert parts.config.model.options["seed"] == 7 and parts.config.loss.options["seed"] == 7
    assert "seed" not in parts.config.dataset.options  # bas takes no seed
    assert parts.model.seed == 7 and parts.loss.seed == 7


def test_overrides():
    raw = with_("train.steps=9", "optimizer.lr=1e-3", "schedule.name=cosine", "model.ansatz={name: iqp}")
    assert raw["train"]["steps"] == 9 and raw["optimizer"]["lr"] == 1e-3 and isinstance(raw["optimizer"]["lr"], float)
    assert raw["schedule"] == {"name": "cosine"} and raw["model"]["ansatz"] == {"name": "iqp"}
    assert BASE["train"]["steps"] == 3  # the input is not modified
    for bad in ("train.steps", "=3", "train..steps=3", "name.x=1"):
        with pytest.raises(ConfigError):
            apply_overrides(BASE, [bad])


def test_yaml_floats_and_syntax_errors():
    assert yaml_load("a: 1e-3\nb: 2E5\nc: '1e-3'") == {"a": 1e-3, "b": 2e5, "c": "1e-3"}
    with pytest.raises(ConfigError, match="not valid YAML"):
        yaml_load("a: [1, 2", "x.yaml")


def test_per_player_optimizer_parses():
    cfg = parse_config(with_("optimizer={generator: {name: adam, lr: 0.01}, discriminator: {name: sgd, lr: 0.1}}"))
    assert cfg.per_player and cfg.optimizer["discriminator"].name == "sgd"
    assert cfg.to_dict()["optimizer"]["generator"] == {"name": "adam", "lr": 0.01}


@pytest.mark.parametrize(
    "overrides, expected",
    [
        (["train.stpes=3"], "train.stpes: unknown key (did you mean 'steps'?); allowed keys: steps,"),
        (["metrix=[kl]"], "metrix: unknown key (did you mean 'metrics'?)"),
        (["loss.name=mmdd"], "loss.name: unknown loss 'mmdd' (did you mean 'mmd'?); known losses: "),
        (["model.name=qcmb"], "model.name: unknown model 'qcmb' (did you mean 'qcbm'?); known models: "),
        (["loss.sigams=[1]"], "loss.sigams: unknown option of loss 'mmd' (did you mean 'sigmas'?)"),
        (["optimizer={name: lbfgs, max_itr: 2}"],
         "optimizer.max_itr: unknown option of optimizer 'lbfgs' (did you mean 'max_iter'?); allowed: lr, max_iter, "
         "history_size, tolerance_grad, tolerance_change, line_search_fn"),
        (["optimizer={generator: {name: adam, bta: 1}, discriminator: {name: sgd}}"],
         "optimizer.generator.bta: unknown option of optimizer 'adam'"),
        (["optimizer.betas=[2]"], "optimizer 'adam': bad option value (ValueError: Invalid beta parameter"),
        (["seed=1180591620717411303424"], "seed: expected an integer seed in [0, 2**63 - 1], got 1180591620717411303424"),
        (["dataset={name: cardinality, n: 6, k: 3, seed: -5}"], "dataset.seed: expected an integer seed in [0, 2**63"),
        (["schedule={name: step, step_size: 0}"], "schedule.step_size: expected an integer >= 1, got 0"),
        (["schedule={name: step, gamma: .nan}"], "schedule.gamma: expected a finite number > 0, got nan"),
        (["schedule={name: cosine, eta_min: -1}"], "schedule.eta_min: expected a finite number >= 0, got -1"),
        (["schedule=cosin"], "schedule.name: 'cosin' unknown (did you mean 'cosine'?)"),
        (["model.ansatz.depth=-1"], "model: ansatz 'liu_wang': depth must be an integer >= 0, got -1"),
        (["model.ansatz.depth=0", "model.ansatz.name=hardware_efficient", "model.ansatz.final_rotations=false"],
         "model: 'qcbm' built with"),
        (["train.keep_checkpoints=0"], "train.keep_checkpoints: must be >= 1, got 0"),
        (["train.n_eval_samples=1000000000000"], "train.n_eval_samples: 1000000000000 samples of Bits(4) (8 B each) "
                                                 "needs"),
        (["train.batch_size=1000000000000"], "train.batch_size: 1000000000000 samples of Bits(4)"),
    ],
)
def test_messages_name_the_key_and_suggest(overrides, expected):
    message = error_of(with_(*overrides), build=True)
    assert message.startswith(expected) and "\n" not in message
    assert "optimizer: optimizer" not in message and "losss" not in message
    assert "params" not in message.split("allowed:")[-1] if "allowed:" in message else True


def test_resume_changes_are_the_keys_outside_the_resumable_ones():
    from qgm.train.config import resume_changes

    old = parse_config(BASE)
    new = parse_config(with_("train.steps=9", "metrics=[kl, tv]", "model.ansatz.depth=2", "optimizer.lr=0.5"))
    assert resume_changes(old, new) == [("model.ansatz.depth", 1, 2), ("optimizer.lr", 0.1, 0.5)]
    assert resume_changes(old, parse_config(with_("train.steps=9", "train.early_stop={metric: kl, below: 0.1}",
                                                  "train.eval_every=1"))) == []
