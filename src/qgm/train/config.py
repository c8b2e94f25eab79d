"""The run configuration: a typed schema for the YAML a user writes.

Layout (``?`` = optional)::

    name: bas3x3_qcbm            # run name; default run directory runs/<name>
    seed: 0                      # one seed for the whole run
    dataset: {name: bas, rows: 3, cols: 3}
    model: {name: qcbm, ansatz: {name: liu_wang, depth: 4}}
    loss?: {name: mmd, sigmas: [0.5, 1, 2, 4]}    # not for models that own their objective
    optimizer: {name: adam, lr: 0.05}              # or per player:
    #   {generator: {name: adam, lr: 0.01}, discriminator: {name: sgd, lr: 0.1}}
    schedule?: cosine            # none | cosine | step | exponential, or {name: step, step_size: 50}
    train: {steps: 300, batch_size: null, eval_every: 50, log_every: 1, checkpoint_every: 100,
            n_eval_samples: 10000, keep_checkpoints: 3, early_stop?: {metric: kl, below: 0.01, patience: 1},
            callbacks?: [{name: layerwise, steps_per_phase: 50}], loggers: [jsonl],  # + tensorboard, mlflow
            progress: true, plots: true}
    metrics: [kl, valid_fraction]

Named sections (dataset, model, loss, optimizer, schedule, each of
``train.callbacks``) keep their extra keys as ``options`` for the registered factory; those keys are checked against
the factory's signature when the run is built (:mod:`qgm.train.run`).
Every problem is a :class:`~qgm.errors.ConfigError` whose message starts with
the key path (``train.steps: ...``).
"""
from __future__ import annotations

import copy
import dataclasses
import math
import re
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional, Union

from qgm.errors import ConfigError, brief, key_name
from qgm.limits import check_seed
from qgm.registry import did_you_mean
from qgm.yaml_io import read_yaml, yaml_dump, yaml_load

__all__ = [
    "Component", "EarlyStopConfig", "TrainConfig", "RunConfig", "SCHEDULE_NAMES",
    "parse_config", "load_config", "apply_overrides", "yaml_load", "yaml_dump", "NAME_PATTERN",
    "RESUMABLE_KEYS", "resume_changes",
]

SCHEDULE_NAMES = ("none", "cosine", "step", "exponential")
#: A run name: it names a folder, so no separators and no leading dot (``.``/``..`` would escape ``runs/``).
NAME_PATTERN = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.\-]{0,99}")


@dataclass(frozen=True)
class Component:
    """A registered thing by ``name`` with factory ``options`` (the section's other keys)."""

    name: str
    options: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, **self.options}


@dataclass(frozen=True)
class EarlyStopConfig:
    """Stop once ``metric`` is below (or above) a threshold for ``patience`` evaluations in a row."""

    metric: str
    below: Optional[float] = None
    above: Optional[float] = None
    patience: int = 1


@dataclass(frozen=True)
class TrainConfig:
    """Loop settings. ``batch_size: null`` trains on the exact target distribution;
    ``eval_every: 0`` evaluates at the end only; ``checkpoint_every: 0`` checkpoints at the end only;
    ``keep_checkpoints`` newest checkpoints are kept (``null``: all);
    ``callbacks`` are registered callbacks (:data:`qgm.registry.CALLBACKS`) by name with options;
    ``loggers`` are experiment trackers beside ``metrics.jsonl`` (:mod:`qgm.train.loggers`)."""

    steps: int = 100
    batch_size: Optional[int] = None
    eval_every: int = 0
    log_every: int = 1
    checkpoint_every: int = 0
    n_eval_samples: int = 10000
    keep_checkpoints: Optional[int] = 3
    early_stop: Optional[EarlyStopConfig] = None
    callbacks: list[Component] = field(default_factory=list)
    loggers: list[str] = field(default_factory=lambda: ["jsonl"])
    progress: bool = True
    plots: bool = True


@dataclass(frozen=True)
class RunConfig:
    """A validated run configuration (see the module docstring)."""

    name: str
    dataset: Component
    model: Component
    optimizer: Union[Component, dict[str, Component]]
    seed: int = 0
    loss: Optional[Component] = None
    schedule: Optional[Component] = None
    train: TrainConfig = field(default_factory=TrainConfig)
    metrics: list[str] = field(default_factory=list)

    @property
    def per_player(self) -> bool:
        """True when ``optimizer`` maps player names to optimizer specs."""
        return isinstance(self.optimizer, dict)

    def to_dict(self) -> dict[str, Any]:
        """Plain, resolved data (every default filled in), as written to ``config.yaml``."""
        optimizer = (
            {k: v.to_dict() for k, v in self.optimizer.items()} if isinstance(self.optimizer, dict)
            else self.optimizer.to_dict()
        )
        out: dict[str, Any] = {
            "name": self.name, "seed": self.seed, "dataset": self.dataset.to_dict(), "model": self.model.to_dict(),
        }
        if self.loss is not None:
            out["loss"] = self.loss.to_dict()
        out["optimizer"] = optimizer
        if self.schedule is not None:
            out["schedule"] = self.schedule.to_dict()
        train = dataclasses.asdict(self.train)
        if train["early_stop"] is None:
            del train["early_stop"]
        train["callbacks"] = [c.to_dict() for c in self.train.callbacks]
        out["train"] = train
        out["metrics"] = list(self.metrics)
        return out

    def replace(self, **changes: Any) -> "RunConfig":
        return dataclasses.replace(self, **changes)


# --------------------------------------------------------------------------- typed checking
def _type_name(annotation: Any) -> str:
    origin = typing.get_origin(annotation)
    if origin is Union:
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        return " or ".join(_type_name(a) for a in args) + " or null"
    if origin is list:
        return f"a list of {_type_name(typing.get_args(annotation)[0])}"
    return {int: "an integer", float: "a number", bool: "true/false", str: "a string"}.get(annotation, str(annotation))


def _check_value(value: Any, annotation: Any, path: str) -> Any:
    """``value`` checked against ``annotation`` (int, float, bool, str, Optional, list, dataclass)."""
    origin = typing.get_origin(annotation)
    if origin is Union:
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        if value is None:
            return None
        return _check_value(value, args[0], path)
    if origin is list:
        if not isinstance(value, list):
            raise ConfigError(f"{path}: expected {_type_name(annotation)}, got {brief(value)}")
        (item,) = typing.get_args(annotation)
        return [_check_value(v, item, f"{path}[{i}]") for i, v in enumerate(value)]
    if dataclasses.is_dataclass(annotation):
        return _from_dict(annotation, value, path)
    ok = {
        bool: lambda v: isinstance(v, bool),
        int: lambda v: isinstance(v, int) and not isinstance(v, bool),
        float: lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
        str: lambda v: isinstance(v, str),
    }[annotation](value)
    if not ok:
        raise ConfigError(f"{path}: expected {_type_name(annotation)}, got {brief(value)}")
    if annotation is float:
        try:
            value = float(value)
        except OverflowError:
            value = math.inf
        if not math.isfinite(value):
            raise ConfigError(f"{path}: expected a finite number, got {brief(value)}")
    return value


def _from_dict(cls: type, data: Any, path: str) -> Any:
    """Instance of dataclass ``cls`` from mapping ``data``; unknown keys and bad types are ConfigErrors."""
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected a mapping, got {brief(data)}")
    hints = typing.get_type_hints(cls)
    names = [f.name for f in dataclasses.fields(cls)]
    unknown = [k for k in data if k not in names]
    if unknown:
        raise ConfigError(f"{path}.{key_name(unknown[0])}: unknown key{did_you_mean(unknown[0], names)}; "
                          f"allowed keys: {', '.join(names)}")
    kwargs = {k: _check_value(v, hints[k], f"{path}.{k}") for k, v in data.items()}
    missing = [
        f.name for f in dataclasses.fields(cls)
        if f.name not in kwargs and f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
    ]
    if missing:
        raise ConfigError(f"{path}.{missing[0]}: required key missing")
    return cls(**kwargs)


def _component(data: Any, path: str) -> Component:
    if isinstance(data, str):
        data = {"name": data}
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected a mapping with a 'name' key, got {brief(data)}")
    if "name" not in data:
        raise ConfigError(f"{path}.name: required key missing")
    name = data["name"]
    if not isinstance(name, str) or not name:
        raise ConfigError(f"{path}.name: expected a non-empty string, got {brief(name)}")
    options = {k: v for k, v in data.items() if k != "name"}
    bad = [k for k in options if not isinstance(k, str)]
    if bad:
        raise ConfigError(f"{path}: option names must be strings, got {brief(bad[0])}")
    return Component(name, options)


def _optimizer_component(data: Any, path: str) -> Component:
    comp = _component(data, path)
    if "lr" in comp.options:
        lr = _check_value(comp.options["lr"], float, f"{path}.lr")
        if lr <= 0:
            raise ConfigError(f"{path}.lr: must be > 0, got {lr}")
        comp = Component(comp.name, {**comp.options, "lr": lr})
    return comp


def _optimizer(data: Any) -> Union[Component, dict[str, Component]]:
    if isinstance(data, dict) and "name" not in data and data:
        if not all(isinstance(v, dict) for v in data.values()):
            raise ConfigError(
                "optimizer: expected {name, lr, ...} or per-player mappings {generator: {name, ...}, ...}"
            )
        return {str(k): _optimizer_component(v, f"optimizer.{k}") for k, v in data.items()}
    return _optimizer_component(data, "optimizer")


def _positive(path: str, value: Optional[int], minimum: int = 1) -> None:
    if value is not None and value < minimum:
        raise ConfigError(f"{path}: must be >= {minimum}, got {brief(value)}")


def _check_train(t: TrainConfig, metrics: list[str]) -> None:
    _positive("train.steps", t.steps)
    _positive("train.batch_size", t.batch_size)
    _positive("train.eval_every", t.eval_every, 0)
    _positive("train.log_every", t.log_every)
    _positive("train.checkpoint_every", t.checkpoint_every, 0)
    _positive("train.n_eval_samples", t.n_eval_samples)
    _positive("train.keep_checkpoints", t.keep_checkpoints)
    es = t.early_stop
    if es is None:
        return
    _positive("train.early_stop.patience", es.patience)
    if (es.below is None) == (es.above is None):
        raise ConfigError("train.early_stop: give exactly one of 'below' or 'above' (the threshold)")
    if es.metric != "loss" and es.metric not in metrics:
        raise ConfigError(
            f"train.early_stop.metric: {brief(es.metric)} is neither 'loss' nor in metrics {brief(metrics)}"
            f"{did_you_mean(es.metric, ['loss', *metrics])}; add it to metrics"
        )
    if es.metric != "loss" and t.eval_every == 0:
        raise ConfigError("train.early_stop: a metric is checked at evaluations; set train.eval_every >= 1")


def _train_config(data: Any) -> TrainConfig:
    """The ``train`` section; ``callbacks`` entries are components (``{name, **options}``)."""
    if not isinstance(data, dict):
        raise ConfigError(f"train: expected a mapping, got {brief(data)}")
    callbacks = data.get("callbacks") or []
    if not isinstance(callbacks, list):
        raise ConfigError(f"train.callbacks: expected a list of {{name: ..., options}}, got {brief(callbacks)}")
    comps = [_component(c, f"train.callbacks[{i}]") for i, c in enumerate(callbacks)]
    train = _from_dict(TrainConfig, {k: v for k, v in data.items() if k != "callbacks"}, "train")
    return dataclasses.replace(train, callbacks=comps)


_TOP_KEYS = ("name", "seed", "dataset", "model", "loss", "optimizer", "schedule", "train", "metrics")


def parse_config(raw: Any) -> RunConfig:
    """Validate plain data (e.g. parsed YAML) into a :class:`RunConfig`."""
    if isinstance(raw, RunConfig):
        return raw
    if not isinstance(raw, dict):
        raise ConfigError(f"config: expected a mapping of sections ({', '.join(_TOP_KEYS)}), got {type(raw).__name__}")
    unknown = [k for k in raw if k not in _TOP_KEYS]
    if unknown:
        raise ConfigError(f"{key_name(unknown[0])}: unknown key{did_you_mean(unknown[0], _TOP_KEYS)}; "
                          f"allowed top-level keys: {', '.join(_TOP_KEYS)}")
    for key in ("name", "dataset", "model", "optimizer"):
        if key not in raw:
            raise ConfigError(f"{key}: required key missing")
    name = _check_value(raw["name"], str, "name")
    if not NAME_PATTERN.fullmatch(name):
        raise ConfigError(f"name: use letters, digits, '_', '-' or '.' (1 to 100, not starting with '.' or '-': "
                          f"it names a folder), got {brief(name)}")
    seed = check_seed(raw.get("seed", 0), "seed")
    metrics = _check_value(raw.get("metrics") or [], list[str], "metrics")
    schedule = raw.get("schedule")
    schedule_c = None if schedule is None else _component(schedule, "schedule")
    if schedule_c is not None and schedule_c.name not in SCHEDULE_NAMES:
        raise ConfigError(f"schedule.name: {brief(schedule_c.name)} unknown{did_you_mean(schedule_c.name, SCHEDULE_NAMES)}; "
                          f"use one of {', '.join(SCHEDULE_NAMES)}")
    train = _train_config(raw.get("train") or {})
    _check_train(train, metrics)
    return RunConfig(
        name=name,
        seed=seed,
        dataset=_component(raw["dataset"], "dataset"),
        model=_component(raw["model"], "model"),
        loss=None if raw.get("loss") is None else _component(raw["loss"], "loss"),
        optimizer=_optimizer(raw["optimizer"]),
        schedule=None if schedule_c is None or schedule_c.name == "none" else schedule_c,
        train=train,
        metrics=metrics,
    )


#: Keys a resumed run may change (a key names itself and everything under it); every other key must equal
#: the run's ``config.yaml``: the checkpoint's model, optimizer, schedule and batch stream were made by those.
RESUMABLE_KEYS = (
    "name", "train.steps", "train.eval_every", "train.log_every", "train.checkpoint_every", "train.n_eval_samples",
    "train.keep_checkpoints", "train.early_stop", "train.progress", "train.plots", "train.loggers", "metrics",
)


def _flatten(data: Any, prefix: str = "") -> dict[str, Any]:
    """Leaves of nested mappings under dotted keys (lists are leaves)."""
    if not isinstance(data, dict) or not data:
        return {prefix: data}
    out: dict[str, Any] = {}
    for key, value in data.items():
        out.update(_flatten(value, f"{prefix}.{key}" if prefix else str(key)))
    return out


def resume_changes(old: RunConfig, new: RunConfig) -> list[tuple[str, Any, Any]]:
    """``(key, old value, new value)`` for every key of the resolved configs that differs and that a resume
    may not change (:data:`RESUMABLE_KEYS`); ``"<absent>"`` stands for a missing key."""
    a, b = _flatten(old.to_dict()), _flatten(new.to_dict())
    changed = []
    for key in [*a, *(k for k in b if k not in a)]:
        if a.get(key, "<absent>") == b.get(key, "<absent>"):
            continue
        if not any(key == r or key.startswith(r + ".") for r in RESUMABLE_KEYS):
            changed.append((key, a.get(key, "<absent>"), b.get(key, "<absent>")))
    return changed


def apply_overrides(raw: dict[str, Any], overrides: list[str]) -> dict[str, Any]:
    """``raw`` with ``key.path=value`` overrides applied (values parsed as YAML); a new dict."""
    out = copy.deepcopy(raw) if raw else {}
    for item in overrides:
        key, sep, text = item.partition("=")
        parts = key.strip().split(".")
        if not sep or not all(parts):
            raise ConfigError(f"--set {brief(item)}: expected key.path=value, e.g. train.steps=200")
        node = out
        for i, part in enumerate(parts[:-1]):
            child = node.setdefault(part, {})
            if not isinstance(child, dict):
                raise ConfigError(f"--set {brief(item)}: {'.'.join(parts[: i + 1])} is not a section")
            node = child
        node[parts[-1]] = yaml_load(text, f"--set {key}")
    return out


def load_config(path: Union[str, Path], overrides: Optional[list[str]] = None) -> RunConfig:
    """Read YAML ``path``, apply ``--set`` style ``overrides`` and validate."""
    raw = read_yaml(path, "config")
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: expected a mapping of sections at the top level")
    return parse_config(apply_overrides(raw, list(overrides or [])))
