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
"""
from __future__ import annotations

from typing import Optional

import numpy as np

try:  # the ``fast`` extra
    import numba
except ImportError:  # pragma: no cover - exercised where numba is absent
    numba = None

__all__ = ["AVAILABLE", "Schedule", "forward", "backward"]

#: Whether the compiled sweeps can run here.
AVAILABLE = numba is not None


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
        self._phases = {np.dtype(np.complex128): (phase, back)}

    def phases(self, dtype: np.dtype) -> tuple[np.ndarray, np.ndarray]:
        """The forward and adjoint phases in ``dtype`` (cached)."""
        if dtype not in self._phases:
            ph, bk = self._phases[np.dtype(np.complex128)]
            self._phases[dtype] = (ph.astype(dtype), bk.astype(dtype))
        return self._phases[dtype]


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
