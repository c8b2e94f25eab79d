"""Variational quantum thermalizer: free energies against an independent numpy/scipy computation, exact
gradients against central finite differences, and the analytic optimum of a non-interacting Hamiltonian."""
import numpy as np
import pytest
import scipy.linalg as sl
import torch

from qgm.data.gibbs import gibbs, tfim_gibbs
from qgm.errors import ConfigError, QGMError
from qgm.models.vqt import free_fermion_ansatz, vqt
from qgm.sim.hamiltonian import fidelity

X = np.array([[0.0, 1.0], [1.0, 0.0]])
Z = np.diag([1.0, -1.0])


def kron_tfim(n, J, h):
    """``−J Σ Z_i Z_{i+1} − h Σ X_i`` (open chain) by Kronecker products, wire 0 leftmost."""
    def op(single):
        mats = [single.get(q, np.eye(2)) for q in range(n)]
        out = mats[0]
        for m in mats[1:]:
            out = np.kron(out, m)
        return out
    return -J * sum(op({i: Z, i + 1: Z}) for i in range(n - 1)) - h * sum(op({i: X}) for i in range(n))


def test_free_energies_match_an_independent_computation():
    beta = 0.8
    data = tfim_gibbs(3, beta=beta, J=1.0, h=0.7)
    model = vqt(data, seed=3)
    h = kron_tfim(3, 1.0, 0.7)
    rho = model.gibbs_state().detach().numpy()
    lam = np.linalg.eigvalsh(rho).clip(1e-300)
    free = np.trace(rho @ h).real + (lam * np.log(lam)).sum() / beta
    exact = -np.log(np.trace(sl.expm(-beta * h))) / beta
    assert model.free_energy().item() == pytest.approx(free, abs=1e-10)
    assert -model.log_z.item() / beta == pytest.approx(exact, abs=1e-10)
    out = model.objective(None, "model")
    assert out["loss"].item() == pytest.approx(beta * (free - exact), abs=1e-10) and out["loss"].item() > 0
    assert np.allclose(np.diag(rho).real, model.probs().detach().numpy(), atol=1e-12)


def test_gradients_match_central_finite_differences():
    model = vqt(tfim_gibbs(2, beta=1.0, J=1.0, h=0.6), ansatz={"name": "free_fermion", "depth": 1}, seed=1)
    params = [model.theta, model.logits]
    loss = model.objective(None, "model")["loss"]
    grads = torch.autograd.grad(loss, params)
    eps = 1e-5
    for p, g in zip(params, grads):
        fd = torch.zeros_like(p)
        with torch.no_grad():
            for k in range(p.numel()):
                for sign in (1, -1):
                    p[k] += sign * eps
                    fd[k] += sign * model.objective(None, "model")["loss"].item() / (2 * eps)
                    p[k] -= sign * eps
        assert torch.allclose(g, fd, atol=1e-7), (g, fd)


def test_non_interacting_optimum_is_the_analytic_bernoulli():
    # H = −h Σ X_i: the depth-0 free-fermion circuit maps latent bit 1 to |−⟩ (energy +h; its RX only adds
    # phases), so the optimum has p_i = e^{−βh} / (2 cosh βh) = sigmoid(−2βh), the Gibbs state exactly.
    beta, h = 1.0, 0.5
    data = gibbs([(-h, "XI"), (-h, "IX")], beta=beta)
    model = vqt(data, ansatz={"name": "free_fermion", "depth": 0}, seed=0)
    start = model.objective(None, "model")["loss"].item()
    with torch.no_grad():
        model.logits.fill_(-2 * beta * h)
    loss = model.objective(None, "model")["loss"]
    grads = torch.autograd.grad(loss, [model.theta, model.logits])
    assert start > 1e-3 and abs(loss.item()) < 1e-12
    assert all(float(g.abs().max()) < 1e-12 for g in grads)
    assert float(fidelity(model.gibbs_state().detach(), data.state)) == pytest.approx(1.0, abs=1e-12)


def test_free_fermion_ansatz_counts_and_errors():
    n, depth = 5, 2
    assert free_fermion_ansatz(n, depth).n_params == n * (depth + 1) + 2 * (n - 1) * depth
    for spec, match in (({"name": "free_fermion", "layers": 2}, "takes only depth"),
                        ({"name": "free_fermion", "depth": -1}, "ansatz.depth")):
        with pytest.raises(ConfigError, match=match) as info:
            vqt(tfim_gibbs(2, J=1.0, h=1.0), ansatz=spec)
        assert isinstance(info.value, QGMError) and "\n" not in str(info.value)
    with pytest.raises(ConfigError, match="beta > 0"):
        vqt(tfim_gibbs(2, beta=0.0, J=1.0, h=1.0))
