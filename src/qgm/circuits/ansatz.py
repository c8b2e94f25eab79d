"""Ansatz builders: functions of hyper-parameters returning a :class:`Circuit`.

Trainable slots are named ``theta_k`` in the order gates are appended, so a
parameter vector lists layer by layer, wire by wire.
"""
from __future__ import annotations

from itertools import combinations
from typing import Any, Optional, Sequence, Union

import numpy as np

from qgm.circuits.circuit import Circuit, Param
from qgm.circuits.gates import GATES, canonical_name
from qgm.errors import CircuitError, ConfigError

__all__ = [
    "entangler_pairs",
    "hardware_efficient",
    "brickwork",
    "iqp",
    "liu_wang",
    "chow_liu_tree",
    "identity_block_ansatz",
    "MIRROR",
]

#: Marker in the slot names of the mirrored half ``W(β)†`` of an identity block.
MIRROR = "_mirror"

Pairs = Union[str, Sequence[Sequence[int]]]


def entangler_pairs(n: int, entangler: Pairs) -> list[tuple[int, int]]:
    """Wire pairs of an entangling layer.

    ``"ring"``: (q, q+1 mod n) for q = 0..n-1 (n > 2; a single pair for n = 2);
    ``"ladder"``: (q, q+1) for q = 0..n-2; ``"all"``: every pair (i < j);
    or an explicit list of pairs (e.g. a Chow-Liu tree).
    """
    if isinstance(entangler, str):
        if entangler == "ring":
            return [(q, (q + 1) % n) for q in range(n)] if n > 2 else [(0, 1)][: n - 1]
        if entangler == "ladder":
            return [(q, q + 1) for q in range(n - 1)]
        if entangler in ("all", "all-to-all", "full"):
            return list(combinations(range(n), 2))
        raise CircuitError(f"entangler '{entangler}' unknown; use 'ring', 'ladder', 'all' or a list of wire pairs")
    pairs = [tuple(int(w) for w in p) for p in entangler]
    for p in pairs:
        if len(p) != 2 or p[0] == p[1] or not all(0 <= w < n for w in p):
            raise CircuitError(f"entangler pair {p} invalid for {n} qubits; give two distinct wires in 0..{n - 1}")
    return pairs  # type: ignore[return-value]


def _check_gate(name: str, n_wires: int, field: str) -> str:
    canon = canonical_name(name)
    if canon is None or GATES[canon].n_wires != n_wires:
        raise CircuitError(f"{field}: '{name}' is not a {n_wires}-qubit gate of the catalogue")
    return canon


def _rotation_layer(c: Circuit, wires: Sequence[int], rotations: Sequence[str]) -> Circuit:
    for q in wires:
        for r in rotations:
            c = c.add(r, q)
    return c


def _entangling_layer(c: Circuit, pairs: Sequence[tuple[int, int]], gate: str) -> Circuit:
    for a, b in pairs:
        c = c.add(gate, (a, b))
    return c


def hardware_efficient(
    n_qubits: int,
    depth: int,
    rotations: Sequence[str] = ("ry", "rz"),
    entangler: Pairs = "ring",
    entangling_gate: str = "cx",
    final_rotations: bool = True,
) -> Circuit:
    """Layers of single-qubit rotations then an entangler; optionally a final rotation layer.

    With defaults this is the benchmark ansatz A(n, L) of ``shared/bench/TASKS.md``:
    ``2 n (L + 1)`` parameters.
    """
    if depth < 0:
        raise CircuitError(f"depth must be >= 0, got {depth}")
    rots = [_check_gate(r, 1, "rotations") for r in rotations]
    ent = _check_gate(entangling_gate, 2, "entangling_gate")
    pairs = entangler_pairs(n_qubits, entangler)
    c = Circuit(n_qubits)
    for _ in range(depth):
        c = _entangling_layer(_rotation_layer(c, range(n_qubits), rots), pairs, ent)
    if final_rotations:
        c = _rotation_layer(c, range(n_qubits), rots)
    return c


def brickwork(
    n_qubits: int,
    depth: int,
    rotations: Sequence[str] = ("ry", "rz"),
    entangling_gate: str = "cz",
) -> Circuit:
    """Brickwork of two-qubit blocks: even pairs (0,1),(2,3)… then odd pairs (1,2),(3,4)…

    Each block applies ``rotations`` on both wires and then ``entangling_gate``.
    ``depth`` counts brick layers (alternating even/odd).
    """
    rots = [_check_gate(r, 1, "rotations") for r in rotations]
    ent = _check_gate(entangling_gate, 2, "entangling_gate")
    c = Circuit(n_qubits)
    for layer in range(depth):
        for a in range(layer % 2, n_qubits - 1, 2):
            c = _rotation_layer(c, (a, a + 1), rots)
            c = c.add(ent, (a, a + 1))
    return _rotation_layer(c, range(n_qubits), rots)


def iqp(n_qubits: int, depth: int = 1, pairs: Pairs = "all") -> Circuit:
    """IQP circuit: H on all wires, ``depth`` × [RZ on every wire, RZZ on ``pairs``], H on all wires."""
    prs = entangler_pairs(n_qubits, pairs)
    c = Circuit(n_qubits)
    for q in range(n_qubits):
        c = c.h(q)
    for _ in range(depth):
        for q in range(n_qubits):
            c = c.rz(q)
        for a, b in prs:
            c = c.rzz(a, b)
    for q in range(n_qubits):
        c = c.h(q)
    return c


def liu_wang(n_qubits: int, depth: int, pairs: Pairs = "ring") -> Circuit:
    """Liu & Wang (arXiv:1804.04168) QCBM ansatz.

    ``depth + 1`` rotation layers of RZ·RX·RZ per qubit with CNOT layers on
    ``pairs`` between them; the first layer's leading RZ and the last layer's
    trailing RZ are dropped (no effect on |0…0⟩ and on Z-basis output).
    """
    prs = entangler_pairs(n_qubits, pairs)
    c = Circuit(n_qubits)
    for layer in range(depth + 1):
        for q in range(n_qubits):
            if layer > 0:
                c = c.rz(q)
            c = c.rx(q)
            if layer < depth:
                c = c.rz(q)
        if layer < depth:
            c = _entangling_layer(c, prs, "cx")
    return c


def chow_liu_tree(bits: np.ndarray) -> list[tuple[int, int]]:
    """Edges of the Chow-Liu tree of binary data ``bits`` ``(N, n)``: the maximum
    spanning tree of pairwise mutual information (used as the Liu-Wang entangler)."""
    from scipy.sparse.csgraph import minimum_spanning_tree

    x = np.asarray(bits, dtype=np.float64)
    if x.ndim != 2 or x.shape[0] == 0:
        raise CircuitError(f"chow_liu_tree: bits must be a non-empty (N, n) 0/1 array, got shape {x.shape}")
    n = x.shape[1]
    mi = np.zeros((n, n))
    eps = 1e-12
    for i, j in combinations(range(n), 2):
        joint = np.array(
            [[np.mean((x[:, i] == a) & (x[:, j] == b)) for b in (0, 1)] for a in (0, 1)]
        )
        pi, pj = joint.sum(1), joint.sum(0)
        nz = joint > 0
        mi[i, j] = np.sum(joint[nz] * np.log(joint[nz] / (np.outer(pi, pj)[nz] + eps)))
    # maximum spanning tree = minimum spanning tree of (max - MI) on the complete graph
    w = np.where(np.triu(np.ones((n, n)), 1) > 0, mi.max() - mi + 1.0, 0.0)
    tree = minimum_spanning_tree(w).tocoo()
    return sorted((int(min(a, b)), int(max(a, b))) for a, b in zip(tree.row, tree.col))


def _renamed(circuit: Circuit, prefix: str) -> Circuit:
    """``circuit`` with every trainable slot renamed ``prefix + name``."""
    def rename(a: Any) -> Any:
        return Param(prefix + a.name, a.kind, a.scale, a.offset) if isinstance(a, Param) and a.kind == "param" else a

    ops = [type(op)(op.name, op.wires, tuple(rename(a) for a in op.params), op.matrix, op.label) for op in circuit.ops]
    return Circuit(circuit.n_qubits, ops, [prefix + p for p in circuit.param_names], list(circuit.input_names))


def identity_block_ansatz(
    n_qubits: int,
    n_blocks: int,
    block_depth: int = 1,
    rotations: Sequence[str] = ("ry", "rz"),
    entangler: Union[str, Sequence[Sequence[int]]] = "ring",
    input_layer: Optional[str] = None,
) -> Circuit:
    """``n_blocks`` blocks ``W(α_b) · W(β_b)†`` of a hardware-efficient ``W`` (Grant et al. 2019).

    ``W`` = ``hardware_efficient(n_qubits, block_depth, rotations, entangler)``.
    Slots are named ``b{b}_{name}`` (``α``) and ``b{b}_mirror_{name}`` (``β``).
    ``input_layer="h"`` prepends H on every wire (no trainable slots).
    """
    if n_blocks < 1:
        raise ConfigError(f"n_blocks: expected >= 1, got {n_blocks}")
    if input_layer not in (None, "h"):
        raise ConfigError(f"input_layer: expected None or 'h', got {input_layer!r}")
    w = hardware_efficient(n_qubits, block_depth, rotations, entangler)
    c = Circuit(n_qubits)
    if input_layer == "h":
        for q in range(n_qubits):
            c = c.h(q)
    for b in range(n_blocks):
        c = c.compose(_renamed(w, f"b{b}_")).compose(_renamed(w.inverse(), f"b{b}{MIRROR}_"))
    return c
