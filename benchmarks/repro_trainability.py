"""Reproductions for qgm.trainability (results in docs/repro/trainability.md).

Parts (``--part``, default all; each writes under ``--out``, default ``runs/repro_trainability``):

* ``plateau``: ``examples/plateau_global_vs_local.yaml`` (global fidelity and parity cost at
  depth n, local cost at depth ceil(log2 n); n = 2..16, 500 inits) — the first target;
* ``generative``: MMD with a small (0.25) and a large (n/4) bandwidth, KL, and the global and
  local costs on the same circuits (hardware-efficient, depth ceil(log2 n), n = 2..14, 500 inits;
  target |0…0⟩) — Rudolph et al.'s bandwidth ↔ locality result;
* ``kl_shots``: KL, global and local costs estimated from 1000 shots per evaluation
  (parameter shift with fresh samples; n = 2..12, depth ceil(log2 n));
* ``bandwidth``: the bandwidth ↔ locality relation at n = 10 (depth 4, 500 inits): gradient
  variance of MMD for σ = 0.1 … 10 next to the mean body-ness ``n q``, ``q = (1 − e^{−1/(2σ)})/2``;
* ``ghz``: learning the 12-qubit GHZ state with the local quantum fidelity vs the global
  fidelity (hardware-efficient, ladder entangler, depth 4, uniform init, 300 steps; plain
  gradient descent lr 0.5 and Adam lr 0.05; ``--ghz-steps``), final fidelity for seeds 0..4;
* ``init``: initial gradient variance by initialisation strategy vs n (MMD σ = n/4 to the
  GHZ distribution; n = 2..10; uniform, small-angle, identity blocks with each tie-break,
  AdaInit with the classical proposal), all at total depth n.

Usage: ``.venv/bin/python benchmarks/repro_trainability.py [--part NAME ...] [--out DIR] [--threads 1]``
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import time

import torch

from qgm.circuits import hardware_efficient
from qgm.losses import expected_bodyness
from qgm.losses.fidelity import GlobalFidelityLoss, LocalFidelityLoss, fidelity, model_state
from qgm.models import QCBM
from qgm.trainability import run_plateau, scan, target_state

EXAMPLE = os.path.join(os.path.dirname(__file__), "..", "examples", "plateau_global_vs_local.yaml")


def plateau(out: str) -> None:
    run_plateau(EXAMPLE, os.path.join(out, "plateau"))


def generative(out: str) -> None:
    costs = [
        "global", "local", {"name": "mmd", "sigma": 0.25, "label": "mmd sigma=0.25"},
        {"name": "mmd", "sigma": "n/4", "label": "mmd sigma=n/4"}, "kl",
    ]
    config = {"ansatz": {"name": "hardware_efficient"}, "n_qubits": {"start": 2, "stop": 14, "step": 2},
              "n_inits": 500, "scans": [{"cost": costs, "depth": "ceil(log2(n))"}]}
    run_plateau(config, os.path.join(out, "generative"))


def kl_shots(out: str) -> None:
    config = {"ansatz": {"name": "hardware_efficient"}, "n_qubits": {"start": 2, "stop": 12, "step": 2},
              "n_inits": 500, "shots": 1000, "scans": [{"cost": ["kl", "global", "local"], "depth": "ceil(log2(n))"}]}
    run_plateau(config, os.path.join(out, "kl_shots"))


def bandwidth(out: str, n: int = 10) -> None:
    sigmas = [0.1, 0.25, 0.5, 1.0, 2.0, 4.0, 10.0]
    costs = [{"name": "mmd", "sigma": s, "label": f"mmd sigma={s}"} for s in sigmas]
    result = scan({"name": "hardware_efficient"}, [n], "ceil(log2(n))", costs, n_inits=500,
                  cache_dir=os.path.join(out, "bandwidth", "cache"))
    print(f"{'sigma':>6} {'mean body-ness':>15} {'Var[dC]':>10} {'stderr':>9}")
    rows = []
    for s, r in zip(sigmas, result.rows):
        rows.append({"sigma": s, "bodyness": expected_bodyness(s, n), "var": r["var"], "stderr": r["stderr"]})
        print(f"{s:>6} {rows[-1]['bodyness']:>15.2f} {r['var']:>10.3e} {r['stderr']:>9.1e}")
    with open(os.path.join(out, "bandwidth", "bandwidth.json"), "w") as f:
        json.dump(rows, f, indent=1)


def train_state(loss, n: int, seed: int, optimizer: str, steps: int) -> float:
    """Final fidelity to GHZ after ``steps`` full-batch steps of ``loss`` from a uniform init."""
    model = QCBM(hardware_efficient(n, 4, entangler="ladder"), seed=seed)
    opt = (torch.optim.SGD(model.parameters(), lr=0.5) if optimizer == "gd"
           else torch.optim.Adam(model.parameters(), lr=0.05))
    for _ in range(steps):
        opt.zero_grad()
        loss(model, None).backward()
        opt.step()
    with torch.no_grad():
        return float(fidelity(model_state(model), loss.state))


def ghz(out: str, n: int = 12, seeds: int = 5, steps: int = 300, optimizers: tuple = ("gd", "adam")) -> None:
    target = target_state("ghz", n)
    losses = {"local_fidelity": LocalFidelityLoss(target.state, target.prep),
              "global_fidelity": GlobalFidelityLoss(target.state)}
    rows = []
    for optimizer in optimizers:
        for name, loss in losses.items():
            start = time.perf_counter()
            fids = [train_state(loss, n, seed, optimizer, steps) for seed in range(seeds)]
            rows.append({"loss": name, "optimizer": optimizer, "final_fidelity": fids,
                         "mean": statistics.mean(fids), "seconds": time.perf_counter() - start})
            print(f"{name:<16} {optimizer:<5} fidelities {' '.join(f'{f:.4f}' for f in fids)} "
                  f"mean {rows[-1]['mean']:.4f} ({rows[-1]['seconds']:.0f}s)", flush=True)
    os.makedirs(out, exist_ok=True)
    with open(os.path.join(out, f"ghz_{steps}steps.json"), "w") as f:
        json.dump(rows, f, indent=1)


def init(out: str) -> None:
    cost = {"name": "mmd", "sigma": "n/4", "target": "ghz", "label": "mmd sigma=n/4 to GHZ"}
    common = {"n_qubits": [2, 4, 6, 8, 10], "cost": cost, "cache_dir": os.path.join(out, "init", "cache")}
    hea = {"name": "hardware_efficient"}
    blocks = {"name": "identity_blocks", "block_depth": 1}
    runs = {
        "uniform": dict(ansatz=hea, depth="n", init="uniform", n_inits=500),
        "small (std 0.01)": dict(ansatz=hea, depth="n", init="small", n_inits=500),
        "identity blocks, no tie-break": dict(ansatz=blocks, depth="n//2", init="identity_blocks",
                                              init_options={"tie_break": "none"}, n_inits=500),
        "identity blocks, noise 0.01": dict(ansatz=blocks, depth="n//2", init="identity_blocks", n_inits=500),
        "identity blocks, random first block": dict(ansatz=blocks, depth="n//2", init="identity_blocks",
                                                    init_options={"tie_break": "first_block"}, n_inits=500),
        "identity blocks + H input layer": dict(ansatz={**blocks, "input_layer": "h"}, depth="n//2",
                                                init="identity_blocks", init_options={"tie_break": "none"},
                                                n_inits=500),
        "adainit (CEM proposal)": dict(ansatz=hea, depth="n", init="adainit", n_inits=100,
                                       init_options={"cost": cost, "candidates": 8, "rounds": 6, "patience": 3}),
    }
    table = {}
    for name, options in runs.items():
        start = time.perf_counter()
        result = scan(**common, **options)
        table[name] = [{"n": r["n"], "var": r["var"], "stderr": r["stderr"], "n_inits": r["n_inits"]}
                       for r in result.rows]
        print(f"{name:<38}" + "  ".join(f"n={r['n']}: {r['var']:.2e}±{r['stderr']:.0e}" for r in result.rows)
              + f"  ({time.perf_counter() - start:.0f}s)", flush=True)
    with open(os.path.join(out, "init", "init.json"), "w") as f:
        json.dump(table, f, indent=1)


PARTS = {
    "plateau": plateau, "generative": generative, "kl_shots": kl_shots, "bandwidth": bandwidth, "ghz": ghz,
    "init": init,
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--part", choices=sorted(PARTS), action="append")
    parser.add_argument("--out", default="runs/repro_trainability")
    parser.add_argument("--threads", type=int, default=1, help="torch intra-op threads")
    parser.add_argument("--ghz-steps", type=int, default=300)
    parser.add_argument("--ghz-optimizers", nargs="+", default=["gd", "adam"], choices=["gd", "adam"])
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    for part in args.part or list(PARTS):
        print(f"## {part}", flush=True)
        if part == "ghz":
            ghz(args.out, steps=args.ghz_steps, optimizers=tuple(args.ghz_optimizers))
        else:
            PARTS[part](args.out)


if __name__ == "__main__":
    main()
