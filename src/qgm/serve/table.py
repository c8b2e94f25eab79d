"""The persisted job table: one SQLite file under the server's root.

Every state change is one committed transaction, so the table survives a
crash or ``kill -9`` of the server. When a server opens a table whose jobs
were ``running`` (the last server died under them), those jobs become
``interrupted``: their run directories and checkpoints stay, and
``job_resume`` continues them. Queued jobs stay queued and run.

Job ids are 16 random hex digits (:func:`new_job_id`): opaque to clients, and
the only thing a client ever names; paths are derived from them by the server.
"""
from __future__ import annotations

import json
import re
import secrets
import sqlite3
import threading
import time
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, Iterable, Optional

__all__ = ["Job", "JobTable", "STATES", "ACTIVE", "KINDS", "new_job_id", "is_job_id", "INTERRUPTED_MESSAGE"]

#: Job states. ``interrupted``: the server stopped while the job ran (``job_resume`` continues it).
STATES = ("queued", "running", "done", "failed", "cancelled", "interrupted")
#: States that hold a place in the queue (count against the limits).
ACTIVE = ("queued", "running")
#: Kinds of jobs: a training run, a plateau scan, a claim's quick reproduction.
KINDS = ("train", "plateau", "reproduce")
INTERRUPTED_MESSAGE = "the server stopped while the job ran; job_resume continues it from its latest checkpoint"


def new_job_id() -> str:
    """A fresh opaque job id (16 random hex digits)."""
    return secrets.token_hex(8)


def is_job_id(text: Any) -> bool:
    """Is ``text`` shaped like a job id this server issues?"""
    return isinstance(text, str) and re.fullmatch(r"[0-9a-f]{16}", text) is not None


@dataclass
class Job:
    """One row of the table. Times are Unix seconds; ``payload`` is the validated config (or claim)."""

    id: str
    owner: str
    kind: str
    payload: dict[str, Any]
    wall_s: float
    state: str = "queued"
    created: float = field(default_factory=time.time)
    started: Optional[float] = None
    finished: Optional[float] = None
    error: Optional[str] = None
    result: Optional[dict[str, Any]] = None
    resume: bool = False
    runs: int = 0


_JSON_COLUMNS = ("payload", "result")
_COLUMNS = tuple(f.name for f in fields(Job))
_SCHEMA = """
CREATE TABLE IF NOT EXISTS jobs (
    id TEXT PRIMARY KEY, owner TEXT NOT NULL, kind TEXT NOT NULL, payload TEXT NOT NULL, wall_s REAL NOT NULL,
    state TEXT NOT NULL, created REAL NOT NULL, started REAL, finished REAL, error TEXT, result TEXT,
    resume INTEGER NOT NULL, runs INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS jobs_state ON jobs (state, created);
CREATE INDEX IF NOT EXISTS jobs_owner ON jobs (owner, created);
"""


def _encode(key: str, value: Any) -> Any:
    """A column's value as stored: JSON text for payload/result, 0/1 for resume."""
    if key in _JSON_COLUMNS:
        return None if value is None else json.dumps(value)
    return int(value) if key == "resume" else value


def _to_row(job: Job) -> list[Any]:
    return [_encode(key, getattr(job, key)) for key in _COLUMNS]


def _from_row(row: sqlite3.Row) -> Job:
    data = dict(zip(_COLUMNS, row))
    for key in _JSON_COLUMNS:
        data[key] = None if data[key] is None else json.loads(data[key])
    data["resume"] = bool(data["resume"])
    return Job(**data)


def _where(states: Iterable[str], owner: Optional[str]) -> tuple[str, list[Any]]:
    """The WHERE clause (and its arguments) selecting ``states`` and, if given, ``owner``."""
    states = tuple(states)
    where = f"state IN ({', '.join('?' * len(states))})"
    return (where + " AND owner = ?", [*states, owner]) if owner is not None else (where, list(states))


class JobTable:
    """Jobs in ``path`` (SQLite, WAL journal); safe to use from several threads of one process."""

    def __init__(self, path: Path) -> None:
        self._lock = threading.Lock()
        self._db = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")
        self._db.executescript(_SCHEMA)

    def interrupt_running(self, now: Optional[float] = None) -> int:
        """Mark jobs left ``running`` by a previous server as ``interrupted``; how many there were."""
        with self._lock:
            cur = self._db.execute(
                "UPDATE jobs SET state = 'interrupted', finished = ?, error = ? WHERE state = 'running'",
                (now if now is not None else time.time(), INTERRUPTED_MESSAGE),
            )
            return cur.rowcount

    def add(self, job: Job) -> None:
        with self._lock:
            self._db.execute(
                f"INSERT INTO jobs ({', '.join(_COLUMNS)}) VALUES ({', '.join('?' * len(_COLUMNS))})", _to_row(job)
            )

    def get(self, job_id: str) -> Optional[Job]:
        with self._lock:
            row = self._db.execute(f"SELECT {', '.join(_COLUMNS)} FROM jobs WHERE id = ?", (job_id,)).fetchone()
        return None if row is None else _from_row(row)

    def update(self, job_id: str, *, only_if: Iterable[str] = STATES, **changes: Any) -> bool:
        """Set ``changes`` on job ``job_id`` if its state is in ``only_if``; whether it was changed."""
        unknown = [key for key in changes if key not in _COLUMNS or key == "id"]
        if unknown:
            raise KeyError(f"job table: no column {unknown[0]!r}")
        sets = [f"{key} = ?" for key in changes]
        values = [_encode(key, value) for key, value in changes.items()]
        states = tuple(only_if)
        with self._lock:
            cur = self._db.execute(
                f"UPDATE jobs SET {', '.join(sets)} WHERE id = ? AND state IN ({', '.join('?' * len(states))})",
                [*values, job_id, *states],
            )
            return cur.rowcount == 1

    def select(self, *, owner: Optional[str] = None, states: Iterable[str] = STATES, limit: int = -1,
               newest_first: bool = False) -> list[Job]:
        """Jobs in ``states`` (of ``owner``), oldest first unless ``newest_first``; at most ``limit`` (-1: all)."""
        where, args = _where(states, owner)
        order = "DESC" if newest_first else "ASC"
        with self._lock:
            rows = self._db.execute(
                f"SELECT {', '.join(_COLUMNS)} FROM jobs WHERE {where} ORDER BY created {order}, id LIMIT ?",
                [*args, limit],
            ).fetchall()
        return [_from_row(r) for r in rows]

    def count(self, states: Iterable[str], owner: Optional[str] = None) -> int:
        """How many jobs are in ``states`` (of ``owner``)."""
        where, args = _where(states, owner)
        with self._lock:
            (n,) = self._db.execute(f"SELECT COUNT(*) FROM jobs WHERE {where}", args).fetchone()
        return int(n)

    def close(self) -> None:
        with self._lock:
            self._db.close()
