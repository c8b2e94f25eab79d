"""Reproductions and timings for qgm.geometry (results in docs/repro/geometry.md).

Parts (``--part``, default all):

* ``timing``: median wall time of the Fubini–Study metric of
  ``hardware_efficient(9, 6)`` (126 parameters, 9 qubits): full, block-diagonal
  (both layerings) and diagonal, after one warm-up call;
* ``table``: expressibility (5000 exact fidelity pairs, 75 bins) and entangling
  capability (5000 samples, mean ± standard error) of the 19 circuits of Sim et
  al. on 4 qubits at L = 1, 2, 5;
* ``protocol``: circuits 1, 2, 6, 9 with the replication's own protocol
  (2000 pairs, each fidelity from 1000 compute–uncompute shots), mean ± sd
  over 5 seeds, next to the replication's numbers;
* ``order``: entangling capability of circuit 2 at L = 1 with the CNOT ladder
  applied top-down instead of bottom-up (the replication's PennyLane variant).

Usage: ``.venv/bin/python benchmarks/repro_geometry.py [--part timing|table|protocol|order] [--seed 0]``
"""
from __future__ import annotations

import argparse
import statistics
import time

import torch

from qgm.circuits import Circuit, hardware_efficient
from qgm.circuits.sim_catalogue import SIM_INDICES, sim_circuit
from qgm.geometry import expressibility, metric_tensor, meyer_wallach, uniform_params
from qgm.geometry.sampling import random_states

PUBLISHED_EXPR = {1: (0.330, 0.216, 0.242), 2: (0.327, 0.029, 0.014), 6: (0.0095, 0.0084, 0.0064), 9: (0.742, 0.402, 0.013)}
PUBLISHED_ENT = {1: (0.0, 0.0), 2: (0.589, 0.809), 6: (0.678, 0.825), 9: (1.000, 0.718)}
LAYERS = (1, 2, 5)


def timing(repeats: int = 21) -> None:
    c = hardware_efficient(9, 6)
    theta = uniform_params(c, 1, torch.Generator().manual_seed(0))[0]
    print(f"## Metric cost: hardware_efficient(9, 6), {c.n_params} parameters, torch threads {torch.get_num_threads()}\n")
    print("| approx | layering | first call (s) | median of %d (s) | min (s) |" % repeats)
    print("|---|---|---|---|---|")
    for approx, layering in ((None, "-"), ("block-diag", "pennylane"), ("block-diag", "depth"), ("diag", "pennylane")):
        kw = {} if approx is None else {"layering": layering}
        fresh = hardware_efficient(9, 6)  # new circuit: first call includes compilation
        t0 = time.perf_counter()
        metric_tensor(fresh, theta, approx, **kw)
        first = time.perf_counter() - t0
        times = []
        for _ in range(repeats):
            t0 = time.perf_counter()
            metric_tensor(fresh, theta, approx, **kw)
            times.append(time.perf_counter() - t0)
        print(f"| {approx} | {layering} | {first:.3f} | {statistics.median(times):.4f} | {min(times):.4f} |")
    print()


def entangling_stats(circuit: Circuit, n: int, seed: int) -> tuple[float, float]:
    """Mean and standard error of Meyer–Wallach Q over ``n`` random parameter draws."""
    params = uniform_params(circuit, n, torch.Generator().manual_seed(seed))
    q = torch.cat([meyer_wallach(psi) for psi in random_states(circuit, params)])
    return float(q.mean()), float(q.std() / n**0.5)


def table(seed: int) -> None:
    print("## Sim et al. circuits, 4 qubits: expressibility (5000 exact pairs, 75 bins, nats) "
          "and entangling capability (5000 samples, mean ± s.e.)\n")
    print("| circuit | params L=1 | Expr L=1 | Expr L=2 | Expr L=5 | Ent L=1 | Ent L=2 | Ent L=5 |")
    print("|---|---|---|---|---|---|---|---|")
    for idx in SIM_INDICES:
        expr, ent = [], []
        for layers in LAYERS:
            c = sim_circuit(idx, 4, layers)
            expr.append(expressibility(c, 5000, 75, torch.Generator().manual_seed(seed)))
            ent.append(entangling_stats(c, 5000, seed + 1))
        print(f"| {idx} | {sim_circuit(idx, 4, 1).n_params} | "
              + " | ".join(f"{e:.4f}" for e in expr) + " | "
              + " | ".join(f"{m:.3f} ± {s:.3f}" for m, s in ent) + " |")
    print()


def protocol(seeds: int = 5) -> None:
    print("## Replication protocol: 2000 pairs, fidelity from 1000 shots each, 75 bins (mean ± sd over "
          f"{seeds} seeds) vs the published replication\n")
    print("| circuit | L | Expr (ours, protocol) | Expr (replication) | Expr (ours, exact 5000) |")
    print("|---|---|---|---|---|")
    for idx, published in PUBLISHED_EXPR.items():
        for layers, pub in zip(LAYERS, published):
            c = sim_circuit(idx, 4, layers)
            vals = [expressibility(c, 2000, 75, torch.Generator().manual_seed(s), shots=1000) for s in range(seeds)]
            exact = expressibility(c, 5000, 75, torch.Generator().manual_seed(0))
            print(f"| {idx} | {layers} | {statistics.mean(vals):.4f} ± {statistics.stdev(vals):.4f} | {pub} | {exact:.4f} |")
    print("\n| circuit | Ent L=1 (ours) | Ent L=1 (replication) | Ent L=5 (ours) | Ent L=5 (replication) |")
    print("|---|---|---|---|---|")
    for idx, (p1, p5) in PUBLISHED_ENT.items():
        (m1, s1), (m5, s5) = (entangling_stats(sim_circuit(idx, 4, layers), 5000, 1) for layers in (1, 5))
        print(f"| {idx} | {m1:.3f} ± {s1:.3f} | {p1} | {m5:.3f} ± {s5:.3f} | {p5} |")
    print()


def order(n: int = 50000) -> None:
    print(f"## Circuit 2 (L = 1) entangling capability vs CNOT ladder order ({n} samples)\n")
    print("| ladder | Ent (mean ± s.e.) |")
    print("|---|---|")
    for name, pairs in (("bottom-up (3,2),(2,1),(1,0) [ours]", [(3, 2), (2, 1), (1, 0)]),
                        ("top-down (1,0),(2,1),(3,2)", [(1, 0), (2, 1), (3, 2)])):
        c = Circuit(4)
        for gate in ("rx", "rz"):
            for w in range(4):
                c = c.add(gate, w)
        for a, b in pairs:
            c = c.cx(a, b)
        m, s = entangling_stats(c, n, 7)
        print(f"| {name} | {m:.4f} ± {s:.4f} |")
    print()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--part", choices=["all", "timing", "table", "protocol", "order"], default="all")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    if args.part in ("all", "timing"):
        timing()
    if args.part in ("all", "table"):
        table(args.seed)
    if args.part in ("all", "protocol"):
        protocol()
    if args.part in ("all", "order"):
        order()


if __name__ == "__main__":
    main()
