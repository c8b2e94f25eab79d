"""Files of a run directory served as MCP resources: summary, metrics, config, plots.

Only files of a fixed list are read, from a run directory the server derived
from a job id; a plot is named by a client only to pick one of the PNG files
the run holds (exact match against the folder's listing), so no client string
ever becomes a path. Nothing larger than :data:`MAX_BYTES` is served.
"""
from __future__ import annotations

import json
from pathlib import Path

from qgm.errors import ConfigError, DataError

__all__ = ["summary_text", "metrics_text", "config_text", "plot_files", "plot_bytes", "MAX_BYTES"]

#: Largest file served as a resource.
MAX_BYTES = 16 << 20


def _read(path: Path, what: str) -> bytes:
    if not path.is_file():
        raise DataError(f"{what}: the run has no {path.name} yet; wait until job_status says done")
    if path.stat().st_size > MAX_BYTES:
        raise DataError(f"{what}: {path.name} is larger than {MAX_BYTES >> 20} MiB; read it on the server")
    return path.read_bytes()


def summary_text(run: Path) -> str:
    """``summary.json`` of the run (final metrics, steps, times) without the server's path."""
    summary = json.loads(_read(run / "summary.json", "summary"))
    summary.pop("run_dir", None)
    return json.dumps(summary)


def metrics_text(run: Path) -> str:
    """The records of ``metrics.jsonl`` as one JSON array."""
    lines = _read(run / "metrics.jsonl", "metrics").decode().splitlines()
    return "[" + ",".join(line for line in lines if line.strip()) + "]"


def config_text(run: Path) -> str:
    """The resolved ``config.yaml`` of the run."""
    return _read(run / "config.yaml", "config").decode()


def plot_files(run: Path) -> dict[str, Path]:
    """``{name: file}`` of the run's PNG plots (``plots/*.png`` and PNGs at the top of the run directory)."""
    found = [*sorted(run.glob("*.png")), *sorted((run / "plots").glob("*.png"))]
    return {p.name: p for p in found if p.is_file()}


def plot_bytes(run: Path, name: str) -> bytes:
    """The PNG plot ``name`` (one of :func:`plot_files`)."""
    files = plot_files(run)
    if name not in files:
        raise ConfigError(f"plot: {name!r} is not a plot of this run; known: {', '.join(files) or 'none yet'}")
    return _read(files[name], "plot")
