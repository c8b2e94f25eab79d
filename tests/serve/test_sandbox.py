"""The fenced processes of jobs and calls: answers, errors, memory and wall-time limits."""
from __future__ import annotations

import math
import os
import subprocess
import sys
import threading
import time

import numpy as np
import pytest

from qgm.errors import ConfigError, QGMError, ResourceError
from qgm.serve.sandbox import Sandbox, call
from qgm.serve.worker import samples_json
from qgm.train.config import parse_config


def test_call_returns_the_value_and_reraises_qgm_errors(tmp_path):
    box = Sandbox(str(tmp_path / "calls.log"), memory_mb=512, cwd=str(tmp_path / "work"))
    assert call(math.comb, (10, 3), sandbox=box, timeout=120) == 120
    assert call(os.getcwd, (), sandbox=box, timeout=120) == str(tmp_path / "work")  # relative writes stay there
    with pytest.raises(ConfigError, match="^name: required key missing$"):
        call(parse_config, ({},), sandbox=box, timeout=120)


def test_call_memory_and_time_limits(tmp_path):
    box = Sandbox(str(tmp_path / "calls.log"), memory_mb=64, cwd=str(tmp_path))
    with pytest.raises(ResourceError, match="limits.max_memory_mb: the process needed more than its 64 MiB"):
        call(np.ones, ((1 << 28,),), sandbox=box, timeout=120)  # 2 GiB of float64
    start = time.monotonic()
    with pytest.raises(ResourceError, match="limits.max_call_s: sleep ran longer than 1 s"):
        call(time.sleep, (60,), sandbox=box, timeout=1.0)
    assert time.monotonic() - start < 30


def test_processes_die_with_their_server(tmp_path):
    server = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(300)"])
    box = Sandbox(str(tmp_path / "calls.log"), memory_mb=256, cwd=str(tmp_path), server_pid=server.pid)
    threading.Timer(3.0, server.kill).start()
    start = time.monotonic()
    with pytest.raises(QGMError, match="sleep: its process ended without an answer"):
        call(time.sleep, (200,), sandbox=box, timeout=150)
    assert time.monotonic() - start < 100
    server.wait()


def test_samples_json_forms():
    bits = np.array([[1, 0, 1], [1, 0, 1], [0, 0, 1]])
    out = samples_json(bits)
    assert out["bitstrings"] == ["101", "101", "001"] and out["counts"] == {"101": 2, "001": 1}
    assert out["shape"] == [3, 3] and out["samples"] == bits.tolist()
    real = samples_json(np.array([[0.5, 1.0]]))
    assert real == {"shape": [1, 2], "samples": [[0.5, 1.0]]}
    states = samples_json(np.array([[1 + 2j, 0.5j]]))
    assert states["samples"] == [[[1.0, 2.0], [0.0, 0.5]]] and "bitstrings" not in states
