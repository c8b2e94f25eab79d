"""Sweeps: a grid of config overrides x seeds, fanned out over local processes or Ray.

A sweep expands ``--grid key=v1,v2 ...`` (the product of every key's values) and
``--seeds N`` into **trials**: ``(kind, resolved config, seed)``. Kinds:

* ``train``: a training config (``qgm train``); the trial's result is its summary's
  final loss and metrics;
* ``plateau``: a plateau-scan config (``qgm plateau``); the result is the fitted slope and R²
  of every (cost, depth rule);
* ``reproduce``: a registered claim (``--claim NAME``, config ``{}``); one seed of it.

Each trial has a key (SHA-256 of its kind, config and seed); it runs in
``<out>/trials/<key>/`` and leaves ``result.json`` (status ``ok`` with its numbers, or
``failed`` with the error) written atomically. A rerun skips trials whose result is
``ok``, so a sweep interrupted by Ctrl-C or a crash completes only the missing trials; a
failing trial never stops the others. Executors: ``local`` (default; a process pool of
``workers`` processes, one torch thread each) or ``ray`` (the same function as Ray tasks on
a local Ray instance, or a cluster given by ``address``); both give bit-identical trial
results at equal seeds. Results are aggregated into ``<out>/sweep.csv`` (one row per trial:
grid values, seed, status, numbers), ``<out>/sweep.json`` (median, min, max per grid point
and number) and ``<out>/sweep.png``.
"""
from __future__ import annotations

import csv
import hashlib
import io
import itertools
import json
import math
import multiprocessing
import os
import statistics
import time
import traceback
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterable, Optional, Sequence, Union

from tqdm.auto import tqdm

from qgm.atomic import atomic_json, atomic_text, make_folder
from qgm.errors import ConfigError

__all__ = [
    "Trial", "KINDS", "EXECUTORS", "parse_grid", "expand_trials", "run_trial", "run_sweep", "aggregate",
    "MAX_TRIALS", "execute", "check_executor",
]

KINDS = ("train", "plateau", "reproduce")
EXECUTORS = ("local", "ray")
#: Largest number of trials one sweep may expand to (refused before anything runs).
MAX_TRIALS = 10_000

PathLike = Union[str, "os.PathLike[str]"]


@dataclass(frozen=True)
class Trial:
    """One unit of a sweep: ``kind``, the resolved ``config`` (plain data), the ``seed`` and the grid point."""

    kind: str
    config: dict[str, Any]
    seed: int
    point: tuple[tuple[str, Any], ...]
    claim: str = ""

    @property
    def key(self) -> str:
        """Stable identity: SHA-256 of kind, claim, config and seed (16 hex digits)."""
        blob = json.dumps([self.kind, self.claim, self.config, self.seed], sort_keys=True, default=str)
        return hashlib.sha256(blob.encode()).hexdigest()[:16]


def parse_grid(items: Sequence[str]) -> list[tuple[str, list[Any]]]:
    """``["model.ansatz.depth=2,4", "optimizer.lr=0.01,0.1"]`` -> ``[(key, [values])]`` (values parsed as YAML)."""
    from qgm.train.config import yaml_load

    grid = []
    for item in items:
        key, sep, text = item.partition("=")
        if not sep or not key.strip() or not text.strip():
            raise ConfigError(f"--grid {item!r}: expected key.path=v1,v2,... e.g. optimizer.lr=0.01,0.1")
        values = [yaml_load(v.strip(), f"--grid {key}") for v in text.split(",") if v.strip()]
        grid.append((key.strip(), values))
    return grid


def _set(config: dict[str, Any], dotted: str, value: Any) -> dict[str, Any]:
    from qgm.reproduce.runs import set_nested

    return set_nested(config, dotted, value)


def expand_trials(kind: str, base: dict[str, Any], grid: Sequence[tuple[str, list[Any]]], seeds: int,
                  claim: str = "") -> list[Trial]:
    """Every grid point (product of the values) times seeds ``0..seeds-1``."""
    if kind not in KINDS:
        raise ConfigError(f"kind: expected one of {KINDS}, got {kind!r}")
    if isinstance(seeds, bool) or not isinstance(seeds, int) or seeds < 1:
        raise ConfigError(f"--seeds: expected a positive integer, got {seeds!r}")
    total = math.prod(len(values) for _, values in grid) * seeds  # counted before the product is made
    if total > MAX_TRIALS:
        raise ConfigError(f"--grid/--seeds: {total} trials exceed the limit of {MAX_TRIALS}; split the sweep")
    points = list(itertools.product(*[values for _, values in grid]))
    trials = []
    for values in points:
        config = base
        for (key, _), value in zip(grid, values):
            config = _set(config, key, value)
        point = tuple((key, value) for (key, _), value in zip(grid, values))
        trials += [Trial(kind, config, seed, point, claim) for seed in range(seeds)]
    return trials


# -- one trial -------------------------------------------------------------------------------------
def _train_numbers(trial: Trial, folder: Path) -> dict[str, float]:
    from qgm.train import run_config

    cfg = {**trial.config, "seed": trial.seed}
    cfg["train"] = {**cfg.get("train", {}), "progress": False}
    summary = run_config(cfg, folder / "run", overwrite=True)
    return {"loss": summary["loss"], **summary["metrics"], "train_time_s": summary["train_time_s"]}


def _plateau_numbers(trial: Trial, folder: Path) -> dict[str, float]:
    from qgm.trainability import run_plateau

    result = run_plateau({**trial.config, "seed": trial.seed, "plot": False}, folder / "plateau", log=None)
    out = {}
    for fit in result["fits"]:
        label = f"{fit['cost']}@{fit['depth_rule']}"
        out[f"slope[{label}]"], out[f"r2[{label}]"] = fit["slope"], fit["r2"]
    return out


def _claim_numbers(trial: Trial, folder: Path) -> dict[str, float]:
    from qgm.reproduce import CLAIMS

    return dict(CLAIMS.get(trial.claim).measure(trial.seed, bool(trial.config.get("quick", False))))


_RUNNERS: dict[str, Callable[[Trial, Path], dict[str, float]]] = {
    "train": _train_numbers, "plateau": _plateau_numbers, "reproduce": _claim_numbers,
}


def run_trial(trial: Trial, out: str, runner: Optional[Callable[[Trial, Path], dict[str, float]]] = None) -> dict[str, Any]:
    """Run one trial in ``<out>/trials/<key>/`` with one torch thread; its result (also written as result.json).

    ``runner(trial, folder) -> numbers`` replaces the kind's default runner (in-process callers only)."""
    import torch

    torch.set_num_threads(1)
    folder = Path(out) / "trials" / trial.key
    folder.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    try:
        numbers = (runner or _RUNNERS[trial.kind])(trial, folder)
        result = {"status": "ok", "numbers": {k: float(v) for k, v in numbers.items() if v is not None}}
    except Exception as exc:  # a failed trial is recorded, never fatal to the sweep
        result = {"status": "failed", "error": f"{type(exc).__name__}: {' '.join(str(exc).split())}"[:2000],
                  "traceback": traceback.format_exc()[-4000:]}
    result.update(key=trial.key, claim=trial.claim, seed=trial.seed, point=[list(p) for p in trial.point],
                  wall_time_s=round(time.perf_counter() - start, 3))
    atomic_json(folder / "result.json", result)
    return result


def _finished(out: Path, trial: Trial) -> Optional[dict[str, Any]]:
    path = out / "trials" / trial.key / "result.json"
    if not path.is_file():
        return None
    try:
        result = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError):
        return None
    return result if result.get("status") == "ok" else None


# -- executors ---------------------------------------------------------------------------------------
def _run_local(trials: Sequence[Trial], out: str, workers: int) -> Iterable[dict[str, Any]]:
    if workers == 1:
        for t in trials:
            yield run_trial(t, out)
        return
    ctx = multiprocessing.get_context("spawn")  # fresh interpreters: no inherited torch thread pools
    with ProcessPoolExecutor(max_workers=workers, mp_context=ctx) as pool:
        futures = [pool.submit(run_trial, t, out) for t in trials]
        for f in as_completed(futures):
            yield f.result()


def _run_ray(trials: Sequence[Trial], out: str, workers: int, address: Optional[str]) -> Iterable[dict[str, Any]]:
    try:
        import ray
    except ImportError:
        raise ConfigError("--executor ray needs Ray; pip install 'qgm[scale]'") from None
    started = not ray.is_initialized()
    if started:
        options: dict[str, Any] = {"address": address} if address else {"num_cpus": workers}
        ray.init(include_dashboard=False, log_to_driver=False, configure_logging=False, **options)
    try:
        remote = ray.remote(num_cpus=1)(run_trial)
        pending = [remote.remote(t, out) for t in trials]
        while pending:
            done, pending = ray.wait(pending, num_returns=1)
            yield ray.get(done[0])
    finally:
        if started:
            ray.shutdown()


def check_executor(executor: str, workers: Optional[int]) -> int:
    """Validate ``executor`` and ``workers``; the worker count (default: the number of cores)."""
    if executor not in EXECUTORS:
        raise ConfigError(f"--executor: expected one of {EXECUTORS}, got {executor!r}")
    workers = workers or os.cpu_count() or 1
    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
        raise ConfigError(f"--workers: expected a positive integer, got {workers!r}")
    return workers


def execute(trials: Sequence[Trial], out: PathLike, executor: str = "local", workers: Optional[int] = None,
            address: Optional[str] = None) -> Iterable[dict[str, Any]]:
    """Run every trial (no skipping) with ``executor`` into ``<out>/trials/``; yields results as they finish.

    ``workers == 1`` with the local executor runs in this process (no pickling, tracebacks intact)."""
    workers = check_executor(executor, workers)
    if executor == "ray":
        return _run_ray(trials, str(out), workers, address)
    return _run_local(trials, str(out), workers)


def run_sweep(
    trials: Sequence[Trial], out: PathLike, executor: str = "local", workers: Optional[int] = None,
    address: Optional[str] = None, progress: bool = True,
) -> dict[str, Any]:
    """Run the missing trials of ``trials`` into ``out`` and aggregate every finished one (see module docstring)."""
    workers = check_executor(executor, workers)
    root = Path(out)
    make_folder(root, "--out", "the sweep")
    atomic_json(root / "trials.json", [{"key": t.key, "kind": t.kind, "claim": t.claim, "seed": t.seed,
                                        "point": [list(p) for p in t.point], "config": t.config} for t in trials])
    todo = [t for t in trials if _finished(root, t) is None]
    stream = execute(todo, root, executor, workers, address)
    with tqdm(total=len(trials), initial=len(trials) - len(todo), desc="trials", disable=not progress) as bar:
        for result in stream:
            bar.set_postfix(status=result["status"], refresh=False)
            bar.update(1)
    return aggregate(trials, root)


def aggregate(trials: Sequence[Trial], out: PathLike) -> dict[str, Any]:
    """Write ``sweep.csv``, ``sweep.json`` (median/min/max per grid point) and ``sweep.png``; the JSON data."""
    root = Path(out)
    rows = []
    for t in trials:
        path = root / "trials" / t.key / "result.json"
        result = json.loads(path.read_text()) if path.is_file() else {"status": "missing"}
        rows.append((t, result))
    keys = sorted({k for _, r in rows for k in r.get("numbers", {})})
    grid_keys = [k for k, _ in trials[0].point] if trials else []
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow([*grid_keys, "seed", "status", *keys, "error"])
    for t, r in rows:
        numbers = r.get("numbers", {})
        writer.writerow([*[json.dumps(v) for _, v in t.point], t.seed, r["status"],
                         *[numbers.get(k, "") for k in keys], r.get("error", "")])
    atomic_text(root / "sweep.csv", buf.getvalue())
    points: dict[str, dict[str, Any]] = {}
    for t, r in rows:
        label = json.dumps(dict(t.point), sort_keys=True)
        entry = points.setdefault(label, {"point": dict(t.point), "ok": 0, "failed": 0, "values": {}})
        entry["ok" if r["status"] == "ok" else "failed"] += 1
        for k, v in r.get("numbers", {}).items():
            entry["values"].setdefault(k, []).append(v)
    summary = {"n_trials": len(rows), "n_ok": sum(r["status"] == "ok" for _, r in rows), "points": [
        {"point": e["point"], "ok": e["ok"], "failed": e["failed"],
         "stats": {k: {"median": statistics.median(v), "min": min(v), "max": max(v), "n": len(v)}
                   for k, v in e["values"].items()}} for e in points.values()]}
    atomic_json(root / "sweep.json", summary)
    if summary["n_ok"]:
        _plot(summary, grid_keys, root / "sweep.png")
    return summary


def _plot(summary: dict[str, Any], grid_keys: list[str], path: Path) -> None:
    """Median and range of the first number (the loss for training sweeps) per grid point."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    stats = [p for p in summary["points"] if p["stats"]]
    key = "loss" if any("loss" in p["stats"] for p in stats) else sorted(stats[0]["stats"])[0]
    stats = [p for p in stats if key in p["stats"]]
    labels = [", ".join(f"{k}={p['point'][k]}" for k in grid_keys) or "all" for p in stats]
    med = [p["stats"][key]["median"] for p in stats]
    lo = [m - p["stats"][key]["min"] for m, p in zip(med, stats)]
    hi = [p["stats"][key]["max"] - m for m, p in zip(med, stats)]
    fig, ax = plt.subplots(figsize=(max(5, 0.8 * len(stats) + 2), 3.5))
    ax.errorbar(range(len(stats)), med, yerr=[lo, hi], fmt="o", capsize=3)
    ax.set_xticks(range(len(stats)), labels, rotation=30, ha="right", fontsize=8)
    ax.set_ylabel(f"{key} (median, min-max over seeds)")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
