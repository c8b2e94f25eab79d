"""What ``job_status`` says about a job: state, times, progress, last metrics, ETA, result.

A training job's progress is read from the tail of its ``metrics.jsonl``
(the last record, and the last record carrying evaluated metrics); its ETA
assumes the remaining steps take as long as the steps so far. Times are
ISO 8601 in UTC. Nothing here exposes a path.
"""
from __future__ import annotations

import json
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Optional

from qgm.serve.table import Job

__all__ = ["describe", "brief", "iso", "last_records", "TAIL_BYTES"]

#: Bytes read from the end of ``metrics.jsonl`` to find the last records.
TAIL_BYTES = 65536
_ORDINARY = ("step", "loss", "lr")


def iso(t: Optional[float]) -> Optional[str]:
    """Unix seconds as ISO 8601 UTC (None stays None)."""
    return None if t is None else datetime.fromtimestamp(t, timezone.utc).isoformat(timespec="seconds")


def last_records(path: Path) -> tuple[Optional[dict[str, Any]], Optional[dict[str, Any]]]:
    """The last record of a ``metrics.jsonl`` and the last one with evaluated metrics (None where absent)."""
    try:
        with open(path, "rb") as f:
            f.seek(0, 2)
            size = f.tell()
            f.seek(max(0, size - TAIL_BYTES))
            lines = f.read().decode("utf-8", errors="replace").splitlines()
    except FileNotFoundError:
        return None, None
    records = []
    for line in lines[1:] if size > TAIL_BYTES else lines:  # the first line of a tail may be cut
        try:
            records.append(json.loads(line))
        except json.JSONDecodeError:  # a line being written
            continue
    evaluated = [r for r in records if set(r) - set(_ORDINARY)]
    return (records[-1] if records else None), (evaluated[-1] if evaluated else None)


def _training(job: Job, run: Path, now: float) -> dict[str, Any]:
    steps = int(job.payload["train"]["steps"])
    last, evaluated = last_records(run / "metrics.jsonl")
    step = int(last["step"]) if last else 0
    out: dict[str, Any] = {"step": step, "steps": steps, "progress": round(step / steps, 4), "last": last,
                           "last_eval": evaluated}
    if job.state == "running" and job.started is not None and step > 0:
        out["eta_s"] = round((now - job.started) / step * (steps - step), 1)
    return out


def brief(job: Job) -> dict[str, Any]:
    """Id, kind, state and times of ``job``."""
    return {"job_id": job.id, "kind": job.kind, "state": job.state, "created": iso(job.created),
            "started": iso(job.started), "finished": iso(job.finished), "error": job.error}


def describe(job: Job, run: Path, now: Optional[float] = None) -> dict[str, Any]:
    """``job_status``'s answer: :func:`brief` plus elapsed time, progress (training), and the result when done."""
    now = time.time() if now is None else now
    out = brief(job)
    if job.started is not None and job.state != "queued":
        out["elapsed_s"] = round((job.finished or now) - job.started, 1)
    if job.kind == "train":
        out.update(_training(job, run, now))
        out["run_id"] = job.id
    if job.result is not None and job.state == "done":
        out["result"] = job.result
    return out
