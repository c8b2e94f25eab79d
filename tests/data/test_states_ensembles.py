"""State-ensemble datasets: known statistics, seeded splits, TFIM phases, density ensembles, bad input."""
import math

import numpy as np
import pytest
import torch
from scipy import integrate, stats

import qgm.data  # noqa: F401  (registers the datasets)
from qgm.data.states import tfim_ground_state, tfim_ground_states, tfim_hamiltonian
from qgm.errors import ConfigError, QGMError, ResourceError
from qgm.registry import DATASETS
from qgm.spaces import DensityMatrices, PureStates


def test_clustered_states_mean_fidelity_matches_the_chi_square_law():
    # ψ ∝ |0⟩ + s c, |c|² ~ χ²_{2(d−1)} (complex normals with unit real and imaginary variance): F0 = 1/(1 + s²R)
    d = DATASETS.create("clustered_states", n_qubits=2, n_train=20000, n_test=0, scale=0.3, seed=1)
    f0 = d.train[:, 0].abs() ** 2
    expected = integrate.quad(lambda r: stats.chi2.pdf(r, 6) / (1 + 0.09 * r), 0, np.inf)[0]
    assert f0.mean().item() == pytest.approx(expected, abs=4 * f0.std().item() / math.sqrt(20000))
    assert isinstance(d.space, PureStates) and d.space.n == 2 and d.test is None


def test_clustered_states_default_scales_and_the_reference_fidelity():
    one = DATASETS.create("clustered_states", n_qubits=1, n_train=4000, n_test=0)
    two = DATASETS.create("clustered_states", n_qubits=2, n_train=4000, n_test=0)
    # the QuDDPM paper's 2-qubit cluster (s = 0.06) has mean overlap 0.979 with |00⟩
    assert (two.train[:, 0].abs() ** 2).mean().item() == pytest.approx(0.979, abs=0.002)
    assert (one.train[:, 0].abs() ** 2).mean().item() == pytest.approx(0.988, abs=0.002)


def test_a_centre_rotates_the_cluster_rigidly():
    zero = DATASETS.create("clustered_states", n_qubits=3, n_train=50, n_test=10, seed=4)
    ghz = DATASETS.create("clustered_states", n_qubits=3, n_train=50, n_test=10, seed=4, centre="ghz")
    f_zero = zero.train[:, 0].abs() ** 2
    f_ghz = (ghz.train @ ghz.centre.conj()).abs() ** 2
    assert torch.allclose(f_zero, f_ghz, atol=1e-12)
    assert torch.allclose(zero.train.conj() @ zero.train.T, ghz.train.conj() @ ghz.train.T, atol=1e-12)


def test_circular_states_lie_on_the_xz_great_circle():
    d = DATASETS.create("circular_states", n_train=5000, n_test=100, seed=2)
    assert d.train.imag.abs().max().item() == 0.0
    z = d.train[:, 0].abs() ** 2 - d.train[:, 1].abs() ** 2
    assert (z**2).mean().item() == pytest.approx(0.5, abs=0.02)  # E cos²(2φ) = 1/2


def test_correlated_noise_states_and_the_inferred_probability():
    d = DATASETS.create("correlated_noise_states", n_train=20000, n_test=0, seed=3)
    assert d.infer_noise_probability(d.train) == pytest.approx(0.8, abs=0.03)
    pure_xx = DATASETS.create("correlated_noise_states", n_train=200, n_test=0, p=1.0, delta=0.4, seed=1)
    eps = torch.asin(torch.sqrt((pure_xx.train[:, 2].abs() ** 2) / 0.55))  # |⟨10|ψ⟩|² = 0.55 sin²ε
    xx = torch.tensor([[0, 0, 0, 1], [0, 0, 1, 0], [0, 1, 0, 0], [1, 0, 0, 0]], dtype=torch.complex128)
    eye = torch.eye(4, dtype=torch.complex128)
    for state, e in zip(pure_xx.train, eps):  # each state is e^{−iεXX}ψ₀ = (cos ε − i sin ε XX)ψ₀, |ε| <= δ
        rebuilt = [(math.cos(s) * eye - 1j * math.sin(s) * xx) @ pure_xx.psi0 for s in (float(e), -float(e))]
        assert min((r - state).abs().max().item() for r in rebuilt) < 1e-12
    assert eps.max() <= 0.4 + 1e-12


def test_tfim_phase_states_match_sparse_diagonalisation_and_carry_phase_labels():
    d = DATASETS.create("tfim_phase_states", n_qubits=4, n_train=6, n_test=4, g_low=0.3, g_high=3.0,
                        spacing="log", seed=5)
    for state, g in zip(d.train, d.fields["train"]):
        assert torch.allclose(state, tfim_ground_state(4, float(g)).state, atol=1e-8)
        energy = state.conj() @ torch.as_tensor(tfim_hamiltonian(4, float(g)).toarray(), dtype=torch.complex128) @ state
        assert energy.real.item() == pytest.approx(np.linalg.eigvalsh(tfim_hamiltonian(4, float(g)).toarray())[0])
    assert torch.equal(d.labels("train"), (d.fields["train"] < 1).to(torch.int64))
    assert d.labels("test").shape == (4,) and 0.3 <= d.fields["test"].min() <= d.fields["test"].max() <= 3.0


def test_large_chains_use_lanczos_with_the_same_answer():
    lanczos = tfim_ground_states(9, [1.5])
    dense = torch.as_tensor(np.linalg.eigh(tfim_hamiltonian(9, 1.5).toarray())[1][:, 0])
    assert abs(torch.vdot(lanczos[0], dense.to(lanczos.dtype)).abs().item() - 1) < 1e-8


def test_haar_states_have_haar_moments():
    d = DATASETS.create("haar_states", n_qubits=1, n_train=20000, n_test=2000, seed=0)
    y = 2 * (d.train[:, 0].conj() * d.train[:, 1]).imag
    assert (y**2).mean().item() == pytest.approx(1 / 3, abs=0.01)
    two = DATASETS.create("haar_states", n_qubits=2, n_train=3000, n_test=3000, seed=1)
    f = (two.train.conj() * two.test).sum(1).abs() ** 2
    assert f.mean().item() == pytest.approx(1 / 4, abs=0.015)
    assert (f**2).mean().item() == pytest.approx(2 / (4 * 5), abs=0.01)  # frame potential of a 2-design


@pytest.mark.parametrize("name, options", [
    ("clustered_states", {"n_qubits": 2}), ("circular_states", {}), ("correlated_noise_states", {}),
    ("tfim_phase_states", {"n_qubits": 3}), ("haar_states", {"n_qubits": 2}),
])
def test_splits_are_seeded_and_distinct(name, options):
    a = DATASETS.create(name, n_train=20, n_test=10, seed=7, **options)
    b = DATASETS.create(name, n_train=20, n_test=10, seed=7, **options)
    c = DATASETS.create(name, n_train=20, n_test=10, seed=8, **options)
    assert torch.equal(a.train, b.train) and torch.equal(a.test, b.test)
    assert not torch.equal(a.train, c.train)
    assert a.train.shape[0] == 20 and a.test.shape[0] == 10
    assert not any(torch.allclose(t, s) for t in a.test for s in a.train)


def test_density_ensembles_are_states_and_depolarised():
    d = DATASETS.create("density_ensemble", source={"name": "haar_states", "n_qubits": 2, "n_train": 300,
                                                    "n_test": 20}, depolarise=0.6, seed=2)
    assert isinstance(d.space, DensityMatrices) and d.space.n == 2
    purity = torch.einsum("nij,nji->n", d.train, d.train).real
    # ρ = (1−p)|ψ⟩⟨ψ| + p I/4: purity = (1−p)² + (2p(1−p) + p²)/4 ∈ [0.5 − …, 1]
    p = 1 - torch.sqrt((purity - 0.25) / 0.75)
    assert p.min() >= -1e-9 and p.max() <= 0.6 + 1e-9 and p.max() > 0.5
    assert torch.linalg.eigvalsh(d.train).min() >= -1e-12
    pure = DATASETS.create("density_ensemble", source={"name": "circular_states", "n_train": 5, "n_test": 0})
    assert torch.allclose(torch.einsum("nij,nji->n", pure.train, pure.train).real, torch.ones(5, dtype=torch.float64))


@pytest.mark.parametrize("name, options, error, field", [
    ("clustered_states", {"n_train": 0}, ConfigError, "n_train"),
    ("clustered_states", {"scale": -1.0}, ConfigError, "scale"),
    ("clustered_states", {"n_qubits": 20, "n_train": 1000}, ResourceError, "n_train"),
    ("correlated_noise_states", {"psi0": [1, 0, 0]}, ConfigError, "psi0"),
    ("correlated_noise_states", {"p": 1.5}, ConfigError, "p"),
    ("tfim_phase_states", {"n_qubits": 13}, ResourceError, "n_qubits"),
    ("tfim_phase_states", {"g_low": 2.0, "g_high": 1.0}, ConfigError, "g_low"),
    ("tfim_phase_states", {"spacing": "cubic"}, ConfigError, "spacing"),
    ("density_ensemble", {"source": {"name": "bas"}}, ConfigError, "source"),
    ("density_ensemble", {"source": {"name": "haar_states"}, "depolarise": 2}, ConfigError, "depolarise"),
])
def test_bad_options_are_one_line_errors(name, options, error, field):
    with pytest.raises(error) as info:
        DATASETS.create(name, **options)
    assert "\n" not in str(info.value) and str(info.value).startswith(field)
    assert isinstance(info.value, QGMError)
