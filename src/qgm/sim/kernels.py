"""Kernels: the fused linear maps a compiled circuit is made of.

A state is a complex tensor ``(B, 2**n)`` (wire 0 = most significant bit).
Every kernel is unitary and offers two interfaces.

Out of place (autograd-traceable; used by :func:`~qgm.sim.evolve.evolve`, the
density-matrix simulator and second derivatives):

* ``apply(psi, mat)`` and ``apply_inverse(psi, mat)`` (the adjoint map);
* ``grad_mat(g_out, psi_in, mat)``: ∂L/∂mat in PyTorch's complex convention
  (``g_out ⊗ conj(psi_in)`` contracted over the untouched wires), summed over
  the batch where ``mat`` is shared by the batch.

Into buffers (the engine's hot path, no autograd, no state-sized allocation):

* ``forward_into(psi, mat, out)`` / ``inverse_into(psi, inv, out)``: write the map
  (or its adjoint; ``inv`` is :meth:`Kernel.inverse_mat` of ``mat``) into ``out``,
  which never aliases ``psi``;
* ``correlate(g, psi)``: ``H = Σ g ⊗ conj(psi)`` over the untouched wires from a
  gradient and a state taken at the kernel's *output* (a consistent pair), the
  small matrix every parameter gradient of the kernel is read from.

``mat`` is the kernel's per-call matrix (batch ``Bm`` = 1 or B) or ``None``
for constant kernels (permutations with phases).

Rotating blocks (``rotate=True``) are the engine's fast path for full
single-qubit layers at large n: the block acts on the *first* ``k`` wires of the
state's current layout and writes its result with those wires moved to the end
(one GEMM whose output is written transposed), so a layer of blocks that covers
every wire is a sequence of the most efficient GEMM shape and leaves the layout
as it found it.
"""
from __future__ import annotations

import functools
from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Callable, Optional

import torch

__all__ = ["Kernel", "BlockKernel", "WiresKernel", "DiagKernel", "PermKernel"]

#: Middle blocks whose trailing stride (``2**(n-a-k)`` amplitudes) is at least this
#: are applied as one batched GEMM in place; below it the GEMMs are too small (T2
#: n = 20, k = 4: 4.7 ms at 1024, 8.8 ms at 256, 17 ms at 16; a full rotation is 5 ms a block).
MIN_MIDDLE_STRIDE = 1 << 10
#: Amplitudes up to which a batched correlation conjugates a copy of the states (cheaper, for
#: small stacks, than the real-arithmetic form that copies nothing).
SMALL_CONJ_COPY = 1 << 16


class Kernel(ABC):
    """Base class: a unitary map on the state with a (possibly absent) matrix."""

    @abstractmethod
    def apply(self, psi: torch.Tensor, mat: Optional[torch.Tensor]) -> torch.Tensor:
        """The map applied to ``psi`` ``(B, 2**n)``."""

    @abstractmethod
    def apply_inverse(self, psi: torch.Tensor, mat: Optional[torch.Tensor]) -> torch.Tensor:
        """The adjoint map applied to ``psi``."""

    @abstractmethod
    def grad_mat(self, g_out: torch.Tensor, psi_in: torch.Tensor, mat: torch.Tensor) -> torch.Tensor:
        """∂L/∂mat given the output gradient and the input state."""

    def inverse_mat(self, mat: Optional[torch.Tensor]) -> Optional[torch.Tensor]:
        """The matrix :meth:`inverse_into` takes for ``mat`` (its conjugate transpose)."""
        return None if mat is None else mat.mH

    @abstractmethod
    def into_fn(
        self, batch: int, inverse: bool, src: Optional[torch.Tensor] = None, dst: Optional[torch.Tensor] = None
    ) -> Callable[..., torch.Tensor]:
        """``f(mat, x=None, o=None)`` writing the map (or its adjoint, ``mat`` then from
        :meth:`inverse_mat`) of ``x`` ``(batch, 2**n)`` into ``o``; views of the fixed buffers
        ``src``/``dst`` are made once here and used when ``x``/``o`` are not given.

        ``mat`` is shared by the batch (no batch dim, or a batch of 1) or has one row per state.
        """

    def forward_into(self, psi: torch.Tensor, mat: Optional[torch.Tensor], out: torch.Tensor) -> torch.Tensor:
        """The map applied to ``psi``, written into ``out`` (returned)."""
        self.into_fn(psi.shape[0], False)(mat, psi, out)
        return out

    def inverse_into(self, psi: torch.Tensor, inv: Optional[torch.Tensor], out: torch.Tensor) -> torch.Tensor:
        """The adjoint map (``inv`` from :meth:`inverse_mat`) applied to ``psi``, written into ``out``."""
        self.into_fn(psi.shape[0], True)(inv, psi, out)
        return out

    def correlate(self, g: torch.Tensor, psi: torch.Tensor, fold: bool = False) -> torch.Tensor:
        """``Σ g ⊗ conj(psi)`` over the untouched wires, per batch row (``fold``: summed over the
        batch), from a gradient/state pair taken at the kernel's output."""
        raise TypeError(f"{type(self).__name__} has no matrix to differentiate")


def _bind(vin, vout, op, src: Optional[torch.Tensor], dst: Optional[torch.Tensor]) -> Callable[..., torch.Tensor]:
    """``f(mat, x=None, o=None) = op(mat, vin(x), vout(o))`` with the views of fixed buffers made once."""
    xs = None if src is None else vin(src)
    os_ = None if dst is None else vout(dst)

    def f(mat, x=None, o=None):
        return op(mat, xs if x is None else vin(x), os_ if o is None else vout(o))

    return f


_W: dict[tuple, torch.Tensor] = {}


def tail_correlation(g: torch.Tensor, psi: torch.Tensor, c: int) -> torch.Tensor:
    """``H[b, a, a'] = Σ_rows g[b, row, a] conj(psi[b, row, a'])`` for states ``(B, rows·c)`` whose last
    index (``c`` values) is the block: ``M = Xᵀ Y`` over the real views ``(B, rows, 2c)``, then
    ``H = M_rr + M_ii + i (M_ir - M_ri)``. Returns ``(B, c, c)`` complex."""
    b = g.shape[0]
    x = torch.view_as_real(g).reshape(b, -1, 2 * c)
    y = torch.view_as_real(psi).reshape(b, -1, 2 * c)
    m = (x.mT @ y).view(b, c, 2, c, 2)
    key = (g.dtype, g.device)
    if key not in _W:  # Σ_pq M[a, p, a', q] W[p, q] with W = [[1, -i], [i, 1]]
        _W[key] = torch.tensor([[1, -1j], [1j, 1]], dtype=g.dtype, device=g.device).view(2, 1, 2)
    return (m * _W[key]).sum((2, 4))


def _sum_to(t: torch.Tensor, batch: int) -> torch.Tensor:
    """Reduce a per-sample gradient ``(B, ...)`` to a shared matrix's batch ``(1, ...)``."""
    return t.sum(0, keepdim=True) if batch == 1 and t.shape[0] != 1 else t


@dataclass(frozen=True)
class BlockKernel(Kernel):
    """A dense ``2**k × 2**k`` matrix on the contiguous wires ``a .. a+k-1``.

    With ``rotate=True`` the block acts on the first ``k`` wires of the current
    layout whatever ``a`` says (``a`` then names the logical wires), and its output
    has those wires last (see the module docstring).
    """

    n: int
    a: int
    k: int
    rotate: bool = False

    def _dims(self) -> tuple[int, int, int]:
        return 1 << self.a, 1 << self.k, 1 << (self.n - self.a - self.k)

    # -- out of place ------------------------------------------------------------
    def _mul(self, psi: torch.Tensor, u: torch.Tensor) -> torch.Tensor:
        b = psi.shape[0]
        lo, c, r = self._dims()
        if r == 1:
            if u.shape[0] == 1:
                return (psi.reshape(b * lo, c) @ u[0].transpose(0, 1)).reshape(b, -1)
            return (psi.reshape(b, lo, c) @ u.transpose(1, 2)).reshape(b, -1)
        if lo == 1:
            return (u @ psi.reshape(b, c, r)).reshape(b, -1)
        x = psi.reshape(b, lo, c, r)
        if r >= c:  # broadcasting u over `lo` copies a (lo, c, c) stack: cheaper than the state
            return (u.unsqueeze(1) @ x).reshape(b, -1)
        y = u @ x.permute(0, 2, 1, 3).reshape(b, c, lo * r)
        return y.reshape(b, c, lo, r).permute(0, 2, 1, 3).reshape(b, -1)

    def apply(self, psi: torch.Tensor, mat: Optional[torch.Tensor]) -> torch.Tensor:
        assert mat is not None and not self.rotate
        return self._mul(psi, mat)

    def apply_inverse(self, psi: torch.Tensor, mat: Optional[torch.Tensor]) -> torch.Tensor:
        assert mat is not None and not self.rotate
        return self._mul(psi, mat.conj().transpose(1, 2))

    def grad_mat(self, g_out: torch.Tensor, psi_in: torch.Tensor, mat: torch.Tensor) -> torch.Tensor:
        # G = Σ g xᴴ over the untouched wires, written as GEMMs whose conjugate-transposed
        # operand BLAS reads in place (an einsum over a conjugated state copies it first).
        b = psi_in.shape[0]
        lo, c, r = self._dims()
        shared = mat.shape[0] == 1
        if r == 1:  # conj(G) = gᴴ x with the rows (batch × lo) contracted in one GEMM
            rows = (b * lo, c) if shared else (b, lo, c)
            gm = (g_out.reshape(rows).mH @ psi_in.reshape(rows)).conj_physical()
            return gm.unsqueeze(0) if shared else gm
        gm = torch.matmul(g_out.reshape(b, lo, c, r), psi_in.reshape(b, lo, c, r).mH)
        gm = gm.sum(1) if lo > 1 else gm[:, 0]
        return _sum_to(gm, mat.shape[0])

    # -- into buffers ---------------------------------------------------------------
    @property
    def wants_conj_inverse(self) -> bool:
        """The adjoint of a last-wires block multiplies rows by ``conj(U)`` (given physically)."""
        return not self.rotate and self.a + self.k == self.n and self.a > 0

    def inverse_mat(self, mat: Optional[torch.Tensor]) -> Optional[torch.Tensor]:
        assert mat is not None
        return mat.conj_physical() if self.wants_conj_inverse else mat.mH

    def into_fn(self, batch, inverse, src=None, dst=None):
        b = batch
        lo, c, r = self._dims()
        if b == 1:  # one state: 2-D GEMMs (a 3-D matmul costs twice the dispatch)
            return self._into_fn_single(inverse, src, dst)
        if self.rotate:
            m = (1 << self.n) // c
            if inverse:  # input layout [rest | block] -> output [block | rest]
                vin, vout = (lambda x: x.reshape(b, m, c).transpose(1, 2)), (lambda o: o.view(b, c, m))
            else:
                vin, vout = (lambda x: x.reshape(b, c, m)), (lambda o: o.view(b, m, c).transpose(1, 2))
            return _bind(vin, vout, lambda u, x, o: torch.matmul(u, x, out=o), src, dst)
        if lo == 1:
            shape = (b, c, r)
            return _bind(lambda x: x.reshape(shape), lambda o: o.view(shape),
                         lambda u, x, o: torch.matmul(u, x, out=o), src, dst)
        if r == 1:
            shape = (b, lo, c)
            if inverse:  # rows times conj(U)
                return _bind(lambda x: x.reshape(shape), lambda o: o.view(shape),
                             lambda u, x, o: torch.matmul(x, u, out=o), src, dst)
            return _bind(lambda x: x.reshape(shape), lambda o: o.view(shape),
                         lambda u, x, o: torch.matmul(x, u.mT, out=o), src, dst)
        shape = (b, lo, c, r)

        def mid(u, x, o):
            if u.dim() == 2 or u.shape[0] == 1:
                uu = u.reshape(c, c).expand(b * lo, c, c)
                return torch.bmm(uu, x.reshape(b * lo, c, r), out=o.view(b * lo, c, r))
            return torch.matmul(u.unsqueeze(1), x, out=o)

        return _bind(lambda x: x.reshape(shape), lambda o: o.view(shape), mid, src, dst)

    def _into_fn_single(self, inverse, src, dst):
        """:meth:`into_fn` for one state and a ``(c, c)`` matrix: every form is one ``torch.mm``."""
        lo, c, r = self._dims()
        mm = torch.mm
        if self.rotate:
            m = (1 << self.n) // c
            if inverse:
                return _bind(lambda x: x.reshape(m, c).t(), lambda o: o.view(c, m),
                             lambda u, x, o: mm(u, x, out=o), src, dst)
            return _bind(lambda x: x.reshape(c, m), lambda o: o.view(m, c).t(),
                         lambda u, x, o: mm(u, x, out=o), src, dst)
        if lo == 1:
            return _bind(lambda x: x.reshape(c, r), lambda o: o.view(c, r),
                         lambda u, x, o: mm(u, x, out=o), src, dst)
        if r == 1:
            if inverse:  # rows times conj(U)
                return _bind(lambda x: x.reshape(lo, c), lambda o: o.view(lo, c),
                             lambda u, x, o: mm(x, u, out=o), src, dst)
            return _bind(lambda x: x.reshape(lo, c), lambda o: o.view(lo, c),
                         lambda u, x, o: mm(x, u.t(), out=o), src, dst)

        def mid(u, x, o):
            return torch.bmm(u.expand(lo, c, c), x, out=o)

        return _bind(lambda x: x.reshape(lo, c, r), lambda o: o.view(lo, c, r), mid, src, dst)

    def correlate(self, g: torch.Tensor, psi: torch.Tensor, fold: bool = False) -> torch.Tensor:
        """``(B, c, c)``: ``H[a, b'] = Σ g[.., a, ..] conj(psi[.., b', ..])`` at the block's output
        (``fold``: summed over the batch, ``(1, c, c)``).

        With the block's wires last (rotating blocks, last-wire blocks) and one state (or a folded
        batch) this is one 2-D GEMM whose conjugate-transposed operand BLAS reads in place; a
        batch of per-row pairs is one real batched GEMM over the interleaved real/imaginary parts
        (:func:`tail_correlation`): neither copies a state.
        """
        b = psi.shape[0]
        lo, c, r = self._dims()
        if self.rotate or r == 1:
            if b == 1 or fold:
                rows = b * ((1 << self.n) // c)
                return (psi.reshape(rows, c).mH @ g.reshape(rows, c)).mT[None]
            if psi.numel() <= SMALL_CONJ_COPY:  # a small conjugated copy costs less than the real form
                rows = (1 << self.n) // c
                return (psi.reshape(b, rows, c).mH @ g.reshape(b, rows, c)).mT
            return tail_correlation(g, psi, c)
        if lo == 1:
            if b == 1:  # a 2-D GEMM reads the conjugate-transposed operand in place
                return (g.reshape(c, r) @ psi.reshape(c, r).mH)[None]
            h = g.reshape(b, c, r) @ psi.reshape(b, c, r).mH
        else:
            h = torch.matmul(g.reshape(b, lo, c, r), psi.reshape(b, lo, c, r).mH).sum(1)
        return h.sum(0, keepdim=True) if fold else h

    @property
    def in_place_fast(self) -> bool:
        """Whether the block is an efficient GEMM where it stands (first, last, or a long stride)."""
        lo, _, r = self._dims()
        return lo == 1 or r == 1 or r >= MIN_MIDDLE_STRIDE


def _letters(n: int) -> str:
    return "".join(chr(ord("a") + i) if i < 26 else chr(ord("A") + i - 26) for i in range(n))


@dataclass(frozen=True)
class WiresKernel(Kernel):
    """A dense ``2**k × 2**k`` matrix on arbitrary (non-contiguous) ``wires``.

    Its buffered application goes through an einsum and a copy (one temporary
    state); the compiler uses it only for dense multi-qubit gates on wires that are
    not neighbours.
    """

    n: int
    wires: tuple[int, ...]

    def _spec(self) -> tuple[str, str, str]:
        """einsum strings: state letters, matrix (out+in) letters, output letters."""
        st = _letters(self.n)
        k = len(self.wires)
        outs = "".join(_letters(self.n + k)[self.n :])
        ins = "".join(st[w] for w in self.wires)
        res = list(st)
        for w, o in zip(self.wires, outs):
            res[w] = o
        return st, outs + ins, "".join(res)

    def _mul(self, psi: torch.Tensor, u: torch.Tensor) -> torch.Tensor:
        b = psi.shape[0]
        k = len(self.wires)
        st, um, res = self._spec()
        x = psi.reshape(b, *([2] * self.n))
        uu = u.reshape(u.shape[0], *([2] * (2 * k)))
        if u.shape[0] == 1:
            y = torch.einsum(f"{um},Z{st}->Z{res}", uu[0], x)
        else:
            y = torch.einsum(f"Z{um},Z{st}->Z{res}", uu, x)
        return y.reshape(b, -1)

    def apply(self, psi: torch.Tensor, mat: Optional[torch.Tensor]) -> torch.Tensor:
        assert mat is not None
        return self._mul(psi, mat)

    def apply_inverse(self, psi: torch.Tensor, mat: Optional[torch.Tensor]) -> torch.Tensor:
        assert mat is not None
        return self._mul(psi, mat.conj().transpose(1, 2))

    def grad_mat(self, g_out: torch.Tensor, psi_in: torch.Tensor, mat: torch.Tensor) -> torch.Tensor:
        b = psi_in.shape[0]
        k = len(self.wires)
        st, um, res = self._spec()
        g = g_out.reshape(b, *([2] * self.n))
        x = psi_in.reshape(b, *([2] * self.n)).conj()
        # g has output letters at the gate wires; x has input letters there.
        if mat.shape[0] == 1:
            gm = torch.einsum(f"Z{res},Z{st}->{um}", g, x).reshape(1, 1 << k, 1 << k)
        else:
            gm = torch.einsum(f"Z{res},Z{st}->Z{um}", g, x).reshape(b, 1 << k, 1 << k)
        return gm

    def into_fn(self, batch, inverse, src=None, dst=None):
        def op(u, x, o):
            return o.copy_(self._mul(x, u if u.dim() == 3 else u[None]))

        return _bind(lambda x: x, lambda o: o, op, src, dst)

    def correlate(self, g: torch.Tensor, psi: torch.Tensor, fold: bool = False) -> torch.Tensor:
        # the formula of grad_mat with the output state in place of the input state
        b = psi.shape[0]
        st, um, res = self._spec()
        x = psi.reshape(b, *([2] * self.n)).conj()
        gm = torch.einsum(f"Z{res},Z{st}->Z{um}", g.reshape(b, *([2] * self.n)), x)
        return gm.reshape(b, 1 << len(self.wires), 1 << len(self.wires))


@dataclass(frozen=True)
class DiagKernel(Kernel):
    """A diagonal ``2**k`` vector on ``wires`` (first wire = most significant)."""

    n: int
    wires: tuple[int, ...]

    def _shape(self, d: torch.Tensor) -> torch.Tensor:
        """Reshape ``d`` (Bm, 2**k) to broadcast against the state ``(B, 2, …, 2)``."""
        k = len(self.wires)
        order = sorted(range(k), key=lambda i: self.wires[i])
        x = d.reshape(d.shape[0], *([2] * k)).permute(0, *[1 + i for i in order])
        shape = [d.shape[0]] + [1] * self.n
        for w in self.wires:
            shape[1 + w] = 2
        return x.reshape(shape)

    def _mul(self, psi: torch.Tensor, d: torch.Tensor) -> torch.Tensor:
        b = psi.shape[0]
        return (psi.reshape(b, *([2] * self.n)) * self._shape(d)).reshape(b, -1)

    def apply(self, psi: torch.Tensor, mat: Optional[torch.Tensor]) -> torch.Tensor:
        assert mat is not None
        return self._mul(psi, mat)

    def apply_inverse(self, psi: torch.Tensor, mat: Optional[torch.Tensor]) -> torch.Tensor:
        assert mat is not None
        return self._mul(psi, mat.conj())

    def grad_mat(self, g_out: torch.Tensor, psi_in: torch.Tensor, mat: torch.Tensor) -> torch.Tensor:
        return _sum_to(self._reduce(g_out * psi_in.conj()), mat.shape[0])

    def _reduce(self, prod: torch.Tensor) -> torch.Tensor:
        """Sum ``prod`` ``(B, 2**n)`` over the untouched wires -> ``(B, 2**k)`` in gate-wire order."""
        b = prod.shape[0]
        x = prod.reshape(b, *([2] * self.n))
        others = [1 + w for w in range(self.n) if w not in self.wires]
        red = x.sum(dim=others) if others else x  # dims left: batch + gate wires (ascending)
        asc = sorted(self.wires)
        red = red.permute(0, *[1 + asc.index(w) for w in self.wires])
        return red.reshape(b, 1 << len(self.wires))

    def inverse_mat(self, mat: Optional[torch.Tensor]) -> Optional[torch.Tensor]:
        return None if mat is None else mat.conj_physical()

    def into_fn(self, batch, inverse, src=None, dst=None):
        shape = (batch, *([2] * self.n))

        def op(d, x, o):
            return torch.mul(x, self._shape(d if d.dim() == 2 else d[None]), out=o)

        return _bind(lambda x: x.reshape(shape), lambda o: o.view(shape), op, src, dst)

    def correlate(self, g: torch.Tensor, psi: torch.Tensor, fold: bool = False) -> torch.Tensor:
        """``(B, 2**k)``: the diagonal of ``Σ g ⊗ conj(psi)`` over the untouched wires."""
        return self._reduce(g * psi.conj_physical())


@dataclass(frozen=True, eq=False)
class PermKernel(Kernel):
    """A constant monomial map on the contiguous wires ``lo .. lo+m-1``:
    ``psi'[x] = phase[x] · psi[src[x]]`` with ``x`` the local index of those wires.

    ``src`` (``(2**m,)`` int64, ``None``: identity) and ``phase`` (``(2**m,)``
    complex, ``None``: all ones) come from the compiler (CNOT ladders and rings,
    Toffolis, SWAPs and every constant diagonal gate between them). The map is a
    ``torch.gather`` with the index expanded (stride 0) over the other dimensions:
    two to three times faster than ``index_select`` on CPU. The inverse index is
    built on first use (forward-only runs never need it).
    """

    n: int
    lo: int
    m: int
    src: Optional[torch.Tensor]
    phase: Optional[torch.Tensor]

    @functools.cached_property
    def inv(self) -> Optional[torch.Tensor]:
        """``inv[src[x]] = x``."""
        if self.src is None:
            return None
        return torch.empty_like(self.src).scatter_(0, self.src, torch.arange(len(self.src), device=self.src.device))

    def _view(self, psi: torch.Tensor) -> torch.Tensor:
        return psi.reshape(psi.shape[0] << self.lo, 1 << self.m, 1 << (self.n - self.lo - self.m))

    def _phase(self, phase: torch.Tensor) -> torch.Tensor:
        return phase.view(1, -1, 1) if self.lo + self.m < self.n else phase.view(1, -1)

    def apply(self, psi: torch.Tensor, mat: Optional[torch.Tensor]) -> torch.Tensor:
        x = self._view(psi)
        if self.src is not None:
            x = x.index_select(1, self.src)
        if self.phase is not None:
            x = x * self.phase.view(1, -1, 1)
        return x.reshape(psi.shape)

    def apply_inverse(self, psi: torch.Tensor, mat: Optional[torch.Tensor]) -> torch.Tensor:
        x = self._view(psi)
        if self.phase is not None:
            x = x * self.phase.conj().view(1, -1, 1)
        if self.inv is not None:
            x = x.index_select(1, self.inv)
        return x.reshape(psi.shape)

    def grad_mat(self, g_out: torch.Tensor, psi_in: torch.Tensor, mat: torch.Tensor) -> torch.Tensor:
        raise TypeError("a permutation kernel has no matrix to differentiate")

    def into_fn(self, batch, inverse, src=None, dst=None):
        r = 1 << (self.n - self.lo - self.m)
        shape = (batch << self.lo, 1 << self.m, r) if r > 1 else (batch << self.lo, 1 << self.m)
        index = self.inv if inverse else self.src
        phase = self.inverse_phase if inverse else self.phase
        ph = None if phase is None else self._phase(phase)
        full = None if index is None else (index.view(1, -1, 1) if r > 1 else index.view(1, -1)).expand(shape)
        if full is None:
            def op(_, x, o):
                return torch.mul(x, ph, out=o)
        elif ph is None:
            def op(_, x, o):
                return torch.gather(x, 1, full, out=o)
        else:
            def op(_, x, o):
                return torch.gather(x, 1, full, out=o).mul_(ph)

        return _bind(lambda x: x.reshape(shape), lambda o: o.view(shape), op, src, dst)

    @functools.cached_property
    def inverse_phase(self) -> Optional[torch.Tensor]:
        """``conj(phase)[inv]``: the phases of the inverse map, indexed by its output."""
        if self.phase is None:
            return None
        back = self.phase.conj_physical()
        return back if self.inv is None else back.index_select(0, self.inv)
