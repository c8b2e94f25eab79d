"""Transverse-field Ising problems: the classical part of a QBM Hamiltonian and its transverse field.

``H = Σ_a h_a Z_a + Σ_{a<b} J_ab Z_a Z_b + offset − Σ_a Γ_a X_a``. A spin ``s_a = +1`` is the
``Z_a`` eigenvalue of bit 0 (``s = 1 − 2·bit``), so the classical energy of a basis state ``x``
is ``E(x) = Σ h s + Σ J s s + offset`` and ``e^{−βE}/Z`` is the diagonal of the Gibbs state
when ``Γ = 0``. This is dimod's Ising convention (``BinaryQuadraticModel.from_ising(h, J)``),
so a Boltzmann machine with ``H = −Σ b Z − Σ w ZZ`` has ``h = −b``, ``J = −w``.
"""
from __future__ import annotations

import importlib
from dataclasses import dataclass
from types import ModuleType
from typing import Any, Optional

import numpy as np
import torch

from qgm.errors import ConfigError, ParameterError
from qgm.sim.hamiltonian import Term, check_beta, check_terms

__all__ = ["IsingProblem", "dwave", "spins_of", "MAX_ENUMERATED_SPINS"]

#: Largest problem whose Boltzmann distribution is enumerated exactly.
MAX_ENUMERATED_SPINS = 24


def dwave(module: str) -> ModuleType:
    """Import ``module`` of D-Wave's Ocean stack (``dimod``, ``dwave.samplers``) or explain how to install it."""
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise ConfigError(f"samplers: {module} is not installed ({exc}); pip install 'qgm[anneal]' "
                          "(dwave-samplers and dimod)") from None


def spins_of(indices: torch.Tensor, n: int) -> np.ndarray:
    """Spins ``(len, n)`` int8 in ``{+1, −1}`` of basis indices (column 0 = wire 0; bit 0 -> +1)."""
    x = np.asarray(torch.as_tensor(indices).cpu(), dtype=np.int64).reshape(-1)
    bits = (x[:, None] >> np.arange(n - 1, -1, -1)) & 1
    return (1 - 2 * bits).astype(np.int8)


@dataclass(frozen=True)
class IsingProblem:
    """A transverse-field Ising Hamiltonian on ``n`` spins (see the module docstring).

    Attributes:
        h: longitudinal fields ``(n,)``.
        J: couplings ``(n, n)``, upper triangular (``J[a, b]`` for ``a < b``).
        gamma: transverse fields ``Γ_a >= 0`` ``(n,)`` (the sign of an ``X`` coefficient is a
            gauge choice: conjugating by ``Z_a`` flips it, so ``|coef|`` is kept).
        offset: constant energy.
    """

    h: np.ndarray
    J: np.ndarray
    gamma: np.ndarray
    offset: float = 0.0

    @property
    def n(self) -> int:
        """Number of spins."""
        return int(self.h.shape[0])

    @classmethod
    def from_terms(cls, terms: Any, n: Optional[int] = None) -> "IsingProblem":
        """The problem of Pauli terms made of ``I`` (offset), ``Z``, ``ZZ`` and single ``X`` strings.

        Any other string (``XX``, ``YY``, ``ZX``, three-body ``ZZZ``...) is a one-line ParameterError:
        the annealing samplers simulate stoquastic transverse-field Ising models only.
        """
        checked = check_terms(terms, n)
        size = len(checked[0][1])
        h, J, gamma = np.zeros(size), np.zeros((size, size)), np.zeros(size)
        offset = 0.0
        for i, (coef, string) in enumerate(checked):
            wires = [w for w, ch in enumerate(string) if ch != "I"]
            kinds = "".join(string[w] for w in wires)
            if kinds == "":
                offset += coef
            elif kinds == "Z":
                h[wires[0]] += coef
            elif kinds == "ZZ":
                J[wires[0], wires[1]] += coef
            elif kinds == "X":
                gamma[wires[0]] -= coef
            else:
                raise ParameterError(f"terms[{i}]: {string!r} is not a transverse-field Ising term (I, Z, ZZ or a single "
                                     "X); the annealing samplers need H = Σ h Z + Σ J ZZ − Σ Γ X")
        return cls(h, J, np.abs(gamma), offset)

    def terms(self) -> list[Term]:
        """The Hamiltonian as Pauli terms (non-zero ones; ``X`` coefficients ``−Γ``)."""
        n = self.n
        out: list[Term] = [(float(self.offset), "I" * n)] if self.offset else []
        out += [(float(v), "I" * a + "Z" + "I" * (n - a - 1)) for a, v in enumerate(self.h) if v]
        for a, b in zip(*np.nonzero(self.J)):
            s = ["I"] * n
            s[a] = s[b] = "Z"
            out.append((float(self.J[a, b]), "".join(s)))
        out += [(-float(g), "I" * a + "X" + "I" * (n - a - 1)) for a, g in enumerate(self.gamma) if g]
        return out or [(0.0, "I" * n)]

    def energies(self, indices: torch.Tensor) -> np.ndarray:
        """Classical energies ``E(x)`` ``(len,)`` float64 of basis indices ``x``."""
        s = spins_of(indices, self.n).astype(np.float64)
        return s @ self.h + np.einsum("ia,ab,ib->i", s, self.J, s) + self.offset

    def boltzmann(self, beta: float = 1.0) -> np.ndarray:
        """Exact ``e^{−βE(x)}/Z`` ``(2**n,)`` of the classical part (enumerates every state)."""
        beta = check_beta(beta)
        if self.n > MAX_ENUMERATED_SPINS:
            raise ConfigError(f"boltzmann: {self.n} spins exceed the {MAX_ENUMERATED_SPINS} enumerated exactly")
        e = -beta * self.energies(torch.arange(1 << self.n))
        w = np.exp(e - e.max())
        return w / w.sum()

    def ground_energy(self) -> float:
        """The exact classical ground-state energy (enumeration in chunks; ``n <= MAX_ENUMERATED_SPINS``)."""
        if self.n > MAX_ENUMERATED_SPINS:
            raise ConfigError(f"ground_energy: {self.n} spins exceed the {MAX_ENUMERATED_SPINS} enumerated exactly")
        chunk = 1 << min(self.n, 16)
        return float(min(self.energies(torch.arange(start, min(start + chunk, 1 << self.n))).min()
                         for start in range(0, 1 << self.n, chunk)))

    @property
    def uniform_gamma(self) -> float:
        """The one transverse field of every spin (the path-integral sampler needs it uniform)."""
        if self.n and float(np.ptp(self.gamma)) > 1e-12 * max(1.0, float(self.gamma.max())):
            raise ParameterError(f"gamma: the path-integral sampler applies one transverse field to every spin, got "
                                 f"Γ from {self.gamma.min():.6g} to {self.gamma.max():.6g}; use a shared Γ")
        return float(self.gamma[0]) if self.n else 0.0

    def to_bqm(self) -> Any:
        """The classical part as a ``dimod.BinaryQuadraticModel`` (SPIN, variables ``0..n−1``)."""
        dimod = dwave("dimod")
        quadratic = {(int(a), int(b)): float(self.J[a, b]) for a, b in zip(*np.nonzero(self.J))}
        return dimod.BinaryQuadraticModel.from_ising({a: float(v) for a, v in enumerate(self.h)}, quadratic,
                                                     offset=float(self.offset))
