"""Atomic, durable file writes: the one helper every writer of run files uses.

A write goes to a temporary file in the target's folder, is flushed and
``fsync``-ed, then renamed over the target with ``os.replace`` and the folder
is ``fsync``-ed, so a crash leaves either the old file or the new one, never a
torn mix, and a finished write survives a power cut.
"""
from __future__ import annotations

import contextlib
import json
import os
import tempfile
from typing import IO, Any, Callable, Union

import numpy as np
import torch

from qgm.errors import ConfigError

__all__ = [
    "atomic_write", "atomic_text", "atomic_json", "atomic_torch_save", "atomic_npy", "atomic_savefig", "fsync_dir",
    "make_folder",
]

PathLike = Union[str, "os.PathLike[str]"]


def make_folder(folder: PathLike, field: str, what: str = "the run") -> bool:
    """Create ``folder`` (and its parents) unless it exists; whether it was created. A ConfigError naming ``field``
    when it is a file or cannot be created."""
    name = os.fspath(folder)
    if os.path.lexists(name) and not os.path.isdir(name):
        raise ConfigError(f"{field}: {name} is a file, not a folder; give a folder for {what}")
    made = not os.path.lexists(name)
    try:
        os.makedirs(name, exist_ok=True)
    except OSError as exc:
        raise ConfigError(f"{field}: cannot create the folder {name} ({exc.strerror}); choose a writable path") from None
    return made


def fsync_dir(folder: PathLike) -> None:
    """``fsync`` a folder so a rename inside it is durable (a no-op where folders cannot be opened)."""
    try:
        fd = os.open(os.fspath(folder), os.O_RDONLY)
    except OSError:
        return
    try:
        with contextlib.suppress(OSError):  # some file systems refuse fsync on folders; the rename stays atomic
            os.fsync(fd)
    finally:
        os.close(fd)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def atomic_write(path: PathLike, write: Callable[[IO[bytes]], None]) -> None:
    """Call ``write(f)`` on a temporary binary file, then move it onto ``path`` atomically and durably."""
    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=".tmp-", suffix=os.path.splitext(path)[1])
    try:
        with os.fdopen(fd, "wb") as f:
            os.fchmod(f.fileno(), 0o666 & ~_umask())  # the mode a plain open() would give, not mkstemp's 0600
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise
    fsync_dir(folder)


def atomic_text(path: PathLike, text: str) -> None:
    """Write UTF-8 ``text`` to ``path`` atomically."""
    atomic_write(path, lambda f: f.write(text.encode("utf-8")))


def atomic_json(path: PathLike, data: Any) -> None:
    """Write ``data`` as indented JSON (trailing newline) to ``path`` atomically."""
    atomic_text(path, json.dumps(data, indent=2) + "\n")


def atomic_torch_save(obj: Any, path: PathLike) -> None:
    """``torch.save(obj)`` to ``path`` atomically (loadable with ``torch.load(weights_only=True)``)."""
    atomic_write(path, lambda f: torch.save(obj, f))


def atomic_npy(path: PathLike, array: np.ndarray) -> None:
    """``np.save(array)`` (no pickles) to ``path`` atomically."""
    atomic_write(path, lambda f: np.save(f, np.asarray(array), allow_pickle=False))


def atomic_savefig(fig: Any, path: PathLike, **kwargs: Any) -> None:
    """``fig.savefig`` (a Matplotlib figure) to ``path`` atomically; the format comes from the suffix (default png)."""
    fmt = kwargs.pop("format", None) or (os.path.splitext(os.fspath(path))[1][1:].lower() or "png")
    atomic_write(path, lambda f: fig.savefig(f, format=fmt, **kwargs))
