"""Shared fixture of the interop tests: a circuit actually trained on the engine."""
from __future__ import annotations

import pytest
import torch

from qgm import sim
from qgm.circuits import Circuit, hardware_efficient

N_QUBITS = 4


def bimodal_target(n: int) -> torch.Tensor:
    """A two-peak distribution ``(2**n,)`` over basis indices, asymmetric under bit reversal."""
    x = torch.arange(2**n, dtype=torch.float64)
    p = torch.exp(-0.5 * ((x - 3) / 1.2) ** 2) + 0.6 * torch.exp(-0.5 * ((x - 11) / 1.5) ** 2)
    return p / p.sum()


@pytest.fixture(scope="session")
def trained() -> tuple[Circuit, torch.Tensor, torch.Tensor]:
    """``(circuit, params, target)``: a Born machine fitted by Adam on KL(target || p_θ).

    60 steps from a seeded near-identity start take KL from ~5 to ~2e-3: the
    parameters are a genuine training result, not a random point.
    """
    c = hardware_efficient(N_QUBITS, 3)
    target = bimodal_target(N_QUBITS)
    g = torch.Generator().manual_seed(0)
    theta = (0.1 * torch.randn(c.n_params, dtype=torch.float64, generator=g)).requires_grad_()
    opt = torch.optim.Adam([theta], lr=0.1)
    for _ in range(60):
        opt.zero_grad()
        loss = (target * (target.log() - sim.probs(c, theta).clamp_min(1e-12).log())).sum()
        loss.backward()
        opt.step()
    return c, theta.detach(), target
