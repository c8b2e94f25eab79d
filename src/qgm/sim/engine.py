"""The public engine: ``state``, ``probs``, ``expval`` and ``sample``.

All functions are batched over the leading dimensions of ``params``
``(*bp, n_params)`` and ``inputs`` ``(*bi, n_inputs)`` (broadcast together), run
on the device of ``params``, and default to complex128 (``dtype=torch.complex64``
opt-in). Wire 0 is the most significant bit of a basis index.

Differentiation (``diff_method``, default ``"auto"``; names and the ``auto`` rule in
:mod:`qgm.sim.diff`):

* ``"backprop"``: the whole circuit is one autograd node (:class:`~qgm.sim.evolve.Evolve`)
  that keeps the states its closed-form backward reads, in reused buffers;
* ``"adjoint"``: the same node un-computing the state instead (memory of three states);
* ``"parameter-shift"``: shifted re-evaluation (also with finite ``shots``);
* ``"auto"``: parameter shift with shots, else backprop while its saved states fit
  the budget of :func:`~qgm.sim.diff.resolve_diff_method`, else adjoint.
"""
from __future__ import annotations

from typing import Optional, Sequence

import torch

from qgm.circuits.circuit import Circuit
from qgm.errors import ParameterError
from qgm.sim.diff import DIFF_METHODS, canonical_diff_method, resolve_diff_method
from qgm.sim.evolve import bind, zero_state
from qgm.sim.executable import evolve_params, plan_kind, run
from qgm.sim.head import HEAD_MIN_N, head_programs, head_state
from qgm.sim.observables import Observable, born, pauli_expectations
from qgm.sim.program import Program, compile_circuit
from qgm.sim.sampling import frequencies, sample_indices
from qgm.sim.shift import ShiftMeasure
from qgm.sim.validate import (
    as_angles,
    broadcast_batch,
    check_generator,
    check_initial_state,
    check_memory,
    check_sample_shots,
    check_shots,
    observable_terms,
    real_dtype_of,
)

__all__ = ["state", "probs", "expval", "sample", "marginal", "DIFF_METHODS"]

#: Largest n whose |0…0⟩ is kept as a cached read-only state (beyond, it is written per call).
ZERO_CACHE_MAX_N = 16


class _Bound:
    """Validated, bound call: program, angles, batch shape and initial state."""

    def __init__(
        self,
        circuit: Circuit,
        params,
        inputs,
        initial_state: Optional[torch.Tensor],
        dtype: torch.dtype,
        unit_norm: bool = True,
    ) -> None:
        if not isinstance(circuit, Circuit):
            raise ParameterError(f"circuit: expected a qgm.Circuit, got {type(circuit).__name__}")
        rdt = real_dtype_of(dtype)
        device = params.device if isinstance(params, torch.Tensor) else (
            inputs.device if isinstance(inputs, torch.Tensor) else None
        )
        self.params = as_angles(params, circuit.n_params, "params", rdt, device)
        self.inputs = as_angles(inputs, circuit.n_inputs, "inputs", rdt, self.params.device)
        self.device = self.params.device
        self.n = circuit.n_qubits
        self.dtype = dtype
        shapes = [("params", self.params.shape[:-1]), ("inputs", self.inputs.shape[:-1])]
        angles = broadcast_batch(*shapes)
        if initial_state is not None:
            initial_state = check_initial_state(initial_state, self.n, unit_norm=unit_norm)
            shapes.append(("initial_state", initial_state.shape[:-1]))
        batch = broadcast_batch(*shapes)
        self.batch = batch
        self.size = max(int(torch.Size(batch).numel()), 1)
        # angles shared by the whole batch stay one row; otherwise one row per batch element
        self.shared = int(torch.Size(angles).numel()) == 1
        # a forward pass holds the returned state and one work state (and its inputs' angles)
        check_memory(self.n, self.size, dtype, self.device, copies=2 + (initial_state is not None))
        self.circuit = circuit
        self.program: Program = compile_circuit(circuit)
        self.initial_state = initial_state

    @property
    def requires_grad(self) -> bool:
        return torch.is_grad_enabled() and (
            self.params.requires_grad or self.inputs.requires_grad
            or (self.initial_state is not None and self.initial_state.requires_grad)
        )

    def phi(self) -> torch.Tensor:
        """Angles ``(1 or B, n_occ)``."""
        if self.shared:
            phi, _ = bind(self.program, self.params.reshape(1, self.params.shape[-1]),
                          self.inputs.reshape(1, self.inputs.shape[-1]))
            return phi
        phi, _ = bind(self.program, self.params.expand(*self.batch, -1), self.inputs)
        return phi

    def psi0(self) -> Optional[torch.Tensor]:
        """The initial states ``(B, 2**n)``; ``None`` for |0…0⟩ at large n (the executable writes it
        into a buffer it has anyway instead of keeping a cached state)."""
        if self.initial_state is None:
            return zero_state(self.n, self.size, self.dtype, self.device) if self.n <= ZERO_CACHE_MAX_N else None
        s = self.initial_state.to(dtype=self.dtype, device=self.device)
        return s.expand(*self.batch, -1).reshape(-1, 2**self.n)

    def need_mask(self) -> torch.Tensor:
        """Occurrences whose angle depends on a differentiated slot ``(n_occ,)`` bool."""
        return torch.from_numpy(self.program.differentiated(self.params.requires_grad, self.inputs.requires_grad))

    def method(self, diff_method: str, shots: Optional[int], measured: bool) -> str:
        """The concrete differentiation method of this call (validated in :mod:`qgm.sim.diff`)."""
        name = canonical_diff_method(diff_method)
        if not self.requires_grad:
            if not measured and name == "parameter-shift":
                resolve_diff_method(name, n_qubits=self.n, measured=False)  # raises: a state has no shift rule
            return "backprop"
        plan = self.program.plan(plan_kind(self.n, not self.shared and self.size > 1))
        method = resolve_diff_method(
            diff_method,
            n_qubits=self.n,
            batch_size=self.size,
            shots=shots,
            n_saved=len(plan.pair_points),
            shiftable=self.program.shiftable(self.params.requires_grad, self.inputs.requires_grad),
            measured=measured,
            dtype=self.dtype,
            device=self.device,
        )
        if method == "parameter-shift" and self.initial_state is not None and self.initial_state.requires_grad:
            raise ParameterError(
                "initial_state requires grad but parameter shift differentiates only the circuit's angles; "
                "use diff_method='backprop' or 'adjoint' (or 'auto') with shots=None, or detach initial_state"
            )
        return method

    def states(self, method: str, output: str = "state") -> torch.Tensor:
        """Final states ``(B, 2**n)``, differentiable (one autograd node) when anything requires grad.

        A differentiated run also holds the gradient and its work states: 6 states with the
        adjoint method, 4 plus the saved states with backprop (checked before allocating)."""
        split = self.head_split(method)
        if self.requires_grad:
            saved = len(self.program.plan(plan_kind(self.n, not self.shared and self.size > 1)).pair_points)
            copies = 6 if method == "adjoint" else 4 + saved + (2 if split else 0)  # the head state and its gradient
            check_memory(self.n, self.size, self.dtype, self.device, copies=copies)
        if self.shared:
            p, x = self.params.reshape(1, -1), self.inputs.reshape(1, -1)
        else:
            p = self.params.expand(*self.batch, -1).reshape(self.size, -1)
            x = self.inputs.expand(*self.batch, -1).reshape(self.size, -1)
        if split is not None:
            head, tail = split
            return evolve_params(tail, head_state(head, p, x, self.dtype), p, x, "backprop", 1, self.dtype, output)
        return evolve_params(self.program, self.psi0(), p, x, "adjoint" if method == "adjoint" else "backprop",
                             self.size, self.dtype, output)

    def head_split(self, method: str) -> Optional[tuple[Program, Program]]:
        """The compiled head and tail (:mod:`qgm.sim.head`) where a differentiated backprop call from
        |0…0⟩ with one set of angles on at least ``HEAD_MIN_N`` qubits runs its leading layer as a
        product state; ``None`` otherwise."""
        if (method != "backprop" or not self.requires_grad or self.initial_state is not None
                or self.size != 1 or self.n < HEAD_MIN_N):
            return None
        return head_programs(self.circuit)

    def run(self, phi: torch.Tensor) -> torch.Tensor:
        """Final states for angles ``phi`` without autograd: ``(B, 2**n)`` for 1 or B rows of angles,
        ``(e·B, 2**n)`` for ``e·B`` rows (shifted evaluations, ``e``-major)."""
        psi0 = self.psi0()
        rows = phi.shape[0]
        batch = self.size
        if rows not in (1, self.size):
            batch = rows
            psi0 = None if psi0 is None else psi0.repeat(rows // self.size, 1)
        return run(self.program, psi0, phi, batch, self.dtype)

    def shape(self, t: torch.Tensor) -> torch.Tensor:
        return t.reshape(*self.batch, *t.shape[1:])


def marginal(p: torch.Tensor, wires: Sequence[int], n: int) -> torch.Tensor:
    """Marginal of probabilities ``p`` ``(B, 2**n)`` on ``wires`` (in the given order) -> ``(B, 2**k)``."""
    wires = [int(w) for w in wires]
    if len(set(wires)) != len(wires) or not all(0 <= w < n for w in wires):
        raise ParameterError(f"wires: expected distinct wires in 0..{n - 1}, got {wires}")
    if wires == list(range(n)):
        return p
    b = p.shape[0]
    x = p.reshape(b, *([2] * n))
    others = [1 + w for w in range(n) if w not in wires]
    if others:
        x = x.sum(dim=others)
    kept = sorted(wires)
    x = x.permute(0, *[1 + kept.index(w) for w in wires])
    return x.reshape(b, 1 << len(wires))


def state(
    circuit: Circuit,
    params=None,
    inputs=None,
    *,
    initial_state: Optional[torch.Tensor] = None,
    dtype: torch.dtype = torch.complex128,
    diff_method: str = "auto",
) -> torch.Tensor:
    """Final state vector ``(*batch, 2**n)`` of ``circuit`` from |0…0⟩ (or ``initial_state``)."""
    b = _Bound(circuit, params, inputs, initial_state, dtype, unit_norm=False)  # evolution is linear: any vector
    return b.shape(b.states(b.method(diff_method, None, measured=False)))


def _measured(b: _Bound, method: str, measure_exact, shots: Optional[int], estimate, from_probs=None) -> torch.Tensor:
    """Shared driver of probs/expval: exact autograd, or parameter-shift (exact or shots).
    ``from_probs``: the exact quantity from the Born probabilities (the engine then returns
    ``|ψ|²`` directly, without the state)."""
    if method == "parameter-shift" or shots is not None:
        phi = b.phi().expand(b.size, -1)  # one row per batch element: shifted rows are e-major copies

        def measure(ph: torch.Tensor) -> torch.Tensor:
            psi = b.run(ph)
            return measure_exact(psi) if shots is None else estimate(psi)

        if method == "parameter-shift" and b.requires_grad:
            return ShiftMeasure.apply(measure, b.program, b.need_mask(), phi)
        with torch.no_grad():
            return measure(phi)
    if from_probs is not None:
        return from_probs(b.states(method, "probs"))
    return measure_exact(b.states(method))


def probs(
    circuit: Circuit,
    params=None,
    inputs=None,
    *,
    wires: Optional[Sequence[int]] = None,
    shots: Optional[int] = None,
    generator: Optional[torch.Generator] = None,
    initial_state: Optional[torch.Tensor] = None,
    dtype: torch.dtype = torch.complex128,
    diff_method: str = "auto",
) -> torch.Tensor:
    """Born probabilities ``(*batch, 2**k)`` over ``wires`` (default all, in order).

    With ``shots`` the result is the empirical frequency of ``shots`` samples
    (seeded by ``generator``), differentiable with parameter shift.
    """
    check_generator(generator)
    shots = check_shots(shots)
    b = _Bound(circuit, params, inputs, initial_state, dtype)
    method = b.method(diff_method, shots, measured=True)
    ws = list(range(b.n)) if wires is None else list(wires)

    def exact(psi: torch.Tensor) -> torch.Tensor:
        return marginal(born(psi), ws, b.n)

    def estimate(psi: torch.Tensor) -> torch.Tensor:
        return frequencies(exact(psi), shots, generator)  # type: ignore[arg-type]

    return b.shape(_measured(b, method, exact, shots, estimate, lambda p: marginal(p, ws, b.n)))


def _rotate_to_z(psi: torch.Tensor, string: str, n: int) -> torch.Tensor:
    """Apply the basis change taking each X/Y factor of ``string`` to Z (H, or H·S†)."""
    from qgm.sim.kernels import BlockKernel

    h = torch.tensor([[1, 1], [1, -1]], dtype=psi.dtype, device=psi.device) / 2**0.5
    hsdg = h @ torch.tensor([[1, 0], [0, -1j]], dtype=psi.dtype, device=psi.device)
    for w, ch in enumerate(string):
        if ch in "XY":
            psi = BlockKernel(n, w, 1).apply(psi, (h if ch == "X" else hsdg).unsqueeze(0))
    return psi


def _shot_expectation(psi: torch.Tensor, terms, n: int, shots: int, generator) -> torch.Tensor:
    """Shot estimate of ``Σ coef ⟨P⟩``: one measurement setting per distinct X/Y pattern."""
    import numpy as np

    from qgm.sim.observables import _parity

    x = np.arange(1 << n, dtype=np.int64)
    total = torch.zeros(psi.shape[0], dtype=psi.real.dtype, device=psi.device)
    settings: dict[str, list] = {}
    for t in terms:
        basis = "".join(c if c in "XY" else "Z" for c in t.string)
        settings.setdefault(basis, []).append(t)
    for basis, ts in settings.items():
        rot = _rotate_to_z(psi, basis, n)
        freq = frequencies(rot.real**2 + rot.imag**2, shots, generator)
        for t in ts:
            _, sign, _ = t.masks(n)
            signs = torch.as_tensor(1.0 - 2.0 * _parity(x & sign), dtype=total.dtype, device=psi.device)
            total = total + t.coef * (freq * signs).sum(-1)
    return total


def expval(
    circuit: Circuit,
    params=None,
    observable: Observable = "",
    inputs=None,
    *,
    shots: Optional[int] = None,
    generator: Optional[torch.Generator] = None,
    initial_state: Optional[torch.Tensor] = None,
    dtype: torch.dtype = torch.complex128,
    diff_method: str = "auto",
) -> torch.Tensor:
    """Expectation ``(*batch,)`` of a Pauli string (``"ZIZ"``) or a sum ``[(coef, "XXI"), …]``.

    A list of observables (strings or sums) gives ``(*batch, k)``.
    """
    check_generator(generator)
    shots = check_shots(shots)
    b = _Bound(circuit, params, inputs, initial_state, dtype)
    method = b.method(diff_method, shots, measured=True)
    many = isinstance(observable, (list, tuple)) and observable and all(
        isinstance(o, str) or (isinstance(o, (list, tuple)) and o and isinstance(o[0], (list, tuple)))
        for o in observable
    )
    obs_list = list(observable) if many else [observable]
    term_lists = observable_terms(obs_list, b.n)

    def exact(psi: torch.Tensor) -> torch.Tensor:
        return torch.stack([pauli_expectations(psi, ts, b.n) for ts in term_lists], -1)

    def estimate(psi: torch.Tensor) -> torch.Tensor:
        return torch.stack([_shot_expectation(psi, ts, b.n, shots, generator) for ts in term_lists], -1)

    out = b.shape(_measured(b, method, exact, shots, estimate))
    return out if many else out[..., 0]


def sample(
    circuit: Circuit,
    params=None,
    shots: int = 1,
    *,
    inputs=None,
    wires: Optional[Sequence[int]] = None,
    generator: Optional[torch.Generator] = None,
    initial_state: Optional[torch.Tensor] = None,
    dtype: torch.dtype = torch.complex128,
) -> torch.Tensor:
    """``shots`` basis-state indices per batch element: LongTensor ``(*batch, shots)``.

    Indices refer to ``wires`` (default all; first wire = most significant bit).
    """
    shots = check_shots(shots, allow_none=False)
    check_generator(generator)
    with torch.no_grad():
        p = probs(circuit, params, inputs, wires=wires, initial_state=initial_state, dtype=dtype)
        flat = p.reshape(-1, p.shape[-1])
        check_sample_shots(shots, flat.shape[0])
        idx = sample_indices(flat, shots, generator)
    return idx.reshape(*p.shape[:-1], shots)
