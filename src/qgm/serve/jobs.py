"""The job queue: a persisted table, a concurrency limit, one fenced process per running job.

:class:`JobManager` owns ``<root>/jobs.sqlite`` (:class:`~qgm.serve.table.JobTable`)
and ``<root>/jobs/<job id>/`` (``run/``, ``job.log``, ``result.json`` or
``error.txt``). A scheduler thread starts the oldest queued jobs while fewer than
``limits.max_running_jobs`` run, each in its own process
(:mod:`qgm.serve.sandbox`), reaps finished processes into the table, and stops
jobs past their wall time. Every client-facing method takes the client's id:
a client sees, cancels and resumes its own jobs only, and an id it does not own
reads as unknown.

Lifecycle: ``queued -> running -> done | failed``; ``cancelled`` from queued or
running; ``interrupted`` when a server stopped under a running job (at the next
start, or at :meth:`JobManager.close`). ``job_resume`` puts a failed, cancelled
or interrupted job back in the queue; a training job then continues from its
latest checkpoint (``run_config(..., resume=True)``).
"""
from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass
from multiprocessing.process import BaseProcess
from pathlib import Path
from typing import Any, Optional

from qgm.errors import ConfigError, ResourceError
from qgm.serve.limits import Limits
from qgm.serve.sandbox import Sandbox, process_context, warm
from qgm.serve.table import ACTIVE, INTERRUPTED_MESSAGE, KINDS, STATES, Job, JobTable, is_job_id, new_job_id
from qgm.serve.worker import ERROR_FILE, LOG_FILE, RESULT_FILE, RUN_DIR, JobSpec, run_job

__all__ = ["JobManager", "RESUMABLE", "TICK_S"]

#: States ``job_resume`` accepts.
RESUMABLE = ("failed", "cancelled", "interrupted")
#: How often the scheduler looks at its processes when nothing wakes it (seconds).
TICK_S = 0.1
#: Grace period between SIGTERM and SIGKILL of a stopped job (seconds).
_GRACE_S = 5.0


@dataclass
class _Running:
    proc: BaseProcess
    wall_s: float
    deadline: float


class JobManager:
    """Jobs under ``root`` within ``limits`` (see the module docstring)."""

    def __init__(self, root: Path, limits: Limits) -> None:
        self.root = Path(root).resolve()
        (self.root / "jobs").mkdir(parents=True, exist_ok=True)
        self.limits = limits
        self.table = JobTable(self.root / "jobs.sqlite")
        self.table.interrupt_running()
        self._running: dict[str, _Running] = {}
        self._wake = threading.Condition()
        self._thread: Optional[threading.Thread] = None
        self._closing = False

    # ------------------------------------------------------------------ paths
    def folder(self, job_id: str) -> Path:
        """``<root>/jobs/<job_id>`` (``job_id`` is checked to be an id this server issues)."""
        if not is_job_id(job_id):
            raise ConfigError(f"job_id: {job_id!r} is not a job id (16 hex digits, as train returns)")
        return self.root / "jobs" / job_id

    def run_dir(self, job_id: str) -> Path:
        """The run directory of job ``job_id``."""
        return self.folder(job_id) / RUN_DIR

    # ------------------------------------------------------------------ client API
    def get(self, owner: str, job_id: Any) -> Job:
        """Job ``job_id`` of client ``owner``; a ConfigError when there is none."""
        job = self.table.get(job_id) if is_job_id(job_id) else None
        if job is None or job.owner != owner:
            raise ConfigError(f"job_id: no job {job_id!r} of this client; job_list shows yours")
        return job

    def _check_room(self, owner: str) -> None:
        mine = self.table.count(ACTIVE, owner)
        if mine >= self.limits.max_jobs_per_client:
            raise ResourceError(f"limits.max_jobs_per_client: this client has {mine} queued or running jobs; "
                                "wait for one to finish or cancel one (job_cancel)")
        total = self.table.count(ACTIVE)
        if total >= self.limits.max_active_jobs:
            raise ResourceError(f"limits.max_active_jobs: the server holds {total} queued or running jobs; "
                                "try again when some have finished")

    def _wall(self, wall_s: Optional[float]) -> float:
        if wall_s is None:
            return float(self.limits.max_wall_s)
        if isinstance(wall_s, bool) or not isinstance(wall_s, (int, float)) or not wall_s > 0:
            raise ConfigError(f"wall_time_s: expected a positive number of seconds, got {wall_s!r}")
        if wall_s > self.limits.max_wall_s:
            raise ResourceError(f"limits.max_wall_s: wall_time_s={wall_s:g} is more than this server's "
                                f"{self.limits.max_wall_s:g}; ask for less")
        return float(wall_s)

    def submit(self, owner: str, kind: str, payload: dict[str, Any], wall_s: Optional[float] = None) -> Job:
        """Queue a job of ``kind`` with a validated ``payload``; the new job."""
        if kind not in KINDS:
            raise ConfigError(f"kind: {kind!r} unknown; use one of {', '.join(KINDS)}")
        job = Job(id=new_job_id(), owner=owner, kind=kind, payload=payload, wall_s=self._wall(wall_s))
        with self._wake:
            self._check_room(owner)
            self.table.add(job)
            self._wake.notify_all()
        return job

    def cancel(self, owner: str, job_id: Any) -> Job:
        """Cancel a queued or running job of ``owner`` (a running one's process is stopped)."""
        with self._wake:
            job = self.get(owner, job_id)
            if job.state not in ACTIVE:
                raise ConfigError(f"job_id: job {job.id} is {job.state}; only queued or running jobs can be cancelled")
            self.table.update(job.id, only_if=ACTIVE, state="cancelled", finished=time.time(),
                              error="cancelled by the client")
            running = self._running.get(job.id)
            if running is not None:
                running.proc.terminate()
            self._wake.notify_all()
        return self.get(owner, job.id)

    def resume(self, owner: str, job_id: Any) -> Job:
        """Queue a failed, cancelled or interrupted job of ``owner`` again (training continues from its checkpoint)."""
        with self._wake:
            job = self.get(owner, job_id)
            if job.state not in RESUMABLE:
                raise ConfigError(f"job_id: job {job.id} is {job.state}; only {', '.join(RESUMABLE)} jobs can be resumed")
            self._check_room(owner)
            self.table.update(job.id, only_if=RESUMABLE, state="queued", resume=True, finished=None, error=None)
            self._wake.notify_all()
        return self.get(owner, job.id)

    def owned(self, owner: str, states: Optional[list[str]] = None, limit: int = 50) -> list[Job]:
        """The newest ``limit`` jobs of ``owner`` (in ``states``)."""
        bad = [s for s in states or [] if s not in STATES]
        if bad:
            raise ConfigError(f"state: {bad[0]!r} unknown; use one of {', '.join(STATES)}")
        return self.table.select(owner=owner, states=states or STATES, limit=limit, newest_first=True)

    # ------------------------------------------------------------------ scheduler
    def start(self) -> None:
        """Start the scheduler thread (idempotent)."""
        with self._wake:
            if self._thread is None:
                self._thread = threading.Thread(target=self._loop, name="qgm-jobs", daemon=True)
                self._thread.start()

    def close(self) -> None:
        """Stop the scheduler, stop running jobs and mark them ``interrupted`` (resumable), close the table."""
        with self._wake:
            self._closing = True
            self._wake.notify_all()
        if self._thread is not None:
            self._thread.join()
        for job_id, running in list(self._running.items()):
            _stop(running.proc)
            self.table.update(job_id, only_if=("running",), state="interrupted", finished=time.time(),
                              error=INTERRUPTED_MESSAGE)
        self._running.clear()
        self.table.close()

    def _loop(self) -> None:
        warm()
        while True:
            with self._wake:
                if self._closing:
                    return
                self._reap()
                self._enforce_wall_time()
                starting = self._claim_queued()
            for job in starting:  # outside the lock: a (re)starting fork server takes seconds
                self._start_process(job)
            with self._wake:
                if not self._closing:
                    self._wake.wait(TICK_S)

    def _claim_queued(self) -> list[Job]:
        """Mark the oldest queued jobs ``running``, as many as there are free slots; those jobs."""
        free = self.limits.max_running_jobs - len(self._running)
        claimed = []
        for job in self.table.select(states=("queued",), limit=max(free, 0)):
            if self.table.update(job.id, only_if=("queued",), state="running", started=time.time(), runs=job.runs + 1):
                claimed.append(job)
        return claimed

    def _start_process(self, job: Job) -> None:
        try:
            proc = self._spawn(job)
        except Exception as exc:  # a process that cannot start fails its job, not the scheduler
            self.table.update(job.id, only_if=("running",), state="failed", finished=time.time(),
                              error=f"the job's process could not start: {type(exc).__name__}: {exc}")
            return
        with self._wake:
            self._running[job.id] = _Running(proc, job.wall_s, time.monotonic() + job.wall_s)
            current = self.table.get(job.id)
            if current is not None and current.state != "running":  # cancelled while it started
                proc.terminate()

    def _spawn(self, job: Job) -> BaseProcess:
        folder = self.folder(job.id)
        folder.mkdir(parents=True, exist_ok=True)
        for name in (RESULT_FILE, ERROR_FILE):
            (folder / name).unlink(missing_ok=True)
        spec = JobSpec(job.kind, job.payload, str(folder), job.resume, self.limits.max_qubits)
        sandbox = Sandbox(str(folder / LOG_FILE), self.limits.max_memory_mb, str(folder / RUN_DIR))
        proc = process_context().Process(target=run_job, args=(spec, sandbox), name=f"qgm-job-{job.id}")
        proc.start()
        return proc

    def _reap(self) -> None:
        for job_id, running in list(self._running.items()):
            if running.proc.exitcode is None:
                continue
            running.proc.join()
            del self._running[job_id]
            folder = self.folder(job_id)
            if running.proc.exitcode == 0 and (folder / RESULT_FILE).is_file():
                result = json.loads((folder / RESULT_FILE).read_text())
                self.table.update(job_id, only_if=("running",), state="done", finished=time.time(), result=result)
            else:
                self.table.update(job_id, only_if=("running",), state="failed", finished=time.time(),
                                  error=_exit_message(folder, running.proc.exitcode))

    def _enforce_wall_time(self) -> None:
        now = time.monotonic()
        for job_id, running in self._running.items():
            if now > running.deadline and running.proc.exitcode is None:
                self.table.update(job_id, only_if=("running",), state="failed", finished=time.time(),
                                  error=f"limits.max_wall_s: the job ran longer than its {running.wall_s:g} s and was "
                                  "stopped; its checkpoints stay (job_resume continues it)")
                running.proc.kill()


def _exit_message(folder: Path, exitcode: Optional[int]) -> str:
    """The one-line error of a job process that ended with ``exitcode`` (its ``error.txt`` if it wrote one)."""
    error = folder / ERROR_FILE
    if error.is_file():
        return error.read_text().strip()
    if exitcode is not None and exitcode < 0:
        return f"the job's process was killed by signal {-exitcode} (out of memory?); see nothing more in its log"
    return f"the job's process ended with exit code {exitcode} without a result"


def _stop(proc: BaseProcess) -> None:
    """SIGTERM, then SIGKILL after a grace period."""
    proc.terminate()
    proc.join(_GRACE_S)
    if proc.exitcode is None:
        proc.kill()
        proc.join()
