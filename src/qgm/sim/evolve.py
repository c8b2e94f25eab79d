"""Bind angles to a compiled :class:`~qgm.sim.program.Program`, build its matrices, and
the closed-form gradient algebra of its layers.

``bind`` turns parameter and input tensors into per-occurrence angles ``phi``;
``build_table`` turns ``phi`` into every single-qubit gate's matrix (the
rotations in one closed form, other kinds one vectorised call each);
:class:`Matrices` turns those into every kernel matrix of a plan.

:func:`evolve` (with :func:`build_mats`) runs the ``"plain"`` plan out of place, a
path autograd can trace (density matrices, second derivatives). The engine's hot
path is :mod:`qgm.sim.executable`.

Gradients of a layer ``S = ⊗_w m_w`` (:class:`LayerGrads`): every wire's
``∂L/∂m_w = H_w m_w`` (``m_w`` unitary), with ``H_w`` the partial trace onto wire
``w`` of a block's correlation ``Σ g ⊗ conj(ψ)`` taken at any point of the layer
after ``w``'s block (the other blocks act unitarily on both members of the pair).
The depth chain ``m_w = ⋯ w_1 w_0`` (:func:`_chain_grads`) and the angles
(:func:`angle_grads`; rotations ``c I + s G`` in closed form) follow.
"""
from __future__ import annotations

from typing import Optional, Sequence

import torch

from qgm.circuits.gates import GATES
from qgm.sim.program import ROTATIONS, Plan, Program

__all__ = [
    "batch_shape",
    "bind",
    "build_table",
    "build_mats",
    "evolve",
    "Matrices",
    "LayerGrads",
    "angle_grads",
    "zero_state",
    "wire_products",
    "born_into",
    "traced_backward",
    "slot_grads",
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


def build_table(
    program: Program, phi: torch.Tensor, traced: bool = False
) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
    """The small tensors every kernel matrix is made of, for angles ``phi`` ``(Bp, n_occ)``.

    Returns ``table`` ``(Bt, K, 2, 2)`` (every single-qubit matrix of the circuit:
    rotations, other parametrised kinds, fixed ones, the identity; ``Bt`` = ``Bp``,
    or 1 without parametrised rows) and, per multi-qubit parametrised kind, its
    matrices ``(Bp, k, …)``. ``traced``: every kind through its catalogue matrix
    function (autograd-friendly); otherwise rotations in one closed form.
    """
    t = program.tensors(phi.device, phi.dtype)
    b = phi.shape[0]
    parts = []
    if not traced and program.n_rotation_rows:
        # c I + s G from (c, s) = view_as_real(exp(iθ/2)): one polar, one contraction
        half = phi.index_select(1, t["rot_occ"]).mul_(0.5)
        cs = torch.view_as_real(torch.polar(t["ones"][: half.shape[1]].expand_as(half), half))
        parts.append((cs[..., None] * t["rot_basis"]).sum(-2).view(*half.shape, 2, 2))
    for name, _ in program.table_gates:
        if traced or name not in ROTATIONS:
            m = GATES[name].matrix(phi[:, t["gate_occ"][name]])
            parts.append(torch.diag_embed(m) if GATES[name].diagonal else m)
    fixed = t["fixed"]
    parts.append(fixed.unsqueeze(0).expand(b, -1, -1, -1) if parts else fixed.unsqueeze(0))
    table = torch.cat(parts, 1) if len(parts) > 1 else parts[0]
    multi = {name: GATES[name].matrix(phi[:, occ]) for name, occ in t["multi_occ"].items()}
    return table, multi


def wire_products(program: Program, table: torch.Tensor) -> list[torch.Tensor]:
    """Per stage group: the product over depth of each wire's matrices ``(Bt, ng, n, 2, 2)``."""
    t = program.tensors(table.device, table.real.dtype)
    bt = table.shape[0]
    out = []
    for rows in t["rows"]:
        ng, depth, n = rows.shape
        w = table.index_select(1, rows.reshape(-1)).reshape(bt, ng, depth, n, 2, 2)
        m = w[:, :, 0]
        for d in range(1, depth):
            m = w[:, :, d] @ m
        out.append(m)
    return out


def _kron(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Kronecker product over the last two dims: ``a`` (…, d, d) ⊗ ``b`` (…, 2, 2)."""
    d, e = a.shape[-1], b.shape[-1]
    out = a[..., :, None, :, None] * b[..., None, :, None, :]
    return out.reshape(*out.shape[:-4], d * e, d * e)


class Matrices:
    """Every kernel matrix of ``plan`` for angles ``phi`` (``None`` for constant kernels).

    With ``traced=True`` (autograd-friendly) blocks are successive Kronecker products
    and every matrix keeps a leading batch ``(Bm, …)``, ``Bm`` in {1, rows of ``phi``}.
    Otherwise a block is one gather and one product over its wires, and matrices shared
    by the batch (one row of ``phi``) drop the leading batch: ``(c, c)`` (or ``(2**k,)``
    for diagonals). :meth:`inverse` gives the matrices the kernels' adjoint maps take.
    """

    def __init__(self, program: Program, plan: Plan, phi: torch.Tensor, traced: bool = False) -> None:
        self.program, self.plan = program, plan
        self.shared = phi.shape[0] == 1 and not traced
        t = program.tensors(phi.device, phi.dtype)
        self.table, self.multi = build_table(program, phi, traced)
        self.products = wire_products(program, self.table)
        self.blocks: dict[tuple[int, int, int], torch.Tensor] = {}
        unbound: dict[tuple[int, int, int], tuple[torch.Tensor, ...]] = {}
        per_gate = {name: (mm[0] if self.shared else mm.transpose(0, 1)).unbind(0) for name, mm in self.multi.items()}
        squeeze = self.shared and self.table.shape[0] == 1
        consts = t["consts"]
        mats: list[Optional[torch.Tensor]] = []
        for step in plan.steps:
            src = step.source
            if src[0] == "block":
                _, g, member, a, k = src
                if (g, a, k) not in unbound:
                    blk = self._block(g, a, k, traced)  # (Bt, ng, c, c)
                    blk = blk[0] if squeeze else blk.transpose(0, 1)
                    self.blocks[(g, a, k)] = blk
                    unbound[(g, a, k)] = blk.unbind(0)
                mats.append(unbound[(g, a, k)][member])
            elif src[0] == "gate":
                mats.append(per_gate[src[1]][src[2]])
            elif src[0] == "const":
                mats.append(consts[src[1]][0] if self.shared else consts[src[1]])
            else:
                mats.append(None)
        self.mats = mats
        self._inverse: Optional[list[Optional[torch.Tensor]]] = None

    def _block(self, g: int, a: int, k: int, traced: bool) -> torch.Tensor:
        m = self.products[g]  # (Bt, ng, n, 2, 2)
        if k == 1:
            return m[:, :, a]
        if traced:
            r = m[:, :, a]
            for i in range(1, k):
                r = _kron(r, m[:, :, a + i])
            return r
        # one broadcast product per wire, each wire's row and column indices on their own axes
        lead = m.shape[:2]
        out = None
        for w in range(k):
            shape = [*lead] + [1] * (2 * k)
            shape[2 + w] = shape[2 + k + w] = 2
            f = m[:, :, a + w].reshape(shape)
            out = f if out is None else out * f
        return out.reshape(*lead, 1 << k, 1 << k)

    def inverse(self, kernels: Sequence) -> list[Optional[torch.Tensor]]:
        """The adjoint maps' matrices (:meth:`~qgm.sim.kernels.Kernel.inverse_mat`), built once per call;
        blocks of one position are conjugated in one operation."""
        if self._inverse is None:
            conj: dict[tuple[int, int, int], tuple[torch.Tensor, ...]] = {}
            inv: list[Optional[torch.Tensor]] = []
            for step, k, m in zip(self.plan.steps, kernels, self.mats):
                src = step.source
                if src[0] == "block" and getattr(k, "wants_conj_inverse", False):
                    key = src[1:2] + src[3:]
                    if key not in conj:
                        conj[key] = self.blocks[key].conj_physical().unbind(0)
                    inv.append(conj[key][src[2]])
                else:
                    inv.append(k.inverse_mat(m))
            self._inverse = inv
        return self._inverse


def build_mats(program: Program, phi: torch.Tensor) -> list[Optional[torch.Tensor]]:
    """Every kernel's matrix of the ``"plain"`` plan, ``(Bm, …)`` with ``Bm`` in {1, rows of ``phi``}
    (autograd-traceable; the form :func:`evolve` and the density-matrix simulator take)."""
    return Matrices(program, program.plan("plain"), phi, traced=True).mats


def evolve(program: Program, psi: torch.Tensor, mats: Sequence[Optional[torch.Tensor]]) -> torch.Tensor:
    """Apply every kernel of the ``"plain"`` plan to ``psi`` ``(B, 2**n)``, out of place (autograd-traceable)."""
    for k, m in zip(program.plan("plain").on(psi.device, psi.dtype), mats):
        psi = k.apply(psi, m)
    return psi


_ZERO: dict[tuple, torch.Tensor] = {}


def zero_state(n: int, batch: int, dtype: torch.dtype, device: torch.device) -> torch.Tensor:
    """|0…0⟩ as a ``(batch, 2**n)`` tensor (read-only: one cached row, expanded)."""
    key = (n, dtype, device)
    if key not in _ZERO:
        psi = torch.zeros(1, 1 << n, dtype=dtype, device=device)
        psi[:, 0] = 1
        _ZERO[key] = psi
    return _ZERO[key].expand(batch, -1)


def born_into(psi: torch.Tensor) -> torch.Tensor:
    """``|ψ|²`` of ``psi`` ``(B, 2**n)`` as a fresh real tensor (two fused real operations)."""
    r = torch.view_as_real(psi)
    out = torch.empty(psi.shape, dtype=r.dtype, device=psi.device)
    torch.mul(r[..., 0], r[..., 0], out=out)
    return out.addcmul_(r[..., 1], r[..., 1])


def traced_backward(program: Program, batch: int, dtype: torch.dtype, output: str, g: torch.Tensor,
                    args: tuple, need: Sequence[bool]) -> list[Optional[torch.Tensor]]:
    """Gradients of ``args = (psi0, params, inputs)`` (where ``need``) by re-running the
    out-of-place kernel graph and differentiating it with ``create_graph=True`` (second
    derivatives of a differentiated engine call)."""
    psi0, params, inputs = args
    with torch.enable_grad():
        phi, _ = bind(program, params, inputs)
        start = zero_state(program.n, batch, dtype, params.device) if psi0 is None else psi0
        out = evolve(program, start, build_mats(program, phi))
        if output == "probs":
            out = out.real**2 + out.imag**2
        wanted = [x for x, nd in zip(args, need) if nd]
        grads = iter(torch.autograd.grad(out, wanted, g, create_graph=True, allow_unused=True))
    return [next(grads) if nd else None for nd in need]


# ---------------------------------------------------------------------------
# closed-form gradients


def _chain_grads(w: torch.Tensor, g_m: torch.Tensor) -> torch.Tensor:
    """Gradients of the factors of ``m = w[D-1] ⋯ w[0]`` from ∂L/∂m.

    ``w``: ``(…, D, n, 2, 2)`` factors; ``g_m``: ``(…, n, 2, 2)``. Returns ``(…, D, n, 2, 2)``
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


def angle_grads(
    program: Program, phi: torch.Tensor, table: torch.Tensor, g_table: Optional[torch.Tensor], g_multi: dict
) -> torch.Tensor:
    """∂L/∂phi ``(Bp, n_occ)`` from the gradients of the table rows and multi-qubit matrices.

    Rotation rows ``m = c I + s G`` (``c, s = cos, sin(θ/2)``) give
    ``∂L/∂θ = ½ Re Σ conj(∂L/∂m) ⊙ (-s I + c G)``; other kinds differentiate their
    matrix function with autograd (one small call per kind).
    """
    t = program.tensors(phi.device, phi.dtype)
    d_phi = torch.zeros_like(phi)

    def generic(name: str, occ: torch.Tensor, grad: torch.Tensor, embed: bool) -> None:
        with torch.enable_grad():
            x = phi[:, occ].detach().requires_grad_(True)
            m = GATES[name].matrix(x)
            m = torch.diag_embed(m) if embed else m
            (gx,) = torch.autograd.grad(m, x, grad.expand_as(m))
        d_phi.index_add_(1, occ.reshape(-1), gx.reshape(gx.shape[0], -1))

    if g_table is not None:
        r = program.n_rotation_rows
        if r:
            g = g_table[:, :r]
            half = phi.index_select(1, t["rot_occ"]).mul_(0.5)
            tr = (g[..., 0, 0] + g[..., 1, 1]).real
            tg = (g.conj() * t["rot_gen"]).sum((-2, -1)).real
            d = (torch.cos(half) * tg - torch.sin(half) * tr).mul_(0.5)
            d_phi.index_add_(1, t["rot_occ"], d.expand(phi.shape[0], -1))
        start = r
        for name, occ in program.table_gates:
            if name in ROTATIONS:
                continue
            rows = slice(start, start + len(occ))
            start += len(occ)
            generic(name, t["gate_occ"][name], g_table[:, rows], GATES[name].diagonal)
    for name, grad in g_multi.items():
        generic(name, t["multi_occ"][name], grad, False)
    return d_phi


def _traces(program: Program, h: torch.Tensor, k: int) -> torch.Tensor:
    """Partial traces of correlations ``h`` ``(…, 2**k, 2**k)`` onto each of their wires: ``(…, k, 2, 2)``."""
    lead = h.shape[:-2]
    c = 1 << k
    traced = h.reshape(*lead, c * c).index_select(-1, program.wire_traces(k, h.device))
    return traced.reshape(*lead, k, 2, 2, c >> 1).sum(-1)


class LayerGrads:
    """Collects the correlations of one backward pass and turns them into ∂L/∂phi."""

    def __init__(self, program: Program, table: torch.Tensor, products: Sequence[torch.Tensor]) -> None:
        """``table`` and ``products``: the call's single-qubit table and per-group wire products
        (:func:`build_table`, :func:`wire_products`)."""
        self.program, self.table, self.products = program, table, products
        self.bt = table.shape[0]
        self.hw: list[Optional[torch.Tensor]] = [None] * len(products)  # per group (Bt, ng, n, 2, 2)
        self.multi: dict[str, dict[int, torch.Tensor]] = {name: {} for name in program.multi_gates}

    def _fold(self, h: torch.Tensor) -> torch.Tensor:
        """Per-state correlations ``(B, …)`` summed over the batch when the matrices are shared."""
        return h.sum(0, keepdim=True) if self.bt == 1 and h.shape[0] != 1 else h

    def _hw(self, g: int) -> torch.Tensor:
        if self.hw[g] is None:
            self.hw[g] = torch.zeros_like(self.products[g])
        return self.hw[g]  # type: ignore[return-value]

    def block(self, source: tuple, h: torch.Tensor) -> None:
        """A stage block's correlation ``h`` ``(B, c, c)``."""
        _, g, member, a, k = source
        self._hw(g)[:, member, a : a + k] += self._fold(_traces(self.program, h, k))

    def blocks(self, g: int, members: torch.Tensor, a: int, k: int, traces: torch.Tensor) -> None:
        """Partial traces ``(len(members), B, k, 2, 2)`` of the blocks at wires ``a .. a+k-1`` of
        the layers ``members`` of group ``g``."""
        tr = traces.transpose(0, 1)
        self._hw(g)[:, :, a : a + k].index_add_(1, members, self._fold(tr))

    def gate(self, source: tuple, h: torch.Tensor, mat: torch.Tensor) -> None:
        """A multi-qubit parametrised gate: ∂L/∂U = H U (dense) or H ⊙ d (diagonal)."""
        h = self._fold(h)
        self.multi[source[1]][source[2]] = h * mat if GATES[source[1]].diagonal else h @ mat

    def d_phi(self, phi: torch.Tensor) -> torch.Tensor:
        program, table = self.program, self.table
        t = program.tensors(phi.device, phi.dtype)
        g_table = None
        for grp, (hw, prod) in enumerate(zip(self.hw, self.products)):
            if hw is None:
                continue
            if g_table is None:
                g_table = torch.zeros_like(table)
            rows = t["rows"][grp]
            ng, depth, n = rows.shape
            w = table.index_select(1, rows.reshape(-1)).reshape(self.bt, ng, depth, n, 2, 2)
            gw = _chain_grads(w, hw @ prod)
            g_table.index_add_(1, rows.reshape(-1), gw.reshape(self.bt, -1, 2, 2))
        g_multi = {
            name: torch.stack([gs[j] for j in range(len(gs))], 1)
            for name, gs in self.multi.items() if gs
        }
        return angle_grads(program, phi, table, g_table, g_multi)


def slot_grads(
    program: Program, d_phi: torch.Tensor, params: torch.Tensor, inputs: torch.Tensor, need: Sequence[bool]
) -> tuple[Optional[torch.Tensor], Optional[torch.Tensor]]:
    """∂L/∂params and ∂L/∂inputs from ∂L/∂phi (``phi = scale · v[slot] + offset``)."""
    t = program.tensors(d_phi.device, d_phi.dtype)
    rows = d_phi.shape[0]
    dv = torch.zeros(rows, program.n_params + program.n_inputs + 1, dtype=d_phi.dtype, device=d_phi.device)
    dv.index_add_(1, t["slot"], d_phi * t["scale"])
    p = program.n_params
    d_params = d_inputs = None
    if need[0]:
        d_params = dv[:, :p]
        if params.shape[0] != rows:
            d_params = d_params.sum(0, keepdim=True)
    if need[1]:
        d_inputs = dv[:, p : p + program.n_inputs]
        if inputs.shape[0] != rows:
            d_inputs = d_inputs.sum(0, keepdim=True)
    return d_params, d_inputs
