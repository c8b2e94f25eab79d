"""Quantum Boltzmann machines: analytic answers, exact / bound gradients against finite differences and
closed forms, the quantum relative entropy, training through the config pipeline, and one-line errors."""
import math

import numpy as np
import pytest
import scipy.linalg as sl
import torch

from qgm.data.bernoulli import bernoulli_mixture
from qgm.data.gibbs import state_relative_entropy, tfim_gibbs
from qgm.errors import ConfigError, ParameterError, QGMError, ResourceError
from qgm.models.base import basis_bits
from qgm.models.qbm import QBM, bound_kl, exact_kl, qbm
from qgm.models.vqt import vqt
from qgm.registry import METRICS
from qgm.sim.hamiltonian import fidelity, relative_entropy, von_neumann_entropy
from qgm.spaces import Bits, DensityMatrices
from qgm.train import read_records, run_config


def random_q(n_visible, seed=0):
    q = torch.rand(1 << n_visible, dtype=torch.float64, generator=torch.Generator().manual_seed(seed))
    return q / q.sum()


def finite_difference(model, loss_fn, h=1e-5):
    """Central differences of ``loss_fn()`` in ``model.weights``."""
    w0 = model.weights.detach().clone()
    out = torch.zeros_like(w0)
    with torch.no_grad():
        for k in range(len(w0)):
            for sign in (1, -1):
                w = w0.clone()
                w[k] += sign * h
                model.weights.copy_(w)
                out[k] += sign * float(loss_fn()) / (2 * h)
        model.weights.copy_(w0)
    return out


def autograd(model, loss_fn):
    model.weights.grad = None
    loss_fn().backward()
    return model.weights.grad.clone()


def test_one_spin_probability_is_the_closed_form():
    model = QBM(1, family="tfim", fields=True, gamma=0.8, init_scale=0.0)
    with torch.no_grad():
        model.weights.copy_(torch.tensor([0.6, 0.8], dtype=torch.float64))  # b = 0.6, Γ = 0.8: H = −0.6 Z − 0.8 X
    d = math.hypot(0.6, 0.8)
    assert model.parameter_names == ["b[0]", "gamma[0]"]
    assert float(model.probs().detach()[0]) == pytest.approx((1 + 0.6 / d * math.tanh(d)) / 2, abs=1e-14)
    assert model.terms() == [(-0.6, "Z"), (-0.8, "X")]


def test_probs_terms_and_gibbs_state_agree_with_expm():
    model = QBM(3, n_hidden=2, family="tfim", graph="semi_restricted", init_scale=0.5, seed=3)
    h = model.hamiltonian().detach().numpy()
    rho = sl.expm(-h)
    rho /= np.trace(rho)
    np.testing.assert_allclose(model.gibbs_state().numpy(), rho, atol=1e-13)
    np.testing.assert_allclose(model.probs().detach().numpy(), np.diag(rho).reshape(8, 4).sum(1), atol=1e-13)
    from qgm.sim.hamiltonian import hamiltonian_matrix
    np.testing.assert_allclose(hamiltonian_matrix(model.terms()).numpy(), h, atol=1e-14)
    assert len(model.parameter_names) == 9 + 5 + 5  # 3 + 6 couplings, 5 fields, 5 transverse fields


@pytest.mark.parametrize("kwargs", [
    dict(n_visible=3, n_hidden=2, family="tfim", graph="semi_restricted"),
    dict(n_visible=2, n_hidden=1, family="xyz", graph="all"),
    dict(n_visible=3, n_hidden=0, family="tfim", shared_gamma=True),
])
def test_exact_gradient_matches_finite_differences(kwargs):
    model = QBM(**kwargs, init_scale=0.6, seed=1)
    model.data_probs.copy_(random_q(model.n_visible))
    loss = lambda: model.objective(None, "model")["loss"]  # noqa: E731
    assert torch.allclose(autograd(model, loss), finite_difference(model, loss), atol=1e-7, rtol=0)
    # the loss is KL(q||P) itself
    kl = (model.data_probs * (model.data_probs / model.probs().detach()).log()).sum()
    assert float(loss().detach()) == pytest.approx(float(kl), abs=1e-12)


def test_bound_gradient_matches_finite_differences_and_bounds_the_kl():
    model = QBM(3, n_hidden=2, family="tfim", graph="semi_restricted", gamma=1.2, train_gamma=False,
                gradient="bound", init_scale=0.6, seed=2)
    model.data_probs.copy_(random_q(3, 1))
    loss = lambda: model.objective(None, "model")["loss"]  # noqa: E731
    assert torch.allclose(autograd(model, loss), finite_difference(model, loss), atol=1e-7, rtol=0)
    # Golden-Thompson: P(v) >= Tr e^{-H_v} / Z for every v, so the bound is above the exact KL
    assert float(loss().detach()) > float(exact_kl(model.log_probs().detach(), model.data_probs)) + 1e-3


def test_restricted_bound_has_the_closed_form_positive_phase():
    """Restricted QBM: hidden qubits decouple in H_v; log Tr e^{-H_v} = Σ_i log 2cosh D_i(v)."""
    model = QBM(2, n_hidden=2, family="tfim", graph="restricted", gamma=0.9, train_gamma=False, gradient="bound",
                init_scale=0.7, seed=4)
    q = random_q(2, 2)
    model.data_probs.copy_(q)
    theta = dict(zip(model.parameter_names, model.theta().tolist()))
    w = np.array([[theta["w[0]"], theta["w[1]"]], [theta["w[2]"], theta["w[3]"]]])  # visible a x hidden i
    b = np.array([theta[f"b[{a}]"] for a in range(4)])
    gam = np.array([theta[f"gamma[{a}]"] for a in range(4)])
    log_z = float(torch.logsumexp(-torch.linalg.eigvalsh(model.hamiltonian().detach()), 0))
    bound = float((q * q.log()).sum())  # −S(q)
    for v in range(4):
        s = 1 - 2 * np.array([v >> 1 & 1, v & 1])  # visible spins
        d = np.hypot(gam[2:], b[2:] + s @ w)  # D_i = sqrt(Γ_i² + b_eff_i²)
        clamped = float(b[:2] @ s) + np.sum(np.log(2 * np.cosh(d)))
        bound -= float(q[v]) * (clamped - log_z)
    assert model.objective(None, "model")["loss"].item() == pytest.approx(bound, abs=1e-12)


def classical_gradient(model, q):
    """Independent classical-BM gradient of KL(q||P) in (w, b): ⟨s s⟩_P − ⟨s s⟩_q and ⟨s⟩_P − ⟨s⟩_q (negated)."""
    n = model.n_visible
    s = (1 - 2 * basis_bits(n)).numpy()
    theta = model.theta().detach().numpy()
    names = model.parameter_names
    feats = []
    for name in names:
        idx = [int(x) for x in name[name.index("[") + 1:-1].split(",")] if "[" in name else []
        if name.startswith("w"):
            a, b = [(a, b) for a in range(n) for b in range(a + 1, n)][idx[0]]
            feats.append(s[:, a] * s[:, b])
        elif name.startswith("b"):
            feats.append(s[:, idx[0]])
    f = np.stack(feats, 1)  # (2**n, K_classical)
    log_w = f @ theta[:f.shape[1]]
    p = np.exp(log_w - log_w.max())
    p /= p.sum()
    return p @ f - q.numpy() @ f


def test_bound_gradient_equals_the_classical_bm_gradient_at_zero_gamma():
    model = QBM(4, family="tfim", gamma=0.0, train_gamma=False, gradient="bound", init_scale=0.5, seed=5)
    q = random_q(4, 3)
    theta = model.theta()
    h = model.ops.matrix(-theta)  # dense, so the general (eigen-solve) path of the bound is exercised
    model.weights.grad = None
    bound_kl(h, None, q, 4).backward()
    assert torch.allclose(model.weights.grad, torch.tensor(classical_gradient(model, q)), atol=1e-10)
    classical = QBM(4, family="classical", init_scale=0.5, seed=5)
    assert torch.allclose(classical.weights.detach(), model.weights.detach()[:10])
    classical.data_probs.copy_(q)
    classical.objective(None, "model")["loss"].backward()
    assert torch.allclose(classical.weights.grad, model.weights.grad[:10], atol=1e-12)


def test_relative_entropy_of_the_true_hamiltonian_is_zero():
    data = tfim_gibbs(5, beta=1.0, seed=1)  # H = c0 ΣZZ + c1 ΣX (CQCL target t=0, seed 1)
    model = qbm(data, family="tfim", graph="chain", fields=False, shared_couplings=True, shared_gamma=True,
                gamma=0.0, init_scale=0.0)
    (c0, zz), (c1, x) = data.terms[0], data.terms[-1]
    assert zz == "ZZIII" and x == "IIIIX"
    with torch.no_grad():
        model.weights.copy_(torch.tensor([-c0, -c1], dtype=torch.float64))  # H = −θ_w ΣZZ − θ_Γ ΣX
    out = model.objective(None, "model")["loss"]
    assert abs(out.item()) < 1e-12 and abs(METRICS.get("relative_entropy")(model=model, dataset=data, samples=None,
                                                                          probs=None)) < 1e-12
    out.backward()
    assert float(model.weights.grad.abs().max()) < 1e-12
    # at θ = 0 the model is maximally mixed: S(η‖I/d) = n log 2 − S(η)
    with torch.no_grad():
        model.weights.zero_()
    want = 5 * math.log(2) - float(von_neumann_entropy(data.state))
    assert model.objective(None, "model")["loss"].item() == pytest.approx(want, abs=1e-12)
    assert model.objective(data.train.expand(3, -1, -1), "model")["loss"].item() == pytest.approx(want, abs=1e-12)


def test_relative_entropy_gradient_matches_finite_differences():
    data = tfim_gibbs(4, beta=0.7, J=1.0, h=0.6)
    model = qbm(data, family="xyz", graph="chain", init_scale=0.3, seed=2)
    loss = lambda: model.objective(None, "model")["loss"]  # noqa: E731
    assert torch.allclose(autograd(model, loss), finite_difference(model, loss), atol=1e-7, rtol=0)
    assert loss().item() == pytest.approx(float(relative_entropy(data.state, model.gibbs_state())), abs=1e-10)
    assert loss().item() == pytest.approx(state_relative_entropy(model, data.state), abs=1e-12)


def test_sampling_exact_and_with_annealers():
    pytest.importorskip("dwave.samplers")
    model = QBM(3, n_hidden=1, family="tfim", shared_gamma=True, init_scale=0.4, seed=0)
    g = torch.Generator().manual_seed(0)
    for sampler in (None, "exact", "sa", "sqa"):
        x = model.sample(300, generator=g, sampler=sampler, sweeps=20)
        assert x.dtype == torch.int64 and x.shape == (300,) and int(x.max()) < 8
    data = tfim_gibbs(3, J=1.0, h=0.5)
    dm = qbm(data, family="tfim", seed=0)
    copies = dm.sample(4)
    assert DensityMatrices(3).check(copies).shape == (4, 8, 8) and torch.allclose(copies[0], dm.gibbs_state())
    assert dm.sample(5, sampler="exact", generator=g).shape == (5,)
    assert dm.log_prob(torch.tensor([0, 7])).shape == (2,)


def test_bernoulli_mixture_training_through_a_config_reports_kl(tmp_path):
    cfg = {"name": "bm", "seed": 0, "dataset": {"name": "bernoulli_mixture", "n_bits": 4, "n_modes": 2, "seed": 0},
           "model": {"name": "qbm", "family": "tfim", "shared_gamma": True}, "optimizer": {"name": "adam", "lr": 0.1},
           "train": {"steps": 30, "batch_size": None, "plots": False, "progress": False}, "metrics": ["kl"]}
    summary = run_config(cfg, tmp_path / "run")
    records = read_records(tmp_path / "run" / "metrics.jsonl")
    assert summary["metrics"]["kl"] == records[-1]["kl"] < 0.5 * records[0]["kl"]
    # the exact-gradient loss of step 1 is the registered KL metric of the initial model (step 0)
    assert records[1]["loss"] == pytest.approx(records[0]["kl"], abs=1e-12)


def test_cqcl_tfim_target_is_learned_to_numerical_precision(tmp_path):
    cfg = {"name": "tfim", "seed": 0, "dataset": {"name": "tfim_gibbs", "n_qubits": 4, "beta": 1.0, "seed": 1},
           "model": {"name": "qbm", "family": "tfim", "graph": "chain", "fields": False, "shared_couplings": True,
                     "shared_gamma": True, "gamma": 0.0, "init_scale": 0.0},
           "optimizer": {"name": "sgd", "lr": 0.25},
           "train": {"steps": 30, "batch_size": None, "n_eval_samples": 1, "plots": False, "progress": False},
           "metrics": ["relative_entropy"]}
    summary = run_config(cfg, tmp_path / "run")
    assert summary["metrics"]["relative_entropy"] < 1e-11


def test_vqt_objective_is_the_relative_entropy_and_trains():
    data = tfim_gibbs(2, beta=1.0, J=1.0, h=0.8)
    model = vqt(data, seed=0)
    rho = model.gibbs_state().detach()
    assert model.objective(None, "model")["loss"].item() == pytest.approx(float(relative_entropy(rho, data.state)),
                                                                         abs=1e-10)
    assert model.entropy().item() == pytest.approx(float(von_neumann_entropy(rho)), abs=1e-10)
    opt = model.configure_optimizers({"name": "adam", "lr": 0.1})["model"]
    for _ in range(150):
        opt.zero_grad()
        model.objective(None, "model")["loss"].backward()
        opt.step()
    assert float(fidelity(model.gibbs_state().detach(), data.state)) > 0.99


@pytest.mark.parametrize("call, error, match", [
    (lambda: QBM(4, gradient="bound"), ConfigError, "train_gamma: the bound-based gradient"),
    (lambda: QBM(13), ResourceError, "n_visible: 13 qubits need"),
    (lambda: QBM(8, n_hidden=5), ResourceError, r"n_visible \+ n_hidden: 13 qubits"),
    (lambda: QBM(3, family="heisenberg"), ConfigError, "family: expected one of"),
    (lambda: QBM(3, graph="restricted"), ConfigError, "graph: 'restricted' couples visible and hidden"),
    (lambda: QBM(3, n_hidden=1, data_space="density"), ConfigError, "data_space: quantum"),
    (lambda: QBM(3, family="xyz").ising_problem(), ParameterError, "is not a transverse-field Ising term"),
    (lambda: QBM(3).sample(5, sampler="gibbs"), ConfigError, "sampler: expected one of"),
    (lambda: qbm(tfim_gibbs(8, J=1.0, h=1.0)).sample(10000), ResourceError, "n: 10000 copies"),
    (lambda: QBM(3).objective(None, "generator"), ConfigError, "player"),
    (lambda: qbm(bernoulli_mixture(n_bits=4), n_hidden=-1), ConfigError, "n_hidden"),
])
def test_bad_settings_are_one_line_errors(call, error, match):
    with pytest.raises(error, match=match) as info:
        call()
    assert isinstance(info.value, QGMError) and "\n" not in str(info.value)


def test_spaces_follow_the_data():
    assert isinstance(qbm(bernoulli_mixture(n_bits=4)).space, Bits)
    assert isinstance(qbm(tfim_gibbs(3, J=1.0, h=1.0)).space, DensityMatrices)


def test_cli_sample_with_a_sampler(tmp_path, capsys):
    import yaml

    pytest.importorskip("dwave.samplers")

    from qgm.cli import main

    cfg = {"name": "q", "seed": 0, "dataset": {"name": "bernoulli_mixture", "n_bits": 3, "n_modes": 2},
           "model": {"name": "qbm", "family": "tfim", "shared_gamma": True}, "optimizer": {"name": "adam", "lr": 0.1},
           "train": {"steps": 2, "batch_size": None, "plots": False, "progress": False, "n_eval_samples": 10}}
    (tmp_path / "q.yaml").write_text(yaml.safe_dump(cfg))
    run = tmp_path / "run"
    assert main(["train", str(tmp_path / "q.yaml"), "--out", str(run)]) == 0
    for sampler in ("exact", "sa", "sqa"):
        assert main(["sample", str(run), "--n", "40", "--out", str(tmp_path / sampler), "--sampler", sampler]) == 0
        x = np.load(tmp_path / f"{sampler}.npy")
        assert x.shape == (40, 3) and set(np.unique(x)) <= {0, 1}
    capsys.readouterr()
    cfg.update(name="r", model={"name": "rbm"}, loss={"name": "kl"})
    (tmp_path / "r.yaml").write_text(yaml.safe_dump(cfg))
    assert main(["train", str(tmp_path / "r.yaml"), "--out", str(tmp_path / "rbm")]) == 0
    capsys.readouterr()
    assert main(["sample", str(tmp_path / "rbm"), "--n", "4", "--out", str(tmp_path / "x"), "--sampler", "sa"]) == 2
    err = capsys.readouterr().err
    assert "--sampler: RBM has no samplers" in err and err.count("\n") == 1


def test_golden_thompson_bound_holds_for_every_visible_configuration():
    """P(v) >= Tr e^{-H_v} / Z (Amin et al. Eq. 11) for random models with hidden qubits (scipy expm oracle)."""
    for seed in range(3):
        model = QBM(2, n_hidden=2, family="tfim", graph="all", init_scale=0.8, gamma=1.5, seed=seed)
        h = model.hamiltonian().detach().numpy()
        z = np.trace(sl.expm(-h))
        p = model.probs().detach().numpy()
        for v in range(4):
            block = h[4 * v:4 * v + 4, 4 * v:4 * v + 4]  # ⟨v|H|v⟩ on the hidden qubits (visible wires lead)
            assert p[v] >= np.trace(sl.expm(-block)) / z - 1e-14


def test_classical_limit_matches_dimod_exact_solver():
    dimod = pytest.importorskip("dimod")

    model = QBM(4, n_hidden=1, family="classical", init_scale=0.7, seed=6)
    bqm = model.ising_problem().to_bqm()
    exact = dimod.ExactSolver().sample(bqm)
    weights = np.zeros(32)
    for datum in exact.data(["sample", "energy"]):
        index = sum((1 - datum.sample[a]) // 2 << (4 - a) for a in range(5))
        weights[index] = math.exp(-datum.energy)
    np.testing.assert_allclose(model.probs().detach().numpy(), (weights / weights.sum()).reshape(16, 2).sum(1),
                               atol=1e-13)
