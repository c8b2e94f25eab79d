"""What runs inside a job's or a call's process (imported once by the fork server).

Jobs (:func:`run_job`) write their result as JSON next to their run directory
(``result.json``), or their one-line error (``error.txt``), and exit 0 or 1;
the server reads those files when the process ends. Calls (:func:`sample_task`,
:func:`evaluate_task`) return their answer through :func:`qgm.serve.sandbox.call`.

Kinds of jobs: ``train`` (:func:`qgm.train.run_config`, resumed from the latest
checkpoint when asked), ``plateau`` (:func:`qgm.trainability.run_plateau`) and
``reproduce`` (:func:`qgm.reproduce.run_claim` in quick mode).
"""
from __future__ import annotations

import math
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Optional, Union

import numpy as np
import torch

from qgm.atomic import atomic_json, atomic_text
from qgm.circuits import Circuit
from qgm.serve.limits import check_width
from qgm.serve.sandbox import Sandbox, enter, failure
from qgm.spaces import Bits, DensityMatrices, PureStates
from qgm.train.callbacks import latest_checkpoint
from qgm.train.config import parse_config
from qgm.train.run import conditional_sample_run, eval_run, load_run, run_config
from qgm.train.trainer import Callback, Trainer

__all__ = [
    "JobSpec", "WidthGuard", "register_widths", "run_job", "sample_task", "evaluate_task", "samples_json", "molecules_json",
    "RESULT_FILE", "ERROR_FILE", "LOG_FILE", "RUN_DIR", "TOP_COUNTS",
]


#: Files of a job's folder: its answer, its one-line error, its output, its run directory.
RESULT_FILE, ERROR_FILE, LOG_FILE, RUN_DIR = "result.json", "error.txt", "job.log", "run"
#: Most frequent samples listed in a ``sample`` answer.
TOP_COUNTS = 32


@dataclass(frozen=True)
class JobSpec:
    """One job for :func:`run_job`: ``kind``, validated ``payload``, its ``folder`` (holding ``run/``),
    whether to ``resume`` and the widest register it may build."""

    kind: str
    payload: dict[str, Any]
    folder: str
    resume: bool
    max_qubits: int


# ---------------------------------------------------------------------------- widths
def _space_width(space: Any) -> int:
    return space.n if isinstance(space, (Bits, PureStates, DensityMatrices)) else 0


def _circuits(model: Any) -> list[Circuit]:
    found = []
    for value in vars(model).values():
        items = value if isinstance(value, (list, tuple)) else [value]
        found += [c for c in items if isinstance(c, Circuit)]
    return found


def register_widths(dataset: Any, model: Any) -> dict[str, int]:
    """Register widths of a built run: ``{"dataset": bits or qubits, "model": widest circuit or space}``."""
    model_width = max([_space_width(getattr(model, "space", None)), *(c.n_qubits for c in _circuits(model))])
    return {"dataset": _space_width(dataset.space), "model": model_width}


class WidthGuard(Callback):
    """Stops a run before its first step when its dataset or model is wider than ``max_qubits``."""

    def __init__(self, max_qubits: int) -> None:
        self.max_qubits = int(max_qubits)

    def on_train_start(self, trainer: Trainer) -> None:
        for where, width in register_widths(trainer.dataset, trainer.model).items():
            check_width(width, f"the built {where}", self.max_qubits)


# ---------------------------------------------------------------------------- jobs
def _train(spec: JobSpec, out: Path) -> dict[str, Any]:
    resume = spec.resume and latest_checkpoint(out / "checkpoints") is not None
    summary = run_config(parse_config(spec.payload), out, resume=resume, overwrite=not resume,
                         callbacks=[WidthGuard(spec.max_qubits)])
    summary.pop("run_dir", None)
    return {**summary, "resumed": resume}


def _plateau(spec: JobSpec, out: Path) -> dict[str, Any]:
    from qgm.trainability import run_plateau

    result = run_plateau(spec.payload, out, log=None)
    return {"points": result.get("points", []), "fits": result.get("fits", [])}


def _reproduce(spec: JobSpec, out: Path) -> dict[str, Any]:
    from qgm.reproduce import CLAIMS, run_claim

    return run_claim(CLAIMS.get(spec.payload["claim"]), out, quick=True).to_dict()


JOB_BODIES: dict[str, Callable[[JobSpec, Path], dict[str, Any]]] = {
    "train": _train, "plateau": _plateau, "reproduce": _reproduce,
}


def run_job(spec: JobSpec, sandbox: Sandbox) -> None:
    """Process target: run ``spec`` in ``sandbox``; ``result.json`` and exit 0, or ``error.txt`` and exit 1."""
    enter(sandbox)
    folder = Path(spec.folder)
    try:
        result = JOB_BODIES[spec.kind](spec, folder / RUN_DIR)
        atomic_json(folder / RESULT_FILE, result)
    except BaseException as exc:  # the client gets one line; the log keeps the traceback
        atomic_text(folder / ERROR_FILE, failure(exc, sandbox.memory_mb)[1])
        sys.exit(1)


# ---------------------------------------------------------------------------- calls
def samples_json(arr: np.ndarray) -> dict[str, Any]:
    """Samples as JSON: ``shape`` and ``samples`` (rows of ``samples.npy``: bits as 0/1 columns, complex
    entries as ``[re, im]``); rows of 0/1 integers also as ``bitstrings`` (wire 0 first) with the
    :data:`TOP_COUNTS` most frequent in ``counts``."""
    out: dict[str, Any] = {"shape": list(arr.shape)}
    rows = np.stack([arr.real, arr.imag], axis=-1) if np.iscomplexobj(arr) else arr
    out["samples"] = rows.tolist()
    if arr.ndim == 2 and arr.dtype.kind in "iub" and np.isin(arr, (0, 1)).all():
        strings = ["".join(map(str, row)) for row in arr.astype(np.int64).tolist()]
        out["bitstrings"] = strings
        out["counts"] = dict(Counter(strings).most_common(TOP_COUNTS))
    return out


def _finite(value: float) -> Optional[float]:
    return value if math.isfinite(value) else None


def molecules_json(graphs: Any, dataset: Any) -> dict[str, Any]:
    """Sampled molecular graphs ``(A, X)`` of a molecular ``dataset`` (one with a ``codec``) as chemistry:
    ``n``, ``n_valid``, ``molecules`` (each valid one's canonical SMILES, QED, Crippen logP and SA score) and
    ``metrics`` (:data:`qgm.metrics.chemistry.CHEMISTRY_METRICS` over the samples; null where none is valid)."""
    from qgm.metrics.chemistry import CHEMISTRY_METRICS, score_graphs

    scores = score_graphs(graphs, dataset.codec, getattr(dataset, "train_smiles", frozenset()))
    columns = {name: scores.raw(name).tolist() for name in ("qed", "logp", "sa")}
    molecules = [{"smiles": smiles, **{name: round(values[i], 4) for name, values in columns.items()}}
                 for i, smiles in enumerate(scores.valid_smiles)]
    return {"n": len(scores.mols), "n_valid": len(molecules), "molecules": molecules,
            "metrics": {name: _finite(scores.metric(name)) for name in CHEMISTRY_METRICS}}


def sample_task(run: str, n: int, condition: Optional[Union[str, list[int]]], method: str, seed: int,
                schedule: Optional[str] = None) -> dict[str, Any]:
    """``n`` samples of run ``run`` (under ``condition`` with ``method`` and ``schedule``), as :func:`samples_json`, plus the
    conditional sampler's ``cost`` (queries, shots, acceptance); a run trained on molecules answers
    :func:`molecules_json` instead (no condition)."""
    if condition is None:
        parts = load_run(run)
        parts.model.eval()
        with torch.no_grad():
            raw = parts.model.sample(n, generator=torch.Generator().manual_seed(int(seed)))
        if getattr(parts.dataset, "codec", None) is not None:
            return molecules_json(raw, parts.dataset)
        return samples_json(parts.dataset.to_numpy(raw))
    arr, stats = conditional_sample_run(run, n, condition, method=method, schedule=schedule, seed=seed)
    return {**samples_json(arr), "cost": stats}


def evaluate_task(run: str, metrics: Optional[list[str]], n: Optional[int], seed: int) -> dict[str, Any]:
    """``{"metrics": {name: value}}`` of run ``run`` (default: its config's metrics and sample count)."""
    return {"metrics": eval_run(run, metrics, n_samples=n, seed=seed)}
