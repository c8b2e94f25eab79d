"""Circuit-level checks: non-finite affine angles are refused; the Chow-Liu tree is a spanning tree of the data."""
import math

import numpy as np
import pytest

from qgm.circuits import Circuit, P, chow_liu_tree
from qgm.errors import CircuitError


@pytest.mark.parametrize("make", [lambda: P("a") * math.inf, lambda: P("a") + math.nan])
def test_non_finite_affine_angle_is_refused(make):
    with pytest.raises(CircuitError, match="finite"):
        Circuit(1).rx(0, make())


def test_chow_liu_tree_spans_every_wire_even_with_independent_pairs():
    # wires 0-1 perfectly correlated, 2 and 3 independent noise: MI of many pairs is ~0,
    # which must still give a spanning tree (n - 1 edges touching every wire).
    rng = np.random.default_rng(0)
    a = rng.integers(0, 2, 4000)
    bits = np.stack([a, a, rng.integers(0, 2, 4000), rng.integers(0, 2, 4000)], axis=1)
    edges = chow_liu_tree(bits)
    assert len(edges) == 3
    assert (0, 1) in edges
    assert {w for e in edges for w in e} == {0, 1, 2, 3}


def test_chow_liu_tree_recovers_a_markov_chain():
    rng = np.random.default_rng(1)
    n, m = 5, 20000
    x = np.zeros((m, n), dtype=int)
    x[:, 0] = rng.integers(0, 2, m)
    for i in range(1, n):  # each bit copies its left neighbour with probability 0.9
        flip = rng.random(m) < 0.1
        x[:, i] = x[:, i - 1] ^ flip
    perm = [2, 0, 4, 1, 3]  # shuffle wires so the chain is not the identity order
    edges = chow_liu_tree(x[:, perm])
    inv = {p: i for i, p in enumerate(perm)}
    chain = sorted(tuple(sorted((inv[i], inv[i + 1]))) for i in range(n - 1))
    assert edges == chain
