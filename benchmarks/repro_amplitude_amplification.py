"""Conditional sampling by amplitude amplification vs rejection on trained copula QCBMs (issue 17).

Runs :func:`qgm.reproduce.amplitude_amplification.run_points` over the claim's seeds and
writes ``docs/repro/amplitude_amplification.{json,png,md}`` and the claim result
``reproductions/results/amplitude_amplification.json``.

Usage (from the repository root): ``python benchmarks/repro_amplitude_amplification.py
[--quick] [--seeds S ...] [--out docs/repro] [--results reproductions/results]``;
``--from-points FILE.json`` re-renders the page and plot from stored points (no claim JSON).
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path

import torch

from qgm.reproduce.amplitude_amplification import run_points, write_report


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="one seed, 10 qubits, 3 constraints")
    parser.add_argument("--seeds", type=int, nargs="+", help="override the claim's seeds")
    parser.add_argument("--out", default="docs/repro", help="folder of the page, points and plot")
    parser.add_argument("--results", default="reproductions/results", help="folder of the claim's result JSON")
    parser.add_argument("--from-points", metavar="FILE", help="re-render from stored points instead of measuring")
    args = parser.parse_args()
    torch.set_num_threads(1)
    out = Path(args.out)
    if args.from_points:
        write_report(json.loads(Path(args.from_points).read_text()), out)
        return 0
    points = run_points(args.seeds, args.quick, save=out / f"amplitude_amplification{'.quick' if args.quick else ''}.json")
    result = write_report(points, out, Path(args.results))
    print(json.dumps({"name": result.name, "median": result.median, "passed": result.passed, "n_pass": result.n_pass}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
