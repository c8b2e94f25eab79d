"""Spin-Wigner flow matching: the Stratonovich-Weyl map and its inverse, projections, training."""
import math

import numpy as np
import pytest
import torch

import qgm.data  # noqa: F401  (registers the datasets)
import qgm.models  # noqa: F401  (registers the models)
from qgm.errors import ConfigError, QGMError, ResourceError
from qgm.metrics.states import physical_validity, purities, wasserstein_1d
from qgm.models.qfm import (
    TETRAHEDRON,
    nearest_density_matrix,
    product_kernels,
    stratonovich_kernel,
    trace_normalised,
    wigner_frame,
    wigner_function,
    wigner_inverse,
    wigner_values,
)
from qgm.registry import DATASETS, MODELS
from qgm.train import Trainer

C = torch.complex128


def random_density(n, count, seed, rank=None):
    """Random mixed states ``(count, 2**n, 2**n)`` (Wishart, rank ``rank`` or full)."""
    g = torch.Generator().manual_seed(seed)
    d = 1 << n
    z = torch.complex(torch.randn(count, d, rank or d, generator=g, dtype=torch.float64),
                      torch.randn(count, d, rank or d, generator=g, dtype=torch.float64))
    rho = z @ z.mH
    return rho / torch.diagonal(rho, dim1=-2, dim2=-1).sum(-1).real[:, None, None]


def test_the_tetrahedron_kernels_are_an_orthogonal_frame():
    delta = stratonovich_kernel(TETRAHEDRON)
    gram = torch.einsum("aij,bji->ab", delta, delta).real
    assert torch.allclose(gram, 2 * torch.eye(4, dtype=torch.float64), atol=1e-14)
    assert torch.allclose(delta.sum(0), 2 * torch.eye(2, dtype=C), atol=1e-14)
    assert torch.allclose(torch.diagonal(delta, dim1=1, dim2=2).sum(-1).real, torch.ones(4, dtype=torch.float64))


@pytest.mark.parametrize("n", [1, 2, 3])
def test_the_wigner_map_is_invertible_to_1e_12(n):
    rho = random_density(n, 6, seed=n)
    w = wigner_function(rho)
    assert w.shape == (6, 4**n) and w.dtype == torch.float64
    assert (wigner_inverse(w) - rho).abs().max() < 1e-12
    # Tr ρ = 2^{-n} Σ_j W_j on the grid (the tetrahedron is a spherical 2-design)
    assert torch.allclose(w.sum(1) / 2**n, torch.ones(6, dtype=torch.float64), atol=1e-12)


@pytest.mark.parametrize("n", [1, 2])
def test_wigner_functions_integrate_to_the_trace_and_reconstruct_the_state(n):
    # product Gauss-Legendre (cos θ) x uniform (φ) rule per qubit, measure sin θ dθ dφ / (2π)
    x, wx = np.polynomial.legendre.leggauss(6)
    phi = np.arange(8) * 2 * np.pi / 8
    theta = np.arccos(x)
    dirs = np.stack(np.broadcast_arrays(np.sin(theta)[:, None] * np.cos(phi), np.sin(theta)[:, None] * np.sin(phi),
                                        np.cos(theta)[:, None]), -1).reshape(-1, 3)
    weights = np.repeat(wx, 8) * (2 * np.pi / 8) / (2 * np.pi)
    grid = torch.cartesian_prod(*[torch.arange(len(dirs))] * n).reshape(-1, n)
    points = torch.as_tensor(dirs)[grid]  # (K, n, 3)
    mu = torch.as_tensor(weights)[grid].prod(-1)
    rho = random_density(n, 3, seed=10 + n) * 0.7  # trace 0.7
    w = wigner_values(rho, points)
    assert torch.allclose(w @ mu, torch.full((3,), 0.7, dtype=torch.float64), atol=1e-12)
    kernels = product_kernels(points)
    rebuilt = torch.einsum("nk,k,kij->nij", w.to(C), mu.to(C), kernels)
    assert (rebuilt - rho).abs().max() < 1e-12


def test_product_states_have_factorising_wigner_functions():
    a, b = random_density(1, 1, seed=1)[0], random_density(1, 1, seed=2)[0]
    w = wigner_function(torch.kron(a, b)[None])[0].reshape(4, 4)
    assert torch.allclose(w, torch.outer(wigner_function(a[None])[0], wigner_function(b[None])[0]), atol=1e-14)
    # |0⟩: W_j = ½(1 + √3 n_z) at the tetrahedron directions
    zero = torch.tensor([[[1, 0], [0, 0]]], dtype=C)
    assert torch.allclose(wigner_function(zero)[0], 0.5 * (1 + math.sqrt(3) * TETRAHEDRON[:, 2]), atol=1e-14)


def test_the_frame_has_wire_zero_most_significant():
    frame = wigner_frame(2)
    delta = stratonovich_kernel(TETRAHEDRON)
    assert torch.allclose(frame[1 * 4 + 3], torch.kron(delta[1], delta[3]))


def _simplex_projection(v):
    """Euclidean projection onto the probability simplex (Duchi et al. 2008), numpy."""
    u = np.sort(v)[::-1]
    css = np.cumsum(u)
    k = np.nonzero(u * np.arange(1, len(v) + 1) > css - 1)[0][-1]
    return np.maximum(v - (css[k] - 1) / (k + 1), 0)


def test_nearest_density_matrix_projects_eigenvalues_onto_the_simplex():
    g = torch.Generator().manual_seed(0)
    m = torch.complex(torch.randn(5, 4, 4, generator=g, dtype=torch.float64), torch.randn(5, 4, 4, generator=g,
                                                                                           dtype=torch.float64))
    out = nearest_density_matrix(m)
    assert physical_validity(out, tol=1e-12)["valid"].all()
    h = ((m + m.mH) / 2).numpy()
    for k in range(5):
        lam, vec = np.linalg.eigh(h[k])
        expected = (vec * _simplex_projection(lam)) @ vec.conj().T
        assert np.allclose(out[k].numpy(), expected, atol=1e-12)
    good = random_density(2, 3, seed=4)
    assert torch.allclose(nearest_density_matrix(good), good, atol=1e-12)
    assert torch.allclose(nearest_density_matrix(torch.tensor([[[1.2, 0], [0, -0.2]]], dtype=C)),
                          torch.tensor([[[1.0, 0], [0, 0]]], dtype=C))


def test_trace_normalisation_keeps_negative_eigenvalues():
    m = torch.tensor([[[1.4, 0.1j], [0.0, -0.2]], [[-1.0, 0], [0, 0.5]]], dtype=C)
    out = trace_normalised(m)
    assert torch.allclose(torch.diagonal(out, dim1=1, dim2=2).sum(-1).real, torch.ones(2, dtype=torch.float64))
    assert torch.allclose(out[0], torch.tensor([[1.4, 0.05j], [-0.05j, -0.2]], dtype=C) / 1.2)
    assert physical_validity(out[1:], tol=1e-12)["valid"].all()  # trace <= 0: nearest physical state


@pytest.mark.parametrize("representation", ["wigner", "raw"])
def test_encode_decode_round_trip_and_standardisation(representation):
    data = DATASETS.create("density_ensemble", source={"name": "haar_states", "n_qubits": 2, "n_train": 64,
                                                       "n_test": 0}, depolarise=0.4)
    model = MODELS.create("quantum_flow_matching", dataset=data, representation=representation, hidden=[8])
    x = model.standardise(data.train)
    assert x.shape == (64, 16 if representation == "wigner" else 32)
    assert torch.allclose(x.mean(0), torch.zeros(x.shape[1], dtype=torch.float64), atol=1e-12)
    assert (model.decode(x * model.scale + model.shift) - data.train).abs().max() < 1e-12


def test_flow_matching_learns_a_one_qubit_ensemble():
    data = DATASETS.create("density_ensemble", source={"name": "circular_states", "n_train": 512, "n_test": 512},
                           depolarise=0.3, seed=1)
    model = MODELS.create("quantum_flow_matching", dataset=data, hidden=[32, 32], ode_steps=10, seed=0)

    def gaps():
        raw = model.raw_sample(512, generator=torch.Generator().manual_seed(5))
        trace_error = physical_validity(raw)["trace_error"].mean().item()
        return wasserstein_1d(purities(trace_normalised(raw)), purities(data.test)), trace_error, raw

    before = gaps()
    Trainer(model, data, None, model.configure_optimizers({"name": "adam", "lr": 3e-3}), steps=200, batch_size=64,
            seed=0).fit()
    after = gaps()
    # the Wigner decoding is Hermitian by construction; the trace is learned, not enforced
    assert physical_validity(after[2])["hermiticity"].max() < 1e-12
    assert after[0] < 0.25 * before[0] and after[1] < 0.25 * before[1]
    assert data.space.check(model.sample(8, generator=torch.Generator().manual_seed(0)), "samples") is not None


def test_ot_coupling_pairs_noise_with_the_nearest_data():
    data = DATASETS.create("density_ensemble", source={"name": "haar_states", "n_qubits": 1, "n_train": 8,
                                                       "n_test": 0})
    model = MODELS.create("quantum_flow_matching", dataset=data, hidden=[4], coupling="ot")
    x1 = torch.tensor([[0.0, 0, 0, 0], [10, 10, 10, 10], [-10, 0, 0, 0]], dtype=torch.float64)
    x0 = torch.tensor([[9.0, 9, 9, 9], [-9, 0, 0, 0], [0.5, 0, 0, 0]], dtype=torch.float64)
    assert torch.equal(model._pair(x0, x1), x0[[2, 0, 1]])


@pytest.mark.parametrize("options, error, field", [
    ({"representation": "bloch"}, ConfigError, "representation"),
    ({"projection": "clip"}, ConfigError, "projection"),
    ({"sigma_min": 1.5}, ConfigError, "sigma_min"),
    ({"ode_steps": 0}, ConfigError, "ode_steps"),
    ({"hidden": []}, ConfigError, "hidden"),
])
def test_bad_options_are_one_line_errors(options, error, field):
    data = DATASETS.create("density_ensemble", source={"name": "haar_states", "n_qubits": 1, "n_train": 8,
                                                       "n_test": 0})
    with pytest.raises(error) as info:
        MODELS.create("quantum_flow_matching", dataset=data, **options)
    assert str(info.value).startswith(field) and "\n" not in str(info.value) and isinstance(info.value, QGMError)


def test_too_many_qubits_and_pure_data_are_refused():
    with pytest.raises(ResourceError, match="^n_qubits"):
        wigner_frame(6)
    pure = DATASETS.create("haar_states", n_qubits=1, n_train=4, n_test=0)
    with pytest.raises(ConfigError, match="^dataset"):
        MODELS.create("quantum_flow_matching", dataset=pure)
