"""Variational quantum thermalizer (Verdon, Marks, Nanda, Leichenauer, Hidary, arXiv:1910.02071).

Gate-based Gibbs-state preparation on the engine: a **product-of-Bernoullis latent** state
``ρ_φ = ⊗_i diag(1 − p_i, p_i)``, ``p_i = sigmoid(φ_i)`` (qubit ``i`` is ``|1⟩`` with probability
``p_i``), rotated by a parametrised circuit ``U(θ)``: ``ρ = U ρ_φ U†``. Its entropy is unitary
invariant, ``S(ρ) = Σ_i H_2(p_i)``, and its energy ``Tr(ρH) = Σ_x p_φ(x) ⟨x|U†HU|x⟩`` is computed
exactly over all ``2**n`` latent strings (every ``U|x⟩`` in one batched engine call), so the
free energy ``F = Tr(ρH) − S(ρ)/β`` is minimised with exact gradients (backprop through the
circuit, analytic in ``φ``). Its minimum is the Gibbs state ``σ = e^{−βH}/Z`` with
``βF(ρ) − βF(σ) = S(ρ‖σ)``; the objective reports that gap (``loss``, using the exact
``log Z`` of the target, known for at most 12 qubits) and ``F`` (``free_energy``).

Trained on a Gibbs dataset (:mod:`qgm.data.gibbs`), whose Hamiltonian and ``β`` it reads;
space ``DensityMatrices(n)``.

Ansatz. The default ``{"name": "free_fermion", "depth": L}`` (``L = n`` unless given) is
Hadamards on every wire, then ``L`` layers of ``RX`` on every wire and ``RZZ·RYY`` on the
even, then the odd, neighbour bonds, then a final ``RX`` layer. Through the Jordan-Wigner map along
``X`` these generators span every fermionic Gaussian unitary of the chain, so for the
transverse-field Ising chain (``ZZ`` + ``X``), a free-fermion model whose Gibbs spectrum is itself
a product of Bernoullis, the VQT family contains the exact Gibbs state. Any spec of
:data:`qgm.circuits.registry.ANSATZE` (e.g. ``hardware_efficient``) may be given instead.
"""
from __future__ import annotations

import functools
from typing import Any, Optional

import torch
import torch.nn.functional as F
from torch import nn

from qgm import sim
from qgm.circuits import Circuit
from qgm.circuits.init import initialize
from qgm.errors import ConfigError
from qgm.models.ansatz import build_ansatz
from qgm.models.base import GenerativeModel, ModelTags, basis_bits, check_n_samples, exact_only
from qgm.models.qbm import DEFAULT_OPTIMIZER, density_copies
from qgm.registry import MODELS
from qgm.sim.hamiltonian import Term, check_beta, check_terms, hamiltonian_matrix, log_partition
from qgm.spaces import Bits, DensityMatrices

__all__ = ["VQT", "DEFAULT_VQT_ANSATZ", "free_fermion_ansatz", "build_vqt_circuit"]

DEFAULT_VQT_ANSATZ: dict[str, Any] = {"name": "free_fermion"}


def free_fermion_ansatz(n_qubits: int, depth: int) -> Circuit:
    """``H^{⊗n}``, then ``depth`` layers of ``RX`` on every wire and ``RZZ·RYY`` brickwork on neighbour
    bonds (even bonds, then odd), then ``RX`` on every wire: ``n(depth + 1) + 2(n − 1)·depth`` angles."""
    bonds = [(a, a + 1) for start in (0, 1) for a in range(start, n_qubits - 1, 2)]
    c = functools.reduce(lambda circ, q: circ.h(q), range(n_qubits), Circuit(n_qubits))
    for layer in range(depth + 1):
        c = functools.reduce(lambda circ, q: circ.rx(q), range(n_qubits), c)
        for a, b in bonds if layer < depth else ():
            c = c.rzz(a, b).ryy(a, b)
    return c


def build_vqt_circuit(spec: dict[str, Any], n_qubits: int) -> tuple[Circuit, dict[str, Any]]:
    """The circuit of an ansatz spec (``free_fermion`` or a registered ansatz) and the spec as stored."""
    spec = dict(spec)
    if spec.get("name") == "free_fermion":
        unknown = sorted(set(spec) - {"name", "depth", "n_qubits"})
        if unknown:
            raise ConfigError(f"ansatz: 'free_fermion' takes only depth, got {unknown}")
        depth = spec.get("depth", n_qubits)
        if isinstance(depth, bool) or not isinstance(depth, int) or depth < 0:
            raise ConfigError(f"ansatz.depth: expected an integer >= 0, got {depth!r}")
        full = {"name": "free_fermion", "depth": depth, "n_qubits": n_qubits}
        return free_fermion_ansatz(n_qubits, depth), full
    full = {**spec, "n_qubits": n_qubits}
    return build_ansatz(full), full


class VQT(GenerativeModel):
    """Variational quantum thermalizer of the Hamiltonian ``terms`` at inverse temperature ``beta``.

    Args:
        terms: ``[(coef, pauli_string)]`` of the target Hamiltonian (at most 12 qubits).
        beta: inverse temperature.
        ansatz: spec of the unitary (default :data:`DEFAULT_VQT_ANSATZ`; ``n_qubits`` filled in).
        init: initial-angle strategy of the circuit (:data:`qgm.circuits.init.INITIALIZERS`).
        seed: seed of the initial angles and latent logits.
        init_options: options of the strategy (default ``{"std": 0.1}`` for ``small``).
    """

    tags = ModelTags(exact_probs=True, owns_objective=True)

    def __init__(self, terms: Any, beta: float = 1.0, ansatz: Optional[dict[str, Any]] = None, init: str = "small",
                 seed: int = 0, init_options: Optional[dict[str, Any]] = None) -> None:
        super().__init__()
        self.target_terms: list[Term] = check_terms(terms)
        n = len(self.target_terms[0][1])
        self.beta = check_beta(beta)
        if self.beta == 0:
            raise ConfigError("beta: the VQT needs beta > 0 (at beta = 0 the Gibbs state is maximally mixed)")
        self.circuit, self.ansatz = build_vqt_circuit(DEFAULT_VQT_ANSATZ if ansatz is None else ansatz, n)
        self.init, self.seed = init, int(seed)
        self.init_options = dict({"std": 0.1} if init_options is None and init == "small" else init_options or {})
        self.space = DensityMatrices(n)
        gen = torch.Generator().manual_seed(self.seed)
        self.theta = nn.Parameter(initialize(init, self.circuit, gen, **self.init_options))
        self.logits = nn.Parameter(0.1 * torch.randn(n, dtype=torch.float64, generator=gen))
        h = hamiltonian_matrix(self.target_terms)
        self.register_buffer("h", h, persistent=False)
        self.register_buffer("log_z", log_partition(h, self.beta), persistent=False)

    @property
    def config(self) -> dict[str, Any]:
        return {"terms": [[c, s] for c, s in self.target_terms], "beta": self.beta, "ansatz": dict(self.ansatz),
                "init": self.init, "seed": self.seed, "init_options": dict(self.init_options)}

    @property
    def n_bits(self) -> int:
        """Qubits of the state (bits of a Z-basis measurement)."""
        return self.space.n  # type: ignore[attr-defined]

    def check_indices(self, x: torch.Tensor) -> torch.Tensor:
        """``x`` validated as basis indices of the ``n`` qubits."""
        return Bits(self.n_bits).check(x, "x")

    # -- the state -----------------------------------------------------------------------------
    def eigenvectors(self) -> torch.Tensor:
        """``U|x⟩`` for every latent string ``x``: rows of a ``(2**n, 2**n)`` complex128 tensor."""
        eye = torch.eye(1 << self.n_bits, dtype=torch.complex128, device=self.theta.device)
        return sim.state(self.circuit, self.theta, initial_state=eye)

    def latent_log_probs(self) -> torch.Tensor:
        """``log p_φ(x)`` ``(2**n,)`` of the product of Bernoullis (bit ``i`` is 1 with probability ``sigmoid(φ_i)``)."""
        x = basis_bits(self.n_bits, device=self.logits.device)
        return x @ F.logsigmoid(self.logits) + (1 - x) @ F.logsigmoid(-self.logits)

    def entropy(self) -> torch.Tensor:
        """``S(ρ) = Σ_i H_2(sigmoid(φ_i))`` (nats)."""
        p = torch.sigmoid(self.logits)
        return -(p * F.logsigmoid(self.logits) + (1 - p) * F.logsigmoid(-self.logits)).sum()

    def energy(self) -> torch.Tensor:
        """``Tr(ρH) = Σ_x p_φ(x) ⟨x|U†HU|x⟩`` (differentiable)."""
        psi = self.eigenvectors()
        e_x = torch.einsum("xi,ij,xj->x", psi.conj(), self.h.to(psi.dtype), psi).real
        return (self.latent_log_probs().exp() * e_x).sum()

    def free_energy(self) -> torch.Tensor:
        """``F(ρ) = Tr(ρH) − S(ρ)/β``."""
        return self.energy() - self.entropy() / self.beta

    def gibbs_state(self) -> torch.Tensor:
        """The prepared state ``ρ = U ρ_φ U†`` ``(2**n, 2**n)`` complex128."""
        psi = self.eigenvectors()
        return (psi.T * self.latent_log_probs().exp().to(psi.dtype)) @ psi.conj()

    def probs(self, *, shots: Optional[int] = None, generator: Optional[torch.Generator] = None) -> torch.Tensor:
        """Z-basis probabilities ``diag ρ`` ``(2**n,)`` float64 (``shots`` refused)."""
        exact_only(self, shots)
        psi = self.eigenvectors()
        return self.latent_log_probs().exp() @ (psi.real**2 + psi.imag**2)

    def sample(self, n: int, *, generator: Optional[torch.Generator] = None) -> torch.Tensor:
        """``n`` copies ``(n, 2**n, 2**n)`` of the prepared state (a view; size-checked)."""
        check_n_samples(n)
        with torch.no_grad():
            return density_copies(self.gibbs_state(), n)

    # -- the objective ---------------------------------------------------------------------------
    def objective(self, batch: Any, player: str) -> dict[str, torch.Tensor]:
        """``{"loss": βF(ρ) + log Z = S(ρ‖σ), "free_energy": F}`` (the data batch is not needed: the target
        is the Gibbs state of the known Hamiltonian)."""
        if player != "model":
            raise ConfigError(f"player: the VQT has the single player 'model', got {player!r}")
        f = self.free_energy()
        return {"loss": self.beta * f + self.log_z, "free_energy": f.detach()}

    def configure_optimizers(self, spec: Any) -> dict[str, torch.optim.Optimizer]:
        """One optimizer over ``θ`` and ``φ`` (default :data:`~qgm.models.qbm.DEFAULT_OPTIMIZER`)."""
        return super().configure_optimizers(spec or DEFAULT_OPTIMIZER)


@MODELS.register("vqt", accepts=(DensityMatrices,))
def vqt(dataset: Any, ansatz: Optional[dict[str, Any]] = None, init: str = "small", seed: int = 0,
        init_options: Optional[dict[str, Any]] = None) -> VQT:
    """Registered factory: a :class:`VQT` of the Gibbs dataset's Hamiltonian and ``β``."""
    if not hasattr(dataset, "terms") or not hasattr(dataset, "beta"):
        raise ConfigError(f"dataset: the VQT prepares the Gibbs state of a known Hamiltonian; '{dataset.name}' has "
                          "none; use a Gibbs dataset (gibbs, tfim_gibbs)")
    return VQT(dataset.terms, dataset.beta, ansatz=ansatz, init=init, seed=seed, init_options=init_options)
