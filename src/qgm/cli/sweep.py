"""``qgm sweep``: a grid of overrides x seeds over training, plateau scans or a claim, local or on Ray."""
from __future__ import annotations

import argparse
import json
from typing import Any

from qgm.cli.core import command
from qgm.errors import ConfigError


def _sweep_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("config", nargs="?", metavar="CONFIG", help="training or plateau YAML (omit with --claim)")
    p.add_argument("--claim", metavar="NAME", help="sweep the seeds of a registered claim instead of a config")
    p.add_argument("--quick", action="store_true", help="with --claim: the claim's quick mode")
    p.add_argument("--grid", action="append", default=[], metavar="KEY=V1,V2",
                   help="a grid axis, e.g. --grid optimizer.lr=0.01,0.1 (repeatable; the product is swept)")
    p.add_argument("--seeds", type=int, default=1, help="seeds 0..N-1 per grid point (default 1)")
    p.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                   help="a fixed override applied before the grid (repeatable)")
    p.add_argument("--executor", choices=("local", "ray"), default="local",
                   help="local processes (default) or Ray tasks (pip install 'qgm[scale]')")
    p.add_argument("--address", help="Ray cluster address (default: start a local Ray instance)")
    p.add_argument("--workers", type=int, help="parallel trials (default: the number of cores)")
    p.add_argument("--out", required=True, metavar="DIR", help="sweep folder; a rerun completes missing trials")


def _base(args: argparse.Namespace) -> tuple[str, dict[str, Any]]:
    """The trial kind and the base config (overrides applied)."""
    from qgm.train.config import apply_overrides
    from qgm.yaml_io import read_yaml

    if args.claim:
        if args.config:
            raise ConfigError("CONFIG: give a config or --claim, not both")
        from qgm.reproduce import CLAIMS

        CLAIMS.get(args.claim)  # an unknown claim is refused before any trial runs
        return "reproduce", apply_overrides({"quick": bool(args.quick)}, args.overrides)
    if not args.config:
        raise ConfigError("CONFIG: give a training or plateau config, or --claim NAME")
    raw = read_yaml(args.config, "CONFIG")
    if not isinstance(raw, dict):
        raise ConfigError(f"{args.config}: expected a mapping of sections")
    kind = "plateau" if "scans" in raw or "n_qubits" in raw else "train"
    return kind, apply_overrides(raw, args.overrides)


@command("sweep", "grid x seeds over a config or a claim, on local processes or Ray (sweep.csv, sweep.json)",
         _sweep_args)
def _sweep(args: argparse.Namespace) -> int:
    from qgm.sweep import expand_trials, parse_grid, run_sweep

    kind, base = _base(args)
    trials = expand_trials(kind, base, parse_grid(args.grid), args.seeds, claim=args.claim or "")
    summary = run_sweep(trials, args.out, args.executor, args.workers, args.address)
    print(json.dumps({"trials": summary["n_trials"], "ok": summary["n_ok"], "out": args.out}))
    return 0 if summary["n_ok"] == summary["n_trials"] else 1
