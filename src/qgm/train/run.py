"""From a config to a run directory, and back.

``run_config(config, out)`` builds the dataset, model, loss, optimizer(s) and
schedule from their registries, trains with :class:`~qgm.train.Trainer` and
writes the run directory::

    <out>/config.yaml      resolved config (defaults and injected seeds filled in)
    <out>/metrics.jsonl    one JSON record per logged step
    <out>/checkpoints/     step_<k>.pt (Trainer.state_dict, atomic writes)
    <out>/model.pt         final model (GenerativeModel.save)
    <out>/samples.npy      n_eval_samples samples of the final model (``dataset.to_numpy``)
    <out>/plots/*.png      curves, distribution, sample images / values
    <out>/summary.json     final metrics, n_params, steps, times

``resume=True`` restores the latest checkpoint and continues bit-exactly.
:func:`load_run`, :func:`sample_run` (:func:`conditional_sample_run` under a condition) and
:func:`eval_run` read a run back.

Seeds: the run ``seed`` seeds the Trainer's batch stream and is passed as
``seed`` to every dataset, model and loss factory that takes one and was not
given one explicitly (written back into ``config.yaml``).
"""
from __future__ import annotations

import importlib
import importlib.util
import inspect
import os
import shutil
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterable, Optional, Union

import numpy as np
import torch

from qgm.atomic import atomic_json, atomic_npy, atomic_text
from qgm.errors import ConfigError, QGMError
from qgm.optim.factory import build_scheduler
from qgm.registry import CALLBACKS, DATASETS, LOSSES, METRICS, MODELS, Registry
from qgm.spaces import Bits, Images, Reals, check_compatible
from qgm.train.callbacks import (
    Checkpointer,
    EarlyStopping,
    MetricsLogger,
    ProgressBar,
    latest_checkpoint,
    load_checkpoint,
    read_records,
)
from qgm.train.config import Component, RunConfig, load_config, parse_config, yaml_dump
from qgm.train.loggers import build_loggers, check_logger_names
from qgm.train.plots import write_plots
from qgm.train.trainer import STREAM_SAMPLES, Callback, EvaluateFn, Trainer, derived_seed

__all__ = [
    "PLUGIN_MODULES", "load_plugins", "RunParts", "build_run", "run_config", "load_run",
    "sample_run", "conditional_sample_run", "eval_run", "default_run_dir",
]

#: Modules whose import fills the registries the configs name.
PLUGIN_MODULES = (
    "qgm.data", "qgm.metrics", "qgm.losses", "qgm.optim", "qgm.models", "qgm.baselines", "qgm.trainability",
    "qgm.train.callbacks", "qgm.data.qm9", "qgm.metrics.chemistry", "qgm.models.molgan", "qgm.models.qgan_hg",
    "qgm.data.bernoulli", "qgm.data.gibbs", "qgm.models.qbm", "qgm.models.vqt",
)

PathLike = Union[str, "os.PathLike[str]"]


def load_plugins() -> None:
    """Import :data:`PLUGIN_MODULES` (registering datasets, models, losses, optimizers, metrics)."""
    for name in PLUGIN_MODULES:
        importlib.import_module(name)


def default_run_dir(config: RunConfig) -> Path:
    """``runs/<name>`` (relative to the working directory)."""
    return Path("runs") / config.name


# ---------------------------------------------------------------------------- building
def _with_seed(factory: Callable[..., Any], options: dict[str, Any], seed: int) -> dict[str, Any]:
    params = inspect.signature(factory).parameters
    return {**options, "seed": seed} if "seed" in params and "seed" not in options else dict(options)


def _check_options(registry: Registry, path: str, comp: Component, fixed: Iterable[str]) -> Callable[..., Any]:
    try:
        factory = registry.get(comp.name)
    except ConfigError as exc:
        raise ConfigError(f"{path}.name: {exc}") from None
    params = inspect.signature(factory).parameters
    if any(p.kind is p.VAR_KEYWORD for p in params.values()):
        return factory
    allowed = [p for p in params if p not in fixed]
    for key in comp.options:
        if key not in allowed:
            raise ConfigError(
                f"{path}.{key}: unknown option of {registry.kind} '{comp.name}'; allowed: {', '.join(allowed) or 'none'}"
            )
    return factory


def _prefixed(path: str, comp: Component, exc: Exception) -> str:
    msg = str(exc)
    head = msg.split(":", 1)[0].strip()
    if head in comp.options:
        return f"{path}.{msg}"
    return msg if msg.startswith(path) else f"{path}: {msg}"


def _create(registry: Registry, path: str, comp: Component, **fixed: Any) -> Any:
    factory = _check_options(registry, path, comp, fixed)
    try:
        return factory(**fixed, **comp.options)
    except QGMError as exc:
        raise type(exc)(_prefixed(path, comp, exc)) from exc
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"{path} '{comp.name}': {exc}") from exc


@dataclass
class RunParts:
    """Everything :func:`build_run` makes from a config."""

    config: RunConfig
    dataset: Any
    model: Any
    loss: Any
    optimizers: dict[str, torch.optim.Optimizer]
    schedulers: dict[str, Any]


def _seeded(registry: Registry, path: str, comp: Component, seed: int, fixed: tuple[str, ...]) -> Component:
    factory = _check_options(registry, path, comp, fixed)
    return Component(comp.name, _with_seed(factory, comp.options, seed))


def _resolve_seeds(cfg: RunConfig) -> RunConfig:
    """``cfg`` with the run seed given to every dataset/model/loss factory that takes a seed."""
    return cfg.replace(
        dataset=_seeded(DATASETS, "dataset", cfg.dataset, cfg.seed, ()),
        model=_seeded(MODELS, "model", cfg.model, cfg.seed, ("dataset",)),
        loss=None if cfg.loss is None else _seeded(LOSSES, "loss", cfg.loss, cfg.seed, ("dataset",)),
    )


def _build_optimizers(cfg: RunConfig, model: Any) -> dict[str, torch.optim.Optimizer]:
    try:
        opts = model.configure_optimizers(cfg.to_dict()["optimizer"])
    except QGMError as exc:
        raise type(exc)(exc if str(exc).startswith("optimizer") else f"optimizer: {exc}") from exc
    if not isinstance(opts, dict) or not opts:
        raise ConfigError(f"{type(model).__name__}.configure_optimizers must return a non-empty dict of optimizers")
    return opts


def _check_spaces(cfg: RunConfig, dataset: Any) -> None:
    """Refuse a model whose registered data spaces exclude the dataset's, before building it."""
    accepts = MODELS.accepts(cfg.model.name)
    if accepts and not isinstance(dataset.space, accepts):
        names = " or ".join(a.__name__ for a in accepts)
        raise ConfigError(
            f"model: '{cfg.model.name}' trains on {names} data but dataset '{cfg.dataset.name}' holds "
            f"{dataset.space.describe()}; pick a model for {type(dataset.space).__name__} or another dataset"
        )


def _check_metrics(cfg: RunConfig) -> None:
    for i, name in enumerate(cfg.metrics):
        if name not in METRICS:
            raise ConfigError(f"metrics[{i}]: unknown metric {name!r}; known: {', '.join(METRICS.names())}")


def build_run(config: Union[RunConfig, dict[str, Any]]) -> RunParts:
    """Dataset, model, loss, optimizers and schedulers of ``config`` (seeds resolved)."""
    load_plugins()
    cfg = _resolve_seeds(parse_config(config))
    _check_metrics(cfg)
    check_logger_names(cfg.train.loggers)
    if cfg.train.plots and importlib.util.find_spec("matplotlib") is None:
        raise ConfigError("train.plots: matplotlib is not installed; pip install 'qgm[plot]' or set train.plots: false")
    dataset = _create(DATASETS, "dataset", cfg.dataset)
    _check_spaces(cfg, dataset)
    if cfg.train.batch_size is None and not dataset.has_exact_target:
        raise ConfigError(f"train.batch_size: dataset '{cfg.dataset.name}' ({dataset.space.describe()}) has no "
                          "exact target; set a batch size")
    model = _create(MODELS, "model", cfg.model, dataset=dataset)
    check_compatible(model.space, dataset.space, cfg.model.name, cfg.dataset.name,
                     prepares_state=model.tags.prepares_state)
    loss = None if cfg.loss is None else _create(LOSSES, "loss", cfg.loss, dataset=dataset)
    optimizers = _build_optimizers(cfg, model)
    schedulers = {k: build_scheduler(o, cfg.schedule, cfg.train.steps) for k, o in optimizers.items()}
    return RunParts(cfg, dataset, model, loss, optimizers, {k: s for k, s in schedulers.items() if s is not None})


# ---------------------------------------------------------------------------- the run directory
def _n_params(model: Any) -> int:
    if callable(getattr(model, "n_trainable", None)):
        return int(model.n_trainable())
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


def parameter_counts(model: Any) -> dict[str, int]:
    """``{"n_params": all trainable}`` plus the model's own ``parameter_counts()`` (e.g. per GAN player)."""
    own = getattr(model, "parameter_counts", None)
    return {"n_params": _n_params(model), **({k: int(v) for k, v in own().items()} if callable(own) else {})}


def _prepare_dir(out: Path, resume: bool, overwrite: bool) -> Optional[Path]:
    """Create ``out``; the checkpoint to resume from (None for a fresh run)."""
    ckpt = latest_checkpoint(out / "checkpoints")
    if resume:
        if ckpt is None:
            raise ConfigError(f"--resume: no checkpoint in {out / 'checkpoints'}; start the run without --resume")
        return ckpt
    if ckpt is not None or (out / "metrics.jsonl").exists():
        if not overwrite:
            raise ConfigError(f"--out: {out} already holds a run; pass --resume to continue it, --overwrite, or another --out")
        for name in ("checkpoints", "plots"):
            shutil.rmtree(out / name, ignore_errors=True)
        for name in ("metrics.jsonl", "summary.json", "samples.npy", "model.pt"):
            (out / name).unlink(missing_ok=True)
    out.mkdir(parents=True, exist_ok=True)
    return None


def _callbacks(parts: RunParts, out: Path) -> list[Callback]:
    t = parts.config.train
    cbs: list[Callback] = [
        _create(CALLBACKS, f"train.callbacks[{i}]", comp, model=parts.model) for i, comp in enumerate(t.callbacks)
    ]
    if t.early_stop is not None:
        es = t.early_stop
        cbs.append(EarlyStopping(es.metric, below=es.below, above=es.above, patience=es.patience))
    key = t.early_stop.metric if t.early_stop is not None else (parts.config.metrics or [None])[0]
    cbs += [
        *build_loggers(t.loggers, out, parts.config.name, parts.config.to_dict()),
        MetricsLogger(out / "metrics.jsonl"),
        Checkpointer(out / "checkpoints", t.checkpoint_every),
        ProgressBar(key_metric=key, desc=parts.config.name, enabled=t.progress),
    ]
    return cbs


def _finalise(parts: RunParts, trainer: Trainer, out: Path, started: float) -> dict[str, Any]:
    cfg, model, dataset = parts.config, parts.model, parts.dataset
    model.save(out / "model.pt")
    gen = torch.Generator().manual_seed(derived_seed(cfg.seed, STREAM_SAMPLES))
    model.eval()
    with torch.no_grad():
        raw = model.sample(cfg.train.n_eval_samples, generator=gen)
        learned = None
        if isinstance(dataset.space, Bits):
            learned = (
                model.probs().detach().cpu().numpy() if model.tags.exact_probs
                else np.bincount(raw.numpy(), minlength=1 << dataset.n_bits) / raw.numel()
            )
    arr = dataset.to_numpy(raw)
    atomic_npy(out / "samples.npy", arr)
    if cfg.train.plots:
        real_valued = dataset.value_space is not None or isinstance(dataset.space, (Reals, Images))
        values = arr if real_valued and np.isrealobj(arr) else None
        write_plots(out / "plots", read_records(out / "metrics.jsonl"), dataset, raw, learned, values)
        if callable(getattr(dataset, "plot_samples", None)):  # dataset-specific pictures (molecule grids)
            dataset.plot_samples(raw, out / "plots")
    final = trainer.last_eval
    summary = {
        "name": cfg.name,
        "run_dir": str(out),
        "dataset": cfg.dataset.name,
        "model": cfg.model.name,
        "steps": trainer.step,
        "max_steps": cfg.train.steps,
        "stopped_early": bool(trainer.should_stop and trainer.step < cfg.train.steps),
        "loss": final.get("loss"),
        "metrics": {k: v for k, v in final.items() if k in cfg.metrics},
        **parameter_counts(model),
        "train_time_s": round(trainer.elapsed, 3),
        "wall_time_s": round(time.perf_counter() - started, 3),
    }
    atomic_json(out / "summary.json", summary)
    return summary


def run_config(
    config: Union[RunConfig, dict[str, Any]],
    out: Optional[PathLike] = None,
    resume: bool = False,
    *,
    overwrite: bool = False,
    callbacks: Iterable[Callback] = (),
    evaluate: Optional[EvaluateFn] = None,
) -> dict[str, Any]:
    """Train ``config`` into run directory ``out`` (default ``runs/<name>``); the summary dict.

    Args:
        config: a :class:`RunConfig` or plain config data.
        out: the run directory.
        resume: continue from the latest checkpoint in ``out`` (bit-exact).
        overwrite: replace a run already in ``out`` (otherwise a ConfigError).
        callbacks: extra Trainer callbacks (after the built-in ones).
        evaluate: metric evaluation function (default :func:`qgm.metrics.evaluate`).
    """
    started = time.perf_counter()
    parts = build_run(config)
    cfg = parts.config
    out_dir = Path(out) if out is not None else default_run_dir(cfg)
    ckpt = _prepare_dir(out_dir, resume, overwrite)
    atomic_text(out_dir / "config.yaml", yaml_dump(cfg.to_dict()))
    t = cfg.train
    counts = parameter_counts(parts.model)
    if t.progress and len(counts) > 1:
        print(f"{cfg.name}: " + ", ".join(f"{k}={v:,}" for k, v in counts.items()), file=sys.stderr)
    trainer = Trainer(
        parts.model, parts.dataset, parts.loss, parts.optimizers, steps=t.steps, batch_size=t.batch_size,
        seed=cfg.seed, callbacks=[*_callbacks(parts, out_dir), *callbacks], eval_every=t.eval_every,
        metrics=cfg.metrics, n_eval_samples=t.n_eval_samples, log_every=t.log_every,
        schedulers=parts.schedulers, evaluate=evaluate,
    )
    if ckpt is not None:
        trainer.load_state_dict(load_checkpoint(ckpt))
    trainer.fit()
    return _finalise(parts, trainer, out_dir, started)


# ---------------------------------------------------------------------------- reading runs back
def load_run(run_dir: PathLike) -> RunParts:
    """The parts of a finished (``model.pt``) or interrupted (latest checkpoint) run."""
    run = Path(run_dir)
    if not (run / "config.yaml").is_file():
        raise ConfigError(f"RUN: {run} is not a run directory (no config.yaml)")
    parts = build_run(load_config(run / "config.yaml"))
    if (run / "model.pt").is_file():
        from qgm.models.base import GenerativeModel

        parts.model = GenerativeModel.load(run / "model.pt")
        return parts
    ckpt = latest_checkpoint(run / "checkpoints")
    if ckpt is None:
        raise ConfigError(f"RUN: {run} has neither model.pt nor a checkpoint; train it first")
    parts.model.load_state_dict(load_checkpoint(ckpt)["model"])
    return parts


def _check_count(n: Any) -> None:
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ConfigError(f"--n: expected a positive number of samples, got {n!r}")


def conditional_sample_run(
    run_dir: PathLike, n: int, condition: Any, *, method: str = "reject", schedule: Optional[str] = None, seed: int = 0
) -> tuple[np.ndarray, dict[str, Any]]:
    """``n`` samples of a run's model conditioned on ``condition`` (e.g. ``"x0=1,x4=0"``), as in ``samples.npy``,
    and their cost (``ConditionalSamples.stats()``: queries, shots, acceptance). Models tagged ``conditional``."""
    _check_count(n)
    parts = load_run(run_dir)
    model = parts.model
    if not model.tags.conditional:
        raise ConfigError(
            f"--condition: the run's model {type(model).__name__} cannot sample under a condition "
            "(tag 'conditional'); sample it without --condition and filter"
        )
    model.eval()
    with torch.no_grad():
        result = model.sample_conditional(n, condition, method=method, schedule=schedule,
                                          generator=torch.Generator().manual_seed(int(seed)))
    return parts.dataset.to_numpy(result.samples), result.stats()


def sample_run(run_dir: PathLike, n: int, seed: int = 0) -> np.ndarray:
    """``n`` samples of a run's model as saved in ``samples.npy`` (``dataset.to_numpy``; seeded by ``seed``)."""
    _check_count(n)
    parts = load_run(run_dir)
    parts.model.eval()
    with torch.no_grad():
        raw = parts.model.sample(n, generator=torch.Generator().manual_seed(int(seed)))
    return parts.dataset.to_numpy(raw)


def eval_run(
    run_dir: PathLike, metrics: Optional[list[str]] = None, n_samples: Optional[int] = None, seed: int = 0
) -> dict[str, float]:
    """Metrics of a run's model (default: the config's ``metrics`` and ``n_eval_samples``)."""
    from qgm.metrics import evaluate

    parts = load_run(run_dir)
    names = list(metrics) if metrics else parts.config.metrics
    if not names:
        raise ConfigError("metrics: the run's config lists none; pass --metrics kl,tv,...")
    cfg = parts.config.replace(metrics=names)
    _check_metrics(cfg)
    n = n_samples if n_samples is not None else cfg.train.n_eval_samples
    parts.model.eval()
    values = evaluate(parts.model, parts.dataset, names, n_samples=n, generator=torch.Generator().manual_seed(int(seed)))
    return {k: float(v) for k, v in values.items()}
