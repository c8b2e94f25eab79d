"""The quantum natural gradient claim: "a QCBM trained with QNG reaches a good fit of Bars-and-Stripes
in 28 iterations" (the report's §3 figure of 28 iterations against thousands for first-order training).

Setting (docs/repro/geometry.md §6): BAS 3x3, Liu-Wang ansatz of depth 4 with CNOTs on the
3x3 grid's nearest neighbours, KL(π‖p) loss on exact probabilities, :class:`qgm.optim.QNG`
with the full Fubini-Study metric every step, pinv, λ = 1e-3, lr 0.3 (the best setting of a
learning-rate sweep on seeds not used here). Reported: iterations until KL(π‖p) < 0.1
(a run that never gets there within the cap counts as infinite).
"""
from __future__ import annotations

import math
from typing import Any

from qgm.reproduce.base import CLAIMS, Claim
from qgm.reproduce.runs import train_run

__all__ = ["qng_bas_config", "grid_pairs"]

CAP, QUICK_CAP, KL_GOAL = 200, 100, 0.1


def grid_pairs(rows: int, cols: int) -> list[list[int]]:
    """Nearest-neighbour pairs of an open ``rows x cols`` grid, wire ``cols * r + c``."""
    horizontal = [[cols * r + c, cols * r + c + 1] for r in range(rows) for c in range(cols - 1)]
    vertical = [[cols * r + c, cols * (r + 1) + c] for r in range(rows - 1) for c in range(cols)]
    return horizontal + vertical


def qng_bas_config(steps: int) -> dict[str, Any]:
    """QNG on the KL loss with early stopping at KL < 0.1 (evaluated after every step)."""
    return {
        "dataset": {"name": "bas", "rows": 3, "cols": 3},
        "model": {"name": "qcbm", "ansatz": {"name": "liu_wang", "depth": 4, "pairs": grid_pairs(3, 3)}},
        "loss": {"name": "kl"},
        "optimizer": {"name": "qng", "lr": 0.3, "lam": 1e-3},
        "train": {"steps": steps, "batch_size": None, "eval_every": 1, "checkpoint_every": 0, "n_eval_samples": 16,
                  "early_stop": {"metric": "kl", "below": KL_GOAL, "patience": 1}},
        "metrics": ["kl"],
    }


def measure_qng_iterations(seed: int, quick: bool) -> dict[str, float]:
    """Iterations to KL < 0.1 (inf if the cap is reached first) and the final KL."""
    summary, _ = train_run(qng_bas_config(QUICK_CAP if quick else CAP), "qng_bas_iterations", seed, quick)
    reached = summary["stopped_early"]
    return {"iterations": float(summary["steps"]) if reached else math.inf, "final_kl": summary["metrics"]["kl"],
            "train_time_s": summary["train_time_s"]}


CLAIMS.register("qng_bas_iterations")(Claim(
    name="qng_bas_iterations", title="QNG trains a BAS 3x3 Born machine in 28 iterations",
    paper="the report's QCBM section (QNG figure of 28 iterations; Stokes et al. 2020, Quantum 4, 269)",
    metric="iterations", paper_value=28.0, threshold=28.5, direction="below",
    setting="BAS 3x3, Liu-Wang depth 4 on the grid's neighbours, KL loss, exact probabilities, QNG (full metric, "
            "pinv, λ 1e-3, lr 0.3), at most 200 iterations",
    convention="iterations until KL(π‖p) < 0.1 on the exact distribution; never within the cap = ∞",
    measure=measure_qng_iterations, seeds=tuple(range(10)), quick_seeds=(0, 1),
    baseline="Adam and plain gradient descent in docs/repro/geometry.md §6 (benchmarks/study_qng.py)"))
