"""PatchQGAN: patch assembly, post-selection, gradients, config errors, training steps, save/load."""
import math
from typing import Optional

import numpy as np
import pytest
import torch

import qgm.models.patch_qgan  # noqa: F401  (registers patch_qgan)
from qgm.errors import ConfigError, ParameterError, QGMError
from qgm.models import GenerativeModel
from qgm.models.patch_qgan import PatchQGAN, max_normalise, patch_circuit, postselect
from qgm.models.scenarios import scenarios
from qgm.registry import MODELS
from qgm.spaces import Bits, Images, Reals
from qgm.train import update

HALF = math.pi / 2


def toy(**kw) -> PatchQGAN:
    """Two sub-generators of 2 qubits (1 ancilla), depth 2: images of 2 × 2 pixels."""
    options = dict(n_pixels=4, n_qubits=2, n_ancilla=1, q_depth=2, seed=0)
    options.update(kw)
    return PatchQGAN(**options)


def test_circuit_layout_matches_the_demo():
    c = patch_circuit(5, 6)
    assert c.n_qubits == 5 and c.n_params == 30 and c.input_names == tuple(f"z{i}" for i in range(5))
    assert c.param_names[:6] == ("w0_0", "w0_1", "w0_2", "w0_3", "w0_4", "w1_0")
    assert sum(op.name == "cz" for op in c.ops) == 6 * 4


def test_postselect_renormalises_on_ancilla_zero():
    # wire 0 = ancilla = most significant bit: the first half of the indices has ancilla 0
    p = torch.tensor([[0.1, 0.3, 0.2, 0.4], [0.0, 0.0, 0.5, 0.5]], dtype=torch.float64)
    g = postselect(p, 1)
    assert torch.allclose(g[0], torch.tensor([0.25, 0.75], dtype=torch.float64))
    assert torch.equal(g[1], torch.zeros(2, dtype=torch.float64))  # P(anc=0) = 0 guarded, no NaN
    assert torch.allclose(max_normalise(g[0]), torch.tensor([1 / 3, 1.0], dtype=torch.float64))
    assert torch.equal(max_normalise(g[1]), torch.zeros(2, dtype=torch.float64))


def test_two_patch_toy_has_the_analytic_image():
    model = toy()
    with torch.no_grad():
        # sub-generator 0: identity -> |00>, patch [1, 0].
        # sub-generator 1: RY(π/2)⊗RY(π/2), CZ, then RY(π/2) on wire 1 -> (|01> + |10>)/√2:
        # P(anc=0) = 1/2, conditioned patch [0, 1] (the demo's division by the total would give [0, 1/2]).
        model.generator.weights.copy_(torch.tensor([[0.0, 0, 0, 0], [HALF, HALF, 0, HALF]], dtype=torch.float64))
    z = torch.zeros(1, 2, dtype=torch.float64)
    assert torch.allclose(model.generate(z), torch.tensor([[1.0, 0.0, 0.0, 1.0]], dtype=torch.float64), atol=1e-12)
    # latent on the data wire: patch ∝ [cos²(α/2), sin²(α/2)] / max for the identity sub-generator
    alpha = 1.1
    z = torch.tensor([[0.0, alpha]], dtype=torch.float64)
    c2, s2 = math.cos(alpha / 2) ** 2, math.sin(alpha / 2) ** 2
    assert torch.allclose(model.generate(z)[0, :2], torch.tensor([1.0, s2 / c2], dtype=torch.float64), atol=1e-12)


def test_batched_images_equal_one_latent_at_a_time():
    model = toy(n_pixels=16, n_qubits=3, q_depth=3, seed=3)
    z = model.latent(5, torch.Generator().manual_seed(1))
    batched = model.generate(z)
    single = torch.cat([model.generate(z[i : i + 1]) for i in range(5)])
    assert batched.shape == (5, 16) and torch.allclose(batched, single, atol=1e-13)
    assert torch.allclose(batched.reshape(5, 4, 4).amax(-1), torch.ones(5, 4, dtype=torch.float64))


def test_patches_match_pennylane():
    qml = pytest.importorskip("pennylane")
    model = toy(n_pixels=16, n_qubits=3, q_depth=3, seed=5)
    z = model.latent(2, torch.Generator().manual_seed(2))
    dev = qml.device("default.qubit", wires=3)

    @qml.qnode(dev, interface="torch")
    def circuit(noise, weights):
        for i in range(3):
            qml.RY(noise[i], wires=i)
        for layer in weights.reshape(3, 3):
            for i in range(3):
                qml.RY(layer[i], wires=i)
            for i in range(2):
                qml.CZ(wires=[i, i + 1])
        return qml.probs(wires=range(3))

    for b in range(2):
        ref = torch.cat([max_normalise(postselect(circuit(z[b], w.detach()), 1)) for w in model.generator.weights])
        assert torch.allclose(model.generate(z[b : b + 1])[0], ref, atol=1e-12)


@pytest.mark.parametrize("diff_method", ["backprop", "adjoint", "parameter-shift"])
def test_gradient_matches_finite_differences(diff_method):
    model = toy(n_pixels=8, n_qubits=3, n_ancilla=1, q_depth=2, seed=7, diff_method=diff_method)
    z = model.latent(3, torch.Generator().manual_seed(0))
    coef = torch.randn(3, 8, dtype=torch.float64, generator=torch.Generator().manual_seed(1))

    def f(w: torch.Tensor) -> torch.Tensor:
        with torch.no_grad():
            model.generator.weights.copy_(w)
        return (model.generate(z) * coef).sum()

    w0 = model.generator.weights.detach().clone()
    f(w0).backward()
    grad = model.generator.weights.grad.clone()
    fd = torch.zeros_like(w0)
    h = 1e-6
    for idx in np.ndindex(*w0.shape):
        e = torch.zeros_like(w0)
        e[idx] = h
        fd[idx] = (f(w0 + e).item() - f(w0 - e).item()) / (2 * h)
    assert torch.allclose(grad, fd, atol=1e-7, rtol=1e-6)


@pytest.mark.parametrize(
    "options",
    [
        dict(n_pixels=60),  # 60 pixels do not split into patches of 16
        dict(n_pixels=64, n_generators=3),  # 3 × 16 ≠ 64
        dict(n_qubits=2, n_ancilla=2),  # no data wire left
        dict(q_depth=0),
        dict(loss="least-squares"),
        dict(diff_method="finite-diff"),
        dict(discriminator={"hidden": [4]}),  # no name
    ],
)
def test_bad_config_raises(options):
    with pytest.raises(ConfigError):
        PatchQGAN(**options)


def test_bad_inputs_raise():
    model = toy()
    with pytest.raises(ParameterError):
        model.generate(torch.zeros(3, 5, dtype=torch.float64))
    with pytest.raises(ParameterError):
        update(model.objective, torch.zeros(2, 5), _sgd(model), model.players())
    with pytest.raises(ConfigError):
        update(model.objective, torch.zeros(2, 4), {"generator": _sgd(model)["generator"]}, model.players())
    with pytest.raises(QGMError):
        model.sample(0)


def _sgd(model: PatchQGAN, lr_g: float = 0.3, lr_d: float = 0.01) -> dict:
    return {
        "generator": torch.optim.SGD(model.player_parameters("generator"), lr=lr_g),
        "discriminator": torch.optim.SGD(model.player_parameters("discriminator"), lr=lr_d),
    }


def _real_images(n: int = 4) -> torch.Tensor:
    return torch.rand(n, 8, dtype=torch.float64, generator=torch.Generator().manual_seed(11))


def test_training_is_deterministic_under_a_seed():
    logs, weights = [], []
    for _ in range(2):
        model = toy(n_pixels=8, n_qubits=3, q_depth=2, seed=4)
        opts = _sgd(model)
        logs.append([update(model.objective, _real_images(), opts, model.players()) for step in range(4)])
        weights.append([p.detach().clone() for p in model.parameters()])
    assert logs[0] == logs[1]
    assert all(torch.equal(a, b) for a, b in zip(*weights))
    assert set(logs[0][0]) == {"loss", "loss_g", "loss_d", "d_real", "d_fake"}


def test_generator_steps_decrease_the_generator_loss():
    model = toy(n_pixels=8, n_qubits=3, q_depth=2, seed=2)
    opts = _sgd(model, lr_g=0.3, lr_d=0.0)  # frozen discriminator: the generator's problem is stationary
    z = model.latent(64, torch.Generator().manual_seed(9))

    def g_loss() -> float:
        with torch.no_grad():
            return torch.nn.functional.softplus(-model.discriminator(model.generate(z))).mean().item()

    before = g_loss()
    for _ in range(15):
        update(model.objective, _real_images(), opts, model.players())
    assert g_loss() < before - 1e-3


def test_wgan_gp_and_hinge_steps_run():
    for loss in ("wgan-gp", "hinge"):
        model = toy(n_pixels=8, n_qubits=3, q_depth=2, loss=loss)
        out = update(model.objective, _real_images(), _sgd(model), model.players())
        assert all(math.isfinite(v) for v in out.values())


def test_registered_factory_sample_and_save_load(tmp_path):
    data = type("D", (), {"space": Images(8, 8), "train": torch.rand(10, 64, dtype=torch.float64)})()
    model = MODELS.create("patch_qgan", dataset=data, seed=1)
    n_disc = (64 * 64 + 64) + (64 * 16 + 16) + (16 + 1)  # 64→64→16→1
    assert (model.generator.n_generators, model.generator.patch_size) == (4, 16)
    assert model.n_trainable() == 4 * 30 + n_disc
    x = model.sample(6, generator=torch.Generator().manual_seed(0))
    assert x.shape == (6, 64) and x.dtype == torch.float64 and float(x.min()) >= 0 and float(x.max()) == 1.0
    assert torch.equal(x, model.sample(6, generator=torch.Generator().manual_seed(0)))
    path = tmp_path / "patch.pt"
    model.save(path)
    loaded = GenerativeModel.load(path)
    assert isinstance(loaded, PatchQGAN)
    assert torch.equal(loaded.sample(6, generator=torch.Generator().manual_seed(0)), x)
    with pytest.raises(ConfigError):
        MODELS.create("patch_qgan", dataset=type("D", (), {"space": Reals(50)})())


def test_configure_optimizers_defaults_to_the_demo():
    train = pytest.importorskip("qgm.train", reason="qgm.train not built yet")
    if not hasattr(train, "build_optimizer"):
        pytest.skip("qgm.train.build_optimizer not exported yet")

    opts = toy().configure_optimizers({})
    assert set(opts) == {"generator", "discriminator"}
    assert isinstance(opts["generator"], torch.optim.SGD) and opts["generator"].param_groups[0]["lr"] == 0.3
    assert opts["discriminator"].param_groups[0]["lr"] == 0.01
    adam = toy().configure_optimizers({"generator": {"name": "adam", "lr": 0.01}})["generator"]
    assert isinstance(adam, torch.optim.Adam)
    with pytest.raises(ConfigError):
        toy().configure_optimizers({"critic": {"name": "sgd"}})


# -- qgm.models.scenarios (synthetic returns for `qgm scenarios`) -------------------------------------
class _Bins:
    """A 2-asset, 2-bit-per-asset bin dataset: bin b of asset j decodes to return (j + 1) * b (+ jitter)."""

    name, n_bits, space, value_space = "toy_bins", 4, Bits(4), Reals(2)

    def decode(self, indices: torch.Tensor, generator: Optional[torch.Generator] = None) -> np.ndarray:
        b = np.stack([(indices >> 2).numpy(), (indices & 3).numpy()], axis=1).astype(np.float64)
        if generator is not None:
            b = b + torch.rand(b.shape, generator=generator, dtype=torch.float64).numpy()
        return b * np.array([1.0, 2.0])


def test_scenarios_decode_bins_of_a_born_machine():
    qcbm = MODELS.create("qcbm", dataset=type("D", (), {"n_bits": 4, "space": Bits(4)})(), seed=0)
    data = _Bins()
    exact = scenarios(qcbm, data, 500)
    assert exact.shape == (500, 2) and exact.dtype == np.float64
    assert set(np.unique(exact[:, 0])) <= {0.0, 1.0, 2.0, 3.0} and set(np.unique(exact[:, 1])) <= {0.0, 2.0, 4.0, 6.0}
    a = scenarios(qcbm, data, 500, torch.Generator().manual_seed(3))
    b = scenarios(qcbm, data, 500, torch.Generator().manual_seed(3))
    assert np.array_equal(a, b) and not np.array_equal(a, np.floor(a))  # jittered inside the bins, reproducibly
    assert np.array_equal(np.floor(a[:, 0]), np.floor(a[:, 0]).clip(0, 3))


def test_scenarios_of_continuous_models_and_bad_inputs():
    model = PatchQGAN(n_pixels=4, n_qubits=2, n_ancilla=1, q_depth=1)
    cont = type("C", (), {"space": Reals(4), "value_space": None, "name": "c"})()
    out = scenarios(model, cont, 3, torch.Generator().manual_seed(0))
    assert out.shape == (3, 4)
    with pytest.raises(ConfigError):
        scenarios(model, type("I", (), {"space": Images(8, 8), "value_space": None, "name": "digits"})(), 3)
    with pytest.raises(ConfigError):  # bins need basis-index samples
        scenarios(model, _Bins(), 3)
    with pytest.raises(ParameterError):
        scenarios(model, cont, 0)
