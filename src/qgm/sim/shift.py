"""Parameter-shift differentiation of measured quantities (probabilities,
expectation values), exact or estimated from shots.

Each gate angle ``phi_o`` is shifted by its gate's rule (two-term for
``exp(-iθG/2)`` with ``G² = I``, four-term for controlled rotations), the
circuit is re-measured on the whole batch of shifted angles at once, and the
chain rule from ``phi`` to parameters and inputs is left to autograd.
"""
from __future__ import annotations

from typing import Callable

import torch

from qgm.sim.program import Program

__all__ = ["ShiftMeasure", "SHIFT_CHUNK_BYTES"]

#: Memory budget for one batch of shifted evaluations.
SHIFT_CHUNK_BYTES = 512 * 2**20

Measure = Callable[[torch.Tensor], torch.Tensor]


def _shift_table(program: Program, need: torch.Tensor) -> tuple[list[int], list[float], list[float]]:
    """Occurrence index, shift and coefficient of every shifted evaluation."""
    occ, shifts, coefs = [], [], []
    for o, rule in enumerate(program.occ_rule):
        if rule is None or not bool(need[o]):
            continue
        for s, c in zip(rule.shifts, rule.coeffs):
            occ.append(o)
            shifts.append(s)
            coefs.append(c)
    return occ, shifts, coefs


class ShiftMeasure(torch.autograd.Function):
    """``measure(phi)`` with a parameter-shift backward pass.

    ``measure`` maps angles ``(B', n_occ)`` to a real tensor ``(B', K)``
    (probabilities, expectation values, or their shot estimates); it is called
    without autograd. ``need`` (bool, ``(n_occ,)``) marks the angles to differentiate.
    """

    @staticmethod
    def forward(ctx, measure: Measure, program: Program, need: torch.Tensor, phi: torch.Tensor):  # type: ignore[override]
        with torch.no_grad():
            out = measure(phi)
        ctx.measure, ctx.program = measure, program
        ctx.save_for_backward(need, phi)
        ctx.out_width = out.shape[-1]
        return out

    @staticmethod
    def backward(ctx, g_out: torch.Tensor):  # type: ignore[override]
        need, phi = ctx.saved_tensors
        occ, shifts, coefs = _shift_table(ctx.program, need)
        grad = torch.zeros_like(phi)
        if not occ:
            return None, None, None, grad
        b, n_occ = phi.shape
        per_eval = b * (1 << ctx.program.n) * 16 * 4
        chunk = max(1, SHIFT_CHUNK_BYTES // per_eval)
        with torch.no_grad():
            for start in range(0, len(occ), chunk):
                o = torch.as_tensor(occ[start : start + chunk], device=phi.device)
                s = torch.as_tensor(shifts[start : start + chunk], dtype=phi.dtype, device=phi.device)
                c = torch.as_tensor(coefs[start : start + chunk], dtype=phi.dtype, device=phi.device)
                e = len(o)
                ph = phi.unsqueeze(0).repeat(e, 1, 1)  # (e, B, O)
                ph[torch.arange(e), :, o] += s[:, None]
                vals = ctx.measure(ph.reshape(e * b, n_occ)).reshape(e, b, -1)
                contrib = (vals * g_out.unsqueeze(0)).sum(-1) * c[:, None]  # (e, B)
                grad.index_add_(1, o, contrib.transpose(0, 1))
        return None, None, None, grad
