"""The fuzz suite's contract: every input ends in success or a one-line QGMError, never a traceback,
within ``SECONDS`` seconds and ``MEGABYTES`` MB of new memory.

:func:`bounded` enforces the budget inside this process: a real-time timer raises
:class:`OverBudget` (a ``BaseException``, so no ``except Exception`` in the library can
swallow it) and ``RLIMIT_AS`` caps the address space at its current size plus the
allowance, so an allocation beyond it fails (``MemoryError`` or torch's "can't allocate
memory") instead of succeeding. :func:`outcome` runs a call under the budget and
classifies what happened.
"""
from __future__ import annotations

import contextlib
import os
import resource
import signal
from typing import Any, Callable, Iterator

from qgm.errors import MAX_MESSAGE_CHARS, QGMError
from qgm.limits import MEMORY_ENV

#: Wall-clock seconds any one fuzz input may take (generous: the machine's cores are shared).
SECONDS = 20.0
#: New address space (MB) any one fuzz input may take.
MEGABYTES = 1536
#: ``QGM_FUZZ_SCALE=20 pytest tests/fuzz`` runs 20 times the examples of each hypothesis test (a long fuzz run).
SCALE = max(1, int(os.environ.get("QGM_FUZZ_SCALE", "1")))


def examples(n: int) -> int:
    """Hypothesis examples for a test: ``n`` times :data:`SCALE`."""
    return n * SCALE


def warm_up() -> None:
    """Import and run once, outside any budget, what the first input would otherwise pay for (torch's lazy
    imports take seconds on a loaded machine): the plugins, a built run with a schedule, the engine."""
    import torch

    from qgm import sim
    from qgm.circuits import Circuit
    from qgm.train import build_run

    build_run({"name": "warm", "dataset": {"name": "bas", "rows": 2, "cols": 2}, "model": "qcbm", "loss": "mmd",
               "optimizer": {"name": "adam", "lr": 0.1}, "schedule": "cosine", "train": {"plots": False}})
    sim.sample(Circuit(2).h(0).cx(0, 1), None, 3, generator=torch.Generator().manual_seed(0))


class OverBudget(BaseException):
    """Raised by :func:`bounded` when the time budget runs out."""


def _address_space() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[0]) * resource.getpagesize()


@contextlib.contextmanager
def bounded(seconds: float = SECONDS, megabytes: int = MEGABYTES) -> Iterator[None]:
    """Run the body within ``seconds`` of wall time and ``megabytes`` of new address space."""
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    cap = _address_space() + megabytes * 2**20
    resource.setrlimit(resource.RLIMIT_AS, (cap if hard == resource.RLIM_INFINITY else min(cap, hard), hard))

    def expire(signum: int, frame: Any) -> None:
        raise OverBudget(f"over {seconds} s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    budget = os.environ.get(MEMORY_ENV)
    os.environ[MEMORY_ENV] = f"{megabytes}MiB"  # the library's estimates refuse at the same allowance
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
        resource.setrlimit(resource.RLIMIT_AS, (soft, hard))
        if budget is None:
            os.environ.pop(MEMORY_ENV, None)
        else:
            os.environ[MEMORY_ENV] = budget


def outcome(call: Callable[[], Any], seconds: float = SECONDS, megabytes: int = MEGABYTES) -> tuple[str, Any]:
    """``("ok", result)`` or ``("error", QGMError)``; anything else (a traceback-worthy exception, the time or
    memory budget running out) fails the calling test with the input's description."""
    try:
        with bounded(seconds, megabytes):
            return "ok", call()
    except QGMError as exc:
        message = str(exc)
        assert "\n" not in message.strip(), f"multi-line QGMError: {message!r}"
        assert len(message) <= MAX_MESSAGE_CHARS + 40, f"QGMError of {len(message)} characters"
        return "error", exc
