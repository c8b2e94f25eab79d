"""``qgm serve`` as users start it: a subprocess over stdio and over HTTP on 127.0.0.1 (slow: each server
imports the library and starts its fork server; these tests take minutes on a loaded machine)."""
from __future__ import annotations

import asyncio
import json
import os
import secrets
import signal
import time

import pytest
from agent_loop import agent_loop, call, connect, wait_done

from conftest import TINY, run
from qgm.serve.table import JobTable
from qgm.train.run import load_run
from serve_load import measure, start_server

pytestmark = pytest.mark.slow

TOKEN = secrets.token_urlsafe(24)
#: The concurrency limit of the spawned HTTP server.
RUNNING = 2
#: A job long enough to be killed in the middle (a checkpoint every 10 steps).
LONG = TINY.replace("steps: 5,", "steps: 1500, checkpoint_every: 10,")


@pytest.fixture(scope="module")
def cli_http(tmp_path_factory):
    """``qgm serve --http`` on a free loopback port with token :data:`TOKEN`: ``(root, url)``."""
    root = tmp_path_factory.mktemp("cli_http")
    with start_server(root, TOKEN, "--limit", f"max_running_jobs={RUNNING}", log=root / "server.log") as (_, url):
        yield root, url


async def _agent(url=None, token=None, root="runs/agent"):
    async with connect(url, token, root) as client:
        return await agent_loop(client, log=lambda _: None)


def _check_agent(found):
    assert found["status"]["state"] == "done" and found["summary"]["steps"] == 80
    assert all(b[0] == "1" for b in found["candidates"]) and found["valid_fraction"] >= 0.8
    assert found["metrics"]["valid_fraction"] >= 0.8 and found["plot_mime"] == "image/png"


def test_agent_example_over_stdio(tmp_path):
    _check_agent(run(_agent, root=str(tmp_path / "stdio")))
    assert (JobTable(tmp_path / "stdio" / "jobs.sqlite").select()[0].owner) == "local"


def test_agent_example_over_http_and_wrong_token(cli_http):
    root, url = cli_http
    _check_agent(run(_agent, url, TOKEN))
    with pytest.raises(Exception):  # noqa: B017 (the SDK surfaces the 401 as an error group while connecting)
        run(_agent, url, "not-the-token-0123456789")
    assert {j.owner for j in JobTable(root / "jobs.sqlite").select()} == {"agent"}


def _max_overlap(intervals: list[tuple[float, float]]) -> int:
    """Most intervals ``[start, end)`` covering one instant."""
    return max(sum(s <= t < e for s, e in intervals) for t, _ in intervals)


def test_twenty_concurrent_trains_queue_within_the_limit(cli_http):
    root, url = cli_http

    async def scenario():
        async with connect(url, TOKEN) as client:
            ids = [r["job_id"] for r in await asyncio.gather(*[call(client, "train", config=TINY) for _ in range(20)])]
            seen_running = 0
            while True:
                states = [j["state"] for j in (await call(client, "job_list", limit=100))["jobs"] if j["job_id"] in ids]
                seen_running = max(seen_running, states.count("running"))
                if all(s not in ("queued", "running") for s in states):
                    return ids, states, seen_running
                await asyncio.sleep(0.2)

    ids, states, seen_running = run(scenario)
    assert len(set(ids)) == 20 and states == ["done"] * 20
    assert 1 <= seen_running <= RUNNING
    jobs = {j.id: j for j in JobTable(root / "jobs.sqlite").select()}
    assert _max_overlap([(jobs[i].started, jobs[i].finished) for i in ids]) <= RUNNING
    assert all(load_run(root / "jobs" / i / "run").config.train.steps == 5 for i in ids[:3])


def test_killed_server_restarts_with_its_jobs(tmp_path):
    root = tmp_path / "killed"
    with start_server(root, TOKEN, log=tmp_path / "server.log") as (proc, url):
        job_id, done_id = run(_train_until_checkpoint, url)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    metrics = root / "jobs" / job_id / "run" / "metrics.jsonl"
    size = metrics.stat().st_size
    time.sleep(3.0)
    assert metrics.stat().st_size == size  # the job's process died with the server
    parts = load_run(root / "jobs" / job_id / "run")  # loadable from its latest checkpoint
    assert parts.model.space.n == 4
    with start_server(root, TOKEN, log=tmp_path / "server.log") as (_, url):
        before, done, measured, final = run(_after_restart, url, job_id, done_id)
    assert before["state"] == "interrupted" and before["error"].startswith("the server stopped while the job ran")
    assert done["state"] == "done" and done["result"]["steps"] == 5
    assert set(measured["metrics"]) == {"kl"}
    assert final["state"] == "done" and final["result"]["resumed"] is True and final["result"]["steps"] == 1500
    steps = [json.loads(line)["step"] for line in metrics.read_text().splitlines()]
    assert [s for s in steps if s > 0] == list(range(1, 1501))  # the resumed run continued where it stopped


async def _train_until_checkpoint(url):
    async with connect(url, TOKEN) as client:
        done_id = (await call(client, "train", config=TINY))["job_id"]
        await wait_done(client, done_id, poll_s=0.2, log=lambda _: None)
        job_id = (await call(client, "train", config=LONG))["job_id"]
        while (await call(client, "job_status", job_id=job_id)).get("step", 0) < 30:
            await asyncio.sleep(0.1)
    return job_id, done_id


async def _after_restart(url, job_id, done_id):
    async with connect(url, TOKEN) as client:
        before = await call(client, "job_status", job_id=job_id)
        done = await call(client, "job_status", job_id=done_id)
        measured = await call(client, "evaluate", run_id=job_id, n=300, metrics=["kl"])
        await call(client, "job_resume", job_id=job_id)
        final = await wait_done(client, job_id, poll_s=0.5, log=lambda _: None)
    return before, done, measured, final


def test_bounded_load(cli_http):
    _, url = cli_http
    row = asyncio.run(measure(url, TOKEN, calls=40, concurrency=2, max_seconds=120))
    assert row["calls"] == 40 and row["list_components"]["n"] == row["job_status"]["n"] == 20
    assert 0 < row["all"]["p50_ms"] <= row["all"]["p99_ms"] < 30_000


def test_reproduce_a_claim_quickly(cli_http):
    _, url = cli_http

    async def scenario():
        async with connect(url, TOKEN) as client:
            job_id = (await call(client, "reproduce", claim="amplitude_amplification"))["job_id"]
            return await wait_done(client, job_id, poll_s=1.0, timeout_s=1200, log=lambda _: None)

    status = run(scenario)
    assert status["state"] == "done", status
    assert status["result"]["name"] == "amplitude_amplification" and status["result"]["quick"] is True
    assert os.fspath(status["result"]["command"]).endswith("--quick")
