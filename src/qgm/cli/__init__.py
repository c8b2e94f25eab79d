"""The ``qgm`` command line: parse, call the library, print.

Sub-commands live in the modules of :data:`COMMAND_MODULES`, each registering
its commands with :func:`qgm.cli.core.command` (see there); adding a command
group is one module and one line here.

Exit codes: 0 success, 2 for a :class:`~qgm.errors.QGMError` (one line on
stderr, no traceback unless ``--debug``), 130 on Ctrl-C.
"""
from __future__ import annotations

import argparse
import importlib
import os
import sys
from typing import Optional, Sequence

from qgm.cli.core import COMMANDS, Command, command
from qgm.errors import ConfigError, QGMError

__all__ = ["main", "command", "Command", "COMMANDS", "COMMAND_MODULES", "build_parser"]

#: Modules whose import registers the sub-commands, in ``qgm --help`` order.
COMMAND_MODULES = (
    "qgm.cli.runs",
    "qgm.cli.lab",
    "qgm.cli.reproduce",
    "qgm.cli.sweep",
    "qgm.cli.report",
    "qgm.cli.art",
    "qgm.cli.molecules",
    "qgm.cli.diffusion",
    "qgm.cli.serve",
)

for _module in COMMAND_MODULES:
    importlib.import_module(_module)


# ---------------------------------------------------------------------------- entry
#: Environment variable with the default of ``--threads``.
THREADS_ENV = "QGM_THREADS"


def _set_threads(threads: Optional[int]) -> None:
    """``torch.set_num_threads`` from ``--threads``, else ``$QGM_THREADS``, else 1."""
    import torch

    if threads is None:
        raw = os.environ.get(THREADS_ENV, "1")
        try:
            threads = int(raw)
        except ValueError:
            raise ConfigError(f"{THREADS_ENV}={raw!r}: expected a positive integer number of threads") from None
    if threads < 1:
        raise ConfigError(f"--threads: expected a positive integer, got {threads}")
    torch.set_num_threads(threads)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every sub-command of :data:`COMMANDS`."""
    parser = argparse.ArgumentParser(prog="qgm", description="Train and measure quantum generative models.")
    parser.add_argument("--debug", action="store_true", help="show tracebacks of errors")
    parser.add_argument(
        "--threads", type=int, default=None, metavar="N",
        help=f"torch CPU threads (default ${THREADS_ENV} or 1: the engine's many small operations "
        "run fastest on one thread, and extra threads stall when other jobs share the cores)",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for cmd in COMMANDS.values():
        p = sub.add_parser(cmd.name, help=cmd.help, description=cmd.help)
        p.add_argument("--debug", action="store_true", default=argparse.SUPPRESS, help="show tracebacks of errors")
        cmd.configure(p)
    return parser


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Run ``qgm`` with ``argv`` (default ``sys.argv[1:]``); the exit code."""
    args = build_parser().parse_args(argv)
    try:
        _set_threads(args.threads)
        return COMMANDS[args.command].run(args)
    except QGMError as exc:
        if args.debug:
            raise
        print(f"qgm {args.command}: error: {' '.join(str(exc).split())}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"qgm {args.command}: interrupted", file=sys.stderr)
        return 130
