"""Kernels: the fused linear maps a compiled circuit is made of.

A state is a complex tensor ``(B, 2**n)`` (wire 0 = most significant bit).
Every kernel is unitary and knows three things:

* ``apply(psi, mat)``: the map itself;
* ``apply_inverse(psi, mat)``: its adjoint (used to un-compute states and to
  pull gradients back in the adjoint method);
* ``grad_mat(g_out, psi_in, mat)``: ∂L/∂mat in PyTorch's complex convention
  (``g_out ⊗ conj(psi_in)`` contracted over the untouched wires), summed over
  the batch where ``mat`` is shared by the batch.

``mat`` is the kernel's per-call matrix (batch ``Bm`` = 1 or B) or ``None``
for constant kernels (permutations).
"""
from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Optional

import torch

__all__ = ["Kernel", "BlockKernel", "WiresKernel", "DiagKernel", "PermKernel"]


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


def _sum_to(t: torch.Tensor, batch: int) -> torch.Tensor:
    """Reduce a per-sample gradient ``(B, ...)`` to a shared matrix's batch ``(1, ...)``."""
    return t.sum(0, keepdim=True) if batch == 1 and t.shape[0] != 1 else t


@dataclass(frozen=True)
class BlockKernel(Kernel):
    """A dense ``2**k × 2**k`` matrix on the contiguous wires ``a .. a+k-1``."""

    n: int
    a: int
    k: int

    def _dims(self) -> tuple[int, int, int]:
        return 1 << self.a, 1 << self.k, 1 << (self.n - self.a - self.k)

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
        assert mat is not None
        return self._mul(psi, mat)

    def apply_inverse(self, psi: torch.Tensor, mat: Optional[torch.Tensor]) -> torch.Tensor:
        assert mat is not None
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


def _letters(n: int) -> str:
    return "".join(chr(ord("a") + i) if i < 26 else chr(ord("A") + i - 26) for i in range(n))


@dataclass(frozen=True)
class WiresKernel(Kernel):
    """A dense ``2**k × 2**k`` matrix on arbitrary (non-contiguous) ``wires``."""

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
        b = psi_in.shape[0]
        prod = (g_out * psi_in.conj()).reshape(b, *([2] * self.n))
        others = [1 + w for w in range(self.n) if w not in self.wires]
        red = prod.sum(dim=others) if others else prod  # dims left: batch + gate wires (ascending)
        k = len(self.wires)
        asc = sorted(self.wires)
        red = red.permute(0, *[1 + asc.index(w) for w in self.wires]).reshape(b, 1 << k)
        return _sum_to(red, mat.shape[0])


@dataclass(frozen=True, eq=False)
class PermKernel(Kernel):
    """A constant monomial map ``psi'[x] = phase[x] · psi[perm[x]]`` (CNOT ladders, X, SWAP …)."""

    perm: torch.Tensor  # (2**n,) int64
    inv: torch.Tensor  # (2**n,) int64, inv[perm[x]] = x
    phase: Optional[torch.Tensor]  # (2**n,) complex or None

    def apply(self, psi: torch.Tensor, mat: Optional[torch.Tensor]) -> torch.Tensor:
        out = psi.index_select(1, self.perm)
        return out * self.phase if self.phase is not None else out

    def apply_inverse(self, psi: torch.Tensor, mat: Optional[torch.Tensor]) -> torch.Tensor:
        x = psi * self.phase.conj() if self.phase is not None else psi
        return x.index_select(1, self.inv)

    def grad_mat(self, g_out: torch.Tensor, psi_in: torch.Tensor, mat: torch.Tensor) -> torch.Tensor:
        raise TypeError("a permutation kernel has no matrix to differentiate")
