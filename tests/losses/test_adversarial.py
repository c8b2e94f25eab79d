"""Adversarial losses: closed forms, weighted expectations, gradient penalty of a linear critic."""
import math

import pytest
import torch

from qgm.errors import ConfigError, ParameterError
from qgm.losses.adversarial import (
    ADVERSARIAL_LOSSES,
    bce_d_loss,
    bce_g_loss,
    expectation,
    get_adversarial_loss,
    gradient_penalty,
    hinge_d_loss,
    hinge_g_loss,
    wgan_d_loss,
    wgan_g_loss,
)

R = torch.tensor([[0.3], [-1.2], [2.0]], dtype=torch.float64)
F = torch.tensor([[-0.5], [0.7], [1.5]], dtype=torch.float64)
W = torch.tensor([0.2, 0.5, 0.3], dtype=torch.float64)


def sig(x):
    return 1 / (1 + math.exp(-x))


def test_bce_matches_log_sigmoid_form():
    r, f = R.reshape(-1).tolist(), F.reshape(-1).tolist()
    expected_d = -sum(math.log(sig(x)) for x in r) / 3 - sum(math.log(1 - sig(x)) for x in f) / 3
    assert bce_d_loss(R, F).item() == pytest.approx(expected_d, rel=1e-12)
    assert bce_g_loss(F).item() == pytest.approx(-sum(math.log(sig(x)) for x in f) / 3, rel=1e-12)


def test_weighted_expectations_are_sums_over_weights():
    r, f, w = R.reshape(-1).tolist(), F.reshape(-1).tolist(), W.tolist()
    expected = -sum(wi * math.log(sig(x)) for wi, x in zip(w, r)) - sum(wi * math.log(1 - sig(x)) for wi, x in zip(w, f))
    assert bce_d_loss(R, F, W, W).item() == pytest.approx(expected, rel=1e-12)
    assert wgan_g_loss(F, W).item() == pytest.approx(-sum(wi * x for wi, x in zip(w, f)), rel=1e-12)
    with pytest.raises(ParameterError):
        expectation(R, W[:2])


def test_wgan_and_hinge_closed_forms():
    assert wgan_d_loss(R, F).item() == pytest.approx(F.mean().item() - R.mean().item(), rel=1e-12)
    expected = sum(max(0, 1 - x) for x in R.reshape(-1).tolist()) / 3 + sum(max(0, 1 + x) for x in F.reshape(-1).tolist()) / 3
    assert hinge_d_loss(R, F).item() == pytest.approx(expected, rel=1e-12)
    assert hinge_g_loss(F).item() == pytest.approx(-F.mean().item(), rel=1e-12)


def test_gradient_penalty_of_linear_critic_is_exact():
    w = torch.tensor([3.0, 4.0], dtype=torch.float64)  # |grad C| = 5 everywhere -> (5 - 1)^2
    g = torch.Generator().manual_seed(0)
    real, fake = torch.randn(7, 2, generator=g, dtype=torch.float64), torch.randn(7, 2, generator=g, dtype=torch.float64)
    gp = gradient_penalty(lambda x: x @ w[:, None], real, fake, generator=g)
    assert gp.item() == pytest.approx(16.0, rel=1e-12)


def test_gradient_penalty_reaches_critic_parameters():
    lin = torch.nn.Linear(2, 1, dtype=torch.float64)
    x = torch.randn(5, 2, dtype=torch.float64, generator=torch.Generator().manual_seed(1))
    gradient_penalty(lin, x, x.flip(0), generator=torch.Generator().manual_seed(2)).backward()
    # d/dw (|w| - 1)^2 = 2 (|w| - 1) w / |w|
    w = lin.weight.detach()
    assert torch.allclose(lin.weight.grad, 2 * (w.norm() - 1) * w / w.norm(), rtol=1e-10)


def test_registry_of_losses():
    assert set(ADVERSARIAL_LOSSES) == {"bce", "wgan-gp", "hinge"}
    assert get_adversarial_loss("wgan-gp").penalty and not get_adversarial_loss("bce").penalty
    with pytest.raises(ConfigError, match="known"):
        get_adversarial_loss("lsgan")
