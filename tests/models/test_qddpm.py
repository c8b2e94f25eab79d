"""QuDDPM, direct transport and the state QGAN: forward scrambling, ancilla branches, the unbiased
branch-mixture MMD, greedy step-by-step training on the Trainer, runs and CLI sampling."""
import itertools
import json
import math
from pathlib import Path

import numpy as np
import pytest
import torch

import qgm.data  # noqa: F401  (registers the datasets)
import qgm.models  # noqa: F401  (registers the models)
from qgm import sim
from qgm.circuits import Circuit, In
from qgm.cli import main as cli_main
from qgm.errors import ConfigError, ParameterError, QGMError
from qgm.losses.ensemble import (
    branch_decomposition,
    branch_mixture_mmd,
    fidelity_mmd,
    haar_states,
    measure_ancillas,
    reduced_density,
)
from qgm.models.qddpm import (
    QuDDPM,
    denoiser_circuit,
    diffusion_schedule,
    forward_diffuse,
    reference_parameter_order,
    scramble,
    scramble_angles,
)
from qgm.registry import DATASETS, MODELS
from qgm.train import Trainer, run_config, sample_run

C = torch.complex128
EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def gen(seed):
    return torch.Generator().manual_seed(seed)


def test_scrambling_matches_the_engine_circuit():
    n, t = 3, 3
    x = haar_states(n, 4, generator=gen(1))
    phi, g = scramble_angles(n, torch.linspace(0.5, 4, t, dtype=torch.float64), 4, gen(2))
    c, values = Circuit(n), []
    for s in range(t):
        for q in range(n):
            c = c.rz(q, In(f"a{s}{q}")).ry(q, In(f"b{s}{q}")).rz(q, In(f"c{s}{q}"))
            values += [phi[:, s, 0, q], phi[:, s, 1, q], phi[:, s, 2, q]]
        for i, j in itertools.combinations(range(n), 2):
            c = c.rzz(i, j, In(f"g{s}{i}{j}"))
            values.append(g[:, s])
    expected = sim.state(c, inputs=torch.stack(values, 1), initial_state=x)
    assert torch.allclose(scramble(x, phi, g), expected, atol=1e-13)
    assert phi.abs().max() <= math.pi / 8 * 4 and (g / torch.linspace(0.5, 4, t) * 2 * math.sqrt(3)).min() >= 0.4


def test_zero_noise_leaves_states_unchanged():
    x = haar_states(2, 5, generator=gen(0))
    assert torch.allclose(forward_diffuse(x, [0.0] * 6, gen(1)), x, atol=1e-14)
    assert torch.equal(forward_diffuse(x, [], gen(1)), x)


def test_forward_scrambling_reaches_haar_statistics():
    cluster = DATASETS.create("clustered_states", n_qubits=2, n_train=3000, n_test=0, seed=0)
    h = diffusion_schedule({"name": "linspace", "start": 0.5, "stop": 4.0}, 20)
    start = cluster.train[:, 0].abs() ** 2
    end = forward_diffuse(cluster.train, h, gen(3))
    f0 = end[:, 0].abs() ** 2
    pairs = (end[:1500].conj() * end[1500:]).sum(1).abs() ** 2
    assert start.mean() > 0.97 and f0.mean().item() == pytest.approx(1 / 4, abs=0.02)
    assert pairs.mean().item() == pytest.approx(1 / 4, abs=0.02)
    assert (pairs**2).mean().item() == pytest.approx(2 / 20, abs=0.015)  # Haar frame potential 2/(d(d+1))
    circle = DATASETS.create("circular_states", n_train=3000, n_test=0).train

    def mean_y2(schedule):
        out = forward_diffuse(circle, diffusion_schedule(schedule, len(schedule) if isinstance(schedule, list) else 40),
                              gen(4))
        return ((2 * (out[:, 0].conj() * out[:, 1]).imag) ** 2).mean().item()

    assert mean_y2([1.0 + 3.0 * k / 39 for k in range(40)]) == pytest.approx(1 / 3, abs=0.02)  # Haar ⟨Y⟩² = 1/3
    # the reference's gentle circle schedule h_s = 1e-3 s² stops short: its committed S_40 has ⟨Y⟩² = 0.295
    assert mean_y2({"name": "quadratic", "scale": 1e-3}) == pytest.approx(0.295, abs=0.015)


def test_measuring_an_ancilla_keeps_the_branch():
    alpha, beta = haar_states(2, 2, generator=gen(5))
    state = (torch.cat([alpha, beta]) / math.sqrt(2))[None]  # (|0⟩|α⟩ + |1⟩|β⟩)/√2, ancilla = wire 0
    p, branches = branch_decomposition(state, 1)
    assert torch.allclose(p, torch.tensor([[0.5, 0.5]], dtype=torch.float64))
    assert torch.allclose(branches[0, 0], alpha) and torch.allclose(branches[0, 1], beta)
    draws = measure_ancillas(state.expand(4000, -1), 1, gen(6))
    got_alpha = (draws.conj() @ alpha).abs().pow(2) > 1 - 1e-12
    assert got_alpha.double().mean().item() == pytest.approx(0.5, abs=0.03)
    assert torch.allclose(reduced_density(state, 1)[0], (torch.outer(alpha, alpha.conj()) +
                                                        torch.outer(beta, beta.conj())) / 2)


def _outcome_average(pre, data, n_anc, loss):
    """Σ over every joint ancilla outcome of P(outcomes) · loss(post-measurement states)."""
    p, branches = branch_decomposition(pre, n_anc)
    total = 0
    for combo in itertools.product(range(p.shape[1]), repeat=p.shape[0]):
        idx = torch.arange(p.shape[0]), torch.tensor(combo)
        total = total + p[idx].prod() * loss(branches[idx], data)
    return total


def test_branch_mixture_mmd_is_the_exact_outcome_average():
    pre = haar_states(3, 3, generator=gen(7))  # 1 ancilla + 2 data qubits
    data = haar_states(2, 4, generator=gen(8))
    exact = _outcome_average(pre, data, 1, fidelity_mmd)
    assert branch_mixture_mmd(reduced_density(pre, 1), data).item() == pytest.approx(exact.item(), abs=1e-14)


def test_the_sampled_branch_gradient_is_biased_and_the_mixture_gradient_is_exact():
    model = QuDDPM(1, n_ancilla=1, steps=1, layers=2, schedule=[0.0], n_inputs=3, seed=4)
    inputs, data = haar_states(1, 3, generator=gen(9)), haar_states(1, 5, generator=gen(10))
    theta = model.theta[0]

    def expected_loss():
        return _outcome_average(model.denoise(inputs, 0), data, 1, fidelity_mmd)

    exact = torch.autograd.grad(expected_loss(), theta)[0]
    mixture = torch.autograd.grad(branch_mixture_mmd(model.reduced_states(inputs, 0), data), theta)[0]
    assert torch.allclose(mixture, exact, atol=1e-12)
    # the reference's estimator: outcomes drawn, gradient through the renormalised branches only
    p, _ = branch_decomposition(model.denoise(inputs, 0), 1)
    weights = p.detach()

    def frozen_outcomes():
        _, branches = branch_decomposition(model.denoise(inputs, 0), 1)
        total = 0
        for combo in itertools.product(range(2), repeat=3):
            idx = torch.arange(3), torch.tensor(combo)
            total = total + weights[idx].prod() * fidelity_mmd(branches[idx], data)
        return total

    biased = torch.autograd.grad(frozen_outcomes(), theta)[0]
    assert (biased - exact).abs().max() > 1e-3


def test_parameter_shift_and_backprop_agree_on_the_training_loss():
    data = haar_states(2, 6, generator=gen(11))
    grads = []
    for method in ("backprop", "parameter-shift", "adjoint"):
        model = QuDDPM(2, n_ancilla=1, steps=2, layers=2, n_inputs=5, diff_method=method, data=data, seed=2)
        model.rng.manual_seed(0)
        model.objective(None, "model")["loss"].backward()
        grads.append(model.theta[1].grad.clone())
        assert model.theta[0].grad is None
    assert torch.allclose(grads[0], grads[1], atol=1e-10) and torch.allclose(grads[0], grads[2], atol=1e-10)


def test_finite_differences_of_the_objective():
    data = haar_states(1, 6, generator=gen(12))
    model = QuDDPM(1, n_ancilla=1, steps=1, layers=2, schedule=[0.0], n_inputs=4, data=data, seed=3)
    model.objective(None, "model")["loss"].backward()
    grad = model.theta[0].grad.clone()
    eps = 1e-6
    with torch.no_grad():
        for k in range(grad.numel()):
            model.theta[0][k] += eps
            up = model.objective(None, "model")["loss"].item()
            model.theta[0][k] -= 2 * eps
            down = model.objective(None, "model")["loss"].item()
            model.theta[0][k] += eps
            assert (up - down) / (2 * eps) == pytest.approx(grad[k].item(), abs=1e-7)


def test_greedy_training_walks_the_steps_down_and_freezes_finished_ones():
    data = DATASETS.create("clustered_states", n_qubits=1, n_train=40, n_test=0)
    model = MODELS.create("quddpm", dataset=data, steps=3, layers=2, epochs_per_step=2, n_inputs=8, seed=0)
    opt = model.configure_optimizers({"name": "adam", "lr": 0.1})["model"]
    start = [p.detach().clone() for p in model.theta]
    seen = []
    for _ in range(7):
        seen.append(model.training_step)
        opt.zero_grad()
        model.objective(data.train[:10], "model")["loss"].backward()
        opt.step()
    assert seen == [2, 2, 1, 1, 0, 0, 0] and int(model.updates) == 7
    assert all(not torch.equal(p, s) for p, s in zip(model.theta, start))
    frozen = model.theta[2].detach().clone()
    opt.zero_grad()
    model.objective(data.train[:10], "model")["loss"].backward()
    opt.step()
    assert torch.equal(model.theta[2], frozen)


def test_stage_inputs_are_the_same_from_the_cache_and_from_scratch():
    data = haar_states(1, 10, generator=gen(0))
    model = QuDDPM(1, steps=4, layers=2, n_inputs=6, data=data, seed=5)
    cached = [model.stage_inputs(t) for t in (3, 2, 1, 0)]
    fresh = QuDDPM(1, steps=4, layers=2, n_inputs=6, data=data, seed=5)
    fresh.load_state_dict(model.state_dict())
    assert torch.equal(fresh.stage_inputs(0), cached[-1]) and torch.equal(cached[0], model.training_inputs())
    traj = model.trajectory(model.training_inputs(), gen(1))
    assert traj.shape == (5, 6, 2) and torch.allclose(traj.abs().pow(2).sum(-1), torch.ones(5, 6, dtype=torch.float64))


def test_a_one_qubit_quddpm_beats_its_untrained_self_on_a_tight_cluster():
    data = DATASETS.create("clustered_states", n_qubits=1, n_train=200, n_test=200, scale=0.05, seed=1)
    model = MODELS.create("quddpm", dataset=data, steps=3, layers=3, epochs_per_step=40, n_inputs=50,
                          schedule={"name": "linspace", "start": 1.0, "stop": 4.0}, seed=0)
    before = fidelity_mmd(model.sample(200, generator=gen(2)), data.test).item()
    trainer = Trainer(model, data, None, model.configure_optimizers({"name": "adam", "lr": 0.05}), steps=120,
                      batch_size=50, seed=0)
    trainer.fit()
    after = fidelity_mmd(model.sample(200, generator=gen(2)), data.test).item()
    assert after < 0.2 * before and after < 0.05


def test_direct_transport_is_one_undiffused_step():
    data = DATASETS.create("clustered_states", n_qubits=2, n_train=30, n_test=0)
    model = MODELS.create("quantum_direct_transport", dataset=data, layers=5)
    assert model.steps == 1 and model.schedule == [0.0] and model.theta[0].numel() == 2 * 3 * 5
    batch = data.train[:8]
    model.rng.manual_seed(0)
    assert torch.equal(model.target_batch(batch, 0), batch)


def test_the_reference_parameter_order_maps_onto_our_circuit():
    n, layers = 3, 2
    ref = Circuit(n)
    for layer in range(layers):
        for q in range(n):
            ref = ref.rx(q, In(f"x{layer}{q}"))
        for q in range(n):
            ref = ref.ry(q, In(f"y{layer}{q}"))
        ref = ref.cz(0, 1).cz(1, 2)
    angles = torch.randn(2 * n * layers, dtype=torch.float64, generator=gen(0))  # reference order
    ours = sim.state(denoiser_circuit(n, layers), angles[reference_parameter_order(n, layers)])
    assert torch.allclose(ours, sim.state(ref, inputs=angles), atol=1e-13)


def test_state_qgan_fakes_are_the_exact_branch_mixture_and_the_critic_reads_z0():
    data = DATASETS.create("clustered_states", n_qubits=2, n_train=20, n_test=0)
    model = MODELS.create("state_qgan", dataset=data, layers=2, critic_layers=2, n_inputs=5, seed=1)
    x, w = model.generator.fake(5, None)
    assert x.shape == (10, 4) and w.sum().item() == pytest.approx(1.0)
    rho = (w[:, None, None] * torch.einsum("ni,nj->nij", x, x.conj())).sum(0)
    inputs = model.generator.inputs()
    pre = model.generator.outputs(inputs)
    assert torch.allclose(rho, reduced_density(pre, 1).mean(0), atol=1e-12)
    critic = model.discriminator
    z = sim.expval(critic.circuit, critic.theta, "ZI", initial_state=data.train[:4])
    assert torch.allclose(critic(data.train[:4])[:, 0], (1 + z) / 2, atol=1e-12)
    for player in ("discriminator", "generator"):
        out = model.objective(data.train[:8], player)
        out["loss"].backward()
    assert model.generator.theta.grad is not None and model.discriminator.theta.grad is not None


@pytest.mark.parametrize("factory, options, field", [
    ("quddpm", {"steps": 0}, "steps"),
    ("quddpm", {"steps": 3, "schedule": [1.0, 2.0]}, "schedule"),
    ("quddpm", {"schedule": {"name": "linspace", "start": -1, "stop": 2}}, "schedule"),
    ("quddpm", {"schedule": {"name": "cubic"}}, "schedule.name"),
    ("quddpm", {"loss": "kl"}, "loss"),
    ("quddpm", {"loss": "wasserstein", "diff_method": "parameter-shift"}, "diff_method"),
    ("quddpm", {"n_ancilla": -1}, "n_ancilla"),
    ("quddpm", {"layers": 0}, "layers"),
    ("state_qgan", {"gp_weight": 10.0}, "gp_weight"),
])
def test_bad_options_are_one_line_errors(factory, options, field):
    data = DATASETS.create("clustered_states", n_qubits=1, n_train=10, n_test=0)
    with pytest.raises(QGMError) as info:
        MODELS.create(factory, dataset=data, **options)
    assert isinstance(info.value, ConfigError) and str(info.value).startswith(field) and "\n" not in str(info.value)


def test_non_normalised_states_and_bad_steps_are_refused():
    model = QuDDPM(1, steps=2, layers=1)
    with pytest.raises(ParameterError, match="normalised"):
        forward_diffuse(torch.ones(3, 2, dtype=C), [1.0])
    with pytest.raises(ParameterError, match="normalised"):
        model.trajectory(torch.ones(3, 2, dtype=C))
    with pytest.raises(ParameterError, match="^inputs: expected complex state vectors"):
        model.trajectory(torch.ones(3, 4, dtype=C) / 2)
    with pytest.raises(ParameterError, match="^t: expected a diffusion step"):
        model.denoise(haar_states(1, 2), 2)
    with pytest.raises(ConfigError, match="^train.batch_size"):
        model.objective(None, "model")


def test_a_run_trains_resumes_and_samples_complex_states(tmp_path):
    cfg = {"name": "qd", "seed": 1, "dataset": {"name": "clustered_states", "n_qubits": 1, "n_train": 60, "n_test": 30},
           "model": {"name": "quddpm", "steps": 2, "layers": 2, "epochs_per_step": 3, "n_inputs": 10},
           "optimizer": {"name": "adam", "lr": 0.05},
           "train": {"steps": 6, "batch_size": 10, "eval_every": 3, "checkpoint_every": 3, "n_eval_samples": 20,
                     "plots": False, "progress": False},
           "metrics": ["state_mmd", "centre_fidelity"]}
    whole = run_config(cfg, tmp_path / "whole")
    run_config({**cfg, "train": {**cfg["train"], "steps": 3}}, tmp_path / "split")
    from qgm.train import load_config

    resumed = run_config(load_config(tmp_path / "split" / "config.yaml", ["train.steps=6"]), tmp_path / "split",
                         resume=True)
    assert resumed["metrics"] == whole["metrics"]
    arr = sample_run(tmp_path / "whole", 7, seed=3)
    assert arr.dtype == np.complex128 and arr.shape == (7, 2)
    assert np.allclose(np.linalg.norm(arr, axis=1), 1.0)
    out = tmp_path / "states.npy"
    assert cli_main(["sample", str(tmp_path / "whole"), "--n", "100", "--out", str(out)]) == 0
    saved = np.load(out)
    assert saved.dtype == np.complex128 and saved.shape == (100, 2)
    samples = np.load(tmp_path / "whole" / "samples.npy")
    assert samples.dtype == np.complex128 and samples.shape == (20, 2)
    assert cli_main(["diffusion-plots", str(tmp_path / "whole"), "--n", "20", "--out", str(tmp_path / "p")]) == 0
    curves = json.loads((tmp_path / "p" / "diffusion_curves.json").read_text())
    assert len(curves["mmd_backward"]) == 3 and len(curves["centre_forward"]) == 3
    assert curves["centre_forward"][0] > curves["centre_forward"][2]  # diffusion moves the states off the centre
    assert (tmp_path / "p" / "bloch_trajectory.png").stat().st_size > 0 and (tmp_path / "p" / "metric_vs_step.png").exists()


@pytest.mark.parametrize("example", ["quddpm_cluster2", "quddpm_phase4", "qfm_wigner2"])
def test_examples_build(example):
    from qgm.train import build_run, load_config

    parts = build_run(load_config(EXAMPLES / f"{example}.yaml"))
    if isinstance(parts.model, QuDDPM):  # greedy schedule: every diffusion step gets its epochs
        assert parts.config.train.steps == parts.model.steps * parts.model.epochs_per_step
