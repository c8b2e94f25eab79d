"""The public engine: ``state``, ``probs``, ``expval`` and ``sample``.

All functions are batched over the leading dimensions of ``params``
``(*bp, n_params)`` and ``inputs`` ``(*bi, n_inputs)`` (broadcast together), run
on the device of ``params``, and default to complex128 (``dtype=torch.complex64``
opt-in). Wire 0 is the most significant bit of a basis index.

Differentiation (``diff_method``):

* ``"backprop"``: autograd through the fused kernels; small differentiated runs
  (``batch · 2**n`` up to :data:`~qgm.sim.evolve.STAGED_MAX_AMPLITUDES`) go
  through one autograd node with a hand-written backward
  (:class:`~qgm.sim.evolve.StagedEvolve`), same values and gradients;
* ``"adjoint"``: reverse sweep un-computing the state (memory of two states);
* ``"parameter-shift"``: shifted re-evaluation (also with finite ``shots``);
* ``"auto"``: backprop for exact quantities, parameter shift with shots.
"""
from __future__ import annotations

from typing import Optional, Sequence

import torch

from qgm.circuits.circuit import Circuit
from qgm.errors import ParameterError
from qgm.sim.evolve import (
    STAGED_MAX_AMPLITUDES,
    AdjointEvolve,
    StagedEvolve,
    bind,
    build_mats,
    evolve,
    staged_block_wires,
    zero_state,
)
from qgm.sim.observables import Observable, pauli_expectations
from qgm.sim.program import KIND_INPUT, KIND_PARAM, Program, compile_circuit
from qgm.sim.sampling import check_shots, frequencies, sample_indices
from qgm.sim.shift import ShiftMeasure
from qgm.sim.validate import (
    as_angles,
    broadcast_batch,
    check_generator,
    check_initial_state,
    check_memory,
    check_sample_shots,
    check_shot_count,
    observable_terms,
    real_dtype_of,
)

__all__ = ["state", "probs", "expval", "sample", "marginal", "DIFF_METHODS"]

DIFF_METHODS = ("auto", "backprop", "adjoint", "parameter-shift")


def _check_method(diff_method: str) -> None:
    if diff_method not in DIFF_METHODS:
        raise ParameterError(f"diff_method must be one of {DIFF_METHODS}, got {diff_method!r}")


class _Bound:
    """Validated, bound call: program, angles, batch shape and initial state."""

    def __init__(
        self,
        circuit: Circuit,
        params,
        inputs,
        initial_state: Optional[torch.Tensor],
        dtype: torch.dtype,
        born: bool = True,
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
        if initial_state is not None:
            initial_state = check_initial_state(initial_state, self.n, unit_norm=born)
            shapes.append(("initial_state", initial_state.shape[:-1]))
        batch = broadcast_batch(*shapes)
        self.batch = batch
        self.size = int(torch.Size(batch).numel())
        check_memory(self.n, max(self.size, 1), dtype, self.device)
        self.circuit = circuit
        self.program: Program = compile_circuit(circuit)
        self.initial_state = initial_state

    def phi(self) -> torch.Tensor:
        phi, _ = bind(self.program, self.params.expand(*self.batch, -1), self.inputs)
        return phi

    def psi0(self, b: int) -> torch.Tensor:
        if self.initial_state is None:
            return zero_state(self.n, 1, self.dtype, self.device).expand(b, -1)
        s = self.initial_state.to(dtype=self.dtype, device=self.device)
        return s.expand(*self.batch, -1).reshape(-1, 2**self.n)

    def need_mask(self) -> torch.Tensor:
        kinds = torch.as_tensor(self.program.occ_kind)
        return ((kinds == KIND_PARAM) & self.params.requires_grad) | (
            (kinds == KIND_INPUT) & self.inputs.requires_grad
        )

    def run(self, phi: torch.Tensor, method: str) -> torch.Tensor:
        """Final states ``(B, 2**n)`` for angles ``phi`` ``(B, n_occ)``."""
        psi0 = self.psi0(phi.shape[0])
        if method == "backprop" and self._staged(phi, psi0):
            return StagedEvolve.apply(compile_circuit(self.circuit, staged_block_wires(self.n)), psi0, phi)
        mats = build_mats(self.program, phi)
        if method == "adjoint":
            return AdjointEvolve.apply(self.program, psi0, *mats)
        return evolve(self.program, psi0, mats)

    def _staged(self, phi: torch.Tensor, psi0: torch.Tensor) -> bool:
        """Whether the single-node backprop path (:class:`StagedEvolve`) applies: small,
        differentiated runs of circuits with single-qubit stages of unitary gates."""
        return (
            torch.is_grad_enabled()
            and (phi.requires_grad or psi0.requires_grad)
            and phi.shape[0] << self.n <= STAGED_MAX_AMPLITUDES
            and bool(self.program.groups)
            and self.program.stages_unitary
        )

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
    diff_method: str = "backprop",
) -> torch.Tensor:
    """Final state vector ``(*batch, 2**n)`` of ``circuit`` from |0…0⟩ (or ``initial_state``)."""
    _check_method(diff_method)
    if diff_method == "parameter-shift":
        raise ParameterError(
            "diff_method='parameter-shift' differentiates measured quantities (probs, expval); "
            "use 'backprop' or 'adjoint' for state"
        )
    b = _Bound(circuit, params, inputs, initial_state, dtype, born=False)  # evolution is linear: any vector
    return b.shape(b.run(b.phi(), diff_method))


def _resolve(diff_method: str, shots: Optional[int], b: _Bound) -> str:
    _check_method(diff_method)
    check_shots(shots)
    if diff_method == "auto":
        return "parameter-shift" if shots is not None else "backprop"
    if shots is not None and diff_method != "parameter-shift" and (
        b.params.requires_grad or b.inputs.requires_grad
    ):
        raise ParameterError(
            f"shots={shots} with diff_method={diff_method!r}: sampled estimates are only differentiable "
            "with diff_method='parameter-shift' (or use shots=None for exact values)"
        )
    return diff_method


def _measured(b: _Bound, method: str, measure_exact, shots: Optional[int], estimate) -> torch.Tensor:
    """Shared driver of probs/expval: exact autograd, or parameter-shift (exact or shots)."""
    phi = b.phi()
    if method == "parameter-shift" or shots is not None:
        def measure(ph: torch.Tensor) -> torch.Tensor:
            psi = b.run(ph, "backprop")
            return measure_exact(psi) if shots is None else estimate(psi)

        if method == "parameter-shift":
            return ShiftMeasure.apply(measure, b.program, b.need_mask(), phi)
        with torch.no_grad():
            return measure(phi)
    return measure_exact(b.run(phi, method))


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
    check_shot_count(shots)
    b = _Bound(circuit, params, inputs, initial_state, dtype)
    method = _resolve(diff_method, shots, b)
    ws = list(range(b.n)) if wires is None else list(wires)

    def exact(psi: torch.Tensor) -> torch.Tensor:
        return marginal(psi.real**2 + psi.imag**2, ws, b.n)

    def estimate(psi: torch.Tensor) -> torch.Tensor:
        return frequencies(exact(psi), shots, generator)  # type: ignore[arg-type]

    return b.shape(_measured(b, method, exact, shots, estimate))


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
    check_shot_count(shots)
    b = _Bound(circuit, params, inputs, initial_state, dtype)
    method = _resolve(diff_method, shots, b)
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
    check_sample_shots(shots, 1)
    check_generator(generator)
    with torch.no_grad():
        p = probs(circuit, params, inputs, wires=wires, initial_state=initial_state, dtype=dtype, diff_method="backprop")
        flat = p.reshape(-1, p.shape[-1])
        check_sample_shots(shots, flat.shape[0])
        idx = sample_indices(flat, shots, generator)
    return idx.reshape(*p.shape[:-1], shots)
