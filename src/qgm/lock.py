"""One writer per run directory: a lock file holding the owner's pid and host.

``RunLock(folder)`` creates ``folder/.lock`` with ``{"pid", "host", "created",
"command"}``; the file appears complete or not at all (written to a temporary
file, fsync-ed, then hard-linked to its name, which fails if the name exists).
A second process that finds the lock

* refuses with a one-line :class:`~qgm.errors.ConfigError` naming the owner when
  the owner is alive on this host, or runs on another host (which it cannot check);
* breaks the lock with a logged message when the owner is gone (no such pid, or
  the pid now belongs to a process started after the lock was written), or when
  the lock file is unreadable, and takes it.

Releasing removes the lock (and the folder again when the lock made it and it
is still empty).
"""
from __future__ import annotations

import contextlib
import json
import logging
import os
import socket
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Optional, Union

from qgm.atomic import make_folder
from qgm.errors import ConfigError

__all__ = ["RunLock", "LOCK_NAME", "lock_owner", "owner_alive"]

#: File name of the lock inside the locked folder.
LOCK_NAME = ".lock"
_log = logging.getLogger("qgm")


def lock_owner(path: Union[str, "os.PathLike[str]"]) -> Optional[dict[str, Any]]:
    """The owner record of lock file ``path``; None when it is missing or unreadable."""
    try:
        with open(path, "rb") as f:
            data = json.loads(f.read(4096).decode("utf-8"))
    except (OSError, ValueError):
        return None
    ok = isinstance(data, dict) and isinstance(data.get("pid"), int) and isinstance(data.get("host"), str)
    return data if ok else None


def _process_start(pid: int) -> Optional[float]:
    """Start time (epoch seconds) of process ``pid`` from ``/proc`` (None where unavailable)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            ticks = int(f.read().rsplit(")", 1)[1].split()[19])
        with open("/proc/stat") as f:
            boot = next(int(line.split()[1]) for line in f if line.startswith("btime"))
        return boot + ticks / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError, StopIteration):
        return None


def owner_alive(owner: dict[str, Any]) -> Optional[bool]:
    """True if the lock's owner runs, False if it is gone, None if it runs on another host."""
    if owner["host"] != socket.gethostname():
        return None
    pid = owner["pid"]
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # a process of another user has this pid
        pass
    except (OSError, OverflowError):
        return False
    started = _process_start(pid)
    created = owner.get("created")
    # a pid reused by a process that started after the lock was written is not the owner
    return not (started is not None and isinstance(created, (int, float)) and started > created + 1.0)


def _describe(owner: dict[str, Any]) -> str:
    since = owner.get("created")
    when = time.strftime(" since %Y-%m-%d %H:%M:%S", time.localtime(since)) if isinstance(since, (int, float)) else ""
    command = owner.get("command")
    return f"pid {owner['pid']} on host {owner['host']}{when}" + (f" ({str(command)[:80]})" if command else "")


class RunLock:
    """Context manager holding ``folder/.lock`` (see the module docstring); ``field`` names the folder in errors."""

    def __init__(self, folder: Union[str, "os.PathLike[str]"], field: str = "--out") -> None:
        self.folder, self.field = Path(folder), field
        self.path = self.folder / LOCK_NAME
        self._payload: Optional[bytes] = None
        self._made_folder = False

    def _record(self) -> bytes:
        command = " ".join(Path(a).name if i == 0 else a for i, a in enumerate(sys.argv))[:200]
        return json.dumps({"pid": os.getpid(), "host": socket.gethostname(), "created": time.time(),
                           "command": command}).encode("utf-8")

    def _create(self, payload: bytes) -> bool:
        """Create the lock file holding ``payload``; False if it exists."""
        fd, tmp = tempfile.mkstemp(dir=self.folder, prefix=".lock-")
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(payload)
                f.flush()
                os.fsync(f.fileno())
            try:
                os.link(tmp, self.path)
            except FileExistsError:
                return False
            except OSError:  # no hard links on this file system: exclusive create instead
                try:
                    fd2 = os.open(self.path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
                except FileExistsError:
                    return False
                with os.fdopen(fd2, "wb") as f:
                    f.write(payload)
                    f.flush()
                    os.fsync(f.fileno())
            return True
        finally:
            with contextlib.suppress(OSError):
                os.unlink(tmp)

    def _break_if_unchanged(self, seen: Optional[bytes]) -> None:
        with contextlib.suppress(OSError):
            if self.path.read_bytes() == seen:
                self.path.unlink()

    def acquire(self) -> "RunLock":
        """Take the lock (refusing or breaking an existing one as the module docstring says)."""
        self._made_folder = make_folder(self.folder, self.field)
        payload = self._record()
        for _ in range(5):
            try:
                created = self._create(payload)
            except OSError as exc:
                raise ConfigError(f"{self.field}: cannot write into {self.folder} ({exc.strerror}); "
                                  "choose a writable folder") from None
            if created:
                self._payload = payload
                return self
            try:
                seen: Optional[bytes] = self.path.read_bytes()
            except FileNotFoundError:
                continue
            except OSError:
                seen = None
            owner = lock_owner(self.path)
            alive = None if owner is None else owner_alive(owner)
            if owner is not None and alive:
                raise ConfigError(f"{self.field}: {self.folder} is in use by {_describe(owner)}; "
                                  "wait for it to finish or stop it")
            if owner is not None and alive is None:
                raise ConfigError(f"{self.field}: {self.folder} is locked by {_describe(owner)}, which this machine "
                                  f"cannot check; if that process is gone, delete {self.path}")
            what = "an unreadable lock" if owner is None else f"a stale lock of {_describe(owner)} (the process is gone)"
            _log.warning("%s: removed %s", self.folder, what)
            self._break_if_unchanged(seen)
        raise ConfigError(f"{self.field}: could not lock {self.folder} (other processes keep taking it); try again")

    def release(self) -> None:
        """Remove the lock if this object holds it (and the folder it made, if still empty)."""
        if self._payload is None:
            return
        self._break_if_unchanged(self._payload)
        self._payload = None
        if self._made_folder:
            with contextlib.suppress(OSError):
                self.folder.rmdir()

    def __enter__(self) -> "RunLock":
        return self.acquire()

    def __exit__(self, *exc: Any) -> None:
        self.release()
