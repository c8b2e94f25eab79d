"""Load test of ``qgm serve --http`` on loopback: latency of light MCP calls, p50 and p99.

Usage::

    PYTHONPATH=src .venv/bin/python benchmarks/serve_load.py [--calls 200] [--concurrency 4]
        [--max-seconds 300] [--url URL --token TOKEN]

Starts ``qgm serve --http`` on a free 127.0.0.1 port (or uses ``--url``), trains
one tiny job so ``job_status`` has a real job to describe, then sends
``--calls`` tool calls, alternately ``list_components`` and ``job_status``,
from ``--concurrency`` clients (each its own MCP session over the SDK's
streamable HTTP client), and prints the latency percentiles as JSON and as a
Markdown row for BENCHMARKS.md. Bounded: at most ``--calls`` calls and
``--max-seconds`` seconds (calls not sent by then are not counted), loopback
only (``--url`` must name a loopback host).
"""
from __future__ import annotations

import argparse
import asyncio
import ipaddress
import json
import os
import platform
import secrets
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator, Optional
from urllib.parse import urlparse

import httpx2

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "examples"))

from agent_loop import call, connect, wait_done  # noqa: E402

#: A training job of about a second (BAS 2x2, a one-layer QCBM, five steps, no plots): what ``job_status``
#: describes here, and the tests' tiny job.
TINY = """
name: load_tiny
dataset: {name: bas, rows: 2, cols: 2}
model: {name: qcbm, ansatz: {name: liu_wang, depth: 1}}
loss: {name: mmd}
optimizer: {name: adam, lr: 0.1}
train: {steps: 5, n_eval_samples: 200, plots: false}
metrics: [kl]
"""


def free_port() -> int:
    """A TCP port on 127.0.0.1 that is free right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_listening(url: str, timeout_s: float) -> None:
    """Block until ``url`` answers HTTP (any status), or raise TimeoutError."""
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            httpx2.post(url, json={}, timeout=5.0)
            return
        except httpx2.TransportError:
            if time.monotonic() > deadline:
                raise TimeoutError(f"{url} did not answer within {timeout_s:g} s") from None
            time.sleep(0.5)


@contextmanager
def start_server(root: Path, token: str, *args: str, log: Optional[Path] = None,
                 timeout_s: float = 300.0) -> Iterator[tuple[subprocess.Popen, str]]:
    """Run ``qgm serve --http`` on a free loopback port with runs under ``root``; ``(process, mcp url)``."""
    port = free_port()
    url = f"http://127.0.0.1:{port}/mcp"
    env = {**os.environ, "QGM_TOKEN": token}
    out = open(log, "ab") if log is not None else subprocess.DEVNULL
    proc = subprocess.Popen([sys.executable, "-m", "qgm.cli", "serve", "--http", "--port", str(port),
                             "--root", str(root), *args], env=env, stdout=out, stderr=out)
    try:
        wait_listening(url, timeout_s)
        yield proc, url
    finally:
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(60)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        if log is not None:
            out.close()


def percentile(values: list[float], q: float) -> float:
    """The ``q``-th percentile (0-100) of ``values``, linear interpolation between order statistics."""
    ordered = sorted(values)
    pos = (len(ordered) - 1) * q / 100
    lo, hi = int(pos), min(int(pos) + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (pos - lo)


async def _client(url: str, token: str, job_id: str, turns: list[int], deadline: float,
                  latencies: dict[str, list[float]]) -> None:
    async with connect(url, token) as client:
        for turn in turns:
            if time.monotonic() > deadline:
                return
            tool, args = ("list_components", {}) if turn % 2 == 0 else ("job_status", {"job_id": job_id})
            start = time.perf_counter()
            await call(client, tool, **args)
            latencies[tool].append(time.perf_counter() - start)


async def measure(url: str, token: str, calls: int = 200, concurrency: int = 4,
                  max_seconds: float = 300.0) -> dict[str, Any]:
    """Latencies (ms) of ``calls`` light tool calls from ``concurrency`` clients (see the module docstring)."""
    host = urlparse(url).hostname or ""
    if host != "localhost" and not ipaddress.ip_address(host).is_loopback:
        raise ValueError(f"{url}: the load test only targets loopback servers")
    async with connect(url, token) as client:
        job_id = (await call(client, "train", config=TINY))["job_id"]
        await wait_done(client, job_id, log=lambda _: None)
    latencies: dict[str, list[float]] = {"list_components": [], "job_status": []}
    start = time.monotonic()
    deadline = start + max_seconds
    await asyncio.gather(*[_client(url, token, job_id, list(range(c, calls, concurrency)), deadline, latencies)
                           for c in range(concurrency)])
    wall = time.monotonic() - start
    every = [t for values in latencies.values() for t in values]
    row: dict[str, Any] = {"calls": len(every), "concurrency": concurrency, "wall_s": round(wall, 2),
                           "calls_per_s": round(len(every) / wall, 1)}
    for name, values in {"all": every, **latencies}.items():
        if values:
            row[name] = {"p50_ms": round(1e3 * statistics.median(values), 2),
                         "p99_ms": round(1e3 * percentile(values, 99), 2), "n": len(values)}
    return row


def markdown(row: dict[str, Any]) -> str:
    """One Markdown table row: calls, concurrency, p50/p99 of all calls and per tool, calls per second."""
    cells = [str(row["calls"]), str(row["concurrency"])]
    cells += [f"{row[k]['p50_ms']:.1f} / {row[k]['p99_ms']:.1f}" if k in row else "-"
              for k in ("all", "list_components", "job_status")]
    return "| " + " | ".join([*cells, str(row["calls_per_s"])]) + " |"


def main() -> None:
    parser = argparse.ArgumentParser(description="latency of qgm serve's light MCP calls on loopback")
    parser.add_argument("--calls", type=int, default=200)
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--max-seconds", type=float, default=300.0)
    parser.add_argument("--url", help="a running loopback server (default: start one)")
    parser.add_argument("--token", default=os.environ.get("QGM_TOKEN"))
    args = parser.parse_args()
    if args.url:
        row = asyncio.run(measure(args.url, args.token, args.calls, args.concurrency, args.max_seconds))
    else:
        token = secrets.token_urlsafe(24)
        with tempfile.TemporaryDirectory() as root, start_server(Path(root), token) as (_, url):
            row = asyncio.run(measure(url, token, args.calls, args.concurrency, args.max_seconds))
    row["machine"] = f"{platform.machine()}, {os.cpu_count()} cores, load {os.getloadavg()[0]:.1f}"
    print(json.dumps(row, indent=2))
    print("| calls | clients | p50 / p99 ms (all) | list_components | job_status | calls/s |")
    print("|---|---|---|---|---|---|")
    print(markdown(row))


if __name__ == "__main__":
    main()
