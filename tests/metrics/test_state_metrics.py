"""State-ensemble metrics: known answers, brute-force cross-checks, the registered adapters."""
import numpy as np
import pytest
import torch
from scipy.stats import wasserstein_distance

import qgm.data  # noqa: F401  (registers the datasets)
import qgm.metrics  # noqa: F401  (registers the metrics)
from qgm.errors import ConfigError, ParameterError
from qgm.losses.ensemble import fidelity_mmd, haar_states, state_wasserstein
from qgm.metrics import evaluate
from qgm.metrics.states import (
    bloch_vectors,
    critical_magnetisation,
    entanglement_entropies,
    magnetisations,
    partial_trace,
    physical_validity,
    purities,
    von_neumann_entropies,
    wasserstein_1d,
)
from qgm.registry import DATASETS

C = torch.complex128


def ket(*amps):
    v = torch.tensor(amps, dtype=C)
    return v / torch.linalg.vector_norm(v)


def test_fidelity_mmd_matches_a_brute_force_double_loop_and_vanishes_on_identical_ensembles():
    a, b = haar_states(2, 7, generator=torch.Generator().manual_seed(0)), haar_states(2, 5,
                                                                                      generator=torch.Generator().manual_seed(1))

    def mean_fid(x, y):
        return sum(abs(complex(torch.vdot(u, v))) ** 2 for u in x for v in y) / (len(x) * len(y))

    brute = mean_fid(a, a) + mean_fid(b, b) - 2 * mean_fid(a, b)
    assert fidelity_mmd(a, b).item() == pytest.approx(brute, abs=1e-14)
    assert fidelity_mmd(a, a).item() == pytest.approx(0.0, abs=1e-14)


def test_mmd_of_a_point_to_a_large_haar_set_tends_to_one_minus_one_over_d():
    zero = ket(1, 0, 0, 0)[None]
    haar = haar_states(2, 4000, generator=torch.Generator().manual_seed(3))
    # K̄(0,0) = 1, K̄(H,H) ≈ 1/d (+ 1/N from the diagonal), K̄(0,H) ≈ 1/d
    assert fidelity_mmd(zero, haar).item() == pytest.approx(1 - 1 / 4, abs=0.02)


def test_wasserstein_between_orthogonal_points_is_one():
    assert state_wasserstein(ket(1, 0)[None], ket(0, 1)[None]).item() == pytest.approx(1.0)
    a = haar_states(1, 6, generator=torch.Generator().manual_seed(5))
    assert state_wasserstein(a, a.flip(0)).item() == pytest.approx(0.0, abs=1e-12)


def test_purity_and_entropies_of_known_states():
    bell = ket(1, 0, 0, 1)[None]
    product = ket(1, 1, 0, 0)[None]
    mixed = torch.eye(4, dtype=C)[None] / 4
    assert purities(bell).item() == pytest.approx(1.0) and purities(mixed).item() == pytest.approx(0.25)
    assert von_neumann_entropies(bell).item() == pytest.approx(0.0, abs=1e-12)
    assert von_neumann_entropies(mixed).item() == pytest.approx(2.0)
    assert entanglement_entropies(bell).item() == pytest.approx(1.0)
    assert entanglement_entropies(product).item() == pytest.approx(0.0, abs=1e-12)
    rho_a = partial_trace(ket(1, 0, 0, 0, 0, 0, 0, 1)[None], 1)  # GHZ(3) -> I/2 on wire 0
    assert torch.allclose(rho_a[0], torch.eye(2, dtype=C) / 2)


def test_partial_trace_keeps_the_first_wires():
    a, b = ket(1, 0), ket(1, 1)
    state = torch.kron(a, b)[None]
    assert torch.allclose(partial_trace(state, 1)[0], torch.outer(a, a.conj()))


def test_magnetisation_of_known_states():
    assert magnetisations(ket(1, 0, 0, 0, 0, 0, 0, 0)[None]).item() == pytest.approx(1.0)
    assert magnetisations(ket(*[1] * 4)[None]).item() == pytest.approx(0.5)  # |++⟩: |m| = 1, 0, 0, 1
    ghz = ket(1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1)
    assert magnetisations(ghz[None]).item() == pytest.approx(1.0)
    assert 0.4 < critical_magnetisation(4) < 0.9


def test_bloch_vectors_of_the_six_cardinal_states():
    states = torch.stack([ket(1, 1), ket(1, 1j), ket(1, 0), ket(1, -1), ket(1, -1j), ket(0, 1)])
    expected = torch.tensor([[1, 0, 0], [0, 1, 0], [0, 0, 1], [-1, 0, 0], [0, -1, 0], [0, 0, -1]], dtype=torch.float64)
    assert torch.allclose(bloch_vectors(states), expected, atol=1e-12)


def test_physical_validity_flags_each_defect():
    good = torch.eye(2, dtype=C)[None] / 2
    not_hermitian = torch.tensor([[[0.5, 0.1], [0.0, 0.5]]], dtype=C)
    bad_trace = torch.eye(2, dtype=C)[None] * 0.6
    negative = torch.tensor([[[1.2, 0], [0, -0.2]]], dtype=C)
    v = physical_validity(torch.cat([good, not_hermitian, bad_trace, negative]))
    assert v["valid"].tolist() == [True, False, False, False]
    assert v["hermiticity"][1].item() == pytest.approx(0.1) and v["trace_error"][2].item() == pytest.approx(0.2)
    assert v["min_eigenvalue"][3].item() == pytest.approx(-0.2)


def test_wasserstein_1d_is_scipys():
    a, b = np.random.default_rng(0).normal(size=50), np.random.default_rng(1).normal(size=30)
    assert wasserstein_1d(torch.as_tensor(a), b) == pytest.approx(wasserstein_distance(a, b))


class Echo:
    """A stand-in model that returns fixed samples."""

    def __init__(self, samples):
        self.samples = samples
        self.tags = type("Tags", (), {"exact_probs": False})()

    def sample(self, n, *, generator=None):
        return self.samples[:n]


def test_registered_metrics_on_datasets():
    cluster = DATASETS.create("clustered_states", n_qubits=2, n_train=200, n_test=200, seed=1)
    values = evaluate(Echo(cluster.test), cluster, ["state_mmd", "state_wasserstein", "centre_fidelity",
                                                    "purity_w1", "validity_rate"], n_samples=200)
    assert values["state_mmd"] == pytest.approx(0.0, abs=1e-12) and values["state_wasserstein"] == pytest.approx(0.0)
    assert values["centre_fidelity"] == pytest.approx((cluster.test[:, 0].abs() ** 2).mean().item())
    assert values["purity_w1"] == pytest.approx(0.0, abs=1e-12) and values["validity_rate"] == 1.0
    tfim = DATASETS.create("tfim_phase_states", n_qubits=4, n_train=40, n_test=40, g_low=0.2, g_high=3.0, seed=0)
    got = evaluate(Echo(tfim.test), tfim, ["magnetisation", "ordered_fraction", "entanglement_w1"], n_samples=40)
    assert got["magnetisation"] == pytest.approx(magnetisations(tfim.test).mean().item())
    assert got["ordered_fraction"] == pytest.approx(tfim.labels("test").double().mean().item())
    assert got["entanglement_w1"] == pytest.approx(0.0, abs=1e-12)
    mixed = DATASETS.create("density_ensemble", source={"name": "haar_states", "n_qubits": 1, "n_train": 50,
                                                        "n_test": 50}, depolarise=0.5)
    assert evaluate(Echo(mixed.train), mixed, ["entropy_w1"], n_samples=50)["entropy_w1"] > 0


def test_metrics_refuse_datasets_without_states_or_centres():
    bits = DATASETS.create("bas", rows=2, cols=2)
    with pytest.raises(ConfigError, match="^metric 'state_mmd' does not apply"):
        evaluate(Echo(torch.zeros(3, dtype=torch.int64)), bits, ["state_mmd"], n_samples=3)
    haar = DATASETS.create("haar_states", n_qubits=1, n_train=5, n_test=0)
    with pytest.raises(ConfigError, match="no centre state"):
        evaluate(Echo(haar.train), haar, ["centre_fidelity"], n_samples=5)
    with pytest.raises(ParameterError):
        purities(torch.zeros(3, 2))
