"""Stage matrices of rotation layers in closed form, and their angle gradients.

Every single-qubit factor of a stage is a rotation ``cos(θ/2) I + sin(θ/2) G``
(``G = -iP``, :data:`~qgm.sim.program.ROTATIONS`) or a constant matrix ``F``
(written ``1·F + 0·0``). The product of the ``D`` factors a wire sees in one stage
(depth order, the first factor applied first) is therefore

    m = Σ_t coef_t M_t,   coef_t = Π_k f_k[t_k],   t ∈ {0, 1}^D,

with ``f_k = (cos, sin)`` of factor ``k``'s half angle (``(1, 0)`` for a constant)
and constant 2×2 matrices ``M_t`` (products of ``I``, ``G`` and ``F``) built once
per program. For a whole circuit, the forward map is one gather of the
``(cos, sin)`` pairs, ``D - 1`` outer products and one real GEMM; the backward map
is ``q_t = Re⟨∂L/∂m, M_t⟩`` (one real GEMM), the leave-one-out products
``∂L/∂f_k``, and one scatter-add onto the angles: a handful of operations
whatever the number of gates, instead of an autograd graph through the gate table.

Programs with other parametrised single-qubit kinds (phase, U3 …) have no
expansion (:func:`stage_expansion` returns ``None``); their stage matrices are
built and differentiated by autograd.
"""
from __future__ import annotations

import functools
from typing import Optional, Sequence

import numpy as np
import torch

from qgm.sim import native
from qgm.sim.program import ROTATIONS, Program

__all__ = ["StageExpansion", "stage_expansion", "MAX_DEPTH"]

#: Deepest per-wire product expanded (``2**D`` terms per wire and stage).
MAX_DEPTH = 4


class StageExpansion:
    """The expansion of every stage matrix of a program (stages in the order given), on one device."""

    def __init__(self, program: Program, stages: Sequence[tuple[int, int]], device: torch.device,
                 rdtype: torch.dtype) -> None:
        rows = [program.group_rows[g][m] for g, m in stages]  # per stage (depth_g, n) table rows
        depth = max(r.shape[0] for r in rows)
        n, n_rot = program.n, program.n_rotation_rows
        table_mats = _constant_rows(program)
        gens = _generators(program)
        slots = len(rows) * n
        fidx = np.full((slots, depth), n_rot, dtype=np.int64)  # (cos, sin) row of every factor
        basis = np.zeros((slots, 1 << depth, 2, 2), dtype=np.complex128)
        for s, r in enumerate(rows):
            for w in range(n):
                pairs = []  # per factor (E0, E1), the first applied first
                for k in range(depth):
                    row = int(r[k, w]) if k < r.shape[0] else program.identity_row
                    if row < n_rot:
                        fidx[s * n + w, k] = row
                        pairs.append((np.eye(2), gens[row]))
                    else:
                        pairs.append((table_mats[row], np.zeros((2, 2))))
                basis[s * n + w] = _products(pairs)
        self.depth, self.slots, self.stages, self.n = depth, slots, len(rows), n
        self.n_rot = n_rot
        self.fidx = torch.as_tensor(fidx.reshape(-1), device=device)
        self.basis = torch.as_tensor(basis.view(np.float64).reshape(slots, 1 << depth, 8), dtype=rdtype,
                                     device=device)
        self.basis_t = self.basis.transpose(1, 2).contiguous()
        # every rotation's half angle straight from v = [params, inputs, 0]: v[slot] · scale/2 + offset/2
        occ = np.concatenate([o[:, 0] for name, o in program.table_gates if name in ROTATIONS] + [np.zeros(0, np.int64)])
        self.n_params, self.n_inputs = program.n_params, program.n_inputs
        self.slot = torch.as_tensor(program.occ_slot[occ], device=device)
        self.half_scale = torch.as_tensor(program.occ_scale[occ] / 2, dtype=rdtype, device=device)
        self.half_offset = torch.as_tensor(program.occ_offset[occ] / 2, dtype=rdtype, device=device)
        self.zero = torch.zeros(1, dtype=rdtype, device=device)
        self.const_row = torch.tensor([[[1.0], [0.0]]], dtype=rdtype, device=device)
        self.rdtype = rdtype

    @functools.cached_property
    def arrays(self) -> tuple[np.ndarray, ...]:
        """What the compiled calls read (CPU): slot, half scale and offset, factor rows ``(slots, D)``, basis."""
        return (self.slot.numpy(), self.half_scale.numpy(), self.half_offset.numpy(),
                self.fidx.view(self.slots, self.depth).numpy(), self.basis.numpy())

    def values(self, params: torch.Tensor, inputs: torch.Tensor) -> np.ndarray:
        """``v = [params, inputs, 0]`` ``(P + I + 1,)`` for ``params`` ``(1, P)`` and ``inputs`` ``(1, I)``
        (what the compiled calls read the angles from)."""
        return torch.cat([params[0], inputs[0], self.zero]).numpy()

    def split(self, dv: np.ndarray) -> tuple[torch.Tensor, torch.Tensor]:
        """∂L/∂params ``(1, P)`` and ∂L/∂inputs ``(1, I)`` from ∂L/∂v ``(P + I + 1,)``."""
        d = torch.from_numpy(dv).unsqueeze(0)
        return d[:, : self.n_params], d[:, self.n_params : self.n_params + self.n_inputs]

    def forward_compiled(self, params: torch.Tensor, inputs: torch.Tensor) -> tuple[torch.Tensor, np.ndarray]:
        """:meth:`forward` as one compiled call (CPU, numba): the stage matrices ``(S, n, 2, 2)`` and
        what :meth:`backward_compiled` reads."""
        out = torch.empty(self.stages, self.n, 2, 2, 2, dtype=self.rdtype)
        cs = native.expand(self.values(params, inputs), *self.arrays, out.view(self.slots, 8).numpy())
        return torch.view_as_complex(out), cs

    def backward_compiled(self, g_m: torch.Tensor, cs: np.ndarray) -> tuple[torch.Tensor, torch.Tensor]:
        """:meth:`backward` as one compiled call (after :meth:`forward_compiled`)."""
        slot, scale, _, fidx, basis = self.arrays
        g = torch.view_as_real(g_m.resolve_conj()).reshape(self.slots, 8).numpy()
        return self.split(native.expand_grad(g, cs, slot, scale, fidx, basis, self.n_params + self.n_inputs + 1))

    def forward(self, params: torch.Tensor, inputs: torch.Tensor) -> tuple[torch.Tensor, tuple]:
        """Stage matrices ``(S, n, 2, 2)`` for ``params`` ``(1, P)`` and ``inputs`` ``(1, I)``, and what
        :meth:`backward` reads."""
        m, saved = self.forward_rows(params, inputs)
        return torch.view_as_complex(m.view(self.stages, self.n, 2, 2, 2)), saved

    def backward(self, g_m: torch.Tensor, saved: tuple) -> tuple[torch.Tensor, torch.Tensor]:
        """∂L/∂params ``(1, P)`` and ∂L/∂inputs ``(1, I)`` from the stage matrices' gradient ``g_m``
        ``(S, n, 2, 2)`` (PyTorch's complex convention)."""
        return self.backward_rows(torch.view_as_real(g_m.resolve_conj()).reshape(self.slots, 8, 1), saved)

    def forward_rows(self, params: torch.Tensor, inputs: torch.Tensor) -> tuple[torch.Tensor, tuple]:
        """Every row's stage matrices, batch last: ``(S·n, 8, B)`` real (real and imaginary parts of
        ``m00, m01, m10, m11``), for ``params`` ``(Bp, P)`` and ``inputs`` ``(Bi, I)`` (``Bp, Bi`` in
        ``{1, B}``), and what :meth:`backward_rows` reads."""
        bsz = max(params.shape[0], inputs.shape[0])
        v = torch.cat([params.t().expand(-1, bsz), inputs.t().expand(-1, bsz), self.zero.expand(1, bsz)])
        half = torch.addcmul(self.half_offset.unsqueeze(1), v.index_select(0, self.slot), self.half_scale.unsqueeze(1))
        cs = torch.cat([torch.stack([half.cos(), half.sin()], 1), self.const_row.expand(1, 2, bsz)])  # (R + 1, 2, B)
        factors = cs.index_select(0, self.fidx).view(self.slots, self.depth, 2, bsz).unbind(1)
        coef = factors[-1]
        for k in range(self.depth - 2, -1, -1):
            coef = (coef.unsqueeze(2) * factors[k].unsqueeze(1)).view(self.slots, -1, bsz)
        return torch.bmm(self.basis_t, coef), (cs, factors, params.shape[0], inputs.shape[0])

    def backward_rows(self, g: torch.Tensor, saved: tuple) -> tuple[torch.Tensor, torch.Tensor]:
        """∂L/∂params ``(Bp, P)`` and ∂L/∂inputs ``(Bi, I)`` from the gradient of :meth:`forward_rows`'s
        matrices ``g`` ``(S·n, 8, B)`` (real parts of PyTorch's complex convention, batch last)."""
        cs, factors, bp, bi = saved
        bsz = g.shape[-1]
        q = torch.bmm(self.basis, g).view(self.slots, *([2] * self.depth), bsz)  # Re⟨g, M_t⟩, t_{D-1} first
        d_f = torch.stack(_leave_one_out(q, factors), 1)  # (slots, D, 2, B)
        d_cs = torch.zeros_like(cs).index_add_(0, self.fidx, d_f.view(-1, 2, bsz))[: self.n_rot]
        c, s = cs[: self.n_rot].unbind(1)
        d_half = (d_cs[:, 1] * c - d_cs[:, 0] * s).mul_(self.half_scale.unsqueeze(1))  # d half/dv = scale / 2
        dv = torch.zeros(self.n_params + self.n_inputs + 1, bsz, dtype=cs.dtype, device=cs.device)
        dv.index_add_(0, self.slot, d_half)
        d_params, d_inputs = dv[: self.n_params], dv[self.n_params : self.n_params + self.n_inputs]
        return _rows(d_params, bp), _rows(d_inputs, bi)


def _rows(d: torch.Tensor, rows: int) -> torch.Tensor:
    """A ``(K, B)`` gradient as ``(rows, K)``: summed over the batch where one row was broadcast."""
    return d.sum(1, keepdim=True).t() if rows == 1 else d.t()


def _leave_one_out(q: torch.Tensor, factors: Sequence[torch.Tensor]) -> list[torch.Tensor]:
    """``∂L/∂f_k[b] = Σ_{t: t_k = b} q_t Π_{j≠k} f_j[t_j]`` for every factor ``k`` (``q``'s axes:
    slot, factors ``D-1 … 0``, batch). Returns ``[(slots, 2, B)] * D`` in factor order."""
    depth = len(factors)
    if depth == 1:
        return [q]
    if depth == 2:  # q[t1, t0]
        f0, f1 = factors
        return [(f1.unsqueeze(2) * q).sum(1), (q * f0.unsqueeze(1)).sum(2)]
    letters = "abcdefgh"[:depth]  # letters[i]: the axis of factor depth-1-i
    out = []
    for k in range(depth):
        others = [j for j in range(depth) if j != k]
        spec = ",".join([f"z{letters}y"] + [f"z{letters[depth - 1 - j]}y" for j in others])
        out.append(torch.einsum(f"{spec}->z{letters[depth - 1 - k]}y", q, *[factors[j] for j in others]))
    return out


def _products(pairs: list[tuple[np.ndarray, np.ndarray]]) -> np.ndarray:
    """``M_t = E_{D-1}[t_{D-1}] ⋯ E_0[t_0]`` for all ``t`` (index ``t`` with ``t_{D-1}`` most significant)."""
    depth = len(pairs)
    out = np.zeros((1 << depth, 2, 2), dtype=np.complex128)
    for t in range(1 << depth):
        m = np.eye(2, dtype=np.complex128)
        for k in range(depth):
            m = pairs[k][(t >> k) & 1] @ m
        out[t] = m
    return out


def _constant_rows(program: Program) -> dict[int, np.ndarray]:
    """The constant rows of the gate table (fixed matrices and the identity) by row index."""
    first = program.identity_row - len(program.table_fixed)
    rows = {first + i: np.asarray(m, dtype=np.complex128) for i, m in enumerate(program.table_fixed)}
    rows[program.identity_row] = np.eye(2, dtype=np.complex128)
    return rows


def _generators(program: Program) -> list[np.ndarray]:
    """``G = -iP`` of every rotation row of the gate table (rotations come first)."""
    return [np.array(ROTATIONS[name], dtype=np.complex128) for name, occ in program.table_gates
            if name in ROTATIONS for _ in range(len(occ))]


def stage_expansion(program: Program, stages: Sequence[tuple[int, int]], device: torch.device,
                    rdtype: torch.dtype) -> Optional[StageExpansion]:
    """The expansion of the given stages ``(group, member)``, or ``None`` where a stage holds a
    parametrised single-qubit gate other than a rotation or is deeper than :data:`MAX_DEPTH`."""
    if any(name not in ROTATIONS for name, _ in program.table_gates):
        return None
    if not stages or max(program.group_rows[g].shape[1] for g, _ in stages) > MAX_DEPTH:
        return None
    return StageExpansion(program, stages, device, rdtype)
