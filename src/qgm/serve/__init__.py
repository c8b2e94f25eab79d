"""qgm as a tool for AI agents: an MCP server with jobs, limits and authentication.

``qgm serve`` (stdio) or ``qgm serve --http --port N`` exposes qgm through the
Model Context Protocol (official Python SDK, extra ``serve``). Modules, one
concept each:

* :mod:`~qgm.serve.server` - the MCP tools and resources, the transports;
* :mod:`~qgm.serve.service` - what each tool does, per client;
* :mod:`~qgm.serve.configs` - tool requests to validated job payloads;
* :mod:`~qgm.serve.limits` - per-request limits and the checks applying them;
* :mod:`~qgm.serve.jobs` - the queue: concurrency limit, processes, wall time;
* :mod:`~qgm.serve.table` - the persisted job table;
* :mod:`~qgm.serve.sandbox` - the fenced processes jobs and calls run in;
* :mod:`~qgm.serve.worker` - what runs inside them;
* :mod:`~qgm.serve.progress` - job status, progress and ETA;
* :mod:`~qgm.serve.artifacts` - run files served as resources;
* :mod:`~qgm.serve.catalog` - components and example configs;
* :mod:`~qgm.serve.auth` - bearer tokens and client identity.
"""
from qgm.serve.limits import Limits
from qgm.serve.server import build_server, serve_http, serve_stdio
from qgm.serve.service import Service

__all__ = ["Limits", "Service", "build_server", "serve_stdio", "serve_http"]
