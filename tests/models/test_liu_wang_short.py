"""The Liu & Wang reproduction's code path (benchmarks/repro_liu_wang.py) on BAS 2×2, in seconds."""
import importlib.util
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

_SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "repro_liu_wang.py"


@pytest.fixture(scope="module")
def repro():
    spec = importlib.util.spec_from_file_location("repro_liu_wang", _SCRIPT)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses resolve their module by name
    spec.loader.exec_module(module)
    yield module
    sys.modules.pop(spec.name, None)


def test_exact_lbfgs_bas22_reaches_valid_samples(repro):
    """L-BFGS-B on the exact Hamming MMD: > 95 % valid samples and a 1000-fold MMD drop."""
    problem = repro.bas_problem(2, 2, depth=4, seed=0)
    result = repro.run("bas-exact", problem, "lbfgs", 30, log_every=5, eval_samples=4000)
    assert result.n_params == 5 * 4 * 3 - 8
    assert result.valid_sampled > 0.95 and result.valid_mass > 0.95
    assert result.final_mmd < 1e-3 * result.initial_mmd
    assert result.curve[0][0] == 0 and result.curve[-1][0] == result.steps


def test_shift_gradient_of_exact_probs_equals_adjoint(repro):
    """(p − π)ᵀK(p⁺ − p⁻) on exact shifted probabilities is the exact MMD gradient."""
    problem = repro.bas_problem(2, 2, depth=2, seed=3)
    theta = problem.model.theta.detach().clone()
    with torch.no_grad():
        freqs = repro.sim.probs(problem.model.circuit, repro.shift_batch(theta))
    shift = repro.shift_mmd_gradient(freqs, problem.target, problem.loss.kernel.dense())
    adjoint = repro.exact_grad_fn(problem)(theta)
    assert torch.allclose(shift, adjoint, atol=1e-12)


def test_counts_sampler_gradient_is_unbiased(repro):
    """Mean of the shot gradient over draws -> exact gradient (within 4 standard errors)."""
    problem = repro.bas_problem(2, 2, depth=1, seed=1)
    theta = problem.model.theta.detach().clone()
    exact = repro.exact_grad_fn(problem)(theta).numpy()
    grad = repro.counts_grad_fn(problem, shots=200, seed=0)
    draws = np.stack([grad(theta).numpy() for _ in range(250)])
    stderr = draws.std(0, ddof=1) / np.sqrt(len(draws))
    assert np.all(np.abs(draws.mean(0) - exact) < 4 * stderr + 1e-12)
