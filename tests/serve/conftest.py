"""Fixtures of the MCP server tests: a service, a loopback HTTP server in a thread, tiny configs.

Every test talks to the server through the official SDK's client (``mcp.Client``)
over streamable HTTP on 127.0.0.1 or over stdio; nothing is mocked. The
server's jobs run in real processes. Helpers from ``examples/agent_loop.py``
(``connect``, ``call``, ``wait_done``) and ``benchmarks/serve_load.py``
(``start_server``) are the ones users run.
"""
from __future__ import annotations

import asyncio
import sys
import threading
import time
from pathlib import Path
from typing import Any, Callable, Iterator

import pytest

ROOT = Path(__file__).resolve().parents[2]
for _folder in ("examples", "benchmarks"):
    if str(ROOT / _folder) not in sys.path:
        sys.path.insert(0, str(ROOT / _folder))

pytest.importorskip("mcp")

import uvicorn  # noqa: E402
from agent_loop import call, connect, wait_done  # noqa: E402

from qgm.serve import Limits, Service, build_server  # noqa: E402
from serve_load import TINY, free_port  # noqa: E402

#: Tokens of the two HTTP clients of the thread server.
TOKENS = {"agent": "agent-token-0123456789abcdef", "other": "other-token-0123456789abcdef"}

class ThreadServer:
    """``build_server(service, tokens=...)`` served by uvicorn on a free loopback port in a thread."""

    def __init__(self, service: Service, tokens: dict[str, str]) -> None:
        port = free_port()
        self.url = f"http://127.0.0.1:{port}/mcp"
        app = build_server(service, tokens=tokens, url=f"http://127.0.0.1:{port}").streamable_http_app()
        self.server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
        self.thread = threading.Thread(target=self.server.run, daemon=True, name="qgm-test-http")

    def __enter__(self) -> "ThreadServer":
        self.thread.start()
        deadline = time.monotonic() + 120
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("the test HTTP server did not start")
            time.sleep(0.05)
        return self

    def __exit__(self, *exc: Any) -> None:
        self.server.should_exit = True
        self.thread.join(30)


def run(coro_fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """``asyncio.run(coro_fn(*args, **kwargs))``: each test drives its own event loop."""
    return asyncio.run(coro_fn(*args, **kwargs))


async def tool(url: str, name: str, token: str = TOKENS["agent"], **arguments: Any) -> Any:
    """One tool call on a fresh connection: the ``CallToolResult``."""
    async with connect(url, token) as client:
        return await client.call_tool(name, arguments)


async def train_and_wait(url: str, config: str = TINY, token: str = TOKENS["agent"], **arguments: Any) -> dict:
    """Train ``config`` and poll until the job ends; its last status."""
    async with connect(url, token) as client:
        job_id = (await call(client, "train", config=config, **arguments))["job_id"]
        return await wait_done(client, job_id, poll_s=0.2, log=lambda _: None)


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Service]:
    """A service with its own root (one running job at a time); its scheduler and fork server started."""
    svc = Service(tmp_path_factory.mktemp("serve"), Limits(max_running_jobs=1, max_jobs_per_client=6))
    svc.start()
    yield svc
    svc.close()


@pytest.fixture(scope="module")
def http(service: Service) -> Iterator[str]:
    """The MCP URL of ``service`` over streamable HTTP on 127.0.0.1, with the clients of :data:`TOKENS`."""
    with ThreadServer(service, TOKENS) as server:
        yield server.url


@pytest.fixture(scope="module")
def tiny_run(http: str) -> dict:
    """The status of a finished :data:`TINY` job of client ``agent``."""
    status = run(train_and_wait, http)
    assert status["state"] == "done", status
    return status
