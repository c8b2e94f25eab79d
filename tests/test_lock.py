"""The run-directory lock: one owner, named in the refusal; stale and unreadable locks broken with a note."""
import json
import logging
import os
import socket
import subprocess
import sys
import time

import pytest

from qgm.errors import ConfigError
from qgm.lock import LOCK_NAME, RunLock, lock_owner, owner_alive


def dead_pid() -> int:
    """The pid of a process that has exited."""
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def write_lock(folder, **owner):
    folder.mkdir(parents=True, exist_ok=True)
    record = {"pid": os.getpid(), "host": socket.gethostname(), "created": time.time(), **owner}
    (folder / LOCK_NAME).write_text(json.dumps(record))


def test_lock_holds_owner_and_is_released(tmp_path):
    run = tmp_path / "run"
    with RunLock(run) as lock:
        owner = lock_owner(run / LOCK_NAME)
        assert owner["pid"] == os.getpid() and owner["host"] == socket.gethostname() and owner_alive(owner)
        assert lock.path == run / LOCK_NAME
    assert not (run / LOCK_NAME).exists() and not run.exists()  # the lock made the folder; it was left empty


def test_a_live_owner_is_refused_by_name(tmp_path):
    run = tmp_path / "run"
    with RunLock(run):
        with pytest.raises(ConfigError, match=rf"^--out: {run} is in use by pid {os.getpid()} on host .*; wait for it"):
            RunLock(run).acquire()
    run.mkdir()
    write_lock(run, host="elsewhere.example")
    with pytest.raises(ConfigError, match="locked by pid .* on host elsewhere.example since .*, which this machine cannot check; "
                                          "if that process is gone, delete"):
        RunLock(run).acquire()


def test_stale_and_unreadable_locks_are_broken_with_a_note(tmp_path, caplog):
    run = tmp_path / "run"
    for owner in ({"pid": dead_pid()}, {"pid": os.getpid(), "created": time.time() - 10**8}):
        write_lock(run, **owner)  # a gone process; a reused pid (this process started after the lock)
        with caplog.at_level(logging.WARNING, logger="qgm"), RunLock(run):
            assert lock_owner(run / LOCK_NAME)["created"] > time.time() - 60
        assert "removed a stale lock of pid" in caplog.text
        caplog.clear()
    (run / LOCK_NAME).write_text("{not json")
    with caplog.at_level(logging.WARNING, logger="qgm"), RunLock(run):
        pass
    assert "removed an unreadable lock" in caplog.text
    assert run.is_dir()  # the folder existed before: it stays


def test_a_file_or_an_impossible_folder_is_refused(tmp_path):
    (tmp_path / "f").write_text("x")
    with pytest.raises(ConfigError, match="is a file, not a folder"):
        RunLock(tmp_path / "f").acquire()
    with pytest.raises(ConfigError, match="^--out: cannot create the folder /proc/x/run"):
        RunLock("/proc/x/run").acquire()
