"""MADE: normalisation, the autoregressive property, ancestral sampling vs exact probabilities."""
import numpy as np
import pytest
import torch
from scipy.stats import chisquare

from qgm.baselines import MADE, made_masks
from qgm.models.base import basis_bits


def test_probs_normalised_and_log_prob_consistent():
    model = MADE(5, hidden=(16, 12), seed=0)
    p = model.probs().detach()
    assert p.sum().item() == pytest.approx(1.0, abs=1e-12)
    x = torch.tensor([0, 7, 31])
    assert torch.allclose(model.log_prob(x).exp(), p[x], rtol=1e-12)


def test_logit_i_depends_only_on_earlier_bits():
    model = MADE(5, hidden=(16, 12), seed=1)
    bits = basis_bits(5)
    base = model.logits(bits).detach()
    for j in range(5):
        flipped = bits.clone()
        flipped[:, j] = 1 - flipped[:, j]
        changed = (model.logits(flipped).detach() - base).abs().amax(0) > 1e-12
        assert not changed[: j + 1].any()  # logits 0..j ignore bit j
        if j < 4:
            assert changed[j + 1 :].any()  # later logits do see it


def test_mask_connectivity():
    masks = made_masks(4, [6])
    assert masks[0].shape == (6, 4) and masks[1].shape == (4, 6)
    assert masks[1][0].sum() == 0  # the first bit's logit is a bias only
    assert MADE(4, hidden=[6], seed=0).n_trainable() == int(masks[0].sum() + masks[1].sum()) + 6 + 4


def test_ancestral_sampling_matches_probs():
    model = MADE(4, hidden=(16,), seed=2)
    with torch.no_grad():
        for w in model.weights:
            w.mul_(4.0)  # a sharper, less uniform distribution
    p = model.probs().detach().numpy()
    n = 20000
    x = model.sample(n, generator=torch.Generator().manual_seed(5))
    counts = np.bincount(x.numpy(), minlength=16)
    assert chisquare(counts, n * p).pvalue > 1e-3
    assert torch.equal(x, model.sample(n, generator=torch.Generator().manual_seed(5)))
