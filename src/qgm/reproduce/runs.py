"""Running a claim's training through the normal library: one run directory per (claim, seed, mode)."""
from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import torch

from qgm.train.run import RunParts, load_run, run_config

__all__ = ["RUNS_DIR", "train_run", "set_nested"]

#: Where claims keep their run directories (``<RUNS_DIR>/<claim>/seed<k>[-quick]``).
RUNS_DIR = Path("reproductions") / "runs"


def set_nested(config: dict[str, Any], dotted: str, value: Any) -> dict[str, Any]:
    """A deep copy of ``config`` with ``dotted`` (e.g. ``"train.steps"``) set to ``value``."""
    out = copy.deepcopy(config)
    node = out
    *parents, leaf = dotted.split(".")
    for key in parents:
        node = node.setdefault(key, {})
    node[leaf] = value
    return out


def train_run(config: dict[str, Any], claim: str, seed: int, quick: bool,
              root: Path = RUNS_DIR) -> tuple[dict[str, Any], RunParts]:
    """Train ``config`` at ``seed`` with the Trainer into ``<root>/<claim>/seed<seed>[-quick]``
    (plots and progress off, one torch thread); the summary and the loaded run."""
    torch.set_num_threads(1)
    cfg = copy.deepcopy(config)
    cfg.update(name=f"{claim}-s{seed}", seed=int(seed))
    cfg["train"] = {**cfg.get("train", {}), "plots": False, "progress": False}
    out = Path(root) / claim / f"seed{seed}{'-quick' if quick else ''}"
    summary = run_config(cfg, out, overwrite=True)
    return summary, load_run(out)
