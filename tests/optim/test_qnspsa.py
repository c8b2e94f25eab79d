"""QN-SPSA: the stochastic metric is unbiased, shot estimates, training, state and registry."""
from __future__ import annotations

from types import SimpleNamespace

import pytest
import torch

from qgm.circuits import Circuit, hardware_efficient
from qgm.errors import ConfigError, ParameterError
from qgm.geometry import metric_tensor
from qgm.optim import QNSPSA, qnspsa_metric_sample
from qgm.registry import OPTIMIZERS
from qgm.sim import expval


def test_metric_estimate_is_unbiased():
    c = hardware_efficient(2, 1)
    theta = torch.tensor([0.3, -0.2, 1.1, 0.5, 0.9, -1.3, 0.2, 0.7], dtype=torch.float64)
    g = metric_tensor(c, theta)
    est = qnspsa_metric_sample(c, theta, eps=1e-3, resamplings=40000, generator=torch.Generator().manual_seed(0))
    assert torch.allclose(est, est.T)
    # each entry's standard error is about |g|·sqrt(P)/sqrt(R) ≈ 0.004 here
    assert (est - g).abs().max() < 0.02


def test_shot_estimates_are_seeded_and_noisy():
    c = Circuit(2).ry(0).cx(0, 1).ry(1)
    theta = torch.tensor([0.4, 1.0], dtype=torch.float64)

    def sample(seed, shots):
        return qnspsa_metric_sample(c, theta, 0.1, 5, shots, torch.Generator().manual_seed(seed))

    assert torch.equal(sample(1, 1000), sample(1, 1000))
    assert not torch.equal(sample(1, 1000), sample(2, 1000))
    assert torch.isfinite(sample(3, 50)).all()


@pytest.mark.parametrize("gradient", ["autograd", "spsa"])
def test_minimises_a_one_qubit_energy(gradient):
    c = Circuit(1).ry(0).rz(0)
    th = torch.nn.Parameter(torch.tensor([0.3, 0.2], dtype=torch.float64))
    opt = QNSPSA([th], lr=0.05, circuit=c, eps=0.05, lam=0.01, gradient=gradient,
                 shots=2000 if gradient == "spsa" else None, generator=torch.Generator().manual_seed(0))

    def closure():
        opt.zero_grad()
        loss = expval(c, th, "Z")
        if gradient == "autograd":
            loss.backward()
        return loss

    for _ in range(150):
        opt.step(closure)
    assert float(expval(c, th.detach(), "Z")) < -0.95
    assert opt.metric().shape == (2, 2)


def test_state_dict_carries_the_generator_and_average(check_resume_is_bit_exact):
    c = hardware_efficient(2, 1)

    def seeded(seed):
        return lambda params: QNSPSA(
            params, lr=0.01, circuit=c, shots=100, generator=torch.Generator().manual_seed(seed)
        )

    # the resumed optimizer starts from another seed: its generator must come from the state_dict
    check_resume_is_bit_exact(c, [0.3] * 8, seeded(4), seeded(99))


def test_registry_and_errors():
    c = Circuit(1).ry(0)
    th = torch.nn.Parameter(torch.tensor([0.1], dtype=torch.float64))
    opt = OPTIMIZERS.create("qnspsa", params=[th], model=SimpleNamespace(circuit=c), lr=0.1, shots=100)
    assert isinstance(opt, QNSPSA)
    with pytest.raises(ConfigError, match="unknown option"):
        OPTIMIZERS.create("qnspsa", params=[th], model=SimpleNamespace(circuit=c), metric_fn=None)
    with pytest.raises(ConfigError, match="closure"):
        QNSPSA([th], circuit=c, gradient="spsa").step()
    with pytest.raises(ParameterError, match="slots"):
        QNSPSA([torch.nn.Parameter(torch.zeros(2))], circuit=c)
    with pytest.raises(ParameterError, match="no step"):
        QNSPSA([th], circuit=c).metric()
    for bad in (dict(lam=0), dict(shots=0), dict(resamplings=0), dict(gradient="fd"), dict(solver="x")):
        with pytest.raises(ConfigError):
            QNSPSA([th], circuit=c, **bad)
