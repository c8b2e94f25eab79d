"""Measured frequencies by binary splitting have the multinomial law of independent shots."""
import pytest
import torch
from scipy import stats

from qgm.errors import ParameterError
from qgm.sim.sampling import frequencies, sample_indices


def _random_probs(rows: int, k: int, seed: int) -> torch.Tensor:
    p = torch.rand(rows, k, dtype=torch.float64, generator=torch.Generator().manual_seed(seed)) ** 3
    p[:, 1] = 0.0  # an impossible outcome must never be counted
    return p / p.sum(-1, keepdim=True)


def test_counts_are_integers_summing_to_shots_and_skip_impossible_outcomes():
    p = _random_probs(5, 16, 0)
    f = frequencies(p, 1000, torch.Generator().manual_seed(1))
    counts = f * 1000
    assert torch.allclose(counts, counts.round(), atol=1e-9)
    assert torch.allclose(counts.sum(-1), torch.full((5,), 1000.0, dtype=torch.float64))
    assert bool((counts[:, 1] == 0).all())


def test_mean_and_covariance_match_the_multinomial():
    p = _random_probs(1, 8, 2)[0]
    shots, reps = 50, 20000
    f = frequencies(p.expand(reps, 8).contiguous(), shots, torch.Generator().manual_seed(3))
    se = (p * (1 - p) / shots / reps).sqrt()
    assert bool(((f.mean(0) - p).abs() <= 5 * se + 1e-12).all())
    cov = torch.cov(f.T)
    expected = (torch.diag(p) - torch.outer(p, p)) / shots
    assert torch.allclose(cov, expected, atol=3e-4)


def test_same_law_as_counting_sampled_indices_chi2():
    # pooled counts of both samplers against the exact probabilities at a fixed seed
    p = _random_probs(1, 32, 4)
    shots = 200000
    for counts in (
        frequencies(p, shots, torch.Generator().manual_seed(5))[0] * shots,
        torch.bincount(sample_indices(p, shots, torch.Generator().manual_seed(5))[0], minlength=32).double(),
    ):
        keep = p[0] > 0
        chi2 = ((counts[keep] - shots * p[0, keep]) ** 2 / (shots * p[0, keep])).sum().item()
        assert chi2 < stats.chi2.ppf(0.999, int(keep.sum()) - 1)


def test_seeded_and_rejects_non_power_of_two():
    p = _random_probs(3, 4, 6)
    a = frequencies(p, 77, torch.Generator().manual_seed(9))
    assert torch.equal(a, frequencies(p, 77, torch.Generator().manual_seed(9)))
    with pytest.raises(ParameterError, match="power of two"):
        frequencies(torch.full((1, 3), 1 / 3, dtype=torch.float64), 10, None)
