"""A circuit's leading single-qubit gates on |0…0⟩, run as a product state.

Almost every generative ansatz starts with a layer of single-qubit rotations on
|0…0⟩, and the state after that layer is a product ``⊗_w v_w`` (``v_w = m_w |0⟩``,
``m_w`` the product of wire ``w``'s leading gates). On a large register the general
engine spends a whole stage on it — forward, the per-block correlations and the
adjoint products of the backward pass, about a fifth of an A(20, 4) gradient —
where the product state costs two passes: ``A ⊗ B`` of the halves' products
(built from ``n`` two-vectors), and in the backward pass ``G conj(B)`` and
``Gᵀ conj(A)``. :func:`head_state` builds it (differentiable through the gate table
of the head's own program); the rest of the circuit runs from it as an initial state.

Used by :mod:`qgm.sim.engine` for differentiated backprop calls from |0…0⟩ with one
set of angles on at least :data:`HEAD_MIN_N` qubits (below, the whole circuit is a
few milliseconds and the small-n engine already runs it as one node).
"""
from __future__ import annotations

from typing import Optional

import torch

from qgm.circuits.circuit import Circuit
from qgm.sim.evolve import bind, build_table, wire_products
from qgm.sim.program import Program, StageStep, compile_circuit

__all__ = ["HEAD_MIN_N", "split_head", "head_programs", "head_state"]

#: Smallest register whose leading layer is run as a product state: an A(n, 4) forward and
#: gradient took 0.87x the time at n = 18-22, 0.95x at 16 and 1.1x at 14 (same process, interleaved).
HEAD_MIN_N = 16


def split_head(circuit: Circuit) -> Optional[tuple[Circuit, Circuit]]:
    """``(head, tail)``: the single-qubit gates each wire sees before its first multi-qubit gate, and
    the rest in order (both on the circuit's wires and slots; ``head`` then ``tail`` is the circuit).
    ``None`` where either part is empty. Memoised on the circuit."""
    memo = circuit.cache()
    if "head_split" not in memo:
        blocked: set[int] = set()
        head, tail = [], []
        for op in circuit.ops:
            if len(op.wires) == 1 and op.wires[0] not in blocked:
                head.append(op)
            else:
                tail.append(op)
                blocked.update(op.wires)
        names = dict(params=circuit.param_names, inputs=circuit.input_names)
        memo["head_split"] = (Circuit(circuit.n_qubits, head, **names), Circuit(circuit.n_qubits, tail, **names)) \
            if head and tail else None
    return memo["head_split"]


def head_programs(circuit: Circuit) -> Optional[tuple[Program, Program]]:
    """The compiled ``(head, tail)`` of :func:`split_head`, or ``None`` where there is no split or the
    head's program is not made of stages only (memoised with the split)."""
    memo = circuit.cache()
    if "head_programs" not in memo:
        split = split_head(circuit)
        progs = None if split is None else (compile_circuit(split[0]), compile_circuit(split[1]))
        memo["head_programs"] = progs if progs and all(isinstance(st, StageStep) for st in progs[0].steps) else None
    return memo["head_programs"]


def head_state(head: Program, params: torch.Tensor, inputs: torch.Tensor, dtype: torch.dtype) -> torch.Tensor:
    """The product state ``(1, 2**n)`` the head program (single-qubit gates only) prepares from
    |0…0⟩, for ``params`` ``(1, P)`` and ``inputs`` ``(1, I)``; differentiable in both."""
    phi, _ = bind(head, params, inputs)
    products = wire_products(head, build_table(head, phi)[0])
    m = None
    for st in head.steps:  # every stage of the head acts on single wires: multiply per wire, in order
        assert isinstance(st, StageStep)  # head_programs admits stage-only heads
        stage = products[st.group][0, st.member]  # (n, 2, 2)
        m = stage if m is None else stage @ m
    assert m is not None
    v = m[:, :, 0].to(dtype)  # (n, 2): every wire's m|0⟩
    h = head.n // 2
    return _Outer.apply(_kron(v[:h]), _kron(v[h:])).unsqueeze(0)


def _kron(v: torch.Tensor) -> torch.Tensor:
    """``v[0] ⊗ v[1] ⊗ …`` of two-vectors ``(k, 2)``: ``(2**k,)`` (wire order: first most significant)."""
    out = v[0]
    for row in v[1:]:
        out = torch.outer(out, row).reshape(-1)
    return out


class _Outer(torch.autograd.Function):
    """``a ⊗ b`` flattened, ``(len(a)·len(b),)``; backward by two matrix-vector products (no
    state-sized temporary besides the result)."""

    @staticmethod
    def forward(ctx, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:  # type: ignore[override]
        ctx.save_for_backward(a, b)
        return torch.outer(a, b).reshape(-1)

    @staticmethod
    def backward(ctx, g: torch.Tensor):  # type: ignore[override]
        a, b = ctx.saved_tensors
        grid = g.view(a.shape[0], b.shape[0])
        return grid @ b.conj(), grid.T @ a.conj()
