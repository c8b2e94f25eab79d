"""Loading a large OpenQASM file: ``Circuit.from_qasm`` against Qiskit's loaders (time and peak memory).

The file is generated (seeded): ``--gates`` random gates on ``--qubits`` wires,
written as Qiskit's exporter writes them (OpenQASM 2: ``qelib1.inc``, ``qreg``,
``u3``/``rz``/``cx`` ..., numbers as ``repr`` floats, multiples of pi as
``pi/4``; OpenQASM 3 with ``--version 3``), ending with measurements.

Every load runs in a fresh child process, so that its peak memory is its own:
the child reports the wall and CPU time of the load (CPU time is what to compare
on a shared machine) and its peak resident memory (``ru_maxrss``) before and
after. The loaders run interleaved (A B C A B C ...) and the table shows
medians. ``--src DIR`` (repeatable) names a ``src`` folder
holding the qgm to load with (compare a checkout of main with this tree)::

    git archive main src | tar -x -C /tmp/qgm_main
    nice -n 10 .venv/bin/python benchmarks/bench_qasm_load.py --gates 1000000 \\
        --src /tmp/qgm_main/src --src src --qiskit --reps 3
"""
from __future__ import annotations

import argparse
import json
import math
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

ONE_QUBIT = ("h", "x", "t", "s", "tdg")
TWO_QUBIT = ("cx", "cz")
ROTATIONS = ("rz", "ry", "rx")

CHILD = r"""
import json, resource, sys, time
loader, path = sys.argv[1], sys.argv[2]
if loader == "qgm":
    from qgm.circuits import Circuit
    load = lambda text: len(Circuit.from_qasm(text).ops)
elif loader == "qiskit2":
    import qiskit.qasm2
    load = lambda text: qiskit.qasm2.loads(text).size()
else:
    import qiskit.qasm3
    load = lambda text: qiskit.qasm3.loads(text).size()
text = open(path, encoding="utf-8").read()
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
t0, c0 = time.perf_counter(), time.process_time()
n_ops = load(text)
seconds, cpu = time.perf_counter() - t0, time.process_time() - c0
after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({"seconds": seconds, "cpu_seconds": cpu, "rss_before_mb": before / 1024, "rss_peak_mb": after / 1024,
                  "n_ops": n_ops}))
"""


def _angle(rng: np.random.Generator) -> str:
    """A Qiskit-style angle: a multiple of pi/4 written with ``pi`` a fifth of the time, else a repr float."""
    if rng.random() < 0.2:
        k = int(rng.integers(-7, 8)) or 1
        return {1: "pi/4", -1: "-pi/4"}.get(k, f"{k}*pi/4")
    return repr(float(rng.uniform(-math.pi, math.pi)))


def generate(path: Path, n_gates: int, n_qubits: int, version: int = 2, seed: int = 0) -> None:
    """Write a seeded random program of ``n_gates`` gates on ``n_qubits`` wires to ``path``."""
    rng = np.random.default_rng(seed)
    if version == 2:
        head = ['OPENQASM 2.0;', 'include "qelib1.inc";', f"qreg q[{n_qubits}];", f"creg c[{n_qubits}];"]
    else:
        head = ["OPENQASM 3.0;", 'include "stdgates.inc";', f"qubit[{n_qubits}] q;", f"bit[{n_qubits}] c;"]
    sep = "," if version == 2 else ", "
    with open(path, "w", encoding="utf-8") as f:
        f.write("\n".join(head) + "\n")
        kinds = rng.integers(0, 4, size=n_gates)
        for kind in kinds:
            if kind == 0:
                f.write(f"{ONE_QUBIT[rng.integers(len(ONE_QUBIT))]} q[{rng.integers(n_qubits)}];\n")
            elif kind == 1:
                a, b = rng.choice(n_qubits, size=2, replace=False)
                f.write(f"{TWO_QUBIT[rng.integers(len(TWO_QUBIT))]} q[{a}]{sep}q[{b}];\n")
            elif kind == 2:
                f.write(f"{ROTATIONS[rng.integers(len(ROTATIONS))]}({_angle(rng)}) q[{rng.integers(n_qubits)}];\n")
            else:
                args = sep.join(_angle(rng) for _ in range(3))
                f.write(f"{'u3' if version == 2 else 'U'}({args}) q[{rng.integers(n_qubits)}];\n")
        f.write("measure q -> c;\n" if version == 2 else "c = measure q;\n")


def load_once(loader: str, path: Path, src: str | None) -> dict:
    """Time one load of ``path`` in a fresh process (``src``: the qgm ``src`` folder, or None for Qiskit)."""
    env = dict(os.environ)
    if src is not None:
        env["PYTHONPATH"] = str(Path(src).resolve())
    out = subprocess.run(
        [sys.executable, "-c", CHILD, loader, str(path)], env=env, capture_output=True, text=True, check=True
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--gates", type=int, default=1_000_000)
    ap.add_argument("--qubits", type=int, default=20)
    ap.add_argument("--version", type=int, choices=(2, 3), default=2)
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--src", action="append", default=[], help="qgm src folder to load with (repeatable)")
    ap.add_argument("--qiskit", action="store_true", help="also time Qiskit's loader of the same version")
    args = ap.parse_args(argv)

    contenders = [(f"qgm {s}", "qgm", s) for s in (args.src or ["src"])]
    if args.qiskit:
        contenders.append((f"qiskit.qasm{args.version}.loads", f"qiskit{args.version}", None))
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "big.qasm"
        generate(path, args.gates, args.qubits, args.version)
        size_mb = path.stat().st_size / 2**20
        print(f"file: {args.gates} gates on {args.qubits} qubits, OpenQASM {args.version}, {size_mb:.1f} MiB")
        results: dict[str, list[dict]] = {name: [] for name, _, _ in contenders}
        for _ in range(args.reps):
            for name, loader, src in contenders:
                results[name].append(load_once(loader, path, src))
    print(f"{'loader':<40} {'wall s':>8} {'CPU s':>8} {'peak RSS MiB':>13} {'over start MiB':>15} {'ops':>9}")
    for name, runs in results.items():
        sec = statistics.median(r["seconds"] for r in runs)
        cpu = statistics.median(r["cpu_seconds"] for r in runs)
        peak = statistics.median(r["rss_peak_mb"] for r in runs)
        extra = statistics.median(r["rss_peak_mb"] - r["rss_before_mb"] for r in runs)
        print(f"{name:<40} {sec:>8.2f} {cpu:>8.2f} {peak:>13.0f} {extra:>15.0f} {runs[0]['n_ops']:>9}")


if __name__ == "__main__":
    main()
