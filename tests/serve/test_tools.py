"""The MCP tools and resources through the SDK's client over streamable HTTP on 127.0.0.1.

The server runs in a thread of the test process (:class:`conftest.ThreadServer`), its jobs in
real processes; the spawned ``qgm serve`` (stdio and HTTP) is tested in ``test_cli_serve.py``.
"""
from __future__ import annotations

import asyncio
import json
import re

import httpx2
import pytest
from agent_loop import agent_loop, call, connect, is_bas, wait_done
from mcp.shared.exceptions import MCPError

from conftest import TINY, TOKENS, run, tool, train_and_wait
from qgm.train.run import load_run

#: 3 dimensions x 6 bits: 18 bits, which no width key of the config declares.
WIDE_GAUSSIAN = TINY.replace("{name: bas, rows: 2, cols: 2}", "{name: gaussian, mu: [0, 0, 0], sigma: [1, 1, 1], bits: 6}")
#: A job that trains for a while (one checkpoint every 10 steps).
LONG = TINY.replace("steps: 5,", "steps: 3000, checkpoint_every: 10,")


def test_agent_example_over_http(http):
    found = run(_agent, http)
    assert found["status"]["state"] == "done" and found["status"]["progress"] == 1.0
    assert found["summary"]["steps"] == 80 and found["summary"]["dataset"] == "bas"
    assert len(found["candidates"]) == 200 and all(b[0] == "1" for b in found["candidates"])  # x0=1 holds exactly
    assert found["valid_fraction"] >= 0.8  # a trained BAS 2x2 Born machine proposes valid patterns
    assert found["cost"]["samples"] == 200 and found["cost"]["queries"] >= 200
    assert set(found["metrics"]) == {"kl", "valid_fraction", "qbas"} and found["metrics"]["valid_fraction"] >= 0.8
    assert "curves.png" in found["plots"] and found["plot_mime"] == "image/png"


async def _agent(url):
    async with connect(url, TOKENS["agent"]) as client:
        return await agent_loop(client, log=lambda _: None)


def test_tiny_run_status_sample_evaluate_resources(http, tiny_run, service):
    job_id = tiny_run["job_id"]
    assert tiny_run["result"]["steps"] == 5 and "run_dir" not in tiny_run["result"]
    assert tiny_run["last"]["step"] == 5 and tiny_run["last_eval"]["step"] == 5
    run_dir = service.jobs.run_dir(job_id)
    assert load_run(run_dir).model.space.n == 4  # the run directory is a normal, loadable run
    out = run(_sample_evaluate_read, http, job_id)
    drawn, again, grover, measured, resources = out
    assert drawn == again and drawn["shape"] == [50, 4] and len(drawn["bitstrings"]) == 50  # same seed, same samples
    assert len(grover["bitstrings"]) == 20 and all(b[0] == "1" and b[3] == "0" for b in grover["bitstrings"])
    assert grover["cost"]["samples"] == 20 and grover["cost"]["queries"] >= 20
    assert sum(drawn["counts"].values()) == 50
    assert set(measured["metrics"]) == {"kl"} and measured["metrics"]["kl"] >= 0
    summary, metrics, config = resources
    assert summary["steps"] == 5 and "run_dir" not in summary
    assert [r["step"] for r in metrics] == [0, 1, 2, 3, 4, 5]
    assert "name: load_tiny" in config and "progress: false" in config


async def _sample_evaluate_read(url, job_id):
    async with connect(url, TOKENS["agent"]) as client:
        drawn = await call(client, "sample", run_id=job_id, n=50, seed=3)
        again = await call(client, "sample", run_id=job_id, n=50, seed=3)
        grover = await call(client, "sample", run_id=job_id, n=20, condition="x0=1,x3=0", method="amplify",
                            schedule="grover", seed=1)
        measured = await call(client, "evaluate", run_id=job_id, n=500, metrics=["kl"])
        texts = [(await client.read_resource(f"qgm://runs/{job_id}/{name}")).contents[0].text
                 for name in ("summary", "metrics", "config")]
    return drawn, again, grover, measured, (json.loads(texts[0]), json.loads(texts[1]), texts[2])


REFUSALS = [
    ("train", {"config": TINY.replace("{name: bas, rows: 2, cols: 2}", "{name: ghz, n_qubits: 40}")},
     "limits.max_qubits: dataset.n_qubits = 40 qubits is more than this server's 16"),
    ("train", {"config": TINY, "overrides": {"dataset.rows": 5, "dataset.cols": 8}},
     r"limits.max_qubits: dataset.rows\*cols = 40 qubits"),
    ("train", {"config": TINY, "overrides": {"dataset": {"name": "file", "path": "../../etc/passwd"}}},
     "dataset.path: this server does not read or write places named by a client"),
    ("train", {"example": "../../etc"}, "example: '../../etc' is not a train example"),
    ("train", {"config": TINY, "overrides": {"name": "../../etc"}}, "name: use letters, digits"),
    ("train", {"config": TINY, "overrides": {"train.steps": 10 ** 6}}, "limits.max_steps: train.steps=1000000"),
    ("train", {"config": TINY, "wall_time_s": 1e9}, "limits.max_wall_s: wall_time_s=1e\\+09"),
    ("train", {"config": "{not: [valid"}, "config: not valid YAML"),
    ("sample", {"run_id": "../../etc", "n": 10}, "job_id: no job '../../etc' of this client"),
    ("job_status", {"job_id": "../../etc"}, "job_id: no job '../../etc' of this client"),
    ("job_cancel", {"job_id": "ffffffffffffffff"}, "job_id: no job 'ffffffffffffffff' of this client"),
    ("reproduce", {"claim": "../../etc"}, "claim: .*unknown"),
    ("sample", {"run_id": "0" * 16, "n": 5, "condition": "x0=1", "schedule": "grover"},
     "schedule: 'grover' is not an amplification schedule of method 'amplify'"),
    ("sample", {"run_id": "0" * 16, "n": 5, "method": "amplify"}, "method, schedule: .*; give condition"),
    ("plateau_scan", {"config": '{"ansatz": {"name": "hardware_efficient"}, "n_qubits": [2, 40], "depth": 1, '
                                '"cost": "global"}'}, "limits.max_qubits: n_qubits = 40 qubits"),
]


@pytest.mark.parametrize("name,arguments,message", REFUSALS, ids=[f"{r[0]}-{i}" for i, r in enumerate(REFUSALS)])
def test_refused_requests_are_tool_errors(http, name, arguments, message):
    result = run(tool, http, name, TOKENS["agent"], **arguments)
    assert result.is_error
    assert result.content[0].text.count("\n") == 0  # one line, no traceback
    assert re.search(message, result.content[0].text), result.content[0].text


def test_server_keeps_serving_after_refusals(http, tiny_run):
    async def scenario():
        async with connect(http, TOKENS["agent"]) as client:
            for name, arguments, _ in REFUSALS:
                assert (await client.call_tool(name, arguments)).is_error
            assert (await client.call_tool("sample", {"run_id": tiny_run["job_id"], "n": 10 ** 7})).is_error
            assert (await client.call_tool("evaluate", {"run_id": tiny_run["job_id"], "metrics": ["nope"]})).is_error
            assert (await client.call_tool("sample", {"run_id": tiny_run["job_id"], "n": 5, "method": "magic"})).is_error
            with pytest.raises(MCPError):
                await client.read_resource("qgm://runs/..%2F..%2Fetc/summary")
            with pytest.raises(MCPError):
                await client.read_resource(f"qgm://runs/{tiny_run['job_id']}/plots/..%2F..%2Fjobs.sqlite")
            components = await call(client, "list_components")
            status = await call(client, "job_status", job_id=tiny_run["job_id"])
        return components, status

    components, status = run(scenario)
    assert components["limits"]["max_qubits"] == 16 and status["state"] == "done"


def test_built_widths_are_checked_inside_the_job(http):
    status = run(train_and_wait, http, WIDE_GAUSSIAN)
    assert status["state"] == "failed"
    assert status["error"] == ("limits.max_qubits: the built dataset = 18 qubits is more than this server's 16; "
                               "use a smaller register")


def test_wall_time_limit_stops_the_job(http):
    status = run(train_and_wait, http, LONG, wall_time_s=2.0)
    assert status["state"] == "failed" and status["error"].startswith("limits.max_wall_s: the job ran longer than its 2 s")


def test_clients_are_isolated_and_tokens_checked(http, tiny_run):
    async def scenario():
        async with connect(http, TOKENS["other"]) as other:
            mine = await call(other, "job_list")
            theirs = await other.call_tool("job_status", {"job_id": tiny_run["job_id"]})
            with pytest.raises(MCPError):
                await other.read_resource(f"qgm://runs/{tiny_run['job_id']}/summary")
        refused = []
        for token in ("wrong-token-0123456789abcdef", None):
            try:
                async with connect(http, token) as client:
                    await client.call_tool("list_components", {})
                refused.append(False)
            except Exception:  # the SDK's client surfaces the 401 while connecting
                refused.append(True)
        async with httpx2.AsyncClient() as h:
            raw = await h.post(http, json={"jsonrpc": "2.0", "id": 1, "method": "tools/list"},
                               headers={"Authorization": "Bearer wrong-token-0123456789abcdef"})
        return mine, theirs, refused, raw

    mine, theirs, refused, raw = run(scenario)
    assert tiny_run["job_id"] not in {j["job_id"] for j in mine["jobs"]}
    assert theirs.is_error and "no job" in theirs.content[0].text
    assert refused == [True, True]
    assert raw.status_code == 401 and raw.headers["www-authenticate"].startswith('Bearer error="invalid_token"')


def test_queue_limits_cancel_and_resume(http, service):
    limit = service.limits.max_jobs_per_client

    async def scenario():
        async with connect(http, TOKENS["other"]) as client:
            long_id = (await call(client, "train", config=LONG))["job_id"]
            queued = [(await call(client, "train", config=TINY))["job_id"] for _ in range(limit - 1)]
            over = await client.call_tool("train", {"config": TINY})
            while (await call(client, "job_status", job_id=long_id))["state"] != "running":
                await asyncio.sleep(0.2)
            cancelled = [await call(client, "job_cancel", job_id=j) for j in [long_id, *queued]]
            again = await client.call_tool("job_cancel", {"job_id": long_id})
            resumed = await call(client, "job_resume", job_id=queued[0])
            final = await wait_done(client, queued[0], poll_s=0.2, log=lambda _: None)
            listed = await call(client, "job_list", state="cancelled")
        return over, cancelled, again, resumed, final, listed, long_id, queued

    over, cancelled, again, resumed, final, listed, long_id, queued = run(scenario)
    assert over.is_error and over.content[0].text.startswith(
        f"Error executing tool train: limits.max_jobs_per_client: this client has {limit} queued or running jobs")
    assert [c["state"] for c in cancelled] == ["cancelled"] * limit
    assert again.is_error and "is cancelled; only queued or running jobs can be cancelled" in again.content[0].text
    assert resumed["state"] in ("queued", "running") and final["state"] == "done" and final["result"]["steps"] == 5
    assert {j["job_id"] for j in listed["jobs"]} == {long_id, *queued[1:]}


def test_plateau_scan_job(http):
    config = {"ansatz": {"name": "hardware_efficient", "rotations": ["ry"], "entangler": "ladder"}, "n_qubits": [2, 3, 4],
              "depth": 1, "cost": "global", "n_inits": 30, "plot": False}

    async def scenario():
        async with connect(http, TOKENS["agent"]) as client:
            job_id = (await call(client, "plateau_scan", config=json.dumps(config)))["job_id"]
            return await wait_done(client, job_id, poll_s=0.2, log=lambda _: None)

    status = run(scenario)
    assert status["state"] == "done", status
    assert [p["n"] for p in status["result"]["points"]] == [2, 3, 4]
    assert all(p["var"] > 0 for p in status["result"]["points"]) and len(status["result"]["fits"]) == 1


def test_bas_checker_of_the_example():
    assert [is_bas(b) for b in ("0000", "1111", "1100", "1010", "1000", "0110")] == [True, True, True, True, False, False]
