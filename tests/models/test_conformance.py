"""One protocol, every registered model: the conformance suite of docs/notes/CONTRACTS.md.

The suite is parametrised from the MODELS registry (plus the example model of
CONTRACTS.md, executed from the document itself): a model registered anywhere gets
every check for free. Each model is built on a tiny dataset of the first space its
factory accepts, and checked according to its capability tags.
"""
import re
from pathlib import Path

import numpy as np
import pytest
import torch
from toy_data import bas22

import qgm.baselines  # noqa: F401  (registers the baselines)
import qgm.data  # noqa: F401  (registers the datasets)
import qgm.data.qm9  # noqa: F401  (registers qm9)
import qgm.models  # noqa: F401  (registers the models)
import qgm.models.qgan_hg  # noqa: F401  (registers molgan and qgan_hg)
from qgm.errors import ConfigError, QGMError
from qgm.losses import KLLoss
from qgm.models import GenerativeModel
from qgm.registry import DATASETS, MODELS
from qgm.spaces import Bits, DensityMatrices, Graphs, Images, PureStates, Reals, check_compatible
from qgm.train import Trainer, load_config, read_records, run_config
from qgm.train.run import load_plugins

load_plugins()  # every model a config can name (plugin modules included)

CONTRACTS = Path(__file__).resolve().parents[2] / "docs" / "notes" / "CONTRACTS.md"
QM9_SAMPLE = Path(__file__).resolve().parents[1] / "data" / "qm9_sample.smi"


def _example_source() -> str:
    text = CONTRACTS.read_text()
    return re.search(r"<!-- example-model -->\s*```python\n(.*?)```", text, re.S).group(1)


if "independent_bits" not in MODELS:
    exec(compile(_example_source(), str(CONTRACTS), "exec"), {"__name__": "contracts_example"})

def _qm9_tiny():
    pytest.importorskip("rdkit")
    return DATASETS.create("qm9", n_molecules=32, source=str(QM9_SAMPLE))


#: A tiny dataset per space class (the first one a model's factory accepts is used).
TINY = {
    Bits: bas22,
    Reals: lambda: DATASETS.create("ring", n_train=64, seed=0),
    Images: lambda: DATASETS.create("digits", limit=16),
    PureStates: lambda: DATASETS.create("ghz", n_qubits=3),
    Graphs: lambda: _qm9_tiny(),
    DensityMatrices: lambda: DATASETS.create("density_ensemble", source={"name": "haar_states", "n_qubits": 1,
                                                                          "n_train": 16, "n_test": 0}, depolarise=0.5),
}
#: Per-model tiny datasets where the space's default does not fit (the VQT needs a known Hamiltonian).
TINY_FOR = {"vqt": {DensityMatrices: lambda: DATASETS.create("tfim_gibbs", n_qubits=3, J=1.0, h=0.7)}}
#: Options that keep a model small or well-conditioned in these tests (default: none).
_TINY_GRAPH_GAN = {"hidden": [8], "critic": {"conv": [8, 4], "aggregate": 8, "dense": [8]}, "d_steps": 2}
SMALL = {"rbm": {"init_scale": 0.3}, "patch_qgan": {"q_depth": 2}, "molgan": _TINY_GRAPH_GAN,
         "qgan_hg": {**_TINY_GRAPH_GAN, "n_qubits": 4}, "quddpm": {"steps": 3, "layers": 2},
         "quantum_direct_transport": {"layers": 3}, "state_qgan": {"layers": 3, "critic_layers": 2},
         "quantum_flow_matching": {"hidden": [16], "ode_steps": 4}}
NAMES = MODELS.names()
#: Every (model, accepted space with a tiny dataset) pair.
CASES = [pytest.param(name, space, id=f"{name}-{space.__name__}")
         for name in NAMES for space in MODELS.accepts(name) if space in TINY]


def tiny(name, space):
    """The tiny dataset ``name`` is built on in ``space``."""
    return TINY_FOR.get(name, {}).get(space, TINY[space])()


def build(name, space, seed=0, dataset=None):
    return MODELS.create(name, dataset=dataset or tiny(name, space), seed=seed, **SMALL.get(name, {}))


def draw(model, n=7, seed=0):
    return model.sample(n, generator=torch.Generator().manual_seed(seed))


def same(space, a, b):
    return np.array_equal(space.to_numpy(a), space.to_numpy(b))


@pytest.mark.parametrize("name, space", CASES)
def test_space_and_sampling(name, space):
    data = tiny(name, space)
    model = build(name, space, dataset=data)
    assert isinstance(model, GenerativeModel) and model.n_trainable() > 0
    check_compatible(model.space, data.space, name, data.name, prepares_state=model.tags.prepares_state)
    x = model.space.check(draw(model), "samples")
    assert model.space.length(x) == 7 and same(model.space, x, draw(model))
    first = x if isinstance(x, torch.Tensor) else x[0]
    assert first.device == next(model.parameters()).device
    assert model.space.to_numpy(x).shape[0] == 7


@pytest.mark.parametrize("name, space", CASES)
def test_bad_sample_counts_are_one_line_errors(name, space):
    model = build(name, space)
    for n in (0, -1, 2.5, True):
        with pytest.raises(QGMError) as info:
            model.sample(n, generator=torch.Generator().manual_seed(0))
        assert "\n" not in str(info.value) and "n" in str(info.value)


@pytest.mark.parametrize("name, space", CASES)
def test_exact_probabilities_by_tag(name, space):
    model = build(name, space)
    if not model.tags.exact_probs:
        with pytest.raises(ConfigError):
            model.probs()
        return
    p = model.probs()
    size = 1 << model.space.n
    assert p.shape == (size,) and p.dtype == torch.float64 and p.sum().item() == pytest.approx(1.0, abs=1e-12)
    idx = torch.tensor([0, size - 1])
    assert torch.allclose(model.log_prob(idx).exp(), p[idx], rtol=1e-12)
    with pytest.raises(QGMError):
        model.log_prob(torch.tensor([0.5]))
    with pytest.raises(QGMError):
        model.log_prob(torch.tensor([size]))


@pytest.mark.parametrize("name, space", CASES)
def test_seeds_and_save_load_round_trip(name, space, tmp_path):
    data = tiny(name, space)
    model = build(name, space, dataset=data)
    again = build(name, space, dataset=data)
    assert all(torch.equal(v, again.state_dict()[k]) for k, v in model.state_dict().items()
               if isinstance(v, torch.Tensor))
    other = build(name, space, seed=1, dataset=data)
    assert any(not torch.equal(a, b) for a, b in zip(other.parameters(), model.parameters()))
    model.save(tmp_path / "m.pt")
    loaded = GenerativeModel.load(tmp_path / "m.pt")
    assert type(loaded) is type(model) and loaded.config == model.config
    assert same(model.space, draw(loaded), draw(model))
    blob = torch.load(tmp_path / "m.pt", weights_only=True)
    assert set(blob) == {"class", "config", "state_dict"}


def _trainer(model, data, steps):
    loss = None if model.tags.owns_objective else KLLoss(model.n_bits, data.target)
    batch = None if data.has_exact_target and (model.tags.exact_probs or loss is None) else 8
    if isinstance(data.space, (Reals, Images, Graphs)):
        batch = 8
    opts = model.configure_optimizers({} if model.tags.owns_objective else {"name": "adam", "lr": 0.05})
    return Trainer(model, data, loss, opts, steps=steps, batch_size=batch, seed=3)


@pytest.mark.parametrize("name, space", CASES)
def test_conditional_sampling_by_tag(name, space):
    """Models tagged ``conditional`` sample under fixed bits with both methods, seeded."""
    model = build(name, space)
    if not model.tags.conditional:
        pytest.skip(f"{name} is not tagged conditional")
    for method in ("reject", "amplify"):
        x = model.sample(9, generator=torch.Generator().manual_seed(0), condition={0: 1}, method=method)
        again = model.sample(9, generator=torch.Generator().manual_seed(0), condition="x0=1", method=method)
        assert same(model.space, x, again)
        assert model.space.to_numpy(model.space.check(x, "samples"))[:, 0].tolist() == [1] * 9


@pytest.mark.parametrize("name, space", CASES)
def test_training_resumes_bit_exactly(name, space):
    data = tiny(name, space)
    model = build(name, space, dataset=data)
    if not model.tags.owns_objective and not model.tags.exact_probs:
        pytest.skip(f"{name} has neither its own objective nor exact probabilities for the KL loss")
    whole = _trainer(model, data, 4)
    whole.fit()
    first = _trainer(build(name, space, dataset=data), data, 2)
    first.fit()
    state = first.state_dict()
    resumed = _trainer(build(name, space, dataset=data), data, 4)
    resumed.load_state_dict(state)
    resumed.fit()
    for key, value in whole.model.state_dict().items():
        if isinstance(value, torch.Tensor):
            assert torch.equal(value, resumed.model.state_dict()[key]), key
    fresh = build(name, space, dataset=data)
    assert any(not torch.equal(a, b) for a, b in zip(whole.model.parameters(), fresh.parameters()))


def test_every_registered_model_declares_its_spaces():
    assert {"qcbm", "qgan", "patch_qgan", "rbm", "made", "gan", "independent_bits", "molgan", "qgan_hg"} <= set(NAMES)
    assert all(MODELS.accepts(name) for name in NAMES)
    assert all(any(space in TINY for space in MODELS.accepts(name)) for name in NAMES)


def test_mismatched_space_is_refused_in_one_line(tmp_path):
    cfg = {"name": "m", "dataset": {"name": "digits", "limit": 8}, "model": {"name": "qcbm"},
           "loss": {"name": "kl"}, "optimizer": {"name": "adam", "lr": 0.1}, "train": {"steps": 1}}
    with pytest.raises(ConfigError, match=r"^model: 'qcbm' trains on Bits or PureStates data but dataset "
                                          r"'digits' holds Images\(8, 8\)"):
        run_config(cfg, tmp_path / "r")


def test_example_model_trains_through_the_cli_config_and_resumes(tmp_path):
    cfg = {"name": "ind", "seed": 2, "dataset": {"name": "bas", "rows": 2, "cols": 2},
           "model": {"name": "independent_bits"}, "loss": {"name": "kl"},
           "optimizer": {"name": "adam", "lr": 0.1},
           "train": {"steps": 40, "eval_every": 10, "checkpoint_every": 10, "plots": False, "progress": False},
           "metrics": ["kl"]}
    whole = run_config(cfg, tmp_path / "whole")
    first = run_config({**cfg, "train": {**cfg["train"], "steps": 20}}, tmp_path / "split")
    assert first["steps"] == 20
    resumed = run_config(load_config(tmp_path / "split" / "config.yaml", ["train.steps=40"]), tmp_path / "split",
                         resume=True)
    assert resumed["metrics"] == whole["metrics"] and whole["metrics"]["kl"] < 1.0
    assert read_records(tmp_path / "split" / "metrics.jsonl") == read_records(tmp_path / "whole" / "metrics.jsonl")
    a = GenerativeModel.load(tmp_path / "whole" / "model.pt")
    b = GenerativeModel.load(tmp_path / "split" / "model.pt")
    assert torch.equal(a.logits, b.logits)
