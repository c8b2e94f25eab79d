"""``qgm list``, ``geometry`` and ``plateau``: what is registered, circuit geometry, barren-plateau scans."""
from __future__ import annotations

import argparse
import json
import os
from functools import partial
from pathlib import Path

from qgm.cli.core import command, output_file
from qgm.errors import ConfigError, brief
from qgm.limits import SAMPLE_COPIES, check_bytes, check_seed
from qgm.registry import did_you_mean


# ---------------------------------------------------------------------------- list
def catalogue() -> dict[str, list[str]]:
    """Every name a config or the API can use, by kind: the registries plus the ansatz, schedule, initialiser,
    gate, adversarial-loss, discriminator and plateau-cost tables."""
    from qgm.circuits import ANSATZE, GATES
    from qgm.circuits.init import INITIALIZERS
    from qgm.losses.adversarial import ADVERSARIAL_LOSSES
    from qgm.models.discriminators import DISCRIMINATORS
    from qgm.registry import CALLBACKS, DATASETS, LOSSES, METRICS, MODELS, OPTIMIZERS
    from qgm.train import load_plugins
    from qgm.train.config import SCHEDULE_NAMES
    from qgm.trainability.costs import COSTS

    load_plugins()
    registries = {"datasets": DATASETS, "models": MODELS, "losses": LOSSES, "optimizers": OPTIMIZERS,
                  "metrics": METRICS, "callbacks": CALLBACKS}
    tables = {"schedules": SCHEDULE_NAMES, "ansatzes": ANSATZE, "initializers": INITIALIZERS, "gates": GATES,
              "adversarial_losses": ADVERSARIAL_LOSSES, "discriminators": DISCRIMINATORS, "plateau_costs": COSTS}
    return {**{k: r.names() for k, r in registries.items()}, **{k: sorted(t) for k, t in tables.items()}}


def _list_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("kind", nargs="?", metavar="KIND", help="only this kind (e.g. models, ansatzes, gates)")
    p.add_argument("--json", action="store_true", help="print the names as JSON")


@command("list", "list the registered names: datasets, models, losses, optimizers, metrics, callbacks, schedules, "
         "ansatzes, initializers, gates, adversarial losses, discriminators, plateau costs", _list_args)
def _list(args: argparse.Namespace) -> int:
    names = catalogue()
    if args.kind is not None:
        if args.kind not in names:
            raise ConfigError(f"KIND: {brief(args.kind)} unknown{did_you_mean(args.kind, names)}; "
                              f"use one of {', '.join(names)}")
        names = {args.kind: names[args.kind]}
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
    p.add_argument("--no-progress", action="store_true", help="no progress bar on stderr")


def _circuit_of(source: str):
    """The circuit in a ``.qasm`` file, or the circuit of the model a training config builds."""
    from qgm.circuits.qasm import read_qasm

    path = Path(source)
    if not os.path.isfile(path):
        raise ConfigError(f"CIRCUIT-OR-CONFIG: no file {source!r}; give a .qasm file or a .yaml config")
    if path.suffix.lower() in (".qasm", ".qasm3"):
        return read_qasm(path)
    from qgm.train import build_run, load_config

    model = build_run(load_config(path)).model
    circuit = getattr(model, "circuit", None)
    if circuit is None:
        raise ConfigError(f"{source}: model '{type(model).__name__}' has no single circuit to analyse; use a qcbm config")
    return circuit


@command("geometry", "expressibility, entangling capability and metric spectrum of a circuit", _geometry_args)
def _geometry(args: argparse.Namespace) -> int:
    import torch
    from tqdm.auto import tqdm

    from qgm.geometry import geometry_report, plot_geometry_report

    for field, value in (("--n-pairs", args.n_pairs), ("--bins", args.bins)):
        if value < 1:
            raise ConfigError(f"{field}: expected a positive integer, got {value}")
    check_seed(args.seed, "--seed")
    plot = output_file(args.plot, "--plot") if args.plot else None
    circuit = _circuit_of(args.source)
    check_bytes(SAMPLE_COPIES * 16 * args.n_pairs * max(circuit.n_params, 1), "--n-pairs",
                f"{args.n_pairs} pairs of {circuit.n_params} random angles", "use fewer pairs")
    check_bytes(SAMPLE_COPIES * 8 * args.bins, "--bins", f"a histogram of {args.bins} bins", "use fewer bins")
    with tqdm(total=3, desc="geometry", unit="part", disable=args.no_progress) as bar:
        def done(part: str) -> None:
            bar.set_postfix_str(part, refresh=False)
            bar.update(1)

        report = geometry_report(circuit, n_pairs=args.n_pairs, bins=args.bins,
                                 generator=torch.Generator().manual_seed(args.seed), progress=done)
    m = report["metric"]
    summary = {
        "n_qubits": report["n_qubits"], "n_params": report["n_params"],
        "expressibility": report["expressibility"], "entangling_capability": report["entangling_capability"],
        "metric_rank": m["rank"], "metric_condition_number": m["condition_number"], "metric_trace": m["trace"],
    }
    print(json.dumps(summary, indent=2))
    if plot is not None:
        print(f"wrote {plot_geometry_report(report, plot)}")
    return 0


# ---------------------------------------------------------------------------- plateau
def _plateau_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("config", metavar="CONFIG", help="plateau scan config (see examples/plateau_global_vs_local.yaml)")
    p.add_argument("--out", metavar="DIR", help="output directory (default runs/<config stem>); rerun resumes")
    p.add_argument("--no-progress", action="store_true", help="no progress bars on stderr")


@command("plateau", "barren-plateau scan: gradient variance vs qubits, fitted decay rates, plot", _plateau_args)
def _plateau(args: argparse.Namespace) -> int:
    from tqdm.auto import tqdm

    from qgm.trainability import run_plateau

    out = Path(args.out) if args.out else Path("runs") / Path(args.config).stem
    progress = None if args.no_progress else partial(tqdm, unit="init", leave=False)
    run_plateau(args.config, out, progress=progress)
    print(f"wrote {out / 'plateau.json'}")
    return 0


