"""Markdown tables of docs/repro/diffusion.md from the stored claim results.

Reads ``reproductions/results/<claim>.json`` (written by ``qgm reproduce``) and
prints, per claim, the paper's number next to ours (median and range over the
seeds) for every key the claim measured, and the flow-matching comparison.

Usage: ``PYTHONPATH=src python benchmarks/repro_diffusion_table.py [--results reproductions/results]``.
"""
from __future__ import annotations

import argparse
import json
import statistics
from pathlib import Path

#: Paper numbers (QuDDPM, PRL 132, 100602, and its repository's notebooks) per claim and key.
PAPER = {
    "quddpm_cluster1": {"mmd_train": 0.0004, "mmd_test": 0.0006},
    "quddpm_cluster2": {"mmd_train": 0.0027, "mmd_test": 0.0039, "overlap_test": 0.944, "overlap_data": 0.979},
    "quddpm_noise": {"mmd_train": 0.0019, "mmd_test": 0.0028, "p_train": 0.791, "p_data": 0.8},
    "quddpm_circle": {"wasserstein_train": 0.0055, "wasserstein_test": 0.0028},
    "quddpm_phase": {"magnetisation_train": 0.896, "magnetisation_test": 0.884},
    "quddpm_qdt_cluster2": {"overlap_test": 0.465, "mmd_test": 0.403},
    "quddpm_qgan_cluster2": {"overlap_test": 0.443, "mmd_test": 0.587},
}


def _fmt(x: float) -> str:
    return f"{x:.4f}" if abs(x) >= 1e-3 else f"{x:.2e}"


def claim_rows(result: dict) -> list[str]:
    """One markdown row per measured key: paper value, our median [min, max]."""
    name = result["name"]
    keys = list(next(iter(result["values"].values())))
    rows = []
    for key in keys:
        vals = [v[key] for v in result["values"].values()]
        paper = PAPER.get(name, {}).get(key)
        mark = " **(pass rule)**" if key == result["metric"] else ""
        rows.append(f"| {name} | {key}{mark} | {'' if paper is None else _fmt(paper)} | "
                    f"{_fmt(statistics.median(vals))} [{_fmt(min(vals))}, {_fmt(max(vals))}] | {len(vals)} |")
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--results", type=Path, default=Path("reproductions/results"))
    args = parser.parse_args()
    print("| claim | quantity | paper | ours: median [min, max] | seeds |\n|---|---|---|---|---|")
    for path in sorted(args.results.glob("*.json")):
        result = json.loads(path.read_text())
        if result["name"].startswith(("quddpm", "qfm")) and not result.get("quick"):
            print("\n".join(claim_rows(result)))


if __name__ == "__main__":
    main()
