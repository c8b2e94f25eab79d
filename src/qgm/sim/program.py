"""Compile a :class:`~qgm.circuits.Circuit` once into a :class:`Program` of fused kernels.

Fusion rules (what makes the engine fast):

* single-qubit gates are collected per wire for as long as no multi-qubit gate
  touched that wire; each collected stage becomes a few dense blocks over
  contiguous wire ranges (``kron`` of the per-wire 2×2 products), applied as
  one batched GEMM each;
* runs of parameter-free monomial gates (CNOT rings and ladders, CZ, SWAP,
  Toffoli …) compose into one permutation-with-phases, applied as one gather;
* parametrised diagonal two-qubit gates (RZZ, CRZ) are one broadcast multiply;
  other multi-qubit gates are dense small matrices.

Matrices of every gate of one kind are built in one vectorised call for the
whole circuit (and the whole batch); binding parameters is cheap.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional

import numpy as np
import torch

from qgm.circuits.circuit import Circuit, Op, Param
from qgm.circuits.gates import GATES, ShiftRule
from qgm.sim.kernels import BlockKernel, DiagKernel, Kernel, PermKernel, WiresKernel

__all__ = ["Program", "compile_circuit", "max_block_wires"]

KIND_PARAM, KIND_INPUT, KIND_CONST = 0, 1, 2


def max_block_wires(n: int) -> int:
    """Widest fused single-qubit block.

    Wide blocks mean fewer passes over the state, but each amplitude then costs
    ``2**k`` multiply-adds and the fused ``4**k`` matrix is built (and
    differentiated) per parameter set. On CPU, 4 wires is the best measured
    width from T1 (n = 9) to T2 (n = 20); at 5 wires batched runs (T4, 512
    sets) spend most of their time building matrices.
    """
    return 4


@dataclass
class _Stage1Q:
    """A fused single-qubit stage: chunks of contiguous wires and, per depth, the table rows."""

    chunks: tuple[tuple[int, int], ...]  # (first wire, width)
    rows: np.ndarray  # (D, n_chunk_wires) rows of the 1q matrix table (identity row allowed)


@dataclass
class _Step:
    """One kernel of the program and where its matrix comes from."""

    kernel: Kernel
    source: tuple  # ("stage", group, chunk, member) | ("gate", name, j) | ("const", key) | ("none",)


@dataclass
class Program:
    """A circuit compiled for the engine. Build with :func:`compile_circuit`.

    Angles of every gate occurrence ``o`` are ``phi[o] = scale[o] * v[slot[o]] + offset[o]``
    with ``v = [params, inputs, 0]``.
    """

    n: int
    n_params: int
    n_inputs: int
    occ_slot: np.ndarray
    occ_scale: np.ndarray
    occ_offset: np.ndarray
    occ_kind: np.ndarray
    occ_rule: list[Optional[ShiftRule]]
    table_gates: list[tuple[str, np.ndarray]]  # 1q parametrised kinds: (name, occ (k, n_params))
    table_fixed: list[np.ndarray]  # constant 2x2 matrices
    multi_gates: dict[str, np.ndarray]  # multi-qubit parametrised kinds: occ (k, n_params)
    consts: dict[str, np.ndarray]  # constant dense matrices of WiresKernel/BlockKernel steps
    groups: list[list[_Stage1Q]]  # stages of equal signature, built together
    steps: list[_Step]
    _device_cache: dict = field(default_factory=dict, repr=False)

    @property
    def n_occ(self) -> int:
        return len(self.occ_slot)

    @property
    def kernels(self) -> list[Kernel]:
        return [s.kernel for s in self.steps]

    def tensors(self, device: torch.device, rdtype: torch.dtype) -> dict:
        """Index arrays and constants on ``device`` in precision ``rdtype`` (cached)."""
        key = (device, rdtype)
        if key not in self._device_cache:
            cdt = torch.complex64 if rdtype == torch.float32 else torch.complex128
            t = {
                "slot": torch.as_tensor(self.occ_slot, device=device),
                "scale": torch.as_tensor(self.occ_scale, dtype=rdtype, device=device),
                "offset": torch.as_tensor(self.occ_offset, dtype=rdtype, device=device),
                "fixed": torch.as_tensor(
                    np.stack(self.table_fixed + [np.eye(2)]), dtype=cdt, device=device
                ),
                "gate_occ": {
                    name: torch.as_tensor(occ, device=device) for name, occ in self.table_gates
                },
                "multi_occ": {name: torch.as_tensor(occ, device=device) for name, occ in self.multi_gates.items()},
                "rows": [
                    torch.as_tensor(np.stack([st.rows for st in grp]), device=device) for grp in self.groups
                ],
                "consts": {k: torch.as_tensor(np.array(v), dtype=cdt, device=device)[None] for k, v in self.consts.items()},
                "steps": [_move_kernel(s.kernel, device, cdt) for s in self.steps],
            }
            self._device_cache[key] = t
        return self._device_cache[key]

    @property
    def stages_unitary(self) -> bool:
        """Whether every fixed single-qubit matrix of the stages is unitary (to 1e-12)."""
        if "stages_unitary" not in self._device_cache:
            self._device_cache["stages_unitary"] = all(
                np.allclose(m @ m.conj().T, np.eye(2), rtol=0, atol=1e-12) for m in self.table_fixed
            )
        return self._device_cache["stages_unitary"]

    def wire_traces(self, k: int, device: torch.device) -> torch.Tensor:
        """Flat gather index ``(k · 4 · 2**(k-1),)`` into a ``2**k × 2**k`` matrix ``H``: entry
        ``(j, a, c, r)`` is ``H[x, y]`` with ``x``, ``y`` equal to ``r`` on the other wires and ``a``,
        ``c`` on wire ``j`` (first wire most significant), so summing over ``r`` gives the partial
        traces of ``H`` onto each wire ``(k, 2, 2)`` (cached)."""
        key = ("wire_traces", k, device)
        if key not in self._device_cache:
            r = np.arange(1 << (k - 1))
            idx = []
            for j in range(k):
                pos = k - 1 - j
                high, low = (r >> pos) << (pos + 1), r & ((1 << pos) - 1)
                x = [high | low, high | (1 << pos) | low]
                idx.append([[(x[a] << k) + x[c] for c in range(2)] for a in range(2)])
            self._device_cache[key] = torch.as_tensor(np.array(idx).reshape(-1), device=device)
        return self._device_cache[key]


def _move_kernel(k: Kernel, device: torch.device, cdt: torch.dtype) -> Kernel:
    if isinstance(k, PermKernel):
        return PermKernel(
            k.perm.to(device),
            k.inv.to(device),
            None if k.phase is None else k.phase.to(device=device, dtype=cdt),
        )
    return k


# ---------------------------------------------------------------------------
# compilation


def _occurrences(circuit: Circuit):
    """Flatten every gate angle into an occurrence table; returns (table, per-op occ indices)."""
    pidx = {name: i for i, name in enumerate(circuit.param_names)}
    iidx = {name: circuit.n_params + i for i, name in enumerate(circuit.input_names)}
    zero = circuit.n_params + circuit.n_inputs
    slot, scale, offset, kind, rule = [], [], [], [], []
    op_occ: list[list[int]] = []
    for op in circuit.ops:
        ids = []
        g = GATES.get(op.name)
        for a in op.params:
            ids.append(len(slot))
            if isinstance(a, Param):
                is_param = a.kind == "param"
                slot.append(pidx[a.name] if is_param else iidx[a.name])
                scale.append(a.scale)
                offset.append(a.offset)
                kind.append(KIND_PARAM if is_param else KIND_INPUT)
            else:
                slot.append(zero)
                scale.append(0.0)
                offset.append(float(a))
                kind.append(KIND_CONST)
            rule.append(g.shift_rule if g is not None else None)
        op_occ.append(ids)
    table = (
        np.array(slot, dtype=np.int64),
        np.array(scale, dtype=np.float64),
        np.array(offset, dtype=np.float64),
        np.array(kind, dtype=np.int64),
        rule,
    )
    return table, op_occ


def _is_fixed(op: Op) -> bool:
    return op.name == "unitary" or GATES[op.name].n_params == 0


def _fixed_matrix(op: Op) -> np.ndarray:
    if op.name == "unitary":
        return np.asarray(op.matrix, dtype=np.complex128)
    m = GATES[op.name].matrix(torch.zeros(0, dtype=torch.float64)).numpy()
    return np.diag(m) if GATES[op.name].diagonal else m


def _monomial_action(n: int, op: Op) -> tuple[np.ndarray, np.ndarray]:
    """(src, phase) with ``psi'[x] = phase[x] · psi[src[x]]`` for a fixed monomial gate."""
    m = _fixed_matrix(op)
    k = len(op.wires)
    col = np.argmax(np.abs(m) > 1e-12, axis=1)  # column of the non-zero entry in each row
    val = m[np.arange(1 << k), col]
    x = np.arange(1 << n, dtype=np.int64)
    loc = np.zeros_like(x)
    for i, w in enumerate(op.wires):
        loc |= ((x >> (n - 1 - w)) & 1) << (k - 1 - i)
    new = col[loc]
    src = x.copy()
    for i, w in enumerate(op.wires):
        bit = (new >> (k - 1 - i)) & 1
        src = (src & ~(1 << (n - 1 - w))) | (bit << (n - 1 - w))
    return src, val[loc]


def _perm_kernel(n: int, ops: list[Op]) -> PermKernel:
    perm = np.arange(1 << n, dtype=np.int64)
    phase = np.ones(1 << n, dtype=np.complex128)
    for op in ops:
        src, ph = _monomial_action(n, op)
        perm, phase = perm[src], ph * phase[src]
    inv = np.empty_like(perm)
    inv[perm] = np.arange(1 << n)
    has_phase = not np.allclose(phase, 1.0, atol=0, rtol=0)
    return PermKernel(
        torch.as_tensor(perm),
        torch.as_tensor(inv),
        torch.as_tensor(phase) if has_phase else None,
    )


def _chunks(n: int, active: list[int], cmax: int) -> tuple[tuple[int, int], ...]:
    """Contiguous wire ranges (first, width <= ``cmax``) covering ``active`` wires, balanced widths."""
    if not active:
        return ()
    runs: list[list[int]] = [[active[0]]]
    for w in active[1:]:
        runs[-1].append(w) if w == runs[-1][-1] + 1 else runs.append([w])
    # merge runs separated by small gaps (idle wires become identity inside a block)
    out: list[tuple[int, int]] = []
    lo, hi = runs[0][0], runs[0][-1]
    spans = []
    for r in runs[1:]:
        if r[-1] - lo + 1 <= cmax:
            hi = r[-1]
        else:
            spans.append((lo, hi))
            lo, hi = r[0], r[-1]
    spans.append((lo, hi))
    for lo, hi in spans:
        width = hi - lo + 1
        m = -(-width // cmax)
        base, extra = divmod(width, m)
        a = lo
        for i in range(m):
            k = base + (1 if i < extra else 0)
            out.append((a, k))
            a += k
    return tuple(out)


def compile_circuit(circuit: Circuit, block_wires: Optional[int] = None) -> Program:
    """Compile ``circuit`` into a :class:`Program` (memoised on the circuit).

    ``block_wires``: widest fused single-qubit block (default :func:`max_block_wires`).
    Programs of one circuit share its occurrence table whatever the width.
    """
    cmax = max_block_wires(circuit.n_qubits) if block_wires is None else block_wires
    key = "program" if cmax == max_block_wires(circuit.n_qubits) else ("program", cmax)
    memo = circuit.cache()
    if key in memo:
        return memo[key]
    n = circuit.n_qubits
    (slot, scale, offset, kind, rule), op_occ = _occurrences(circuit)

    table_gates: dict[str, list[list[int]]] = {}
    table_fixed: list[np.ndarray] = []
    row_of_op: dict[int, tuple[str, int]] = {}  # op index -> (table part, index in part)
    multi_gates: dict[str, list[list[int]]] = {}
    consts: dict[str, np.ndarray] = {}
    raw_steps: list[tuple] = []  # ("stage", {wire: [op idx]}) | ("kernel", kernel, source)

    def table_row(i: int) -> tuple[str, int]:
        op = circuit.ops[i]
        if _is_fixed(op):
            table_fixed.append(_fixed_matrix(op))
            return ("fixed", len(table_fixed) - 1)
        lst = table_gates.setdefault(op.name, [])
        lst.append(op_occ[i])
        return (op.name, len(lst) - 1)

    pending_1q: dict[int, list[int]] = {}
    pending_multi: list[int] = []
    touched: set[int] = set()

    def flush() -> None:
        nonlocal pending_1q, pending_multi, touched
        if pending_1q:
            for ops in pending_1q.values():
                for i in ops:
                    row_of_op[i] = table_row(i)
            raw_steps.append(("stage", pending_1q))
        run: list[Op] = []
        for i in pending_multi:
            op = circuit.ops[i]
            if _is_fixed(op) and op.name != "unitary" and GATES[op.name].monomial:
                run.append(op)
                continue
            if run:
                raw_steps.append(("kernel", _perm_kernel(n, run), ("none",)))
                run = []
            raw_steps.append(_multi_step(n, i, op))
        if run:
            raw_steps.append(("kernel", _perm_kernel(n, run), ("none",)))
        pending_1q, pending_multi, touched = {}, [], set()

    def _multi_step(n: int, i: int, op: Op) -> tuple:
        wires = op.wires
        if _is_fixed(op):
            key = f"c{i}"
            consts[key] = _fixed_matrix(op)
            source: tuple = ("const", key)
        else:
            lst = multi_gates.setdefault(op.name, [])
            lst.append(op_occ[i])
            source = ("gate", op.name, len(lst) - 1)
        if op.name != "unitary" and GATES[op.name].diagonal:
            return ("kernel", DiagKernel(n, wires), source)
        if list(wires) == list(range(wires[0], wires[0] + len(wires))):
            return ("kernel", BlockKernel(n, wires[0], len(wires)), source)
        return ("kernel", WiresKernel(n, wires), source)

    for i, op in enumerate(circuit.ops):
        if len(op.wires) == 1:
            w = op.wires[0]
            if w in touched:
                flush()
            pending_1q.setdefault(w, []).append(i)
        else:
            pending_multi.append(i)
            touched.update(op.wires)
    flush()

    # Resolve table rows: parametrised kinds first (in insertion order), then fixed, then identity.
    offsets: dict[str, int] = {}
    pos = 0
    for name, lst in table_gates.items():
        offsets[name] = pos
        pos += len(lst)
    offsets["fixed"] = pos
    identity_row = pos + len(table_fixed)

    groups: list[list[_Stage1Q]] = []
    group_of_sig: dict[tuple, int] = {}
    steps: list[_Step] = []
    for item in raw_steps:
        if item[0] == "kernel":
            steps.append(_Step(item[1], item[2]))
            continue
        per_wire: dict[int, list[int]] = item[1]
        chunks = _chunks(n, sorted(per_wire), cmax)
        depth = max(len(v) for v in per_wire.values())
        cwires = [w for a, k in chunks for w in range(a, a + k)]
        rows = np.full((depth, len(cwires)), identity_row, dtype=np.int64)
        for j, w in enumerate(cwires):
            for d, i in enumerate(per_wire.get(w, [])):
                part, idx = row_of_op[i]
                rows[d, j] = offsets[part] + idx
        sig = (chunks, depth)
        if sig not in group_of_sig:
            group_of_sig[sig] = len(groups)
            groups.append([])
        g = group_of_sig[sig]
        groups[g].append(_Stage1Q(chunks, rows))
        member = len(groups[g]) - 1
        for c, (a, k) in enumerate(chunks):
            steps.append(_Step(BlockKernel(n, a, k), ("stage", g, c, member)))

    prog = Program(
        n=n,
        n_params=circuit.n_params,
        n_inputs=circuit.n_inputs,
        occ_slot=slot,
        occ_scale=scale,
        occ_offset=offset,
        occ_kind=kind,
        occ_rule=rule,
        table_gates=[(name, np.array(lst, dtype=np.int64).reshape(len(lst), -1)) for name, lst in table_gates.items()],
        table_fixed=table_fixed,
        multi_gates={name: np.array(lst, dtype=np.int64).reshape(len(lst), -1) for name, lst in multi_gates.items()},
        consts=consts,
        groups=groups,
        steps=steps,
    )
    memo[key] = prog
    return prog
