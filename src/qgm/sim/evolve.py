"""Bind angles to a compiled :class:`~qgm.sim.program.Program` and run it.

``bind`` turns parameter and input tensors into per-occurrence angles ``phi``;
``build_mats`` turns ``phi`` into every kernel's matrix (small tensors, one
vectorised call per gate kind); ``evolve`` pushes a state through the kernels.
The adjoint method (:class:`AdjointEvolve`) reuses the same kernels in reverse
without storing intermediate states. Small differentiated runs use
:class:`StagedEvolve`: angles to final state as one autograd node, whose backward
differentiates the fused single-qubit stages in closed form.
"""
from __future__ import annotations

from typing import Optional, Sequence

import torch

from qgm.circuits.gates import GATES
from qgm.sim.kernels import Kernel
from qgm.sim.program import Program, max_block_wires

__all__ = [
    "batch_shape",
    "bind",
    "build_table",
    "build_mats",
    "evolve",
    "StagedEvolve",
    "STAGED_MAX_AMPLITUDES",
    "staged_block_wires",
    "AdjointEvolve",
    "zero_state",
]


def batch_shape(a: Sequence[int], b: Sequence[int]) -> torch.Size:
    """``torch.broadcast_shapes(a, b)``, without its cost when one shape is empty or both agree."""
    if len(b) == 0 or tuple(a) == tuple(b):
        return torch.Size(a)
    if len(a) == 0:
        return torch.Size(b)
    return torch.broadcast_shapes(a, b)


def bind(program: Program, params: torch.Tensor, inputs: torch.Tensor) -> tuple[torch.Tensor, torch.Size]:
    """Angles of every gate occurrence.

    Args:
        params: ``(*bp, n_params)`` real tensor.
        inputs: ``(*bi, n_inputs)`` real tensor of the same dtype and device.
    Returns:
        ``phi`` of shape ``(B, n_occ)`` with ``B = prod(broadcast(bp, bi))``, and the batch shape.
    """
    batch = batch_shape(params.shape[:-1], inputs.shape[:-1])
    t = program.tensors(params.device, params.dtype)
    zero = torch.zeros(*batch, 1, dtype=params.dtype, device=params.device)
    v = torch.cat([params.expand(*batch, -1), inputs.expand(*batch, -1), zero], -1)
    v = v.reshape(-1, v.shape[-1])
    phi = v.index_select(1, t["slot"]) * t["scale"] + t["offset"]
    return phi, batch


def _kron(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Kronecker product over the last two dims: ``a`` (…, d, d) ⊗ ``b`` (…, 2, 2)."""
    d, e = a.shape[-1], b.shape[-1]
    out = a[..., :, None, :, None] * b[..., None, :, None, :]
    return out.reshape(*out.shape[:-4], d * e, d * e)


def build_table(program: Program, phi: torch.Tensor) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
    """The small tensors every kernel matrix is made of, for angles ``phi`` ``(B, n_occ)``.

    Returns ``table`` ``(Bt, K, 2, 2)`` (every single-qubit matrix of the circuit,
    parametrised kinds first, then fixed ones, then the identity; ``Bt`` in {1, B})
    and, per multi-qubit parametrised kind, its matrices ``(B, k, …)``.
    """
    t = program.tensors(phi.device, phi.dtype)
    b = phi.shape[0]
    parts = []
    for name, _ in program.table_gates:
        m = GATES[name].matrix(phi[:, t["gate_occ"][name]])
        parts.append(torch.diag_embed(m) if GATES[name].diagonal else m)
    fixed = t["fixed"]
    parts.append(fixed.unsqueeze(0).expand(b, -1, -1, -1) if parts else fixed.unsqueeze(0))
    table = torch.cat(parts, 1) if len(parts) > 1 else parts[0]
    multi = {name: GATES[name].matrix(phi[:, occ]) for name, occ in t["multi_occ"].items()}
    return table, multi


def _wire_products(program: Program, table: torch.Tensor) -> list[torch.Tensor]:
    """Per group of stages: the product over depth of each chunk wire's matrices ``(Bt, ng, ncw, 2, 2)``."""
    t = program.tensors(table.device, table.real.dtype)
    bt = table.shape[0]
    out = []
    for g in range(len(program.groups)):
        rows = t["rows"][g]
        ng, depth, ncw = rows.shape
        w = table.index_select(1, rows.reshape(-1)).reshape(bt, ng, depth, ncw, 2, 2)
        m = w[:, :, 0]
        for d in range(1, depth):
            m = w[:, :, d] @ m
        out.append(m)
    return out


def _kron_blocks(program: Program, products: list[torch.Tensor]) -> list[list[torch.Tensor]]:
    """Per group and chunk, the fused block ``(Bt, ng, 2**k, 2**k)``: Kronecker products of the wire products."""
    blocks = []
    for grp, m in zip(program.groups, products):
        chunk_mats = []
        s = 0
        for _, k in grp[0].chunks:
            r = m[:, :, s]
            for i in range(1, k):
                r = _kron(r, m[:, :, s + i])
            chunk_mats.append(r)
            s += k
        blocks.append(chunk_mats)
    return blocks


def _place(
    program: Program, t: dict, blocks: list[list[torch.Tensor]], multi: dict[str, torch.Tensor]
) -> list[Optional[torch.Tensor]]:
    """Every kernel's matrix (``None`` for constant kernels) from the stage blocks and multi-qubit matrices."""
    stage_mats = [[b.unbind(1) for b in grp] for grp in blocks]
    per_gate = {name: mm.unbind(1) for name, mm in multi.items()}
    mats: list[Optional[torch.Tensor]] = []
    for step in program.steps:
        src = step.source
        if src[0] == "stage":
            mats.append(stage_mats[src[1]][src[2]][src[3]])
        elif src[0] == "gate":
            mats.append(per_gate[src[1]][src[2]])
        elif src[0] == "const":
            mats.append(t["consts"][src[1]])
        else:
            mats.append(None)
    return mats


def build_mats(program: Program, phi: torch.Tensor) -> list[Optional[torch.Tensor]]:
    """Every kernel's matrix for angles ``phi`` ``(B, n_occ)`` (``None`` for constant kernels)."""
    table, multi = build_table(program, phi)
    t = program.tensors(phi.device, phi.dtype)
    return _place(program, t, _kron_blocks(program, _wire_products(program, table)), multi)


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


STAGED_MAX_AMPLITUDES = 1 << 13
"""Largest ``batch · 2**n`` for which :class:`StagedEvolve` is used by the backprop
method: below it a step is bound by operator dispatch, which the single autograd
node removes; above it the chunk reductions of its backward (``2**k`` work per
amplitude) and its wider blocks cost more than they save."""


def staged_block_wires(n: int) -> int:
    """Widest fused block of the programs :class:`StagedEvolve` runs: two blocks per full
    stage up to 5 wires each (fewer kernel calls; building wide matrices is cheap for the
    small batches it runs). T1 (n = 9, one parameter set): 5 wires, 6 % faster than 4."""
    return max(max_block_wires(n), min(5, -(-n // 2)))


def _chain_grads(w: torch.Tensor, g_m: torch.Tensor) -> torch.Tensor:
    """Gradients of the factors of ``m = w[D-1] ⋯ w[0]`` from ∂L/∂m.

    ``w``: ``(…, D, ncw, 2, 2)`` factors; ``g_m``: ``(…, ncw, 2, 2)``. Returns ``(…, D, ncw, 2, 2)``
    with ``∂L/∂w[d] = S_dᴴ · ∂L/∂m · P_dᴴ`` (``P_d = w[d-1] ⋯ w[0]``, ``S_d = w[D-1] ⋯ w[d+1]``).
    """
    depth = w.shape[-4]
    if depth == 1:
        return g_m.unsqueeze(-4)
    left = [g_m]  # S_dᴴ g_m for d = D-1 … 0
    for d in range(depth - 1, 0, -1):
        left.append(w[..., d, :, :, :].mH @ left[-1])
    left.reverse()
    out = [left[0]]
    prefix = w[..., 0, :, :, :]
    for d in range(1, depth):
        out.append(left[d] @ prefix.mH)
        if d + 1 < depth:
            prefix = w[..., d, :, :, :] @ prefix
    return torch.stack(out, -4)


_PAULI = {
    "rx": ((0, 1), (1, 0)),
    "ry": ((0, -1j), (1j, 0)),
    "rz": ((1, 0), (0, -1)),
}
"""Generators of the rotations ``R(θ) = exp(-iθP/2)`` whose angle derivative
``dR/dθ = -i/2 · P · R`` :class:`StagedEvolve` uses in closed form."""


def _angle_grads(
    program: Program, phi: torch.Tensor, table: torch.Tensor, g_table: Optional[torch.Tensor], g_multi: dict
) -> torch.Tensor:
    """∂L/∂phi ``(B, n_occ)`` from the gradients of the table rows and multi-qubit matrices.

    Rotations use ``∂L/∂θ = Re Σ conj(G) ⊙ (-i/2 · P · R)``; other kinds differentiate
    their matrix function with autograd (one small call per kind).
    """
    t = program.tensors(phi.device, phi.dtype)
    d_phi = torch.zeros_like(phi)

    def generic(name: str, occ: torch.Tensor, grad: torch.Tensor, embed: bool) -> None:
        with torch.enable_grad():
            x = phi[:, occ].detach().requires_grad_(True)
            m = GATES[name].matrix(x)
            m = torch.diag_embed(m) if embed else m
            (gx,) = torch.autograd.grad(m, x, grad)
        d_phi.index_add_(1, occ.reshape(-1), gx.reshape(gx.shape[0], -1))

    if g_table is not None:
        start = 0
        for name, _ in program.table_gates:
            occ = t["gate_occ"][name]
            rows = slice(start, start + occ.shape[0])
            start += occ.shape[0]
            grad = g_table[:, rows]
            if name in _PAULI:
                pauli = torch.tensor(_PAULI[name], dtype=table.dtype, device=table.device)
                d = (grad.conj() * (pauli @ table[:, rows])).sum((-2, -1)).imag * 0.5
                d_phi.index_add_(1, occ[:, 0], d)
            else:
                generic(name, occ, grad, GATES[name].diagonal)
    for name, grad in g_multi.items():
        generic(name, t["multi_occ"][name], grad, False)
    return d_phi


def _reduced(program: Program, g: torch.Tensor, psi: torch.Tensor, a: int, k: int) -> torch.Tensor:
    """``Σ_rest g ⊗ conj(psi)`` reduced onto each wire ``a … a+k-1``: ``(…, k, 2, 2)``.

    ``g``, ``psi``: ``(…, 2**n)``. One GEMM gives the chunk's ``2**k × 2**k`` reduction,
    one gather and sum its partial traces onto single wires (:meth:`Program.wire_traces`).
    """
    lead = g.shape[:-1]
    lo, c, r = 1 << a, 1 << k, 1 << (program.n - a - k)
    if r == 1:
        hc = g.reshape(*lead, lo, c).mT @ psi.reshape(*lead, lo, c).conj()
    else:
        hc = g.reshape(*lead, lo, c, r) @ psi.reshape(*lead, lo, c, r).mH
        hc = hc.sum(-3) if lo > 1 else hc.squeeze(-3)
    traced = hc.reshape(*lead, c * c).index_select(-1, program.wire_traces(k, g.device))
    return traced.reshape(*lead, k, 2, 2, c >> 1).sum(-1)


class StagedEvolve(torch.autograd.Function):
    """Binding and ``evolve`` as one autograd node from the angles ``phi`` to the final state.

    The forward pass builds every matrix and applies every kernel without autograd,
    keeping the states between kernels. The backward pass pulls the output gradient
    back kernel by kernel and, for each single-qubit stage ``S = ⊗_w m_w``, gets
    every wire's ``∂L/∂m_w = H_w m_w`` (``m_w`` unitary) from
    ``H_w = Σ_rest g ⊗ conj(ψ_out)`` reduced onto wire ``w``: per chunk one batched
    GEMM and one gather for all stages of a group (:func:`_reduced`). The depth chain ``m_w = ⋯ w_1 w_0`` and
    the rotation angles are differentiated in closed form (:func:`_angle_grads`).
    This replaces a matrix-level autograd graph (kron products, per-kernel
    backward nodes) by a few tensor operations per kernel.

    Requires unitary stage matrices (:attr:`Program.stages_unitary`). Under
    ``create_graph=True`` the backward re-runs the ordinary differentiable path.
    """

    @staticmethod
    def forward(ctx, program: Program, psi0: torch.Tensor, phi: torch.Tensor):  # type: ignore[override]
        with torch.no_grad():
            t = program.tensors(psi0.device, psi0.real.dtype)
            table, multi = build_table(program, phi)
            products = _wire_products(program, table)
            blocks = _kron_blocks(program, products)
            mats = _place(program, t, blocks, multi)
            states = [psi0]
            for k, m in zip(t["steps"], mats):
                states.append(k.apply(states[-1], m))
            adj = [[b.conj_physical().transpose(-1, -2).contiguous().unbind(1) for b in grp] for grp in blocks]
        ctx.program = program
        ctx.mats, ctx.products, ctx.table = mats, products, table
        sources = [st.source for st in program.steps]
        ctx.adjoints = [adj[s[1]][s[2]][s[3]] if s[0] == "stage" else None for s in sources]
        ctx.save_for_backward(psi0, phi, *states[1:])
        return states[-1]

    @staticmethod
    def backward(ctx, g: torch.Tensor):  # type: ignore[override]
        program: Program = ctx.program
        psi0, phi, *after = ctx.saved_tensors
        if torch.is_grad_enabled():
            return StagedEvolve._differentiable_backward(ctx, g, psi0, phi)
        states = [psi0, *after]
        need_psi0, need_phi = ctx.needs_input_grad[1], ctx.needs_input_grad[2]
        kernels = program.tensors(g.device, g.real.dtype)["steps"]
        mats = ctx.mats
        stage_out: dict[tuple[int, int], tuple[torch.Tensor, torch.Tensor]] = {}
        gate_grads: dict[str, dict[int, torch.Tensor]] = {name: {} for name in program.multi_gates}
        for i in range(len(kernels) - 1, -1, -1):
            src = program.steps[i].source
            if need_phi and src[0] == "stage" and (src[1], src[3]) not in stage_out:
                stage_out[(src[1], src[3])] = (g, states[i + 1])
            elif need_phi and src[0] == "gate":
                gate_grads[src[1]][src[2]] = kernels[i].grad_mat(g, states[i], mats[i])
            if i > 0 or need_psi0:
                adj = ctx.adjoints[i]
                g = kernels[i].apply(g, adj) if adj is not None else kernels[i].apply_inverse(g, mats[i])
        d_phi = None
        if need_phi:
            table = ctx.table
            g_table = StagedEvolve._table_grad(program, table, ctx.products, stage_out) if stage_out else None
            g_multi = {name: torch.stack([gs[j] for j in range(len(gs))], 1) for name, gs in gate_grads.items()}
            d_phi = _angle_grads(program, phi, table, g_table, g_multi)
        return (None, g if need_psi0 else None, d_phi)

    @staticmethod
    def _table_grad(
        program: Program, table: torch.Tensor, products: list[torch.Tensor], stage_out: dict
    ) -> torch.Tensor:
        """∂L/∂table from each stage's output gradient and output state."""
        t = program.tensors(table.device, table.real.dtype)
        bt = table.shape[0]
        g_table = torch.zeros_like(table)
        for grp, m in enumerate(products):
            ng = m.shape[1]
            gs = torch.stack([stage_out[(grp, j)][0] for j in range(ng)], 1)  # (B, ng, 2**n)
            ps = torch.stack([stage_out[(grp, j)][1] for j in range(ng)], 1)
            h = torch.cat([_reduced(program, gs, ps, a, k) for a, k in program.groups[grp][0].chunks], 2)
            if bt == 1 and h.shape[0] != 1:
                h = h.sum(0, keepdim=True)
            rows = t["rows"][grp]
            _, depth, ncw = rows.shape
            w = table.index_select(1, rows.reshape(-1)).reshape(bt, ng, depth, ncw, 2, 2)
            gw = _chain_grads(w, h @ m)
            g_table.index_add_(1, rows.reshape(-1), gw.reshape(bt, -1, 2, 2))
        return g_table

    @staticmethod
    def _differentiable_backward(ctx, g, psi0, phi):
        """Backward through the ordinary kernel graph (used under ``create_graph=True``)."""
        program: Program = ctx.program
        need = ctx.needs_input_grad[1:]
        with torch.enable_grad():
            mats = build_mats(program, phi)
            out = evolve(program, psi0, mats)
            wanted = [x for x, nd in zip((psi0, phi), need) if nd]
            grads = iter(torch.autograd.grad(out, wanted, g, create_graph=True, allow_unused=True))
        return (None, *[next(grads) if nd else None for nd in need])
