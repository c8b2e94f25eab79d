"""The ``qgm`` command line: parse, call the library, print.

Sub-commands live in the modules of :data:`COMMAND_MODULES`, each registering
its commands with :func:`qgm.cli.core.command` (see there); adding a command
group is one module and one line here.

Global options (``--debug``, ``--threads``) are accepted before or after the
sub-command. Notes the library logs (a dropped truncated metrics line, a broken
stale lock, a damaged checkpoint skipped) print as ``qgm CMD: note: ...``.

Exit codes: 0 success, 2 for a :class:`~qgm.errors.QGMError` (one line on
stderr, no traceback unless ``--debug``), 1 for an operating-system error (disk
full, permission denied) or running out of memory (one line), 130 on Ctrl-C,
141 when the reader of stdout went away (``qgm list --json | head -1``).
"""
from __future__ import annotations

import argparse
import importlib
import logging
import os
import sys
from typing import Optional, Sequence

from qgm.cli.core import COMMANDS, Command, command
from qgm.errors import ConfigError, QGMError, brief

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
            raise ConfigError(f"{THREADS_ENV}={brief(raw)}: expected a positive integer number of threads") from None
    if not 1 <= threads <= 4096:
        raise ConfigError(f"--threads: expected a positive integer (at most 4096), got {threads}")
    torch.set_num_threads(threads)


def _global_options(parser: argparse.ArgumentParser, top: bool) -> None:
    """``--debug`` and ``--threads`` (on sub-commands with suppressed defaults, so either place works)."""
    parser.add_argument("--debug", action="store_true", default=False if top else argparse.SUPPRESS,
                        help="show tracebacks of errors")
    parser.add_argument(
        "--threads", type=int, default=None if top else argparse.SUPPRESS, metavar="N",
        help=f"torch CPU threads (default ${THREADS_ENV} or 1: the engine's many small operations "
        "run fastest on one thread, and extra threads stall when other jobs share the cores)",
    )


def _version() -> str:
    from qgm import __version__

    return f"qgm {__version__}"


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every sub-command of :data:`COMMANDS`."""
    parser = argparse.ArgumentParser(prog="qgm", description="Train and measure quantum generative models.")
    parser.add_argument("--version", action="version", version=_version())
    _global_options(parser, top=True)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for cmd in COMMANDS.values():
        p = sub.add_parser(cmd.name, help=cmd.help, description=cmd.help)
        _global_options(p, top=False)
        cmd.configure(p)
    return parser


def _notes(name: str) -> logging.Handler:
    """A handler printing the library's logged notes as ``qgm CMD: note: ...`` on stderr."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter(f"{name}: note: %(message)s"))
    handler.setLevel(logging.INFO)
    return handler


def _silence_stdout() -> None:
    """Point stdout at /dev/null after its reader went away (no second error at exit)."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):  # stdout without a file descriptor (captured)
        pass


def _out_of_memory(exc: BaseException) -> bool:
    """Whether ``exc`` is a failed allocation: Python's MemoryError or torch's allocator refusing a tensor."""
    return isinstance(exc, MemoryError) or "can't allocate memory" in str(exc) or "out of memory" in str(exc)


def _os_error(exc: OSError) -> str:
    where = f": {exc.filename}" if exc.filename else ""
    return f"{exc.strerror or str(exc)[:200]}{where}"


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Run ``qgm`` with ``argv`` (default ``sys.argv[1:]``); the exit code."""
    args = build_parser().parse_args(argv)
    name = f"qgm {args.command}"
    logger, handler, level = logging.getLogger("qgm"), _notes(name), logging.getLogger("qgm").level
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    try:
        _set_threads(args.threads)
        code = COMMANDS[args.command].run(args)
        sys.stdout.flush()
        return code
    except QGMError as exc:
        if args.debug:
            raise
        print(f"{name}: error: {' '.join(str(exc).split())}", file=sys.stderr)
        return 2
    except BrokenPipeError:
        _silence_stdout()
        return 141
    except KeyboardInterrupt:
        print(f"{name}: interrupted", file=sys.stderr)
        return 130
    except (MemoryError, RuntimeError) as exc:
        if args.debug or not _out_of_memory(exc):
            raise
        print(f"{name}: error: out of memory; use smaller sizes, or set QGM_MEMORY_LIMIT so that qgm refuses such "
              "work before it starts", file=sys.stderr)
        return 1
    except OSError as exc:
        if args.debug:
            raise
        print(f"{name}: error: {_os_error(exc)}", file=sys.stderr)
        return 1
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)
