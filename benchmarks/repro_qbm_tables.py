"""Print the Amin et al. table of docs/repro/qbm.md from the stored claim results (never typed by hand).

Usage: ``PYTHONPATH=src python benchmarks/repro_qbm_tables.py [RESULTS_DIR]`` after
``qgm reproduce amin_qbm_vs_bm amin_bqbm_vs_bm``.
"""
from __future__ import annotations

import json
import statistics
import sys
from pathlib import Path
from typing import Any

#: Row label and key prefix of each model in ``amin_runs``' output.
AMIN_ROWS = (("BM (classical, 55 parameters)", "kl_bm"), ("bQBM (bound gradient, Γ = 2 fixed)", "kl_bqbm"),
             ("QBM (exact gradient, Γ trained from 2)", "kl_qbm"), ("RBM, 8 hidden (exact KL loss)", "kl_rbm"))


def spread(values: list[float], fmt: str = "{:.3f}") -> str:
    """``median (min – max)`` of ``values``."""
    return f"{fmt.format(statistics.median(values))} ({fmt.format(min(values))} – {fmt.format(max(values))})"


def amin_table(result: dict[str, Any]) -> str:
    """The Markdown table of the KL curves (medians over seeds) and final KLs of the four models."""
    seeds = list(result["values"].values())
    steps = sorted({int(k.split("@")[1]) for k in seeds[0] if k.startswith("kl_bm@")})
    head = "| model | " + " | ".join(f"KL @ {s}" for s in steps) + " | KL at the end: median (min – max) | trained 10x longer |"
    lines = [head, "|" + "---|" * (len(steps) + 3)]
    for label, key in AMIN_ROWS:
        curve = " | ".join(f"{statistics.median(v[f'{key}@{s}'] for v in seeds):.3f}" for s in steps)
        final = spread([v[key] for v in seeds])
        long = spread([v[f"{key}_long"] for v in seeds]) if f"{key}_long" in seeds[0] else "–"
        lines.append(f"| {label} | {curve} | {final} | {long} |")
    return "\n".join(lines)


def amin_notes(results: list[dict[str, Any]]) -> str:
    """One line per claim: its metric's median (range), seeds passing and verdict; the trained Γ."""
    lines = []
    for r in results:
        verdict = "pass" if r["passed"] else "FAIL"
        lines.append(f"{r['name']}: {r['metric']} = {spread([v[r['metric']] for v in r['values'].values()], '{:+.3f}')}, "
                     f"seeds passing {r['n_pass']}/{len(r['seeds'])}, claim {verdict}")
    seeds = list(results[0]["values"].values())
    lines.append(f"trained Γ of the QBM: {spread([v['gamma_qbm'] for v in seeds])}")
    if "kl_bm_long" in seeds[0]:
        gap = [v["kl_qbm"] - v["kl_bm_long"] for v in seeds]
        lines.append(f"KL(QBM, 40 steps) − KL(BM, 400 steps): {spread(gap, '{:+.3f}')}")
    return "\n".join(lines)


def main(results_dir: str = "reproductions/results") -> None:
    results = [json.loads((Path(results_dir) / f"{name}.json").read_text())
               for name in ("amin_qbm_vs_bm", "amin_bqbm_vs_bm")]
    print(amin_table(results[0]))
    print()
    print(amin_notes(results))


if __name__ == "__main__":
    main(*sys.argv[1:])
