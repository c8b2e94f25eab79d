import numpy as np
import pytest

from qgm.errors import DataError
from qgm.metrics import generalisation, qbas_score, valid_fraction


def masks():
    valid = np.zeros(8, dtype=bool)
    valid[[1, 2, 4, 7]] = True
    train = np.zeros(8, dtype=bool)
    train[[1, 2]] = True
    return valid, train


def test_valid_fraction_and_qbas():
    valid, _ = masks()
    samples = np.array([1, 1, 2, 0, 3, 7])
    assert valid_fraction(samples, valid) == pytest.approx(4 / 6)
    p, r = 4 / 6, 3 / 4
    assert qbas_score(samples, valid) == pytest.approx(2 * p * r / (p + r))
    assert qbas_score(np.array([0, 3]), valid) == 0.0


def test_generalisation_hand_computed():
    valid, train = masks()
    samples = np.array([1, 4, 4, 0, 2, 3, 7, 4])  # new: 4,4,0,3,7,4 ; sol: 4,4,7,4
    out = generalisation(samples, valid, train)
    assert out["fidelity"] == pytest.approx(4 / 6)
    assert out["rate"] == pytest.approx(4 / 8)
    assert out["coverage"] == pytest.approx(1.0)  # unseen valid = {4, 7}, both produced
    assert out["coverage_normalised"] == pytest.approx(1.0 / (1 - (3 / 4) ** 8))


def test_generalisation_needs_unseen_valid():
    valid, _ = masks()
    with pytest.raises(DataError, match="every valid string"):
        generalisation(np.array([1]), valid, valid)
    with pytest.raises(DataError, match="basis indices"):
        valid_fraction(np.array([9]), valid)
