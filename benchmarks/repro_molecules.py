"""Side-by-side table of the QM9 runs of ``qgm.reproduce.molecules`` (Table 2 of the report).

Training happens in ``qgm reproduce qgan_hg_parameters qgan_hg_qed_higher qgan_hg_sa_lower qgan_hg_stable
qgan_hg_no_collapse`` (runs kept in ``runs/repro_molecules``, or ``$QGM_REPRO_RUNS``); this script only reads
the finished runs and prints the markdown table of docs/repro/molecules.md (median [min, max] over seeds).
``--curves RUN [RUN ...]`` prints instead the evaluated validity / uniqueness / QED / SA of single runs
(e.g. the reference-length runs of ``qgm train examples/qm9_qgan_hg.yaml``) side by side per step.

Usage: ``PYTHONPATH=src python benchmarks/repro_molecules.py [--seeds 0 1 2] [--curves RUN ...]``
"""
from __future__ import annotations

import argparse
from pathlib import Path

from qgm.reproduce.molecules import table
from qgm.train import read_records

CURVE_KEYS = ("validity", "validity_molgan", "uniqueness", "qed", "sa_norm")


def curves(runs: list[str]) -> str:
    """Markdown table: one row per evaluated step, ``validity / validity_molgan / uniqueness / qed / sa_norm``
    of each run."""
    records = {r: {x["step"]: x for x in read_records(Path(r) / "metrics.jsonl") if "validity" in x} for r in runs}
    steps = sorted(set().union(*[set(v) for v in records.values()]))
    head = "| step | " + " | ".join(f"{Path(r).name}: {' / '.join(CURVE_KEYS)}" for r in runs) + " |"
    rows = [head, "|---|" + "---|" * len(runs)]
    for s in steps:
        cells = [" / ".join(f"{records[r][s][k]:.3f}" for k in CURVE_KEYS) if s in records[r] else "–" for r in runs]
        rows.append(f"| {s} | " + " | ".join(cells) + " |")
    return "\n".join(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--curves", nargs="+", metavar="RUN", help="print the metric curves of these run directories")
    args = parser.parse_args()
    print(curves(args.curves) if args.curves else table(tuple(args.seeds)))


if __name__ == "__main__":
    main()
