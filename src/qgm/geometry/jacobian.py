"""The state and its exact parameter Jacobian, batched, on the engine.

Generator insertion by shifted gates. Every parametrised catalogue gate
``U(φ)`` satisfies ``dU/dφ = Σ_k c_k U(φ + s_k)`` exactly (a *state-level* shift
rule, :data:`qgm.sim.diff.STATE_SHIFT_RULES`, the engine's one table of
differentiation rules): for ``exp(-iφG/2)`` with ``G² = I``
(RX, RY, RZ, RXX, RYY, RZZ) ``dU/dφ = U(φ + π)/2``; for controlled rotations
``(U(φ + π) − U(φ + 3π))/4``; for phases ``(U(φ + π/2) − U(φ + 3π/2))/2``. So
``|∂_oψ⟩ = Σ_k c_k |ψ(φ_o + s_k)⟩`` is the generator inserted after gate ``o``,
and all of them are one batched engine call over shifted angle sets (the
compiled, fused program is reused as is). The chain rule to trainable slots is
``∂ψ/∂θ_s = Σ_{o: slot(o)=s} scale_o ∂ψ/∂φ_o`` (shared slots and affine angle
expressions ``scale·θ + offset``).

Conventions: wire 0 is the most significant bit; states are complex128 unless
``dtype=torch.complex64``; angles in radians.
"""
from __future__ import annotations

import torch

from qgm.circuits.circuit import Circuit
from qgm.circuits.gates import gate_matrix
from qgm.errors import CircuitError, ParameterError
from qgm.sim.diff import STATE_SHIFT_RULES
from qgm.sim.evolve import bind, build_mats, evolve, zero_state
from qgm.sim.program import KIND_PARAM, Program, compile_circuit
from qgm.sim.validate import as_angles, check_memory, real_dtype_of

__all__ = ["STATE_SHIFT_RULES", "state_jacobian", "gate_generator", "occurrence_gates", "BoundAngles", "jacobian_rows"]

#: Memory budget of one batch of shifted state evaluations.
CHUNK_BYTES = 256 * 2**20


def gate_generator(name: str) -> torch.Tensor:
    """Hermitian ``K`` with ``U(φ) = exp(-iφK)`` of a one-angle gate, ``(2**k, 2**k)`` complex128.

    Obtained from the state-level rule at ``φ = 0``: ``K = i dU/dφ(0)``
    (e.g. ``X/2`` for RX, ``|1⟩⟨1| ⊗ X/2`` for CRX, ``−|1⟩⟨1|`` for the phase gate).
    """
    rule = STATE_SHIFT_RULES.get(name)
    if rule is None or len(rule) != 1:
        raise CircuitError(f"gate '{name}' has no single generator; one-angle gates: {_one_angle_gates()}")
    k = 1j * sum(c * gate_matrix(name, torch.tensor([s], dtype=torch.float64)) for s, c in rule[0])
    return (k + k.conj().T) / 2  # exactly Hermitian (cos(π/2) leaves 1e-17 residues)


def _one_angle_gates() -> str:
    return ", ".join(sorted(g for g, r in STATE_SHIFT_RULES.items() if len(r) == 1))


def occurrence_gates(circuit: Circuit) -> list[tuple[str, int]]:
    """``(gate name, angle index)`` of every angle occurrence, in the engine's occurrence order."""
    return [(op.name, j) for op in circuit.ops for j in range(len(op.params))]


def _derivatives(circuit: Circuit, program: Program) -> tuple[list[int], list[float], list[float], list[int]]:
    """Every shifted evaluation: occurrence, shift, weight (rule coefficient × slot scale) and slot."""
    memo = circuit.cache()
    key = "qgm.geometry.derivatives"
    if key not in memo:
        occ, shift, weight, slot = [], [], [], []
        for o, (name, j) in enumerate(occurrence_gates(circuit)):
            if program.occ_kind[o] != KIND_PARAM or program.occ_scale[o] == 0.0:
                continue
            rules = STATE_SHIFT_RULES.get(name)
            if rules is None:
                raise CircuitError(
                    f"gate '{name}' has no state derivative rule; parametrised gates supported by "
                    f"qgm.geometry: {', '.join(sorted(STATE_SHIFT_RULES))}"
                )
            for s, c in rules[j]:
                occ.append(o)
                shift.append(s)
                weight.append(c * float(program.occ_scale[o]))
                slot.append(int(program.occ_slot[o]))
        memo[key] = (occ, shift, weight, slot)
    return memo[key]


class BoundAngles:
    """Validated parameters and inputs of one call, broadcast to a flat batch.

    Attributes:
        params: ``(B, P)`` detached real tensor; ``inputs``: ``(B, I)``.
        batch: the broadcast leading shape (``B = prod(batch)``).
    """

    def __init__(self, circuit: Circuit, params, inputs, dtype: torch.dtype) -> None:
        if not isinstance(circuit, Circuit):
            raise ParameterError(f"circuit: expected a qgm.Circuit, got {type(circuit).__name__}")
        rdt = real_dtype_of(dtype)
        device = params.device if isinstance(params, torch.Tensor) else None
        p = as_angles(params, circuit.n_params, "params", rdt, device).detach()
        x = as_angles(inputs, circuit.n_inputs, "inputs", rdt, p.device).detach()
        self.batch = torch.broadcast_shapes(p.shape[:-1], x.shape[:-1])
        b = int(self.batch.numel())
        self.params = p.expand(*self.batch, -1).reshape(b, circuit.n_params)
        self.inputs = x.expand(*self.batch, -1).reshape(b, circuit.n_inputs)
        self.dtype = dtype
        self.device = p.device

    @property
    def size(self) -> int:
        return self.params.shape[0]


def jacobian_rows(circuit: Circuit, bound: BoundAngles) -> tuple[torch.Tensor, torch.Tensor]:
    """State ``(B, 2**n)`` and Jacobian rows ``(B, P, 2**n)`` (row ``s`` = ``∂ψ/∂θ_s``)."""
    n, n_par = circuit.n_qubits, circuit.n_params
    program = compile_circuit(circuit)
    occ, shift, weight, slot = _derivatives(circuit, program)
    b, dim = bound.size, 1 << n
    check_memory(n, b * (n_par + 2), bound.dtype, bound.device, copies=1)
    phi, _ = bind(program, bound.params, bound.inputs)
    psi = evolve(program, zero_state(n, b, bound.dtype, bound.device), build_mats(program, phi))
    rows = torch.zeros(b, n_par, dim, dtype=bound.dtype, device=bound.device)
    if not occ:
        return psi, rows
    item = torch.empty(0, dtype=bound.dtype).element_size()
    chunk = max(1, CHUNK_BYTES // (4 * b * dim * item))
    rdt = phi.dtype
    for start in range(0, len(occ), chunk):
        sl = slice(start, start + chunk)
        o = torch.as_tensor(occ[sl], device=bound.device)
        e = len(o)
        ph = phi.unsqueeze(0).repeat(e, 1, 1)  # (e, B, n_occ)
        ph[torch.arange(e, device=bound.device), :, o] += torch.as_tensor(shift[sl], dtype=rdt, device=bound.device)[:, None]
        shifted = evolve(
            program,
            zero_state(n, e * b, bound.dtype, bound.device),
            build_mats(program, ph.reshape(e * b, -1)),
        ).reshape(e, b, dim)
        w = torch.as_tensor(weight[sl], dtype=rdt, device=bound.device).to(bound.dtype)
        rows.index_add_(1, torch.as_tensor(slot[sl], device=bound.device), (shifted * w[:, None, None]).transpose(0, 1))
    return psi, rows


def state_jacobian(
    circuit: Circuit,
    params,
    inputs=None,
    *,
    dtype: torch.dtype = torch.complex128,
) -> tuple[torch.Tensor, torch.Tensor]:
    """The state and its exact Jacobian with respect to the trainable slots.

    Args:
        circuit: any circuit of catalogue gates (fixed ``unitary`` ops allowed).
        params: ``(*bp, P)`` trainable slots; inputs: ``(*bi, I)`` input slots (not differentiated).
        dtype: complex128 (default) or complex64.
    Returns:
        ``psi`` ``(*batch, 2**n)`` and ``jac`` ``(*batch, 2**n, P)`` with
        ``jac[..., x, s] = ∂ψ_x/∂θ_s`` (no autograd graph: inputs are detached).
    """
    bound = BoundAngles(circuit, params, inputs, dtype)
    psi, rows = jacobian_rows(circuit, bound)
    dim = 1 << circuit.n_qubits
    return psi.reshape(*bound.batch, dim), rows.transpose(1, 2).reshape(*bound.batch, dim, circuit.n_params)

