"""`qgm art` end to end: strength 0 and t = 0 / 1 give the inputs back; errors are one line, exit 2."""
import json

import numpy as np
import pytest
from PIL import Image

from qgm.art import load_image
from qgm.cli import main


def _png(path):
    return np.asarray(Image.open(path), dtype=np.float64) / 255.0


def _input(name, size):
    x, space = load_image(name, size=size)
    return x.numpy().reshape(space.h, space.w, -1).squeeze()


@pytest.mark.parametrize("encoding", ["heightmap", "frqi", "neqr"])
def test_blur_theta_zero_is_the_input(tmp_path, capsys, encoding):
    out = tmp_path / "b.png"
    assert main(["art", "blur", "builtin:china", "--size", "16", "--theta", "0", "--encoding", encoding,
                 "--out", str(out)]) == 0
    assert json.loads(capsys.readouterr().out)["wrote"] == [str(out)]
    assert np.array_equal(_png(out), _input("builtin:china", 16))


def test_mix_endpoints_and_frames(tmp_path, capsys):
    a, b = _input("builtin:china", 8), _input("builtin:flower", 8)
    out = tmp_path / "m.png"
    assert main(["art", "mix", "builtin:china", "builtin:flower", "--size", "8", "--t", "1", "--frames", "3",
                 "--out", str(out), "--out2", str(tmp_path / "n.png")]) == 0
    assert np.array_equal(_png(tmp_path / "m_000.png"), a) and np.array_equal(_png(tmp_path / "m_002.png"), b)
    assert np.array_equal(_png(tmp_path / "n_000.png"), b) and np.array_equal(_png(tmp_path / "n_002.png"), a)
    middle = _png(tmp_path / "m_001.png")
    assert np.abs(middle - a).mean() > 0.01 and np.abs(middle - b).mean() > 0.01
    assert main(["art", "mix", "builtin:china", "builtin:flower", "--size", "8", "--t", "0", "--out", str(out)]) == 0
    assert np.array_equal(_png(out), a)


def test_collage_decohere_and_grain(tmp_path, capsys):
    args = ["builtin:flower", "--size", "16", "--grey"]
    assert main(["art", "collage", *args, "--gates", "h:x3,cx:y0>x3", "--out", str(tmp_path / "c.png")]) == 0
    assert main(["art", "decohere", *args, "--gamma", "0", "--wires", "y0,x1", "--out", str(tmp_path / "d0.png")]) == 0
    x, _ = load_image("builtin:flower", size=16, grey=True)
    assert np.array_equal(_png(tmp_path / "d0.png"), x.numpy().reshape(16, 16))
    assert main(["art", "decohere", *args, "--gamma", "1", "--wires", "y0", "--trajectories", "8", "--frames", "2",
                 "--out", str(tmp_path / "d.png")]) == 0
    assert (tmp_path / "d_001.png").is_file()
    assert main(["art", "blur", "builtin:digit3", "--theta", "0.5", "--shots", "100", "--scale", "4",
                 "--out", str(tmp_path / "g.png")]) == 0
    assert _png(tmp_path / "g.png").shape == (32, 32)


def test_seeds_from_a_quick_kit(tmp_path, capsys):
    run = tmp_path / "kit"
    assert main(["art", "train-seeds", str(run), "--quick"]) == 0
    assert main(["art", "seeds", str(run), "--source", "qcbm", "--n", "16", "--out", str(tmp_path / "s.png")]) == 0
    assert _png(tmp_path / "s.png").shape == (4 * 37, 4 * 37)


@pytest.mark.parametrize("argv, words", [
    (["art", "blur", "nofile.png", "--theta", "1", "--out", "x.png"], "no file"),
    (["art", "collage", "builtin:digit1", "--gates", "h:x9", "--out", "x.png"], "wire 'x9'"),
    (["art", "blur", "builtin:digit1", "--theta", "1", "--encoding", "frqi", "--size", "6", "--out", "x.png"],
     "power-of-two"),
    (["art", "seeds", "nowhere", "--source", "gauss", "--out", "x.png"], "train-seeds"),
    (["art", "blur", "builtin:nothing", "--theta", "1", "--out", "x.png"], "built-in"),
])
def test_errors_are_one_line(tmp_path, monkeypatch, capsys, argv, words):
    monkeypatch.chdir(tmp_path)
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert words in err and err.count("\n") == 1
