"""QCBM: bit order, sampling, shots, init, save/load, factory, and a short BAS 2×2 training."""
import math

import pytest
import torch
from scipy.stats import chisquare
from toy_data import bas22

from qgm.circuits import Circuit, In, P, chow_liu_tree
from qgm.errors import ConfigError
from qgm.losses import KLLoss, MMDLoss
from qgm.models import INITIALIZERS, QCBM, GenerativeModel, build_ansatz, register_init
from qgm.registry import MODELS


def test_bit_order_and_sampling_match_probs():
    model = QCBM(Circuit(3).x(0).ry(2))
    with torch.no_grad():
        model.theta.fill_(2 * math.acos(math.sqrt(0.3)))
    p = model.probs().detach()
    assert p[0b100].item() == pytest.approx(0.3) and p[0b101].item() == pytest.approx(0.7)
    x = model.sample(4000, generator=torch.Generator().manual_seed(0))
    assert x.dtype == torch.int64 and x.shape == (4000,)
    assert set(x.tolist()) == {0b100, 0b101}
    counts = torch.bincount(x, minlength=8)[[0b100, 0b101]].numpy()
    assert chisquare(counts, 4000 * p[[0b100, 0b101]].numpy()).pvalue > 1e-3


def test_shot_probs_are_seeded_frequencies_with_gradient():
    model = QCBM({"name": "hardware_efficient", "n_qubits": 3, "depth": 1})
    f1 = model.probs(shots=50, generator=torch.Generator().manual_seed(1))
    f2 = model.probs(shots=50, generator=torch.Generator().manual_seed(1))
    assert torch.equal(f1, f2)
    assert torch.allclose(f1 * 50, (f1 * 50).round()) and f1.sum().item() == pytest.approx(1.0)
    (f1 @ torch.arange(8.0, dtype=torch.float64)).backward()
    assert model.theta.grad.abs().max() > 0


def test_init_strategies_are_seeded():
    spec = {"name": "liu_wang", "n_qubits": 3, "depth": 2}
    a, b = QCBM(spec, seed=5), QCBM(spec, seed=5)
    assert torch.equal(a.theta, b.theta) and not torch.equal(a.theta, QCBM(spec, seed=6).theta)
    assert a.theta.dtype == torch.float64 and a.theta.min() >= -math.pi and a.theta.max() < math.pi
    small = QCBM(build_ansatz({"name": "hardware_efficient", "n_qubits": 6, "depth": 8}), init="small")
    assert small.theta.std().item() == pytest.approx(0.01, rel=0.2)
    with pytest.raises(ConfigError):
        QCBM(spec, init="zeros")
    with pytest.raises(ValueError):
        register_init("uniform")(lambda circuit, generator: torch.zeros(circuit.n_params))
    assert {"uniform", "small"} <= set(INITIALIZERS)


def test_constructor_errors():
    with pytest.raises(ConfigError):
        QCBM(Circuit(2).ry(0).ry(1, In("u")))
    with pytest.raises(ConfigError):
        QCBM({"name": "liu_wang", "n_qubits": 2, "depth": 1}, diff_method="finite-diff")
    with pytest.raises(ConfigError):
        QCBM({"name": "liu_wang", "n_qubits": 2, "depth": 1}, shots=0)
    with pytest.raises(ConfigError):
        QCBM({"name": "liu_wang", "n_qubits": 2, "width": 1})
    with pytest.raises(ConfigError):
        QCBM({"name": "tensor_network", "n_qubits": 2})


def test_save_load_round_trip_spec_and_qasm(tmp_path):
    spec_model = QCBM({"name": "liu_wang", "n_qubits": 4, "depth": 2, "pairs": [[0, 1], [1, 3]]}, seed=3, shots=100)
    user = Circuit(3).h(0).cx(0, 1).ry(2, P("b")).rz(1, P("a")).cry(2, 0)
    user_model = QCBM(user, diff_method="adjoint", seed=4)
    for model in (spec_model, user_model):
        with torch.no_grad():
            model.theta.add_(0.123)
        path = tmp_path / f"{id(model)}.pt"
        model.save(path)
        blob = torch.load(path, weights_only=True)
        assert blob["class"] == "QCBM"
        loaded = GenerativeModel.load(path)
        assert isinstance(loaded, QCBM) and loaded.config == model.config
        assert torch.equal(loaded.probs(), model.probs())
        assert loaded.shots == model.shots and loaded.diff_method == model.diff_method
    assert "ansatz" in spec_model.config and "qasm" in user_model.config
    assert not list(tmp_path.glob(".tmp-*"))


def test_factory_resolves_chow_liu_pairs():
    data = bas22()
    model = MODELS.create("qcbm", dataset=data, ansatz={"name": "liu_wang", "depth": 2, "pairs": "chow-liu"}, seed=1)
    expected = [list(p) for p in chow_liu_tree(data.bits(data.train))]
    assert model.n_bits == 4 and model.config["ansatz"]["pairs"] == expected
    assert model.n_trainable() == model.circuit.n_params == 4 * 3 * 3 - 8
    default = MODELS.create("qcbm", dataset=data)
    assert default.config["ansatz"]["name"] == "hardware_efficient"
    with pytest.raises(ConfigError):
        MODELS.create("qcbm", dataset=data, ansatz={"name": "liu_wang", "n_qubits": 5, "depth": 1})


def test_bas22_training_reaches_small_kl():
    """Exact-MMD training with Adam: KL(π‖p) < 0.05 on BAS 2×2."""
    data = bas22()
    model = MODELS.create("qcbm", dataset=data, ansatz={"name": "liu_wang", "depth": 2, "pairs": "ring"}, seed=0)
    loss = MMDLoss(4, data.target)
    kl = KLLoss(4, data.target)
    opt = torch.optim.Adam(model.parameters(), lr=0.1)
    for _ in range(200):
        opt.zero_grad()
        loss(model, None).backward()
        opt.step()
    with torch.no_grad():
        assert kl(model, None).item() < 0.05


def test_identity_block_init_from_config_options_breaks_the_tie():
    # an exact identity circuit is a stationary point of every loss of the output distribution;
    # the tie-break chosen through init_options must give a non-zero gradient (trainability spec)
    data = bas22()
    spec = {"name": "identity_blocks", "n_blocks": 2}
    grads = {}
    for tie in ("none", "first_block"):
        model = MODELS.create("qcbm", dataset=data, ansatz=spec, init="identity_blocks",
                              init_options={"tie_break": tie}, seed=3)
        loss = MMDLoss(4, data.target)
        loss(model, None).backward()
        grads[tie] = model.theta.grad.abs().max().item()
    assert grads["none"] < 1e-12 < 1e-3 < grads["first_block"]
    assert QCBM.from_config(model.config).init_options == {"tie_break": "first_block"}


def test_unknown_init_option_is_a_config_error():
    with pytest.raises(ConfigError, match="init 'small'"):
        MODELS.create("qcbm", dataset=bas22(), init="small", init_options={"colour": 1})
