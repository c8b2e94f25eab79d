import numpy as np
import pytest

from qgm.metrics import mode_coverage


def test_perfect_and_collapsed_generators():
    modes = np.array([[0.0, 0.0], [10.0, 0.0], [0.0, 10.0], [10.0, 10.0]])
    rng = np.random.default_rng(0)
    even = modes[np.arange(4000) % 4] + 0.1 * rng.normal(size=(4000, 2))
    out = mode_coverage(even, modes, radius=0.3)
    assert out["modes_covered"] == 4
    assert out["high_quality_fraction"] == pytest.approx(1 - np.exp(-4.5), abs=0.02)  # P(chi2_2 <= 9)
    assert out["mode_kl"] == pytest.approx(0.0, abs=1e-3)
    collapsed = modes[[0]] + 0.1 * rng.normal(size=(1000, 2))
    out = mode_coverage(collapsed, modes, radius=0.3)
    assert out["modes_covered"] == 1 and out["mode_kl"] == pytest.approx(np.log(4))


def test_min_count_and_far_samples():
    modes = np.array([[0.0, 0.0], [5.0, 5.0]])
    samples = np.array([[0.0, 0.1], [0.1, 0.0], [5.0, 5.0], [2.5, 2.5]])
    out = mode_coverage(samples, modes, radius=0.5, min_count=2)
    assert out["modes_covered"] == 1
    assert out["high_quality_fraction"] == pytest.approx(0.75)
    assert mode_coverage(np.array([[2.5, 2.5]]), modes, 0.5)["mode_kl"] == float("inf")
