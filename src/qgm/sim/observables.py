"""Pauli-string observables: parsing and exact expectation values.

An observable is a Pauli string over ``n`` wires (``"ZIZ"``: character ``i``
acts on wire ``i``) or a weighted sum ``[(coef, "XXI"), …]``.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence, Union

import numpy as np
import torch

from qgm.errors import ParameterError

__all__ = ["PauliTerm", "parse_observable", "pauli_expectations", "born", "Observable"]

Observable = Union[str, Sequence[tuple[float, str]]]


@dataclass(frozen=True)
class PauliTerm:
    """``coef · P`` with ``P`` a Pauli string; masks are bit masks over basis indices."""

    coef: float
    string: str

    def masks(self, n: int) -> tuple[int, int, int]:
        """(flip mask = X|Y positions, sign mask = Z|Y positions, number of Y)."""
        flip = sign = 0
        for i, ch in enumerate(self.string):
            bit = 1 << (n - 1 - i)
            if ch in "XY":
                flip |= bit
            if ch in "ZY":
                sign |= bit
        return flip, sign, self.string.count("Y")


def parse_observable(obs: Observable, n: int) -> list[PauliTerm]:
    """Validate and normalise an observable into Pauli terms (upper-case strings)."""
    items = [(1.0, obs)] if isinstance(obs, str) else list(obs)
    if not items:
        raise ParameterError("observable: empty list; give a Pauli string like 'ZIZ' or [(coef, 'XXI'), ...]")
    terms = []
    for item in items:
        try:
            coef, s = item
        except (TypeError, ValueError):
            raise ParameterError(
                f"observable: each term must be (coef, 'PAULIS'), got {item!r}"
            ) from None
        s = str(s).upper()
        if len(s) != n or set(s) - set("IXYZ"):
            raise ParameterError(
                f"observable: term {s!r} must have exactly {n} characters from I, X, Y, Z (one per wire)"
            )
        terms.append(PauliTerm(float(coef), s))
    return terms


def born(psi: torch.Tensor) -> torch.Tensor:
    """Born probabilities ``|ψ|²`` of states ``psi`` ``(..., 2**n)`` (real, differentiable)."""
    r = torch.view_as_real(psi)
    return r[..., 0] ** 2 + r[..., 1] ** 2


def _parity(x: np.ndarray) -> np.ndarray:
    """Parity of the set bits of each non-negative int64 in ``x`` (xor-folding: six vector ops)."""
    x = x.copy()
    for shift in (32, 16, 8, 4, 2, 1):
        x ^= x >> shift
    return x & 1


def pauli_expectations(psi: torch.Tensor, terms: Sequence[PauliTerm], n: int) -> torch.Tensor:
    """``Σ_t coef_t ⟨ψ|P_t|ψ⟩`` for states ``psi`` ``(B, 2**n)`` -> real ``(B,)``."""
    x = np.arange(1 << n, dtype=np.int64)
    rdt = psi.real.dtype
    total = torch.zeros(psi.shape[0], dtype=rdt, device=psi.device)
    probs = None
    for t in terms:
        flip, sign, n_y = t.masks(n)
        signs = torch.as_tensor(1.0 - 2.0 * _parity(x & sign), dtype=rdt, device=psi.device)
        if flip == 0:
            if probs is None:
                probs = psi.real**2 + psi.imag**2
            total = total + t.coef * (probs * signs).sum(-1)
            continue
        idx = torch.as_tensor(x ^ flip, device=psi.device)
        phase = (1j) ** n_y
        val = (psi[:, idx].conj() * psi * signs).sum(-1) * phase
        total = total + t.coef * val.real
    return total
