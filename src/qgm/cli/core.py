"""The sub-command table of the ``qgm`` command line.

A sub-command is one function pair in a module of :data:`qgm.cli.COMMAND_MODULES`::

    def _geometry_args(p: argparse.ArgumentParser) -> None:
        p.add_argument("CONFIG")

    @command("geometry", "metric tensor, expressibility and entanglement of a circuit", _geometry_args)
    def _geometry(args: argparse.Namespace) -> int:
        ...
        return 0
"""
from __future__ import annotations

import argparse
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Optional

from qgm.errors import ConfigError

__all__ = ["Command", "COMMANDS", "command", "output_file"]


@dataclass(frozen=True)
class Command:
    """A sub-command: ``configure`` adds its arguments, ``run`` does the work and returns the exit code."""

    name: str
    help: str
    configure: Callable[[argparse.ArgumentParser], None]
    run: Callable[[argparse.Namespace], int]


#: Sub-commands in the order ``qgm --help`` lists them.
COMMANDS: dict[str, Command] = {}


def command(
    name: str, help: str, configure: Callable[[argparse.ArgumentParser], None]
) -> Callable[[Callable[[argparse.Namespace], int]], Callable[[argparse.Namespace], int]]:
    """Decorator adding ``run`` as sub-command ``name`` to :data:`COMMANDS`."""

    def deco(run: Callable[[argparse.Namespace], int]) -> Callable[[argparse.Namespace], int]:
        if name in COMMANDS:
            raise ValueError(f"sub-command {name!r} is defined twice")
        COMMANDS[name] = Command(name, help, configure, run)
        return run

    return deco


def output_file(path: str, field: str, suffix: Optional[str] = None) -> Path:
    """``path`` (``suffix`` appended when it has another) after making sure a file can be written there.

    Run before the work, so a long computation never ends on an unwritable path: refuses a folder,
    creates the missing parent folders and writes (and removes) a probe file in the last one; every
    failure is a ConfigError naming ``field``.
    """
    out = Path(path)
    if os.path.isdir(out):
        raise ConfigError(f"{field}: {out} is a folder; give a file name")
    if suffix is not None and out.suffix != suffix:
        out = out.with_name(out.name + suffix)
        if os.path.isdir(out):
            raise ConfigError(f"{field}: {out} is a folder; give a file name")
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=out.parent):
            pass
    except OSError as exc:
        raise ConfigError(f"{field}: cannot write {out} ({exc.strerror or exc}); choose a writable path") from None
    if os.path.lexists(out) and not os.path.isfile(out):
        raise ConfigError(f"{field}: {out} exists and is not a regular file; choose another path")
    return out
