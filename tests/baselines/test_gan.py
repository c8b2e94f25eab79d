"""Classical GAN baseline: same discriminator as the QGAN, matched generator size, contract, determinism."""
import numpy as np
import pytest
import torch

import qgm.data  # noqa: F401  (registers datasets)
from qgm.baselines.gan import GAN, mlp_param_count, mlp_width_for
from qgm.errors import ConfigError, ParameterError
from qgm.models import GenerativeModel
from qgm.models.qgan import QGAN  # noqa: F401  (registers qgan)
from qgm.registry import DATASETS, MODELS
from qgm.spaces import Reals
from qgm.train import Trainer, update


def ring():
    return DATASETS.create("ring", n_train=1000, seed=0)


def test_registered_and_same_discriminator_as_qgan():
    assert "gan" in MODELS and "qgan" in MODELS
    for data in (ring(), DATASETS.create("lognormal_zoufal")):
        g, q = MODELS.create("gan", dataset=data, seed=3), MODELS.create("qgan", dataset=data, seed=3)
        assert g.config["discriminator"] == q.config["discriminator"]
        for a, b in zip(g.discriminator.state_dict().values(), q.discriminator.state_dict().values()):
            assert torch.equal(a, b)


def test_generator_parameter_count_matches_the_qgan():
    data = ring()
    g, q = MODELS.create("gan", dataset=data), MODELS.create("qgan", dataset=data)
    n_g, n_q = sum(p.numel() for p in g.player_parameters("generator")), sum(p.numel() for p in q.player_parameters("generator"))
    assert abs(n_g - n_q) <= 5  # one hidden unit of k -> h -> d costs k + 1 + d = 5 parameters
    assert mlp_param_count([2, mlp_width_for(100, 2, 2), 2]) == 102  # h = 20 (102) beats h = 19 (97)


def test_categorical_generator_gradient_is_exact():
    """d/dlogits sum_x softmax(l)_x c_x = p (c - p.c) for the fixed per-point losses c."""
    model = MODELS.create("gan", dataset=DATASETS.create("lognormal_zoufal"), seed=0)
    model.generator.logits.data = torch.linspace(-1, 1, 8, dtype=torch.float64)
    x, w = model.generator.fake(1, model.rng)
    with torch.no_grad():
        c = torch.nn.functional.softplus(-model.discriminator(x)).reshape(-1)
    loss = model.adversarial.g_loss(model.discriminator(x).detach(), w)
    (grad,) = torch.autograd.grad(loss, model.generator.logits)
    p = torch.softmax(model.generator.logits, 0).detach()
    assert torch.allclose(grad, p * (c - (p * c).sum()), atol=1e-14)


@pytest.mark.parametrize("loss", ["bce", "wgan-gp", "hinge"])
def test_steps_are_deterministic_under_a_seed(loss):
    data = ring()
    batches = [data.train[i * 16:(i + 1) * 16] for i in range(3)]

    def run(seed):
        model = MODELS.create("gan", dataset=data, loss=loss, seed=seed)
        opts = model.configure_optimizers({})
        return [update(model.objective, b, opts, model.players()) for i, b in enumerate(batches)]

    assert run(1) == run(1) and run(1) != run(2)


def test_contract_and_save_load(tmp_path):
    for data in (ring(), DATASETS.create("lognormal_zoufal")):
        model = MODELS.create("gan", dataset=data, seed=0)
        x = model.sample(20, generator=torch.Generator().manual_seed(0))
        assert x.shape == ((20, 2) if isinstance(data.space, Reals) else (20,))
        model.save(tmp_path / "g.pt")
        loaded = GenerativeModel.load(tmp_path / "g.pt")
        assert isinstance(loaded, GAN) and torch.equal(loaded.sample(20, generator=torch.Generator().manual_seed(0)), x)
    assert model.tags.exact_probs and model.probs().sum().item() == pytest.approx(1.0)


def test_trainer_runs_the_baseline_on_the_ring():
    data = ring()
    model = MODELS.create("gan", dataset=data, seed=0)
    trainer = Trainer(model, data, optimizers=model.configure_optimizers({}), steps=30, batch_size=64, seed=0)
    trainer.fit()
    assert np.isfinite(model.sample(100, generator=torch.Generator().manual_seed(0)).numpy()).all()


def test_bad_configs_are_config_errors():
    with pytest.raises(ConfigError, match="either"):
        MODELS.create("gan", dataset=ring(), hidden=[4], match_params=20)
    with pytest.raises(ConfigError, match="categorical"):
        MODELS.create("gan", dataset=DATASETS.create("lognormal_zoufal"), hidden=[4])
    with pytest.raises(ConfigError, match="mode"):
        GAN(mode="wavelet")
    with pytest.raises(ConfigError, match="out_dim"):
        GAN(mode="continuous")
    with pytest.raises(ParameterError, match="shots"):
        MODELS.create("gan", dataset=DATASETS.create("lognormal_zoufal")).probs(shots=10)
