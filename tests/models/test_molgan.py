"""MolGAN: parameter counts of the reference configs, the relational critic against a per-bond-type
loop, relaxations and Gumbel decoding, the WGAN-GP objective over (A, X), the reward network, and a
short training run that raises validity."""
from pathlib import Path

import pytest
import torch

from qgm.errors import ConfigError
from qgm.models.molgan import MolGAN, RelationalGCN, harden, one_hot_graphs, relax
from qgm.spaces import Graphs
from qgm.train import Trainer

SPACE = Graphs(9, 5, 5)
SAMPLE = Path(__file__).parents[1] / "data" / "qm9_sample.smi"
SMALL = {"critic": {"conv": [16, 8], "aggregate": 16, "dense": [16]}, "hidden": [16]}


def dense(sizes):
    return sum(a * b + b for a, b in zip(sizes[:-1], sizes[1:]))


def test_generator_parameter_counts_of_the_reference_configs():
    # z=8 -> hidden -> 9*9*5 edge logits and 9*5 node logits (the numbers)
    assert MolGAN().parameter_counts()["generator_n_params"] == 396_610
    assert MolGAN(hidden=[128]).parameter_counts()["generator_n_params"] == 59_202
    assert MolGAN(hidden=[16]).parameter_counts()["generator_n_params"] == 7_794
    for hidden in ([128, 256, 512], [128], [16]):
        assert MolGAN(hidden=hidden).parameter_counts()["generator_n_params"] == \
            dense([8, *hidden]) + dense([hidden[-1], 405]) + dense([hidden[-1], 45])


def test_critic_parameter_count_is_molgans_relational_gcn():
    # per layer: one dense map per bond type (4) and a self-connection; node features concatenated
    conv = 5 * dense([5, 128]) + 5 * dense([128 + 5, 64])
    expected = conv + 2 * dense([64 + 5, 128]) + dense([128, 128, 64, 1])
    counts = MolGAN(reward=["validity"], atoms=["C", "N", "O", "F"]).parameter_counts()
    assert counts["discriminator_n_params"] == expected == 89_473 and counts["value_n_params"] == expected


def _graphs(n=3, seed=0):
    g = torch.Generator().manual_seed(seed)
    a = torch.softmax(torch.randn(n, 9, 9, 5, generator=g, dtype=torch.float64), -1)
    return (a + a.transpose(1, 2)) / 2, torch.softmax(torch.randn(n, 9, 5, generator=g, dtype=torch.float64), -1)


def test_critic_equals_a_loop_over_bond_types_and_is_permutation_invariant():
    net = RelationalGCN(SPACE, conv=(6, 4), aggregate=5, dense=(3,), seed=1, dtype=torch.float64)
    a, x = _graphs()

    def reference(a, x):  # Σ_b A_b H W_b + H W_self, tanh, concatenated with X, per layer
        h = x
        for conv in net.convs:
            w = conv(h).view(len(x), 9, 5, -1)
            out = w[:, :, 4] + sum(a[..., b + 1] @ w[:, :, b] for b in range(4))
            h = torch.cat([torch.tanh(out), x], -1)
        gate, feat = net.aggregate(h).chunk(2, -1)
        return net.head(torch.tanh((torch.sigmoid(gate) * torch.tanh(feat)).sum(1)))

    out = net((a, x))
    assert out.shape == (3, 1) and torch.allclose(out, reference(a, x), atol=1e-14)
    perm = torch.randperm(9, generator=torch.Generator().manual_seed(2))
    assert torch.allclose(net((a[:, perm][:, :, perm], x[:, perm])), out, atol=1e-14)


def test_relaxation_and_decoding():
    g = torch.Generator().manual_seed(0)
    e = torch.randn(4, 9, 9, 5, generator=g)
    e = (e + e.transpose(1, 2)) / 2
    n = torch.randn(4, 9, 5, generator=g)
    a, x = relax(e, n)
    assert torch.allclose(a.sum(-1), torch.ones(4, 9, 9)) and torch.allclose(x.sum(-1), torch.ones(4, 9))
    assert torch.equal(a.diagonal(dim1=1, dim2=2)[:, 0], torch.ones(4, 9))
    for method in ("argmax", "gumbel"):
        ha, hx = harden(e, n, method, torch.Generator().manual_seed(1))
        SPACE.check((ha, hx))  # symmetric, in range, Long
        assert bool((ha.diagonal(dim1=1, dim2=2) == 0).all())
    ha, hx = harden(e, n, "argmax", None)
    assert torch.equal(hx, n.argmax(-1))
    with pytest.raises(ConfigError, match="decode"):
        harden(e, n, "top-k", None)


def test_gumbel_decoding_samples_the_softmax():
    logits = torch.tensor([0.5, -1.0, 2.0, 0.0, 1.0])
    nodes = logits.expand(20000, 1, 5)
    edges = torch.zeros(20000, 1, 1, 5)
    _, x = harden(edges, nodes, "gumbel", torch.Generator().manual_seed(0))
    freq = torch.bincount(x.reshape(-1), minlength=5).double() / x.numel()
    assert torch.allclose(freq, torch.softmax(logits.double(), 0), atol=0.012)  # ~4 binomial std


def test_one_hot_and_real_side():
    a = torch.zeros(2, 9, 9, dtype=torch.long)
    a[0, 0, 1] = a[0, 1, 0] = 2
    x = torch.zeros(2, 9, dtype=torch.long)
    x[0, :2] = torch.tensor([1, 3])
    oa, ox = one_hot_graphs((a, x), SPACE, torch.float32)
    assert oa.shape == (2, 9, 9, 5) and oa[0, 0, 1, 2] == 1 and oa[1].argmax(-1).sum() == 0 and ox[0, 1, 3] == 1


def test_wgan_gp_objective_over_both_tensors():
    torch.manual_seed(0)
    model = MolGAN(**SMALL, seed=0)
    a = torch.zeros(4, 9, 9, dtype=torch.long)
    a[:, 0, 1] = a[:, 1, 0] = 1
    x = torch.zeros(4, 9, dtype=torch.long)
    x[:, :2] = 1
    d = model.objective((a, x), "discriminator")
    assert torch.isclose(d["loss"], d["loss_d"] + 10 * d["gradient_penalty"], rtol=1e-5)
    assert d["loss_d"].item() == pytest.approx((d["d_fake"] - d["d_real"]).item(), rel=1e-5)
    d["loss"].backward()
    assert all(p.grad is not None for p in model.discriminator.parameters())
    assert all(p.grad is None for p in model.generator.parameters())
    g = model.objective((a, x), "generator")
    g["loss"].backward()
    assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in model.generator.head.parameters())
    assert set(model.players()) == {"discriminator", "generator"} and model.players()["discriminator"] == 5


def test_reward_network_trains_with_the_generator():
    pytest.importorskip("rdkit")
    from qgm.data.qm9 import QM9

    data = QM9(None, source=SAMPLE)
    model = MolGAN(**SMALL, reward=["validity", "sa"], atoms=list(data.codec.atoms), rl_weight=0.5, seed=0)
    batch = data.batch(torch.arange(8))
    out = model.objective(batch, "generator")
    assert {"loss_g", "loss_value", "reward_fake"} <= set(out) and out["loss_value"] >= 0
    out["loss"].backward()
    assert all(p.grad is not None for p in model.value.parameters())
    assert len(model.player_parameters("generator")) == len(list(model.generator.parameters())) + \
        len(list(model.value.parameters()))
    with pytest.raises(ConfigError, match="reward network"):
        MolGAN(rl_weight=0.5)
    with pytest.raises(ConfigError, match="atoms"):
        MolGAN(reward=["validity"])


def test_bad_options_are_one_line_errors():
    for kw, field in (({"hidden": []}, "hidden"), ({"critic": {"depth": 3}}, "critic"), ({"dtype": "half"}, "dtype"),
                      ({"decode": "beam"}, "decode"), ({"rl_weight": 2.0}, "rl_weight")):
        with pytest.raises(ConfigError, match=field) as info:
            MolGAN(**kw)
        assert "\n" not in str(info.value)


def test_short_training_raises_validity_above_the_untrained_generator():
    pytest.importorskip("rdkit")
    import qgm.metrics.chemistry  # noqa: F401  (registers the metrics)
    from qgm.data.qm9 import QM9
    from qgm.metrics import evaluate

    data = QM9(None, source=SAMPLE)
    model = MolGAN(critic={"conv": [32, 16], "aggregate": 32, "dense": [32]}, hidden=[32], decode="argmax", seed=0)
    adam = {"name": "adam", "lr": 1e-3, "betas": [0.5, 0.999]}
    trainer = Trainer(model, data, None, model.configure_optimizers({"generator": adam, "discriminator": adam}),
                      steps=80, batch_size=16, seed=0)

    def validity():
        return evaluate(model, data, ["validity"], n_samples=300, generator=torch.Generator().manual_seed(1))["validity"]

    before = validity()
    trainer.fit()
    after = validity()
    assert before == 0.0 and after > 0.05
