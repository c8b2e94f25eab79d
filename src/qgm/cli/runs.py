"""``qgm train``, ``sample``, ``eval`` and ``scenarios``: runs in, samples and metrics out."""
from __future__ import annotations

import argparse
import io
import json
import logging
import os
from pathlib import Path

import numpy as np

from qgm.atomic import atomic_npy, atomic_text
from qgm.cli.core import command, output_file
from qgm.errors import ConfigError
from qgm.limits import check_samples, check_seed


# ---------------------------------------------------------------------------- train
def _train_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("config", nargs="?", metavar="CONFIG", help="YAML config (optional with --resume RUN_DIR)")
    p.add_argument("--out", metavar="RUN_DIR", help="run directory (default runs/<name>)")
    p.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                   help="override a config key, e.g. --set train.steps=50 (value parsed as YAML); repeatable")
    p.add_argument("--resume", nargs="?", const=True, default=False, metavar="RUN_DIR",
                   help="continue the run in RUN_DIR (or in --out) bit-exactly from its latest checkpoint")
    p.add_argument("--overwrite", action="store_true", help="replace a run already in the run directory")


@command("train", "train a model from a YAML config into a run directory", _train_args)
def _train(args: argparse.Namespace) -> int:
    from qgm.train import load_config, run_config
    from qgm.train.run import default_run_dir

    resume_dir = args.resume if isinstance(args.resume, str) else None
    if resume_dir and args.out and Path(resume_dir) != Path(args.out):
        raise ConfigError(f"--resume {resume_dir} and --out {args.out} name different run directories; give one")
    if args.resume and args.overwrite:
        raise ConfigError("--resume continues a run and --overwrite replaces it; give one of them")
    if resume_dir and not os.path.isdir(resume_dir):
        raise ConfigError(f"--resume: {resume_dir} is not a run directory; give the folder of a run")
    out = resume_dir or args.out
    if args.config is None:
        if out is None:
            raise ConfigError("CONFIG: give a config file, or --resume RUN_DIR to continue a run")
        cfg = load_config(Path(out) / "config.yaml", args.overrides)
    else:
        cfg = load_config(args.config, args.overrides)
    out_dir = Path(out) if out else default_run_dir(cfg)
    summary = run_config(cfg, out_dir, resume=bool(args.resume), overwrite=args.overwrite)
    print(json.dumps(summary, indent=2))
    return 0


# ---------------------------------------------------------------------------- sample / eval
def _sample_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("run", metavar="RUN", help="run directory")
    p.add_argument("--n", type=int, required=True, help="number of samples")
    p.add_argument("--out", metavar="FILE", help="output .npy file (default RUN/sampled.npy)")
    p.add_argument("--seed", type=int, default=0, help="sampling seed")
    p.add_argument("--sampler", choices=("exact", "sa", "sqa"),
                   help="measure bitstrings with this sampler (models whose sample() takes sampler=, e.g. qbm): "
                        "exact Gibbs diagonal, simulated annealing (classical part), path-integral QMC")
    _condition_args(p, "sample conditioned on fixed bits, e.g. 'x0=1,x4=0'")


def _condition_args(p: argparse.ArgumentParser, what: str) -> None:
    """``--condition``, ``--method`` and ``--schedule`` of conditional sampling."""
    p.add_argument("--condition", metavar="COND", help=what)
    p.add_argument("--method", choices=("reject", "amplify", "exact"), default="reject",
                   help="with --condition: rejection, amplitude amplification or the simulated conditional")
    p.add_argument("--schedule", choices=("bbht", "grover", "zero_failure", "fixed_point"),
                   help="amplification schedule of --method amplify (default bbht: unknown p)")


def _check_condition_args(args: argparse.Namespace) -> None:
    if args.condition is None and (args.method != "reject" or args.schedule):
        raise ConfigError("--method/--schedule: they choose how to sample under a condition; give --condition")


def _measured(run: str, n: int, seed: int, sampler: str) -> np.ndarray:
    """``n`` Z-basis bitstrings (0/1 rows) of a run's model drawn by ``model.sample(..., sampler=sampler)``."""
    import inspect

    import torch

    from qgm.spaces import Bits
    from qgm.train import load_run

    if n < 1:
        raise ConfigError(f"--n: expected a positive number of samples, got {n}")
    check_seed(seed, "--seed")
    model = load_run(run).model
    if "sampler" not in inspect.signature(model.sample).parameters:
        raise ConfigError(f"--sampler: {type(model).__name__} has no samplers to choose from; drop --sampler")
    check_samples(n, model.space, "--n")
    with torch.no_grad():
        x = model.sample(n, generator=torch.Generator().manual_seed(seed), sampler=sampler)
    return Bits(model.n_bits).to_numpy(x)


@command("sample", "draw samples from a trained run into a .npy file", _sample_args)
def _sample(args: argparse.Namespace) -> int:
    from qgm.train.run import conditional_sample_run, sample_run

    _check_condition_args(args)
    out = output_file(args.out or str(Path(args.run) / "sampled.npy"), "--out", ".npy")
    if args.sampler is not None and args.condition is not None:
        raise ConfigError("--sampler/--condition: conditional sampling uses the model's own sampler; give one of them")
    if args.sampler is not None:
        arr = _measured(args.run, args.n, args.seed, args.sampler)
    elif args.condition is None:
        arr = sample_run(args.run, args.n, seed=args.seed)
    else:
        arr, stats = conditional_sample_run(args.run, args.n, args.condition, method=args.method,
                                            schedule=args.schedule, seed=args.seed)
        print(json.dumps(stats))
    atomic_npy(out, arr)
    print(f"wrote {out}: {arr.dtype} array of shape {arr.shape}")
    return 0


def _eval_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("run", metavar="RUN", help="run directory")
    p.add_argument("--metrics", help="comma-separated metric names (default: the run's config)")
    p.add_argument("--n-samples", type=int, help="samples drawn (default: the config's train.n_eval_samples)")
    p.add_argument("--seed", type=int, default=None,
                   help="sampling seed (default: the stream of the run's final evaluation, so that the default "
                   "metrics and sample count reproduce summary.json)")


@command("eval", "evaluate a trained run's metrics (JSON on stdout)", _eval_args)
def _eval(args: argparse.Namespace) -> int:
    from qgm.train import eval_run
    from qgm.train.run import eval_seed

    names = [m.strip() for m in args.metrics.split(",") if m.strip()] if args.metrics else None
    seed, source = eval_seed(args.run, args.seed)
    values = eval_run(args.run, names, n_samples=args.n_samples, seed=seed)
    logging.getLogger("qgm").info("sampled with %s", source)
    print(json.dumps(values, indent=2))
    return 0


# ---------------------------------------------------------------------------- scenarios
def _scenarios_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("run", metavar="RUN", help="run directory of a market-data model")
    p.add_argument("--n", type=int, required=True, help="number of synthetic days")
    p.add_argument("--out", metavar="FILE", help="CSV file (default RUN/scenarios.csv)")
    p.add_argument("--seed", type=int, default=0, help="sampling seed")
    _condition_args(p, "only days in a region: 'joint_crash' (all assets in their lowest 5%%), "
                       "'joint_crash:0.1', or fixed bits 'x0=0,x4=0'")


@command("scenarios", "synthetic daily return scenarios from a trained market model (CSV)", _scenarios_args)
def _scenarios(args: argparse.Namespace) -> int:
    import torch

    from qgm.models import scenarios
    from qgm.spaces import Reals
    from qgm.train import load_run

    if args.n < 1:
        raise ConfigError(f"--n: expected a positive number of days, got {args.n}")
    check_seed(args.seed, "--seed")
    _check_condition_args(args)
    out = output_file(args.out or str(Path(args.run) / "scenarios.csv"), "--out")
    parts = load_run(args.run)
    check_samples(args.n, parts.dataset.value_space or Reals(1), "--n")
    options = {"schedule": args.schedule} if args.schedule else {}
    x = scenarios(parts.model, parts.dataset, args.n, torch.Generator().manual_seed(args.seed),
                  condition=args.condition, method=args.method, **options)
    names = getattr(parts.dataset, "assets", None) or [f"x{i}" for i in range(x.shape[1])]
    text = io.StringIO()
    np.savetxt(text, x, delimiter=",", header=",".join(names), comments="")
    atomic_text(out, text.getvalue())
    print(f"wrote {out}: {x.shape[0]} days x {x.shape[1]} assets")
    return 0


