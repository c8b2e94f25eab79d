"""Short same-run T1/T2 comparison of qgm with PennyLane (a subset of ``run.py``'s rows).

    PYTHONPATH=src python benchmarks/bench_peer.py --n 16,20 --t1-reps 50 --reps 5

One thread for everyone (torch and OpenMP), interleaved calls (A B A B …), medians and
ratio peer/qgm (> 1: qgm faster). T1: bench_t1's Adam step for qgm, default.qubit
(backprop) and lightning.qubit (adjoint); T2: bench_t2's gradient of ⟨ΣZ⟩ for A(n, 4),
qgm and lightning.qubit (adjoint), checked to agree to 1e-6 first.
"""
from __future__ import annotations

import argparse
import os

os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np  # noqa: E402
import torch  # noqa: E402

import bench_t1  # noqa: E402
import bench_t2  # noqa: E402
from bench_common import init_params, interleave, rows_from  # noqa: E402
from run import table  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", default="16,20", help="comma-separated T2 sizes")
    ap.add_argument("--t1-reps", type=int, default=50)
    ap.add_argument("--reps", type=int, default=5, help="T2 repetitions")
    args = ap.parse_args(argv)
    torch.set_num_threads(1)
    prob = bench_t1.Problem()
    theta0 = init_params(bench_t1.N, bench_t1.LAYERS, seed=0)
    t1 = {k: bench_t1.FRAMEWORKS[k](theta0, prob)[0] for k in
          ("qgm", "pennylane default.qubit (backprop)", "pennylane lightning.qubit (adjoint)")}
    rows = rows_from("T1", "BAS 3x3, A(9,6)", interleave(t1, reps=args.t1_reps, warmup=2))
    for n in (int(x) for x in args.n.split(",")):
        th = init_params(n, bench_t2.LAYERS, seed=0)
        steps = {"qgm": bench_t2.qgm_grad(n, th), "pennylane lightning.qubit (adjoint)": bench_t2.lightning_grad(n, th)}
        g = {k: np.asarray(f().detach()) for k, f in steps.items()}
        if not np.allclose(g["qgm"], g["pennylane lightning.qubit (adjoint)"], atol=1e-6):
            raise RuntimeError(f"T2 n={n}: gradients disagree")
        rows += rows_from("T2", f"n={n}", interleave(steps, reps=args.reps, warmup=1))
    print(table(rows))
    print(f"\nload average at end: {' '.join(f'{x:.1f}' for x in os.getloadavg())}; one thread everywhere")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
