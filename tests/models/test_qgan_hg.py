"""QGAN-HG: the latent circuit against closed forms and a hand-built dense simulation, gradients by
finite differences, parameter counts (exact % of MolGAN) and patches."""
import math

import numpy as np
import pytest
import torch

from qgm.errors import ConfigError, ParameterError
from qgm.models.molgan import MolGAN
from qgm.models.qgan_hg import QGANHG, QuantumLatent, hg_circuit
from reference import embed


def test_parameter_counts_and_exact_fractions_of_molgan():
    molgan = MolGAN().parameter_counts()["generator_n_params"]
    mr, hr = QGANHG().parameter_counts(), QGANHG(hidden=[16]).parameter_counts()
    assert mr["generator_n_params"] == 59_202 + 15 == 59_217
    assert 100 * mr["generator_n_params"] / molgan == pytest.approx(14.9308, abs=1e-4)
    assert hr["generator_n_params"] == 7_794 + 15 and 100 * 7_809 / molgan == pytest.approx(1.969, abs=1e-3)
    assert QGANHG(n_patches=2).parameter_counts()["generator_n_params"] == 59_202 + 2 * 7
    assert mr["discriminator_n_params"] == MolGAN().parameter_counts()["discriminator_n_params"]
    assert hg_circuit(8, 3).n_params == 3 * 15 and hg_circuit(8, 1, "per_qubit").n_inputs == 16


def test_one_layer_latent_is_a_product_of_single_qubit_rotations():
    # CNOT-RZ-CNOT is diagonal, so with one layer <Z_i> = cos w cos a - sin w sin a cos b, a = asin u1, b = asin u2
    lat = QuantumLatent(n_qubits=5, seed=3)
    u = lat.noise(7, torch.Generator().manual_seed(0))
    z = lat(u)
    a, b = torch.asin(u[0, :, :1]), torch.asin(u[0, :, 1:])
    w = lat.weights[0, :5]
    expected = torch.cos(w) * torch.cos(a) - torch.sin(w) * torch.sin(a) * torch.cos(b)
    assert z.shape == (7, 5) and torch.allclose(z, expected, atol=1e-12)
    u0 = u.clone()
    u0[..., 1] = 0  # z2 = 0: <Z_i> = cos(asin z1 + w_i) (the spec's known answer)
    assert torch.allclose(lat(u0), torch.cos(torch.asin(u0[0, :, :1]) + w), atol=1e-12)
    (grad,) = torch.autograd.grad(lat(u).sum(), lat.weights)
    assert grad[0, 5:].abs().max() < 1e-12  # the entangling RZ angles do not move <Z> in one layer


def _ry(t):
    return np.array([[np.cos(t / 2), -np.sin(t / 2)], [np.sin(t / 2), np.cos(t / 2)]])


def _rz(t):
    return np.diag([np.exp(-0.5j * t), np.exp(0.5j * t)])


CNOT = np.array([[1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 0, 1], [0, 0, 1, 0]])


def _dense_latent(u1, u2, w, q, layers):
    """The reference code's circuit, gate by gate, with per-layer weights (dense matrices, wire 0 = MSB)."""
    psi = np.zeros(2**q, dtype=complex)
    psi[0] = 1
    for i in range(q):
        psi = embed(_rz(np.arcsin(u2)) @ _ry(np.arcsin(u1)), (i,), q) @ psi
    for layer in range(layers):
        wl = w[layer * (2 * q - 1):(layer + 1) * (2 * q - 1)]
        for i in range(q):
            psi = embed(_ry(wl[i]), (i,), q) @ psi
        for i in range(q - 1):
            psi = embed(CNOT, (i, i + 1), q) @ psi
            psi = embed(_rz(wl[q + i]), (i + 1,), q) @ psi
            psi = embed(CNOT, (i, i + 1), q) @ psi
    p = np.abs(psi) ** 2
    bits = (np.arange(2**q)[:, None] >> np.arange(q - 1, -1, -1)) & 1
    return p @ (1 - 2 * bits)


def test_two_layer_latent_matches_a_dense_simulation():
    lat = QuantumLatent(n_qubits=3, n_layers=2, seed=1)
    u = lat.noise(4, torch.Generator().manual_seed(2))
    z = lat(u).detach().numpy()
    w = lat.weights[0].detach().numpy()
    for k in range(4):
        assert np.allclose(z[k], _dense_latent(u[0, k, 0].item(), u[0, k, 1].item(), w, 3, 2), atol=1e-12)


def test_patches_concatenate_independent_circuits():
    lat = QuantumLatent(n_qubits=8, n_patches=2, seed=4)
    u = lat.noise(3, torch.Generator().manual_seed(0))
    z = lat(u)
    assert z.shape == (3, 8) and lat.weights.shape == (2, 7)
    for p in range(2):
        single = QuantumLatent(n_qubits=4, seed=0)
        with torch.no_grad():
            single.weights.copy_(lat.weights[p:p + 1])
        assert torch.allclose(z[:, 4 * p:4 * (p + 1)], single(u[p:p + 1]), atol=1e-12)
    per_qubit = QuantumLatent(n_qubits=4, encoding="per_qubit", seed=0)
    assert per_qubit.noise(2, None).shape == (1, 2, 8)


def test_latent_gradient_matches_finite_differences():
    lat = QuantumLatent(n_qubits=3, n_layers=2, seed=5)
    u = lat.noise(3, torch.Generator().manual_seed(1))
    c = torch.randn(3, 3, generator=torch.Generator().manual_seed(2), dtype=torch.float64)
    (grad,) = torch.autograd.grad((lat(u) * c).sum(), lat.weights)
    h = 1e-6
    for k in range(lat.weights.shape[1]):
        with torch.no_grad():
            lat.weights[0, k] += h
            up = (lat(u) * c).sum()
            lat.weights[0, k] -= 2 * h
            down = (lat(u) * c).sum()
            lat.weights[0, k] += h
        assert grad[0, k].item() == pytest.approx(((up - down) / (2 * h)).item(), abs=1e-7)


def test_weights_start_in_the_reference_range_and_train():
    model = QGANHG(critic={"conv": [8, 4], "aggregate": 8, "dense": [8]}, hidden=[8], seed=0)
    w = model.generator.latent.weights
    assert w.abs().max() <= math.pi and model.circuit.n_params == 15
    a = torch.zeros(4, 9, 9, dtype=torch.long)
    x = torch.ones(4, 9, dtype=torch.long)
    model.objective((a, x), "generator")["loss"].backward()
    assert w.grad is not None and w.grad[0, :8].abs().sum() > 0
    a_s, x_s = model.sample(6, generator=torch.Generator().manual_seed(0))
    model.space.check((a_s, x_s))


def test_bad_circuit_options_are_refused():
    with pytest.raises(ConfigError, match="n_patches"):
        QuantumLatent(n_qubits=8, n_patches=3)
    with pytest.raises(ConfigError, match="encoding"):
        hg_circuit(4, 1, "dense")
    with pytest.raises(ConfigError, match="complexity"):
        from qgm.models.molgan import resolve_hidden
        resolve_hidden("xr", None, "mr")
    with pytest.raises(ParameterError, match="noise"):
        QuantumLatent(n_qubits=4)(torch.zeros(2, 3, 2))


def test_config_run_reports_counts_and_the_cli_writes_molecules(tmp_path, capsys):
    pytest.importorskip("rdkit")
    import json
    from pathlib import Path

    from qgm.cli import main
    from qgm.train import run_config

    sample = Path(__file__).parents[1] / "data" / "qm9_sample.smi"
    cfg = {"name": "tiny_hg", "seed": 1, "dataset": {"name": "qm9", "n_molecules": 64, "source": str(sample)},
           "model": {"name": "qgan_hg", "hidden": [8], "critic": {"conv": [8, 4], "aggregate": 8, "dense": [8]},
                     "decode": "argmax"},
           "optimizer": {"generator": {"name": "adam", "lr": 1e-3}, "discriminator": {"name": "adam", "lr": 1e-3}},
           "train": {"steps": 2, "batch_size": 8, "n_eval_samples": 50, "progress": False, "plots": True},
           "metrics": ["validity", "uniqueness", "novelty", "qed", "sa_norm"]}
    summary = run_config(cfg, tmp_path / "run")
    assert summary["generator_n_params"] == 8 * 9 + 9 * 405 + 9 * 45 + 15
    assert summary["discriminator_n_params"] + summary["generator_n_params"] == summary["n_params"]
    assert set(cfg["metrics"]) <= set(summary["metrics"]) and (tmp_path / "run" / "plots" / "curves.png").is_file()
    assert np.load(tmp_path / "run" / "samples.npy").shape == (50, 9 + 81)
    out = tmp_path / "mols.smi"
    assert main(["molecules", str(tmp_path / "run"), "--n", "40", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    metrics = json.loads(printed[printed.index("{"):printed.rindex("}") + 1])
    lines = out.read_text().splitlines()
    assert lines[0] == "# smiles\tqed\tlogp\tsa" and len(lines) - 1 == round(metrics["validity"] * 40)
    for line in lines[1:]:
        smiles, q, lp, sa = line.split("\t")
        assert 0 <= float(q) <= 1 and 1 <= float(sa) <= 10
    assert main(["molecules", str(tmp_path / "run"), "--n", "0", "--out", str(out)]) == 2
