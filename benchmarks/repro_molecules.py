"""Side-by-side table of the QM9 runs of ``qgm.reproduce.molecules`` (Table 2 of the report).

Training happens in ``qgm reproduce qgan_hg_parameters qgan_hg_qed_higher qgan_hg_sa_lower qgan_hg_stable
qgan_hg_no_collapse`` (runs kept in ``runs/repro_molecules``, or ``$QGM_REPRO_RUNS``); this script only reads
the finished runs and prints the markdown table of docs/repro/molecules.md (median [min, max] over seeds).

Usage: ``PYTHONPATH=src python benchmarks/repro_molecules.py [--seeds 0 1 2]``
"""
from __future__ import annotations

import argparse

from qgm.reproduce.molecules import table


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    args = parser.parse_args()
    print(table(tuple(args.seeds)))


if __name__ == "__main__":
    main()
