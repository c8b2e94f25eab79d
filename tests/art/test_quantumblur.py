"""Bit-exact (1e-12) agreement with QuantumBlur's encode, decode, blur and swap on small images.

The reference numbers are QuantumBlur's own outputs (``quantumblur_reference.json``, made by
``quantumblur_fixture.py``); the Gray grid is also checked against the formula it implements.
"""
import json
import math
from pathlib import Path

import pytest
import torch

from qgm.art import HeightMap, blur, gray_line, partial_swap
from qgm.spaces import Images

REF = json.loads(Path(__file__).with_name("quantumblur_reference.json").read_text())
CASES = REF["cases"]
TOL = 1e-12


def _image(rows) -> tuple[torch.Tensor, Images]:
    x = torch.tensor(rows, dtype=torch.float64)
    return x.reshape(1, -1), Images(*x.shape)


@pytest.mark.parametrize("length", range(1, 10))
def test_gray_line_is_make_line(length):
    assert gray_line(length).tolist() == REF["make_line"][str(length)][:length]
    codes = gray_line(length)
    assert all(bin(int(a ^ b)).count("1") == 1 for a, b in zip(codes[:-1], codes[1:]))


@pytest.mark.parametrize("case", CASES, ids=lambda c: f"{len(c['image'])}x{len(c['image'][0])}")
def test_states_match_height2circuit(case):
    x, space = _image(case["image"])
    lin = HeightMap(space, normalise="max").encode(x).states.reshape(-1)
    log = HeightMap(space, log=True, normalise="max").encode(x).states.reshape(-1)
    assert torch.allclose(lin.real, torch.tensor(case["linear_state"], dtype=torch.float64), atol=TOL, rtol=0)
    assert torch.allclose(log.real, torch.tensor(case["log_state"], dtype=torch.float64), atol=TOL, rtol=0)
    assert float(lin.imag.abs().max()) == 0.0


@pytest.mark.parametrize("case", CASES, ids=lambda c: f"{len(c['image'])}x{len(c['image'][0])}")
def test_blur_matches_blur_height(case):
    x, space = _image(case["image"])
    for ref in case["blur"]:
        enc = HeightMap(space, log=ref["log"], normalise="max")
        out = blur(enc.encode(x), math.pi**2 * ref["xi"], axis=ref["axis"]).decode(clip=False)
        want = torch.tensor(ref["height"], dtype=torch.float64).reshape(1, -1)
        assert torch.allclose(out, want, atol=TOL, rtol=0), (ref["xi"], ref["axis"], ref["log"])


@pytest.mark.parametrize("case", CASES, ids=lambda c: f"{len(c['image'])}x{len(c['image'][0])}")
def test_partial_swap_matches_swap_heights(case):
    x, space = _image(case["image"])
    y, _ = _image(case["other"])
    enc = HeightMap(space, normalise="max")
    for ref in case["swap"]:
        a, b = partial_swap(enc.encode(x), enc.encode(y), ref["fraction"])
        for got, key in ((a, "height0"), (b, "height1")):
            want = torch.tensor(ref[key], dtype=torch.float64).reshape(1, -1)
            assert torch.allclose(got.decode(clip=False), want, atol=TOL, rtol=0), (ref["fraction"], key)
