"""Compile a :class:`~qgm.circuits.Circuit` once into a :class:`Program` of fused steps.

Fusion (what makes the engine fast), for any gate list:

* every gate is placed as early as its wires allow, into an existing step of a
  compatible kind when one is free there (a greedy "gravity" pass, O(log) per gate);
* **stages**: single-qubit gates collected per wire (the per-wire 2×2 products of a
  rotation layer, Hadamards, phases …), applied as dense blocks over groups of wires;
* **monomial runs**: every constant gate that maps basis states to basis states
  (CNOT ladders and rings, Toffolis, SWAPs, X) together with every constant
  *diagonal* gate between them (CZ and controlled-phase ladders, T, S, RZ(const) …)
  compose into one permutation-with-phases, applied as one gather (or one multiply
  when the permutation cancels). Affine runs (CNOT/X/SWAP) compose symbolically over
  GF(2) with their phases as Walsh terms, so compiling thousands of gates takes
  milliseconds; a Toffoli switches its run to explicit index arrays;
* parametrised diagonal multi-qubit gates (RZZ(θ), CRZ(θ)) are one broadcast
  multiply; other multi-qubit gates are dense small matrices.

Matrices of every gate of one kind are built in one vectorised call for the
whole circuit (and the whole batch); binding parameters is cheap. Programs are
cached per circuit structure (:func:`compile_circuit`).

How a stage is cut into blocks is a *plan* (:meth:`Program.plan`), chosen per call:

* ``"pair"`` (small n): two blocks, wires ``[0, h)`` and ``[h, n)``, so a layer is
  two small GEMMs on the state seen as a ``2**h × 2**(n-h)`` matrix;
* ``"rotate"`` (large n): fixed blocks of 4–5 wires, applied as rotating GEMMs
  (:class:`~qgm.sim.kernels.BlockKernel`) when the layer is wide, in place otherwise;
* ``"rows"`` (a batch with one set of angles per state): blocks of at most 4
  contiguous wires applied in place as plain batched GEMMs (per-state Kronecker blocks
  of half the register would cost more to build than to apply);
* ``"plain"``: blocks of at most 4 contiguous wires applied in place, the
  out-of-place path autograd can trace (density matrices, second derivatives).
"""
from __future__ import annotations

import bisect
import functools
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Optional, Sequence

import numpy as np
import torch

from qgm.circuits.circuit import Circuit, Op, Param
from qgm.circuits.gates import GATES, ShiftRule
from qgm.sim.kernels import BlockKernel, DiagKernel, Kernel, PermKernel, WiresKernel

__all__ = ["Program", "Plan", "PlanStep", "compile_circuit", "SMALL_N", "PLANS", "block_widths"]

KIND_PARAM, KIND_INPUT, KIND_CONST = 0, 1, 2
#: Rotations ``exp(-iθP/2)``: their table rows are ``cos(θ/2) I + sin(θ/2) (-iP)``, built and
#: differentiated together in closed form; they come first in the single-qubit table.
ROTATIONS = {"rx": ((0, -1j), (-1j, 0)), "ry": ((0, -1), (1, 0)), "rz": ((-1j, 0), (0, 1j))}
#: Largest n run with the ``"pair"`` plan (state as a matrix of two wire groups). Measured
#: (T2 gradient, A(n, 4), one thread, CPU time): pair/rotate 0.79 at n = 10, 0.85 at 11,
#: 1.10 at 12, 1.43 at 13 -- the rotating plan wins from 12 qubits on.
SMALL_N = 11
PLANS = ("pair", "rotate", "rows", "plain")
#: Programs kept by :func:`compile_circuit` (per circuit structure).
CACHE_SIZE = 64


# ---------------------------------------------------------------------------
# occurrences: every gate angle ``phi[o] = scale[o] * v[slot[o]] + offset[o]``


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


# ---------------------------------------------------------------------------
# gate classes


def _is_fixed(op: Op) -> bool:
    """The gate's matrix is known at compile time (no parameter or input slot)."""
    return op.name == "unitary" or not any(isinstance(a, Param) for a in op.params)


@functools.lru_cache(maxsize=4096)
def _catalogue_matrix(name: str, angles: tuple[float, ...]) -> np.ndarray:
    m = GATES[name].matrix(torch.tensor(angles, dtype=torch.float64)).numpy()
    return np.diag(m) if GATES[name].diagonal else m


def _fixed_matrix(op: Op) -> np.ndarray:
    if op.name == "unitary":
        return np.asarray(op.matrix, dtype=np.complex128)
    return _catalogue_matrix(op.name, tuple(float(a) for a in op.params))


def _is_monomial(op: Op) -> bool:
    """Fixed and one non-zero entry per row (permutation times phases)."""
    if not _is_fixed(op):
        return False
    if op.name != "unitary":
        g = GATES[op.name]
        if g.monomial or g.diagonal:
            return True
    m = np.abs(_fixed_matrix(op)) > 1e-12
    return bool((m.sum(0) == 1).all() and (m.sum(1) == 1).all())


def _is_diagonal(op: Op) -> bool:
    return op.name != "unitary" and GATES[op.name].diagonal


# ---------------------------------------------------------------------------
# monomial runs: composition


def _fwht(v: np.ndarray) -> np.ndarray:
    """Walsh-Hadamard transform ``W[S] = Σ_x v[x] (-1)^{popcount(x & S)}`` (length a power of two)."""
    w = np.array(v, dtype=np.float64)
    h = 1
    while h < len(w):
        w3 = w.reshape(-1, 2, h)
        first = w3[:, 0].copy()
        w3[:, 0] += w3[:, 1]
        w3[:, 1] = first - w3[:, 1]
        h *= 2
    return w


def _xor_span(cols: Sequence[int], m: int) -> np.ndarray:
    """``f(x) = XOR of cols[j] over the set bits j of x``, for all ``x < 2**m`` (by doubling)."""
    out = np.zeros(1 << m, dtype=np.int64)
    for j in range(m):
        out[1 << j : 2 << j] = out[: 1 << j] ^ np.int64(cols[j])
    return out


@dataclass(frozen=True)
class _GateMap:
    """A constant monomial gate as a map on its ``k`` local bits (gate-local bit ``j`` is its
    wire ``k-1-j``): ``out[l] = val[l] · in[col[l]]``; affine data and Walsh phases when affine."""

    col: np.ndarray
    val: np.ndarray
    affine: bool
    d: int = 0
    images: tuple[int, ...] = ()  # images of the gate-local unit vectors under l -> col[l] ⊕ d
    g: float = 0.0  # global phase angle
    walsh: tuple[tuple[int, float], ...] = ()  # (gate-local mask, angle) of the phase's Walsh terms

    @property
    def permutes(self) -> bool:
        return self.d != 0 or any(img != 1 << j for j, img in enumerate(self.images))


@functools.lru_cache(maxsize=4096)
def _gate_map_of(key: bytes, k: int) -> _GateMap:
    mat = np.frombuffer(key, dtype=np.complex128).reshape(1 << k, 1 << k)
    col = np.argmax(np.abs(mat) > 1e-12, axis=1)
    val = mat[np.arange(1 << k), col]
    d = int(col[0])
    images = tuple(int(col[1 << j]) ^ d for j in range(k))
    affine = all(
        int(col[x]) == d ^ functools.reduce(lambda acc, j: acc ^ images[j], [j for j in range(k) if x >> j & 1], 0)
        for x in range(1 << k)
    ) and bool(np.all(np.abs(np.abs(val) - 1) < 1e-9))
    if not affine:
        return _GateMap(col, val, False)
    w = _fwht(np.angle(val)) / len(val)  # angle(l) = Σ_S w[S] (-1)^{l·S} and (-1)^p = 1 - 2p
    walsh = tuple((int(sm), float(-2.0 * w[sm])) for sm in range(1, len(w)) if abs(w[sm]) > 1e-15)
    return _GateMap(col, val, True, d, images, float(w.sum()), walsh)


class _Monomial:
    """A constant monomial map on ``m`` local wires (local wire ``w`` is bit ``m-1-w``),
    ``out[x] = phase(x) · in[src(x)]``, composed gate by gate.

    Affine form (CNOT, X, SWAP, CZ, every diagonal): bit ``p`` of ``src(x)`` is
    ``parity(x & rows[p]) ⊕ b_p`` and ``phase(x) = exp(i (g + Σ_μ θ_μ parity(x & μ)))``
    (Walsh terms), so a gate costs O(masks it touches). A non-affine gate (Toffoli)
    switches the run to explicit arrays over the ``2**m`` indices.
    """

    def __init__(self, m: int) -> None:
        self.m = m
        self.rows = [1 << p for p in range(m)]
        self.b = 0
        self.g = 0.0
        self.terms: dict[int, float] = {}
        self.src: Optional[np.ndarray] = None
        self.phase: Optional[np.ndarray] = None

    def add(self, wires: tuple[int, ...], mat: np.ndarray) -> None:
        """Compose the monomial ``mat`` on local ``wires`` (first = gate MSB) after the current map."""
        gm = _gate_map_of(np.ascontiguousarray(mat, dtype=np.complex128).tobytes(), len(wires))
        if self.src is None and not gm.affine:
            self.src, self.phase = self.affine_src(), np.exp(1j * self.phase_angles())
        if self.src is None:
            self._affine_add(wires, gm)
        else:
            self._array_add(wires, gm.col, gm.val)

    def _affine_add(self, wires: tuple[int, ...], gm: _GateMap) -> None:
        k = len(wires)
        run_bit = [1 << (self.m - 1 - wires[k - 1 - j]) for j in range(k)]  # gate-local bit j -> run bit
        if gm.permutes:
            gate_mask = sum(run_bit)
            table = []  # gate bits of a mask μ -> gate bits of ct(μ), with ct the mask transform of
            for gmask in range(1 << k):  # parity(s_G(x) & μ) = parity(x & ct(μ)) ⊕ parity(d & μ)
                out = 0
                for j in range(k):
                    if (gm.images[j] & gmask).bit_count() & 1:
                        out |= run_bit[j]
                table.append(out)

            def ct(mu: int) -> int:
                gmask = 0
                for j in range(k):
                    if mu & run_bit[j]:
                        gmask |= 1 << j
                return (mu & ~gate_mask) | table[gmask]

            dm = sum(run_bit[j] for j in range(k) if gm.d >> j & 1)
            for p, r in enumerate(self.rows):
                if r & gate_mask:
                    if (dm & r).bit_count() & 1:
                        self.b ^= 1 << p
                    self.rows[p] = ct(r)
            terms: dict[int, float] = {}
            for mu, theta in self.terms.items():
                if mu & gate_mask:
                    if (dm & mu).bit_count() & 1:
                        self.g += theta
                        theta = -theta
                    mu = ct(mu)
                terms[mu] = terms.get(mu, 0.0) + theta
            self.terms = terms
        self.g += gm.g
        for sm, c in gm.walsh:
            mu = sum(run_bit[j] for j in range(k) if sm >> j & 1)
            self.terms[mu] = self.terms.get(mu, 0.0) + c

    def _array_add(self, wires: tuple[int, ...], col: np.ndarray, val: np.ndarray) -> None:
        m, k = self.m, len(wires)
        x = np.arange(1 << m, dtype=np.int64)
        loc = np.zeros_like(x)
        for i, w in enumerate(wires):
            loc |= ((x >> (m - 1 - w)) & 1) << (k - 1 - i)
        new = col[loc]
        xs = x.copy()
        for i, w in enumerate(wires):
            bit = (new >> (k - 1 - i)) & 1
            xs = (xs & ~np.int64(1 << (m - 1 - w))) | (bit << (m - 1 - w))
        assert self.src is not None and self.phase is not None
        self.src, self.phase = self.src[xs], val[loc] * self.phase[xs]

    def affine_src(self) -> np.ndarray:
        cols = [sum(1 << p for p in range(self.m) if self.rows[p] >> j & 1) for j in range(self.m)]
        return _xor_span(cols, self.m) ^ np.int64(self.b)

    def phase_angles(self) -> np.ndarray:
        size = 1 << self.m
        terms = {mu: th for mu, th in self.terms.items() if th != 0.0}
        if 2 * len(terms) > self.m:  # Σ θ parity(x&μ) = Σθ/2 - WHT(θ)/2
            v = np.zeros(size)
            for mu, th in terms.items():
                v[mu] += th
            return self.g + v.sum() / 2 - _fwht(v) / 2
        ang = np.full(size, self.g)
        for mu, th in terms.items():
            ang += th * _xor_span([(mu >> j) & 1 for j in range(self.m)], self.m)
        return ang

    @property
    def is_identity_perm(self) -> bool:
        return self.src is None and self.b == 0 and all(r == 1 << p for p, r in enumerate(self.rows))

    def phase_wires(self) -> list[int]:
        """Local wires the phase depends on (affine runs)."""
        used = 0
        for mu, th in self.terms.items():
            if th != 0.0:
                used |= mu
        return [w for w in range(self.m) if used >> (self.m - 1 - w) & 1]

    def arrays(self) -> tuple[Optional[np.ndarray], Optional[np.ndarray]]:
        """(src, phase) over the ``2**m`` local indices; ``None`` for an identity part."""
        if self.src is not None:
            assert self.phase is not None
            ident = np.arange(1 << self.m, dtype=np.int64)
            phase = None if np.allclose(self.phase, 1.0, atol=1e-14, rtol=0) else self.phase
            return (None if np.array_equal(self.src, ident) else self.src), phase
        src = None if self.is_identity_perm else self.affine_src()
        flat = abs(self.g) < 1e-15 and not any(th != 0.0 for th in self.terms.values())
        return src, None if flat else np.exp(1j * self.phase_angles())


#: A diagonal run whose phase depends on at most this many wires becomes a small
#: :class:`DiagKernel` (a broadcast multiply) instead of a phase vector over its span.
SMALL_DIAG_WIRES = 10


def _to_span(local: np.ndarray, used: list[int], span: int, values: bool) -> np.ndarray:
    """A map over the local indices of wires ``used`` (offsets in a span of ``span`` wires)
    extended to all ``2**span`` indices: indices (``values=False``: local indices mapped back into
    the span, other bits kept) or per-index values (``values=True``)."""
    scatter = _xor_span([1 << (span - 1 - used[len(used) - 1 - j]) for j in range(len(used))], len(used))
    gather = _xor_span([1 << (len(used) - 1 - used.index(span - 1 - j)) if (span - 1 - j) in used else 0
                        for j in range(span)], span)
    if values:
        return local[gather]
    rest = np.arange(1 << span, dtype=np.int64) & ~np.int64(scatter[-1])
    return rest | scatter[local][gather]


def _mono_step(n: int, ops: list[Op], consts: dict[str, np.ndarray], key: str):
    """One kernel step for a run of constant monomial gates: a broadcast multiply when the run is
    a phase on few wires, else a gather (with phases) over the span of its wires."""
    used = sorted({w for op in ops for w in op.wires})
    pos = {w: i for i, w in enumerate(used)}
    run = _Monomial(len(used))
    for op in ops:
        run.add(tuple(pos[w] for w in op.wires), _fixed_matrix(op))
    if run.is_identity_perm:
        wires = run.phase_wires() or [0]
        if len(wires) <= SMALL_DIAG_WIRES:
            sub = _Monomial(len(wires))
            sub.g = run.g
            for mu, th in run.terms.items():
                sub.terms[sum(1 << (len(wires) - 1 - i) for i, w in enumerate(wires)
                              if mu >> (run.m - 1 - w) & 1)] = th
            consts[key] = np.exp(1j * sub.phase_angles())
            return KernelStep(DiagKernel(n, tuple(used[w] for w in wires)), ("const", key))
    src, phase = run.arrays()
    lo = used[0]
    span = used[-1] - lo + 1
    rel = [w - lo for w in used]
    if src is not None and len(used) < span:
        src = _to_span(src, rel, span, values=False)
    if phase is not None and len(used) < span:
        phase = _to_span(phase, rel, span, values=True)
    if src is None and phase is None:
        phase = np.ones(1 << span, dtype=np.complex128)  # a run that cancels: keep one trivial multiply
    kernel = PermKernel(
        n, lo, span,
        None if src is None else torch.from_numpy(np.ascontiguousarray(src, dtype=np.int64)),
        None if phase is None else torch.from_numpy(np.ascontiguousarray(phase)),
    )
    return KernelStep(kernel, ("none",))


# ---------------------------------------------------------------------------
# placement


#: Widest run of constant monomial gates holding a non-affine gate (Toffoli): such runs are
#: composed as explicit index arrays (``2**wires`` entries per gate), so they are cut here.
MAX_ARRAY_WIRES = 12


@dataclass
class _Slot:
    """A step under construction: its kind, wires and gate indices."""

    kind: str  # "stage" | "mono" | "diag" | "dense"
    wires: set = field(default_factory=set)
    ops: list = field(default_factory=list)
    per_wire: dict = field(default_factory=dict)  # stages: wire -> [op indices]
    affine: bool = True  # monomial runs: every gate affine over GF(2)


def _affine(op: Op) -> bool:
    m = _fixed_matrix(op)
    return _gate_map_of(np.ascontiguousarray(m, dtype=np.complex128).tobytes(), len(op.wires)).affine


def _classify(op: Op) -> str:
    if len(op.wires) == 1:
        return "mono1" if _is_monomial(op) else "stage"
    if _is_monomial(op):
        return "mono"
    if _is_diagonal(op) and not _is_fixed(op):
        return "diag"
    return "dense"


def _place(circuit: Circuit) -> list[_Slot]:
    """Greedy placement: each gate joins the earliest compatible step at or after the last
    step touching its wires (gates between commute with it), or opens a new step."""
    slots: list[_Slot] = []
    last = [-1] * circuit.n_qubits
    of_kind: dict[str, list[int]] = {"stage": [], "mono": []}

    def earliest(kind: str, after: int, op: Optional[Op] = None) -> Optional[int]:
        lst = of_kind[kind]
        for i in range(bisect.bisect_right(lst, after), len(lst)):
            if op is None or fits(slots[lst[i]], op):
                return lst[i]
        return None

    def fits(slot: _Slot, op: Op) -> bool:
        """A non-affine monomial run stays within :data:`MAX_ARRAY_WIRES` wires."""
        if slot.kind != "mono" or (slot.affine and _affine(op)):
            return True
        return len(slot.wires | set(op.wires)) <= MAX_ARRAY_WIRES

    def new(kind: str) -> int:
        slots.append(_Slot(kind))
        if kind in of_kind:
            of_kind[kind].append(len(slots) - 1)
        return len(slots) - 1

    for i, op in enumerate(circuit.ops):
        cls = _classify(op)
        dep = max(last[w] for w in op.wires)
        dep_kind = slots[dep].kind if dep >= 0 else None
        if cls == "stage" or (cls == "mono1" and dep_kind == "stage"):
            j = dep if dep_kind == "stage" else earliest("stage", dep)
            j = new("stage") if j is None else j
        elif cls in ("mono", "mono1"):
            j = dep if dep_kind == "mono" and fits(slots[dep], op) else earliest("mono", dep, op)
            j = new("mono") if j is None else j
        else:
            j = new(cls)
        s = slots[j]
        s.ops.append(i)
        s.wires.update(op.wires)
        if s.kind == "mono":
            s.affine = s.affine and _affine(op)
        if s.kind == "stage":
            s.per_wire.setdefault(op.wires[0], []).append(i)
        for w in op.wires:
            last[w] = j
    return slots


# ---------------------------------------------------------------------------
# the program


@dataclass
class StageStep:
    """A layer of single-qubit gates: member ``member`` of stage group ``group``."""

    group: int
    member: int
    wires: tuple[int, ...]


@dataclass
class KernelStep:
    """A kernel outside stages and where its matrix comes from."""

    kernel: Kernel
    source: tuple  # ("gate", name, j) | ("const", key) | ("none",)


@dataclass
class PlanStep:
    """One kernel of a plan: the kernel, its matrix source, and which pair it is differentiated from.

    ``source``: ``("block", group, member, a, k)`` (a stage block), ``("gate", name, j)``,
    ``("const", key)`` or ``("none",)``. ``pair``: index of the plan step at whose
    output the gradient/state pair of this kernel is taken (``-1``: nothing to differentiate).
    """

    kernel: Kernel
    source: tuple
    pair: int = -1


@dataclass
class Plan:
    """The kernels of a program for one plan kind (see module docstring)."""

    kind: str
    steps: list[PlanStep]
    pair_points: list[int]  # sorted plan-step indices whose output states are paired
    _cache: dict = field(default_factory=dict, repr=False)

    @property
    def kernels(self) -> list[Kernel]:
        return [s.kernel for s in self.steps]

    def on(self, device: torch.device, cdtype: torch.dtype) -> list[Kernel]:
        """The kernels with their constant tensors on ``device`` (cached)."""
        key = (device, cdtype)
        if key not in self._cache:
            self._cache[key] = [_move_kernel(s.kernel, device, cdtype) for s in self.steps]
        return self._cache[key]


def _move_kernel(k: Kernel, device: torch.device, cdt: torch.dtype) -> Kernel:
    if isinstance(k, PermKernel):
        return PermKernel(
            k.n, k.lo, k.m,
            None if k.src is None else k.src.to(device),
            None if k.phase is None else k.phase.to(device=device, dtype=cdt),
        )
    return k


def block_widths(n: int) -> list[int]:
    """Widths (4 or 5, summing to n) of the rotating blocks of the ``"rotate"`` plan.

    On CPU a block of 4–5 wires is the narrowest whose GEMM runs near the
    arithmetic peak (narrower ones are bound by MKL's small-matrix overhead, wider
    ones cost 2**k multiply-adds per amplitude for little gain).
    """
    if n < 8:
        return [n]
    fives = n % 4  # n = 4a + 5b with the fewest fives (b ≡ n mod 4); n = 11 has no such split
    if 5 * fives <= n:
        return [4] * ((n - 5 * fives) // 4) + [5] * fives
    parts = -(-n // 5)
    return [n // parts + (1 if i < n % parts else 0) for i in range(parts)]


def _plain_chunks(active: list[int], cmax: int) -> list[tuple[int, int]]:
    """Contiguous wire ranges (first, width <= ``cmax``) covering ``active`` wires, balanced widths."""
    runs: list[list[int]] = [[active[0]]]
    for w in active[1:]:
        runs[-1].append(w) if w == runs[-1][-1] + 1 else runs.append([w])
    # merge runs separated by small gaps (idle wires become identity inside a block)
    spans = []
    lo, hi = runs[0][0], runs[0][-1]
    for r in runs[1:]:
        if r[-1] - lo + 1 <= cmax:
            hi = r[-1]
        else:
            spans.append((lo, hi))
            lo, hi = r[0], r[-1]
    spans.append((lo, hi))
    out: list[tuple[int, int]] = []
    for lo, hi in spans:
        width = hi - lo + 1
        m = -(-width // cmax)
        base, extra = divmod(width, m)
        a = lo
        for i in range(m):
            k = base + (1 if i < extra else 0)
            out.append((a, k))
            a += k
    return out


@dataclass
class Program:
    """A circuit compiled for the engine. Build with :func:`compile_circuit`.

    Angles of every gate occurrence ``o`` are ``phi[o] = scale[o] * v[slot[o]] + offset[o]``
    with ``v = [params, inputs, 0]``. ``steps`` is the structural program (stages,
    monomial runs and multi-qubit kernels in order); :meth:`plan` cuts its stages
    into blocks.
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
    consts: dict[str, np.ndarray]  # constant dense matrices of multi-qubit kernels
    group_rows: list[np.ndarray]  # per stage group: (members, depth, n) rows of the 1q table
    steps: list  # StageStep | KernelStep
    _device_cache: dict = field(default_factory=dict, repr=False)

    @property
    def n_occ(self) -> int:
        return len(self.occ_slot)

    def differentiated(self, params: bool, inputs: bool) -> np.ndarray:
        """Occurrences whose angle depends on a parameter (``params``) or input (``inputs``) slot."""
        key = ("differentiated", params, inputs)
        if key not in self._device_cache:
            k = self.occ_kind
            self._device_cache[key] = ((k == KIND_PARAM) & params) | ((k == KIND_INPUT) & inputs)
        return self._device_cache[key]

    def shiftable(self, params: bool, inputs: bool) -> bool:
        """Every differentiated occurrence has a parameter-shift rule."""
        key = ("shiftable", params, inputs)
        if key not in self._device_cache:
            mask = self.differentiated(params, inputs)
            self._device_cache[key] = all(r is not None for r, m in zip(self.occ_rule, mask) if m)
        return self._device_cache[key]

    @functools.cached_property
    def constant(self) -> bool:
        """No angle depends on a parameter or input slot (its matrices can be built once)."""
        return bool((self.occ_kind == KIND_CONST).all())

    @functools.cached_property
    def n_rotation_rows(self) -> int:
        return sum(len(occ) for name, occ in self.table_gates if name in ROTATIONS)

    @functools.cached_property
    def identity_row(self) -> int:
        return sum(len(occ) for _, occ in self.table_gates) + len(self.table_fixed)

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
                "rows": [torch.as_tensor(r, device=device) for r in self.group_rows],
                "rot_occ": torch.as_tensor(
                    np.concatenate([occ[:, 0] for name, occ in self.table_gates if name in ROTATIONS]
                                   + [np.zeros(0, np.int64)]),
                    device=device,
                ),
                "ones": torch.ones(max(1, sum(len(o) for _, o in self.table_gates)), dtype=rdtype, device=device),
                "rot_gen": torch.as_tensor(
                    np.concatenate([np.repeat(np.array(ROTATIONS[name])[None], len(occ), 0)
                                    for name, occ in self.table_gates if name in ROTATIONS] + [np.zeros((0, 2, 2))]),
                    dtype=cdt, device=device,
                ),
                "consts": {k: torch.as_tensor(np.array(v), dtype=cdt, device=device)[None]
                           for k, v in self.consts.items()},
            }
            gen = t["rot_gen"].reshape(-1, 1, 4)
            eye = torch.eye(2, dtype=cdt, device=device).reshape(1, 1, 4).expand_as(gen)
            t["rot_basis"] = torch.cat([eye, gen], 1)  # (R, 2, 4): rows cos·I + sin·G
            self._device_cache[key] = t
        return self._device_cache[key]

    @property
    def stages_unitary(self) -> bool:
        """Whether every fixed single-qubit matrix of the stages is unitary (to 1e-12)."""
        return all(np.allclose(m @ m.conj().T, np.eye(2), rtol=0, atol=1e-12) for m in self.table_fixed)

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

    def plan(self, kind: str) -> Plan:
        """The program cut into kernels for plan ``kind`` (:data:`PLANS`; cached)."""
        key = ("plan", kind)
        if key not in self._device_cache:
            self._device_cache[key] = _make_plan(self, kind)
        return self._device_cache[key]


def _stage_blocks(program: Program, wires: tuple[int, ...], kind: str) -> tuple[list[tuple[int, int]], bool]:
    """Blocks ``(a, k)`` of a stage with active ``wires`` and whether they rotate.

    A layer whose blocks are not all active but all sit where an in-place GEMM is
    efficient (first, last, long stride) is applied in place, its active blocks only;
    otherwise every block of the plan's partition is applied as a rotating GEMM.
    A ``"pair"`` layer on at most half the wires, and every ``"rows"`` layer, uses
    narrow blocks in place.
    """
    n = program.n
    if kind in ("plain", "rows") or n == 1 or (kind == "pair" and 2 * len(wires) <= n):
        # sparse layers of small circuits: narrow blocks in place (a dense half-register block
        # would cost 2**(n/2) multiply-adds per amplitude for a few gates)
        return _plain_chunks(list(wires), 4), False
    if kind == "pair" or n < 8:
        h = (n + 1) // 2
        widths = [h, n - h]
    else:
        widths = block_widths(n)
    blocks, a = [], 0
    for k in widths:
        blocks.append((a, k))
        a += k
    active = [(a, k) for a, k in blocks if any(a <= w < a + k for w in wires)]
    if len(active) < len(blocks) and all(BlockKernel(n, a, k).in_place_fast for a, k in active):
        return active, False
    return blocks, True


def _make_plan(program: Program, kind: str) -> Plan:
    if kind not in PLANS:
        raise ValueError(f"plan kind must be one of {PLANS}, got {kind!r}")
    n = program.n
    steps: list[PlanStep] = []
    for st in program.steps:
        if isinstance(st, KernelStep):
            diff = st.source[0] == "gate"
            steps.append(PlanStep(st.kernel, st.source, len(steps) if diff else -1))
            continue
        blocks, rotate = _stage_blocks(program, st.wires, kind)
        first = len(steps)
        for a, k in blocks:
            has_active = any(a <= w < a + k for w in st.wires)
            steps.append(PlanStep(BlockKernel(n, a, k, rotate), ("block", st.group, st.member, a, k),
                                  -2 if has_active else -1))
        for i in range(first, len(steps)):
            if steps[i].pair == -2:  # rotating blocks pair at their own output, in-place ones at the stage's
                steps[i].pair = i if rotate else len(steps) - 1
    points = sorted({s.pair for s in steps if s.pair >= 0})
    return Plan(kind, steps, points)


# ---------------------------------------------------------------------------
# compilation

_CACHE: "OrderedDict[tuple, Program]" = OrderedDict()


def _structure_key(circuit: Circuit) -> tuple:
    ops = tuple(
        (op.name, op.wires, op.params, None if op.matrix is None else np.asarray(op.matrix).tobytes())
        for op in circuit.ops
    )
    return (circuit.n_qubits, circuit.param_names, circuit.input_names, ops)


def compile_circuit(circuit: Circuit) -> Program:
    """Compile ``circuit`` into a :class:`Program` (memoised on the circuit and per structure)."""
    memo = circuit.cache()
    if "program" in memo:
        return memo["program"]
    key = _structure_key(circuit)
    prog = _CACHE.get(key)
    if prog is None:
        prog = _compile(circuit)
        _CACHE[key] = prog
        while len(_CACHE) > CACHE_SIZE:
            _CACHE.popitem(last=False)
    else:
        _CACHE.move_to_end(key)
    memo["program"] = prog
    return prog


def _compile(circuit: Circuit) -> Program:
    n = circuit.n_qubits
    (slot, scale, offset, kind, rule), op_occ = _occurrences(circuit)
    table_gates: dict[str, list[list[int]]] = {}
    table_fixed: list[np.ndarray] = []
    multi_gates: dict[str, list[list[int]]] = {}
    consts: dict[str, np.ndarray] = {}
    mono_cache: dict[tuple, KernelStep] = {}

    def table_row(i: int) -> tuple[str, int]:
        op = circuit.ops[i]
        if _is_fixed(op):
            table_fixed.append(_fixed_matrix(op))
            return ("fixed", len(table_fixed) - 1)
        lst = table_gates.setdefault(op.name, [])
        lst.append(op_occ[i])
        return (op.name, len(lst) - 1)

    def multi_step(i: int) -> KernelStep:
        op = circuit.ops[i]
        wires = op.wires
        if _is_fixed(op):
            key = f"c{i}"
            consts[key] = _fixed_matrix(op)
            source: tuple = ("const", key)
        else:
            lst = multi_gates.setdefault(op.name, [])
            lst.append(op_occ[i])
            source = ("gate", op.name, len(lst) - 1)
        if _is_diagonal(op):
            return KernelStep(DiagKernel(n, wires), source)
        if list(wires) == list(range(wires[0], wires[0] + len(wires))):
            return KernelStep(BlockKernel(n, wires[0], len(wires)), source)
        return KernelStep(WiresKernel(n, wires), source)

    raw: list = []
    for s in _place(circuit):
        if s.kind == "stage":
            rows = {w: [table_row(i) for i in ops] for w, ops in s.per_wire.items()}
            raw.append(("stage", rows))
        elif s.kind == "mono":
            ops = [circuit.ops[i] for i in s.ops]
            key = tuple(ops)
            if key not in mono_cache:
                mono_cache[key] = _mono_step(n, ops, consts, f"m{len(mono_cache)}")
            raw.append(("kernel", mono_cache[key]))
        else:
            raw.append(("kernel", multi_step(s.ops[0])))

    # table rows: rotations, other parametrised kinds (insertion order), fixed, identity
    table_gates = dict(sorted(table_gates.items(), key=lambda kv: kv[0] not in ROTATIONS))
    offsets: dict[str, int] = {}
    pos = 0
    for name, lst in table_gates.items():
        offsets[name] = pos
        pos += len(lst)
    offsets["fixed"] = pos
    identity = pos + len(table_fixed)
    groups: dict[int, list[np.ndarray]] = {}
    steps: list = []
    for item in raw:
        if item[0] == "kernel":
            steps.append(item[1])
            continue
        per_wire = item[1]
        depth = max(len(v) for v in per_wire.values())
        rows = np.full((depth, n), identity, dtype=np.int64)
        for w, lst in per_wire.items():
            for d, (part, idx) in enumerate(lst):
                rows[d, w] = offsets[part] + idx
        members = groups.setdefault(depth, [])
        members.append(rows)
        steps.append(StageStep(depth, len(members) - 1, tuple(sorted(per_wire))))
    depths = sorted(groups)
    for st in steps:
        if isinstance(st, StageStep):
            st.group = depths.index(st.group)
    return Program(
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
        group_rows=[np.stack(groups[d]) for d in depths],
        steps=steps,
    )
