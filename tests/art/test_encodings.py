"""Encodings: exact round trips, FRQI/NEQR known states, address maps, bad images -> one-line errors."""
import math

import pytest
import torch

from qgm.art import FRQI, NEQR, HeightMap
from qgm.errors import ConfigError, DataError, ParameterError, ResourceError
from qgm.spaces import Images

TOL = 1e-12


def _rand(n, space, seed=0, low=0.0):
    g = torch.Generator().manual_seed(seed)
    return low + (1 - low) * torch.rand(n, space.n_pixels, dtype=torch.float64, generator=g)


@pytest.mark.parametrize("kwargs", [
    {}, {"convention": "linear"}, {"log": True}, {"address": "binary"}, {"channel_qubits": True},
    {"tile": (2, 4)}, {"channel_qubits": True, "tile": (4, 2), "log": True},
])
def test_height_map_round_trip(kwargs):
    space = Images(4, 8, 3) if "channel_qubits" in kwargs else Images(4, 8)
    x = _rand(3, space)
    enc = HeightMap(space, **kwargs).encode(x)
    assert torch.allclose(enc.norms(), torch.ones_like(enc.norms()), atol=TOL)
    assert torch.allclose(enc.decode(), x, atol=TOL, rtol=0)


def test_probability_and_linear_conventions_are_the_spec_formulas():
    space = Images(2, 2)
    x = torch.tensor([[0.1, 0.4, 0.2, 0.3]], dtype=torch.float64)
    prob = HeightMap(space, address="binary", normalise="max").encode(x)
    lin = HeightMap(space, address="binary", convention="linear", normalise="max").encode(x)
    assert torch.allclose(prob.states.reshape(-1).real, x.sqrt().reshape(-1) / x.sum().sqrt(), atol=TOL)
    assert torch.allclose(lin.states.reshape(-1).real, x.reshape(-1) / x.norm(), atol=TOL)
    assert torch.allclose(prob.decode(), x / x.max(), atol=TOL)  # QuantumBlur: brightest -> 1
    assert torch.allclose(lin.decode(), x / x.max(), atol=TOL)


def test_gray_neighbours_differ_on_one_wire():
    grid = HeightMap(Images(8, 8)).grid
    idx = grid.index.reshape(8, 8)
    for a, b in [(idx[:, 1:], idx[:, :-1]), (idx[1:, :], idx[:-1, :])]:
        assert all(bin(int(v)).count("1") == 1 for v in (a ^ b).reshape(-1))
    assert sorted(grid.index.tolist()) == list(range(64))
    assert grid.x_wires == (0, 1, 2) and grid.y_wires == (3, 4, 5)


def test_binary_address_is_row_major():
    grid = HeightMap(Images(4, 8), address="binary").grid
    assert grid.index.tolist() == list(range(32))
    assert grid.x_wires == (4, 3, 2) and grid.y_wires == (1, 0)


def test_frqi_known_state_and_round_trip():
    space = Images(2, 2)
    g = torch.tensor([[0.0, 0.25, 0.5, 1.0]], dtype=torch.float64)
    enc = FRQI(space).encode(g)
    psi = enc.states.reshape(-1)
    theta = math.pi / 2 * g.reshape(-1)
    want = torch.cat([torch.cos(theta), torch.sin(theta)]) / 2  # colour qubit = wire 0
    assert torch.allclose(psi.real, want, atol=TOL) and enc.n_qubits == 3
    x = _rand(4, Images(8, 4, 3), seed=1)
    assert torch.allclose(FRQI(Images(8, 4, 3)).encode(x).decode(), x, atol=TOL, rtol=0)
    full = FRQI(space).encode(torch.ones(1, 4, dtype=torch.float64))
    p = full.probs().reshape(2, 4)
    assert torch.allclose(p[1] / p.sum(0), torch.ones(4, dtype=torch.float64), atol=TOL)


def test_neqr_known_state_and_round_trip():
    space = Images(2, 2)
    x = torch.tensor([[0, 17, 128, 255]], dtype=torch.float64) / 255
    enc = NEQR(space, bits=8).encode(x)
    psi = enc.states.reshape(-1)
    nz = torch.nonzero(psi.abs() > 0).reshape(-1)
    assert nz.numel() == 4 and torch.allclose(psi[nz].real, torch.full((4,), 0.5, dtype=torch.float64), atol=TOL)
    assert sorted(nz.tolist()) == sorted([c * 4 + i for i, c in enumerate([0, 17, 128, 255])])
    assert torch.allclose(enc.decode(), x, atol=TOL, rtol=0)
    neqr = NEQR(Images(4, 4, 3), bits=4)
    y = neqr.quantise(_rand(2, Images(4, 4, 3), seed=2))
    assert torch.allclose(neqr.encode(y).decode(), y, atol=TOL, rtol=0)


def test_256x256_grey_is_16_qubits():
    enc = HeightMap(Images(256, 256))
    assert enc.n_qubits == 16
    x = _rand(1, Images(256, 256), seed=3, low=0.01)
    assert torch.allclose(enc.encode(x).decode(), x, atol=1e-11, rtol=0)


@pytest.mark.parametrize("bad, error, words", [
    (torch.zeros(0, 16, dtype=torch.float64), DataError, "empty"),
    (torch.full((1, 16), float("nan"), dtype=torch.float64), DataError, "NaN"),
    (torch.full((1, 16), 2.0, dtype=torch.float64), DataError, "[0, 1]"),
    (torch.zeros(1, 16, dtype=torch.float64), DataError, "zero norm"),
    (torch.ones(1, 15, dtype=torch.float64), ParameterError, "(N, 16)"),
])
def test_bad_images_are_one_line_errors(bad, error, words):
    with pytest.raises(error) as info:
        HeightMap(Images(4, 4)).encode(bad)
    assert words in str(info.value) and "\n" not in str(info.value)


def test_bad_configurations_are_one_line_errors():
    with pytest.raises(DataError, match="power-of-two"):
        FRQI(Images(3, 4))
    with pytest.raises(ResourceError, match="tile"):
        HeightMap(Images(512, 256))
    with pytest.raises(ResourceError, match="17 qubits"):
        FRQI(Images(256, 256))
    assert FRQI(Images(256, 256), tile=(128, 256)).n_qubits == 16
    with pytest.raises(ConfigError, match="divide"):
        HeightMap(Images(8, 8), tile=(3, 8))
    with pytest.raises(ConfigError, match="convention"):
        HeightMap(Images(4, 4), convention="sqrt")
    with pytest.raises(ConfigError, match="log"):
        HeightMap(Images(4, 4), convention="linear", log=True)
    with pytest.raises(ConfigError, match="bits"):
        NEQR(Images(4, 4), bits=0)
