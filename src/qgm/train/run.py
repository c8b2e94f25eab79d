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

``resume=True`` restores the newest checkpoint that loads and continues
bit-exactly. Before anything in the folder changes it checks the config
against the run's ``config.yaml`` (only :data:`~qgm.train.config.RESUMABLE_KEYS`
may differ) and that the checkpoint fits the model. One process at a time owns
a run directory (:class:`qgm.lock.RunLock`: ``<out>/.lock`` with its pid and
host); every file is written atomically (:mod:`qgm.atomic`); checkpoints are
pruned to ``train.keep_checkpoints``. Sizes (batches, evaluation samples) are
checked against the memory budget (:mod:`qgm.limits`) before the first step.
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
import json
import logging
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
from qgm.errors import ConfigError, QGMError, brief
from qgm.limits import check_samples, check_seed
from qgm.lock import RunLock
from qgm.optim.factory import build_scheduler
from qgm.registry import CALLBACKS, DATASETS, LOSSES, METRICS, MODELS, OPTIMIZERS, OPTION_ERRORS, Registry, did_you_mean
from qgm.spaces import Bits, Images, Reals, check_compatible
from qgm.train.callbacks import (
    Checkpointer,
    EarlyStopping,
    MetricsLogger,
    ProgressBar,
    checkpoints,
    load_latest_checkpoint,
    read_records,
)
from qgm.train.config import RESUMABLE_KEYS, Component, RunConfig, load_config, parse_config, resume_changes, yaml_dump
from qgm.train.loggers import build_loggers, check_logger_names
from qgm.train.plots import write_plots
from qgm.train.trainer import STREAM_EVAL, STREAM_SAMPLES, Callback, EvaluateFn, Trainer, derived_seed

__all__ = [
    "PLUGIN_MODULES", "load_plugins", "RunParts", "build_run", "run_config", "load_run",
    "sample_run", "conditional_sample_run", "eval_run", "eval_seed", "default_run_dir",
]

#: Modules whose import fills the registries the configs name.
PLUGIN_MODULES = (
    "qgm.data", "qgm.metrics", "qgm.losses", "qgm.optim", "qgm.models", "qgm.baselines", "qgm.trainability",
    "qgm.train.callbacks", "qgm.data.qm9", "qgm.metrics.chemistry", "qgm.models.molgan", "qgm.models.qgan_hg",
    "qgm.data.bernoulli", "qgm.data.gibbs", "qgm.models.qbm", "qgm.models.vqt",
)

PathLike = Union[str, "os.PathLike[str]"]
_log = logging.getLogger("qgm")


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
        registry.get(comp.name)
    except ConfigError as exc:
        raise ConfigError(f"{path}.name: {exc}") from None
    try:
        return registry.check_options(comp.name, comp.options, fixed)
    except ConfigError as exc:
        raise ConfigError(f"{path}.{exc}") from None


def _prefixed(path: str, comp: Component, exc: Exception) -> str:
    msg = str(exc)
    head = msg.split(":", 1)[0].strip()
    if head in comp.options:
        return f"{path}.{msg}"
    return msg if msg.startswith(path) else f"{path}: {msg}"


def _create(registry: Registry, path: str, comp: Component, **fixed: Any) -> Any:
    factory = _check_options(registry, path, comp, fixed)
    if "seed" in comp.options:
        check_seed(comp.options["seed"], f"{path}.seed")
    try:
        return factory(**fixed, **comp.options)
    except QGMError as exc:
        raise type(exc)(_prefixed(path, comp, exc)) from exc
    except OPTION_ERRORS as exc:
        raise ConfigError(f"{path} '{comp.name}': bad option value ({type(exc).__name__}: {str(exc)[:160]}); "
                          f"options given: {brief(comp.options)}") from exc


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


def _check_optimizer_options(cfg: RunConfig) -> None:
    """Unknown optimizer names and options, named by their config path (per player too)."""
    specs = cfg.optimizer.items() if isinstance(cfg.optimizer, dict) else [(None, cfg.optimizer)]
    for player, comp in specs:
        _check_options(OPTIMIZERS, "optimizer" if player is None else f"optimizer.{player}", comp, ("params", "model"))


def _build_optimizers(cfg: RunConfig, model: Any) -> dict[str, torch.optim.Optimizer]:
    _check_optimizer_options(cfg)
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
            raise ConfigError(f"metrics[{i}]: unknown metric {brief(name)}{did_you_mean(name, METRICS.names())}; "
                              f"known: {', '.join(METRICS.names())}")


def _check_trainable(cfg: RunConfig, model: Any) -> None:
    """Refuse a model without trainable parameters (e.g. an ansatz of depth -1)."""
    if _n_params(model) == 0:
        raise ConfigError(f"model: '{cfg.model.name}' built with {brief(cfg.model.options)} has no trainable "
                          "parameters; check its options (e.g. ansatz depth >= 1)")


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
    if cfg.train.batch_size is not None:
        check_samples(cfg.train.batch_size, dataset.space, "train.batch_size")
    model = _create(MODELS, "model", cfg.model, dataset=dataset)
    check_compatible(model.space, dataset.space, cfg.model.name, cfg.dataset.name,
                     prepares_state=model.tags.prepares_state)
    _check_trainable(cfg, model)
    check_samples(cfg.train.n_eval_samples, model.space, "train.n_eval_samples")
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


_RUN_FILES = ("metrics.jsonl", "summary.json", "samples.npy", "model.pt")


def _holds_run(out: Path) -> bool:
    return bool(checkpoints(out / "checkpoints")) or any((out / name).exists() for name in _RUN_FILES)


def _check_resume_config(out: Path, cfg: RunConfig) -> None:
    """Refuse a resume whose config differs from the run's ``config.yaml`` outside :data:`RESUMABLE_KEYS`."""
    stored = out / "config.yaml"
    if not stored.is_file():
        return
    old = _resolve_seeds(load_config(stored))
    changes = resume_changes(old, cfg)
    if changes:
        listed = "; ".join(f"{k}: {brief(a, 40)} -> {brief(b, 40)}" for k, a, b in changes[:3])
        more = f" and {len(changes) - 3} more" if len(changes) > 3 else ""
        raise ConfigError(
            f"--resume: the config differs from {stored} ({listed}{more}); a resumed run keeps the model, data, loss, "
            f"optimizer, schedule, seed and batches of its checkpoint and may change only {', '.join(RESUMABLE_KEYS)}; "
            "train the changed config into a new --out"
        )


def _prepare_dir(out: Path, resume: bool, overwrite: bool, cfg: RunConfig) -> Optional[tuple[Path, dict[str, Any]]]:
    """Check the run directory; ``(path, state)`` of the checkpoint to resume from (None for a fresh run).

    Nothing in ``out`` changes before every check passed (``overwrite`` then clears the old run).
    """
    if resume:
        _check_resume_config(out, cfg)
        found = load_latest_checkpoint(out / "checkpoints")
        if found is None:
            raise ConfigError(f"--resume: no checkpoint in {out / 'checkpoints'}; start the run without --resume")
        return found
    if _holds_run(out):
        if not overwrite:
            raise ConfigError(f"--out: {out} already holds a run; pass --resume to continue it, --overwrite, or another --out")
        for name in ("checkpoints", "plots"):
            shutil.rmtree(out / name, ignore_errors=True)
        for name in _RUN_FILES:
            (out / name).unlink(missing_ok=True)
    return None


def _restore(trainer: Trainer, path: Path, state: dict[str, Any]) -> None:
    """Load checkpoint ``state`` into ``trainer``; a ConfigError if it does not fit, and newer (unreadable)
    checkpoints moved aside as ``*.pt.damaged``."""
    try:
        trainer.load_state_dict(state)
    except (RuntimeError, KeyError, ValueError, TypeError, IndexError) as exc:
        raise ConfigError(
            f"--resume: checkpoint {path} does not fit the run this config builds ({str(exc).splitlines()[0][:160]}); "
            "resume with the run's own config.yaml"
        ) from None
    for step, newer in checkpoints(path.parent):
        if step > trainer.step:
            newer.replace(newer.with_name(newer.name + ".damaged"))
            _log.warning("%s: set aside as %s.damaged (it could not be read)", newer, newer.name)


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
        MetricsLogger(out / "metrics.jsonl", sync_every=t.checkpoint_every),
        Checkpointer(out / "checkpoints", t.checkpoint_every, keep=t.keep_checkpoints),
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
    with RunLock(out_dir, "--out"):
        found = _prepare_dir(out_dir, resume, overwrite, cfg)
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
        if found is not None:
            _restore(trainer, *found)
        atomic_text(out_dir / "config.yaml", yaml_dump(cfg.to_dict()))
        trainer.fit()
        return _finalise(parts, trainer, out_dir, started)


# ---------------------------------------------------------------------------- reading runs back
def _run_dir(run_dir: PathLike) -> Path:
    run = Path(run_dir)
    if not os.path.isfile(run / "config.yaml"):
        raise ConfigError(f"RUN: {run} is not a run directory (no config.yaml)")
    return run


def _final_step(run: Path) -> Optional[int]:
    """The step ``summary.json`` reports (None when it is missing or unreadable)."""
    try:
        step = json.loads((run / "summary.json").read_text()).get("steps")
    except (OSError, ValueError, AttributeError):
        return None
    return step if isinstance(step, int) else None


def load_run(run_dir: PathLike) -> RunParts:
    """The parts of a finished (``model.pt``) or interrupted (newest readable checkpoint) run."""
    from qgm.models.base import GenerativeModel

    run = _run_dir(run_dir)
    parts = build_run(load_config(run / "config.yaml"))
    if (run / "model.pt").is_file():
        try:
            parts.model = GenerativeModel.load(run / "model.pt")
            return parts
        except Exception as exc:  # a damaged file raises anything from EOFError to KeyError inside the unpickler
            _log.warning("%s cannot be read (%s); using the newest readable checkpoint", run / "model.pt",
                         type(exc).__name__)
    found = load_latest_checkpoint(run / "checkpoints")
    if found is None:
        raise ConfigError(f"RUN: {run} has neither a readable model.pt nor a checkpoint; train it first")
    try:
        parts.model.load_state_dict(found[1]["model"])
    except (RuntimeError, KeyError, ValueError) as exc:
        raise ConfigError(f"RUN: checkpoint {found[0]} does not fit the run's config.yaml ({str(exc)[:120]})") from None
    return parts


def _check_count(n: Any, field: str) -> int:
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ConfigError(f"{field}: expected a positive number of samples, got {brief(n)}")
    return n


def conditional_sample_run(
    run_dir: PathLike, n: int, condition: Any, *, method: str = "reject", schedule: Optional[str] = None, seed: int = 0
) -> tuple[np.ndarray, dict[str, Any]]:
    """``n`` samples of a run's model conditioned on ``condition`` (e.g. ``"x0=1,x4=0"``), as in ``samples.npy``,
    and their cost (``ConditionalSamples.stats()``: queries, shots, acceptance). Models tagged ``conditional``."""
    _check_count(n, "--n")
    check_seed(seed, "--seed")
    parts = load_run(run_dir)
    model = parts.model
    if not model.tags.conditional:
        raise ConfigError(
            f"--condition: the run's model {type(model).__name__} cannot sample under a condition "
            "(tag 'conditional'); sample it without --condition and filter"
        )
    check_samples(n, model.space, "--n")
    model.eval()
    with torch.no_grad():
        result = model.sample_conditional(n, condition, method=method, schedule=schedule,
                                          generator=torch.Generator().manual_seed(int(seed)))
    return parts.dataset.to_numpy(result.samples), result.stats()


def sample_run(run_dir: PathLike, n: int, seed: int = 0) -> np.ndarray:
    """``n`` samples of a run's model as saved in ``samples.npy`` (``dataset.to_numpy``; seeded by ``seed``)."""
    _check_count(n, "--n")
    check_seed(seed, "--seed")
    parts = load_run(run_dir)
    check_samples(n, parts.model.space, "--n")
    parts.model.eval()
    with torch.no_grad():
        raw = parts.model.sample(n, generator=torch.Generator().manual_seed(int(seed)))
    return parts.dataset.to_numpy(raw)


def eval_seed(run_dir: PathLike, seed: Optional[int] = None) -> tuple[int, str]:
    """``(generator seed, what it is)`` of :func:`eval_run`: ``seed`` itself, or (None) the stream the run's final
    evaluation used, so that the metrics match ``summary.json``."""
    if seed is not None:
        return check_seed(seed, "--seed"), (f"seed {seed} (summary.json used the run's own evaluation stream; "
                                            "omit --seed to match it)")
    run = _run_dir(run_dir)
    step = _final_step(run)
    if step is None:
        return 0, "seed 0 (the run has no summary.json to match)"
    cfg = load_config(run / "config.yaml")
    return derived_seed(cfg.seed, STREAM_EVAL, step), f"the run's evaluation stream at step {step}, as in summary.json"


def eval_run(
    run_dir: PathLike, metrics: Optional[list[str]] = None, n_samples: Optional[int] = None, seed: Optional[int] = None
) -> dict[str, float]:
    """Metrics of a run's model (default: the config's ``metrics`` and ``n_eval_samples``).

    ``seed=None`` samples from the stream of the run's final evaluation (:func:`eval_seed`), so with the
    default metrics and sample count the values equal ``summary.json``'s.
    """
    from qgm.metrics import evaluate

    if n_samples is not None:
        _check_count(n_samples, "--n-samples")
    generator_seed, _ = eval_seed(run_dir, seed)
    parts = load_run(run_dir)
    names = list(metrics) if metrics else parts.config.metrics
    if not names:
        raise ConfigError("metrics: the run's config lists none; pass --metrics kl,tv,...")
    cfg = parts.config.replace(metrics=names)
    _check_metrics(cfg)
    n = n_samples if n_samples is not None else cfg.train.n_eval_samples
    check_samples(n, parts.model.space, "--n-samples")
    parts.model.eval()
    with torch.no_grad():
        values = evaluate(parts.model, parts.dataset, names, n_samples=n,
                          generator=torch.Generator().manual_seed(generator_seed))
    return {k: float(v) for k, v in values.items()}
