"""QGAN: exact discrete generator gradients, the optimal discriminator, a short log-normal run,
continuous generators, seeded determinism, save/load, QNG as generator optimizer, bad configs."""
import copy
import math

import numpy as np
import pytest
import torch
from scipy.spatial.distance import jensenshannon

import qgm.data  # noqa: F401  (registers datasets)
import qgm.optim  # noqa: F401  (registers qng)
from qgm.errors import ConfigError
from qgm.models import GenerativeModel
from qgm.models.discriminators import DISCRIMINATORS, MLPDiscriminator, register_discriminator
from qgm.models.qgan import QGAN, latent_circuit
from qgm.registry import DATASETS, MODELS
from qgm.spaces import Reals
from qgm.train import Trainer, update


@register_discriminator("table_test")
class TableDiscriminator(torch.nn.Module):
    """Tabular discriminator on integer points 0..K-1: one logit per point."""

    def __init__(self, in_dim: int, logits=(0.0, 0.0)) -> None:
        super().__init__()
        self.logits = torch.nn.Parameter(torch.as_tensor(logits, dtype=torch.float64))

    def forward(self, x):
        return self.logits[x.reshape(-1).long()][:, None]


def one_qubit(logits, **kw):
    """RY(theta)|0> over points {0, 1} against a tabular discriminator."""
    return QGAN(1, ansatz={"name": "hardware_efficient", "depth": 0, "rotations": ["ry"]}, initial="zero",
                points=[[0.0], [1.0]], discriminator={"name": "table_test", "logits": list(logits)}, **kw)


def lognormal_qgan(**kw):
    return MODELS.create("qgan", dataset=DATASETS.create("lognormal_zoufal"), **kw)


def fixed_generator_loss(model):
    x, w = model.generator.fake(1, model.rng)
    with torch.no_grad():
        logits = model.discriminator(x)
    return model.adversarial.g_loss(logits, w)


def test_one_qubit_generator_loss_and_gradient_are_analytic():
    d_a, d_b = 0.3, 0.8
    model = one_qubit([math.log(d_a / (1 - d_a)), math.log(d_b / (1 - d_b))])
    for theta in (0.4, 1.3, 2.9):
        model.generator.qcbm.theta.data[:] = theta
        loss = fixed_generator_loss(model)
        (grad,) = torch.autograd.grad(loss, model.generator.qcbm.theta)
        expected = -(math.cos(theta / 2) ** 2 * math.log(d_a) + math.sin(theta / 2) ** 2 * math.log(d_b))
        assert loss.item() == pytest.approx(expected, rel=1e-12)
        assert grad.item() == pytest.approx(0.5 * math.sin(theta) * (math.log(d_a) - math.log(d_b)), rel=1e-10)


@pytest.mark.parametrize("loss", ["bce", "wgan-gp", "hinge"])
def test_discrete_gradient_equals_finite_differences_and_parameter_shift(loss):
    models = {m: lognormal_qgan(loss=loss, diff_method=m, init="uniform", seed=3)
              for m in ("backprop", "adjoint", "parameter-shift")}
    grads = {}
    for method, model in models.items():
        (grads[method],) = torch.autograd.grad(fixed_generator_loss(model), model.generator.qcbm.theta)
    model = models["backprop"]
    theta = model.generator.qcbm.theta
    fd = torch.zeros_like(theta)
    h = 1e-6
    with torch.no_grad():
        for k in range(theta.numel()):
            theta[k] += h
            up = fixed_generator_loss(model).item()
            theta[k] -= 2 * h
            down = fixed_generator_loss(model).item()
            theta[k] += h
            fd[k] = (up - down) / (2 * h)
    assert torch.allclose(grads["backprop"], fd, atol=1e-8)
    assert torch.allclose(grads["parameter-shift"], grads["backprop"], atol=1e-12)
    assert torch.allclose(grads["adjoint"], grads["backprop"], atol=1e-12)


def test_shot_gradient_is_unbiased_parameter_shift():
    model = lognormal_qgan(shots=4000, init="uniform", seed=1)
    exact = lognormal_qgan(init="uniform", seed=1)
    (g_exact,) = torch.autograd.grad(fixed_generator_loss(exact), exact.generator.qcbm.theta)
    shots = []
    for s in range(20):
        model.rng.manual_seed(s)
        (g,) = torch.autograd.grad(fixed_generator_loss(model), model.generator.qcbm.theta)
        shots.append(g)
    mean = torch.stack(shots).mean(0)
    assert torch.allclose(mean, g_exact, atol=0.02)
    assert not torch.equal(shots[0], shots[1])


def test_generator_objective_under_optimal_discriminator_is_minimised_at_target():
    """max_D V(D, p) = 2 JSD(pi || p) - log 4 (Goodfellow et al. 2014), smallest (= -log 4) at p = pi."""
    target = torch.tensor([0.1, 0.2, 0.3, 0.4], dtype=torch.float64)
    gen = torch.Generator().manual_seed(0)
    values = []
    for k in range(6):
        p = target if k == 0 else torch.softmax(torch.randn(4, generator=gen, dtype=torch.float64), 0)
        d_star = torch.log(target / p)  # logit of pi / (pi + p)
        model = QGAN(2, points=[[0.0], [1.0], [2.0], [3.0]], discriminator={"name": "table_test", "logits": d_star})
        value = -model.adversarial.d_loss(d_star, d_star, target, p).item()
        assert value == pytest.approx(2 * jensenshannon(target, p) ** 2 - math.log(4), abs=1e-12)
        values.append(value)
    assert values[0] == pytest.approx(-math.log(4), abs=1e-12) and min(values) == values[0]
    assert all(v > values[0] + 1e-6 for v in values[1:])


def test_trained_tabular_discriminator_reaches_optimum():
    """A tabular D trained on exact weights reaches D* = pi / (pi + p) (spec (a))."""
    target = [0.7, 0.3]
    model = one_qubit([0.0, 0.0])
    model.generator.target.copy_(torch.tensor(target, dtype=torch.float64))
    model.generator.qcbm.theta.data[:] = 1.0  # p = (cos^2 0.5, sin^2 0.5)
    opts = {"generator": torch.optim.SGD(model.player_parameters("generator"), lr=0.0),
            "discriminator": torch.optim.Adam(model.player_parameters("discriminator"), lr=0.1)}
    for _ in range(600):
        update(model.objective, None, opts, model.players())
    p = model.probs().detach().numpy()
    d = torch.sigmoid(model.discriminator.logits).detach().numpy()
    assert np.allclose(d, np.array(target) / (np.array(target) + p), atol=1e-4)


def test_short_lognormal_run_reaches_ks_below_0_15():
    data = DATASETS.create("lognormal_zoufal", seed=0)
    model = MODELS.create("qgan", dataset=data, d_steps=3, seed=0)
    spec = {role: {"name": "adam", "lr": 0.01, "betas": [0.7, 0.99], "amsgrad": True} for role in ("generator", "discriminator")}
    trainer = Trainer(model, data, optimizers=model.configure_optimizers(spec), steps=400, batch_size=2000, seed=0)
    trainer.fit()
    p = model.probs().detach().numpy()
    ks = np.abs(np.cumsum(p) - np.cumsum(data.target.numpy() if torch.is_tensor(data.target) else data.target)).max()
    assert ks < 0.15


def run_steps(model, batches, spec=None):
    spec = spec or {role: {"name": "adam", "lr": 0.02} for role in ("generator", "discriminator")}
    opts = model.configure_optimizers(spec)
    return [update(model.objective, b, opts, model.players()) for i, b in enumerate(batches)], opts


@pytest.mark.parametrize("options", [{}, {"shots": 200}, {"loss": "wgan-gp", "d_steps": 2, "gp_samples": 64}, {"loss": "hinge"}])
def test_discrete_steps_are_deterministic_under_a_seed(options):
    data = DATASETS.create("lognormal_zoufal", n_train=500)
    batches = [data.train[i * 50:(i + 1) * 50] for i in range(4)]
    logs_a, _ = run_steps(MODELS.create("qgan", dataset=data, seed=5, **options), batches)
    model_b = MODELS.create("qgan", dataset=data, seed=5, **options)
    logs_b, _ = run_steps(model_b, batches)
    assert logs_a == logs_b and "loss" in logs_a[-1]
    if options.get("loss") == "wgan-gp":
        assert logs_a[-1]["gradient_penalty"] > 0
    logs_c, _ = run_steps(MODELS.create("qgan", dataset=data, seed=6, **options), batches)
    assert logs_c != logs_a


def ring():
    return DATASETS.create("ring", n_train=2000, seed=0)


def test_continuous_generator_outputs_and_gradient():
    data = ring()
    model = MODELS.create("qgan", dataset=data, seed=0)
    assert model.mode == "continuous" and not model.tags.exact_probs and model.space == Reals(2)
    x = model.sample(300, generator=torch.Generator().manual_seed(0))
    assert x.shape == (300, 2) and x.dtype == torch.float64
    lo, hi = model.generator.shift - model.generator.scale, model.generator.shift + model.generator.scale
    assert bool(((x >= lo - 1e-12) & (x <= hi + 1e-12)).all())
    z = model.generator.latent(5, torch.Generator().manual_seed(1))
    theta = model.generator.theta

    def loss():
        return model.generator.outputs(z).square().sum()

    (grad,) = torch.autograd.grad(loss(), theta)
    h, k = 1e-6, 3
    with torch.no_grad():
        theta[k] += h
        up = loss().item()
        theta[k] -= 2 * h
        down = loss().item()
        theta[k] += h
    assert grad[k].item() == pytest.approx((up - down) / (2 * h), abs=1e-7)


@pytest.mark.parametrize("options", [{}, {"shots": 100}, {"loss": "wgan-gp"}])
def test_continuous_steps_are_deterministic_and_change_both_players(options):
    data = ring()
    batches = [data.train[i * 8:(i + 1) * 8] for i in range(3)]
    a = MODELS.create("qgan", dataset=data, seed=2, **options)
    theta0, w0 = a.generator.theta.detach().clone(), a.discriminator.net[0].weight.detach().clone()
    logs_a, _ = run_steps(a, batches)
    logs_b, _ = run_steps(MODELS.create("qgan", dataset=data, seed=2, **options), batches)
    assert logs_a == logs_b
    assert not torch.equal(theta0, a.generator.theta) and not torch.equal(w0, a.discriminator.net[0].weight)


def test_save_load_round_trip_and_resume_is_bit_exact(tmp_path):
    data = DATASETS.create("lognormal_zoufal", n_train=300)
    batches = [data.train[i * 30:(i + 1) * 30] for i in range(6)]
    model = MODELS.create("qgan", dataset=data, shots=100, seed=1)
    logs, opts = run_steps(model, batches[:3])
    model.save(tmp_path / "m.pt")
    loaded = GenerativeModel.load(tmp_path / "m.pt")
    assert isinstance(loaded, QGAN) and torch.equal(loaded.probs(), model.probs())
    g = torch.Generator()
    x = model.sample(64, generator=torch.Generator().manual_seed(0))
    assert torch.equal(loaded.sample(64, generator=g.manual_seed(0)), x)
    opts_l = loaded.configure_optimizers({role: {"name": "adam", "lr": 0.02} for role in ("generator", "discriminator")})
    for role in opts:
        opts_l[role].load_state_dict(copy.deepcopy(opts[role].state_dict()))  # as from a checkpoint file
    rest = [update(model.objective, b, opts, model.players()) for i, b in enumerate(batches[3:])]
    rest_l = [update(loaded.objective, b, opts_l, loaded.players()) for i, b in enumerate(batches[3:])]
    assert rest == rest_l


def test_continuous_save_load(tmp_path):
    model = MODELS.create("qgan", dataset=ring(), seed=4)
    model.save(tmp_path / "c.pt")
    loaded = GenerativeModel.load(tmp_path / "c.pt")
    x = model.sample(10, generator=torch.Generator().manual_seed(0))
    assert torch.equal(loaded.sample(10, generator=torch.Generator().manual_seed(0)), x)


@pytest.mark.parametrize("dataset", ["lognormal_zoufal", "ring"])
def test_qng_runs_as_generator_optimizer(dataset):
    data = DATASETS.create(dataset, n_train=400)
    model = MODELS.create("qgan", dataset=data, seed=0)
    spec = {"generator": {"name": "qng", "lr": 0.05, "lam": 1e-3}, "discriminator": {"name": "adam", "lr": 0.01}}
    opts = model.configure_optimizers(spec)
    assert type(opts["generator"]).__name__ == "QNG"
    theta0 = [p.detach().clone() for p in model.player_parameters("generator")]
    batch_size = 64
    for i in range(3):
        logs = update(model.objective, data.train[i * batch_size:(i + 1) * batch_size], opts, model.players())
        assert math.isfinite(logs["loss"])
    assert any(not torch.equal(a, b) for a, b in zip(theta0, model.player_parameters("generator")))


def test_discriminator_is_swappable_and_default_is_mlp():
    data = DATASETS.create("lognormal_zoufal")
    assert isinstance(MODELS.create("qgan", dataset=data).discriminator, MLPDiscriminator)
    model = MODELS.create("qgan", dataset=data, disc_input="bits", discriminator={"name": "mlp", "hidden": [4]})
    assert model.discriminator.in_dim == 3 and "table_test" in DISCRIMINATORS
    swapped = one_qubit([0.5, -0.5])
    assert isinstance(swapped.discriminator, TableDiscriminator)


def test_latent_circuit_layout():
    c = latent_circuit(3, 3, depth=2, reupload=True)
    assert c.n_inputs == 3 and c.n_params == 2 * 3 * 2 + 3  # re-uploads share the slots z0..z2
    assert latent_circuit(3, 2, depth=2, reupload=False).n_inputs == 2


@pytest.mark.parametrize("options, match", [
    ({"n_qubits": 2}, "bins"),
    ({"ansatz": {"name": "hardware_efficient", "depth": 1, "n_qubits": 2}}, "bins"),
    ({"loss": "lsgan"}, "lsgan"),
    ({"d_steps": 0}, "d_steps"),
    ({"discriminator": {"name": "nope"}}, "nope"),
    ({"discriminator": {"name": "mlp", "widths": [3]}}, "widths"),
    ({"mode": "continuous"}, "continuous"),
    ({"initial": "plus"}, "initial"),
    ({"disc_input": "pixels"}, "disc_input"),
    ({"diff_method": "magic"}, "diff_method"),
    ({"shots": 0}, "shots"),
])
def test_bad_discrete_configs_are_config_errors(options, match):
    with pytest.raises(ConfigError, match=match):
        lognormal_qgan(**options)


@pytest.mark.parametrize("options, match", [
    ({"n_qubits": 1}, "too few qubits"),
    ({"ansatz": {"depth": 2, "layers": 3}}, "layers"),
    ({"mode": "discrete"}, "dataset of Bits"),
])
def test_bad_continuous_configs_are_config_errors(options, match):
    with pytest.raises(ConfigError, match=match):
        MODELS.create("qgan", dataset=ring(), **options)


def test_bad_runtime_inputs_are_config_errors():
    model = MODELS.create("qgan", dataset=ring())
    opts = model.configure_optimizers({})
    with pytest.raises(ConfigError, match="batch_size"):
        update(model.objective, None, opts, model.players())
    with pytest.raises(ConfigError, match="no optimizer"):
        update(model.objective, ring().train[:8], {"generator": opts["generator"]}, model.players())
    with pytest.raises(ConfigError, match="unknown"):
        model.configure_optimizers({"critic": {"name": "adam"}})
