"""The ``qgm`` command line: parse, call the library, print.

Sub-commands live in :data:`COMMANDS`; adding one is one function pair::

    def _geometry_args(p: argparse.ArgumentParser) -> None:
        p.add_argument("CONFIG")

    @command("geometry", "metric tensor, expressibility and entanglement of a circuit", _geometry_args)
    def _geometry(args: argparse.Namespace) -> int:
        ...
        return 0

Exit codes: 0 success, 2 for a :class:`~qgm.errors.QGMError` (one line on
stderr, no traceback unless ``--debug``), 130 on Ctrl-C.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Optional, Sequence

import numpy as np

from qgm.errors import ConfigError, QGMError

__all__ = ["main", "command", "Command", "COMMANDS", "build_parser"]


@dataclass(frozen=True)
class Command:
    """A sub-command: ``configure`` adds its arguments, ``run`` does the work and returns the exit code."""

    name: str
    help: str
    configure: Callable[[argparse.ArgumentParser], None]
    run: Callable[[argparse.Namespace], int]


#: Sub-commands in the order ``qgm --help`` lists them.
COMMANDS: dict[str, Command] = {}


def command(
    name: str, help: str, configure: Callable[[argparse.ArgumentParser], None]
) -> Callable[[Callable[[argparse.Namespace], int]], Callable[[argparse.Namespace], int]]:
    """Decorator adding ``run`` as sub-command ``name`` to :data:`COMMANDS`."""

    def deco(run: Callable[[argparse.Namespace], int]) -> Callable[[argparse.Namespace], int]:
        COMMANDS[name] = Command(name, help, configure, run)
        return run

    return deco


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
    p.add_argument("--out", required=True, metavar="FILE", help="output .npy file")
    p.add_argument("--seed", type=int, default=0, help="sampling seed")


@command("sample", "draw samples from a trained run into a .npy file", _sample_args)
def _sample(args: argparse.Namespace) -> int:
    from qgm.train import sample_run

    arr = sample_run(args.run, args.n, seed=args.seed)
    out = Path(args.out)
    if out.suffix != ".npy":
        out = out.with_name(out.name + ".npy")
    out.parent.mkdir(parents=True, exist_ok=True)
    np.save(out, arr)
    print(f"wrote {out}: {arr.dtype} array of shape {arr.shape}")
    return 0


def _eval_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("run", metavar="RUN", help="run directory")
    p.add_argument("--metrics", help="comma-separated metric names (default: the run's config)")
    p.add_argument("--n-samples", type=int, help="samples drawn (default: the config's train.n_eval_samples)")
    p.add_argument("--seed", type=int, default=0, help="sampling seed")


@command("eval", "evaluate a trained run's metrics (JSON on stdout)", _eval_args)
def _eval(args: argparse.Namespace) -> int:
    from qgm.train import eval_run

    names = [m.strip() for m in args.metrics.split(",") if m.strip()] if args.metrics else None
    print(json.dumps(eval_run(args.run, names, n_samples=args.n_samples, seed=args.seed), indent=2))
    return 0


# ---------------------------------------------------------------------------- list
def _list_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--json", action="store_true", help="print the names as JSON")


@command("list", "list the registered datasets, models, losses, optimizers and metrics", _list_args)
def _list(args: argparse.Namespace) -> int:
    from qgm.registry import DATASETS, LOSSES, METRICS, MODELS, OPTIMIZERS
    from qgm.train import load_plugins

    load_plugins()
    table = {"datasets": DATASETS, "models": MODELS, "losses": LOSSES, "optimizers": OPTIMIZERS, "metrics": METRICS}
    names = {kind: reg.names() for kind, reg in table.items()}
    if args.json:
        print(json.dumps(names, indent=2))
    else:
        for kind, items in names.items():
            print(f"{kind}: {', '.join(items)}")
    return 0


# ---------------------------------------------------------------------------- geometry
def _geometry_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("source", metavar="CIRCUIT-OR-CONFIG", help="an OpenQASM 3 file (.qasm) or a training config (.yaml)")
    p.add_argument("--n-pairs", type=int, default=5000, help="fidelity pairs for expressibility (and MW samples)")
    p.add_argument("--bins", type=int, default=75, help="fidelity histogram bins")
    p.add_argument("--seed", type=int, default=0, help="seed of the random parameter draws")
    p.add_argument("--plot", metavar="FILE", help="save the histogram and metric-spectrum figure (.png)")


def _circuit_of(source: str):
    """The circuit in a ``.qasm`` file, or the circuit of the model a training config builds."""
    from qgm.circuits import Circuit

    path = Path(source)
    if not path.is_file():
        raise ConfigError(f"CIRCUIT-OR-CONFIG: no file {source!r}; give a .qasm file or a .yaml config")
    if path.suffix.lower() in (".qasm", ".qasm3"):
        return Circuit.from_qasm(path.read_text())
    from qgm.train import build_run, load_config

    model = build_run(load_config(path)).model
    circuit = getattr(model, "circuit", None)
    if circuit is None:
        raise ConfigError(f"{source}: model '{type(model).__name__}' has no single circuit to analyse; use a qcbm config")
    return circuit


@command("geometry", "expressibility, entangling capability and metric spectrum of a circuit", _geometry_args)
def _geometry(args: argparse.Namespace) -> int:
    import torch

    from qgm.geometry import geometry_report, plot_geometry_report

    circuit = _circuit_of(args.source)
    report = geometry_report(circuit, n_pairs=args.n_pairs, bins=args.bins,
                             generator=torch.Generator().manual_seed(args.seed))
    m = report["metric"]
    summary = {
        "n_qubits": report["n_qubits"], "n_params": report["n_params"],
        "expressibility": report["expressibility"], "entangling_capability": report["entangling_capability"],
        "metric_rank": m["rank"], "metric_condition_number": m["condition_number"], "metric_trace": m["trace"],
    }
    print(json.dumps(summary, indent=2))
    if args.plot:
        print(f"wrote {plot_geometry_report(report, args.plot)}")
    return 0


# ---------------------------------------------------------------------------- plateau
def _plateau_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("config", metavar="CONFIG", help="plateau scan config (see examples/plateau_global_vs_local.yaml)")
    p.add_argument("--out", metavar="DIR", help="output directory (default runs/<config stem>); rerun resumes")


@command("plateau", "barren-plateau scan: gradient variance vs qubits, fitted decay rates, plot", _plateau_args)
def _plateau(args: argparse.Namespace) -> int:
    from qgm.trainability import run_plateau

    out = Path(args.out) if args.out else Path("runs") / Path(args.config).stem
    run_plateau(args.config, out)
    print(f"wrote {out / 'plateau.json'}")
    return 0


# ---------------------------------------------------------------------------- scenarios
def _scenarios_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("run", metavar="RUN", help="run directory of a market-data model")
    p.add_argument("--n", type=int, required=True, help="number of synthetic days")
    p.add_argument("--out", metavar="FILE", help="CSV file (default RUN/scenarios.csv)")
    p.add_argument("--seed", type=int, default=0, help="sampling seed")


@command("scenarios", "synthetic daily return scenarios from a trained market model (CSV)", _scenarios_args)
def _scenarios(args: argparse.Namespace) -> int:
    import torch

    from qgm.models import scenarios
    from qgm.train import load_run

    if args.n < 1:
        raise ConfigError(f"--n: expected a positive number of days, got {args.n}")
    parts = load_run(args.run)
    x = scenarios(parts.model, parts.dataset, args.n, torch.Generator().manual_seed(args.seed))
    out = Path(args.out) if args.out else Path(args.run) / "scenarios.csv"
    out.parent.mkdir(parents=True, exist_ok=True)
    names = getattr(parts.dataset, "assets", None) or [f"x{i}" for i in range(x.shape[1])]
    np.savetxt(out, x, delimiter=",", header=",".join(names), comments="")
    print(f"wrote {out}: {x.shape[0]} days x {x.shape[1]} assets")
    return 0


# ---------------------------------------------------------------------------- entry
#: Environment variable with the default of ``--threads``.
THREADS_ENV = "QGM_THREADS"


def _set_threads(threads: Optional[int]) -> None:
    """``torch.set_num_threads`` from ``--threads``, else ``$QGM_THREADS``, else 1."""
    import torch

    if threads is None:
        raw = os.environ.get(THREADS_ENV, "1")
        try:
            threads = int(raw)
        except ValueError:
            raise ConfigError(f"{THREADS_ENV}={raw!r}: expected a positive integer number of threads") from None
    if threads < 1:
        raise ConfigError(f"--threads: expected a positive integer, got {threads}")
    torch.set_num_threads(threads)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every sub-command of :data:`COMMANDS`."""
    parser = argparse.ArgumentParser(prog="qgm", description="Train and measure quantum generative models.")
    parser.add_argument("--debug", action="store_true", help="show tracebacks of errors")
    parser.add_argument(
        "--threads", type=int, default=None, metavar="N",
        help=f"torch CPU threads (default ${THREADS_ENV} or 1: the engine's many small operations "
        "run fastest on one thread, and extra threads stall when other jobs share the cores)",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for cmd in COMMANDS.values():
        p = sub.add_parser(cmd.name, help=cmd.help, description=cmd.help)
        p.add_argument("--debug", action="store_true", default=argparse.SUPPRESS, help="show tracebacks of errors")
        cmd.configure(p)
    return parser


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Run ``qgm`` with ``argv`` (default ``sys.argv[1:]``); the exit code."""
    args = build_parser().parse_args(argv)
    try:
        _set_threads(args.threads)
        return COMMANDS[args.command].run(args)
    except QGMError as exc:
        if args.debug:
            raise
        print(f"qgm {args.command}: error: {' '.join(str(exc).split())}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"qgm {args.command}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
