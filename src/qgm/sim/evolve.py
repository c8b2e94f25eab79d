"""Bind angles to a compiled :class:`~qgm.sim.program.Program` and run it.

``bind`` turns parameter and input tensors into per-occurrence angles ``phi``;
``build_mats`` turns ``phi`` into every kernel's matrix (small tensors, one
vectorised call per gate kind); ``evolve`` pushes a state through the kernels.
The adjoint method (:class:`AdjointEvolve`) reuses the same kernels in reverse
without storing intermediate states.
"""
from __future__ import annotations

from typing import Optional, Sequence

import torch

from qgm.circuits.gates import GATES
from qgm.sim.kernels import Kernel
from qgm.sim.program import Program

__all__ = ["bind", "build_mats", "evolve", "AdjointEvolve", "zero_state"]


def bind(program: Program, params: torch.Tensor, inputs: torch.Tensor) -> tuple[torch.Tensor, torch.Size]:
    """Angles of every gate occurrence.

    Args:
        params: ``(*bp, n_params)`` real tensor.
        inputs: ``(*bi, n_inputs)`` real tensor of the same dtype and device.
    Returns:
        ``phi`` of shape ``(B, n_occ)`` with ``B = prod(broadcast(bp, bi))``, and the batch shape.
    """
    batch = torch.broadcast_shapes(params.shape[:-1], inputs.shape[:-1])
    t = program.tensors(params.device, params.dtype)
    zero = torch.zeros(*batch, 1, dtype=params.dtype, device=params.device)
    v = torch.cat([params.expand(*batch, -1), inputs.expand(*batch, -1), zero], -1)
    v = v.reshape(-1, v.shape[-1])
    phi = v[:, t["slot"]] * t["scale"] + t["offset"]
    return phi, batch


def _kron(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Kronecker product over the last two dims: ``a`` (…, d, d) ⊗ ``b`` (…, 2, 2)."""
    d, e = a.shape[-1], b.shape[-1]
    out = a[..., :, None, :, None] * b[..., None, :, None, :]
    return out.reshape(*out.shape[:-4], d * e, d * e)


def build_mats(program: Program, phi: torch.Tensor) -> list[Optional[torch.Tensor]]:
    """Every kernel's matrix for angles ``phi`` ``(B, n_occ)`` (``None`` for constant kernels)."""
    t = program.tensors(phi.device, phi.dtype)
    b = phi.shape[0]
    parts = []
    for name, _ in program.table_gates:
        m = GATES[name].matrix(phi[:, t["gate_occ"][name]])
        parts.append(torch.diag_embed(m) if GATES[name].diagonal else m)
    fixed = t["fixed"]
    parts.append(fixed.unsqueeze(0).expand(b, -1, -1, -1) if parts else fixed.unsqueeze(0))
    table = torch.cat(parts, 1) if len(parts) > 1 else parts[0]  # (Bt, K, 2, 2), Bt in {1, B}
    bt = table.shape[0]

    stage_mats: list[list[torch.Tensor]] = []
    for g, grp in enumerate(program.groups):
        rows = t["rows"][g]
        ng, depth, ncw = rows.shape
        w = table[:, rows.reshape(-1)].reshape(bt, ng, depth, ncw, 2, 2)
        m = w[:, :, 0]
        for d in range(1, depth):
            m = w[:, :, d] @ m
        chunk_mats = []
        s = 0
        for _, k in grp[0].chunks:
            r = m[:, :, s]
            for i in range(1, k):
                r = _kron(r, m[:, :, s + i])
            chunk_mats.append(r.unbind(1))
            s += k
        stage_mats.append(chunk_mats)

    multi = {name: GATES[name].matrix(phi[:, occ]).unbind(1) for name, occ in t["multi_occ"].items()}
    mats: list[Optional[torch.Tensor]] = []
    for step in program.steps:
        src = step.source
        if src[0] == "stage":
            mats.append(stage_mats[src[1]][src[2]][src[3]])
        elif src[0] == "gate":
            mats.append(multi[src[1]][src[2]])
        elif src[0] == "const":
            mats.append(t["consts"][src[1]])
        else:
            mats.append(None)
    return mats


def zero_state(n: int, batch: int, dtype: torch.dtype, device: torch.device) -> torch.Tensor:
    """|0…0⟩ as a ``(batch, 2**n)`` tensor."""
    psi = torch.zeros(batch, 1 << n, dtype=dtype, device=device)
    psi[:, 0] = 1
    return psi


class _KernelStep(torch.autograd.Function):
    """One kernel with a hand-written backward: ``K†`` pulls the output gradient back and
    ``grad_mat`` contracts it with the saved input state.

    Autograd's own backward of the same GEMMs materialises conjugated copies of the
    state (and a scatter for gathers); this keeps every backward step to GEMMs and gathers.
    """

    @staticmethod
    def forward(ctx, kernel: Kernel, psi: torch.Tensor, mat: Optional[torch.Tensor]):  # type: ignore[override]
        ctx.kernel = kernel
        ctx.save_for_backward(psi, mat)
        return kernel.apply(psi, mat)

    @staticmethod
    def backward(ctx, g: torch.Tensor):  # type: ignore[override]
        psi, mat = ctx.saved_tensors
        k: Kernel = ctx.kernel
        g_psi = k.apply_inverse(g, mat) if ctx.needs_input_grad[1] else None
        g_mat = k.grad_mat(g, psi, mat) if ctx.needs_input_grad[2] else None
        return None, g_psi, g_mat


def evolve(program: Program, psi: torch.Tensor, mats: Sequence[Optional[torch.Tensor]]) -> torch.Tensor:
    """Apply every kernel of ``program`` to ``psi`` ``(B, 2**n)`` (autograd-traceable)."""
    kernels = program.tensors(psi.device, psi.real.dtype)["steps"]
    if not torch.is_grad_enabled():
        for k, m in zip(kernels, mats):
            psi = k.apply(psi, m)
        return psi
    for k, m in zip(kernels, mats):
        if psi.requires_grad or (m is not None and m.requires_grad):
            psi = _KernelStep.apply(k, psi, m)
        else:
            psi = k.apply(psi, m)
    return psi


CHUNK_BYTES = 1 << 19
"""State bytes per chunk of the batch in the adjoint method: the batch is swept in
chunks whose few live states stay in the CPU cache, instead of streaming the whole
batch through memory once per kernel."""


def batch_chunks(batch: int, n: int, itemsize: int) -> list[slice]:
    """Slices of a batch of ``batch`` states of ``2**n`` amplitudes, each at most ``CHUNK_BYTES``."""
    size = max(1, CHUNK_BYTES // (itemsize << n))
    return [slice(i, min(batch, i + size)) for i in range(0, batch, size)]


def _rows(mats: Sequence[Optional[torch.Tensor]], sl: slice) -> list[Optional[torch.Tensor]]:
    """The matrices of batch rows ``sl`` (shared matrices, batch 1, unchanged)."""
    return [m if m is None or m.shape[0] == 1 else m[sl] for m in mats]


def _merge(chunk_grads: list[Optional[torch.Tensor]], mat: Optional[torch.Tensor]) -> Optional[torch.Tensor]:
    """One matrix's gradient from its per-chunk parts: summed if the matrix is shared
    by the batch, concatenated if it has one row per batch element."""
    if chunk_grads[0] is None or mat is None:
        return None
    return torch.stack(chunk_grads).sum(0) if mat.shape[0] == 1 else torch.cat(chunk_grads)


def _sweep_back(
    kernels: Sequence[Kernel], mats: Sequence[Optional[torch.Tensor]], psi: torch.Tensor, g: torch.Tensor, need
) -> tuple[torch.Tensor, list[Optional[torch.Tensor]]]:
    """Adjoint sweep from the output state ``psi`` and its gradient ``g``: (∂L/∂psi0, ∂L/∂mats)."""
    grads: list[Optional[torch.Tensor]] = [None] * len(mats)
    for i in range(len(kernels) - 1, -1, -1):
        k, m = kernels[i], mats[i]
        psi = k.apply_inverse(psi, m)
        if m is not None and need[i]:
            grads[i] = k.grad_mat(g, psi, m)
        g = k.apply_inverse(g, m)
    return g, grads


class AdjointEvolve(torch.autograd.Function):
    """``evolve`` with adjoint-method gradients (Jones & Gacon 2020) at kernel granularity.

    The backward pass un-computes the state kernel by kernel (``K†``) while pulling
    the output gradient back, so memory stays at two states whatever the depth.
    Large batches are swept in cache-sized chunks (:func:`batch_chunks`).
    Gradients reach the kernels' matrices; the small graph from matrices to
    angles is ordinary autograd.
    """

    @staticmethod
    def forward(ctx, program: Program, psi0: torch.Tensor, *mats: torch.Tensor):  # type: ignore[override]
        with torch.no_grad():
            chunks = batch_chunks(psi0.shape[0], program.n, psi0.element_size())
            if len(chunks) == 1:
                psi = evolve(program, psi0, mats)
            else:
                psi = torch.empty(psi0.shape, dtype=psi0.dtype, device=psi0.device)
                for sl in chunks:
                    psi[sl] = evolve(program, psi0[sl], _rows(mats, sl))
        ctx.program = program
        ctx.has_mat = [m is not None for m in mats]
        ctx.save_for_backward(psi, *[m for m in mats if m is not None])
        return psi

    @staticmethod
    def backward(ctx, g: torch.Tensor):  # type: ignore[override]
        psi, *present = ctx.saved_tensors
        it = iter(present)
        mats = [next(it) if h else None for h in ctx.has_mat]
        kernels = ctx.program.tensors(psi.device, psi.real.dtype)["steps"]
        need = ctx.needs_input_grad[2:]
        chunks = batch_chunks(psi.shape[0], ctx.program.n, psi.element_size())
        with torch.no_grad():
            if len(chunks) == 1:
                g_psi0, grads = _sweep_back(kernels, mats, psi, g, need)
            else:
                parts = [_sweep_back(kernels, _rows(mats, sl), psi[sl], g[sl], need) for sl in chunks]
                g_psi0 = torch.cat([p[0] for p in parts])
                grads = [_merge([p[1][i] for p in parts], m) for i, m in enumerate(mats)]
        return (None, g_psi0 if ctx.needs_input_grad[1] else None, *grads)
