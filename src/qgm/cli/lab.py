"""``qgm list``, ``geometry`` and ``plateau``: what is registered, circuit geometry, barren-plateau scans."""
from __future__ import annotations

import argparse
import json
from pathlib import Path

from qgm.cli.core import command
from qgm.errors import ConfigError


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
    from qgm.circuits.qasm import read_qasm

    path = Path(source)
    if not path.is_file():
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


