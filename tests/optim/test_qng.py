"""QNG: closed-form steps, limits, solvers, momentum, recomputation, state, registry, MMD training."""
from __future__ import annotations

import math
from types import SimpleNamespace

import pytest
import torch

from qgm.circuits import Circuit, In, hardware_efficient
from qgm.errors import ConfigError, ParameterError
from qgm.geometry import metric_tensor
from qgm.optim import QNG, precondition
from qgm.registry import OPTIMIZERS
from qgm.sim import expval, probs


def param(values) -> torch.nn.Parameter:
    return torch.nn.Parameter(torch.tensor(values, dtype=torch.float64))


@pytest.mark.parametrize("approx", [None, "block-diag", "diag"])
def test_one_qubit_step_is_the_closed_form(approx):
    # L = <Z> = cos θ after RY(θ): g = 1/4, so θ <- θ - η·4·(-sin θ) (spec test 3)
    c = Circuit(1).ry(0)
    th = param([0.4])
    opt = QNG([th], lr=0.1, circuit=c, approx=approx)
    for _ in range(4):
        before = float(th.detach())
        opt.zero_grad()
        expval(c, th, "Z").backward()
        opt.step()
        assert float(th.detach()) == pytest.approx(before + 0.1 * 4 * math.sin(before), abs=1e-13)


def test_large_lambda_is_scaled_gradient_descent():
    c = hardware_efficient(2, 1)
    lam, eta = 1e9, 0.05
    a, b = param([0.3, -0.2, 1.1, 0.5, 0.9, -1.3, 0.2, 0.7]), param([0.3, -0.2, 1.1, 0.5, 0.9, -1.3, 0.2, 0.7])
    qng = QNG([a], lr=eta * lam, circuit=c, lam=lam, solver="solve")
    sgd = torch.optim.SGD([b], lr=eta)
    for _ in range(5):
        for p, opt in ((a, qng), (b, sgd)):
            opt.zero_grad()
            expval(c, p, [(1.0, "ZZ"), (0.5, "XI")]).backward()
            opt.step()
    torch.testing.assert_close(a, b, atol=1e-7, rtol=0)


def test_momentum_is_heavy_ball():
    # with the identity metric QNG with momentum is SGD with momentum (buffer = ρ·buffer + d)
    c = hardware_efficient(2, 1)
    a, b = param([0.1] * 8), param([0.1] * 8)
    qng = QNG([a], lr=0.1, metric_fn=lambda t: torch.eye(t.numel(), dtype=t.dtype), momentum=0.9)
    sgd = torch.optim.SGD([b], lr=0.1, momentum=0.9)
    for _ in range(6):
        for p, opt in ((a, qng), (b, sgd)):
            opt.zero_grad()
            expval(c, p, "ZX").backward()
            opt.step()
    torch.testing.assert_close(a, b, atol=1e-14, rtol=0)


def test_recompute_every():
    calls = []

    def metric_fn(t):
        calls.append(t.clone())
        return torch.eye(t.numel(), dtype=t.dtype)

    th = param([0.5, 0.1])
    opt = QNG([th], lr=0.1, metric_fn=metric_fn, recompute_every=3)
    for _ in range(7):
        opt.zero_grad()
        (th**2).sum().backward()
        opt.step()
    assert len(calls) == 3  # steps 0, 3, 6


def test_solvers_on_a_singular_metric():
    # RZ on |0⟩ only changes the global phase: the metric is singular
    c = Circuit(1).rz(0).ry(0)
    g = metric_tensor(c, torch.tensor([0.3, 0.8], dtype=torch.float64))
    grad = torch.tensor([0.0, 1.0], dtype=torch.float64)
    d_pinv = precondition(g, grad, 0.0, "pinv")
    torch.testing.assert_close(d_pinv, torch.tensor([0.0, 4.0], dtype=torch.float64))
    torch.testing.assert_close(precondition(g, grad, 0.0, "lstsq"), d_pinv)
    with pytest.raises(ParameterError, match="singular"):
        precondition(g, grad, 0.0, "solve")
    for solver in ("pinv", "lstsq", "solve"):
        torch.testing.assert_close(
            precondition(g, grad, 1e-3, solver), torch.linalg.solve(g + 1e-3 * torch.eye(2, dtype=g.dtype), grad)
        )


def test_state_dict_round_trip_is_bit_exact(check_resume_is_bit_exact):
    c = hardware_efficient(2, 1)

    def make(params):
        return QNG(params, lr=0.05, circuit=c, momentum=0.5, recompute_every=2)

    check_resume_is_bit_exact(c, [0.2] * 8, make, make)


def test_input_slots_average_the_metric():
    c = Circuit(1).rx(0, In("x")).ry(0)
    th = param([0.3])
    x = torch.tensor([[0.2], [1.0]], dtype=torch.float64)
    opt = QNG([th], lr=0.1, circuit=c, approx=None, inputs=x)
    opt.zero_grad()
    expval(c, th, "Z", x).sum().backward()
    opt.step()
    want = metric_tensor(c, torch.tensor([0.3], dtype=torch.float64), inputs=x).mean(0)
    torch.testing.assert_close(opt.metric(), want)


def test_registry_factory():
    c = Circuit(1).ry(0)
    th = param([0.4])
    opt = OPTIMIZERS.create("qng", params=[th], model=SimpleNamespace(circuit=c), lr=0.2, approx=None)
    assert isinstance(opt, QNG) and opt.param_groups[0]["lr"] == 0.2
    with pytest.raises(ConfigError, match="unknown option"):
        OPTIMIZERS.create("qng", params=[th], model=SimpleNamespace(circuit=c), learning_rate=0.2)
    with pytest.raises(ConfigError, match="circuit"):
        OPTIMIZERS.create("qng", params=[th], model=None)


def test_errors():
    c = Circuit(2).ry(0).ry(1)
    with pytest.raises(ParameterError, match="2 trainable slots"):
        QNG([param([0.1, 0.2, 0.3])], circuit=c)
    with pytest.raises(ConfigError, match="exactly one"):
        QNG([param([0.1, 0.2])])
    for bad in (dict(lr=0), dict(lam=-1), dict(momentum=1.0), dict(recompute_every=0), dict(solver="inv"),
                dict(approx="full"), dict(layering="greedy")):
        with pytest.raises(ConfigError):
            QNG([param([0.1, 0.2])], circuit=c, **bad)


def test_qng_trains_a_qcbm_on_mmd_faster_than_gd():
    c = hardware_efficient(3, 2, rotations=("ry",))
    x = torch.arange(8, dtype=torch.float64)
    target = torch.exp(-((x - 3.5) ** 2) / (2 * 1.5**2))
    target = target / target.sum()
    kernel = sum(torch.exp(-((x[:, None] - x[None, :]) ** 2) / (2 * s * s)) for s in (0.5, 1.0, 2.0, 4.0)) / 4

    def mmd(p):
        r = p - target
        return r @ kernel @ r

    finals = {}
    for name in ("qng", "gd"):
        th = torch.nn.Parameter(torch.rand(c.n_params, generator=torch.Generator().manual_seed(1), dtype=torch.float64) * 0.2)
        opt = QNG([th], lr=0.05, circuit=c, lam=1e-3) if name == "qng" else torch.optim.SGD([th], lr=0.05)
        for _ in range(100):
            opt.zero_grad()
            loss = mmd(probs(c, th))
            loss.backward()
            opt.step()
        finals[name] = float(mmd(probs(c, th.detach())))
    start = float(mmd(probs(c, torch.rand(c.n_params, generator=torch.Generator().manual_seed(1), dtype=torch.float64) * 0.2)))
    assert finals["qng"] < 0.005 * start
    assert finals["qng"] < 0.2 * finals["gd"]
