"""The persisted job table: rows survive reopening; a reopened table interrupts running jobs."""
from __future__ import annotations

from qgm.serve.table import INTERRUPTED_MESSAGE, Job, JobTable, is_job_id, new_job_id


def job(owner: str, created: float, state: str = "queued") -> Job:
    return Job(id=new_job_id(), owner=owner, kind="train", payload={"train": {"steps": 3}}, wall_s=60.0,
               state=state, created=created)


def test_ids_are_opaque_hex():
    ids = {new_job_id() for _ in range(200)}
    assert len(ids) == 200 and all(is_job_id(i) for i in ids)
    for bad in ("../../etc", "0123456789ABCDEF", "0123", None, 7, "0123456789abcdef/"):
        assert not is_job_id(bad)


def test_rows_round_trip_update_select_count(tmp_path):
    table = JobTable(tmp_path / "jobs.sqlite")
    a, b, c = job("alice", 1.0), job("alice", 2.0), job("bob", 3.0, "running")
    for j in (a, b, c):
        table.add(j)
    assert table.get(a.id) == a and table.get("ffffffffffffffff") is None
    assert [j.id for j in table.select(owner="alice")] == [a.id, b.id]
    assert [j.id for j in table.select(owner="alice", newest_first=True, limit=1)] == [b.id]
    assert table.count(("queued", "running")) == 3 and table.count(("queued",), "bob") == 0
    assert table.update(a.id, only_if=("queued",), state="done", result={"loss": 0.5}, resume=True)
    assert not table.update(a.id, only_if=("queued",), state="failed")  # no longer queued: unchanged
    got = table.get(a.id)
    assert (got.state, got.result, got.resume) == ("done", {"loss": 0.5}, True)
    table.close()


def test_reopening_interrupts_running_jobs_and_keeps_the_rest(tmp_path):
    table = JobTable(tmp_path / "jobs.sqlite")
    queued, running, done = job("a", 1.0), job("a", 2.0, "running"), job("a", 3.0, "done")
    for j in (queued, running, done):
        table.add(j)
    table.close()
    reopened = JobTable(tmp_path / "jobs.sqlite")
    assert reopened.interrupt_running(now=10.0) == 1
    states = {j.id: (j.state, j.finished, j.error) for j in reopened.select()}
    assert states == {queued.id: ("queued", None, None), running.id: ("interrupted", 10.0, INTERRUPTED_MESSAGE),
                      done.id: ("done", None, None)}
    reopened.close()
