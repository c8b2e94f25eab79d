"""One contract, every registered model: sample, probs, log_prob, n_trainable, seeds, save/load, losses."""
import pytest
import torch

import qgm.baselines  # noqa: F401  (registers rbm, made, gan)
import qgm.models  # noqa: F401  (registers qcbm, qgan)
from qgm.errors import ParameterError
from qgm.losses import KLLoss, MMDLoss, NLLLoss
from qgm.models import GenerativeModel
from qgm.registry import MODELS
from toy_data import bas22

NAMES = ["qcbm", "rbm", "made", "qgan", "gan"]


def build(name: str, seed: int = 0) -> GenerativeModel:
    options = {
        "rbm": {"init_scale": 0.3}, "qgan": {"disc_input": "bits"}, "gan": {"disc_input": "bits"},
    }.get(name, {})
    return MODELS.create(name, dataset=bas22(), seed=seed, **options)


def test_all_models_are_registered():
    assert set(NAMES) <= set(MODELS.names())


@pytest.mark.parametrize("name", NAMES)
def test_contract(name, tmp_path):
    model = build(name)
    assert isinstance(model, GenerativeModel) and isinstance(model, torch.nn.Module)
    assert model.n_bits == 4 and model.has_probs and model.n_trainable() > 0
    x = model.sample(50, generator=torch.Generator().manual_seed(0))
    assert x.dtype == torch.int64 and x.shape == (50,) and 0 <= int(x.min()) and int(x.max()) < 16
    assert torch.equal(x, model.sample(50, generator=torch.Generator().manual_seed(0)))
    p = model.probs()
    assert p.shape == (16,) and p.dtype == torch.float64 and p.sum().item() == pytest.approx(1.0, abs=1e-12)
    idx = torch.tensor([0, 5, 15])
    assert torch.allclose(model.log_prob(idx).exp(), p[idx], rtol=1e-12)
    for key, value in build(name, seed=0).state_dict().items():
        assert torch.equal(value, model.state_dict()[key])
    assert any(not torch.equal(a, b) for a, b in zip(build(name, seed=1).parameters(), model.parameters()))
    path = tmp_path / "model.pt"
    model.save(path)
    loaded = GenerativeModel.load(path)
    assert type(loaded) is type(model) and torch.equal(loaded.probs(), p)
    assert loaded.n_trainable() == model.n_trainable()


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("loss_cls", [MMDLoss, KLLoss, NLLLoss])
def test_exact_losses_train_every_model(name, loss_cls):
    data = bas22()
    model = build(name)
    loss = loss_cls(4, data.target)
    opt = torch.optim.Adam(model.parameters(), lr=0.05)
    first = loss(model, None).item()
    for _ in range(30):
        opt.zero_grad()
        loss(model, None).backward()
        opt.step()
    assert loss(model, None).item() < first


@pytest.mark.parametrize("name", ["rbm", "made"])
def test_classical_models_refuse_shots(name):
    with pytest.raises(ParameterError):
        MMDLoss(4, bas22().target, shots=10)(build(name), None)
