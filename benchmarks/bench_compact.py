"""The small-n engine's two sweeps side by side: compiled (numba, ``qgm.sim.native``) against
PyTorch (``qgm.sim.compact``), and both against the general engine, in one run.

    PYTHONPATH=src python benchmarks/bench_compact.py [--n 4,9,11] [--batch 1,64] [--reps 200]

Case: forward + gradient of ``p @ w`` for A(n, 6) (RY·RZ layers, CNOT rings), one torch
thread, interleaved calls (A B C A B C …), medians; then the sweeps alone (what the compiled
kernel replaces). The compiled sweep is the issue's optional compiled kernel, kept only where
it is at least 2x faster than the PyTorch one.
Gradients of the three routes are checked to agree first (1e-10, relative to the largest).
"""
from __future__ import annotations

import argparse

import numpy as np
import torch

import qgm.sim
import qgm.sim.compact as compact
from bench_common import ansatz, init_params, interleave, rows_from
from run import table

ROUTES = {f"qgm default (compiled sweep where B·2^n <= 2^{compact.NATIVE_MAX_AMPLITUDES.bit_length() - 1})":
          (True, compact.COMPACT_N),
          "qgm torch sweep": (False, compact.COMPACT_N),
          "qgm general engine": (False, 0)}


def step(n: int, batch: int, route: str):
    """Forward + gradient of ``Σ p @ w`` over ``batch`` initial states |0…0⟩, |1…1⟩ … (shared angles)."""
    use_native, limit = ROUTES[route]
    c = ansatz(n, 6)
    theta = torch.tensor(init_params(n, 6), requires_grad=True)
    w = torch.arange(2**n, dtype=torch.float64)
    start = torch.zeros(batch, 2**n, dtype=torch.complex128)
    start[torch.arange(batch), torch.arange(batch) % 2**n] = 1

    def f() -> torch.Tensor:
        compact.USE_NATIVE, compact.COMPACT_N = use_native, limit  # read per call: no cache to clear
        theta.grad = None
        (qgm.sim.probs(c, theta, initial_state=start if batch > 1 else None) @ w).sum().backward()
        return theta.grad

    return f


def sweeps(n: int, batch: int, compiled: bool):
    """Only the part the compiled sweep replaces, from prepared stage matrices: forward (stage
    outputs kept) + backward + per-wire correlations; the PyTorch route includes its Kronecker
    products (the compiled one applies the 2×2 matrices directly)."""
    c = ansatz(n, 6)
    compact.COMPACT_N = ROUTES["qgm torch sweep"][1]
    cp = compact.compact_program(qgm.sim.compile_circuit(c), torch.device("cpu"), torch.complex128)
    p = torch.tensor(init_params(n, 6)).reshape(1, -1)
    w, _ = cp.matrices(p, torch.zeros(1, 0, dtype=torch.float64))
    g = torch.ones(batch, 2**n, dtype=torch.complex128)

    def f() -> torch.Tensor:
        if compiled:
            saved = cp.native_saved(batch, w)
            final = cp.native_forward(None, w, batch, saved)
            gx = compact._grad_planes(g, final, "state", np.empty_like(final))
            return cp.native_backward(gx, w, saved, batch, False)[0]
        a, b = cp.halves(w)
        buf = cp.buffers(batch, torch.complex128, w.device, True)
        cp.forward(None, a, b, buf)
        return cp.correlations(cp.backward(g, a, b, False)[0], buf[3:])

    return f


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", default="4,9,11")
    ap.add_argument("--batch", default="1,64")
    ap.add_argument("--reps", type=int, default=200)
    args = ap.parse_args(argv)
    torch.set_num_threads(1)
    rows = []
    for n in (int(x) for x in args.n.split(",")):
        for b in (int(x) for x in args.batch.split(",")):
            fns = {route: step(n, b, route) for route in ROUTES}
            ref = fns["qgm general engine"]().clone()
            for name, f in fns.items():  # relative: sums over B·2**n terms round at ~1e-16 each
                if float((f() - ref).abs().max()) > 1e-10 * max(1.0, float(ref.abs().max())):
                    raise RuntimeError(f"n={n} batch={b}: {name} disagrees with the general engine")
            reps = args.reps if n <= 9 else max(20, args.reps // 4)
            rows += rows_from("small-n", f"n={n}, batch {b}", interleave(fns, reps=reps, warmup=2))
            parts = {"qgm compiled sweeps": sweeps(n, b, True), "qgm torch sweeps (Kronecker + GEMMs)": sweeps(n, b, False)}
            err = float((parts["qgm compiled sweeps"]() - parts["qgm torch sweeps (Kronecker + GEMMs)"]()).abs().max())
            if err > 1e-9 * b * 2**n:
                raise RuntimeError(f"n={n} batch={b}: the two sweeps' correlations differ by {err:.2e}")
            rows += rows_from("sweeps only", f"n={n}, batch {b}", interleave(parts, reps=reps, warmup=2))
    compact.USE_NATIVE, compact.COMPACT_N = True, ROUTES["qgm torch sweep"][1]
    print(table(rows))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
