"""An agent's loop with qgm over MCP: the "brain" (this script, standing in for an LLM) delegates
generation to the "brawn" (qgm's quantum models) and validates what comes back. No LLM needed.

    python examples/agent_loop.py                                  # starts `qgm serve` over stdio
    QGM_TOKEN=... python examples/agent_loop.py --url http://127.0.0.1:8000/mcp   # a running HTTP server

The loop, with the official MCP Python SDK's client:

1. ``list_components``: find a Born-machine example on bars-and-stripes (BAS) data;
2. ``train``: that example shrunk to BAS 2x2 by overrides (a small QCBM) -> a job id;
3. ``job_status``: poll until the job is done;
4. ``sample`` under the hypothesis's condition (top-left pixel on: ``x0=1``) by amplitude amplification;
5. validate the candidates here (are they BAS patterns with the pixel on?) and ``evaluate`` the run;
6. read the run's summary and a plot through the ``qgm://runs/{run_id}/...`` resources.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import time
from contextlib import asynccontextmanager
from typing import Any, AsyncIterator, Callable, Optional, Sequence

import httpx2
from mcp import Client, StdioServerParameters
from mcp.client.stdio import get_default_environment
from mcp.client.streamable_http import streamable_http_client

#: The hypothesis: conditioned on the top-left pixel, a trained Born machine proposes only valid BAS images.
CONDITION = "x0=1"
#: How the chosen example is shrunk to a quick job.
OVERRIDES = {"dataset.rows": 2, "dataset.cols": 2, "model.ansatz.depth": 3, "train.steps": 80,
             "train.eval_every": 40, "train.n_eval_samples": 2000}


def is_bas(bits: str, rows: int = 2, cols: int = 2) -> bool:
    """Is the row-major image ``bits`` a bars-and-stripes pattern (all rows equal, or all columns equal)?"""
    grid = [bits[r * cols:(r + 1) * cols] for r in range(rows)]
    return len(set(grid)) == 1 or all(len(set(row)) == 1 for row in grid)


async def call(client: Client, tool: str, **arguments: Any) -> dict[str, Any]:
    """Call ``tool``; its JSON answer, or a RuntimeError with the server's one-line reason."""
    result = await client.call_tool(tool, arguments)
    if result.is_error:
        raise RuntimeError(f"{tool}: {result.content[0].text}")
    return result.structured_content


async def wait_done(client: Client, job_id: str, *, poll_s: float = 0.5, timeout_s: float = 600.0,
                    log: Callable[[str], None] = print) -> dict[str, Any]:
    """Poll ``job_status`` until the job leaves queued/running; its last status."""
    deadline = time.monotonic() + timeout_s
    while True:
        status = await call(client, "job_status", job_id=job_id)
        if status["state"] not in ("queued", "running"):
            return status
        if time.monotonic() > deadline:
            raise TimeoutError(f"job {job_id} still {status['state']} after {timeout_s:g} s")
        log(f"  {status['state']}: step {status.get('step')}/{status.get('steps')}, eta {status.get('eta_s')} s")
        await asyncio.sleep(poll_s)


async def agent_loop(client: Client, *, log: Callable[[str], None] = print) -> dict[str, Any]:
    """Run the loop of the module docstring on a connected client; what the agent found."""
    components = await call(client, "list_components")
    example = next(e["name"] for e in components["examples"] if "bas" in e["name"] and "qcbm" in e["name"])
    log(f"{len(components['models'])} models, {len(components['datasets'])} datasets; using example {example}")

    job_id = (await call(client, "train", example=example, overrides=OVERRIDES))["job_id"]
    log(f"training job {job_id}")
    status = await wait_done(client, job_id, log=log)
    if status["state"] != "done":
        raise RuntimeError(f"job {job_id} {status['state']}: {status['error']}")
    log(f"done: {json.dumps(status['result']['metrics'])}")

    drawn = await call(client, "sample", run_id=job_id, n=200, condition=CONDITION, method="amplify", seed=1)
    candidates = drawn["bitstrings"]
    valid = sum(is_bas(b) and b[0] == "1" for b in candidates) / len(candidates)
    log(f"{len(candidates)} candidates under {CONDITION}: {valid:.1%} valid BAS with the pixel on; "
        f"cost {json.dumps(drawn['cost'])}")

    measured = await call(client, "evaluate", run_id=job_id, n=2000)
    summary = json.loads((await client.read_resource(f"qgm://runs/{job_id}/summary")).contents[0].text)
    plots = json.loads((await client.read_resource(f"qgm://runs/{job_id}/plots")).contents[0].text)["plots"]
    png = (await client.read_resource(plots[0]["uri"])).contents[0] if plots else None
    log(f"evaluated {json.dumps(measured['metrics'])}; {len(plots)} plots")
    return {"job_id": job_id, "example": example, "status": status, "candidates": candidates,
            "valid_fraction": valid, "cost": drawn["cost"], "metrics": measured["metrics"], "summary": summary,
            "plots": [p["name"] for p in plots], "plot_mime": getattr(png, "mime_type", None)}


def stdio_server(root: str, *extra: str) -> StdioServerParameters:
    """Parameters that start ``qgm serve`` over stdio with its runs under ``root`` (``extra``: more options)."""
    env = get_default_environment()
    for key in ("PYTHONPATH", "QGM_THREADS"):
        if key in os.environ:
            env[key] = os.environ[key]
    return StdioServerParameters(command=sys.executable, args=["-m", "qgm.cli", "serve", "--root", root, *extra],
                                 env=env)


@asynccontextmanager
async def connect(url: Optional[str] = None, token: Optional[str] = None, root: str = "runs/agent",
                  extra: Sequence[str] = ()) -> AsyncIterator[Client]:
    """A connected client: to the streamable HTTP endpoint ``url`` with bearer ``token``, or (no url) to a
    ``qgm serve`` started over stdio with its runs under ``root``."""
    if url is None:
        async with Client(stdio_server(root, *extra)) as client:
            yield client
        return
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    async with httpx2.AsyncClient(headers=headers, timeout=httpx2.Timeout(30.0, read=300.0)) as http:
        async with Client(streamable_http_client(url, http_client=http)) as client:
            yield client


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", help="a running server's MCP endpoint (default: start `qgm serve` over stdio)")
    parser.add_argument("--token", default=os.environ.get("QGM_TOKEN"), help="bearer token (default $QGM_TOKEN)")
    parser.add_argument("--root", default="runs/agent", help="run folder of the stdio server (default runs/agent)")
    args = parser.parse_args()
    async with connect(args.url, args.token, args.root) as client:
        found = await agent_loop(client)
    print(json.dumps({k: found[k] for k in ("job_id", "valid_fraction", "metrics", "plots")}, indent=2))


if __name__ == "__main__":
    asyncio.run(main())
