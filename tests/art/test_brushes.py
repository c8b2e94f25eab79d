"""Brushes: known answers of H, CNOT, RY/RX and the partial swap, norms, frames, grain."""
import math

import pytest
import torch

from qgm.art import FRQI, HeightMap, blur, collage, grain, interfere, partial_swap, rotate, run
from qgm.circuits import Circuit
from qgm.errors import ParameterError, ResourceError
from qgm.spaces import Images

TOL = 1e-12


def _rand(n, space, seed=0, low=0.05):
    g = torch.Generator().manual_seed(seed)
    return low + (1 - low) * torch.rand(n, space.n_pixels, dtype=torch.float64, generator=g)


def _ones(enc):
    return torch.ones_like(enc.norms())


def test_hadamard_on_column_bit_of_2x2_linear_amplitudes():
    space = Images(2, 2)
    x = torch.tensor([[0.1, 0.7, 0.4, 0.2]], dtype=torch.float64)
    enc = HeightMap(space, convention="linear", address="binary")
    e = enc.encode(x)
    (col,) = enc.grid.x_wires
    out = collage(e, [("h", [col])]).states.reshape(-1).real
    a, b, c, d = (x / x.norm()).reshape(-1)
    want = torch.stack([a + b, a - b, c + d, c - d]) / math.sqrt(2)
    assert torch.allclose(out, want, atol=TOL)
    twice = collage(e, [("h", [0]), ("h", [1]), ("h", [0]), ("h", [1])])
    assert torch.allclose(twice.states, e.states, atol=TOL)
    assert torch.allclose(twice.decode(), x, atol=TOL)


def test_cnot_permutes_pixels_and_is_an_involution():
    space = Images(8, 8)
    x = _rand(2, space)
    enc = HeightMap(space, address="binary")
    e = enc.encode(x)
    gates = [("cx", [enc.grid.y_wires[0], enc.grid.x_wires[-1]])]  # row LSB -> column MSB: tear odd rows
    torn = collage(e, gates).decode()
    assert torch.allclose(torn.sort(-1).values, x.sort(-1).values, atol=TOL)
    img, out = x.reshape(2, 8, 8), torn.reshape(2, 8, 8)
    assert torch.allclose(out[:, 1::2], img[:, 1::2].roll(4, -1), atol=TOL)  # odd rows: halves swapped
    assert torch.allclose(out[:, 0::2], img[:, 0::2], atol=TOL)
    assert torch.allclose(collage(collage(e, gates), gates).decode(), x, atol=TOL)


def test_ry_pi_swaps_gray_partners_and_rx_half_pi_averages_them():
    space = Images(4, 4)
    x = _rand(1, space, seed=1)
    enc = HeightMap(space)
    e = enc.encode(x)
    w = enc.grid.x_wires[0]  # finest column wire: pairs columns (0, 1) and (2, 3) on the Gray grid
    partner = torch.tensor([1, 0, 3, 2])
    img = x.reshape(4, 4)
    swapped = rotate(e, [w], math.pi, axis="y").decode().reshape(4, 4)
    assert torch.allclose(swapped, img[:, partner], atol=TOL)
    averaged = rotate(e, [w], math.pi / 2, axis="x").decode().reshape(4, 4)
    assert torch.allclose(averaged, (img + img[:, partner]) / 2, atol=TOL)


def test_blur_is_identity_at_zero_and_batches_frames():
    space = Images(8, 8, 3)
    x = _rand(2, space, seed=2)
    for enc in (HeightMap(space), HeightMap(space, channel_qubits=True), FRQI(space)):
        e = enc.encode(x)
        thetas = torch.tensor([0.0, 0.4, 1.2], dtype=torch.float64)
        frames = blur(e, thetas)
        assert frames.batch == (3, 2)
        assert torch.allclose(frames.norms(), _ones(frames), atol=TOL)
        assert torch.allclose(frames.decode()[0], x, atol=TOL)
        assert torch.allclose(frames.decode()[2], blur(e, 1.2).decode(), atol=TOL)
        assert not torch.allclose(frames.decode()[1], x, atol=1e-3)


def test_blur_conserves_mass_and_smooths():
    space = Images(16, 16)
    x = torch.full((1, 256), 0.01, dtype=torch.float64)
    x[0, 8 * 16 + 8] = 1.0  # a single bright pixel spreads into a neighbourhood
    out = blur(HeightMap(space).encode(x), 0.6).decode(clip=False)
    assert math.isclose(float(out.sum()), float(x.sum()), rel_tol=1e-12)
    assert float(out.max()) < 0.8 and int((out > 0.05).sum()) >= 3


def _pair(n, seeds):
    """Two batches of ``n`` random 4x4 images and their height-map encodings."""
    enc = HeightMap(Images(4, 4))
    a, b = (_rand(n, enc.space, seed=s) for s in seeds)
    return a, b, enc.encode(a), enc.encode(b)


def test_partial_swap_endpoints_frames_and_norms():
    a, b, ea, eb = _pair(2, (3, 4))
    ma, mb = partial_swap(ea, eb, torch.tensor([0.0, 0.5, 1.0], dtype=torch.float64))
    assert ma.batch == (3, 2) and ma.states.shape[-2] == 16  # the partner traced out: 2**4 branches
    assert torch.allclose(ma.norms(), _ones(ma), atol=TOL) and torch.allclose(mb.norms(), _ones(mb), atol=TOL)
    da, db = ma.decode(), mb.decode()
    assert torch.allclose(da[0], a, atol=TOL) and torch.allclose(db[0], b, atol=TOL)
    assert torch.allclose(da[2], b, atol=TOL) and torch.allclose(db[2], a, atol=TOL)
    half = da[1]
    assert float((half - a).abs().mean()) > 1e-3 and float((half - b).abs().mean()) > 1e-3


def test_partial_swap_equals_scipy_fractional_swap_on_a_product_state():
    from scipy.linalg import fractional_matrix_power

    space = Images(1, 2)  # two address qubits each (a side of 1 still takes one wire, as in QuantumBlur)
    a = torch.tensor([[0.2, 0.9]], dtype=torch.float64)
    b = torch.tensor([[0.7, 0.3]], dtype=torch.float64)
    enc = HeightMap(space, normalise="max")
    ea, eb = enc.encode(a), enc.encode(b)
    t = 0.37
    u = fractional_matrix_power(torch.eye(4)[[0, 2, 1, 3]].numpy(), t)
    joint = torch.kron(ea.states.reshape(-1), eb.states.reshape(-1)).numpy().reshape(2, 2, 2, 2)
    pairs = joint.transpose(0, 2, 1, 3).reshape(4, 4)  # (a0 b0) x (a1 b1): SWAP**t on each pair
    out = (u @ pairs @ u.T).reshape(2, 2, 2, 2).transpose(0, 2, 1, 3).reshape(4, 4)
    p = abs(out) ** 2
    ma, mb = partial_swap(ea, eb, t)
    assert torch.allclose(ma.probs().reshape(-1), torch.as_tensor(p.sum(1)), atol=TOL)
    assert torch.allclose(mb.probs().reshape(-1), torch.as_tensor(p.sum(0)), atol=TOL)


def test_grain_is_seeded_shot_noise():
    space = Images(8, 8)
    e = HeightMap(space).encode(_rand(1, space, seed=5))
    g1 = grain(e, 500, torch.Generator().manual_seed(0))
    g2 = grain(e, 500, torch.Generator().manual_seed(0))
    assert torch.equal(g1.states, g2.states)
    counts = g1.probs().reshape(-1) * 500
    assert torch.allclose(counts, counts.round(), atol=1e-9) and torch.allclose(g1.norms(), _ones(g1), atol=TOL)
    fine = grain(e, 2_000_000, torch.Generator().manual_seed(1)).probs()
    assert torch.allclose(fine, e.probs(), atol=2e-3)


def test_brush_errors_are_one_line():
    space = Images(4, 4)
    e = HeightMap(space).encode(_rand(1, space))
    with pytest.raises(ParameterError, match="wires"):
        rotate(e, [7], 0.1)
    with pytest.raises(ParameterError, match="axis"):
        blur(e, 0.1, axis="z")
    with pytest.raises(ParameterError, match="theta"):
        blur(e, float("nan"))
    with pytest.raises(ParameterError, match="circuit"):
        run(e, Circuit(3).h(0))
    with pytest.raises(ParameterError, match="fixed"):
        collage(e, [("ry", [0])])
    big = HeightMap(Images(64, 64)).encode(_rand(1, Images(64, 64)))
    with pytest.raises(ResourceError, match="tile"):
        partial_swap(big, big, 0.5)
    with pytest.raises(ParameterError, match="same encoding"):
        partial_swap(e, FRQI(space).encode(_rand(1, space)), 0.5)


def test_interfere_is_the_postselected_superposition():
    a, b, ea, eb = _pair(1, (6, 7))
    out = interfere(ea, eb, torch.tensor([0.0, 0.3, 1.0], dtype=torch.float64))
    assert out.batch == (3, 1) and torch.allclose(out.norms(), _ones(out), atol=TOL)
    assert torch.allclose(out.decode()[0], a, atol=TOL) and torch.allclose(out.decode()[2], b, atol=TOL)
    c, s = math.cos(0.15 * math.pi), math.sin(0.15 * math.pi)
    pa, pb = ea.probs().reshape(-1), eb.probs().reshape(-1)
    want = c * c * pa + s * s * pb + 2 * c * s * (pa * pb).sqrt()
    assert torch.allclose(out.probs()[1].reshape(-1), want / want.sum(), atol=TOL)
    mixed, _ = partial_swap(ea, eb, 0.5)
    with pytest.raises(ParameterError, match="pure"):
        interfere(mixed, eb, 0.5)
