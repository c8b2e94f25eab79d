"""Classical Fisher information of Born machines: closed forms, F <= 4g, finite differences."""
from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from qgm.circuits import Circuit, P, hardware_efficient
from qgm.geometry import classical_fisher, metric_tensor, probability_jacobian
from qgm.sim import probs
from reference import random_circuit, reference_state


def test_bloch_state_z_measurement_saturates_theta_and_misses_phi():
    # |ψ⟩ = RZ(φ) RY(θ)|0⟩ measured in Z: F_θθ = 1 = 4 g_θθ, F_φφ = 0 (spec test 2)
    c = Circuit(1).ry(0, P("theta")).rz(0, P("phi"))
    th = torch.tensor([[0.4, 1.0], [2.2, -0.3]], dtype=torch.float64)
    f = classical_fisher(c, th)
    want = torch.zeros(2, 2, 2, dtype=torch.float64)
    want[:, 0, 0] = 1.0
    torch.testing.assert_close(f, want, atol=1e-13, rtol=0)
    torch.testing.assert_close(f[:, 0, 0], 4 * metric_tensor(c, th)[:, 0, 0])


def test_product_of_ry_saturates_the_quantum_bound():
    c = Circuit(3).ry(0).ry(1).ry(2)
    th = torch.tensor([0.3, 1.7, 2.9], dtype=torch.float64)
    torch.testing.assert_close(classical_fisher(c, th), 4 * metric_tensor(c, th), atol=1e-12, rtol=0)
    torch.testing.assert_close(classical_fisher(c, th), torch.eye(3, dtype=torch.float64), atol=1e-12, rtol=0)


@pytest.mark.parametrize("seed", range(3))
def test_classical_fisher_is_bounded_by_qfi(seed):
    rng = np.random.default_rng(seed)
    c = hardware_efficient(3, 2)
    th = torch.tensor(rng.uniform(-3, 3, c.n_params))
    gap = 4 * metric_tensor(c, th) - classical_fisher(c, th)
    assert torch.linalg.eigvalsh(gap).min() > -1e-10
    gap_marginal = 4 * metric_tensor(c, th) - classical_fisher(c, th, wires=[2, 0])
    assert torch.linalg.eigvalsh(gap_marginal).min() > -1e-10


def test_probability_jacobian_and_fisher_match_finite_differences():
    rng = np.random.default_rng(4)
    c = random_circuit(3, 16, rng)
    th = rng.uniform(-3, 3, c.n_params)
    wires = [1, 2]
    h = 1e-6

    def marg(theta):
        p = np.abs(reference_state(c, theta)) ** 2
        return p.reshape(2, 2, 2).sum(0).reshape(-1)  # wires (1, 2)

    cols = []
    for s in range(c.n_params):
        e = np.zeros_like(th)
        e[s] = h
        cols.append((marg(th + e) - marg(th - e)) / (2 * h))
    dp = np.stack(cols, 1)
    p, jac = probability_jacobian(c, torch.tensor(th), wires=wires)
    np.testing.assert_allclose(p.numpy(), marg(th), atol=1e-12)
    np.testing.assert_allclose(jac.numpy(), dp, atol=1e-7)
    keep = marg(th) > 1e-14
    want = (dp[keep].T / marg(th)[keep]) @ dp[keep]
    np.testing.assert_allclose(classical_fisher(c, torch.tensor(th), wires=wires).numpy(), want, atol=1e-6)
    torch.testing.assert_close(p, probs(c, torch.tensor(th), wires=wires))


def test_zero_probability_outcomes_are_skipped():
    # RY(θ) on wire 0 only: outcomes with wire 1 = 1 have p = 0 and ∂p = 0
    c = Circuit(2).ry(0)
    f = classical_fisher(c, torch.tensor([1.3], dtype=torch.float64))
    assert torch.isfinite(f).all()
    assert math.isclose(float(f), 1.0, abs_tol=1e-12)
