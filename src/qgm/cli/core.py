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
from dataclasses import dataclass
from typing import Callable

__all__ = ["Command", "COMMANDS", "command"]


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
