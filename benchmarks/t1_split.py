"""T1's qgm step timed alone and split into its parts (no peers, no interleaving).

    PYTHONPATH=src:benchmarks python benchmarks/t1_split.py [--steps 1000]

One Adam step of bench_t1 (A(9, 6), BAS 3×3, the benchmark's MMD loss), one torch thread;
``time.perf_counter`` around each part, medians over ``--steps`` steps after 300 warm-up steps.
"""
from __future__ import annotations

import argparse
import statistics
import time

import torch

import bench_t1
import qgm.sim
from bench_common import init_params

PARTS = ("zero_grad", "forward", "loss", "backward", "adam")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--steps", type=int, default=1000)
    args = ap.parse_args(argv)
    torch.set_num_threads(1)
    prob = bench_t1.Problem()
    circuit = bench_t1.ansatz(bench_t1.N, bench_t1.LAYERS)
    theta = torch.tensor(init_params(bench_t1.N, bench_t1.LAYERS), requires_grad=True)
    opt = torch.optim.Adam([theta], lr=bench_t1.LR)
    times: dict[str, list[float]] = {k: [] for k in PARTS}

    def step() -> None:
        t = [time.perf_counter()]
        opt.zero_grad()
        t.append(time.perf_counter())
        p = qgm.sim.probs(circuit, theta)
        t.append(time.perf_counter())
        loss = prob.loss(p)
        t.append(time.perf_counter())
        loss.backward()
        t.append(time.perf_counter())
        opt.step()
        t.append(time.perf_counter())
        for k, a, b in zip(PARTS, t, t[1:]):
            times[k].append(b - a)

    for _ in range(300):
        step()
    for v in times.values():
        v.clear()
    for _ in range(args.steps):
        step()
    med = {k: statistics.median(v) * 1e3 for k, v in times.items()}
    print(" | ".join(f"{k} {v:.3f} ms" for k, v in med.items()) + f" | step {sum(med.values()):.3f} ms")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
