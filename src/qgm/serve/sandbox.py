"""The processes jobs and calls run in: forked from a server with the library loaded, fenced in.

Processes come from a ``forkserver`` (where the platform has one) that imported
qgm once, so a job starts in tens of milliseconds instead of re-importing torch.
Inside, :func:`enter` makes the process

* die with the server (a thread waiting on the server's pidfd on Linux, polling its pid
  elsewhere), so a killed server leaves no job writing into its run directory;
* write its output to a log file, never to the server's stdout (the stdio transport);
* work in its job's folder, so whatever the library writes to a relative path stays there;
* use one torch thread;
* stay within ``memory_mb`` MiB of address space beyond what the loaded library
  already maps (``RLIMIT_AS``; Linux), so a request that slipped past the size
  checks fails with an error instead of exhausting the machine.

:func:`call` runs one function in such a process and returns its value, within
a wall-time limit; :func:`failure` turns any exception into the one-line
message a client sees.
"""
from __future__ import annotations

import contextlib
import multiprocessing
import os
import select
import sys
import threading
import time
import traceback
from dataclasses import dataclass, field
from multiprocessing.context import BaseContext
from typing import Any, Callable, Optional

import qgm.errors as errors
from qgm.errors import QGMError, ResourceError

__all__ = ["Sandbox", "process_context", "warm", "enter", "call", "failure", "PRELOAD"]

#: Modules the fork server imports once (see :mod:`qgm.serve.preload`).
PRELOAD = ("qgm.serve.preload",)

_context: Optional[BaseContext] = None
_context_lock = threading.Lock()


def process_context() -> BaseContext:
    """The multiprocessing context of jobs and calls: ``forkserver`` preloading qgm, else ``spawn``."""
    global _context
    with _context_lock:
        if _context is None:
            if "forkserver" in multiprocessing.get_all_start_methods():
                ctx = multiprocessing.get_context("forkserver")
                ctx.set_forkserver_preload(list(PRELOAD))
                _context = ctx
            else:
                _context = multiprocessing.get_context("spawn")
        return _context


def warm() -> None:
    """Start the fork server now (it imports qgm once), so the first job does not wait for it."""
    if process_context().get_start_method() == "forkserver":
        from multiprocessing import forkserver

        forkserver.ensure_running()


@dataclass(frozen=True)
class Sandbox:
    """How a job or call process is fenced: its ``log`` file, its ``memory_mb`` beyond the loaded library,
    its working folder ``cwd`` (created; relative paths the library writes to land there) and the
    ``server_pid`` it dies with (default: the process that makes the sandbox, i.e. the server)."""

    log: str
    memory_mb: int
    cwd: str
    server_pid: int = field(default_factory=os.getpid)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
        return True
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by someone else
        return True


def _die_with(server_pid: int) -> None:
    """End this process (``os._exit``) as soon as process ``server_pid`` ends: a thread blocks on a pidfd
    (Linux) or polls the pid every second. The fork server is no watchdog: it outlives the server while
    any of its children does."""
    try:
        pidfd: Optional[int] = os.pidfd_open(server_pid)
    except (AttributeError, OSError):
        pidfd = None
    if not _alive(server_pid):
        os._exit(1)

    def watch() -> None:
        if pidfd is not None:
            select.select([pidfd], [], [])
        else:
            while _alive(server_pid):
                time.sleep(1.0)
        os._exit(1)

    threading.Thread(target=watch, daemon=True, name="qgm-server-watch").start()


def _redirect_output(log: str) -> None:
    fd = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    sys.stdout.flush()
    sys.stderr.flush()
    os.dup2(fd, 1)
    os.dup2(fd, 2)
    os.close(fd)


def _mapped_bytes() -> Optional[int]:
    """Address space this process maps now (Linux ``/proc/self/statm``), or None where unknown."""
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError):
        return None


def _limit_memory(memory_mb: int) -> None:
    import resource

    mapped = _mapped_bytes()
    if mapped is None or not hasattr(resource, "RLIMIT_AS"):
        return
    cap = mapped + (int(memory_mb) << 20)
    with contextlib.suppress(ValueError, OSError):
        resource.setrlimit(resource.RLIMIT_AS, (cap, cap))


def enter(sandbox: Sandbox) -> None:
    """Fence the current (child) process in ``sandbox`` (see the module docstring)."""
    _die_with(sandbox.server_pid)
    _redirect_output(sandbox.log)
    os.makedirs(sandbox.cwd, exist_ok=True)
    os.chdir(sandbox.cwd)
    import torch

    torch.set_num_threads(1)
    _limit_memory(sandbox.memory_mb)


def _out_of_memory(exc: BaseException) -> bool:
    text = str(exc)
    return (isinstance(exc, MemoryError) and not isinstance(exc, QGMError)) or (
        isinstance(exc, RuntimeError) and ("can't allocate memory" in text or "DefaultCPUAllocator" in text)
    )


def failure(exc: BaseException, memory_mb: int) -> tuple[str, str]:
    """``(error class name, one-line message)`` of ``exc`` for the client; unexpected errors go to the log."""
    if isinstance(exc, QGMError):
        return type(exc).__name__, " ".join(str(exc).split())
    if _out_of_memory(exc):
        return "ResourceError", (f"limits.max_memory_mb: the process needed more than its {memory_mb} MiB; "
                                 "ask for a smaller register, fewer samples or a smaller batch")
    traceback.print_exc()
    return "QGMError", f"internal error {type(exc).__name__}: {' '.join(str(exc).split())} (see the job log)"


def _call_child(fn: Callable[..., Any], args: tuple[Any, ...], sandbox: Sandbox, conn: Any) -> None:
    enter(sandbox)
    try:
        conn.send(("ok", fn(*args)))
    except BaseException as exc:  # every failure becomes the client's one-line error
        conn.send(("error", *failure(exc, sandbox.memory_mb)))
    finally:
        conn.close()


def call(fn: Callable[..., Any], args: tuple[Any, ...], *, sandbox: Sandbox, timeout: float) -> Any:
    """``fn(*args)`` in a fenced process; its value, or its error re-raised (as the same QGMError class).

    ``fn`` must be importable by name (a module-level function) and return picklable data. A call
    running past ``timeout`` seconds is killed and refused with ``limits.max_call_s``.
    """
    ctx = process_context()
    receive, send = ctx.Pipe(duplex=False)
    proc = ctx.Process(target=_call_child, args=(fn, args, sandbox, send), name=f"qgm-call-{fn.__name__}")
    proc.start()
    send.close()
    try:
        if not receive.poll(timeout):
            raise ResourceError(f"limits.max_call_s: {fn.__name__} ran longer than {timeout:g} s and was stopped; "
                                "ask for fewer samples")
        try:
            answer = receive.recv()
        except EOFError:
            proc.join(5.0)
            raise QGMError(f"{fn.__name__}: its process ended without an answer (exit code {proc.exitcode})") from None
    finally:
        if proc.is_alive():
            proc.kill()
        proc.join()
        receive.close()
    if answer[0] == "ok":
        return answer[1]
    cls = getattr(errors, answer[1], QGMError)
    raise (cls if isinstance(cls, type) and issubclass(cls, QGMError) else QGMError)(answer[2])
