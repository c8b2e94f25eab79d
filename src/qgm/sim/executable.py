"""The engine's hot path: a plan bound to fixed buffers, run as one autograd node.

An :class:`Executable` is a :class:`~qgm.sim.program.Plan` bound to the buffers of
one (batch size, dtype, device, thread): ping-pong states for the forward and
backward sweeps, the states backprop keeps, and the gradients the batched
reduction reads (:mod:`qgm.sim.workspace`). Which buffer every kernel reads and
writes is fixed when the executable is built, so each kernel call is one
operation on prepared views (a GEMM, a gather or a multiply) and nothing
state-sized is allocated but the returned state.

A differentiated run is one autograd node (:class:`Evolve`) from the parameters,
inputs and initial state to the final state. Its backward pass pulls the output
gradient back kernel by kernel and reads every angle's gradient from small
correlations (:class:`~qgm.sim.evolve.LayerGrads`):

* ``"backprop"`` keeps the states at the pairing points (one per layer for blocks
  applied in place, one per block for rotating ones);
* ``"adjoint"`` un-computes the state alongside the gradient (three states);
* with the ``"pair"`` plan (small n) the pairs of every layer are reduced at once,
  two batched GEMMs for the whole circuit.

Binding runs inside the node, so parameters reach their gradient in two
operations. Under ``create_graph=True`` the backward pass re-runs the
out-of-place path (:func:`~qgm.sim.evolve.evolve`) and differentiates it.
"""
from __future__ import annotations

from typing import Callable, Optional, Sequence

import torch

from qgm.sim.compact import compact_evolve, compact_program
from qgm.sim.evolve import LayerGrads, Matrices, _traces, bind, born_into, slot_grads, traced_backward, zero_state
from qgm.sim.kernels import BlockKernel
from qgm.sim.program import SMALL_N, Plan, Program
from qgm.sim.workspace import Workspace, workspace

__all__ = ["Executable", "Evolve", "evolve_params", "run", "plan_kind"]

Fn = Callable[..., torch.Tensor]


def plan_kind(n: int, per_row: bool = False) -> str:
    """The plan the engine runs: ``"rows"`` for a batch with one matrix per state, else ``"pair"``
    up to :data:`SMALL_N` qubits and ``"rotate"`` beyond."""
    if per_row:
        return "rows"
    return "pair" if n <= SMALL_N else "rotate"


class Executable:
    """``plan`` bound to the buffers of ``batch`` states of ``dtype`` on ``device`` (see module docstring)."""

    def __init__(self, program: Program, plan: Plan, ws: Workspace) -> None:
        self.program, self.plan, self.ws = program, plan, ws
        self.b = ws.batch
        self.kernels = plan.on(ws.device, ws.dtype)
        self.last = len(plan.steps) - 1
        self.members: dict[int, list[int]] = {}
        for j, st in enumerate(plan.steps):
            if st.pair >= 0:
                self.members.setdefault(st.pair, []).append(j)
        # saved/gradient stack index of each pairing point; with the "pair" plan the pairs of one
        # rotating block position are consecutive, so their batched reduction reads one slice
        order = sorted(plan.pair_points, key=lambda i: (self._position(i), i)) if plan.kind == "pair" \
            else plan.pair_points
        self.slot = {i: s for s, i in enumerate(order)}
        self._routes: dict[str, tuple] = {}

    def _position(self, i: int) -> tuple[int, int]:
        """The rotating block whose pair is taken at step ``i`` (``(n, 0)`` for any other pair)."""
        k = self.kernels[i]
        if isinstance(k, BlockKernel) and k.rotate and self.plan.steps[i].source[0] == "block":
            return (k.a, k.k)
        return (self.program.n, 0)

    # -- buffers -------------------------------------------------------------------
    def saved_slots(self) -> dict[int, torch.Tensor]:
        """Buffers of the states backprop keeps: one per pairing point. The ``"pair"`` plan keeps
        the final one in the stack too (its pairs are reduced as one stacked tensor); the others
        pair the final step with the returned state."""
        points = self.plan.pair_points
        if self.plan.kind != "pair" and points and points[-1] == self.last:
            points = points[:-1]
        stack = self.ws.stack("saved", len(self.plan.pair_points)).unbind(0)
        return {i: stack[self.slot[i]] for i in points}

    def final_buffer(self) -> torch.Tensor:
        """The buffer the final state of a ``"probs"`` call stays in (its output is ``|ψ|²``)."""
        return self.ws.stack("final", 1)[0]

    def paired_states(self, final: torch.Tensor) -> Optional[dict[int, torch.Tensor]]:
        """The states backprop kept at the pairing points (the last from ``final`` where not kept)."""
        if not self.plan.pair_points:
            return None
        states = self.saved_slots()
        if self.last in self.plan.pair_points and self.last not in states:
            states[self.last] = final
        return states

    def _route(self, key: str):
        """A cached route, dropped when the workspace reallocated its buffers since it was built."""
        hit = self._routes.get(key)
        return hit[1] if hit is not None and hit[0] == self.ws.version else None

    def _forward_route(self, method: str, zero_start: bool) -> tuple:
        """Per step: its function and whether it writes the returned state; the buffer the initial
        |0…0⟩ is written to (``zero_start``; ``None``: the returned state); and the buffer holding
        the final state when that is not the returned one.

        Destinations are assigned from the last step backwards so that a chain alternates between
        the returned state and one work buffer (saved states go to their own buffers): a forward
        pass holds two states.
        """
        key = f"fwd-{method}-{zero_start}"
        route = self._route(key)
        if route is None:
            saved = self.saved_slots() if method == "backprop" and self.plan.pair_points else {}
            w0 = self.ws.stack("work", 1)[0]
            out = None  # the call's returned state
            dst: list[Optional[torch.Tensor]] = [None] * len(self.kernels)
            for i in range(self.last, -1, -1):
                if i in saved:
                    dst[i] = saved[i]
                elif i < self.last:
                    dst[i] = w0 if dst[i + 1] is out else out
            start = (w0 if dst[0] is out else out) if zero_start else None
            fns, from_out, to_out = [], [], []
            cur = start
            for i, k in enumerate(self.kernels):
                external = (i == 0 and not zero_start) or cur is out
                fns.append(k.into_fn(self.b, False, None if external else cur, dst[i]))
                from_out.append(cur is out and (i > 0 or zero_start))
                to_out.append(dst[i] is None)
                cur = dst[i]
            route = (fns, from_out, to_out, zero_start and start is None, start, cur)
            self._routes[key] = (self.ws.version, route)
        return route

    def matrices(self, params: torch.Tensor, inputs: torch.Tensor) -> Matrices:
        """The plan's matrices at ``params``/``inputs``; those of a circuit without slots are built once."""
        if self.program.constant:
            key = f"mats-{params.dtype}"
            if key not in self._routes:
                phi, _ = bind(self.program, params[:1], inputs[:1])
                self._routes[key] = (None, Matrices(self.program, self.plan, phi))
            return self._routes[key][1]
        phi, _ = bind(self.program, params, inputs)
        return Matrices(self.program, self.plan, phi)

    # -- forward -------------------------------------------------------------------
    def forward(self, psi0: Optional[torch.Tensor], mats: Sequence[Optional[torch.Tensor]], out: torch.Tensor,
                method: str = "none") -> torch.Tensor:
        """Run the plan from ``psi0`` (``None``: |0…0⟩) into ``out`` (``method="backprop"`` keeps the
        paired states)."""
        if not self.kernels:
            return out.copy_(zero_state(self.program.n, self.b, out.dtype, out.device) if psi0 is None else psi0)
        fns, from_out, to_out, zero_in_out, start, final = self._forward_route(method, psi0 is None)
        if psi0 is None:  # |0…0⟩ written into the buffer the first kernel reads
            z = (out if zero_in_out else start).view(self.b, -1)
            z.zero_()
            z[:, 0] = 1
        for i, f in enumerate(fns):
            f(mats[i], psi0 if i == 0 and psi0 is not None else (out if from_out[i] else None),
              out if to_out[i] else None)
        if final is not None:
            out.copy_(final)
        return out

    # -- backward ------------------------------------------------------------------
    def _backward_route(self, method: str, batched: bool, need_phi: bool) -> tuple:
        key = f"bwd-{method}-{batched}-{need_phi}"
        route = self._route(key)
        if route is None:
            adjoint = method == "adjoint" and need_phi
            # the forward pass is over: its work buffer serves the gradient (and the un-computed state)
            work = self.ws.stack("work", 4 if adjoint else 2).unbind(0)
            gslots = self.ws.stack("grads", len(self.plan.pair_points)).unbind(0) if batched else ()
            g0, g1 = work[0], work[1]
            u0, u1 = (work[2], work[3]) if adjoint else (None, None)
            first_pair = self.plan.pair_points[0] if self.plan.pair_points else self.last + 1
            g = gslots[self.slot[self.last]] if batched and self.last in self.slot else None
            psi: Optional[torch.Tensor] = None  # None: the returned state
            gfns, pfns, g_at, psi_at = [], [], [], []
            for i in range(self.last, -1, -1):
                g_at.append(g)
                psi_at.append(psi)
                if batched and (i - 1) in self.slot:
                    dst = gslots[self.slot[i - 1]]
                else:
                    dst = g1 if g is g0 else g0
                gfns.append(self.kernels[i].into_fn(self.b, True, g, dst))
                g = dst
                if adjoint and i > first_pair:
                    pdst = u1 if psi is u0 else u0
                    pfns.append(self.kernels[i].into_fn(self.b, True, psi, pdst))
                    psi = pdst
                else:
                    pfns.append(None)
            route = (gfns, pfns, g_at, psi_at, gslots)
            self._routes[key] = (self.ws.version, route)
        return route

    def backward(
        self,
        g: torch.Tensor,
        out: torch.Tensor,
        mats: Matrices,
        states: Optional[dict[int, torch.Tensor]],
        grads: Optional[LayerGrads],
        need_psi0: bool,
        method: str,
    ) -> Optional[torch.Tensor]:
        """Pull ``g`` (the gradient at the output) back to the initial state, collecting the
        correlations into ``grads``. ``states``: the paired states (backprop) or ``None``
        (adjoint: un-computed from ``out``). Returns ∂L/∂psi0 if wanted."""
        batched = grads is not None and self.plan.kind == "pair" and states is not None
        gfns, pfns, g_at, psi_at, gslots = self._backward_route(method, batched, grads is not None)
        inv = mats.inverse(self.kernels)
        kernels, members, steps = self.kernels, self.members, self.plan.steps
        if batched and g_at[0] is not None:
            g_at[0].copy_(g)
        cur_g, cur_psi = g, out
        for pos, i in enumerate(range(self.last, -1, -1)):
            gi = g_at[pos] if g_at[pos] is not None else cur_g
            if grads is not None and not batched and i in members:
                pi = (psi_at[pos] if psi_at[pos] is not None else cur_psi) if states is None else states[i]
                for j in members[i]:
                    _collect(grads, steps[j].source, kernels[j].correlate(gi, pi, grads.bt == 1), mats.mats[j])
            if i == 0 and not need_psi0:
                break
            cur_g = gfns[pos](inv[i], gi if g_at[pos] is None else None)
            if pfns[pos] is not None:
                cur_psi = pfns[pos](inv[i], cur_psi if psi_at[pos] is None else None)
        if batched and grads is not None and states is not None:
            self._batched_correlations(mats, states, self.ws.stack("grads", len(self.plan.pair_points)), grads)
        return cur_g.reshape(self.b, -1).clone() if need_psi0 else None

    def _batched_correlations(
        self, mats: Matrices, states: dict[int, torch.Tensor], gstack: torch.Tensor, grads: LayerGrads
    ) -> None:
        """Every pair of a ``"pair"`` plan at once: one real GEMM per rotating block position over the
        consecutive slots of its pairs; the few other pairs one by one."""
        saved = self.ws.stack("saved", len(self.plan.pair_points))
        s_count, b, dim = gstack.shape
        layout = self._pair_layout()
        for i in layout["single"]:
            for j in self.members[i]:
                h = self.kernels[j].correlate(gstack[self.slot[i]], saved[self.slot[i]], grads.bt == 1)
                _collect(grads, self.plan.steps[j].source, h, mats.mats[j])
        for kern, (s0, s1), a, k, per_group in layout["positions"]:
            h = kern.correlate(gstack[s0:s1].reshape(-1, dim), saved[s0:s1].reshape(-1, dim))
            tr = _traces(self.program, h, k).reshape(s1 - s0, b, k, 2, 2)
            for g, rows, members in per_group:
                grads.blocks(g, members, a, k, tr if rows is None else tr.index_select(0, rows))

    def _pair_layout(self) -> dict:
        """Static indexing of the batched reduction (see :meth:`_batched_correlations`)."""
        if self._route("pair-layout") is None:
            plan, dev = self.plan, self.ws.device
            by_pos: dict[tuple[int, int], list[int]] = {}
            single = []
            for i in plan.pair_points:
                pos = self._position(i)
                if pos[1]:
                    by_pos.setdefault(pos, []).append(i)
                else:
                    single.append(i)
            positions = []
            for (a, k), points in sorted(by_pos.items()):
                s0 = self.slot[points[0]]
                groups: dict[int, tuple[list[int], list[int]]] = {}
                for r, i in enumerate(points):
                    _, g, member, _, _ = plan.steps[i].source
                    groups.setdefault(g, ([], []))[0].append(r)
                    groups[g][1].append(member)
                per_group = [
                    (g, None if rows == list(range(len(points))) else torch.as_tensor(rows, device=dev),
                     torch.as_tensor(members, device=dev))
                    for g, (rows, members) in groups.items()
                ]
                positions.append((self.kernels[points[0]], (s0, s0 + len(points)), a, k, per_group))
            self._routes["pair-layout"] = (self.ws.version, {"single": single, "positions": positions})
        return self._route("pair-layout")


def _collect(grads: LayerGrads, source: tuple, h: torch.Tensor, mat: Optional[torch.Tensor]) -> None:
    if source[0] == "block":
        grads.block(source, h)
    else:
        assert mat is not None
        grads.gate(source, h, mat)


def executable(program: Program, batch: int, dtype: torch.dtype, device: torch.device,
               per_row: bool = False) -> Executable:
    """The cached :class:`Executable` of ``program`` for ``batch`` states of ``dtype`` on ``device``
    (``per_row``: one set of angles per state)."""
    plan = program.plan(plan_kind(program.n, per_row and batch > 1))
    ws = workspace(plan, batch, 1 << program.n, dtype, device)
    exe = ws.memo.get("exe")
    if exe is None:
        exe = ws.memo["exe"] = Executable(program, plan, ws)
    return exe


class Evolve(torch.autograd.Function):
    """Binding and the kernels of a plan as one autograd node: ``(psi0, params, inputs) -> output``.

    ``output="state"`` returns the final states (a fresh tensor); ``output="probs"`` returns
    their Born probabilities ``|ψ|²`` (real), keeping the final state in a workspace buffer:
    the Born rule and its gradient ``2 ψ g`` are part of the node, so no state-sized tensor is
    allocated but the probabilities. ``params`` ``(Bp, P)`` and ``inputs`` ``(Bp or 1, I)`` give
    ``Bp`` rows of angles (1: shared by the batch). ``psi0`` ``(B, 2**n)`` or ``None`` (|0…0⟩).
    """

    @staticmethod
    def forward(ctx, exe: Executable, method: str, output: str, psi0: Optional[torch.Tensor],  # type: ignore[override]
                params: torch.Tensor, inputs: torch.Tensor):
        with torch.no_grad():
            phi, _ = bind(exe.program, params, inputs)
            mats = Matrices(exe.program, exe.plan, phi)
            probs = output == "probs"
            out = exe.final_buffer() if probs else \
                torch.empty(exe.b, 1 << exe.program.n, dtype=exe.ws.dtype, device=exe.ws.device)
            ctx.generation = exe.ws.claim("call") if (method == "backprop" or probs) else 0
            exe.forward(psi0, mats.mats, out, method)
            result = born_into(out) if probs else out
        ctx.exe, ctx.method, ctx.mats, ctx.phi, ctx.output = exe, method, mats, phi, output
        ctx.final = out if probs else None
        ctx.save_for_backward(psi0, params, inputs, None if probs else out)
        return result

    @staticmethod
    def backward(ctx, g: torch.Tensor):  # type: ignore[override]
        psi0, params, inputs, out = ctx.saved_tensors
        if torch.is_grad_enabled():
            return Evolve._differentiable_backward(ctx, g, psi0, params, inputs)
        exe: Executable = ctx.exe
        need_psi0 = ctx.needs_input_grad[3]
        need_phi = ctx.needs_input_grad[4] or ctx.needs_input_grad[5]
        with torch.no_grad():
            Evolve._refresh(ctx, psi0)
            final = ctx.final if out is None else out
            if ctx.output == "probs":  # ∂L/∂ψ = 2 ψ ∂L/∂p, into a buffer
                g = torch.mul(final, g, out=exe.ws.stack("gin", 1)[0]).mul_(2)
            states = exe.paired_states(final) if need_phi and ctx.method == "backprop" else None
            grads = LayerGrads(exe.program, ctx.mats.table, ctx.mats.products) if need_phi else None
            method = ctx.method if need_phi else "backprop"
            g_psi0 = exe.backward(g.contiguous(), final, ctx.mats, states, grads, need_psi0, method)
            d_params = d_inputs = None
            if grads is not None:
                d_phi = grads.d_phi(ctx.phi)
                d_params, d_inputs = slot_grads(exe.program, d_phi, params, inputs, ctx.needs_input_grad[4:])
        return None, None, None, g_psi0, d_params, d_inputs

    @staticmethod
    def _refresh(ctx, psi0: Optional[torch.Tensor]) -> None:
        """If a later call reused the buffers this node's forward pass wrote, run it again (into the
        same buffers, claimed anew; a returned state is never written)."""
        exe: Executable = ctx.exe
        if ctx.generation and not exe.ws.holds("call", ctx.generation):
            ctx.generation = exe.ws.claim("call")
            if ctx.final is not None:
                ctx.final = exe.final_buffer()
            target = ctx.final if ctx.final is not None else torch.empty_like(ctx.saved_tensors[3])
            exe.forward(psi0, ctx.mats.mats, target, ctx.method)

    @staticmethod
    def _differentiable_backward(ctx, g, psi0, params, inputs):
        """Backward through the out-of-place kernel graph (used under ``create_graph=True``)."""
        exe: Executable = ctx.exe
        return (None, None, None, *traced_backward(exe.program, exe.b, exe.ws.dtype, ctx.output, g,
                                                   (psi0, params, inputs), ctx.needs_input_grad[3:]))


def evolve_params(
    program: Program, psi0: Optional[torch.Tensor], params: torch.Tensor, inputs: torch.Tensor,
    method: str = "backprop", batch: Optional[int] = None, dtype: torch.dtype = torch.complex128,
    output: str = "state",
) -> torch.Tensor:
    """Final states ``(B, 2**n)`` (``output="state"``) or their probabilities (``"probs"``) from
    ``psi0`` ``(B, 2**n)`` (``None``: |0…0⟩, ``B = batch``) with ``params`` ``(Bp, P)``, ``inputs``
    ``(Bp or 1, I)`` (``Bp`` in {1, B}); one autograd node when anything requires grad."""
    b = psi0.shape[0] if psi0 is not None else int(batch or 1)
    dt = psi0.dtype if psi0 is not None else dtype
    per_row = max(params.shape[0], inputs.shape[0]) > 1
    if method == "backprop":
        cp = compact_program(program, params.device, dt)
        if cp is not None and (not per_row or cp.per_row(params.device, b, dt)):
            return compact_evolve(cp, psi0, params, inputs, b, dt, output)
    exe = executable(program, b, dt, params.device, per_row)
    grad = psi0 is not None and psi0.requires_grad
    if torch.is_grad_enabled() and (grad or params.requires_grad or inputs.requires_grad):
        return Evolve.apply(exe, method, output, psi0, params, inputs)
    with torch.no_grad():
        probs = output == "probs"
        out = exe.final_buffer() if probs else torch.empty(b, 1 << program.n, dtype=dt, device=params.device)
        exe.ws.claim("call")  # the buffers a differentiated call's backward pass may still read
        exe.forward(psi0, exe.matrices(params, inputs).mats, out)
        return born_into(out) if probs else out


def run(program: Program, psi0: Optional[torch.Tensor], phi: torch.Tensor, batch: Optional[int] = None,
        dtype: torch.dtype = torch.complex128) -> torch.Tensor:
    """Final states ``(B, 2**n)`` of ``program`` from ``psi0`` (``None``: |0…0⟩ for ``batch`` states)
    at angles ``phi`` ``(1 or B, n_occ)`` (no autograd: the forward pass of shifted evaluations)."""
    b = psi0.shape[0] if psi0 is not None else int(batch or 1)
    dt = psi0.dtype if psi0 is not None else dtype
    exe = executable(program, b, dt, phi.device, phi.shape[0] > 1)
    with torch.no_grad():
        out = torch.empty(b, 1 << program.n, dtype=dt, device=phi.device)
        return exe.forward(psi0, Matrices(program, exe.plan, phi).mats, out)
