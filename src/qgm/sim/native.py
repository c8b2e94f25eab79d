"""Compiled CPU sweeps of the whole-step small-n engine (optional: numba, the ``fast`` extra).

At ``n <= COMPACT_N`` a state is a few KiB and the PyTorch sweep of
:mod:`qgm.sim.compact` spends its time dispatching ~100 small operations (Kronecker
products of the stage matrices, two GEMMs per stage, gathers, the batched
correlations). These two compiled functions do the same work in one call each, in
place, wire by wire (each stage's 2×2 matrices applied to amplitude pairs, no
Kronecker products):

* :func:`forward`: every step from the initial states, every stage's output kept;
* :func:`backward`: the gradient pulled back through every step, with the per-wire
  2×2 correlations ``H_w = Σ g ⊗ conj(ψ)`` (partial trace onto wire ``w``) taken at
  every stage's output.

They run on CPU tensors (NumPy views, no copies) of complex128 or complex64; CUDA
and a machine without numba use the PyTorch sweep. Both paths compute the same maps
(``tests/sim/test_compact.py`` runs the engine both ways).

A batch with its own angles per row (:func:`forward_rows`, :func:`backward_rows`)
runs in chunks of ``R`` (up to :data:`ROWS`) states held as real and imaginary
planes with the row innermost, ``(2, 2**n, R)``: every pair operation then runs on
``R`` independent rows with their own matrices (``(8, R)`` per chunk, wire and
stage: real and imaginary parts of ``m00, m01, m10, m11``), and a block of pairs is
four ``(stride, R)`` views, which the compiler vectorises.
"""
from __future__ import annotations

from typing import Optional

import numpy as np

try:  # the ``fast`` extra
    import numba
except ImportError:  # pragma: no cover - exercised where numba is absent
    numba = None

__all__ = ["AVAILABLE", "ROWS", "Schedule", "forward", "backward", "forward_rows", "backward_rows", "born_rows"]

#: Whether the compiled sweeps can run here.
AVAILABLE = numba is not None
#: Most states per chunk of the per-row sweeps: the compiled row loop vectorises from about 32 rows
#: (A(10, 10) forward and gradient: 0.3 ms per row at 32, 2.1 ms at 16, 1.3 ms at 8 — scalar code).
ROWS = 32


class Schedule:
    """The steps of a compact program as arrays the compiled sweeps read.

    ``kinds[i]``: 0 stage, 1 monomial map; ``index[i]``: the stage or map number;
    ``active[s, w]``: wire ``w`` carries a gate in stage ``s``; ``src``/``phase`` and
    ``inv``/``back``: every map's gather and phases ``(M, 2**n)`` (ones where it has none).
    """

    def __init__(self, kinds: list[int], index: list[int], active: np.ndarray, src: np.ndarray,
                 phase: np.ndarray, inv: np.ndarray, back: np.ndarray) -> None:
        self.kinds = np.asarray(kinds, dtype=np.int64)
        self.index = np.asarray(index, dtype=np.int64)
        self.active = np.ascontiguousarray(active, dtype=np.bool_)
        self.src, self.inv = np.ascontiguousarray(src), np.ascontiguousarray(inv)
        self.plain = np.all(phase == 1, axis=1)  # maps without phases: a plain copy
        self._phases = {np.dtype(np.complex128): (phase, back)}

    def phases(self, dtype: np.dtype) -> tuple[np.ndarray, np.ndarray]:
        """The forward and adjoint phases in ``dtype`` (cached)."""
        if dtype not in self._phases:
            ph, bk = self._phases[np.dtype(np.complex128)]
            self._phases[dtype] = (ph.astype(dtype), bk.astype(dtype))
        return self._phases[dtype]

    def planes(self, dtype: np.dtype) -> tuple[np.ndarray, np.ndarray]:
        """The forward and adjoint phases as real planes ``(M, 2, 2**n)`` of the real ``dtype``."""
        cdtype = np.result_type(dtype, np.complex64)
        return tuple(np.ascontiguousarray(np.stack([p.real, p.imag], 1), dtype=dtype)  # type: ignore[return-value]
                     for p in self.phases(cdtype))


def forward(sched: Schedule, psi0: np.ndarray, w: np.ndarray, saved: Optional[np.ndarray],
            probs: Optional[np.ndarray] = None) -> np.ndarray:
    """Final states ``(B, 2**n)`` from ``psi0`` ``(B, 2**n)`` with stage matrices ``w`` ``(S, n, 2, 2)``;
    ``saved`` ``(S, B, 2**n)`` (or ``None``) receives every stage's output, ``probs`` ``(B, 2**n)``
    (real, or ``None``) the Born probabilities ``|ψ|²`` of the final states."""
    phase, _ = sched.phases(w.dtype)
    keep, born = saved is not None, probs is not None
    out = saved if keep else np.empty((0,) + psi0.shape, dtype=w.dtype)
    p = probs if born else np.empty((0, 0), dtype=w.real.dtype)
    return _forward(psi0, w, sched.kinds, sched.index, sched.active, sched.src, phase, out, keep, p, born)


def backward(sched: Schedule, g: np.ndarray, w: np.ndarray, saved: np.ndarray,
             need_start: bool) -> tuple[np.ndarray, Optional[np.ndarray]]:
    """Per-wire correlations ``(S, n, 2, 2)`` at every stage's output and (``need_start``) the
    gradient at the initial states ``(B, 2**n)``, from the output gradient ``g``."""
    _, back = sched.phases(w.dtype)
    corr = np.zeros(w.shape, dtype=w.dtype)
    start = _backward(g, w, sched.kinds, sched.index, sched.active, sched.inv, back, saved, corr, need_start)
    return corr, (start if need_start else None)


def _jit(fn):
    return numba.njit(cache=True, nogil=True)(fn) if AVAILABLE else fn


@_jit
def _apply_wire(x, m00, m01, m10, m11, n, q):  # pragma: no cover - compiled
    """``x ← (I ⊗ m ⊗ I) x`` on wire ``q`` (wire 0 most significant), for every row of ``x``."""
    stride = 1 << (n - 1 - q)
    dim = x.shape[1]
    for b in range(x.shape[0]):
        for base in range(0, dim, 2 * stride):
            for j in range(base, base + stride):
                a0 = x[b, j]
                a1 = x[b, j + stride]
                x[b, j] = m00 * a0 + m01 * a1
                x[b, j + stride] = m10 * a0 + m11 * a1


@_jit
def _gather(x, out, src, phase):  # pragma: no cover - compiled
    """``out[b, y] = phase[y] · x[b, src[y]]``."""
    for b in range(x.shape[0]):
        for y in range(x.shape[1]):
            out[b, y] = phase[y] * x[b, src[y]]


@_jit
def _forward(psi0, w, kinds, index, active, src, phase, saved, keep, probs, born):  # pragma: no cover - compiled
    n = w.shape[1]
    cur = psi0.copy()
    tmp = np.empty_like(cur)
    for i in range(kinds.shape[0]):
        k = index[i]
        if kinds[i] == 0:
            for q in range(n):
                if active[k, q]:
                    _apply_wire(cur, w[k, q, 0, 0], w[k, q, 0, 1], w[k, q, 1, 0], w[k, q, 1, 1], n, q)
            if keep:
                saved[k] = cur
        else:
            _gather(cur, tmp, src[k], phase[k])
            cur, tmp = tmp, cur
    if born:
        for b in range(cur.shape[0]):
            for x in range(cur.shape[1]):
                probs[b, x] = cur[b, x].real ** 2 + cur[b, x].imag ** 2
    return cur


@_jit
def _correlate(g, y, n, q, out):  # pragma: no cover - compiled
    """``out += Σ g ⊗ conj(y)`` partially traced onto wire ``q``: ``(2, 2)``."""
    stride = 1 << (n - 1 - q)
    dim = g.shape[1]
    h00 = h01 = h10 = h11 = 0j
    for b in range(g.shape[0]):
        for base in range(0, dim, 2 * stride):
            for j in range(base, base + stride):
                g0, g1 = g[b, j], g[b, j + stride]
                y0, y1 = y[b, j].conjugate(), y[b, j + stride].conjugate()
                h00 += g0 * y0
                h01 += g0 * y1
                h10 += g1 * y0
                h11 += g1 * y1
    out[0, 0] += h00
    out[0, 1] += h01
    out[1, 0] += h10
    out[1, 1] += h11


@_jit
def _backward(g, w, kinds, index, active, inv, back, saved, corr, need_start):  # pragma: no cover - compiled
    n = w.shape[1]
    cur = g.copy()
    tmp = np.empty_like(cur)
    for i in range(kinds.shape[0] - 1, -1, -1):
        k = index[i]
        if kinds[i] == 0:
            for q in range(n):
                if active[k, q]:
                    _correlate(cur, saved[k], n, q, corr[k, q])
            if i == 0 and not need_start:
                break
            for q in range(n):  # the stage's adjoint: every wire's m†
                if active[k, q]:
                    m = w[k, q]
                    _apply_wire(cur, m[0, 0].conjugate(), m[1, 0].conjugate(), m[0, 1].conjugate(),
                                m[1, 1].conjugate(), n, q)
        else:
            _gather(cur, tmp, inv[k], back[k])
            cur, tmp = tmp, cur
    return cur


def forward_rows(sched: Schedule, x: np.ndarray, w: np.ndarray, saved: Optional[np.ndarray]) -> None:
    """Run every step on the state chunks ``x`` ``(C, 2, 2**n, R)`` in place with the per-row stage
    matrices ``w`` ``(S, n, C, 8, R)`` (chunk ``c``'s rows last); ``saved``
    ``(S, C, 2, 2**n, R)`` (or ``None``) receives every stage's output."""
    phase, _ = sched.planes(x.dtype)
    keep = saved is not None
    out = saved if keep else np.empty((0,) + x.shape, dtype=x.dtype)
    _rows_forward(x, w, sched.kinds, sched.index, sched.active, sched.src, phase, sched.plain, out, keep)


def backward_rows(sched: Schedule, g: np.ndarray, w_adj: np.ndarray, saved: np.ndarray,
                  need_start: bool) -> np.ndarray:
    """Pull the output gradients ``g`` (chunks as :func:`forward_rows`) back in place to the initial
    states (where ``need_start``) with the adjoint stage matrices ``w_adj``; returns every row's
    per-wire correlations ``Σ g ⊗ conj(ψ)`` at every stage's output, ``(S, n, C, 8, R)`` real."""
    _, back = sched.planes(g.dtype)
    corr = np.zeros(w_adj.shape, dtype=g.dtype)
    _rows_backward(g, w_adj, sched.kinds, sched.index, sched.active, sched.inv, back, sched.plain, saved,
                   corr, need_start)
    return corr


def born_rows(x: np.ndarray, out: np.ndarray) -> None:
    """``out[b] = |ψ_b|²`` ``(B, 2**n)`` from the chunks ``x`` ``(C, 2, 2**n, R)`` (row ``b`` =
    ``c·R + i``; padding rows skipped)."""
    _born_rows(x, out)


@_jit
def _born_rows(x, out):  # pragma: no cover - compiled
    bc = x.shape[3]
    for b in range(out.shape[0]):
        c, i = b // bc, b % bc
        for y in range(x.shape[2]):
            out[b, y] = x[c, 0, y, i] ** 2 + x[c, 1, y, i] ** 2


def _jit_fma(fn):
    return numba.njit(cache=True, nogil=True, fastmath={"contract"})(fn) if AVAILABLE else fn


@_jit_fma
def _apply_rows(x, m, n, q):  # pragma: no cover - compiled
    """Wire ``q`` on one chunk ``x`` ``(2, 2**n, R)``, row ``i`` with the matrix ``m[:, i]`` ``(8, R)``.
    Each block of pairs is four ``(stride, R)`` views, so the row loop vectorises."""
    dim, bc = x.shape[1], x.shape[2]
    stride = 1 << (n - 1 - q)
    for base in range(0, dim, 2 * stride):
        a_r, a_i = x[0, base : base + stride], x[1, base : base + stride]
        b_r, b_i = x[0, base + stride : base + 2 * stride], x[1, base + stride : base + 2 * stride]
        for t in range(stride):
            for i in range(bc):
                pr, pi, rr, ri = a_r[t, i], a_i[t, i], b_r[t, i], b_i[t, i]
                a_r[t, i] = m[0, i] * pr - m[1, i] * pi + m[2, i] * rr - m[3, i] * ri
                a_i[t, i] = m[0, i] * pi + m[1, i] * pr + m[2, i] * ri + m[3, i] * rr
                b_r[t, i] = m[4, i] * pr - m[5, i] * pi + m[6, i] * rr - m[7, i] * ri
                b_i[t, i] = m[4, i] * pi + m[5, i] * pr + m[6, i] * ri + m[7, i] * rr


@_jit_fma
def _gather_rows(x, out, src, ph, plain):  # pragma: no cover - compiled
    """``out[:, y] = ph[y] · x[:, src[y]]`` on one chunk (real and imaginary planes)."""
    for y in range(x.shape[1]):
        z = src[y]
        if plain:
            for i in range(x.shape[2]):
                out[0, y, i] = x[0, z, i]
                out[1, y, i] = x[1, z, i]
        else:
            c, d = ph[0, y], ph[1, y]
            for i in range(x.shape[2]):
                out[0, y, i] = c * x[0, z, i] - d * x[1, z, i]
                out[1, y, i] = c * x[1, z, i] + d * x[0, z, i]


@_jit_fma
def _correlate_rows(g, y, n, q, acc):  # pragma: no cover - compiled
    """``acc[:, i] += Σ g ⊗ conj(y)`` traced onto wire ``q``, per row ``i`` of the chunk ``(8, R)``."""
    dim, bc = g.shape[1], g.shape[2]
    stride = 1 << (n - 1 - q)
    for base in range(0, dim, 2 * stride):
        g0r, g0i = g[0, base : base + stride], g[1, base : base + stride]
        g1r, g1i = g[0, base + stride : base + 2 * stride], g[1, base + stride : base + 2 * stride]
        y0r, y0i = y[0, base : base + stride], y[1, base : base + stride]
        y1r, y1i = y[0, base + stride : base + 2 * stride], y[1, base + stride : base + 2 * stride]
        for t in range(stride):
            for i in range(bc):
                acc[0, i] += g0r[t, i] * y0r[t, i] + g0i[t, i] * y0i[t, i]
                acc[1, i] += g0i[t, i] * y0r[t, i] - g0r[t, i] * y0i[t, i]
                acc[2, i] += g0r[t, i] * y1r[t, i] + g0i[t, i] * y1i[t, i]
                acc[3, i] += g0i[t, i] * y1r[t, i] - g0r[t, i] * y1i[t, i]
                acc[4, i] += g1r[t, i] * y0r[t, i] + g1i[t, i] * y0i[t, i]
                acc[5, i] += g1i[t, i] * y0r[t, i] - g1r[t, i] * y0i[t, i]
                acc[6, i] += g1r[t, i] * y1r[t, i] + g1i[t, i] * y1i[t, i]
                acc[7, i] += g1i[t, i] * y1r[t, i] - g1r[t, i] * y1i[t, i]


@_jit_fma
def _rows_forward(x, w, kinds, index, active, src, phase, plain, saved, keep):  # pragma: no cover - compiled
    n = w.shape[1]
    tmp = np.empty_like(x[0])
    for c in range(x.shape[0]):
        cur, other = x[c], tmp
        for st in range(kinds.shape[0]):
            k = index[st]
            if kinds[st] == 0:
                for q in range(n):
                    if active[k, q]:
                        _apply_rows(cur, w[k, q, c], n, q)
                if keep:
                    saved[k, c] = cur
            else:
                _gather_rows(cur, other, src[k], phase[k], plain[k])
                cur, other = other, cur
        if cur.ctypes.data != x[c].ctypes.data:
            x[c] = cur


@_jit_fma
def _rows_backward(x, w_adj, kinds, index, active, inv, back, plain, saved, corr, need_start):  # pragma: no cover
    n = w_adj.shape[1]
    tmp = np.empty_like(x[0])
    for c in range(x.shape[0]):
        cur, other = x[c], tmp
        for st in range(kinds.shape[0] - 1, -1, -1):
            k = index[st]
            if kinds[st] == 0:
                for q in range(n):
                    if active[k, q]:
                        _correlate_rows(cur, saved[k, c], n, q, corr[k, q, c])
                if st == 0 and not need_start:
                    break
                for q in range(n):
                    if active[k, q]:
                        _apply_rows(cur, w_adj[k, q, c], n, q)
            else:
                _gather_rows(cur, other, inv[k], back[k], plain[k])
                cur, other = other, cur
        if cur.ctypes.data != x[c].ctypes.data:
            x[c] = cur
