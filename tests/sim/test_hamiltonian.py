"""Pauli-sum Hamiltonians and exact Gibbs states against independent constructions (kron, scipy expm)."""
import math

import numpy as np
import pytest
import scipy.linalg as sl
import torch

from qgm.data.states import tfim_hamiltonian
from qgm.errors import ParameterError, QGMError, ResourceError
from qgm.sim.hamiltonian import (
    MAX_GIBBS_QUBITS,
    PauliOperators,
    check_beta,
    check_terms,
    divided_differences,
    fidelity,
    gibbs_relative_entropy,
    gibbs_state,
    graph_edges,
    hamiltonian_matrix,
    log_marginal_weights,
    log_partition,
    relative_entropy,
    tfim_terms,
    von_neumann_entropy,
)

PAULI = {"I": np.eye(2), "X": np.array([[0, 1], [1, 0]]), "Y": np.array([[0, -1j], [1j, 0]]), "Z": np.diag([1, -1])}


def kron_matrix(terms):
    """Independent oracle: Σ coef ⊗_w σ_w with wire 0 the leftmost Kronecker factor."""
    out = 0
    for coef, string in terms:
        m = np.array([[1.0]])
        for ch in string:
            m = np.kron(m, PAULI[ch])
        out = out + coef * m
    return out


def random_terms(n, k, rng, alphabet="IXYZ"):
    return [(float(rng.normal()), "".join(rng.choice(list(alphabet), n))) for _ in range(k)]


@pytest.mark.parametrize("alphabet", ["IXZ", "IXYZ"])
def test_matrix_matches_kronecker_products(alphabet):
    rng = np.random.default_rng(0)
    terms = random_terms(4, 12, rng, alphabet)
    h = hamiltonian_matrix(terms)
    if "Y" not in alphabet:
        assert h.dtype == torch.float64
    np.testing.assert_allclose(h.numpy(), kron_matrix(terms), atol=1e-14)
    assert torch.allclose(h, h.mH)


def test_even_y_strings_are_real_and_tfim_matches_the_sparse_builder():
    assert hamiltonian_matrix([(1.0, "YY"), (0.5, "XZ")]).dtype == torch.float64
    assert hamiltonian_matrix([(1.0, "YI")]).dtype == torch.complex128
    h = hamiltonian_matrix(tfim_terms(5, zz=-1.3, x=-0.7))  # H = −J ΣZZ − h ΣX with J=1.3, h=0.7
    np.testing.assert_allclose(h.numpy(), tfim_hamiltonian(5, 0.7, 1.3).toarray(), atol=1e-14)
    assert graph_edges(4, "ring") == [(0, 1), (1, 2), (2, 3), (0, 3)] and len(graph_edges(5, "all")) == 10


@pytest.mark.parametrize("alphabet, beta", [("IXZ", 1.0), ("IXYZ", 0.6), ("IXYZ", 2.5)])
def test_gibbs_state_matches_scipy_expm(alphabet, beta):
    terms = random_terms(4, 10, np.random.default_rng(1), alphabet)
    rho = gibbs_state(terms, beta)
    ref = sl.expm(-beta * kron_matrix(terms))
    np.testing.assert_allclose(rho.numpy(), ref / np.trace(ref), atol=1e-13)
    assert float(log_partition(terms, beta)) == pytest.approx(math.log(np.trace(ref).real), abs=1e-12)


def test_log_partition_gradient_is_minus_beta_rho():
    h = hamiltonian_matrix(random_terms(3, 6, np.random.default_rng(2), "IXZ")).requires_grad_(True)
    log_partition(h, 0.8).backward()
    assert torch.allclose(h.grad, -0.8 * gibbs_state(h.detach(), 0.8).T, atol=1e-13)


def test_operators_matrix_expectations_diagonal_and_terms():
    rng = np.random.default_rng(3)
    ops_terms = [random_terms(3, 2, rng, "IXYZ") for _ in range(5)]
    ops = PauliOperators(ops_terms)
    theta = torch.tensor(rng.normal(size=5))
    dense = kron_matrix([(float(t) * c, s) for t, op in zip(theta, ops_terms) for c, s in op])
    np.testing.assert_allclose(ops.matrix(theta).numpy(), dense, atol=1e-14)
    np.testing.assert_allclose(hamiltonian_matrix(ops.terms(theta)).numpy(), dense, atol=1e-14)
    rho = gibbs_state(ops.matrix(theta))
    want = [np.trace(rho.numpy() @ kron_matrix(op)).real for op in ops_terms]
    np.testing.assert_allclose(ops.expectations(rho).numpy(), want, atol=1e-13)
    diag_only = PauliOperators([[(0.5, "ZZI")], [(1.0, "IXI")], [(2.0, "IZI"), (1.0, "XII")]])
    assert diag_only.off_diagonal.tolist() == [False, True, True]
    t = torch.tensor([0.3, 0.4, -0.2], dtype=torch.float64)
    assert torch.allclose(diag_only.diagonal(t), diag_only.matrix(t).diagonal())


def test_log_marginal_weights_values_and_gradients():
    rng = np.random.default_rng(4)
    a = rng.normal(size=(16, 16))
    h = torch.tensor((a + a.T) / 2, requires_grad=True)
    ref = np.diag(sl.expm(-h.detach().numpy())).reshape(4, 4).sum(1)
    np.testing.assert_allclose(log_marginal_weights(h, 2).detach().numpy(), np.log(ref), atol=1e-13)
    sym = lambda m: log_marginal_weights((m + m.T) / 2, 2)  # noqa: E731
    assert torch.autograd.gradcheck(sym, (h,), eps=1e-6, atol=1e-7)
    # a degenerate spectrum (zero matrix, a diagonal with ties): the divided differences take the limit
    for start in (torch.zeros(8, 8), torch.diag(torch.tensor([0.0, 0, 1, 1, 1, 2, 2, 3]))):
        m = start.to(torch.float64).requires_grad_(True)
        assert torch.autograd.gradcheck(lambda x: log_marginal_weights((x + x.T) / 2, 1), (m,), eps=1e-6, atol=1e-7)
    assert torch.allclose(torch.logsumexp(log_marginal_weights(h.detach(), 1), 0), log_partition(h.detach()))


def test_divided_differences_known_values():
    e = torch.tensor([0.0, 1e-13, 1.0, 50.0], dtype=torch.float64)
    f = divided_differences(e)
    assert torch.allclose(f, f.T)
    assert torch.allclose(f.diagonal(), torch.exp(-e))
    assert float(f[0, 2]) == pytest.approx((1 - math.exp(-1)) / 1.0, rel=1e-15)
    assert float(f[0, 1]) == pytest.approx(1.0, abs=1e-12)
    assert float(f[2, 3]) == pytest.approx((math.exp(-1) - math.exp(-50)) / 49, rel=1e-14)


def test_relative_entropies_and_fidelity_known_answers():
    terms = random_terms(3, 6, np.random.default_rng(5), "IXZ")
    eta = gibbs_state(terms, 0.9).to(torch.complex128)
    mixed = torch.eye(8, dtype=torch.complex128) / 8
    assert float(relative_entropy(eta, eta)) == pytest.approx(0.0, abs=1e-12)
    assert float(gibbs_relative_entropy(eta, terms, 0.9)) == pytest.approx(0.0, abs=1e-12)
    assert float(relative_entropy(eta, mixed)) == pytest.approx(3 * math.log(2) - float(von_neumann_entropy(eta)), abs=1e-12)
    other = [(c * 0.5, s) for c, s in terms]
    direct = float(relative_entropy(eta, gibbs_state(other).to(eta.dtype)))
    assert float(gibbs_relative_entropy(eta, other)) == pytest.approx(direct, abs=1e-12)
    pure = torch.zeros(8, 8, dtype=torch.complex128)
    pure[0, 0] = 1
    assert math.isinf(float(relative_entropy(mixed, pure)))
    assert float(fidelity(eta, eta)) == pytest.approx(1.0, abs=1e-10)
    p, q = torch.tensor([0.2, 0.8], dtype=torch.float64), torch.tensor([0.5, 0.5], dtype=torch.float64)
    assert float(fidelity(torch.diag(p), torch.diag(q))) == pytest.approx(float(torch.sqrt(p * q).sum() ** 2), abs=1e-14)
    psi, phi = torch.tensor([1.0, 0.0], dtype=torch.complex128), torch.tensor([0.6, 0.8j], dtype=torch.complex128)
    assert float(fidelity(torch.outer(psi, psi.conj()), torch.outer(phi, phi.conj()))) == pytest.approx(0.36, abs=1e-7)


@pytest.mark.parametrize("terms, match", [
    ([], "non-empty list"),
    ([(1.0, "ZA")], r"terms\[0\]: Pauli string"),
    ([(1.0, "ZZ"), (0.5, "ZZZ")], r"terms\[1\]: string 'ZZZ' acts on 3 qubits, expected 2"),
    ([(1j, "ZZ")], r"terms\[0\]: coefficient must be a finite real"),
    ([(float("nan"), "ZZ")], r"terms\[0\]: coefficient"),
    ([("ZZ",)], r"terms\[0\]: expected a pair"),
    ("ZZ", "non-empty list"),
])
def test_bad_terms_are_one_line_errors(terms, match):
    with pytest.raises(ParameterError, match=match) as info:
        check_terms(terms)
    assert "\n" not in str(info.value)


def test_too_many_qubits_and_negative_temperature_are_one_line_errors():
    big = [(1.0, "Z" * (MAX_GIBBS_QUBITS + 1))]
    with pytest.raises(ResourceError, match=r"13 qubits need a dense 8192 x 8192 eigenproblem \(about 1\.5 GiB\)") as info:
        gibbs_state(big)
    assert "\n" not in str(info.value)
    for beta in (-1.0, float("inf"), "hot"):
        with pytest.raises(ParameterError, match="beta") as info:
            gibbs_state([(1.0, "Z")], beta)
        assert "\n" not in str(info.value)
    assert check_beta(0) == 0.0
    with pytest.raises(QGMError, match="k: expected"):
        log_marginal_weights(torch.zeros(4, 4, dtype=torch.float64), 3)
