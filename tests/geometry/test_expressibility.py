"""Expressibility: analytic limits, Haar bin masses, Haar-random states, determinism."""
from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from scipy import integrate

from qgm.circuits import Circuit
from qgm.errors import ParameterError
from qgm.geometry import expressibility, fidelity_histogram, fidelity_samples, haar_log_masses, kl_to_haar


def gen(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


@pytest.mark.parametrize("n", [1, 2, 3])
def test_idle_circuit_is_n_minus_one_log_bins(n):
    # every fidelity is 1: all mass in the last bin, Haar mass there (1/75)^(N-1)
    assert math.isclose(expressibility(Circuit(n), 200, 75, gen(0)), (2**n - 1) * math.log(75), rel_tol=1e-12)


def test_single_rz_on_zero_is_idle():
    # RZ|0⟩ only changes a global phase: F = 1 always, Expr = ln 75 (Sim et al.'s 4.32)
    assert math.isclose(expressibility(Circuit(1).rz(0), 300, 75, gen(1)), math.log(75), rel_tol=1e-12)


def test_h_then_rz_matches_the_arcsine_law():
    # equator states: F = cos²(Δ/2) with Δ uniform, P(F <= f) = (2/π) arcsin(√f); Haar(1 qubit) = uniform
    bins = 75
    edges = np.linspace(0, 1, bins + 1)
    cdf = 2 / np.pi * np.arcsin(np.sqrt(edges))
    mass = np.diff(cdf)
    exact = float(np.sum(mass * np.log(mass * bins)))
    n_pairs = 20000
    est = expressibility(Circuit(1).h(0).rz(0), n_pairs, bins, gen(2))
    bias = (bins - 1) / (2 * n_pairs)  # plug-in KL bias
    assert abs(est - exact - bias) < 0.01, (est, exact)


def test_haar_masses_integrate_the_density():
    n, bins = 4, 75
    d = 2**n
    masses = haar_log_masses(n, bins).exp().numpy()
    assert math.isclose(masses.sum(), 1.0, rel_tol=1e-12)
    edges = np.linspace(0, 1, bins + 1)
    for b in (0, 10, 40):
        want, _ = integrate.quad(lambda f: (d - 1) * (1 - f) ** (d - 2), edges[b], edges[b + 1])
        assert math.isclose(masses[b], want, rel_tol=1e-9)
    # large N: no underflow to -inf in the first bins, -inf nowhere
    big = haar_log_masses(30, bins)
    assert torch.isfinite(big).all() and big[0] > -1e-6


@pytest.mark.parametrize("n", [1, 3])
def test_haar_random_states_are_close_to_zero(n):
    g = gen(3 + n)
    d = 2**n
    z = torch.complex(torch.randn(2, 5000, d, generator=g, dtype=torch.float64),
                      torch.randn(2, 5000, d, generator=g, dtype=torch.float64))
    z = z / z.norm(dim=-1, keepdim=True)
    fids = (z[0].conj() * z[1]).sum(-1).abs() ** 2
    assert kl_to_haar(fids, n, 75) < 0.02


def test_histogram_puts_one_in_the_last_bin():
    h = fidelity_histogram(torch.tensor([0.0, 1.0, 1.0 + 1e-15, 0.5]), bins=4)
    torch.testing.assert_close(h, torch.tensor([0.25, 0.0, 0.25, 0.5], dtype=torch.float64))


def test_seeded_and_shot_estimates():
    c = Circuit(2).ry(0).cx(0, 1).rx(1)
    a = expressibility(c, 500, 75, gen(7))
    assert a == expressibility(c, 500, 75, gen(7))
    exact = fidelity_samples(c, 300, gen(8))
    shot = fidelity_samples(c, 300, gen(8), shots=100)
    torch.testing.assert_close(shot * 100, torch.round(shot * 100), atol=1e-9, rtol=0)  # frequencies of 100 shots
    assert (shot - exact).abs().mean() < 0.1


def test_errors():
    with pytest.raises(ParameterError, match="bins"):
        expressibility(Circuit(1).rx(0), 10, 0)
    with pytest.raises(ParameterError, match="n_pairs"):
        expressibility(Circuit(1).rx(0), 0)
    with pytest.raises(ParameterError, match="shots"):
        fidelity_samples(Circuit(1).rx(0), 10, shots=0)
