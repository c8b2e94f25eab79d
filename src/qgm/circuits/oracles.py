"""Gate-level oracles and the amplitude-amplification circuit, without ancilla qubits.

Everything here is built from catalogue gates in ``stdgates.inc`` (``x``, ``h``,
``p``, ``cx``, ``ccx``), so the circuits export to OpenQASM 3 (and 2) and run on
Qiskit backends. No extra qubits are added: where a decomposition needs scratch
qubits it *borrows* wires of the circuit in an unknown state and restores them
("dirty ancillas"), following Barenco et al., PRA 52, 3457 (1995):

* :func:`mcx`: ``Λ_m(X)``. With ``m - 2`` borrowed wires, the Toffoli V-chain of
  Lemma 7.2 (``4(m - 2)`` Toffolis); with one borrowed wire, the split of Lemma 7.3
  into four smaller ``Λ(X)`` that each have enough borrowed wires; with none (the
  gate covers every wire), ``H · Λ(P(π)) · H``.
* :func:`mcphase`: the phase ``e^{iλ}`` on ``|1…1⟩`` of some wires, by Lemma 7.5
  (``Λ_k(P(λ)) = Λ_1(P(λ/2)) · Λ_{k-1}(X) · Λ_1(P(-λ/2)) · Λ_{k-1}(X) · Λ_{k-1}(P(λ/2))``),
  whose ``Λ_{k-1}(X)`` always has the last wire free to borrow: ``O(k²)`` gates in
  all (Corollary 7.6). ``mcz`` is ``mcphase(π)``.
* :func:`phase_oracle`: ``S_f(β) = I - (1 - e^{iβ}) Π_accepted`` as one
  ``X``-conjugated :func:`mcphase` per cube of the condition (or of its complement,
  when that has fewer cubes, up to the global phase ``e^{iβ}``).
* :func:`zero_reflection`: ``S_0(α) = I - (1 - e^{iα}) |0…0⟩⟨0…0|``.
* :func:`amplified_circuit`: ``A`` followed by generalised Grover iterates
  ``Q(α, β) = A S_0(α) A† S_f(β)``; standard Grover is ``α = β = π``.

Global phases are not tracked (a circuit is equal to its operator up to a phase;
``qgm.sim.amplify`` keeps the exact signs of ``Q = -A S_0 A† S_f``). The builders
append to a list of ops and make each :class:`Circuit` once (appending gate by gate
would re-validate the circuit at every gate).
"""
from __future__ import annotations

import math
from typing import Sequence

from qgm.circuits.circuit import Circuit, Op
from qgm.circuits.conditions import Condition, ConditionLike, as_condition
from qgm.errors import CircuitError

__all__ = ["mcx", "mcphase", "mcz", "phase_oracle", "zero_reflection", "amplified_circuit"]



def _distinct(n: int, wires: Sequence[int], field: str) -> list[int]:
    ws = [int(w) for w in wires]
    if len(set(ws)) != len(ws) or not all(0 <= w < n for w in ws):
        raise CircuitError(f"{field}: expected distinct wires in 0..{n - 1}, got {list(wires)}")
    return ws


def _extend(circuit: Circuit, ops: list[Op]) -> Circuit:
    return Circuit(circuit.n_qubits, circuit.ops + tuple(ops), circuit.param_names, circuit.input_names)


def _cphase(ops: list[Op], lam: float, a: int, b: int) -> None:
    """Controlled phase ``e^{iλ}`` on ``|11⟩`` of ``(a, b)`` from ``p`` and two CNOTs."""
    ops += [Op("p", (a,), (lam / 2,)), Op("p", (b,), (lam / 2,)), Op("cx", (a, b)), Op("p", (b,), (-lam / 2,)),
            Op("cx", (a, b))]


def _v_chain(ops: list[Op], controls: list[int], target: int, borrowed: list[int]) -> None:
    """Barenco Lemma 7.2: ``Λ_m(X)`` with ``m - 2`` borrowed wires, ``4(m - 2)`` Toffolis.

    The first sweep toggles the target by the AND of the controls XOR junk of the
    borrowed wires; the second sweep (without the target) undoes the junk.
    """
    m = len(controls)
    a = borrowed[: m - 2]
    # ladder[i]: Toffoli (controls[i + 2], a[i]) -> a[i + 1] (the last one targets `target`)
    ladder = [(controls[i + 2], a[i], a[i + 1] if i + 1 < m - 2 else target) for i in range(m - 2)]
    core = (controls[0], controls[1], a[0])
    for gates in (ladder, ladder[:-1]):
        ops += [Op("ccx", w) for w in [*reversed(gates), core, *gates]]


def _mcx(ops: list[Op], n: int, controls: list[int], target: int) -> None:
    m = len(controls)
    if m <= 2:
        ops.append(Op(("x", "cx", "ccx")[m], (*controls, target)))
        return
    free = [w for w in range(n) if w not in controls and w != target]
    if len(free) >= m - 2:
        _v_chain(ops, controls, target, free)
    elif free:
        b, k = free[0], (m + 1) // 2
        first, second = controls[:k], controls[k:] + [b]
        for _ in range(2):
            _mcx(ops, n, second, target)
            _mcx(ops, n, first, b)
    else:
        ops.append(Op("h", (target,)))
        _mcphase(ops, n, math.pi, controls + [target])
        ops.append(Op("h", (target,)))


def _mcphase(ops: list[Op], n: int, lam: float, wires: list[int]) -> None:
    if not wires:
        return
    if len(wires) == 1:
        ops.append(Op("p", (wires[0],), (lam,)))
        return
    if len(wires) == 2:
        _cphase(ops, lam, wires[0], wires[1])
        return
    rest, last, target = wires[:-2], wires[-2], wires[-1]
    _cphase(ops, lam / 2, last, target)
    _mcx(ops, n, rest, last)
    _cphase(ops, -lam / 2, last, target)
    _mcx(ops, n, rest, last)
    _mcphase(ops, n, lam / 2, rest + [target])


def mcx(circuit: Circuit, controls: Sequence[int], target: int) -> Circuit:
    """``circuit`` followed by ``X`` on ``target`` controlled on every wire of ``controls`` being 1.

    Ancilla-free: other wires of ``circuit`` are borrowed and restored (module docstring).
    """
    n = circuit.n_qubits
    ws = _distinct(n, list(controls) + [target], "mcx wires")
    ops: list[Op] = []
    _mcx(ops, n, ws[:-1], ws[-1])
    return _extend(circuit, ops)


def mcphase(circuit: Circuit, lam: float, wires: Sequence[int]) -> Circuit:
    """``circuit`` followed by the phase ``e^{iλ}`` on the basis states with every wire of ``wires`` at 1.

    ``O(k²)`` gates for ``k`` wires, ancilla-free (Barenco Lemma 7.5 / Corollary 7.6).
    An empty ``wires`` is a global phase and adds nothing.
    """
    n = circuit.n_qubits
    ops: list[Op] = []
    _mcphase(ops, n, float(lam), _distinct(n, wires, "mcphase wires"))
    return _extend(circuit, ops)


def mcz(circuit: Circuit, wires: Sequence[int]) -> Circuit:
    """``circuit`` followed by a sign flip of the basis states with every wire of ``wires`` at 1."""
    return mcphase(circuit, math.pi, wires)


def _cube_phase(ops: list[Op], n: int, lam: float, cube: dict[int, int]) -> None:
    """The phase ``e^{iλ}`` on the basis states that agree with ``cube`` (``{wire: bit}``)."""
    flips = [Op("x", (w,)) for w, b in cube.items() if b == 0]
    ops += flips
    _mcphase(ops, n, lam, list(cube))
    ops += flips


def _oracle_ops(cond: Condition, phase: float) -> list[Op]:
    cubes, lam = cond.cubes(), float(phase)
    if cond.fixed is None:
        other = cond.complement().cubes()
        if len(other) < len(cubes):
            cubes, lam = other, -lam
    ops: list[Op] = []
    for cube in cubes:
        _cube_phase(ops, cond.n, lam, cube)
    return ops


def phase_oracle(condition: ConditionLike, n: int, phase: float = math.pi) -> Circuit:
    """``S_f(β)``: the phase ``e^{iβ}`` (default ``-1``) on every accepted basis state of ``n`` wires.

    Equal to the operator up to a global phase (module docstring); the cover with fewer
    cubes (the condition's or its complement's) is used.
    """
    return Circuit(n, _oracle_ops(as_condition(condition, n), phase))


def _zero_ops(n: int, phase: float) -> list[Op]:
    ops: list[Op] = []
    _cube_phase(ops, n, float(phase), {w: 0 for w in range(n)})
    return ops


def zero_reflection(n: int, phase: float = math.pi) -> Circuit:
    """``S_0(α) = I - (1 - e^{iα}) |0…0⟩⟨0…0|`` on ``n`` wires (default ``α = π``: ``I - 2|0⟩⟨0|``)."""
    return Circuit(n, _zero_ops(n, phase))


def amplified_circuit(
    prep: Circuit, condition: ConditionLike, phases: Sequence[tuple[float, float]]
) -> Circuit:
    """``Q(α_k, β_k) ⋯ Q(α_1, β_1) A`` with ``Q(α, β) = A S_0(α) A† S_f(β)`` and ``A = prep``.

    Args:
        prep: the state preparation ``A`` (e.g. a Born machine's circuit); its trainable
            slots stay slots of the result (``A†`` uses the same slots, negated).
        condition: the accepted set (any form of :func:`~qgm.circuits.conditions.as_condition`).
        phases: ``[(α_1, β_1), …]`` in application order (``α``: phase on ``|0…0⟩``,
            ``β``: phase on accepted states); ``[(π, π)] * k`` is ``k`` Grover iterates.

    Returns:
        A circuit on ``prep.n_qubits`` wires, equal to the amplified state preparation
        up to a global phase. ``len(phases)`` iterates query ``A`` or ``A†``
        ``2 * len(phases) + 1`` times.
    """
    n = prep.n_qubits
    cond: Condition = as_condition(condition, n)
    inverse = list(prep.inverse().ops)
    ops = list(prep.ops)
    for alpha, beta in phases:
        ops += _oracle_ops(cond, beta) + inverse + _zero_ops(n, alpha) + list(prep.ops)
    return Circuit(n, ops, prep.param_names, prep.input_names)
