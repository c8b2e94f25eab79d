"""The gate catalogue: names, arities, matrices and differentiation rules.

Matrices follow OpenQASM 3's ``stdgates.inc`` (``RX(θ) = exp(-iθX/2)``, ...).
Within a multi-qubit gate the first wire is the most significant bit of the
gate's matrix index (so ``CNOT`` on wires ``(c, t)`` is ``|1><1|_c ⊗ X_t + ...``).

Matrix functions take a real tensor of angles of shape ``(..., n_params)`` and
return a complex tensor of shape ``(..., 2**k, 2**k)`` (or the diagonal,
``(..., 2**k)``, for gates flagged ``diagonal``); they are differentiable by
autograd.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable

import numpy as np
import torch

__all__ = ["GateDef", "GATES", "ShiftRule", "TWO_TERM", "FOUR_TERM", "gate_matrix"]


@dataclass(frozen=True)
class ShiftRule:
    """A parameter-shift rule: ``df/dθ = Σ_i coeffs[i] · f(θ + shifts[i])``."""

    shifts: tuple[float, ...]
    coeffs: tuple[float, ...]


#: Gates ``exp(-iθG/2)`` whose generator ``G`` has eigenvalues ±1 (or {0, 1} up to a phase).
TWO_TERM = ShiftRule((math.pi / 2, -math.pi / 2), (0.5, -0.5))
_C1 = (math.sqrt(2) + 1) / (4 * math.sqrt(2))
_C2 = (math.sqrt(2) - 1) / (4 * math.sqrt(2))
#: Controlled rotations: generator eigenvalues {0, ±1/2} (Anselmetti et al. / PennyLane rule).
FOUR_TERM = ShiftRule(
    (math.pi / 2, -math.pi / 2, 3 * math.pi / 2, -3 * math.pi / 2),
    (_C1, -_C1, -_C2, _C2),
)

MatrixFn = Callable[[torch.Tensor], torch.Tensor]


@dataclass(frozen=True)
class GateDef:
    """A gate kind of the catalogue.

    Attributes:
        name: canonical lower-case name (also the OpenQASM name where one exists).
        n_wires: number of wires the gate acts on.
        n_params: number of real angles.
        matrix: angles ``(..., n_params)`` -> matrix ``(..., d, d)`` or diagonal ``(..., d)``.
        diagonal: the matrix function returns only the diagonal.
        monomial: one non-zero entry per row and column (a permutation times phases).
        shift_rule: rule for each parameter (``None`` for fixed gates).
    """

    name: str
    n_wires: int
    n_params: int
    matrix: MatrixFn
    diagonal: bool = False
    monomial: bool = False
    shift_rule: ShiftRule | None = None


def _const(rows: list[list[complex]]) -> MatrixFn:
    arr = np.array(rows, dtype=np.complex128)

    def fn(theta: torch.Tensor) -> torch.Tensor:
        cdt = torch.complex64 if theta.dtype == torch.float32 else torch.complex128
        return torch.as_tensor(arr, dtype=cdt, device=theta.device).expand(*theta.shape[:-1], *arr.shape)

    return fn


def _const_diag(diag: list[complex]) -> MatrixFn:
    arr = np.array(diag, dtype=np.complex128)

    def fn(theta: torch.Tensor) -> torch.Tensor:
        cdt = torch.complex64 if theta.dtype == torch.float32 else torch.complex128
        return torch.as_tensor(arr, dtype=cdt, device=theta.device).expand(*theta.shape[:-1], *arr.shape)

    return fn


def _cis(x: torch.Tensor) -> torch.Tensor:
    """``exp(i x)`` for real ``x`` as a complex tensor of matching precision."""
    return torch.polar(torch.ones_like(x), x)


def _complex(re: torch.Tensor, im: torch.Tensor | None = None) -> torch.Tensor:
    return torch.complex(re, torch.zeros_like(re) if im is None else im)


def _stack2(a, b, c, d) -> torch.Tensor:
    """Assemble ``[[a, b], [c, d]]`` from tensors of shape (...) -> (..., 2, 2)."""
    return torch.stack([a, b, c, d], -1).unflatten(-1, (2, 2))


def _rx(t: torch.Tensor) -> torch.Tensor:
    h = t.squeeze(-1) / 2
    c, s = _complex(torch.cos(h)), _complex(torch.zeros_like(h), -torch.sin(h))
    return _stack2(c, s, s, c)


def _ry(t: torch.Tensor) -> torch.Tensor:
    h = t.squeeze(-1) / 2
    c, s = _complex(torch.cos(h)), _complex(torch.sin(h))
    return _stack2(c, -s, s, c)


def _rz(t: torch.Tensor) -> torch.Tensor:
    h = t.squeeze(-1) / 2
    return torch.stack([_cis(-h), _cis(h)], -1)


def _phase(t: torch.Tensor) -> torch.Tensor:
    lam = t.squeeze(-1)
    return torch.stack([_cis(torch.zeros_like(lam)), _cis(lam)], -1)


def _u3(t: torch.Tensor) -> torch.Tensor:
    th, phi, lam = t.unbind(-1)
    c, s = torch.cos(th / 2), torch.sin(th / 2)
    return _stack2(
        _complex(c), -_cis(lam) * s, _cis(phi) * s, _cis(phi + lam) * c
    )


def _controlled(u: torch.Tensor) -> torch.Tensor:
    """``|0><0| ⊗ I + |1><1| ⊗ u`` for ``u`` of shape (..., 2, 2) -> (..., 4, 4)."""
    out = torch.zeros(*u.shape[:-2], 4, 4, dtype=u.dtype, device=u.device)
    out[..., 0, 0] = 1
    out[..., 1, 1] = 1
    out[..., 2:, 2:] = u
    return out


def _crz(t: torch.Tensor) -> torch.Tensor:
    h = t.squeeze(-1) / 2
    one = _cis(torch.zeros_like(h))
    return torch.stack([one, one, _cis(-h), _cis(h)], -1)


def _rpp(pauli: str) -> MatrixFn:
    """``exp(-iθ P⊗P/2)`` for P = X or Y (dense 4x4)."""

    def fn(t: torch.Tensor) -> torch.Tensor:
        h = t.squeeze(-1) / 2
        c = _complex(torch.cos(h))
        s = _complex(torch.zeros_like(h), -torch.sin(h))  # -i sin
        z = torch.zeros_like(c)
        # P⊗P anti-diagonal entries: XX -> all +1; YY -> (-1, +1, +1, -1)
        sign = (1, 1, 1, 1) if pauli == "x" else (-1, 1, 1, -1)
        rows = [
            [c, z, z, sign[0] * s],
            [z, c, sign[1] * s, z],
            [z, sign[2] * s, c, z],
            [sign[3] * s, z, z, c],
        ]
        return torch.stack([torch.stack(r, -1) for r in rows], -2)

    return fn


def _rzz(t: torch.Tensor) -> torch.Tensor:
    h = t.squeeze(-1) / 2
    a, b = _cis(-h), _cis(h)
    return torch.stack([a, b, b, a], -1)


_S2 = 1 / math.sqrt(2)
_I = 1j

GATES: dict[str, GateDef] = {
    g.name: g
    for g in [
        GateDef("id", 1, 0, _const_diag([1, 1]), diagonal=True, monomial=True),
        GateDef("x", 1, 0, _const([[0, 1], [1, 0]]), monomial=True),
        GateDef("y", 1, 0, _const([[0, -_I], [_I, 0]]), monomial=True),
        GateDef("z", 1, 0, _const_diag([1, -1]), diagonal=True, monomial=True),
        GateDef("h", 1, 0, _const([[_S2, _S2], [_S2, -_S2]])),
        GateDef("s", 1, 0, _const_diag([1, _I]), diagonal=True, monomial=True),
        GateDef("sdg", 1, 0, _const_diag([1, -_I]), diagonal=True, monomial=True),
        GateDef("t", 1, 0, _const_diag([1, np.exp(1j * math.pi / 4)]), diagonal=True, monomial=True),
        GateDef("tdg", 1, 0, _const_diag([1, np.exp(-1j * math.pi / 4)]), diagonal=True, monomial=True),
        GateDef("sx", 1, 0, _const([[(1 + 1j) / 2, (1 - 1j) / 2], [(1 - 1j) / 2, (1 + 1j) / 2]])),
        GateDef("rx", 1, 1, _rx, shift_rule=TWO_TERM),
        GateDef("ry", 1, 1, _ry, shift_rule=TWO_TERM),
        GateDef("rz", 1, 1, _rz, diagonal=True, shift_rule=TWO_TERM),
        GateDef("p", 1, 1, _phase, diagonal=True, shift_rule=TWO_TERM),
        GateDef("u3", 1, 3, _u3, shift_rule=TWO_TERM),
        GateDef("cx", 2, 0, _const([[1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 0, 1], [0, 0, 1, 0]]), monomial=True),
        GateDef("cy", 2, 0, _const([[1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 0, -_I], [0, 0, _I, 0]]), monomial=True),
        GateDef("cz", 2, 0, _const_diag([1, 1, 1, -1]), diagonal=True, monomial=True),
        GateDef("swap", 2, 0, _const([[1, 0, 0, 0], [0, 0, 1, 0], [0, 1, 0, 0], [0, 0, 0, 1]]), monomial=True),
        GateDef("iswap", 2, 0, _const([[1, 0, 0, 0], [0, 0, _I, 0], [0, _I, 0, 0], [0, 0, 0, 1]]), monomial=True),
        GateDef("crx", 2, 1, lambda t: _controlled(_rx(t)), shift_rule=FOUR_TERM),
        GateDef("cry", 2, 1, lambda t: _controlled(_ry(t)), shift_rule=FOUR_TERM),
        GateDef("crz", 2, 1, _crz, diagonal=True, shift_rule=FOUR_TERM),
        GateDef("rxx", 2, 1, _rpp("x"), shift_rule=TWO_TERM),
        GateDef("ryy", 2, 1, _rpp("y"), shift_rule=TWO_TERM),
        GateDef("rzz", 2, 1, _rzz, diagonal=True, shift_rule=TWO_TERM),
        GateDef(
            "ccx",
            3,
            0,
            _const(np.eye(8)[[0, 1, 2, 3, 4, 5, 7, 6]].tolist()),
            monomial=True,
        ),
    ]
}

#: Accepted spellings -> canonical names (OpenQASM 3 / Qiskit / PennyLane habits).
ALIASES: dict[str, str] = {
    "i": "id",
    "cnot": "cx",
    "toffoli": "ccx",
    "phase": "p",
    "u": "u3",
    "hadamard": "h",
    "paulix": "x",
    "pauliy": "y",
    "pauliz": "z",
}


def canonical_name(name: str) -> str | None:
    """Canonical catalogue name of ``name`` (case-insensitive), or None if unknown."""
    key = name.lower()
    key = ALIASES.get(key, key)
    return key if key in GATES else None


def gate_matrix(name: str, params: torch.Tensor | None = None) -> torch.Tensor:
    """Full (dense) matrix of a catalogue gate, shape ``(..., d, d)``.

    Diagonal gates are expanded with ``torch.diag_embed``. ``params`` has shape
    ``(..., n_params)``; it defaults to an empty float64 tensor for fixed gates.
    """
    g = GATES[name]
    if params is None:
        params = torch.zeros(g.n_params, dtype=torch.float64)
    m = g.matrix(params)
    return torch.diag_embed(m) if g.diagonal else m
