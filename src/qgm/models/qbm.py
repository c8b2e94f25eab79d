"""Quantum Boltzmann machines: an energy-based model whose energy is a Hamiltonian with non-commuting terms.

``H(θ) = −Σ_k θ_k O_k`` on ``n = n_visible + n_hidden`` qubits (visible wires first, wire 0 =
most significant bit), ``ρ = e^{−H}/Z`` (``β`` absorbed), and the data probabilities are
``P(v) = Tr[(|v⟩⟨v| ⊗ I_hidden) ρ]``; ``σ^z = +1`` is bit 0. Each ``O_k`` is a Pauli sum
(one string, or all strings of one kind when ``shared``). Families:

* ``tfim``: ``O = Z_a Z_b`` on the edges of ``graph`` (coupling ``w_ab``), ``Z_a`` (field ``b_a``,
  if ``fields``) and the transverse field ``X_a`` (``Γ_a``, one per qubit or one ``shared``;
  trained, or fixed at ``gamma`` with ``train_gamma: false``):
  ``H = −Σ w_ab Z_a Z_b − Σ b_a Z_a − Σ Γ_a X_a``.
* ``xyz``: ``X_a X_b``, ``Y_a Y_b``, ``Z_a Z_b`` on the edges (``graph: chain`` is the 1-D XYZ
  model, ``all`` all-to-all) and ``X_a``, ``Z_a`` fields. (No single-qubit ``Y``: it would make
  ``H`` complex, and on real targets its gradient vanishes from ``θ = 0``.)
* ``classical``: ``Z_a Z_b`` and ``Z_a`` only (``Γ = 0``): the classical Boltzmann machine.

Graphs: ``chain``, ``ring``, ``all`` over every qubit, or with hidden units ``restricted``
(visible-hidden edges only) and ``semi_restricted`` (visible-visible and visible-hidden).

**Training** (the model owns its objective; the Trainer steps one optimizer on ``"loss"``):

* classical data (``Bits(n_visible)``), ``gradient: exact``: ``loss = KL(q‖P)`` for the batch
  histogram ``q`` (or the dataset's target), differentiated exactly through the Fréchet
  derivative of ``e^{−H}`` (:func:`~qgm.sim.hamiltonian.log_marginal_weights`):
  ``∂L/∂θ = −Σ_v q_v D_v(O)/Tr(Λ_v e^{−H}) + ⟨O⟩_ρ``.
* ``gradient: bound`` (Amin et al. 2018, bQBM): the Golden-Thompson upper bound
  ``L̃ = −Σ_v q_v log(Tr e^{−H_v}/Z) − S(q)`` with the clamped ``H_v = ⟨v|H|v⟩``, whose gradient
  is ``Σ_v q_v ⟨∂H_v⟩_v − ⟨∂H⟩_ρ``. It has no positive phase for ``Γ`` (it would drive ``Γ`` to
  0), so ``Γ`` must be fixed (``train_gamma: false``).
* quantum data (``DensityMatrices(n)``, fully visible): ``loss = S(η‖ρ) = −S(η) + Tr(ηH) + log Z``
  with gradient ``⟨O_k⟩_ρ − ⟨O_k⟩_η`` (Kieferová & Wiebe; Coopmans & Benedetti 2024).

The data statistics the objective needs without a batch (``batch=None``: the dataset's exact
target) live in buffers set by the factory: ``data_probs`` for bits, ``data_moments``
(``Tr(η O_k)``) and ``data_entropy`` for density matrices (defaults: uniform / maximally mixed).

Sampling: ``sample(n)`` draws visible bitstrings exactly from ``probs()`` (bits data) or returns
``n`` copies of ``ρ`` (density data); ``sample(n, sampler="exact"|"sa"|"sqa")`` draws Z-basis
bitstrings with :mod:`qgm.samplers` (SA: the classical part only, SQA: path-integral Monte Carlo
with the model's shared ``Γ``; both tfim/classical families only).
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Optional

import torch
from torch import nn

from qgm.errors import ConfigError, ParameterError, ResourceError
from qgm.losses.base import histogram, target_distribution
from qgm.models.base import GenerativeModel, ModelTags, check_n_samples, exact_only, sample_from_probs
from qgm.registry import MODELS
from qgm.sim.hamiltonian import (
    MAX_GIBBS_QUBITS,
    PauliOperators,
    Term,
    check_gibbs_size,
    graph_edges,
    log_marginal_weights,
    pauli_string,
    von_neumann_entropy,
)
from qgm.spaces import Bits, DensityMatrices, Space

__all__ = [
    "QBM", "FAMILIES", "GRAPHS", "GRADIENTS", "DATA_SPACES", "Operator", "qbm_operators", "exact_kl", "bound_kl",
    "relative_entropy_loss", "DEFAULT_OPTIMIZER", "density_copies",
]

FAMILIES = ("tfim", "xyz", "classical")
GRAPHS = ("chain", "ring", "all", "restricted", "semi_restricted")
GRADIENTS = ("exact", "bound")
DATA_SPACES = ("bits", "density")
#: Optimizer of a config that names none (e.g. the conformance suite's ``{}``).
DEFAULT_OPTIMIZER: dict[str, Any] = {"name": "adam", "lr": 0.05}
#: Largest tensor ``sample(n)`` materialises as copies of the density matrix.
MAX_SAMPLE_BYTES = 256 * 2**20


@dataclass(frozen=True)
class Operator:
    """One parameter's operator ``O = Σ strings`` and its name (``w[0,1]``, ``Jx``, ``gamma[2]``...)."""

    name: str
    kind: str  # "coupling" | "field" | "transverse"
    strings: tuple[str, ...]


def _edges(n_visible: int, n_hidden: int, graph: str) -> list[tuple[int, int]]:
    n = n_visible + n_hidden
    if graph in ("chain", "ring", "all"):
        return graph_edges(n, graph)
    if graph not in GRAPHS:
        raise ConfigError(f"graph: expected one of {GRAPHS}, got {graph!r}")
    if n_hidden == 0:
        raise ConfigError(f"graph: '{graph}' couples visible and hidden qubits; set n_hidden >= 1 or use 'all'")
    cross = [(a, n_visible + h) for a in range(n_visible) for h in range(n_hidden)]
    return (graph_edges(n_visible, "all") if graph == "semi_restricted" else []) + cross


def _group(name: str, kind: str, strings: list[str], shared: bool) -> list[Operator]:
    """One operator per string, or one shared operator for all of them."""
    if not strings:
        return []
    if shared:
        return [Operator(name, kind, tuple(strings))]
    return [Operator(f"{name}[{i}]", kind, (s,)) for i, s in enumerate(strings)]


def qbm_operators(
    n_visible: int, n_hidden: int = 0, family: str = "tfim", graph: str = "all", fields: bool = True,
    shared_couplings: bool = False, shared_gamma: bool = False,
) -> list[Operator]:
    """The operators ``O_k`` of a QBM (see the module docstring), couplings first, then fields, then ``Γ``."""
    if family not in FAMILIES:
        raise ConfigError(f"family: expected one of {FAMILIES}, got {family!r}")
    n = n_visible + n_hidden
    edges = _edges(n_visible, n_hidden, graph)
    paulis = ("X", "Y", "Z") if family == "xyz" else ("Z",)
    ops: list[Operator] = []
    for p in paulis:
        name = f"J{p.lower()}" if family == "xyz" else "w"
        ops += _group(name, "coupling", [pauli_string(n, {a: p, b: p}) for a, b in edges], shared_couplings)
    if fields:
        for p in ("X", "Z") if family == "xyz" else ("Z",):
            name = f"h{p.lower()}" if family == "xyz" else "b"
            ops += _group(name, "field", [pauli_string(n, {a: p}) for a in range(n)], shared_couplings)
    if family == "tfim":
        ops += _group("gamma", "transverse", [pauli_string(n, {a: "X"}) for a in range(n)], shared_gamma)
    if not ops:
        raise ConfigError(f"QBM: graph '{graph}' on {n} qubits with fields={fields} has no parameters; "
                          "add qubits or set fields: true")
    return ops


# ---------------------------------------------------------------------------- objectives on a dense H
def _entropy(q: torch.Tensor) -> torch.Tensor:
    nz = q[q > 0]
    return -(nz * nz.log()).sum()


def exact_kl(log_p: torch.Tensor, q: torch.Tensor) -> torch.Tensor:
    """``KL(q‖P) = Σ_v q_v (log q_v − log P_v)`` from the model's log-probabilities ``(2**n_v,)``."""
    return -_entropy(q) - (q * log_p).sum()


def bound_kl(h: torch.Tensor, diagonal: Optional[torch.Tensor], q: torch.Tensor, n_visible: int) -> torch.Tensor:
    """The Golden-Thompson bound ``−Σ_v q_v log(Tr e^{−H_v}/Z) − S(q) >= KL(q‖P)`` of Amin et al.

    ``H_v = ⟨v|H|v⟩`` is the diagonal block of ``H`` ``(2**n, 2**n)`` at visible configuration ``v``
    (visible wires lead); ``diagonal`` (optional) is ``H``'s diagonal when ``H`` is known to be diagonal
    (the classical limit: no eigen-solves). Differentiable: the gradient is ``Σ_v q_v⟨∂H_v⟩_v − ⟨∂H⟩_ρ``.
    """
    n_v = 1 << n_visible
    if diagonal is not None:
        e = diagonal.reshape(n_v, -1)
        log_clamped, log_z = torch.logsumexp(-e, 1), torch.logsumexp(-diagonal, 0)
    else:
        rest = h.shape[0] // n_v
        blocks = torch.diagonal(h.reshape(n_v, rest, n_v, rest), dim1=0, dim2=2).permute(2, 0, 1)
        log_clamped = torch.logsumexp(-torch.linalg.eigvalsh(blocks), -1)
        log_z = torch.logsumexp(-torch.linalg.eigvalsh(h), 0)
    return -_entropy(q) - (q * (log_clamped - log_z)).sum()


def relative_entropy_loss(h: torch.Tensor, theta: torch.Tensor, moments: torch.Tensor,
                          entropy: torch.Tensor) -> torch.Tensor:
    """``S(η‖e^{−H}/Z) = −S(η) − Σ_k θ_k Tr(η O_k) + log Z`` for ``H = −Σ θ_k O_k`` (gradient ``⟨O⟩_ρ − ⟨O⟩_η``)."""
    return -entropy - (theta * moments).sum() + torch.logsumexp(-torch.linalg.eigvalsh(h), 0)


class QBM(GenerativeModel):
    """A quantum (or, for ``family: classical``, classical) Boltzmann machine (see the module docstring).

    Args:
        n_visible: visible qubits (bits of a sample).
        n_hidden: hidden qubits (bits data only).
        family: ``tfim`` | ``xyz`` | ``classical``.
        graph: ``chain`` | ``ring`` | ``all`` | ``restricted`` | ``semi_restricted``.
        fields: longitudinal fields (``Z``; ``X`` and ``Z`` for xyz).
        shared_couplings: one parameter per Pauli kind instead of one per edge / qubit.
        gamma: the transverse field ``Γ`` (initial value, or the fixed value without ``train_gamma``).
        shared_gamma: one ``Γ`` for every qubit.
        train_gamma: train ``Γ`` (exact gradient only).
        gradient: ``exact`` | ``bound`` (bits data).
        data_space: ``bits`` (classical data, space ``Bits(n_visible)``) | ``density`` (quantum data,
            space ``DensityMatrices(n_visible)``).
        init_scale: standard deviation of the initial couplings and fields (0: maximally mixed start).
        seed: seed of the initial couplings and fields.
    """

    tags = ModelTags(exact_probs=True, owns_objective=True)

    def __init__(
        self, n_visible: int, n_hidden: int = 0, family: str = "tfim", graph: str = "all", fields: bool = True,
        shared_couplings: bool = False, gamma: float = 1.0, shared_gamma: bool = False, train_gamma: bool = True,
        gradient: str = "exact", data_space: str = "bits", init_scale: float = 0.1, seed: int = 0,
    ) -> None:
        super().__init__()
        n_visible = check_gibbs_size(n_visible, "n_visible")
        if isinstance(n_hidden, bool) or not isinstance(n_hidden, int) or n_hidden < 0:
            raise ConfigError(f"n_hidden: expected an integer >= 0, got {n_hidden!r}")
        check_gibbs_size(n_visible + n_hidden, "n_visible + n_hidden")
        if gradient not in GRADIENTS:
            raise ConfigError(f"gradient: expected one of {GRADIENTS}, got {gradient!r}")
        if data_space not in DATA_SPACES:
            raise ConfigError(f"data_space: expected one of {DATA_SPACES}, got {data_space!r}")
        if not math.isfinite(float(gamma)) or not math.isfinite(float(init_scale)) or float(init_scale) < 0:
            raise ConfigError(f"gamma / init_scale: expected finite numbers (init_scale >= 0), got {gamma!r}, "
                              f"{init_scale!r}")
        self.operators_spec = qbm_operators(n_visible, n_hidden, family, graph, bool(fields), bool(shared_couplings),
                                            bool(shared_gamma))
        quantum_gamma = family == "tfim" and bool(train_gamma)
        if gradient == "bound" and quantum_gamma:
            raise ConfigError("train_gamma: the bound-based gradient has no positive phase for Γ and drives it to 0; "
                              "set train_gamma: false (Γ is a hyper-parameter of the bound-based QBM)")
        if data_space == "density" and (n_hidden or gradient != "exact"):
            raise ConfigError("data_space: quantum (density-matrix) data train a fully visible QBM by relative entropy; "
                              "set n_hidden: 0 and gradient: exact")
        self._config = {
            "n_visible": n_visible, "n_hidden": n_hidden, "family": family, "graph": graph, "fields": bool(fields),
            "shared_couplings": bool(shared_couplings), "gamma": float(gamma), "shared_gamma": bool(shared_gamma),
            "train_gamma": bool(train_gamma), "gradient": gradient, "data_space": data_space,
            "init_scale": float(init_scale), "seed": int(seed),
        }
        self.n_visible, self.n_hidden, self.gradient = n_visible, n_hidden, gradient
        self.space: Space = Bits(n_visible) if data_space == "bits" else DensityMatrices(n_visible)
        self.ops = PauliOperators([[(1.0, s) for s in op.strings] for op in self.operators_spec], n_visible + n_hidden)
        self._init_parameters(float(gamma), bool(train_gamma), float(init_scale), int(seed))
        self._init_data_buffers(data_space)

    # -- parameters ---------------------------------------------------------------------------
    def _init_parameters(self, gamma: float, train_gamma: bool, init_scale: float, seed: int) -> None:
        kinds = [op.kind for op in self.operators_spec]
        g = torch.Generator().manual_seed(seed)
        theta = init_scale * torch.randn(len(kinds), dtype=torch.float64, generator=g)
        transverse = torch.tensor([k == "transverse" for k in kinds])
        theta[transverse] = gamma
        trainable = ~transverse if not train_gamma else torch.ones_like(transverse)
        self.register_buffer("trainable_index", torch.nonzero(trainable).reshape(-1), persistent=False)
        self.register_buffer("fixed_index", torch.nonzero(~trainable).reshape(-1), persistent=False)
        self.weights = nn.Parameter(theta[trainable].clone())
        self.register_buffer("fixed", theta[~trainable].clone())
        # H is diagonal when every operator with X/Y entries is fixed at zero (the classical limit)
        off = self.ops.off_diagonal
        self._diagonal_only = bool((~off).all()) or (gamma == 0.0 and not train_gamma
                                                      and bool((~off | transverse).all()))

    def theta(self) -> torch.Tensor:
        """All parameters ``θ`` ``(K,)`` (trained and fixed), differentiable in the trained ones."""
        full = torch.zeros(self.ops.size, dtype=torch.float64, device=self.weights.device)
        full = full.index_put((self.trainable_index,), self.weights)
        return full.index_put((self.fixed_index,), self.fixed)

    @property
    def parameter_names(self) -> list[str]:
        """Names of ``θ``'s entries, e.g. ``["w[0]", ..., "b[0]", ..., "gamma"]``."""
        return [op.name for op in self.operators_spec]

    @property
    def n_qubits(self) -> int:
        """Visible plus hidden qubits."""
        return self.n_visible + self.n_hidden

    @property
    def n_bits(self) -> int:
        """Bits of a measured sample (the visible qubits), also for density-matrix data."""
        return self.n_visible

    @property
    def config(self) -> dict[str, Any]:
        return dict(self._config)

    # -- the Hamiltonian and its Gibbs state ------------------------------------------------------
    def hamiltonian(self) -> torch.Tensor:
        """Dense ``H(θ)`` ``(2**n, 2**n)`` float64 (``n`` = visible + hidden), differentiable."""
        return self.ops.matrix(-self.theta())

    def terms(self) -> list[Term]:
        """``H`` at inverse temperature 1 as ``[(coef, pauli_string)]`` (wire 0 = leftmost character)."""
        return self.ops.terms(-self.theta())

    def gibbs_state(self) -> torch.Tensor:
        """The dense Gibbs state ``e^{−H}/Z`` ``(2**n, 2**n)`` complex128 over all qubits (no gradient)."""
        with torch.no_grad():
            if self._diagonal_only:
                return torch.diag(torch.softmax(-self.ops.diagonal(-self.theta()), 0)).to(torch.complex128)
            e, v = torch.linalg.eigh(self.hamiltonian())
            return ((v * torch.softmax(-e, 0)) @ v.T).to(torch.complex128)

    def log_probs(self) -> torch.Tensor:
        """``log P(v)`` ``(2**n_visible,)`` of measuring the visible qubits, exact and differentiable."""
        if self._diagonal_only:
            e = self.ops.diagonal(-self.theta())
            log_w = torch.logsumexp(-e.reshape(1 << self.n_visible, -1), 1)
        else:
            log_w = log_marginal_weights(self.hamiltonian(), self.n_visible)
        return log_w - torch.logsumexp(log_w, 0)

    def probs(self, *, shots: Optional[int] = None, generator: Optional[torch.Generator] = None) -> torch.Tensor:
        """``P(v)`` ``(2**n_visible,)`` float64, exact and differentiable (``shots`` is refused)."""
        exact_only(self, shots)
        return self.log_probs().exp()

    def check_indices(self, x: torch.Tensor) -> torch.Tensor:
        """``x`` validated as basis indices of the visible qubits."""
        return Bits(self.n_visible).check(x, "x")

    # -- data statistics and the objective ----------------------------------------------------------
    def _init_data_buffers(self, data_space: str) -> None:
        if data_space == "bits":
            self.register_buffer("data_probs", torch.full((1 << self.n_visible,), 1.0 / (1 << self.n_visible),
                                                          dtype=torch.float64))
        else:
            self.register_buffer("data_moments", torch.zeros(self.ops.size, dtype=torch.float64))
            self.register_buffer("data_entropy", torch.tensor(self.n_visible * math.log(2.0), dtype=torch.float64))

    def set_data(self, dataset: Any) -> "QBM":
        """Store the statistics of ``dataset``'s exact target (what ``objective(None, ...)`` fits); returns self."""
        if isinstance(self.space, Bits):
            self.data_probs.copy_(target_distribution(dataset))
        else:
            eta = dataset.train.mean(0)
            self.data_moments.copy_(self.ops.expectations(eta))
            self.data_entropy.copy_(von_neumann_entropy(eta))
        return self

    def objective(self, batch: Any, player: str) -> dict[str, torch.Tensor]:
        """``{"loss": KL (exact or its bound) for bits, S(η‖ρ) for density matrices}`` on ``batch``
        (a LongTensor of visible indices / a batch ``(m, 2**n, 2**n)`` of density matrices; None = the target)."""
        if player != "model":
            raise ConfigError(f"player: a QBM has the single player 'model', got {player!r}")
        if isinstance(self.space, DensityMatrices):
            return {"loss": self._relative_entropy(batch)}
        q = self.data_probs if batch is None else histogram(batch, self.n_visible).to(self.data_probs.device)
        if self.gradient == "exact":
            return {"loss": exact_kl(self.log_probs(), q)}
        theta = self.theta()
        diagonal = self.ops.diagonal(-theta) if self._diagonal_only else None
        h = None if self._diagonal_only else self.ops.matrix(-theta)
        return {"loss": bound_kl(h, diagonal, q, self.n_visible)}

    def _relative_entropy(self, batch: Optional[torch.Tensor]) -> torch.Tensor:
        if batch is None:
            moments, entropy = self.data_moments, self.data_entropy
        else:
            eta = self.space.check(batch, "batch").mean(0)
            moments, entropy = self.ops.expectations(eta), von_neumann_entropy(eta)
        theta = self.theta()
        if self._diagonal_only:
            return -entropy - (theta * moments).sum() + torch.logsumexp(self.ops.diagonal(theta), 0)
        return relative_entropy_loss(self.ops.matrix(-theta), theta, moments, entropy)

    def configure_optimizers(self, spec: Any) -> dict[str, torch.optim.Optimizer]:
        """One optimizer over the trained parameters (default :data:`DEFAULT_OPTIMIZER` for an empty spec)."""
        return super().configure_optimizers(spec or DEFAULT_OPTIMIZER)

    # -- sampling ------------------------------------------------------------------------------------
    def ising_problem(self) -> Any:
        """The Hamiltonian as a :class:`~qgm.samplers.IsingProblem` (tfim and classical families only)."""
        from qgm.samplers import IsingProblem

        return IsingProblem.from_terms(self.terms(), self.n_qubits)

    def sample(self, n: int, *, generator: Optional[torch.Generator] = None, sampler: Optional[str] = None,
               sweeps: int = 1000) -> torch.Tensor:
        """``n`` samples: without ``sampler``, elements of :attr:`space` (visible bitstrings drawn exactly,
        or ``n`` copies of ``ρ`` for density data); with ``sampler`` (``exact`` | ``sa`` | ``sqa``), Z-basis
        measurements of the visible qubits ``(n,)`` drawn by :func:`qgm.samplers.sample_thermal` with
        ``sweeps`` Monte Carlo sweeps at ``β = 1`` (``sa`` ignores ``Γ``)."""
        check_n_samples(n)
        with torch.no_grad():
            if sampler is None and isinstance(self.space, DensityMatrices):
                return density_copies(self.gibbs_state(), n)
            if sampler in (None, "exact"):
                return sample_from_probs(self.probs(), n, generator)
            from qgm.samplers import sample_thermal

            x = sample_thermal(self.ising_problem(), n, sampler, beta=1.0, sweeps=sweeps, generator=generator)
            return (x >> self.n_hidden).to(self.weights.device)



def density_copies(rho: torch.Tensor, n: int) -> torch.Tensor:
    """``n`` copies ``(n, d, d)`` of the density matrix ``rho`` (a view), refused when materialising them
    (``samples.npy``) would exceed :data:`MAX_SAMPLE_BYTES`."""
    dim = int(rho.shape[-1])
    need = n * dim * dim * rho.element_size()
    if need > MAX_SAMPLE_BYTES:
        raise ResourceError(
            f"n: {n} copies of the {dim} x {dim} density matrix take {need / 2**30:.2f} GiB; draw at most "
            f"{MAX_SAMPLE_BYTES // (dim * dim * rho.element_size())} (train.n_eval_samples) or measure bitstrings "
            "with sampler='exact'"
        )
    return rho.unsqueeze(0).expand(n, dim, dim)


def _data_space(dataset: Any) -> str:
    if isinstance(dataset.space, Bits):
        return "bits"
    if isinstance(dataset.space, DensityMatrices):
        return "density"
    raise ParameterError(f"dataset: a QBM trains on Bits or DensityMatrices data, got {dataset.space.describe()}")


@MODELS.register("qbm", accepts=(Bits, DensityMatrices))
def qbm(
    dataset: Any, family: str = "tfim", n_hidden: int = 0, graph: str = "all", fields: bool = True,
    shared_couplings: bool = False, gamma: float = 1.0, shared_gamma: bool = False, train_gamma: bool = True,
    gradient: str = "exact", init_scale: float = 0.1, seed: int = 0,
) -> QBM:
    """Registered factory: a :class:`QBM` on the dataset's qubits (visible = the data's bits / qubits), with the
    dataset's exact target stored for ``batch_size: null`` training."""
    space = _data_space(dataset)
    if dataset.space.n > MAX_GIBBS_QUBITS:
        check_gibbs_size(dataset.space.n, "dataset")
    model = QBM(dataset.space.n, n_hidden, family, graph, fields, shared_couplings, gamma, shared_gamma, train_gamma,
                gradient, space, init_scale, seed)
    return model.set_data(dataset)
