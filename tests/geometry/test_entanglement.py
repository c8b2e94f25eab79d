"""Entanglement entropies, Meyer–Wallach Q and entangling capability."""
from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from qgm.circuits import Circuit
from qgm.errors import ParameterError
from qgm.geometry import entanglement_entropy, entangling_capability, meyer_wallach, reduced_density_matrix, schmidt_spectrum
from qgm.sim import state


def ghz(n: int) -> torch.Tensor:
    c = Circuit(n).h(0)
    for q in range(n - 1):
        c = c.cx(q, q + 1)
    return state(c)


def random_state(n: int, seed: int, batch: int = 1) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    z = torch.complex(torch.randn(batch, 2**n, generator=g, dtype=torch.float64),
                      torch.randn(batch, 2**n, generator=g, dtype=torch.float64))
    return z / z.norm(dim=-1, keepdim=True)


def test_bell_pair_entropies():
    bell = ghz(2)
    assert math.isclose(float(entanglement_entropy(bell, [0])), math.log(2), rel_tol=1e-12)
    assert math.isclose(float(entanglement_entropy(bell, [1], base=2)), 1.0, rel_tol=1e-12)
    for alpha in (0, 0.5, 2, 3, math.inf):
        assert math.isclose(float(entanglement_entropy(bell, [0], alpha=alpha)), math.log(2), rel_tol=1e-12)


def test_product_state_has_zero_entropy_and_q():
    psi = state(Circuit(3).ry(0, 0.4).rx(1, 1.2).h(2))
    assert abs(float(entanglement_entropy(psi, [0, 2]))) < 1e-12
    assert abs(float(meyer_wallach(psi))) < 1e-12


@pytest.mark.parametrize("n", [2, 3, 5])
def test_ghz_has_q_one(n):
    assert math.isclose(float(meyer_wallach(ghz(n))), 1.0, rel_tol=1e-12)


def test_entropy_of_complement_and_renyi_limit():
    psi = random_state(5, 0, batch=3)
    a, b = entanglement_entropy(psi, [3, 0]), entanglement_entropy(psi, [1, 2, 4])
    torch.testing.assert_close(a, b)
    assert a.shape == (3,)
    near = entanglement_entropy(psi, [3, 0], alpha=1 + 1e-6)
    torch.testing.assert_close(near, a, atol=1e-5, rtol=0)
    # Rényi entropies decrease with alpha
    vals = [entanglement_entropy(psi, [3, 0], alpha=x) for x in (0, 0.5, 1, 2, math.inf)]
    for lo, hi in zip(vals[1:], vals[:-1]):
        assert torch.all(lo <= hi + 1e-12)


def test_reduced_density_matrix_wire_order():
    psi = state(Circuit(2).x(1))  # |01⟩: wire 0 in |0⟩, wire 1 in |1⟩
    torch.testing.assert_close(reduced_density_matrix(psi, [1]), torch.tensor([[0, 0], [0, 1]], dtype=torch.complex128))
    rho = reduced_density_matrix(psi, [1, 0])  # first listed wire = MSB: |10⟩
    assert float(rho[2, 2].real) == pytest.approx(1.0)
    rho = reduced_density_matrix(random_state(4, 1)[0], [2, 0])
    torch.testing.assert_close(torch.linalg.eigvalsh(rho), schmidt_spectrum(random_state(4, 1)[0], [2, 0]))


def test_meyer_wallach_against_numpy_partial_traces():
    psi = random_state(4, 2, batch=2)
    want = []
    for s in psi.numpy():
        t = s.reshape([2] * 4)
        pur = 0.0
        for k in range(4):
            m = np.moveaxis(t, k, 0).reshape(2, -1)
            rho = m @ m.conj().T
            pur += np.trace(rho @ rho).real
        want.append(2 * (1 - pur / 4))
    np.testing.assert_allclose(meyer_wallach(psi).numpy(), want, atol=1e-12)


def test_entangling_capability_of_product_and_cluster_circuits():
    g = torch.Generator().manual_seed(0)
    product = Circuit(3).rx(0).ry(1).rz(2).ry(2)
    assert abs(entangling_capability(product, 200, g)) < 1e-12
    cluster = Circuit(3).h(0).h(1).h(2).cz(0, 1).cz(1, 2).rx(0).rx(1).rx(2)  # local rotations of a cluster state
    assert math.isclose(entangling_capability(cluster, 200, g), 1.0, rel_tol=1e-12)


def test_errors():
    bell = ghz(2)
    with pytest.raises(ParameterError, match="subsystem"):
        entanglement_entropy(bell, [0, 0])
    with pytest.raises(ParameterError, match="subsystem"):
        entanglement_entropy(bell, [2])
    with pytest.raises(ParameterError, match="alpha"):
        entanglement_entropy(bell, [0], alpha=-1)
    with pytest.raises(ParameterError, match="base"):
        entanglement_entropy(bell, [0], base=1)
    with pytest.raises(ParameterError, match="2\\*\\*n"):
        meyer_wallach(torch.ones(3, dtype=torch.complex128))
