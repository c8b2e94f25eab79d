"""The server's operations as plain methods: what each MCP tool and resource does, per client.

:class:`Service` joins the pieces: request configs (:mod:`qgm.serve.configs`)
checked against :class:`~qgm.serve.limits.Limits`, the job queue
(:class:`~qgm.serve.jobs.JobManager`), fenced calls for sampling and
evaluation (:func:`qgm.serve.sandbox.call`) and run artifacts
(:mod:`qgm.serve.artifacts`). Every method takes the calling client's id
first and answers JSON-ready data; errors are :class:`~qgm.errors.QGMError`
with one-line messages. :mod:`qgm.serve.server` puts MCP on top.
"""
from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any, Mapping, Optional, Union

from qgm.errors import ConfigError, ResourceError
from qgm.registry import METRICS
from qgm.serve import artifacts
from qgm.serve.catalog import Examples, components, default_examples_dir
from qgm.serve.configs import plateau_payload, reproduce_payload, request_data, train_payload
from qgm.serve.jobs import JobManager
from qgm.serve.limits import Limits, check_count
from qgm.serve.progress import brief, describe
from qgm.serve.sandbox import Sandbox, call
from qgm.serve.worker import evaluate_task, sample_task
from qgm.train.callbacks import latest_checkpoint
from qgm.train.run import load_plugins

__all__ = ["Service", "SAMPLE_METHODS", "AMPLIFY_SCHEDULES", "MAX_CONDITION_CHARS", "MAX_LISTED", "CALLS_LOG"]

#: Conditional sampling methods (see ``QCBM.sample``).
SAMPLE_METHODS = ("reject", "amplify", "exact")
#: Schedules of ``method="amplify"`` (:mod:`qgm.sim.amplify`; default ``bbht``, for an unknown acceptance).
AMPLIFY_SCHEDULES = ("bbht", "grover", "zero_failure", "fixed_point")
#: Longest condition string (``"x0=1,x4=0"``) accepted.
MAX_CONDITION_CHARS = 1000
#: Most jobs one ``job_list`` answer holds.
MAX_LISTED = 1000
#: Log file (in a run's job folder) of the processes of ``sample``/``evaluate`` calls.
CALLS_LOG = "calls.log"

Condition = Optional[Union[str, list[int]]]
ConfigLike = Optional[Union[str, Mapping[str, Any]]]


class Service:
    """qgm's operations for agents under ``root`` within ``limits`` (see the module docstring).

    Args:
        root: folder of the job table and the job folders (created if missing).
        limits: per-request limits.
        examples_dir: folder of example configs (default: ``examples/`` of the source tree, if any).
    """

    def __init__(self, root: Union[str, Path], limits: Optional[Limits] = None,
                 examples_dir: Optional[Path] = None) -> None:
        load_plugins()
        self.limits = limits if limits is not None else Limits()
        self.examples = Examples(examples_dir if examples_dir is not None else default_examples_dir())
        self.jobs = JobManager(Path(root), self.limits)
        self._components: Optional[dict[str, Any]] = None
        self._calls = threading.BoundedSemaphore(self.limits.max_running_jobs)

    def start(self) -> None:
        """Start the job scheduler (idempotent)."""
        self.jobs.start()

    def close(self) -> None:
        """Stop the scheduler; running jobs become ``interrupted``."""
        self.jobs.close()

    # ------------------------------------------------------------------ discovery
    def list_components(self) -> dict[str, Any]:
        if self._components is None:
            self._components = components(self.examples, self.limits.to_dict())
        return self._components

    # ------------------------------------------------------------------ jobs
    def train(self, owner: str, example: Optional[str], config: ConfigLike,
              overrides: Optional[Mapping[str, Any]], wall_time_s: Optional[float]) -> dict[str, str]:
        raw = request_data(example, config, overrides, "train", self.examples, self.limits)
        job = self.jobs.submit(owner, "train", train_payload(raw, self.limits), wall_time_s)
        return {"job_id": job.id}

    def plateau_scan(self, owner: str, example: Optional[str], config: ConfigLike,
                     overrides: Optional[Mapping[str, Any]], wall_time_s: Optional[float]) -> dict[str, str]:
        raw = request_data(example, config, overrides, "plateau", self.examples, self.limits)
        job = self.jobs.submit(owner, "plateau", plateau_payload(raw, self.limits), wall_time_s)
        return {"job_id": job.id}

    def reproduce(self, owner: str, claim: str, wall_time_s: Optional[float]) -> dict[str, str]:
        job = self.jobs.submit(owner, "reproduce", reproduce_payload(claim), wall_time_s)
        return {"job_id": job.id}

    def job_status(self, owner: str, job_id: str) -> dict[str, Any]:
        job = self.jobs.get(owner, job_id)
        return describe(job, self.jobs.run_dir(job.id))

    def job_list(self, owner: str, state: Optional[str], limit: int) -> dict[str, Any]:
        if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= MAX_LISTED:
            raise ConfigError(f"limit: expected 1 to {MAX_LISTED} jobs, got {limit!r}")
        jobs = self.jobs.owned(owner, [state] if state else None, limit)
        return {"jobs": [brief(j) for j in jobs]}

    def job_cancel(self, owner: str, job_id: str) -> dict[str, Any]:
        job = self.jobs.cancel(owner, job_id)
        return describe(job, self.jobs.run_dir(job.id))

    def job_resume(self, owner: str, job_id: str) -> dict[str, Any]:
        job = self.jobs.resume(owner, job_id)
        return describe(job, self.jobs.run_dir(job.id))

    # ------------------------------------------------------------------ runs
    def trained_run(self, owner: str, run_id: str) -> Path:
        """The run directory of training job ``run_id`` of ``owner``, once it holds a model or a checkpoint."""
        job = self.jobs.get(owner, run_id)
        if job.kind != "train":
            raise ConfigError(f"run_id: job {job.id} is a {job.kind} job; sample and evaluate take a training job")
        run = self.jobs.run_dir(job.id)
        if not (run / "model.pt").is_file() and latest_checkpoint(run / "checkpoints") is None:
            raise ConfigError(f"run_id: job {job.id} is {job.state} and has no trained model yet; "
                              "wait until job_status says done")
        return run

    def _call(self, run: Path, fn: Any, args: tuple[Any, ...]) -> dict[str, Any]:
        if not self._calls.acquire(timeout=self.limits.max_call_s):
            raise ResourceError(f"limits.max_running_jobs: {self.limits.max_running_jobs} sample/evaluate calls are "
                                "running; try again shortly")
        try:
            sandbox = Sandbox(str(run.parent / CALLS_LOG), self.limits.max_memory_mb, str(run))
            return call(fn, args, sandbox=sandbox, timeout=self.limits.max_call_s)
        finally:
            self._calls.release()

    def sample(self, owner: str, run_id: str, n: int, condition: Condition, method: str, seed: int,
               schedule: Optional[str] = None) -> dict[str, Any]:
        check_count("n", n, self.limits.max_samples)
        if method not in SAMPLE_METHODS:
            raise ConfigError(f"method: {method!r} unknown; use one of {', '.join(SAMPLE_METHODS)}")
        if schedule is not None and (method != "amplify" or schedule not in AMPLIFY_SCHEDULES):
            raise ConfigError(f"schedule: {schedule!r} is not an amplification schedule of method 'amplify'; "
                              f"use one of {', '.join(AMPLIFY_SCHEDULES)} with method 'amplify'")
        if condition is None and (method != "reject" or schedule is not None):
            raise ConfigError("method, schedule: they choose how to sample under a condition; give condition")
        _check_condition(condition, self.limits)
        _check_seed(seed)
        run = self.trained_run(owner, run_id)
        return {"run_id": run_id, **self._call(run, sample_task, (str(run), n, condition, method, seed, schedule))}

    def evaluate(self, owner: str, run_id: str, n: Optional[int], metrics: Optional[list[str]],
                 seed: int) -> dict[str, Any]:
        if n is not None:
            check_count("n", n, self.limits.max_samples)
        for i, name in enumerate(metrics or []):
            if name not in METRICS:
                raise ConfigError(f"metrics[{i}]: unknown metric {name!r}; known: {', '.join(METRICS.names())}")
        _check_seed(seed)
        run = self.trained_run(owner, run_id)
        return {"run_id": run_id, **self._call(run, evaluate_task, (str(run), metrics, n, seed))}

    # ------------------------------------------------------------------ resources
    def summary(self, owner: str, run_id: str) -> str:
        return artifacts.summary_text(self.jobs.run_dir(self.jobs.get(owner, run_id).id))

    def metrics(self, owner: str, run_id: str) -> str:
        return artifacts.metrics_text(self.jobs.run_dir(self.jobs.get(owner, run_id).id))

    def config(self, owner: str, run_id: str) -> str:
        return artifacts.config_text(self.jobs.run_dir(self.jobs.get(owner, run_id).id))

    def plots(self, owner: str, run_id: str) -> str:
        job = self.jobs.get(owner, run_id)
        names = list(artifacts.plot_files(self.jobs.run_dir(job.id)))
        return json.dumps({"plots": [{"name": n, "uri": f"qgm://runs/{job.id}/plots/{n}"} for n in names]})

    def plot(self, owner: str, run_id: str, name: str) -> bytes:
        return artifacts.plot_bytes(self.jobs.run_dir(self.jobs.get(owner, run_id).id), name)


def _check_condition(condition: Condition, limits: Limits) -> None:
    if condition is None:
        return
    if isinstance(condition, str):
        if len(condition) > MAX_CONDITION_CHARS:
            raise ConfigError(f"condition: {len(condition)} characters; give at most {MAX_CONDITION_CHARS}")
        return
    if isinstance(condition, list) and all(isinstance(i, int) and not isinstance(i, bool) for i in condition):
        check_count("condition (allowed indices)", len(condition), limits.max_samples)
        return
    raise ConfigError(f"condition: expected fixed bits like 'x0=1,x3=0' or a list of allowed basis indices, "
                      f"got {condition!r}")


def _check_seed(seed: Any) -> None:
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise ConfigError(f"seed: expected a non-negative integer, got {seed!r}")
