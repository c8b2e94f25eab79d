import numpy as np
import pytest
import torch

import qgm.data  # noqa: F401
from qgm.errors import ConfigError, DataError
from qgm.registry import DATASETS
from qgm.spaces import Images, Reals


def test_file_npy_bits_and_indices(tmp_path):
    bits = np.array([[0, 1, 1], [1, 0, 0], [0, 1, 1]])
    np.save(tmp_path / "bits.npy", bits)
    d = DATASETS.create("file", path=str(tmp_path / "bits.npy"))
    assert d.n_bits == 3 and d.train.tolist() == [3, 4, 3] and d.target is None
    np.testing.assert_array_equal(d.bits(d.train), bits)
    np.save(tmp_path / "idx.npy", np.array([0, 5, 7]))
    assert DATASETS.create("file", path=str(tmp_path / "idx.npy"), n_bits=3).train.tolist() == [0, 5, 7]


def test_file_csv_formats(tmp_path):
    (tmp_path / "a.csv").write_text("b0,b1,b2\n0,1,1\n1,1,0\n")
    assert DATASETS.create("file", path=str(tmp_path / "a.csv")).train.tolist() == [3, 6]
    (tmp_path / "s.csv").write_text("0110\n1000\n")
    d = DATASETS.create("file", path=str(tmp_path / "s.csv"))
    assert d.n_bits == 4 and d.train.tolist() == [6, 8]
    (tmp_path / "i.csv").write_text("3\n12\n")
    t = DATASETS.create("file", path=str(tmp_path / "i.csv"), n_bits=4, test_path=str(tmp_path / "s.csv"))
    assert t.train.tolist() == [3, 12] and t.test.tolist() == [6, 8]


@pytest.mark.parametrize(
    "content,options,match",
    [
        ("0,2\n1,1\n", {}, "0/1"),
        ("3\n5\n", {}, "n_bits"),
        ("3\n9\n", {"n_bits": 3}, "outside"),
        ("0,1\n1\n", {}, "different numbers"),
        ("0,1\n1,x\n", {}, "'x'"),
    ],
)
def test_file_errors(tmp_path, content, options, match):
    (tmp_path / "bad.csv").write_text(content)
    with pytest.raises(DataError, match=match):
        DATASETS.create("file", path=str(tmp_path / "bad.csv"), **options)


def test_file_missing_and_wrong_type(tmp_path):
    with pytest.raises(DataError, match="no such file"):
        DATASETS.create("file", path=str(tmp_path / "none.npy"))
    (tmp_path / "x.txt").write_text("1")
    with pytest.raises(DataError, match="unsupported"):
        DATASETS.create("file", path=str(tmp_path / "x.txt"))


def test_ring_and_grid_continuous():
    ring = DATASETS.create("ring")
    assert ring.modes.shape == (8, 2) and ring.space == Reals(2) and ring.dim == 2
    np.testing.assert_allclose(np.linalg.norm(ring.modes, axis=1), 2.0)
    x = ring.sample(8000, generator=torch.Generator().manual_seed(0)).numpy()
    d = np.linalg.norm(x[:, None] - ring.modes[None], axis=-1)
    assert np.all(np.bincount(d.argmin(1), minlength=8) > 800)
    assert d.min(1).std() < 0.05
    grid = DATASETS.create("grid")
    assert grid.modes.shape == (25, 2) and grid.std == 0.05
    assert sorted(set(grid.modes[:, 0])) == [-4.0, -2.0, 0.0, 2.0, 4.0]
    g1, g2 = torch.Generator().manual_seed(3), torch.Generator().manual_seed(3)
    assert torch.equal(grid.sample(10, g1), grid.sample(10, g2))


def test_discretised_ring_mass_per_mode():
    d = DATASETS.create("ring", bits=5)
    assert d.n_bits == 10 and d.value_space.matches(Reals(2))
    points = d.decode(torch.arange(1 << 10))
    nearest = np.linalg.norm(points[:, None] - d.modes[None], axis=-1).argmin(1)
    mass = np.bincount(nearest, weights=d.target.numpy(), minlength=8)
    np.testing.assert_allclose(mass, 1 / 8, atol=1e-6)
    with pytest.raises(ConfigError, match="range"):
        DATASETS.create("ring", range=(-3, 3))


def test_digits():
    d = DATASETS.create("digits", classes=[0, 1])
    assert d.space == Images(8, 8) and d.shape == (8, 8) and d.dim == 64
    assert set(d.labels.tolist()) == {0, 1}
    assert d.train.dtype == torch.float64 and 0.0 <= float(d.train.min()) and float(d.train.max()) == 1.0
    assert d.images(d.train[:2]).shape == (2, 8, 8)
    assert len(DATASETS.create("digits", limit=10).train) == 10
    assert DATASETS.create("digits", classes=3).classes == [3]
    with pytest.raises(ConfigError, match="classes"):
        DATASETS.create("digits", classes=[11])
