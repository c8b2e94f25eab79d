"""The whole-step engine for small registers (``n <= COMPACT_N``): a circuit as a few matrix products.

At a handful of qubits a state fits in L1 and the cost of a training step is the
number of operations dispatched, not arithmetic. This engine runs the circuits
whose compiled program is made of single-qubit stages and constant monomial maps
(CNOT/CZ/Toffoli/SWAP runs with their phases) with as few operations as the
structure allows:

* the state is a matrix ``Ψ`` of shape ``2**h × 2**(n-h)`` (wires ``[0, h)`` index
  rows, ``[h, n)`` columns, ``h = ⌈n/2⌉``), so a stage ``⊗_w m_w`` is two GEMMs
  ``Ψ ← A Ψ Bᵀ`` with ``A = ⊗_{w<h} m_w`` and ``B = ⊗_{w≥h} m_w`` built for all
  stages at once (one product per wire);
* every run of constant monomial kernels between two stages is composed, once per
  program, into one permutation with phases: one gather (and one multiply);
* a differentiated call is one autograd node whose backward pulls the gradient back
  with the adjoint products (``G ← Aᴴ G conj(B)``), keeps the gradient at every
  stage output, and reads all stages' correlations with two batched GEMMs
  (``G Yᴴ`` for the row wires, ``Yᴴ G`` for the column wires) whose per-wire 2×2
  partial traces ``H_w`` give every stage matrix's gradient ``H_w m_w``; the angles'
  gradients follow in closed form for rotation layers (:mod:`qgm.sim.expansion`), by
  autograd through the gate table for other single-qubit kinds.

On CPU with numba installed (the ``fast`` extra) the sweeps, correlations included,
run as compiled calls instead (:mod:`qgm.sim.native`, wire by wire, no Kronecker
products); with rotation stages a differentiated call is then two compiled calls in
all (stage matrices, sweep and Born rule; backward sweep, correlations and angle
gradients: :meth:`CompactProgram.fused_forward`). The PyTorch sweep above serves
CUDA and machines without numba.

A batch with its own angles per row (``params`` or ``inputs`` of ``B`` rows) runs on
the compiled per-row sweeps (:func:`~qgm.sim.native.forward`: chunks of states
with the row innermost, every row's matrices from the expansion in one batched GEMM)
where the circuit has an expansion and numba is installed (:class:`CompactRows`).

Circuits with anything else (parametrised multi-qubit gates, non-unitary fixed
matrices), per-row angles without the compiled sweeps, or more than
:data:`COMPACT_N` qubits run on the general engine (:mod:`qgm.sim.executable`); all
compute the same maps.
"""
from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Optional, Sequence, Union

import numpy as np
import torch

from qgm.sim import native
from qgm.sim.evolve import _traces, bind, born_into, build_table, traced_backward, wire_products, zero_state
from qgm.sim.expansion import StageExpansion, stage_expansion
from qgm.sim.kernels import DiagKernel, PermKernel
from qgm.sim.program import SMALL_N, KernelStep, Program, StageStep
from qgm.sim.workspace import Workspace, workspace

__all__ = ["COMPACT_N", "CompactProgram", "CompactEvolve", "CompactRows", "compact_program", "compact_evolve"]

#: Largest register run by this engine (the ``"pair"`` plan's range).
COMPACT_N = SMALL_N
#: Whether CPU calls take the compiled sweeps (:mod:`qgm.sim.native`) where numba is installed.
USE_NATIVE = True
#: Largest ``batch · 2**n`` given to the compiled sweeps with shared angles: up to here (n = 4-11, 1
#: and 64 states) they were 2.2-3.5x faster than the PyTorch sweeps (``benchmarks/bench_compact.py``);
#: larger batches, not measured, keep the PyTorch GEMMs (the compiled kernel is used only where it
#: is at least 2x faster).
NATIVE_MAX_AMPLITUDES = 1 << 17
#: Largest memory (bytes) the per-row sweeps keep for the backward pass (every stage's output of
#: every row); larger per-row batches run on the general engine.
ROWS_MAX_BYTES = 1 << 29


@dataclass(frozen=True)
class _Stage:
    """Stage ``s`` (in program order), its wires, and which halves of the register it touches."""

    s: int
    wires: tuple[int, ...]
    rows: bool
    cols: bool


@dataclass(frozen=True)
class _Mono:
    """Monomial map ``k``: ``ψ'[x] = phase[x] ψ[src[x]]`` and its adjoint ``g[y] = back[y] g'[inv[y]]``
    (``None``: no phases)."""

    k: int
    src: torch.Tensor
    phase: Optional[torch.Tensor]
    inv: torch.Tensor
    back: Optional[torch.Tensor]


Step = Union[_Stage, _Mono]


class CompactProgram:
    """A :class:`~qgm.sim.program.Program` prepared for this engine on one device and complex dtype.

    Build with :func:`compact_program` (``None`` where the program does not qualify).
    """

    def __init__(self, program: Program, steps: list[Step], order: Optional[torch.Tensor],
                 expansion: Optional[StageExpansion]) -> None:
        self.program = program
        self.n = program.n
        self.h = (self.n + 1) // 2
        self.rows, self.cols = 1 << self.h, 1 << (self.n - self.h)
        self.steps = steps
        self.n_stages = sum(isinstance(s, _Stage) for s in steps)
        self.monos = [s for s in steps if isinstance(s, _Mono)]
        self.order = order  # stage s -> row of the concatenated per-group products (None: one group)
        self.expansion = expansion

    # -- matrices ------------------------------------------------------------------
    def matrices(self, params: torch.Tensor, inputs: torch.Tensor) -> tuple[torch.Tensor, object]:
        """Every stage's per-wire matrix ``(S, n, 2, 2)`` and what the expansion's backward reads
        (``None`` without an expansion); no autograd. On CPU with numba, the expansion is one
        compiled call."""
        if self.expansion is None:
            return self._from_table(bind(self.program, params, inputs)[0]), None
        if self._compiled(params.device):
            return self.expansion.forward_compiled(params, inputs)
        return self.expansion.forward(params, inputs)

    def angle_grads(self, g_w: torch.Tensor, saved: object, params: torch.Tensor,
                    inputs: torch.Tensor, need: tuple[bool, bool]) -> tuple[Optional[torch.Tensor], ...]:
        """∂L/∂params and ∂L/∂inputs (where ``need``) from the stage matrices' gradient ``g_w``: the
        expansion's closed form (compiled or PyTorch, as :meth:`matrices` ran it), or autograd through
        :meth:`stage_matrices`."""
        if self.expansion is not None:
            if isinstance(saved, np.ndarray):
                d_params, d_inputs = self.expansion.backward_compiled(g_w, saved)
            else:
                d_params, d_inputs = self.expansion.backward(g_w, saved)  # type: ignore[arg-type]
            return d_params if need[0] else None, d_inputs if need[1] else None
        with torch.enable_grad():
            p, x = params.detach().requires_grad_(need[0]), inputs.detach().requires_grad_(need[1])
            wanted = [t for t, nd in zip((p, x), need) if nd]
            got = iter(torch.autograd.grad(self.stage_matrices(p, x), wanted, g_w))
        return tuple(next(got) if nd else None for nd in need)

    @staticmethod
    def _compiled(device: torch.device) -> bool:
        """Whether calls on ``device`` take the compiled code (CPU, numba installed, :data:`USE_NATIVE`)."""
        return native.AVAILABLE and USE_NATIVE and device.type == "cpu"

    def stage_matrices(self, params: torch.Tensor, inputs: torch.Tensor) -> torch.Tensor:
        """Every stage's per-wire matrix ``(S, n, 2, 2)`` (stage order; identity on idle wires),
        built with differentiable torch operations from the gate table."""
        return self._from_table(bind(self.program, params, inputs)[0])

    def _from_table(self, phi: torch.Tensor) -> torch.Tensor:
        table, _ = build_table(self.program, phi)
        products = wire_products(self.program, table)
        if self.order is None:
            return products[0][0]
        return torch.cat([p[0] for p in products]).index_select(0, self.order)

    def halves(self, w: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """The stages' ``A = ⊗_{w<h} m_w`` ``(S, r, r)`` and ``B = ⊗_{w≥h} m_w`` ``(S, c, c)``."""
        wires = w.unbind(1)
        return _kron_all(wires[: self.h]), _kron_all(wires[self.h :])

    # -- sweeps --------------------------------------------------------------------
    # A sweep is a list of (op, s, x, t, d): op 0 = ``L_s x Rᵀ_s`` (via ``t``), 1 = ``L_s x``,
    # 2 = ``x Rᵀ_s``, 3 = gather ``s``; x/t/d index buffers: 0-2 work, 3 + k row k of a stack
    # (stage outputs, or gradients there), -1 the input.

    @functools.cached_property
    def _forward_sweep(self) -> tuple[list[tuple], list[tuple]]:
        """Forward sweeps (keeping every stage's output in the stack, or in two work buffers)."""
        out = []
        for keep in (True, False):
            sweep, x = [], -1
            for st in self.steps:
                d = 3 + st.s if keep and isinstance(st, _Stage) else (1 if x == 0 else 0)
                sweep.append(_sweep_op(st, x, d))
                x = d
            out.append(sweep)
        return out[0], out[1]

    @functools.cached_property
    def _backward_sweep(self) -> tuple[list[tuple], list[tuple]]:
        """Backward sweeps from the gradient at the output (row ``3 + s`` of the stack receives the
        gradient at stage ``s``'s output), to the initial state or stopping at the first step."""
        out = []
        for to_start in (True, False):
            sweep = []
            last = len(self.steps) - 1
            x = 3 + self.steps[last].s if isinstance(self.steps[last], _Stage) else -1
            for i in range(last, 0 if not to_start else -1, -1):
                st, prev = self.steps[i], self.steps[i - 1] if i else None
                d = 3 + prev.s if isinstance(prev, _Stage) else (1 if x == 0 else 0)
                sweep.append(_sweep_op(st, x, d))
                x = d
            out.append(sweep)
        return out[0], out[1]

    def _run(self, sweep: list[tuple], x: torch.Tensor, left: Sequence[torch.Tensor],
             right: Sequence[torch.Tensor], gathers: Sequence[tuple], buf: torch.Tensor) -> torch.Tensor:
        """Apply ``sweep`` to ``x`` ``(B, 2**n)`` in the buffers ``buf`` ``(3 + k, B, 2**n)`` (three
        work rows, then the stack); ``left``/``right``: per stage ``L_s``, ``Rᵀ_s``; ``gathers``: per
        monomial map ``(index, phase)``. Returns the final buffer ``(B, 2**n)``."""
        bsz, k = x.shape[0], buf.shape[0]
        r, c = self.rows, self.cols
        x = x.contiguous()
        flat = buf.unbind(0) + (x,)
        if bsz == 1:  # one state: every product a 2-D GEMM on (r, c) views
            mats = tall = buf.view(k, r, c).unbind(0) + (x.view(r, c),)
            rows_mm = torch.mm
        else:
            mats = buf.view(k, bsz, r, c).unbind(0) + (x.view(bsz, r, c),)
            tall = buf.view(k, bsz * r, c).unbind(0) + (x.view(bsz * r, c),)
            rows_mm = torch.matmul
        mm, index_select = torch.mm, torch.index_select
        d = -1
        for op, s, x_, t, d in sweep:
            if op == 0:
                rows_mm(left[s], mats[x_], out=mats[t])
                mm(tall[t], right[s], out=tall[d])
            elif op == 1:
                rows_mm(left[s], mats[x_], out=mats[d])
            elif op == 2:
                mm(tall[x_], right[s], out=tall[d])
            else:
                index, phase = gathers[s]
                index_select(flat[x_], 1, index, out=flat[d])
                if phase is not None:
                    flat[d].mul_(phase)
        return flat[d]

    def buffers(self, batch: int, dtype: torch.dtype, device: torch.device, keep: bool) -> torch.Tensor:
        """Three work states and (``keep``) one per stage: ``(3 [+ S], B, 2**n)``."""
        return torch.empty(3 + (self.n_stages if keep else 0), batch, 1 << self.n, dtype=dtype, device=device)

    def forward(self, psi0: Optional[torch.Tensor], a: torch.Tensor, b: torch.Tensor, buf: torch.Tensor) -> torch.Tensor:
        """Run every step from ``psi0`` ``(B, 2**n)`` (``None``: |0…0⟩) in ``buf``
        (:meth:`buffers`; with stage rows, every stage's output is kept in ``buf[3 + s]``).
        Returns the final state ``(B, 2**n)``, a row of ``buf``."""
        if psi0 is None:
            psi0 = zero_state(self.n, buf.shape[1], buf.dtype, buf.device)
        sweep = self._forward_sweep[0 if buf.shape[0] > 3 else 1]
        return self._run(sweep, psi0, a.unbind(0), b.transpose(1, 2).unbind(0), self._gathers[0], buf)

    def backward(self, g: torch.Tensor, a: torch.Tensor, b: torch.Tensor,
                 need_psi0: bool) -> tuple[torch.Tensor, Optional[torch.Tensor]]:
        """Pull ``g`` ``(B, 2**n)`` (the gradient at the output) back through every step (adjoint
        maps: ``Aᴴ G conj(B)``, inverse gathers); returns the gradients at every stage output
        ``(S, B, 2**n)`` and, if wanted, at the initial state."""
        buf = self.buffers(g.shape[0], g.dtype, g.device, True)
        last = self.steps[-1]
        if isinstance(last, _Stage):
            buf[3 + last.s].copy_(g)
        sweep = self._backward_sweep[0 if need_psi0 else 1]
        out = self._run(sweep, g, a.mH.unbind(0), b.conj_physical().unbind(0), self._gathers[1], buf)
        return buf[3:], (out if need_psi0 else None)

    @functools.cached_property
    def _gathers(self) -> tuple[list[tuple], list[tuple]]:
        """Per monomial map: ``(src, phase)`` (forward) and ``(inv, back)`` (adjoint)."""
        return [(m.src, m.phase) for m in self.monos], [(m.inv, m.back) for m in self.monos]

    # -- compiled sweeps (qgm.sim.native) -----------------------------------------
    def native(self, device: torch.device, batch: int) -> bool:
        """Whether the compiled sweeps run ``batch`` states of this program on ``device`` (CPU, numba
        installed, at most :data:`NATIVE_MAX_AMPLITUDES` amplitudes)."""
        return self._compiled(device) and batch << self.n <= NATIVE_MAX_AMPLITUDES

    @functools.cached_property
    def schedule(self) -> native.Schedule:
        """The steps as the arrays the compiled sweeps read."""
        dim = 1 << self.n
        active = np.zeros((self.n_stages, self.n), dtype=bool)
        for st in self.steps:
            if isinstance(st, _Stage):
                active[st.s, list(st.wires)] = True
        src, inv = (np.zeros((len(self.monos), dim), dtype=np.int64) for _ in range(2))
        phase, back = (np.ones((len(self.monos), dim), dtype=np.complex128) for _ in range(2))
        for m in self.monos:
            src[m.k], inv[m.k] = m.src.cpu().numpy(), m.inv.cpu().numpy()
            if m.phase is not None:
                phase[m.k], back[m.k] = m.phase.cpu().numpy(), m.back.cpu().numpy()
        kinds = [0 if isinstance(st, _Stage) else 1 for st in self.steps]
        index = [st.s if isinstance(st, _Stage) else st.k for st in self.steps]
        return native.Schedule(kinds, index, active, src, phase, inv, back)

    def native_forward(self, psi0: Optional[torch.Tensor], w: torch.Tensor, batch: int,
                       saved: Optional[torch.Tensor]) -> np.ndarray:
        """:meth:`forward` by the compiled sweep (the batch in chunks of :func:`_chunking`, every row
        with the same matrices): the final states as chunks ``(C, 2, 2**n, R)`` (:func:`_plane_output`
        reads them; ``saved``: every stage's output, :meth:`native_saved`)."""
        x = _start_planes(psi0, batch, _chunking(batch)[1], self.n, w.real.dtype)
        native.forward(self.schedule, x, self._lanes(w, x.shape[-1]), None if saved is None else saved.numpy())
        return x

    def native_saved(self, batch: int, w: torch.Tensor) -> torch.Tensor:
        """A buffer for every stage's output of :meth:`native_forward`: ``(S, C, 2, 2**n, R)`` real."""
        chunks, width = _chunking(batch)
        return torch.empty(self.n_stages, chunks, 2, 1 << self.n, width, dtype=w.real.dtype)

    def native_backward(self, gx: np.ndarray, w: torch.Tensor, saved: torch.Tensor, batch: int,
                        need_psi0: bool) -> tuple[torch.Tensor, Optional[torch.Tensor]]:
        """Per-wire correlations ``(S, n, 2, 2)`` (summed over the batch) and the gradient at the
        ``batch`` initial states, by the compiled sweep from the output gradient as chunks ``gx``
        (:func:`_grad_planes`; pulled back in place)."""
        corr = torch.from_numpy(native.backward(self.schedule, gx, self._lanes(w, gx.shape[-1]), saved.numpy(),
                                                need_psi0))
        corr = torch.view_as_complex(corr.sum((2, 4)).view(self.n_stages, self.n, 2, 2, 2))
        return corr, (_complex_rows(gx, batch) if need_psi0 else None)

    def _lanes(self, w: torch.Tensor, width: int) -> np.ndarray:
        """Shared stage matrices ``(S, n, 2, 2)`` complex as the sweeps' ``(S, n, 1, 8, R)``, the same in
        every lane."""
        real = torch.view_as_real(w.resolve_conj()).reshape(self.n_stages, self.n, 1, 8, 1)
        return real.expand(-1, -1, -1, -1, width).contiguous().numpy()

    def fused_forward(self, psi0: Optional[torch.Tensor], params: torch.Tensor, inputs: torch.Tensor, batch: int,
                      output: str) -> tuple[torch.Tensor, tuple]:
        """A differentiated call with rotation stages and one set of angles as one compiled call
        (:func:`~qgm.sim.native.step_forward`): the output and what :meth:`fused_backward` reads."""
        rdtype = self.expansion.rdtype  # type: ignore[union-attr]
        x = _start_planes(psi0, batch, _chunking(batch)[1], self.n, rdtype)
        saved = np.empty((self.n_stages,) + x.shape, dtype=x.dtype)
        probs = torch.empty(batch, 1 << self.n, dtype=rdtype) if output == "probs" else None
        ex = self.expansion
        w, cs = native.step_forward(self.schedule, ex.arrays, ex.values(params, inputs), x, saved,  # type: ignore
                                    None if probs is None else probs.numpy())
        return probs if probs is not None else _complex_rows(x, batch), (w, cs, x, saved)

    def fused_backward(self, g: torch.Tensor, mats: tuple, output: str,
                       need: Sequence[bool]) -> tuple[Optional[torch.Tensor], ...]:
        """∂L/∂psi0, ∂L/∂params and ∂L/∂inputs (where ``need``) of :meth:`fused_forward`, as one compiled
        call after the output gradient's conversion."""
        w, cs, x, saved = mats
        gx = _grad_planes(g, x, output, np.empty_like(x))
        ex = self.expansion
        dv = native.step_backward(self.schedule, ex.arrays, cs, w, gx, saved, need[0],  # type: ignore[union-attr]
                                  self.program.n_params + self.program.n_inputs + 1)
        d_params, d_inputs = ex.split(dv)  # type: ignore[union-attr]
        g_psi0 = _complex_rows(gx, g.shape[0]) if need[0] else None
        return g_psi0, d_params if need[1] else None, d_inputs if need[2] else None

    # -- per-row angles (compiled sweeps only) -------------------------------------
    def per_row(self, device: torch.device, batch: int, dtype: torch.dtype) -> bool:
        """Whether ``batch`` states with their own angles run here: compiled sweeps (CPU, numba), an
        expansion for the stage matrices, and the saved stage outputs within :data:`ROWS_MAX_BYTES`."""
        saved = self.n_stages * _padded(batch) * (2 << self.n) * torch.empty(0, dtype=dtype).element_size() // 2
        return self._compiled(device) and self.expansion is not None and saved <= ROWS_MAX_BYTES

    def rows_buffers(self, batch: int, rdtype: torch.dtype, name: str, count: int) -> torch.Tensor:
        """``count`` reused chunked states ``(count, C, 2, 2**n, R)`` of stack ``name`` in this
        program's workspace (no fresh state-sized memory on the hot path)."""
        chunks, width = _chunking(batch)
        return self._rows_workspace(batch, rdtype).stack(name, count).view(count, chunks, 2, 1 << self.n, width)

    def rows_forward(self, psi0: Optional[torch.Tensor], m: torch.Tensor, batch: int,
                     keep: bool) -> tuple[torch.Tensor, Optional[torch.Tensor], torch.Tensor, int]:
        """Run ``batch`` states from ``psi0`` ``(B, 2**n)`` (``None``: |0…0⟩) with per-row stage
        matrices ``m`` ``(S·n, 8, B)`` (:meth:`~qgm.sim.expansion.StageExpansion.forward_rows`), in
        the workspace's stack ``"rows"``. Returns the final state chunks ``(C, 2, 2**n, R)``,
        every stage's output (``keep``; ``(S, C, 2, 2**n, R)``), the padded matrices
        ``(S, n, C, 8, R)`` and the generation the stack was claimed with (:meth:`rows_valid`)."""
        chunks, width = _chunking(batch)
        w = torch.nn.functional.pad(m, (0, chunks * width - m.shape[-1])).view(self.n_stages, self.n, 8, chunks, width)
        w = w.permute(0, 1, 3, 2, 4).contiguous()  # chunk-major: each chunk's (8, R) contiguous
        buf = self.rows_buffers(batch, m.dtype, "rows", 1 + (self.n_stages if keep else 0))
        x = buf[0]
        _start_planes(psi0, batch, width, self.n, m.dtype, x.numpy())
        saved = buf[1:] if keep else None
        native.forward(self.schedule, x.numpy(), w.numpy(), None if saved is None else saved.numpy())
        return x, saved, w, self._rows_workspace(batch, m.dtype).claim("rows")

    def rows_valid(self, batch: int, rdtype: torch.dtype, generation: int) -> bool:
        """Whether the stack ``"rows"`` still holds what the forward pass of ``generation`` wrote."""
        return self._rows_workspace(batch, rdtype).holds("rows", generation)

    def _rows_workspace(self, batch: int, rdtype: torch.dtype) -> Workspace:
        chunks, width = _chunking(batch)
        return workspace(self, chunks, (2 << self.n) * width, rdtype, torch.device("cpu"))

    def rows_backward(self, gx: torch.Tensor, w: torch.Tensor, saved: torch.Tensor, need_psi0: bool) -> torch.Tensor:
        """Pull the output gradient chunks ``gx`` back in place (to the initial states where
        ``need_psi0``); returns every row's per-wire correlations ``(S, n, C, 8, R)``."""
        return torch.from_numpy(native.backward(self.schedule, gx.numpy(), w.numpy(), saved.numpy(), need_psi0))

    def correlations(self, grads: torch.Tensor, saved: torch.Tensor) -> torch.Tensor:
        """Per stage and wire, the partial trace of ``Σ g ⊗ conj(ψ)`` at the stage output:
        ``(S, n, 2, 2)``, summed over the batch (two batched GEMMs for all stages)."""
        s, bsz = saved.shape[:2]
        r, c = self.rows, self.cols
        rows = torch.bmm(grads.reshape(s * bsz, r, c), saved.reshape(s * bsz, r, c).mH)
        if bsz > 1:
            rows = rows.view(s, bsz, r, r).sum(1)
        cols_t = torch.bmm(saved.reshape(s, bsz * r, c).mH, grads.reshape(s, bsz * r, c))  # (Σ g ⊗ conj ψ)ᵀ
        t_rows = _traces(self.program, rows, self.h)
        t_cols = _traces(self.program, cols_t, self.n - self.h).transpose(-1, -2)
        return torch.cat([t_rows, t_cols], 1)


def _kron_all(mats: Sequence[torch.Tensor]) -> torch.Tensor:
    """``mats[0] ⊗ mats[1] ⊗ …`` over the last two dims of ``(S, 2, 2)`` factors: ``(S, 2**k, 2**k)``."""
    out = mats[0]
    s = out.shape[0]
    for m in mats[1:]:
        d = out.shape[-1]
        out = (out.view(s, d, 1, d, 1) * m.view(s, 1, 2, 1, 2)).view(s, 2 * d, 2 * d)
    return out


def _chunking(batch: int) -> tuple[int, int]:
    """Chunks and rows per chunk of the per-row sweeps for ``batch`` rows: one chunk of ``batch``
    rows up to :data:`~qgm.sim.native.ROWS`, else chunks of ``ROWS`` (the last padded)."""
    if batch <= native.ROWS:
        return 1, batch
    return -(-batch // native.ROWS), native.ROWS


def _padded(batch: int) -> int:
    """``batch`` rounded up to whole chunks of the per-row sweeps."""
    chunks, width = _chunking(batch)
    return chunks * width


def _complex_rows(x: np.ndarray, batch: int) -> torch.Tensor:
    """The first ``batch`` rows of the chunks ``x`` ``(C, 2, 2**n, R)`` as complex states ``(B, 2**n)``
    (a new tensor)."""
    out = torch.empty(batch, x.shape[2], dtype=torch.complex64 if x.dtype == np.float32 else torch.complex128)
    native.from_planes(x, out.numpy())
    return out


def _start_planes(psi0: Optional[torch.Tensor], batch: int, width: int, n: int, rdtype: torch.dtype,
                  out: Optional[np.ndarray] = None) -> np.ndarray:
    """The initial states as chunks ``(C, 2, 2**n, width)`` of ``rdtype`` (in ``out`` if given): ``psi0``
    ``(B, 2**n)``, or |0…0⟩ where ``None``."""
    if out is None:
        out = np.empty((-(-batch // width), 2, 1 << n, width), dtype=torch.empty(0, dtype=rdtype).numpy().dtype)
    if psi0 is None:
        native.zero_planes(out)
    else:
        native.to_planes(psi0.detach().resolve_conj().contiguous().numpy(), out)
    return out


def _sweep_op(st: Step, x: int, d: int) -> tuple:
    """The sweep entry of step ``st`` from buffer ``x`` into ``d`` (work buffer 2 in between): a stage
    on both halves (op 0), the row wires only (1), the column wires only (2), or a gather (3)."""
    if isinstance(st, _Mono):
        return (3, st.k, x, 2, d)
    return (0 if st.rows and st.cols else (1 if st.rows else 2), st.s, x, 2, d)


def _compose(k: int, kernels: list[tuple], n: int, program: Program, device: torch.device,
             cdtype: torch.dtype) -> Optional[_Mono]:
    """One monomial map equal to the constant kernels in order, by running them on the probe
    ``x + 1`` (amplitude ``x + 1`` at index ``x``): ``src = |ψ'| - 1``, ``phase = ψ'/|ψ'|``.
    ``None`` unless the result is a permutation with unit phases."""
    dim = 1 << n
    probe = torch.arange(1, dim + 1, dtype=torch.float64).to(torch.complex128).reshape(1, dim)
    consts = program.tensors(torch.device("cpu"), torch.float64)["consts"]
    for kernel, source in kernels:
        mat = consts[source[1]] if source[0] == "const" else None
        probe = kernel.apply(probe, mat)
    mag = probe.abs()[0]
    src = torch.round(mag).to(torch.int64) - 1
    if (mag - (src + 1)).abs().max() > 1e-9 or not torch.equal(torch.sort(src).values, torch.arange(dim)):
        return None
    phase = probe[0] / mag
    inv = torch.empty_like(src).scatter_(0, src, torch.arange(dim))
    if (phase - 1).abs().max() < 1e-15:
        return _Mono(k, src.to(device), None, inv.to(device), None)
    back = phase.conj().index_select(0, inv)
    return _Mono(k, src.to(device), phase.to(device=device, dtype=cdtype), inv.to(device),
                 back.to(device=device, dtype=cdtype))


def _build(program: Program, device: torch.device, cdtype: torch.dtype) -> Optional[CompactProgram]:
    n = program.n
    if not 2 <= n <= COMPACT_N or program.multi_gates or not program.stages_unitary:
        return None
    steps: list[Step] = []
    pending: list[tuple] = []
    members: dict[int, dict[int, int]] = {}
    h = (n + 1) // 2

    def flush() -> bool:
        if pending:
            mono = _compose(sum(isinstance(x, _Mono) for x in steps), pending, n, program, device, cdtype)
            if mono is None:
                return False
            steps.append(mono)
            pending.clear()
        return True

    for st in program.steps:
        if isinstance(st, KernelStep):
            if not isinstance(st.kernel, (PermKernel, DiagKernel)) or st.source[0] not in ("const", "none"):
                return None
            pending.append((st.kernel, st.source))
            continue
        assert isinstance(st, StageStep)
        if not flush():
            return None
        s = sum(isinstance(x, _Stage) for x in steps)
        members.setdefault(st.group, {})[st.member] = s
        steps.append(_Stage(s, tuple(st.wires), any(w < h for w in st.wires), any(w >= h for w in st.wires)))
    if not flush() or not members:
        return None
    groups = [torch.as_tensor([members[g][m] for m in sorted(members[g])], device=device)
              for g in sorted(members)]
    order = None
    if len(groups) > 1:
        flat = torch.cat(groups)  # row j of the concatenated products is stage flat[j]
        order = torch.empty_like(flat).scatter_(0, flat, torch.arange(len(flat), device=device))
    stages = sorted(((s, g, m) for g, ms in members.items() for m, s in ms.items()))
    rdtype = torch.float32 if cdtype == torch.complex64 else torch.float64
    expansion = stage_expansion(program, [(g, m) for _, g, m in stages], device, rdtype)
    return CompactProgram(program, steps, order, expansion)


def compact_program(program: Program, device: torch.device, cdtype: torch.dtype) -> Optional[CompactProgram]:
    """The program prepared for this engine (cached per device and dtype), or ``None`` where it
    does not qualify (see the module docstring)."""
    if program.n > COMPACT_N:
        return None
    key = ("compact", device, cdtype)
    cache = program._device_cache
    if key not in cache:
        cache[key] = _build(program, device, cdtype)
    return cache[key]


class _CompactNode(torch.autograd.Function):
    """What both compact nodes share: their backward pass. Under ``create_graph`` (second
    derivatives) it differentiates the program's out-of-place graph instead; otherwise the node's
    own ``first_order(ctx, g, psi0, params, inputs)`` (``ctx.node``, set by its forward)."""

    @staticmethod
    def backward(ctx, g: torch.Tensor):  # type: ignore[override]
        if torch.is_grad_enabled():
            need = ctx.needs_input_grad[4:]
            return (None,) * 4 + tuple(traced_backward(ctx.cp.program, ctx.batch, ctx.dtype, ctx.output, g,
                                                       tuple(ctx.saved_tensors), need))
        return ctx.node.first_order(ctx, g, *ctx.saved_tensors)


class CompactEvolve(_CompactNode):
    """A whole circuit as one autograd node: ``(psi0, params, inputs) -> state or |ψ|²``.

    ``params`` ``(1, P)`` and ``inputs`` ``(1, I)`` are shared by the ``batch`` states; ``psi0``
    ``(B, 2**n)`` or ``None`` (|0…0⟩). The forward pass keeps every stage's output; the backward
    pass reads ``∂L/∂m_w = H_w m_w`` for every stage and wire (``H_w``: partial trace of
    ``Σ g ⊗ conj(ψ)`` at the stage output, ``m_w`` unitary) and carries it to the angles
    (:meth:`CompactProgram.angle_grads`).
    """

    @staticmethod
    def forward(ctx, cp: CompactProgram, output: str, batch: int, dtype: torch.dtype,  # type: ignore[override]
                psi0: Optional[torch.Tensor], params: torch.Tensor, inputs: torch.Tensor):
        ctx.cp, ctx.output, ctx.batch, ctx.dtype, ctx.node = cp, output, batch, dtype, CompactEvolve
        ctx.save_for_backward(psi0, params, inputs)
        ctx.fused = cp.expansion is not None and cp.native(params.device, batch)
        if ctx.fused:
            out, ctx.mats = cp.fused_forward(psi0, params, inputs, batch, output)
            return out
        w, ex = cp.matrices(params, inputs)
        if cp.native(w.device, batch):  # final: the states as chunks of planes
            saved = cp.native_saved(batch, w)
            final = cp.native_forward(psi0, w, batch, saved)
            ctx.mats = (w, ex, None, None, saved, final)
            return _plane_output(final, batch, output)
        a, b = cp.halves(w)
        buf = cp.buffers(batch, dtype, w.device, True)
        final = cp.forward(psi0, a, b, buf)
        saved = buf[3:]
        ctx.mats = (w, ex, a, b, saved, final)
        return _output(final, output, saved)

    @staticmethod
    def first_order(ctx, g: torch.Tensor, psi0: Optional[torch.Tensor], params: torch.Tensor,
                    inputs: torch.Tensor) -> tuple:
        cp: CompactProgram = ctx.cp
        need = ctx.needs_input_grad[4:]
        if ctx.fused:
            return (None,) * 4 + cp.fused_backward(g, ctx.mats, ctx.output, need)
        w, ex, a, b, saved, final = ctx.mats
        with torch.no_grad():
            if a is None:
                gx = _grad_planes(g, final, ctx.output, np.empty_like(final))
                corr, g_psi0 = cp.native_backward(gx, w, saved, ctx.batch, need[0])
            else:
                g = (final * g).mul_(2) if ctx.output == "probs" else g
                grads, g_psi0 = cp.backward(g, a, b, need[0])
                corr = cp.correlations(grads, saved) if need[1] or need[2] else None
            d_params = d_inputs = None
            if need[1] or need[2]:
                d_params, d_inputs = cp.angle_grads(corr @ w, ex, params, inputs, (need[1], need[2]))
        return None, None, None, None, g_psi0, d_params, d_inputs


class CompactRows(_CompactNode):
    """A batch with its own angles per row as one autograd node, on the compiled per-row sweeps:
    ``(psi0, params, inputs) -> state or |ψ|²`` with ``params`` ``(Bp, P)`` and ``inputs``
    ``(Bi, I)`` (``Bp, Bi`` in ``{1, B}``, one of them ``B``). The backward pass reads every row's
    ``∂L/∂m_w = H_w m_w`` and carries it to the angles in closed form (the expansion)."""

    @staticmethod
    def forward(ctx, cp: CompactProgram, output: str, batch: int, dtype: torch.dtype,  # type: ignore[override]
                psi0: Optional[torch.Tensor], params: torch.Tensor, inputs: torch.Tensor):
        m, ex = cp.expansion.forward_rows(params, inputs)  # type: ignore[union-attr]
        x, _, w, generation = cp.rows_forward(psi0, m, batch, keep=True)
        ctx.cp, ctx.output, ctx.batch, ctx.dtype, ctx.node = cp, output, batch, dtype, CompactRows
        ctx.mats = (m, ex, w, generation)
        ctx.save_for_backward(psi0, params, inputs)
        return _plane_output(x.numpy(), batch, output)

    @staticmethod
    def first_order(ctx, g: torch.Tensor, psi0: Optional[torch.Tensor], params: torch.Tensor,
                    inputs: torch.Tensor) -> tuple:
        cp: CompactProgram = ctx.cp
        need = ctx.needs_input_grad[4:]
        m, ex, w, generation = ctx.mats
        with torch.no_grad():
            if not cp.rows_valid(ctx.batch, m.dtype, generation):  # a later call reused the buffers
                cp.rows_forward(psi0, m, ctx.batch, keep=True)
            buf = cp.rows_buffers(ctx.batch, m.dtype, "rows", 1 + cp.n_stages)
            x, saved = buf[0], buf[1:]
            gx = cp.rows_buffers(ctx.batch, m.dtype, "rows_grad", 1)[0]
            _grad_planes(g, x.numpy(), ctx.output, gx.numpy())
            corr = cp.rows_backward(gx, w, saved, need[0])
            g_psi0 = _complex_rows(gx.numpy(), ctx.batch) if need[0] else None
            d_params = d_inputs = None
            if need[1] or need[2]:
                d_params, d_inputs = cp.expansion.backward_rows(_row_products(corr, w, ctx.batch), ex)
        return None, None, None, None, g_psi0, d_params if need[1] else None, d_inputs if need[2] else None


def _row_products(corr: torch.Tensor, w: torch.Tensor, batch: int) -> torch.Tensor:
    """Every row's ``H_w m_w`` from the correlations and matrices ``(S, n, C, 8, R)`` (real and
    imaginary parts, chunk-major), as ``(S·n, 8, B)``."""
    s, n, c, _, r = corr.shape

    def complex_rows(t: torch.Tensor) -> torch.Tensor:
        t = t.view(s * n, c, 2, 2, 2, r).permute(0, 1, 5, 2, 3, 4).contiguous()
        return torch.view_as_complex(t).view(s * n, c * r, 2, 2)

    prod = torch.view_as_real(complex_rows(corr) @ complex_rows(w))  # (S·n, C·R, 2, 2, 2)
    return prod.permute(0, 2, 3, 4, 1).reshape(s * n, 8, c * r)[..., :batch]


def _plane_output(x: np.ndarray, batch: int, output: str) -> torch.Tensor:
    """States ``(B, 2**n)`` or ``|ψ|²`` from the compiled sweeps' final chunks ``(C, 2, 2**n, R)``."""
    if output == "probs":
        out = torch.empty(batch, x.shape[2], dtype=torch.from_numpy(x[:0]).dtype)
        native.born(x, out.numpy())
        return out
    return _complex_rows(x, batch)


def _grad_planes(g: torch.Tensor, x: np.ndarray, output: str, out: np.ndarray) -> np.ndarray:
    """The output gradient as chunks in ``out`` (shaped as the final chunks ``x``): ``∂L/∂ψ`` as it is,
    or ``2 ψ ∂L/∂|ψ|²`` for ``"probs"``."""
    if output == "probs":
        native.born_grad(x, g.to(torch.from_numpy(x[:0]).dtype).contiguous().numpy(), out)
    else:
        native.to_planes(g.resolve_conj().contiguous().numpy(), out)
    return out


def _output(final: torch.Tensor, output: str, saved: Optional[torch.Tensor]) -> torch.Tensor:
    """The call's result from the final state ``(B, 2**n)``, a row of the call's buffers: ``|ψ|²``,
    or the state as a copy where the buffers are not kept anyway (no ``saved``) or the row is one
    the backward pass reads."""
    if output == "probs":
        return born_into(final)
    kept = saved is not None and saved.numel() and final.data_ptr() >= saved.data_ptr() \
        and final.data_ptr() < saved.data_ptr() + saved.numel() * saved.element_size()
    return final.clone() if kept or saved is None else final


def compact_evolve(cp: CompactProgram, psi0: Optional[torch.Tensor], params: torch.Tensor, inputs: torch.Tensor,
                   batch: int, dtype: torch.dtype, output: str) -> torch.Tensor:
    """Final states ``(B, 2**n)`` or their probabilities with this engine (one autograd node when
    anything requires grad); arguments as :func:`~qgm.sim.executable.evolve_params` (per-row
    ``params``/``inputs`` only where :meth:`CompactProgram.per_row` holds)."""
    grad = torch.is_grad_enabled() and (
        (psi0 is not None and psi0.requires_grad) or params.requires_grad or inputs.requires_grad)
    per_row = max(params.shape[0], inputs.shape[0]) > 1
    if grad:
        node = CompactRows if per_row else CompactEvolve
        return node.apply(cp, output, batch, dtype, psi0, params, inputs)
    with torch.no_grad():
        if per_row:
            m = cp.expansion.forward_rows(params, inputs)[0]  # type: ignore[union-attr]
            return _plane_output(cp.rows_forward(psi0, m, batch, keep=False)[0].numpy(), batch, output)
        w = cp.matrices(params, inputs)[0]
        if cp.native(w.device, batch):
            return _plane_output(cp.native_forward(psi0, w, batch, None), batch, output)
        a, b = cp.halves(w)
        return _output(cp.forward(psi0, a, b, cp.buffers(batch, dtype, a.device, False)), output, None)
