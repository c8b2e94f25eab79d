"""A/B: this checkout's engine against another qgm source tree on T1 and T2, in one run.

Each engine runs in its own worker process (one torch thread; the two cannot share a
process, both are the package ``qgm``). The driver asks them in turn (A B A B …) for one
call of the same step and records each call's wall time and the worker's CPU time
(``time.thread_time``: robust when other jobs share the cores). Medians and the ratio
old/new (> 1: this checkout is faster) are printed as a markdown table.

    PYTHONPATH=src python benchmarks/bench_ab.py --base /work/wt/base/src --n 12,16,20 --reps 30

Cases: ``T1`` (bench_t1's qgm Adam step, A(9, 6) MMD), ``T2 n`` (bench_t2's qgm
gradient of ⟨ΣZ⟩ for A(n, 4)). Both engines build the same circuit and θ₀ and must agree
on the step's value to 1e-8 before timing starts.
"""
from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

from run import fmt_time as fmt

HERE = Path(__file__).resolve().parent

WORKER = r"""
import sys, time
import torch
torch.set_num_threads(1)
import bench_t1, bench_t2
from bench_common import init_params

def make(case):
    if case == "T1":
        step, _ = bench_t1.qgm_step(init_params(bench_t1.N, bench_t1.LAYERS, seed=0), bench_t1.Problem())
        return step
    n = int(case.split()[1])
    f = bench_t2.qgm_grad(n, init_params(n, bench_t2.LAYERS, seed=0))
    return lambda: float(f().sum())

steps = {}
for line in sys.stdin:
    case = line.strip()
    if case not in steps:
        steps[case] = make(case)
    w, c = time.perf_counter(), time.thread_time()
    val = steps[case]()
    print(f"{time.perf_counter() - w!r} {time.thread_time() - c!r} {val!r}", flush=True)
"""


def _worker(src: str) -> subprocess.Popen:
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([src, str(HERE)]), OMP_NUM_THREADS="1")
    return subprocess.Popen([sys.executable, "-c", WORKER], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
                            env=env, cwd=str(HERE))


def _call(p: subprocess.Popen, case: str) -> tuple[float, float, float]:
    """One call of ``case`` in worker ``p``: (wall s, CPU s, value)."""
    assert p.stdin is not None and p.stdout is not None
    p.stdin.write(case + "\n")
    p.stdin.flush()
    line = p.stdout.readline()
    if not line:
        raise RuntimeError(f"worker died on {case!r}")
    wall, cpu, val = (float(x) for x in line.split())
    return wall, cpu, val


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--base", required=True, help="src/ folder of the engine to compare against (old)")
    ap.add_argument("--new", default=str(HERE.parent / "src"), help="src/ folder of the new engine (default: this checkout)")
    ap.add_argument("--n", default="12,16,20", help="comma-separated T2 sizes")
    ap.add_argument("--t1-reps", type=int, default=100)
    ap.add_argument("--reps", type=int, default=15, help="T2 repetitions per engine (halved above n = 18)")
    args = ap.parse_args(argv)
    workers = {"new": _worker(args.new), "old": _worker(args.base)}
    cases = [("T1", args.t1_reps)] + [(f"T2 {n}", args.reps if int(n) <= 18 else max(3, args.reps // 2))
                                       for n in args.n.split(",")]
    started = time.time()
    print("| case | old wall | new wall | old/new wall | old CPU | new CPU | old/new CPU | reps |")
    print("|---|---|---|---|---|---|---|---|")
    try:
        for case, reps in cases:
            first = {k: _call(p, case)[2] for k, p in workers.items()}
            if abs(first["new"] - first["old"]) > 1e-8 * max(1.0, abs(first["old"])):
                raise RuntimeError(f"{case}: engines disagree ({first})")
            for p in workers.values():  # second warm-up call
                _call(p, case)
            t: dict[str, list[tuple[float, float]]] = {k: [] for k in workers}
            for _ in range(reps):
                for k, p in workers.items():
                    t[k].append(_call(p, case)[:2])
            wall = {k: statistics.median(x[0] for x in v) for k, v in t.items()}
            cpu = {k: statistics.median(x[1] for x in v) for k, v in t.items()}
            print(f"| {case} | {fmt(wall['old'])} | {fmt(wall['new'])} | {wall['old'] / wall['new']:.2f} | "
                  f"{fmt(cpu['old'])} | {fmt(cpu['new'])} | {cpu['old'] / cpu['new']:.2f} | {reps} |", flush=True)
    finally:
        for p in workers.values():
            p.kill()
    load = " ".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"\n{time.time() - started:.0f} s; load average at end: {load}; one torch thread per engine")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
