"""Initial-angle strategies: registry, identity blocks and the Born-machine tie-break, layerwise, AdaInit."""
import math

import pytest
import torch

from qgm import sim
from qgm.circuits import hardware_efficient
from qgm.errors import ConfigError
from qgm.models import INITIALIZERS as MODEL_INITIALIZERS
from qgm.trainability import (
    INITIALIZERS,
    adainit_search,
    build_cost,
    identity_block_ansatz,
    initialize,
    layerwise_phases,
    param_layers,
)


def gen(seed=0):
    return torch.Generator().manual_seed(seed)


def born_jacobian(circuit, theta):
    return torch.autograd.functional.jacobian(lambda t: sim.probs(circuit, t, diff_method="backprop"), theta)


def test_registry_is_shared_with_qcbm_and_seeded():
    assert MODEL_INITIALIZERS is INITIALIZERS
    assert {"uniform", "small", "identity_blocks", "layerwise", "adainit"} <= set(INITIALIZERS)
    c = hardware_efficient(4, 3)
    u = initialize("uniform", c, gen(3))
    assert torch.equal(u, initialize("uniform", c, gen(3))) and u.min() >= -math.pi and u.max() < math.pi
    assert initialize("small", c, gen(), std=0.1).std().item() == pytest.approx(0.1, rel=0.3)
    with pytest.raises(ConfigError):
        initialize("small", c, gen(), width=2)
    with pytest.raises(ConfigError):
        initialize("identity_blocks", c, gen())  # not an identity-block circuit


def test_identity_blocks_are_exact_identity_and_stationary_for_born_losses():
    c = identity_block_ansatz(4, 3, block_depth=2)
    theta = initialize("identity_blocks", c, gen(1), tie_break="none")
    p = sim.probs(c, theta)
    assert p[0].item() >= 1 - 1e-12
    assert born_jacobian(c, theta).abs().max().item() < 1e-12  # every ∂p(x)/∂θ vanishes
    mmd = build_cost("mmd", 4, sigma=1.0, target="ghz")
    t = theta.clone().requires_grad_(True)
    (g,) = torch.autograd.grad(mmd(sim.state(c, t).unsqueeze(0)).sum(), t)
    assert g.abs().max().item() < 1e-12


@pytest.mark.parametrize("remedy", ["noise", "first_block", "input_layer"])
def test_tie_break_restores_a_nonzero_gradient(remedy):
    c = identity_block_ansatz(4, 3, block_depth=2, input_layer="h" if remedy == "input_layer" else None)
    theta = initialize("identity_blocks", c, gen(1), tie_break="none" if remedy == "input_layer" else remedy)
    if remedy == "input_layer":  # the circuit is still the identity after the H layer
        assert torch.allclose(sim.probs(c, theta), torch.full((16,), 1 / 16, dtype=torch.float64), atol=1e-12)
    assert born_jacobian(c, theta).abs().max().item() > 1e-3


def test_layerwise_zero_layers_leave_the_state_unchanged():
    c = hardware_efficient(3, 3, entangling_gate="rzz")  # parametrised entangler: a zero layer is the identity
    assert param_layers(c) == [0] * 9 + [1] * 9 + [2] * 9 + [3] * 6
    theta = initialize("layerwise", c, gen(2), start_layers=1)
    assert torch.count_nonzero(theta).item() == 9
    short = hardware_efficient(3, 1, entangling_gate="rzz", final_rotations=False)
    assert torch.allclose(sim.state(c, theta), sim.state(short, theta[:9]), atol=1e-12)
    masks = layerwise_phases(c, start_layers=1, add_layers=1, partitions=2)
    assert len(masks) == 4 + 2
    assert torch.equal(sum(m.long() for m in masks[:4]), torch.ones(33, dtype=torch.long))  # growth covers all once
    assert torch.equal(masks[4] | masks[5], torch.ones(33, dtype=torch.bool)) and not (masks[4] & masks[5]).any()


def test_adainit_is_monotone_seeded_and_beats_its_first_round():
    c = hardware_efficient(4, 4)
    a = adainit_search(c, gen(5), candidates=8, rounds=6, patience=3)
    b = adainit_search(c, gen(5), candidates=8, rounds=6, patience=3)
    assert torch.equal(a.theta, b.theta) and a.score == b.score
    best = [h["best_score"] for h in a.history]
    assert best == sorted(best) and a.score == best[-1] >= a.history[0]["best_candidate_score"]
    theta = initialize("adainit", c, gen(5), candidates=8, rounds=6, patience=3)
    assert torch.equal(theta, a.theta)
    with pytest.raises(ConfigError):
        adainit_search(c, gen(), statistic="median")
