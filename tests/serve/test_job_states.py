"""The job state machine of :class:`qgm.serve.jobs.JobManager`, without its scheduler (no processes):

queued -> cancelled -> (resume) queued; done and queued jobs refuse resume, finished ones refuse cancel;
room limits per client and for the server; a reopened manager interrupts running jobs, which resume."""
from __future__ import annotations

import pytest

from qgm.errors import ConfigError, ResourceError
from qgm.serve.jobs import RESUMABLE, JobManager
from qgm.serve.limits import Limits
from qgm.serve.table import ACTIVE, STATES

PAYLOAD = {"train": {"steps": 3}}


def manager(tmp_path, **limits) -> JobManager:
    return JobManager(tmp_path, Limits(**limits))


def test_cancel_and_resume_transitions(tmp_path):
    jobs = manager(tmp_path)
    job = jobs.submit("a", "train", PAYLOAD, wall_s=30)
    assert (job.state, job.wall_s, job.resume) == ("queued", 30.0, False)
    cancelled = jobs.cancel("a", job.id)
    assert (cancelled.state, cancelled.error) == ("cancelled", "cancelled by the client") and cancelled.finished
    with pytest.raises(ConfigError, match=f"job_id: job {job.id} is cancelled; only queued or running jobs can be"):
        jobs.cancel("a", job.id)
    again = jobs.resume("a", job.id)
    assert (again.state, again.resume, again.finished, again.error) == ("queued", True, None, None)
    with pytest.raises(ConfigError, match="is queued; only failed, cancelled, interrupted jobs can be resumed"):
        jobs.resume("a", job.id)
    jobs.table.update(job.id, state="done", result={"steps": 3})
    with pytest.raises(ConfigError, match="is done; only queued or running"):
        jobs.cancel("a", job.id)
    with pytest.raises(ConfigError, match="is done; only failed"):
        jobs.resume("a", job.id)
    jobs.close()


def test_states_partition():
    assert set(ACTIVE) | set(RESUMABLE) | {"done"} == set(STATES) and not set(ACTIVE) & set(RESUMABLE)


def test_jobs_belong_to_their_client(tmp_path):
    jobs = manager(tmp_path)
    job = jobs.submit("a", "train", PAYLOAD)
    for act in (jobs.get, jobs.cancel, jobs.resume):
        with pytest.raises(ConfigError, match="no job .* of this client"):
            act("b", job.id)
    assert [j.id for j in jobs.owned("a")] == [job.id] and jobs.owned("b") == []
    with pytest.raises(ConfigError, match="state: 'lost' unknown"):
        jobs.owned("a", ["lost"])
    jobs.close()


def test_room_limits_and_wall_time(tmp_path):
    jobs = manager(tmp_path, max_jobs_per_client=2, max_active_jobs=3, max_wall_s=60)
    first = [jobs.submit("a", "train", PAYLOAD) for _ in range(2)]
    with pytest.raises(ResourceError, match="limits.max_jobs_per_client: this client has 2 queued or running jobs"):
        jobs.submit("a", "train", PAYLOAD)
    jobs.submit("b", "train", PAYLOAD)
    with pytest.raises(ResourceError, match="limits.max_active_jobs: the server holds 3 queued or running jobs"):
        jobs.submit("c", "train", PAYLOAD)
    jobs.cancel("a", first[0].id)
    jobs.submit("a", "train", PAYLOAD)  # a cancelled job frees its slot
    with pytest.raises(ResourceError, match="limits.max_jobs_per_client"):
        jobs.resume("a", first[0].id)  # resuming needs room too
    with pytest.raises(ResourceError, match="limits.max_wall_s: wall_time_s=61"):
        jobs.submit("d", "train", PAYLOAD, wall_s=61)
    for bad in (0, -1, True, "5"):
        with pytest.raises(ConfigError, match="wall_time_s: expected a positive number of seconds"):
            jobs.submit("d", "train", PAYLOAD, wall_s=bad)
    with pytest.raises(ConfigError, match="kind: 'mine' unknown"):
        jobs.submit("d", "mine", PAYLOAD)
    jobs.close()


def test_reopened_manager_interrupts_running_jobs(tmp_path):
    jobs = manager(tmp_path)
    job = jobs.submit("a", "train", PAYLOAD)
    assert jobs.table.update(job.id, only_if=("queued",), state="running")  # as the scheduler claims it
    jobs.close()
    reopened = manager(tmp_path)
    got = reopened.get("a", job.id)
    assert got.state == "interrupted" and got.error.startswith("the server stopped while the job ran")
    assert reopened.resume("a", job.id).state == "queued"
    reopened.close()
