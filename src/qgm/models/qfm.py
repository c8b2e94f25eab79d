"""Flow matching on quantum states through their spin Wigner functions (the report's
"quantum flow matching"; Hahm, Hur, Lee, Park, "Generative Modeling of Quantum
Distribution with Functional Flow Matching"), and the same flow on raw matrix entries.

**Spin Wigner map (Stratonovich–Weyl).** Per qubit the kernel
``Δ(Ω) = ½(I + √3 n(Ω)·σ)``; an ``n``-qubit state has ``W_ρ(Ω_1…Ω_n) =
Tr[ρ ⊗_k Δ(Ω_k)]``. With the measure ``dμ = sin θ dθ dφ / (2π)`` per qubit,
``∫ W dμ = Tr ρ`` and ``ρ = ∫ W ⊗_k Δ dμ``. ``W`` is multilinear in the Bloch
directions, so it is fixed by its values on the product grid of the four
tetrahedron directions ``n_j`` (``n_i·n_j = −1/3``): the ``Δ_j = Δ(n_j)`` are
orthogonal with ``Tr Δ_iΔ_j = 2δ_ij`` and ``Σ_j Δ_j = 2I``, so
:func:`wigner_function` ``W_j = Tr(ρ Δ_j)`` (``4**n`` real values, index ``j``
= tetrahedron index of wire 0 most significant) has the exact inverse
:func:`wigner_inverse` ``ρ = 2^{−n} Σ_j W_j ⊗Δ_j`` and ``Tr ρ = 2^{−n} Σ_j W_j``.

**Flow matching.** Each training state becomes a vector ``x₁`` (its Wigner values,
``representation="wigner"``, or the real and imaginary parts of its ``4**n``
entries, ``"raw"``), standardised per coordinate with the training set's mean and
spread. Conditional OT paths (Lipman et al.): ``x₀ ~ N(0, I)`` (paired with the
batch by exact mini-batch OT when ``coupling="ot"``), ``t ~ U[0, 1]``,
``x_t = (1 − (1 − σ_min) t) x₀ + t x₁``, target ``u = x₁ − (1 − σ_min) x₀``; an MLP
``v(x, t)`` is regressed on ``u`` (mean squared error, the model's own objective).
Sampling integrates ``dx/dt = v`` from ``t = 0`` to 1 with fixed-step RK4 (or Euler)
and maps back: :meth:`QuantumFlowMatching.raw_sample` returns these matrices as
they are (trace, Hermiticity and positivity not enforced: what the validity rate
measures); :meth:`~QuantumFlowMatching.sample` returns elements of
``DensityMatrices(n)`` through ``projection``: ``"trace"`` (Hermitian part divided
by its trace; negative eigenvalues stay) or ``"physical"`` (the nearest density
matrix in Frobenius norm, :func:`nearest_density_matrix`).
"""
from __future__ import annotations

import math
from typing import Any, Optional, Sequence

import numpy as np
import torch
from torch import nn

from qgm.errors import ConfigError, ParameterError, ResourceError
from qgm.models.base import DEFAULT_PLAYER, GenerativeModel, ModelTags, check_n_samples
from qgm.optim import build_optimizer
from qgm.registry import MODELS
from qgm.spaces import DensityMatrices

__all__ = [
    "QuantumFlowMatching", "TETRAHEDRON", "stratonovich_kernel", "product_kernels", "wigner_frame",
    "wigner_function", "wigner_inverse", "wigner_values", "nearest_density_matrix", "trace_normalised",
    "REPRESENTATIONS", "PROJECTIONS", "SOLVERS", "COUPLINGS", "MAX_QFM_QUBITS",
]

#: The four tetrahedron directions (unit vectors, pairwise ``n_i·n_j = −1/3``).
TETRAHEDRON = torch.tensor([[1, 1, 1], [1, -1, -1], [-1, 1, -1], [-1, -1, 1]], dtype=torch.float64) / math.sqrt(3)
REPRESENTATIONS = ("wigner", "raw")
PROJECTIONS = ("trace", "physical")
SOLVERS = ("rk4", "euler")
COUPLINGS = ("independent", "ot")
#: Largest register: ``4**n`` Wigner values per state.
MAX_QFM_QUBITS = 5
_PAULI_XYZ = torch.tensor([[[0, 1], [1, 0]], [[0, -1j], [1j, 0]], [[1, 0], [0, -1]]], dtype=torch.complex128)


# ---------------------------------------------------------------------------- the spin Wigner map
def stratonovich_kernel(directions: torch.Tensor) -> torch.Tensor:
    """``Δ(n) = ½(I + √3 n·σ)`` ``(..., 2, 2)`` for unit vectors ``directions`` ``(..., 3)``."""
    n = directions.to(torch.complex128)
    return 0.5 * (torch.eye(2, dtype=torch.complex128) + math.sqrt(3) * torch.einsum("...k,kij->...ij", n, _PAULI_XYZ))


def _check_qubits(n_qubits: int) -> int:
    if isinstance(n_qubits, bool) or not isinstance(n_qubits, int) or not 1 <= n_qubits <= MAX_QFM_QUBITS:
        raise ResourceError(f"n_qubits: the Wigner grid has 4**n points; use 1..{MAX_QFM_QUBITS} qubits, "
                            f"got {n_qubits!r}")
    return n_qubits


def _kron_all(factors: torch.Tensor) -> torch.Tensor:
    """``⊗_k factors[..., k]`` for ``factors`` ``(..., n, 2, 2)`` -> ``(..., 2**n, 2**n)`` (wire 0 first)."""
    out = factors[..., 0, :, :]
    for k in range(1, factors.shape[-3]):
        f = factors[..., k, :, :]
        out = (out[..., :, None, :, None] * f[..., None, :, None, :]).reshape(*f.shape[:-2], out.shape[-2] * 2, -1)
    return out


def product_kernels(directions: torch.Tensor) -> torch.Tensor:
    """``⊗_k Δ(Ω_k)`` ``(K, 2**n, 2**n)`` at points ``directions`` ``(K, n, 3)`` (one Bloch direction per qubit)."""
    return _kron_all(stratonovich_kernel(directions))


def wigner_frame(n_qubits: int) -> torch.Tensor:
    """The ``4**n`` kernels ``⊗_k Δ(n_{j_k})`` on the tetrahedron grid ``(4**n, 2**n, 2**n)``."""
    n = _check_qubits(n_qubits)
    grid = torch.cartesian_prod(*[torch.arange(4)] * n).reshape(-1, n)
    return product_kernels(TETRAHEDRON[grid])


def wigner_values(rho: torch.Tensor, directions: torch.Tensor) -> torch.Tensor:
    """``W_ρ`` at points ``directions`` ``(K, n, 3)`` -> ``(N, K)`` for matrices ``rho`` ``(N, 2**n, 2**n)``."""
    return torch.einsum("nij,kji->nk", rho.to(torch.complex128), product_kernels(directions)).real


def wigner_function(rho: torch.Tensor) -> torch.Tensor:
    """``W_j = Tr(ρ ⊗Δ_j)`` on the tetrahedron grid ``(N, 4**n)`` for ``rho`` ``(N, 2**n, 2**n)`` (real part:
    exact for Hermitian ``rho``)."""
    n = int(rho.shape[-1]).bit_length() - 1
    frame = wigner_frame(n).to(rho.device)
    return (rho.to(torch.complex128).reshape(rho.shape[0], -1) @ frame.transpose(1, 2).reshape(frame.shape[0], -1).T).real


def wigner_inverse(values: torch.Tensor) -> torch.Tensor:
    """``ρ = 2^{−n} Σ_j W_j ⊗Δ_j`` ``(N, 2**n, 2**n)`` from grid values ``(N, 4**n)`` (always Hermitian)."""
    n = (int(values.shape[-1]).bit_length() - 1) // 2
    if values.dim() != 2 or values.shape[-1] != 4**n:
        raise ParameterError(f"values: expected Wigner grid values (N, 4**n), got shape {tuple(values.shape)}")
    frame = wigner_frame(n).to(values.device)
    return torch.einsum("nj,jab->nab", values.to(torch.complex128), frame) / 2**n


# ---------------------------------------------------------------------------- projections
def trace_normalised(matrices: torch.Tensor) -> torch.Tensor:
    """Hermitian part divided by its (real) trace ``(N, d, d)``; matrices whose trace is not positive go to
    :func:`nearest_density_matrix` (eigenvalues may stay negative otherwise)."""
    h = (matrices + matrices.mH) / 2
    tr = torch.diagonal(h, dim1=-2, dim2=-1).real.sum(-1)
    ok = tr > 1e-12
    out = h / torch.where(ok, tr, torch.ones_like(tr))[:, None, None]
    return torch.where(ok[:, None, None], out, nearest_density_matrix(matrices))


def nearest_density_matrix(matrices: torch.Tensor) -> torch.Tensor:
    """The density matrix nearest (Frobenius norm) to the Hermitian part of each ``(N, d, d)``: its eigenvalues
    projected onto the probability simplex (Smolin, Gambetta, Smith, PRL 108, 070502), eigenvectors kept."""
    h = (matrices + matrices.mH) / 2
    lam, vec = torch.linalg.eigh(h)
    mu = lam.flip(-1)  # descending
    d = lam.shape[-1]
    css = mu.cumsum(-1) - 1
    k = torch.arange(1, d + 1, dtype=lam.dtype, device=lam.device)
    rho = (mu - css / k > 0).to(lam.dtype) * k  # largest k with mu_k > (Σ_{i<=k} mu_i − 1)/k
    idx = rho.argmax(-1, keepdim=True)
    shift = css.gather(-1, idx) / (idx + 1).to(lam.dtype)
    p = (lam - shift).clamp_min(0).to(vec.dtype)
    return (vec * p[..., None, :]) @ vec.mH


# ---------------------------------------------------------------------------- the model
class VelocityField(nn.Module):
    """MLP ``v(x, t)`` ``(B, D)``: input ``x`` and the time features ``t, sin 2πkt, cos 2πkt`` (k = 1..4)."""

    def __init__(self, dim: int, hidden: Sequence[int], generator: torch.Generator) -> None:
        super().__init__()
        sizes = [dim + 9, *hidden, dim]
        layers: list[nn.Module] = []
        for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
            lin = nn.Linear(a, b, dtype=torch.float64)
            bound = 1 / math.sqrt(a)
            with torch.no_grad():
                lin.weight.uniform_(-bound, bound, generator=generator)
                lin.bias.uniform_(-bound, bound, generator=generator)
            layers += [lin] if i == len(sizes) - 2 else [lin, nn.SiLU()]
        self.net = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        k = 2 * math.pi * torch.arange(1, 5, dtype=x.dtype, device=x.device)
        tt = t.reshape(-1, 1).expand(x.shape[0], 1)
        return self.net(torch.cat([x, tt, torch.sin(tt * k), torch.cos(tt * k)], 1))


class QuantumFlowMatching(GenerativeModel):
    """Flow matching on density matrices of ``n_qubits`` qubits (see the module docstring).

    Args:
        n_qubits: qubits (1..:data:`MAX_QFM_QUBITS`).
        representation: ``"wigner"`` (``4**n`` values) or ``"raw"`` (``2·4**n`` entry parts).
        hidden: widths of the velocity MLP.
        sigma_min: width of the conditional paths at ``t = 1``.
        coupling: ``"independent"`` or ``"ot"`` (exact OT pairing of noise and data in each batch, POT).
        ode_steps, solver: fixed-step integrator of the sampler (``"rk4"`` or ``"euler"``).
        projection: how :meth:`sample` maps raw outputs into ``DensityMatrices(n)`` (``"trace"``, ``"physical"``).
        shift, scale: per-coordinate standardisation (set from the data by the factory; kept in ``state_dict``).
        seed: seed of the network's initial weights and of the model's random stream.
    """

    tags = ModelTags(owns_objective=True)

    def __init__(self, n_qubits: int, representation: str = "wigner", hidden: Sequence[int] = (256, 256, 256),
                 sigma_min: float = 1e-4, coupling: str = "independent", ode_steps: int = 100, solver: str = "rk4",
                 projection: str = "trace", shift: Optional[Sequence[float]] = None,
                 scale: Optional[Sequence[float]] = None, seed: int = 0) -> None:
        super().__init__()
        n = _check_qubits(n_qubits)
        for field, value, allowed in (("representation", representation, REPRESENTATIONS),
                                      ("projection", projection, PROJECTIONS), ("solver", solver, SOLVERS),
                                      ("coupling", coupling, COUPLINGS)):
            if value not in allowed:
                raise ConfigError(f"{field}: expected one of {allowed}, got {value!r}")
        if not (isinstance(sigma_min, (int, float)) and 0 <= sigma_min < 1):
            raise ConfigError(f"sigma_min: expected a number in [0, 1), got {sigma_min!r}")
        if isinstance(ode_steps, bool) or not isinstance(ode_steps, int) or ode_steps < 1:
            raise ConfigError(f"ode_steps: expected a positive integer, got {ode_steps!r}")
        hidden = [int(h) for h in hidden]
        if not hidden or min(hidden) < 1:
            raise ConfigError(f"hidden: expected positive layer widths, got {hidden!r}")
        self.space = DensityMatrices(n)
        self.representation, self.hidden, self.sigma_min = representation, hidden, float(sigma_min)
        self.coupling, self.ode_steps, self.solver, self.projection = coupling, ode_steps, solver, projection
        self.seed = int(seed)
        self.dim = 4**n if representation == "wigner" else 2 * 4**n
        self.register_buffer("shift", torch.zeros(self.dim, dtype=torch.float64) if shift is None
                             else torch.as_tensor(shift, dtype=torch.float64))
        self.register_buffer("scale", torch.ones(self.dim, dtype=torch.float64) if scale is None
                             else torch.as_tensor(scale, dtype=torch.float64))
        if self.shift.shape != (self.dim,) or self.scale.shape != (self.dim,) or not bool((self.scale > 0).all()):
            raise ConfigError(f"shift, scale: expected {self.dim} values each (scale > 0) for {representation!r} "
                              f"on {n} qubits")
        self.velocity = VelocityField(self.dim, hidden, torch.Generator().manual_seed(self.seed))
        self.rng = torch.Generator().manual_seed(self.seed + 0x9E3779B9)

    @property
    def config(self) -> dict[str, Any]:
        return {"n_qubits": self.space.n, "representation": self.representation, "hidden": list(self.hidden),
                "sigma_min": self.sigma_min, "coupling": self.coupling, "ode_steps": self.ode_steps,
                "solver": self.solver, "projection": self.projection, "seed": self.seed}

    def get_extra_state(self) -> torch.Tensor:
        return self.rng.get_state()

    def set_extra_state(self, state: torch.Tensor) -> None:
        self.rng.set_state(state)

    def configure_optimizers(self, spec: Any = None) -> dict[str, torch.optim.Optimizer]:
        """One optimizer over the velocity network (default Adam, lr 1e-3)."""
        spec = dict(spec or {"name": "adam", "lr": 1e-3})
        if "name" not in spec:
            raise ConfigError(f"optimizer: flow matching takes one optimizer {{name, lr, ...}}, got {spec!r}")
        return {DEFAULT_PLAYER: build_optimizer(list(self.velocity.parameters()), spec, model=self)}

    # -- representation ----------------------------------------------------------------------------
    def encode(self, rho: torch.Tensor) -> torch.Tensor:
        """Unstandardised features ``(N, dim)`` of matrices ``(N, 2**n, 2**n)``."""
        if self.representation == "wigner":
            return wigner_function(rho)
        flat = rho.to(torch.complex128).reshape(rho.shape[0], -1)
        return torch.cat([flat.real, flat.imag], 1)

    def decode(self, x: torch.Tensor) -> torch.Tensor:
        """Matrices ``(N, 2**n, 2**n)`` of unstandardised features (exact inverse of :meth:`encode`)."""
        d = self.space.dim  # type: ignore[attr-defined]
        if self.representation == "wigner":
            return wigner_inverse(x)
        half = x.shape[1] // 2
        return torch.complex(x[:, :half], x[:, half:]).reshape(-1, d, d)

    def standardise(self, rho: torch.Tensor) -> torch.Tensor:
        """Standardised features ``(N, dim)`` (the flow's data coordinates)."""
        return (self.encode(rho) - self.shift) / self.scale

    # -- training ------------------------------------------------------------------------------------
    def _pair(self, x0: torch.Tensor, x1: torch.Tensor) -> torch.Tensor:
        """``x0`` reordered by the exact OT plan to ``x1`` (squared Euclidean cost; equal batch sizes)."""
        import ot

        cost = torch.cdist(x0, x1).pow(2).detach().cpu().numpy()
        plan = ot.emd(np.full(len(x0), 1 / len(x0)), np.full(len(x1), 1 / len(x1)), cost)
        return x0[torch.as_tensor(plan.argmax(0), device=x0.device)]

    def objective(self, batch: Optional[torch.Tensor], player: str) -> dict[str, torch.Tensor]:
        """``{"loss"}``: conditional flow-matching MSE on the batch (see the module docstring)."""
        if player != DEFAULT_PLAYER:
            raise ConfigError(f"player: flow matching has the single player {DEFAULT_PLAYER!r}, got {player!r}")
        if batch is None:
            raise ConfigError("train.batch_size: flow matching trains on batches; set a batch size")
        x1 = self.standardise(self.space.check(batch, "batch")).to(self.shift.device)
        x0 = torch.randn(x1.shape, generator=self.rng, dtype=torch.float64).to(x1.device)
        if self.coupling == "ot":
            x0 = self._pair(x0, x1)
        t = torch.rand(x1.shape[0], 1, generator=self.rng, dtype=torch.float64).to(x1.device)
        s = 1 - self.sigma_min
        xt = (1 - s * t) * x0 + t * x1
        loss = (self.velocity(xt, t) - (x1 - s * x0)).pow(2).sum(1).mean()
        return {"loss": loss}

    # -- sampling ------------------------------------------------------------------------------------
    def integrate(self, x0: torch.Tensor) -> torch.Tensor:
        """Solve ``dx/dt = v(x, t)`` from ``t = 0`` to 1 for ``x0`` ``(N, dim)`` (fixed steps, no gradients)."""
        h = 1.0 / self.ode_steps
        x = x0
        with torch.no_grad():
            for k in range(self.ode_steps):
                t = torch.tensor(k * h, dtype=x.dtype, device=x.device)
                if self.solver == "euler":
                    x = x + h * self.velocity(x, t)
                    continue
                k1 = self.velocity(x, t)
                k2 = self.velocity(x + h / 2 * k1, t + h / 2)
                k3 = self.velocity(x + h / 2 * k2, t + h / 2)
                k4 = self.velocity(x + h * k3, t + h)
                x = x + h / 6 * (k1 + 2 * k2 + 2 * k3 + k4)
        return x

    def raw_sample(self, n: int, *, generator: Optional[torch.Generator] = None) -> torch.Tensor:
        """``n`` generated matrices ``(n, 2**n, 2**n)`` before any projection."""
        check_n_samples(n)
        x0 = torch.randn(n, self.dim, generator=generator, dtype=torch.float64).to(self.shift.device)
        return self.decode(self.integrate(x0) * self.scale + self.shift)

    def sample(self, n: int, *, generator: Optional[torch.Generator] = None) -> torch.Tensor:
        """``n`` density matrices ``(n, 2**n, 2**n)``: :meth:`raw_sample` through ``projection``."""
        raw = self.raw_sample(n, generator=generator)
        return trace_normalised(raw) if self.projection == "trace" else nearest_density_matrix(raw)


@MODELS.register("quantum_flow_matching", accepts=(DensityMatrices,))
def quantum_flow_matching(dataset: Any, representation: str = "wigner", hidden: Sequence[int] = (256, 256, 256),
                          sigma_min: float = 1e-4, coupling: str = "independent", ode_steps: int = 100,
                          solver: str = "rk4", projection: str = "trace", seed: int = 0) -> QuantumFlowMatching:
    """Registered factory: :class:`QuantumFlowMatching` standardised on the dataset's training matrices."""
    if not isinstance(getattr(dataset, "space", None), DensityMatrices):
        raise ConfigError("dataset: quantum_flow_matching trains on density matrices (DensityMatrices)")
    probe = QuantumFlowMatching(dataset.space.n, representation, hidden, sigma_min, coupling, ode_steps, solver,
                                projection, seed=seed)
    x = probe.encode(dataset.train)
    std = x.std(0, unbiased=False)
    return QuantumFlowMatching(dataset.space.n, representation, hidden, sigma_min, coupling, ode_steps, solver,
                               projection, x.mean(0).tolist(), torch.where(std > 1e-9, std, 1.0).tolist(), seed)
