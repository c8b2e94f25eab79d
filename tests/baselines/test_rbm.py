"""RBM: exact probabilities against a brute-force sum over visible and hidden states."""
import itertools

import numpy as np
import pytest
import torch
from scipy.stats import chisquare

from qgm.baselines import RBM
from qgm.errors import ParameterError, ResourceError
from qgm.losses import NLLLoss


def brute_force_probs(model: RBM) -> np.ndarray:
    """p(v) ∝ Σ_h exp(bᵀv + cᵀh + vᵀWh), v in index order (bit 0 = most significant)."""
    w = model.weight.detach().numpy()
    b = model.visible_bias.detach().numpy()
    c = model.hidden_bias.detach().numpy()
    weights = []
    for v in itertools.product((0, 1), repeat=model.n_bits):
        v = np.array(v)
        weights.append(sum(np.exp(b @ v + c @ np.array(h) + v @ w @ np.array(h))
                           for h in itertools.product((0, 1), repeat=model.n_hidden)))
    weights = np.array(weights)
    return weights / weights.sum()


def randomised(n_bits: int = 4, n_hidden: int = 3, seed: int = 0) -> RBM:
    model = RBM(n_bits, n_hidden=n_hidden, init_scale=0.8, seed=seed)
    gen = torch.Generator().manual_seed(seed + 100)
    with torch.no_grad():
        model.visible_bias.copy_(torch.randn(n_bits, dtype=torch.float64, generator=gen))
        model.hidden_bias.copy_(torch.randn(n_hidden, dtype=torch.float64, generator=gen))
    return model


def test_probs_match_brute_force_energy():
    model = randomised()
    p = model.probs().detach()
    assert p.sum().item() == pytest.approx(1.0, abs=1e-12)
    assert np.allclose(p.numpy(), brute_force_probs(model), rtol=1e-11, atol=0)
    x = torch.tensor([0, 6, 15])
    assert torch.allclose(model.log_prob(x), p[x].log(), rtol=1e-12)


def test_parameter_count_and_sampling():
    model = randomised(n_bits=5, n_hidden=4, seed=1)
    assert model.n_trainable() == 5 * 4 + 5 + 4
    p = model.probs().detach().numpy()
    x = model.sample(20000, generator=torch.Generator().manual_seed(3))
    counts = np.bincount(x.numpy(), minlength=32)
    assert chisquare(counts, 20000 * p).pvalue > 1e-3


def test_nll_training_lowers_the_likelihood_gap():
    data = torch.tensor([0b1100, 0b0011, 0b1100, 0b0011, 0b1111, 0b0000] * 4)
    model = RBM(4, n_hidden=4, init_scale=0.1, seed=2)
    loss = NLLLoss(4, torch.ones(16, dtype=torch.float64) / 16)
    opt = torch.optim.Adam(model.parameters(), lr=0.1)
    for _ in range(150):
        opt.zero_grad()
        loss(model, data).backward()
        opt.step()
    support = model.probs()[[0b1100, 0b0011, 0b1111, 0b0000]].sum().item()
    assert support > 0.95


def test_refusals():
    with pytest.raises(ResourceError):
        RBM(21)
    with pytest.raises(ParameterError):
        RBM(3).probs(shots=10)
