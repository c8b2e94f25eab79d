"""The amplitude-amplification reproduction: constraint choice, slope summaries, and a quick run."""
from __future__ import annotations

import math

import pytest
import torch

from qgm.reproduce import CLAIMS
from qgm.reproduce.amplitude_amplification import METHODS, _pick, corner_conditions, measure, summarise_points


def test_corner_conditions_fix_leading_bits_of_each_asset():
    corners = corner_conditions(2)
    assert len(corners) == (1 + 2 + 2) ** 2 - 1 and len({tuple(sorted(c.items())) for c in corners}) == len(corners)
    assert {0: 0, 1: 0, 2: 0, 3: 0} in corners and {0: 1, 2: 0} in corners and {2: 1, 3: 1} in corners
    assert all(set(c) <= {0, 1, 2, 3} and c for c in corners)


def test_pick_takes_the_corner_nearest_in_log_p():
    uniform = torch.full((64,), 1 / 64, dtype=torch.float64)  # a corner with j fixed bits has p = 2^-j
    picked = _pick(uniform, 3, (1, 2, 4))
    assert [p for _, p in picked] == pytest.approx([0.5, 0.25, 1 / 16])
    assert [len(c) for c, _ in picked] == [1, 2, 4]


def test_summary_slopes_of_ideal_costs():
    rows = []
    for q, p in enumerate([2.0**-t for t in range(2, 13, 2)]):
        for m in METHODS:
            cost = 1 / p if m == "reject" else (0.0 if m == "exact" else math.pi / (2 * math.sqrt(p)))
            rows.append({"qubits": 10, "condition": str(q), "method": m, "p": p, "queries_per_sample": cost,
                         "expected_queries_per_sample": cost, "tv": 0.1, "tv_floor": 0.1, "wall_s": 1.0})
    out = summarise_points(rows)
    assert out["slope_reject"] == pytest.approx(-1) and out["slope_bbht"] == pytest.approx(-0.5)
    assert out["exponent_ratio"] == pytest.approx(0.5) and out["tv_excess_max"] == 0
    assert CLAIMS.get("amplitude_amplification").metric == "exponent_ratio"


@pytest.mark.slow
def test_quick_run_shows_the_quadratic_speedup():
    out = measure(0, quick=True)
    assert out["exponent_ratio"] < 0.6 and abs(out["slope_reject"] + 1) < 0.1
    assert abs(out["tv_excess_median"]) < 0.05
