"""Compiled CPU sweeps of the whole-step small-n engine (optional: numba, the ``fast`` extra).

At ``n <= COMPACT_N`` a state is a few KiB and the PyTorch sweep of
:mod:`qgm.sim.compact` spends its time dispatching ~100 small operations (Kronecker
products of the stage matrices, two GEMMs per stage, gathers, the batched
correlations). These compiled functions do the same work in one call each, in
place, wire by wire (each stage's 2×2 matrices applied to amplitude pairs, no
Kronecker products):

* :func:`forward`: every step from the initial states, every stage's output kept;
* :func:`backward`: the gradient pulled back through every step, with the per-wire
  2×2 correlations ``H_w = Σ g ⊗ conj(ψ)`` (partial trace onto wire ``w``) taken at
  every stage's output;
* :func:`expand` / :func:`expand_grad`: the closed-form stage matrices of rotation
  layers (:mod:`qgm.sim.expansion`) and their angle gradients.

States are held in chunks of ``R`` rows as real and imaginary planes with the row
innermost, ``(C, 2, 2**n, R)``; every wire's block of pairs is four ``(stride, R)``
views, so the compiler vectorises the row loop (up to :data:`ROWS` rows with their
own matrices: a batch with per-row angles) or, with one row per chunk (shared
angles), the loop over a block's pairs. Matrices are ``(S, n, Cw, 8, R)`` (real and
imaginary parts of ``m00, m01, m10, m11``; ``Cw = 1``: one set for every chunk).

They run on CPU arrays (NumPy views of tensors) of float64 or float32 (complex128 or
complex64 states); CUDA and a machine without numba use the PyTorch sweep. Both
paths compute the same maps (``tests/sim/test_compact.py`` runs the engine both
ways).
"""
from __future__ import annotations

from typing import Optional

import numpy as np

try:  # the ``fast`` extra
    import numba
except ImportError:  # pragma: no cover - exercised where numba is absent
    numba = None

__all__ = ["AVAILABLE", "ROWS", "Schedule", "forward", "backward", "born", "born_grad", "to_planes", "from_planes",
           "zero_planes", "expand", "expand_grad", "step_forward", "step_backward"]

#: Whether the compiled sweeps can run here.
AVAILABLE = numba is not None
#: Most rows per chunk with per-row matrices: the compiled row loop vectorises from about 32 rows
#: (A(10, 10) forward and gradient: 0.3 ms per row at 32, 2.1 ms at 16, 1.3 ms at 8 — scalar code).
ROWS = 32


def _jit(fn=None, **flags):
    """``numba.njit`` (cached, no GIL) where numba is installed; ``fn`` itself otherwise."""
    if fn is None:
        return lambda f: _jit(f, **flags)
    return numba.njit(cache=True, nogil=True, **flags)(fn) if AVAILABLE else fn


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
        self._complex = (phase, back)
        self._planes: dict[np.dtype, tuple[np.ndarray, np.ndarray]] = {}

    def planes(self, dtype: np.dtype) -> tuple[np.ndarray, np.ndarray]:
        """The forward and adjoint phases as real planes ``(M, 2, 2**n)`` of the real ``dtype`` (cached)."""
        key = np.dtype(dtype)
        if key not in self._planes:
            self._planes[key] = tuple(np.ascontiguousarray(np.stack([p.real, p.imag], 1), dtype=key)  # type: ignore
                                      for p in self._complex)
        return self._planes[key]


def forward(sched: Schedule, x: np.ndarray, w: np.ndarray, saved: Optional[np.ndarray]) -> None:
    """Run every step on the state chunks ``x`` ``(C, 2, 2**n, R)`` in place with the stage matrices
    ``w`` ``(S, n, Cw, 8, R)``; ``saved`` ``(S, C, 2, 2**n, R)`` (or ``None``) receives every
    stage's output."""
    phase, _ = sched.planes(x.dtype)
    keep = saved is not None
    out = saved if keep else np.empty((0,) + x.shape, dtype=x.dtype)
    _sweep_forward(x, w, sched.kinds, sched.index, sched.active, sched.src, phase, sched.plain, out, keep)


def backward(sched: Schedule, g: np.ndarray, w: np.ndarray, saved: np.ndarray, need_start: bool) -> np.ndarray:
    """Pull the output gradients ``g`` (chunks as :func:`forward`) back in place to the initial
    states (where ``need_start``) through the adjoints of the stage matrices ``w`` (as
    :func:`forward`); returns every row's per-wire correlations ``Σ g ⊗ conj(ψ)`` at every stage's
    output, ``(S, n, C, 8, R)`` real."""
    _, back = sched.planes(g.dtype)
    corr = np.zeros(w.shape[:2] + (g.shape[0],) + w.shape[3:], dtype=g.dtype)
    _sweep_backward(g, _adjoint(w), sched.kinds, sched.index, sched.active, sched.inv, back, sched.plain, saved,
                    corr, need_start)
    return corr


def to_planes(z: np.ndarray, x: np.ndarray) -> None:
    """Complex rows ``z`` ``(B, 2**n)`` into the chunks ``x`` ``(C, 2, 2**n, R)`` (zero rows after ``B``)."""
    _to_planes(z, x, x, False)


def from_planes(x: np.ndarray, z: np.ndarray) -> None:
    """The first ``B`` rows of the chunks ``x`` into complex rows ``z`` ``(B, 2**n)``."""
    _from_planes(x, z, np.empty((0, 0), dtype=x.dtype))


def zero_planes(x: np.ndarray) -> None:
    """Every row of the chunks ``x`` set to |0…0⟩."""
    x[:] = 0.0
    x[:, 0, 0, :] = 1.0


def born_grad(x: np.ndarray, g: np.ndarray, out: np.ndarray) -> None:
    """``∂L/∂ψ = 2 ψ ∂L/∂|ψ|²`` into the chunks ``out`` from the final chunks ``x`` and ``g`` ``(B, 2**n)``
    real (zero rows after ``B``)."""
    _to_planes(g, out, x, True)


def born(x: np.ndarray, out: np.ndarray) -> None:
    """``out[b] = |ψ_b|²`` ``(B, 2**n)`` from the chunks ``x`` ``(C, 2, 2**n, R)`` (row ``b`` =
    ``c·R + i``; padding rows skipped)."""
    _from_planes(x, np.empty((0, 0), dtype=np.result_type(x.dtype, np.complex64)), out)


@_jit
def _to_planes(z, x, psi, born):  # pragma: no cover - compiled
    """Rows ``z`` ``(B, 2**n)`` into the chunks ``x`` (zero rows after ``B``): complex ``z`` as they are,
    or (``born``) real ``z = ∂L/∂|ψ|²`` as ``2 ψ z`` with ``ψ`` the chunks ``psi``."""
    bc = x.shape[3]
    x[:] = 0.0
    for b in range(z.shape[0]):
        c, i = b // bc, b % bc
        for y in range(z.shape[1]):
            if born:
                x[c, 0, y, i] = 2.0 * psi[c, 0, y, i] * z[b, y].real
                x[c, 1, y, i] = 2.0 * psi[c, 1, y, i] * z[b, y].real
            else:
                x[c, 0, y, i] = z[b, y].real
                x[c, 1, y, i] = z[b, y].imag


@_jit
def _from_planes(x, z, p):  # pragma: no cover - compiled
    """The first rows of the chunks ``x`` as complex states into ``z`` and/or as ``|ψ|²`` into ``p``
    (each ``(B, 2**n)``, or empty where not wanted)."""
    bc = x.shape[3]
    for b in range(max(z.shape[0], p.shape[0])):
        c, i = b // bc, b % bc
        for y in range(x.shape[2]):
            re, im = x[c, 0, y, i], x[c, 1, y, i]
            if z.shape[0]:
                z[b, y] = complex(re, im)
            if p.shape[0]:
                p[b, y] = re * re + im * im


@_jit
def _adjoint(w):  # pragma: no cover - compiled
    """``m†`` of every matrix of ``w`` ``(S, n, Cw, 8, R)``: ``(a, b; c, d)† = (ā, c̄; b̄, d̄)``."""
    out = np.empty_like(w)
    for e, (src, sign) in enumerate(((0, 1.0), (1, -1.0), (4, 1.0), (5, -1.0), (2, 1.0), (3, -1.0), (6, 1.0),
                                     (7, -1.0))):
        out[:, :, :, e, :] = sign * w[:, :, :, src, :]
    return out


def expand(v: np.ndarray, slot: np.ndarray, half_scale: np.ndarray, half_offset: np.ndarray, fidx: np.ndarray,
           basis: np.ndarray, out: np.ndarray) -> np.ndarray:
    """The closed-form stage matrices of :class:`~qgm.sim.expansion.StageExpansion` in one call: every
    rotation's ``(cos, sin)`` of ``offset/2 + v[slot]·scale/2`` (returned, ``(R + 1, 2)``, the last row
    ``(1, 0)`` for constant factors) and ``out[slot] = Σ_t Π_k f_k[t_k] basis[slot, t]`` ``(slots, 8)``;
    ``fidx`` ``(slots, D)`` names each factor's row."""
    cs = np.empty((half_scale.shape[0] + 1, 2), dtype=out.dtype)
    _expand(v, slot, half_scale, half_offset, fidx, basis, cs, out)
    return cs


def expand_grad(g: np.ndarray, cs: np.ndarray, slot: np.ndarray, half_scale: np.ndarray, fidx: np.ndarray,
                basis: np.ndarray, n_values: int) -> np.ndarray:
    """∂L/∂v ``(n_values,)`` from the stage matrices' gradient ``g`` ``(slots, 8)`` (real parts of
    PyTorch's complex convention) and :func:`expand`'s ``cs``."""
    dv = np.zeros(n_values, dtype=g.dtype)
    _expand_grad(g, cs, slot, half_scale, fidx, basis, dv)
    return dv


def step_forward(sched: Schedule, arrays: tuple, v: np.ndarray, x: np.ndarray, saved: np.ndarray,
                 probs: Optional[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """One set of angles, one call: :func:`expand` from ``v`` with the expansion's ``arrays`` (slot,
    half scale and offset, factor rows, basis), :func:`forward` on the chunks ``x`` ``(B, 2, 2**n, 1)``
    keeping every stage's output in ``saved``, and (``probs`` given) :func:`born`. Returns the
    stage matrices ``(S·n, 8)`` and the ``(cos, sin)`` table :func:`step_backward` reads."""
    slot, scale, offset, fidx, basis = arrays
    w = np.empty((basis.shape[0], 8), dtype=x.dtype)
    cs = np.empty((scale.shape[0] + 1, 2), dtype=x.dtype)
    phase, _ = sched.planes(x.dtype)
    born = probs is not None
    _step_forward(v, slot, scale, offset, fidx, basis, cs, w, x, sched.kinds, sched.index, sched.active, sched.src,
                  phase, sched.plain, saved, probs if born else np.empty((0, 0), dtype=x.dtype), born)
    return w, cs


def step_backward(sched: Schedule, arrays: tuple, cs: np.ndarray, w: np.ndarray, gx: np.ndarray, saved: np.ndarray,
                  need_start: bool, n_values: int) -> np.ndarray:
    """The backward pass of :func:`step_forward` in one call: the output gradient chunks ``gx`` pulled
    back in place (to the initial states where ``need_start``), every stage's correlations summed
    over the batch, ``H_w m_w``, and :func:`expand_grad`. Returns ∂L/∂v ``(n_values,)``."""
    slot, scale, _, fidx, basis = arrays
    _, back = sched.planes(gx.dtype)
    dv = np.zeros(n_values, dtype=gx.dtype)
    _step_backward(gx, w, sched.kinds, sched.index, sched.active, sched.inv, back, sched.plain, saved, need_start,
                   cs, slot, scale, fidx, basis, dv)
    return dv


@_jit
def _step_forward(v, slot, scale, offset, fidx, basis, cs, w, x, kinds, index, active, src, phase, plain, saved,
                  probs, born):  # pragma: no cover - compiled
    _expand(v, slot, scale, offset, fidx, basis, cs, w)
    _sweep_forward(x, _lanes(w, active.shape, x.shape[3]), kinds, index, active, src, phase, plain, saved, True)
    if born:
        _from_planes(x, np.empty((0, 0), dtype=np.complex128), probs)  # probabilities only


@_jit
def _lanes(w, shape, width):  # pragma: no cover - compiled
    """Shared matrices ``(S·n, 8)`` as the sweeps' ``(S, n, 1, 8, width)``, the same in every lane."""
    stages, n = shape
    out = np.empty((stages, n, 1, 8, width), dtype=w.dtype)
    for s in range(stages):
        for q in range(n):
            for e in range(8):
                out[s, q, 0, e, :] = w[s * n + q, e]
    return out


@_jit
def _step_backward(gx, w, kinds, index, active, inv, back, plain, saved, need_start, cs, slot, scale, fidx, basis,
                   dv):  # pragma: no cover - compiled
    stages, n = active.shape
    corr = np.zeros((stages, n, gx.shape[0], 8, gx.shape[3]), dtype=gx.dtype)
    _sweep_backward(gx, _adjoint(_lanes(w, active.shape, gx.shape[3])), kinds, index, active, inv, back, plain,
                    saved, corr, need_start)
    g = np.empty_like(w)
    h = np.empty(8, dtype=w.dtype)
    for s in range(stages):
        for q in range(n):
            for e in range(8):  # summed over the batch: every chunk and lane
                h[e] = corr[s, q, :, e, :].sum()
            m = w[s * n + q]
            for r in range(2):  # (H m)[r, c] = Σ_k H[r, k] m[k, c], real and imaginary parts
                for c in range(2):
                    re = im = 0.0
                    for k in range(2):
                        hr, hi = h[4 * r + 2 * k], h[4 * r + 2 * k + 1]
                        mr, mi = m[4 * k + 2 * c], m[4 * k + 2 * c + 1]
                        re += hr * mr - hi * mi
                        im += hr * mi + hi * mr
                    g[s * n + q, 4 * r + 2 * c] = re
                    g[s * n + q, 4 * r + 2 * c + 1] = im
    _expand_grad(g, cs, slot, scale, fidx, basis, dv)


@_jit
def _expand(v, slot, half_scale, half_offset, fidx, basis, cs, out):  # pragma: no cover - compiled
    n_rot = half_scale.shape[0]
    for r in range(n_rot):
        h = half_offset[r] + v[slot[r]] * half_scale[r]
        cs[r, 0], cs[r, 1] = np.cos(h), np.sin(h)
    cs[n_rot, 0], cs[n_rot, 1] = 1.0, 0.0
    depth, terms = fidx.shape[1], basis.shape[1]
    for sl in range(out.shape[0]):
        out[sl, :] = 0.0
        for t in range(terms):
            coef = 1.0
            for k in range(depth):
                coef *= cs[fidx[sl, k], (t >> k) & 1]
            for e in range(8):
                out[sl, e] += coef * basis[sl, t, e]


@_jit
def _expand_grad(g, cs, slot, half_scale, fidx, basis, dv):  # pragma: no cover - compiled
    depth, terms = fidx.shape[1], basis.shape[1]
    d_cs = np.zeros_like(cs)
    for sl in range(g.shape[0]):
        for t in range(terms):
            q = 0.0
            for e in range(8):
                q += basis[sl, t, e] * g[sl, e]
            for k in range(depth):  # ∂/∂f_k[t_k] of Π_j f_j[t_j]
                rest = q
                for j in range(depth):
                    if j != k:
                        rest *= cs[fidx[sl, j], (t >> j) & 1]
                d_cs[fidx[sl, k], (t >> k) & 1] += rest
    for r in range(half_scale.shape[0]):
        dv[slot[r]] += (d_cs[r, 1] * cs[r, 0] - d_cs[r, 0] * cs[r, 1]) * half_scale[r]


@_jit(fastmath={"contract"})
def _apply(x, m, n, q):  # pragma: no cover - compiled
    """Wire ``q`` on one chunk ``x`` ``(2, 2**n, R)``, row ``i`` with the matrix ``m[:, i]`` ``(8, R)``."""
    dim, bc = x.shape[1], x.shape[2]
    stride = 1 << (n - 1 - q)
    if bc == 1:
        _apply_one(x.reshape((2, dim)), m, stride)
        return
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


@_jit(fastmath={"contract"})
def _apply_one(x, m, stride):  # pragma: no cover - compiled
    """One row ``x`` ``(2, 2**n)`` (real and imaginary planes) times ``m[:, 0]`` on the wire of ``stride``."""
    m0, m1, m2, m3, m4, m5, m6, m7 = m[0, 0], m[1, 0], m[2, 0], m[3, 0], m[4, 0], m[5, 0], m[6, 0], m[7, 0]
    for base in range(0, x.shape[1], 2 * stride):
        a_r, a_i = x[0, base : base + stride], x[1, base : base + stride]
        b_r, b_i = x[0, base + stride : base + 2 * stride], x[1, base + stride : base + 2 * stride]
        for t in range(stride):
            pr, pi, rr, ri = a_r[t], a_i[t], b_r[t], b_i[t]
            a_r[t] = m0 * pr - m1 * pi + m2 * rr - m3 * ri
            a_i[t] = m0 * pi + m1 * pr + m2 * ri + m3 * rr
            b_r[t] = m4 * pr - m5 * pi + m6 * rr - m7 * ri
            b_i[t] = m4 * pi + m5 * pr + m6 * ri + m7 * rr


@_jit(fastmath={"contract"})
def _gather(x, out, src, ph, plain):  # pragma: no cover - compiled
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


@_jit(fastmath={"contract"})
def _correlate(g, y, n, q, acc):  # pragma: no cover - compiled
    """``acc[:, i] += Σ g ⊗ conj(y)`` traced onto wire ``q``, per row ``i`` of the chunk ``(8, R)``."""
    dim, bc = g.shape[1], g.shape[2]
    stride = 1 << (n - 1 - q)
    if bc == 1:
        _correlate_one(g.reshape((2, dim)), y.reshape((2, dim)), stride, acc)
        return
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


@_jit(fastmath={"contract", "reassoc"})
def _correlate_one(g, y, stride, acc):  # pragma: no cover - compiled
    """One row's correlations on the wire of ``stride`` added to ``acc[:, 0]`` (sums reassociated: they
    vectorise); ``g``, ``y`` ``(2, 2**n)``."""
    h0 = h1 = h2 = h3 = h4 = h5 = h6 = h7 = 0.0
    for base in range(0, g.shape[1], 2 * stride):
        g0r, g0i = g[0, base : base + stride], g[1, base : base + stride]
        g1r, g1i = g[0, base + stride : base + 2 * stride], g[1, base + stride : base + 2 * stride]
        y0r, y0i = y[0, base : base + stride], y[1, base : base + stride]
        y1r, y1i = y[0, base + stride : base + 2 * stride], y[1, base + stride : base + 2 * stride]
        for t in range(stride):
            h0 += g0r[t] * y0r[t] + g0i[t] * y0i[t]
            h1 += g0i[t] * y0r[t] - g0r[t] * y0i[t]
            h2 += g0r[t] * y1r[t] + g0i[t] * y1i[t]
            h3 += g0i[t] * y1r[t] - g0r[t] * y1i[t]
            h4 += g1r[t] * y0r[t] + g1i[t] * y0i[t]
            h5 += g1i[t] * y0r[t] - g1r[t] * y0i[t]
            h6 += g1r[t] * y1r[t] + g1i[t] * y1i[t]
            h7 += g1i[t] * y1r[t] - g1r[t] * y1i[t]
    acc[0, 0] += h0
    acc[1, 0] += h1
    acc[2, 0] += h2
    acc[3, 0] += h3
    acc[4, 0] += h4
    acc[5, 0] += h5
    acc[6, 0] += h6
    acc[7, 0] += h7


@_jit(fastmath={"contract"})
def _sweep_forward(x, w, kinds, index, active, src, phase, plain, saved, keep):  # pragma: no cover - compiled
    n = w.shape[1]
    tmp = np.empty_like(x[0])
    for c in range(x.shape[0]):
        cw = c if w.shape[2] > 1 else 0
        cur, other = x[c], tmp
        for st in range(kinds.shape[0]):
            k = index[st]
            if kinds[st] == 0:
                for q in range(n):
                    if active[k, q]:
                        _apply(cur, w[k, q, cw], n, q)
                if keep:
                    saved[k, c] = cur
            else:
                _gather(cur, other, src[k], phase[k], plain[k])
                cur, other = other, cur
        if cur.ctypes.data != x[c].ctypes.data:
            x[c] = cur


@_jit(fastmath={"contract"})
def _sweep_backward(x, w_adj, kinds, index, active, inv, back, plain, saved, corr, need_start):  # pragma: no cover
    n = w_adj.shape[1]
    tmp = np.empty_like(x[0])
    for c in range(x.shape[0]):
        cw = c if w_adj.shape[2] > 1 else 0
        cur, other = x[c], tmp
        for st in range(kinds.shape[0] - 1, -1, -1):
            k = index[st]
            if kinds[st] == 0:
                for q in range(n):
                    if active[k, q]:
                        _correlate(cur, saved[k, c], n, q, corr[k, q, c])
                if st == 0 and not need_start:
                    break
                for q in range(n):
                    if active[k, q]:
                        _apply(cur, w_adj[k, q, cw], n, q)
            else:
                _gather(cur, other, inv[k], back[k], plain[k])
                cur, other = other, cur
        if cur.ctypes.data != x[c].ctypes.data:
            x[c] = cur
