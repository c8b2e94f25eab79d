"""Atomic writes: the target is either the old file or the new one, never a torn mix."""
import json

import numpy as np
import pytest
import torch

from qgm.atomic import atomic_json, atomic_npy, atomic_text, atomic_torch_save, atomic_write


def test_round_trips(tmp_path):
    atomic_text(tmp_path / "a.txt", "héllo")
    atomic_json(tmp_path / "b.json", {"x": [1, 2]})
    atomic_npy(tmp_path / "c.npy", np.arange(3))
    atomic_torch_save({"t": torch.ones(2)}, tmp_path / "sub" / "d.pt")
    assert (tmp_path / "a.txt").read_text() == "héllo"
    assert json.loads((tmp_path / "b.json").read_text()) == {"x": [1, 2]}
    assert np.array_equal(np.load(tmp_path / "c.npy"), np.arange(3))
    assert torch.equal(torch.load(tmp_path / "sub" / "d.pt", weights_only=True)["t"], torch.ones(2))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.txt", "b.json", "c.npy", "sub"]


def test_a_failed_write_keeps_the_old_file_and_leaves_no_temporary(tmp_path):
    target = tmp_path / "f.txt"
    atomic_text(target, "old")

    def crash(f):
        f.write(b"partial")
        raise RuntimeError("disk full")

    with pytest.raises(RuntimeError):
        atomic_write(target, crash)
    assert target.read_text() == "old" and [p.name for p in tmp_path.iterdir()] == ["f.txt"]


def test_files_get_the_usual_permissions(tmp_path):
    import os

    atomic_text(tmp_path / "p.txt", "x")
    plain = tmp_path / "q.txt"
    plain.write_text("x")
    assert os.stat(tmp_path / "p.txt").st_mode & 0o777 == os.stat(plain).st_mode & 0o777
