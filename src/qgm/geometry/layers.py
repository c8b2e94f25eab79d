"""Parametrised layers of a circuit, as PennyLane's block-diagonal metric defines them.

Two layerings (``layering=``):

* ``"pennylane"`` (default): walk the trainable angle occurrences in circuit
  order and put each in the current layer unless one of the layer's gates is
  among its ancestors (in the wire DAG of the circuit); then start a new layer
  (PennyLane's ``CircuitGraph.parametrized_layers``, so ``approx="block-diag"``
  equals ``qml.metric_tensor``'s). This greedy rule depends on the listing
  order: ``RY0 RZ0 RY1 RZ1 …`` gives layers {RY0}, {RZ0, RY1}, {RZ1, RY2}, ….
* ``"depth"``: layer = trainable depth (1 + the deepest trainable ancestor),
  i.e. the fewest, largest layers whatever the listing order ({all RY}, {all
  RZ} for the example above).

In both, no gate of a layer is an ancestor of another, so they act on
disjoint wires and their generators commute, and ``|ψ_ℓ⟩`` = the layer's
ancestors applied to |0…0⟩ is the state "before the layer": the covariance of
the layer's generators in ``|ψ_ℓ⟩`` is exactly the matching block of the full
Fubini–Study metric.

``u3(θ, φ, λ)`` equals ``RZ(φ) RY(θ) RZ(λ)`` up to a global phase (which no
metric sees); it is expanded into these three one-angle gates first, so its
angles land in three successive layers.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from qgm.circuits.circuit import Circuit, Op
from qgm.errors import ParameterError
from qgm.geometry.jacobian import gate_generator
from qgm.sim.program import KIND_PARAM, compile_circuit

__all__ = ["Generator", "Layer", "LAYERINGS", "parametrized_layers", "slot_map"]

LAYERINGS = ("pennylane", "depth")


@dataclass(frozen=True)
class Generator:
    """The generator of one trainable angle occurrence.

    Attributes:
        occurrence: index of the angle in the engine's occurrence order.
        slot: index of the trainable slot it depends on.
        scale: ``dφ/dθ_slot`` (the affine angle expression's scale).
        wires: the gate's wires (first = most significant bit of ``matrix``).
        matrix: Hermitian ``K`` with gate ``exp(-iφK)``, ``(2**k, 2**k)`` complex128.
    """

    occurrence: int
    slot: int
    scale: float
    wires: tuple[int, ...]
    matrix: torch.Tensor


@dataclass(frozen=True)
class Layer:
    """Mutually independent trainable gates and the circuit preparing the state before them."""

    generators: tuple[Generator, ...]
    prefix: Circuit


def _expanded(circuit: Circuit) -> list[tuple[Op, int | None]]:
    """Ops with ``u3`` split into rz·ry·rz; each paired with its trainable occurrence (or None)."""
    program = compile_circuit(circuit)
    out: list[tuple[Op, int | None]] = []
    o = 0
    for op in circuit.ops:
        k = len(op.params)
        trainable = [program.occ_kind[o + j] == KIND_PARAM for j in range(k)]
        if op.name == "u3":
            th, phi, lam = op.params
            for name, angle, j in (("rz", lam, 2), ("ry", th, 0), ("rz", phi, 1)):
                out.append((Op(name, op.wires, (angle,)), o + j if trainable[j] else None))
        else:
            out.append((op, o if k == 1 and trainable[0] else None))
        o += k
    return out


def _ancestors(ops: list[tuple[Op, int | None]], n: int) -> list[set[int]]:
    """Strict ancestors (op indices) of every op in the wire DAG."""
    last: list[int | None] = [None] * n
    anc: list[set[int]] = []
    for i, (op, _) in enumerate(ops):
        mine: set[int] = set()
        for w in op.wires:
            j = last[w]
            if j is not None:
                mine |= anc[j] | {j}
        anc.append(mine)
        for w in op.wires:
            last[w] = i
    return anc


def _greedy_groups(ops: list[tuple[Op, int | None]], anc: list[set[int]]) -> list[list[int]]:
    groups: list[list[int]] = []
    for i, (_, occ) in enumerate(ops):
        if occ is None:
            continue
        if not groups or any(j in anc[i] for j in groups[-1]):
            groups.append([])
        groups[-1].append(i)
    return groups


def _depth_groups(ops: list[tuple[Op, int | None]], anc: list[set[int]]) -> list[list[int]]:
    level: dict[int, int] = {}
    for i, (_, occ) in enumerate(ops):
        if occ is not None:
            level[i] = 1 + max((level[j] for j in anc[i] if j in level), default=-1)
    groups: list[list[int]] = [[] for _ in range(1 + max(level.values(), default=-1))]
    for i, lv in level.items():
        groups[lv].append(i)
    return groups


def parametrized_layers(circuit: Circuit, layering: str = "pennylane") -> list[Layer]:
    """The layers of trainable gates of ``circuit`` (cached on the circuit).

    ``layering``: ``"pennylane"`` (greedy in listing order, as ``qml.metric_tensor``)
    or ``"depth"`` (by trainable depth). Occurrences with a constant or input
    angle are not trainable and only shape the states.
    """
    if layering not in LAYERINGS:
        raise ParameterError(f"layering must be one of {LAYERINGS}, got {layering!r}")
    memo = circuit.cache()
    key = ("qgm.geometry.layers", layering)
    if key in memo:
        return memo[key]
    program = compile_circuit(circuit)
    ops = _expanded(circuit)
    anc = _ancestors(ops, circuit.n_qubits)
    groups = (_greedy_groups if layering == "pennylane" else _depth_groups)(ops, anc)
    layers = []
    for members in groups:
        before = sorted(set().union(*(anc[i] for i in members)))
        prefix = Circuit(
            circuit.n_qubits,
            [ops[i][0] for i in before],
            params=circuit.param_names,
            inputs=circuit.input_names,
        )
        gens = tuple(
            Generator(
                occurrence=int(ops[i][1]),  # type: ignore[arg-type]
                slot=int(program.occ_slot[ops[i][1]]),
                scale=float(program.occ_scale[ops[i][1]]),
                wires=ops[i][0].wires,
                matrix=gate_generator(ops[i][0].name),
            )
            for i in members
        )
        layers.append(Layer(gens, prefix))
    memo[key] = layers
    return layers


def slot_map(circuit: Circuit, layers: list[Layer]) -> np.ndarray:
    """``A`` ``(T, P)``: ``A[t, s] = dφ_t/dθ_s`` for the layers' generators in order."""
    gens = [g for layer in layers for g in layer.generators]
    a = np.zeros((len(gens), circuit.n_params))
    for t, g in enumerate(gens):
        a[t, g.slot] += g.scale
    return a
