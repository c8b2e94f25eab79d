"""``qgm serve``: qgm as an MCP server for AI agents (stdio, or streamable HTTP with a bearer token)."""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from qgm.cli.core import command
from qgm.errors import ConfigError

#: Default folder of the job table and the jobs' run directories.
DEFAULT_ROOT = Path("runs") / "serve"


def _serve_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--http", action="store_true", help="serve streamable HTTP at http://HOST:PORT/mcp (default: stdio)")
    p.add_argument("--host", default="127.0.0.1", help="HTTP address to listen on (default 127.0.0.1; any other "
                   "than loopback needs a token)")
    p.add_argument("--port", type=int, default=8000, help="HTTP port (default 8000)")
    p.add_argument("--token", help="bearer token HTTP clients must send (default $QGM_TOKEN; prefer the variable: "
                   "a command line is visible to other users)")
    p.add_argument("--tokens", metavar="FILE", help="YAML/JSON file {client name: token} for several HTTP clients "
                   "(each client sees and is limited on its own jobs)")
    p.add_argument("--root", default=str(DEFAULT_ROOT), metavar="DIR",
                   help=f"folder of the job table and run directories (default {DEFAULT_ROOT})")
    p.add_argument("--examples", metavar="DIR", help="folder of example configs offered by name "
                   "(default: examples/ of the source tree)")
    p.add_argument("--limit", dest="limits", action="append", default=[], metavar="NAME=VALUE",
                   help="a per-request limit, e.g. --limit max_qubits=12 --limit max_running_jobs=2 "
                   "(names in docs/serve.md); repeatable")


@command("serve", "serve qgm to AI agents over MCP: train jobs, sampling, evaluation (stdio or --http)", _serve_args)
def _serve(args: argparse.Namespace) -> int:
    from qgm.serve import Limits, Service, serve_http, serve_stdio
    from qgm.serve.auth import TOKEN_ENV, check_bind, load_tokens
    from qgm.serve.server import http_url

    token = args.token if args.token is not None else os.environ.get(TOKEN_ENV) if args.http else None
    if not args.http and (args.token is not None or args.tokens is not None):
        raise ConfigError("--token/--tokens: tokens guard HTTP; add --http, or drop them (stdio serves its parent)")
    if not 0 < args.port < 65536:
        raise ConfigError(f"--port: expected 1-65535, got {args.port}")
    tokens = load_tokens(token, args.tokens)
    if args.http:
        check_bind(args.host, tokens)
    limits = Limits.from_pairs(args.limits)
    service = Service(args.root, limits, Path(args.examples) if args.examples else None)
    where = f"streamable HTTP at {http_url(args.host, args.port)}/mcp" if args.http else "stdio"
    guard = f"{len(tokens)} client token(s)" if tokens else "no token (loopback only)" if args.http else "its parent process"
    print(f"qgm serve: MCP over {where}, serving {guard}; jobs in {Path(args.root).resolve()}", file=sys.stderr)
    try:
        if args.http:
            serve_http(service, args.host, args.port, tokens)
        else:
            serve_stdio(service)
    finally:
        service.close()
    return 0
