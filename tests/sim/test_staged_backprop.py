"""The single-node backprop path (small states) and the kernel-graph path (large batches)
give the same gradients as the adjoint method, on both sides of the size cut-off."""
import pytest
import torch

from qgm import sim
from qgm.circuits import Circuit, hardware_efficient


def _circuit() -> Circuit:
    c = hardware_efficient(5, 2, rotations=("ry", "rz"), entangler="ring")
    return c.h(0).u3(1).crx(2, 3).rx(4).ry(0).rz(2)


@pytest.mark.parametrize("batch", [1, 200, 300])  # 2**5 * batch: 32, 6400 (< 8192), 9600 (> 8192)
def test_backprop_matches_adjoint_across_the_cutoff(batch):
    c = _circuit()
    g = torch.Generator().manual_seed(batch)
    theta = torch.rand(batch, c.n_params, dtype=torch.float64, generator=g) * 6.3
    w = torch.rand(2**c.n_qubits, dtype=torch.float64, generator=g)
    grads = []
    for method in ("backprop", "adjoint"):
        t = theta.clone().requires_grad_(True)
        (sim.probs(c, t, diff_method=method) @ w).sum().backward()
        grads.append(t.grad)
    assert torch.allclose(grads[0], grads[1], atol=1e-12, rtol=0)


def test_second_derivative_matches_finite_difference_of_gradient():
    c = _circuit()
    g = torch.Generator().manual_seed(7)
    theta = torch.rand(c.n_params, dtype=torch.float64, generator=g) * 6.3
    w = torch.rand(2**c.n_qubits, dtype=torch.float64, generator=g)
    v = torch.randn(c.n_params, dtype=torch.float64, generator=g)

    def grad_at(x: torch.Tensor, create_graph: bool = False) -> torch.Tensor:
        x = x.clone().requires_grad_(True)
        (gx,) = torch.autograd.grad(sim.probs(c, x, diff_method="backprop") @ w, x, create_graph=create_graph)
        return gx, x

    gx, x = grad_at(theta, create_graph=True)
    (hv,) = torch.autograd.grad(gx @ v, x)
    eps = 1e-5
    fd = (grad_at(theta + eps * v)[0] - grad_at(theta - eps * v)[0]) / (2 * eps)
    assert torch.allclose(hv, fd, atol=1e-7, rtol=0)
