"""Pauli-sum Hamiltonians, their dense matrices and exact Gibbs states.

A Hamiltonian is a list of terms ``[(coef, pauli_string), ...]``: ``H = Σ coef · P``
with ``P`` a tensor product of ``I, X, Y, Z`` (character ``i`` acts on wire ``i``;
wire 0 = the leftmost character = the most significant bit of a basis index, as
everywhere in qgm). Coefficients are real, so ``H`` is Hermitian; strings with an
even number of ``Y`` are real symmetric, which covers the Z, X, XX, YY, ZZ families
of the quantum Boltzmann machines and keeps their matrices real (float64).

Gibbs states at inverse temperature ``β`` are ``ρ = e^{−βH}/Z`` with ``Z = Tr e^{−βH}``,
computed from the eigendecomposition ``H = V E Vᵀ`` (``torch.linalg.eigh``) after
shifting ``E ← E − min E`` so nothing overflows. Dense work is refused above
:data:`MAX_GIBBS_QUBITS` qubits, before anything is allocated, with the memory it
would need.

:class:`PauliOperators` compiles ``K`` operators ``O_k`` (each a Pauli sum) once so
``H(θ) = Σ_k θ_k O_k`` is a cheap, differentiable scatter and ``Tr(ρ O_k)`` a gather.
:func:`log_marginal_weights` gives ``log Tr[(|v⟩⟨v| ⊗ I) e^{−H}]`` for every
configuration ``v`` of the leading wires with the exact Fréchet derivative of the
matrix exponential in its backward pass (Duhamel's formula with divided differences,
so degenerate spectra are fine): the likelihood gradient of a quantum Boltzmann machine.
"""
from __future__ import annotations

import math
from typing import Any, Optional, Sequence

import numpy as np
import torch

from qgm.errors import ConfigError, ParameterError, ResourceError
from qgm.sim.observables import PauliTerm, _parity

__all__ = [
    "MAX_GIBBS_QUBITS", "Term", "check_terms", "check_beta", "check_gibbs_size", "pauli_string", "graph_edges",
    "GRAPHS", "PauliOperators", "hamiltonian_matrix", "gibbs_state", "log_partition", "von_neumann_entropy",
    "relative_entropy", "gibbs_relative_entropy", "fidelity", "log_marginal_weights", "divided_differences", "tfim_terms",
]

#: Largest number of qubits for dense Hamiltonians and exact Gibbs states (a 4096 x 4096 eigenproblem).
MAX_GIBBS_QUBITS = 12
#: One term ``(coef, pauli_string)`` of a Hamiltonian.
Term = tuple[float, str]
#: Named interaction graphs of :func:`graph_edges`.
GRAPHS = ("chain", "ring", "all")
_PAULI = frozenset("IXYZ")
#: Below this gap two eigenvalues count as equal in the divided differences (Taylor branch).
_DEGENERATE_GAP = 1e-10


def check_gibbs_size(n: int, field: str = "n_qubits") -> int:
    """``n`` if dense ``2**n x 2**n`` work is allowed, else a one-line ResourceError with the memory it needs."""
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
        raise ConfigError(f"{field}: expected a positive number of qubits, got {n!r}")
    if n > MAX_GIBBS_QUBITS:
        from qgm.limits import power_text

        need = power_text(3 * 8, 2 * int(n)).removeprefix("about ")  # H, its eigenvectors and the Gibbs state
        dim = f"{1 << int(n)}" if n <= 60 else f"2**{n}"
        raise ResourceError(
            f"{field}: {n} qubits need a dense {dim} x {dim} eigenproblem (about {need}); exact Gibbs "
            f"states are limited to {MAX_GIBBS_QUBITS} qubits, use fewer qubits or a sampler"
        )
    return int(n)


def check_beta(beta: Any, field: str = "beta") -> float:
    """``beta`` as a finite float ``>= 0`` (inverse temperature), else a one-line ParameterError."""
    try:
        value = float(beta)
    except (TypeError, ValueError):
        raise ParameterError(f"{field}: expected an inverse temperature >= 0, got {beta!r}") from None
    if not math.isfinite(value) or value < 0:
        raise ParameterError(f"{field}: inverse temperature must be finite and >= 0 (temperature > 0), got {beta!r}")
    return value


def check_terms(terms: Any, n: Optional[int] = None, field: str = "terms") -> list[Term]:
    """Validated terms ``[(float coef, upper-case string)]`` of equal length (``n`` if given).

    Raises a one-line ParameterError for an empty list, a malformed item, a non-finite or
    complex coefficient, a character outside ``IXYZ`` or strings of different lengths.
    """
    if isinstance(terms, (str, bytes)) or not isinstance(terms, Sequence) or len(terms) == 0:
        raise ParameterError(f"{field}: expected a non-empty list of (coef, 'PAULIS') pairs, e.g. [(1.0, 'ZZ')]")
    out: list[Term] = []
    for i, item in enumerate(terms):
        if isinstance(item, (str, bytes)) or not isinstance(item, Sequence) or len(item) != 2:
            raise ParameterError(f"{field}[{i}]: expected a pair (coef, 'PAULIS'), got {item!r}")
        coef, string = item
        if isinstance(coef, (bool, complex)) or not isinstance(coef, (int, float, np.integer, np.floating)) \
                or not math.isfinite(float(coef)):
            raise ParameterError(f"{field}[{i}]: coefficient must be a finite real number, got {coef!r}")
        if not isinstance(string, str) or not string or set(string) - _PAULI:
            raise ParameterError(f"{field}[{i}]: Pauli string must be non-empty characters from I, X, Y, Z "
                                 f"(upper case, wire 0 first), got {string!r}")
        want = n if n is not None else len(out[0][1]) if out else len(string)
        if len(string) != want:
            raise ParameterError(f"{field}[{i}]: string {string!r} acts on {len(string)} qubits, expected {want}")
        out.append((float(coef), string))
    return out


def pauli_string(n: int, ops: dict[int, str]) -> str:
    """The ``n``-character string with ``ops[w]`` on wire ``w``, ``I`` elsewhere: ``(3, {0: "Z", 2: "Z"})`` -> ``"ZIZ"``."""
    chars = ["I"] * n
    for wire, op in ops.items():
        chars[wire] = op
    return "".join(chars)


def graph_edges(n: int, graph: str) -> list[tuple[int, int]]:
    """Pairs ``(a, b)``, ``a < b``, of ``graph`` on ``n`` wires: ``chain`` (open), ``ring`` (periodic, n > 2), ``all``."""
    if graph == "chain":
        return [(a, a + 1) for a in range(n - 1)]
    if graph == "ring":
        return [(a, a + 1) for a in range(n - 1)] + ([(0, n - 1)] if n > 2 else [])
    if graph == "all":
        return [(a, b) for a in range(n) for b in range(a + 1, n)]
    raise ConfigError(f"graph: expected one of {GRAPHS}, got {graph!r}")


def tfim_terms(n: int, zz: float, x: float, z: float = 0.0, graph: str = "chain") -> list[Term]:
    """``H = zz Σ_{(a,b)} Z_a Z_b + x Σ_a X_a + z Σ_a Z_a`` on the edges of ``graph`` (coefficients of ``H`` itself)."""
    terms = [(float(zz), pauli_string(n, {a: "Z", b: "Z"})) for a, b in graph_edges(n, graph)]
    terms += [(float(x), pauli_string(n, {a: "X"})) for a in range(n)]
    if z:
        terms += [(float(z), pauli_string(n, {a: "Z"})) for a in range(n)]
    return terms


class PauliOperators:
    """``K`` Hermitian operators ``O_k = Σ_j c_kj P_kj`` on ``n`` qubits, compiled for
    ``H(θ) = Σ_k θ_k O_k`` (:meth:`matrix`) and ``Tr(ρ O_k)`` (:meth:`expectations`).

    Each string ``P`` acts as ``P|x⟩ = i^{#Y} (−1)^{popcount(x & zmask)} |x ⊕ flip⟩``, so the
    matrix is a scatter of ``J·2**n`` signed entries (``J`` strings in all) and an expectation
    a gather of ``ρ[x ⊕ flip, x]``.

    Args:
        operators: ``K`` lists of terms (each a non-empty list of ``(coef, string)``).
        n: number of qubits (default: the strings' length).
    """

    def __init__(self, operators: Sequence[Sequence[Term]], n: Optional[int] = None) -> None:
        if not operators:
            raise ParameterError("operators: expected at least one operator (a list of (coef, 'PAULIS') terms)")
        first = check_terms(operators[0], n, "operators[0]")
        self.n = check_gibbs_size(len(first[0][1]) if n is None else n)
        checked = [check_terms(op, self.n, f"operators[{k}]") for k, op in enumerate(operators)]
        self.operators = checked
        self.size = len(checked)
        self.dim = 1 << self.n
        owner, coefs, flips, zmasks, n_ys = [], [], [], [], []
        for k, op in enumerate(checked):
            for coef, string in op:
                flip, zmask, n_y = PauliTerm(coef, string).masks(self.n)
                owner.append(k)
                coefs.append(coef)
                flips.append(flip)
                zmasks.append(zmask)
                n_ys.append(n_y)
        self.real = all(y % 2 == 0 for y in n_ys)
        x = np.arange(self.dim, dtype=np.int64)
        signs = 1.0 - 2.0 * _parity(x[None, :] & np.asarray(zmasks, dtype=np.int64)[:, None])  # (J, d)
        phases = np.asarray([(1j) ** y for y in n_ys])
        values = np.asarray(coefs)[:, None] * phases[:, None] * signs
        self._owner = torch.as_tensor(owner, dtype=torch.int64)
        self._diagonal = torch.as_tensor(np.asarray(flips) == 0)  # strings without X or Y
        self._rows = torch.as_tensor(x[None, :] ^ np.asarray(flips, dtype=np.int64)[:, None])  # (J, d): x ⊕ flip
        self._cols = torch.as_tensor(np.broadcast_to(x, (len(owner), self.dim)).copy())
        self._values = torch.as_tensor(values.real if self.real else values)  # (J, d)

    @property
    def dtype(self) -> torch.dtype:
        """float64 when every string is real (even number of Y), else complex128."""
        return torch.float64 if self.real else torch.complex128

    def _check_theta(self, theta: torch.Tensor) -> torch.Tensor:
        if not isinstance(theta, torch.Tensor) or theta.shape != (self.size,) or theta.is_complex():
            raise ParameterError(f"theta: expected a real tensor ({self.size},), got "
                                 f"{getattr(theta, 'dtype', type(theta).__name__)} {tuple(getattr(theta, 'shape', ()))}")
        return theta

    def matrix(self, theta: torch.Tensor) -> torch.Tensor:
        """Dense ``H(θ) = Σ_k θ_k O_k`` ``(2**n, 2**n)`` (float64 or complex128), differentiable in ``θ``."""
        theta = self._check_theta(theta)
        dev = theta.device
        vals = self._values.to(dev) * theta.to(torch.float64)[self._owner.to(dev)][:, None]
        h = torch.zeros(self.dim, self.dim, dtype=self.dtype, device=dev)
        return h.index_put((self._rows.to(dev).reshape(-1), self._cols.to(dev).reshape(-1)), vals.reshape(-1),
                           accumulate=True)

    @property
    def off_diagonal(self) -> torch.Tensor:
        """Bool ``(K,)``: does operator ``k`` have a string with ``X`` or ``Y`` (off-diagonal entries)?"""
        out = torch.zeros(self.size, dtype=torch.bool)
        return out.index_put((self._owner[~self._diagonal],), torch.tensor(True))

    def diagonal(self, theta: torch.Tensor) -> torch.Tensor:
        """The diagonal ``⟨x|H(θ)|x⟩`` ``(2**n,)`` float64 (only strings of ``I``/``Z`` contribute), differentiable."""
        theta = self._check_theta(theta)
        dev = theta.device
        keep = self._diagonal.to(dev)
        vals = self._values.to(dev)[keep].real * theta.to(torch.float64)[self._owner.to(dev)[keep]][:, None]
        return vals.sum(0) if vals.shape[0] else torch.zeros(self.dim, dtype=torch.float64, device=dev)

    def expectations(self, rho: torch.Tensor) -> torch.Tensor:
        """``Tr(ρ O_k)`` ``(K,)`` float64 for a density matrix (or any square matrix) ``rho`` ``(2**n, 2**n)``.

        Differentiable in ``rho``; the real part is returned (exact for Hermitian ``rho``).
        """
        if not isinstance(rho, torch.Tensor) or rho.shape != (self.dim, self.dim):
            raise ParameterError(f"rho: expected a ({self.dim}, {self.dim}) matrix, got {tuple(getattr(rho, 'shape', ()))}")
        dev = rho.device
        # Tr(ρP) = Σ_x ⟨x|ρ P|x⟩ = Σ_x ρ[x, x ⊕ flip] · phase(x)
        entries = rho[self._cols.to(dev), self._rows.to(dev)] * self._values.to(dev)
        per_string = entries.sum(-1).real
        out = torch.zeros(self.size, dtype=per_string.dtype, device=dev)
        return out.index_add(0, self._owner.to(dev), per_string)

    def terms(self, theta: torch.Tensor) -> list[Term]:
        """``H(θ)`` as terms ``[(θ_k c_kj, P_kj)]`` (identical strings merged, zero coefficients kept)."""
        theta = self._check_theta(theta).detach().cpu().tolist()
        merged: dict[str, float] = {}
        for k, op in enumerate(self.operators):
            for coef, string in op:
                merged[string] = merged.get(string, 0.0) + theta[k] * coef
        return list((c, s) for s, c in merged.items())


def hamiltonian_matrix(terms: Any, n: Optional[int] = None) -> torch.Tensor:
    """Dense ``H = Σ coef · P`` ``(2**n, 2**n)``: float64 if every string has an even number of Y, else complex128."""
    checked = check_terms(terms, n)
    ops = PauliOperators([checked], n)
    return ops.matrix(torch.ones(1, dtype=torch.float64))


def _as_hamiltonian(h: Any, field: str = "H") -> torch.Tensor:
    """A dense Hermitian matrix from a matrix or from terms; sizes checked before building."""
    if isinstance(h, torch.Tensor):
        if h.dim() != 2 or h.shape[0] != h.shape[1] or h.shape[0] < 2 or h.shape[0] & (h.shape[0] - 1):
            raise ParameterError(f"{field}: expected a square (2**n, 2**n) matrix, got {tuple(h.shape)}")
        check_gibbs_size(int(h.shape[0]).bit_length() - 1, field)
        return h
    return hamiltonian_matrix(h)


def _spectrum(h: torch.Tensor, beta: float) -> tuple[torch.Tensor, torch.Tensor]:
    """Eigenvalues ``βE`` ``(d,)`` ascending and eigenvectors ``(d, d)`` of ``βH``."""
    e, v = torch.linalg.eigh(h)
    return beta * e, v


def gibbs_state(h: Any, beta: float = 1.0) -> torch.Tensor:
    """``ρ = e^{−βH} / Tr e^{−βH}`` ``(2**n, 2**n)`` (dtype of ``H``; ``H`` a matrix or terms)."""
    beta = check_beta(beta)
    h = _as_hamiltonian(h)
    e, v = _spectrum(h, beta)
    w = torch.softmax(-e, 0).to(v.dtype)
    return (v * w) @ v.mH


def log_partition(h: Any, beta: float = 1.0) -> torch.Tensor:
    """``log Tr e^{−βH}`` (scalar, differentiable: its gradient in ``H`` is ``−β ρ``)."""
    beta = check_beta(beta)
    h = _as_hamiltonian(h)
    return torch.logsumexp(-beta * torch.linalg.eigvalsh(h), 0)


def von_neumann_entropy(rho: torch.Tensor) -> torch.Tensor:
    """``S(ρ) = −Tr ρ log ρ`` in nats (eigenvalues clamped at 0; ``0 log 0 = 0``)."""
    lam = torch.linalg.eigvalsh(rho).clamp_min(0.0)
    safe = torch.where(lam > 0, lam, torch.ones_like(lam))
    return -(lam * torch.log(safe)).sum()


def relative_entropy(eta: torch.Tensor, rho: torch.Tensor) -> torch.Tensor:
    """``S(η‖ρ) = Tr η log η − Tr η log ρ`` (nats) of two density matrices; ``inf`` if ``supp η ⊄ supp ρ``.

    ``log ρ`` comes from the eigendecomposition of ``ρ``; for a Gibbs state whose Hamiltonian is
    known, :func:`gibbs_relative_entropy` avoids the logarithm of tiny eigenvalues.
    """
    lam, vec = torch.linalg.eigh(rho)
    overlap = ((vec.mH @ eta @ vec).diagonal().real).clamp_min(0.0)  # ⟨λ_i|η|λ_i⟩
    tiny = torch.finfo(lam.dtype).tiny
    if bool(((lam <= tiny) & (overlap > 1e-14)).any()):
        return torch.tensor(math.inf, dtype=lam.dtype)
    log_lam = torch.log(lam.clamp_min(tiny))
    return -von_neumann_entropy(eta) - (overlap * log_lam).sum()


def gibbs_relative_entropy(eta: torch.Tensor, h: Any, beta: float = 1.0) -> torch.Tensor:
    """``S(η‖e^{−βH}/Z) = −S(η) + β Tr(ηH) + log Z`` (nats), exact for any ``η`` (``H`` a matrix or terms)."""
    beta = check_beta(beta)
    h = _as_hamiltonian(h)
    dtype = torch.promote_types(h.dtype, eta.dtype)
    energy = (eta.to(dtype) * h.to(dtype).T).sum().real
    return -von_neumann_entropy(eta) + beta * energy + log_partition(h, beta)


def fidelity(rho: torch.Tensor, sigma: torch.Tensor) -> torch.Tensor:
    """Uhlmann fidelity ``F(ρ, σ) = (Tr √(√ρ σ √ρ))²`` in ``[0, 1]`` of two density matrices ``(d, d)``."""
    lam, vec = torch.linalg.eigh(rho)
    root = (vec * lam.clamp_min(0.0).sqrt().to(vec.dtype)) @ vec.mH
    inner = torch.linalg.eigvalsh(root @ sigma.to(root.dtype) @ root).clamp_min(0.0)
    return inner.sqrt().sum() ** 2


def divided_differences(e: torch.Tensor) -> torch.Tensor:
    """``F_mn = (e^{−E_n} − e^{−E_m}) / (E_m − E_n)`` with ``F_mm = e^{−E_m}`` ``(d, d)`` for energies ``E >= 0``.

    Computed as ``e^{−min} · (−expm1(−|δ|)) / |δ|`` (no cancellation, no overflow); gaps below
    ``1e-10`` take the second-order Taylor value ``e^{−(E_m+E_n)/2} (1 + δ²/24)``.
    """
    a, b = e[:, None], e[None, :]
    gap = (a - b).abs()
    low = torch.minimum(a, b)
    safe = torch.where(gap > _DEGENERATE_GAP, gap, torch.ones_like(gap))
    far = torch.exp(-low) * (-torch.expm1(-safe)) / safe
    near = torch.exp(-(a + b) / 2) * (1 + gap**2 / 24)
    return torch.where(gap > _DEGENERATE_GAP, far, near)


class _LogMarginalWeights(torch.autograd.Function):
    """``log Tr[(|v⟩⟨v| ⊗ I_rest) e^{−H}]`` for every ``v`` of the leading ``k`` wires (see the module docstring)."""

    @staticmethod
    def forward(ctx: Any, h: torch.Tensor, k: int) -> torch.Tensor:  # type: ignore[override]
        e, v = torch.linalg.eigh(h)
        e0 = e.min()
        shifted = e - e0
        diag = (v * v) @ torch.exp(-shifted)  # ⟨x|e^{−(H−E0)}|x⟩
        marg = diag.reshape(1 << k, -1).sum(-1)
        ctx.save_for_backward(shifted, v, marg)
        return torch.log(marg) - e0

    @staticmethod
    def backward(ctx: Any, grad: torch.Tensor) -> tuple[torch.Tensor, None]:  # type: ignore[override]
        shifted, v, marg = ctx.saved_tensors
        rest = v.shape[0] // marg.shape[0]
        w = (grad / marg).repeat_interleave(rest)  # weight of basis state x: g_v(x) / Tr_v(x)
        inner = (v.T * w) @ v  # Vᵀ diag(w) V in the eigenbasis
        return -(v @ (inner * divided_differences(shifted)) @ v.T), None


def log_marginal_weights(h: torch.Tensor, k: int) -> torch.Tensor:
    """``log Tr[(|v⟩⟨v| ⊗ I) e^{−H}]`` ``(2**k,)`` for the ``2**k`` configurations ``v`` of wires ``0..k−1``.

    ``H`` is real symmetric ``(2**n, 2**n)``; ``logsumexp`` of the result is ``log Z`` and
    ``result − log Z`` are the exact log-probabilities of measuring ``v`` on the first ``k`` wires
    of ``e^{−H}/Z``. Differentiable in ``H`` with the exact (Duhamel) derivative of ``e^{−H}``:
    ``∂ Tr(Λ e^{−H}) / ∂H = −V[(VᵀΛV) ∘ F]Vᵀ`` with ``F`` from :func:`divided_differences`.
    """
    h = _as_hamiltonian(h)
    if h.is_complex():
        raise ParameterError("H: log_marginal_weights needs a real symmetric matrix (strings with an even number of Y)")
    n = int(h.shape[0]).bit_length() - 1
    if isinstance(k, bool) or not isinstance(k, int) or not 0 <= k <= n:
        raise ParameterError(f"k: expected the number of leading wires kept, 0..{n}, got {k!r}")
    return _LogMarginalWeights.apply(h, k)
