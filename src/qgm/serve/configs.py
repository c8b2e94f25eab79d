"""From a tool request (an example name or config text, plus overrides) to a validated job payload.

A request names an example (``example: bas3x3_qcbm``) or gives a config (YAML
or JSON text, or the object itself), plus ``overrides``, an object of dotted keys
(``{"train.steps": 50}``) applied like ``qgm train --set`` (values are JSON,
read as YAML). Training configs then pass the CLI's typed schema
(:func:`qgm.train.config.parse_config`), the registries and the server's
limits; plateau scans pass :func:`qgm.trainability.plateau.load_plateau_config`
and the limits. Everything happens on plain data: nothing is built here.

Server policy applied to every training job: no progress bar (the job's log is
a file), and a checkpoint every tenth of the steps unless the config sets
``train.checkpoint_every``, so an interrupted job can be resumed.
"""
from __future__ import annotations

import dataclasses
import json
from typing import Any, Mapping, Optional, Union

from qgm.errors import ConfigError
from qgm.registry import CALLBACKS, DATASETS, LOSSES, METRICS, MODELS, OPTIMIZERS, Registry
from qgm.serve.catalog import Examples
from qgm.serve.limits import Limits, check_plateau_config, check_train_config
from qgm.train.config import RunConfig, apply_overrides, parse_config, yaml_load
from qgm.trainability.plateau import load_plateau_config

__all__ = ["request_data", "train_payload", "plateau_payload", "reproduce_payload", "check_names", "MAX_OVERRIDES"]

#: Overrides one request may carry.
MAX_OVERRIDES = 64


def _override_pairs(overrides: Optional[Mapping[str, Any]]) -> list[str]:
    """``{"train.steps": 50}`` -> ``["train.steps=50"]`` (values as JSON, which YAML reads back)."""
    if overrides is None:
        return []
    if not isinstance(overrides, Mapping):
        raise ConfigError(f"overrides: expected an object of dotted keys, e.g. {{\"train.steps\": 50}}, got {overrides!r}")
    if len(overrides) > MAX_OVERRIDES:
        raise ConfigError(f"overrides: {len(overrides)} keys; give at most {MAX_OVERRIDES}")
    return [f"{key}={json.dumps(value)}" for key, value in overrides.items()]


def request_data(
    example: Optional[str], config: Optional[Union[str, Mapping[str, Any]]], overrides: Optional[Mapping[str, Any]],
    kind: str, examples: Examples, limits: Limits,
) -> dict[str, Any]:
    """The plain config of a request: example ``example`` (of ``kind``) or ``config`` (YAML/JSON text, or the
    mapping itself), with ``overrides`` applied."""
    if (example is None) == (config is None):
        raise ConfigError("example, config: give exactly one (an example name from list_components, or YAML/JSON text)")
    if example is not None:
        raw: Any = examples.get(example, kind).data
    else:
        text = config if isinstance(config, str) else json.dumps(config, default=str)
        if len(text) > limits.max_config_chars:
            raise ConfigError(f"config: {len(text)} characters; this server takes at most {limits.max_config_chars}")
        raw = yaml_load(text, "config") if isinstance(config, str) else config
        if not isinstance(raw, Mapping):
            raise ConfigError(f"config: expected a mapping of sections, got {type(raw).__name__}")
    return apply_overrides(dict(raw), _override_pairs(overrides))


def _get(registry: Registry[Any], path: str, name: str) -> None:
    try:
        registry.get(name)
    except ConfigError as exc:
        raise ConfigError(f"{path}: {exc}") from None


def check_names(cfg: RunConfig) -> None:
    """Refuse names the registries do not know (before a job is queued)."""
    _get(DATASETS, "dataset.name", cfg.dataset.name)
    _get(MODELS, "model.name", cfg.model.name)
    if cfg.loss is not None:
        _get(LOSSES, "loss.name", cfg.loss.name)
    optimizers = cfg.optimizer.items() if isinstance(cfg.optimizer, dict) else [("", cfg.optimizer)]
    for player, comp in optimizers:
        _get(OPTIMIZERS, f"optimizer{'.' + player if player else ''}.name", comp.name)
    for i, comp in enumerate(cfg.train.callbacks):
        _get(CALLBACKS, f"train.callbacks[{i}].name", comp.name)
    for i, name in enumerate(cfg.metrics):
        _get(METRICS, f"metrics[{i}]", name)


def train_payload(raw: Mapping[str, Any], limits: Limits) -> dict[str, Any]:
    """The resolved training config (plain data) of ``raw``, validated, limited and with the server's policy."""
    cfg = parse_config(dict(raw))
    check_names(cfg)
    check_train_config(cfg, limits)
    given = raw.get("train") if isinstance(raw.get("train"), Mapping) else {}
    every = given["checkpoint_every"] if "checkpoint_every" in given else max(1, cfg.train.steps // 10)
    return cfg.replace(train=dataclasses.replace(cfg.train, progress=False, checkpoint_every=every)).to_dict()


def plateau_payload(raw: Mapping[str, Any], limits: Limits) -> dict[str, Any]:
    """A plateau-scan config (:func:`qgm.trainability.run_plateau`), validated and limited."""
    config = load_plateau_config(dict(raw))
    check_plateau_config(config, limits)
    return config


def reproduce_payload(claim: Any) -> dict[str, Any]:
    """``{"claim": name}`` for a registered claim (run in quick mode)."""
    from qgm.reproduce import CLAIMS

    if not isinstance(claim, str):
        raise ConfigError(f"claim: expected a claim name (list_components shows them), got {claim!r}")
    _get(CLAIMS, "claim", claim)
    return {"claim": claim}
