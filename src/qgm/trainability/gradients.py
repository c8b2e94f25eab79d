"""Per-initialisation cost values and gradients, batched on the engine.

The ``M`` initialisations are independent rows of one parameter tensor
``(M, P)``. Two routes give per-row gradients in a handful of engine calls:

* ``"shift"``: the parameter-shift rule of the one gate using slot ``k``
  applied to the measured distribution (``∂p/∂θ_k = s Σ_i c_i p(θ + (a_i/s) e_k)``
  for an angle ``s·θ_k + b``), then the chain rule ``∂C/∂θ_k = ∇_p f · ∂p/∂θ_k``
  (exact for non-linear costs such as MMD and KL too); ``2`` forward passes per
  differentiated slot and no tape. With shots every evaluation uses fresh
  samples (unbiased for costs linear in ``p``; MMD/KL estimates are biased).
* ``"backprop"`` / ``"adjoint"``: one forward and one backward of the batch sum
  ``Σ_m C(θ_m)``; row ``m`` of the gradient is ``∇C(θ_m)`` because rows do not
  interact. Needed for many slots (``index="all"``).

Method names and the ``"auto"`` rule are the engine's (:func:`qgm.sim.resolve_diff_method`:
``"shift"`` is its spelling of ``"parameter-shift"``; auto takes the shift route with
shots or for one shiftable slot, else backprop or adjoint by memory); the route
is reported as ``"shift"``, ``"backprop"`` or ``"adjoint"``. Rows are processed
in chunks of at most :data:`CHUNK_AMPLITUDES` amplitudes.
"""
from __future__ import annotations

from typing import Callable, Optional, Sequence

import torch

from qgm import sim
from qgm.circuits import Circuit
from qgm.circuits.circuit import Param
from qgm.circuits.gates import GATES, ShiftRule
from qgm.errors import ConfigError, ParameterError
from qgm.sim.diff import DIFF_METHODS, resolve_diff_method
from qgm.trainability.costs import ScanCost

__all__ = ["GRAD_METHODS", "CHUNK_AMPLITUDES", "shift_rule_of", "resolve_method", "values_and_gradients"]

#: Accepted names (the engine's list; "shift" is accepted as "parameter-shift").
GRAD_METHODS = DIFF_METHODS
#: Amplitudes per engine call (2**22 complex128 = 64 MiB per state copy).
CHUNK_AMPLITUDES = 1 << 22


def shift_rule_of(circuit: Circuit, k: int) -> Optional[tuple[ShiftRule, float]]:
    """``(rule, scale)`` when slot ``k`` enters exactly one gate angle ``scale·θ_k + b``, else None."""
    name = circuit.param_names[k]
    uses = [
        (op, a) for op in circuit.ops for a in op.params
        if isinstance(a, Param) and a.kind == "param" and a.name == name
    ]
    if len(uses) != 1:
        return None
    op, angle = uses[0]
    rule = GATES[op.name].shift_rule if op.name in GATES else None
    return None if rule is None or angle.scale == 0 else (rule, float(angle.scale))


def resolve_method(circuit: Circuit, index: Sequence[int], method: str, shots: Optional[int]) -> str:
    """The gradient route for slots ``index`` (see module docstring); ConfigError if impossible."""
    shiftable = all(shift_rule_of(circuit, k) is not None for k in index)
    try:
        route = resolve_diff_method(
            method, circuit=circuit, batch_size=max(1, CHUNK_AMPLITUDES >> circuit.n_qubits), shots=shots,
            n_diff_params=len(index), shiftable=shiftable, field="grad_method",
        )
    except ParameterError as err:  # a scan's method is configuration: report it as such
        raise ConfigError(str(err)) from None
    if route == "parameter-shift" and not shiftable:
        raise ConfigError(
            f"grad_method 'shift': a differentiated slot of {list(index)} is shared or has no shift rule; "
            "use 'adjoint' (exact) or differentiate another params_index"
        )
    return "shift" if route == "parameter-shift" else route


def _chunks(m: int, n: int) -> list[slice]:
    size = max(1, CHUNK_AMPLITUDES >> n)
    return [slice(i, min(i + size, m)) for i in range(0, m, size)]


def _shift_chunk(
    circuit: Circuit, theta: torch.Tensor, costs: Sequence[ScanCost], index: Sequence[int],
    shots: Optional[int], generator: Optional[torch.Generator],
) -> tuple[torch.Tensor, torch.Tensor]:
    def measure(t: torch.Tensor) -> list[torch.Tensor]:
        psi = sim.state(circuit, t)
        return [c.measured(psi, shots, generator) for c in costs]

    with torch.no_grad():
        p0 = measure(theta)
        dp = [[torch.zeros_like(p) for p in p0] for _ in index]
        for j, k in enumerate(index):
            rule, scale = shift_rule_of(circuit, k)  # type: ignore[misc]
            for shift, coeff in zip(rule.shifts, rule.coeffs):
                shifted = theta.clone()
                shifted[:, k] += shift / scale
                for i, p in enumerate(measure(shifted)):
                    dp[j][i] += scale * coeff * p
    values, grads = [], []
    for i, cost in enumerate(costs):
        # chain rule ∂C/∂θ_k = Σ_x ∂f/∂p(x) · ∂p(x)/∂θ_k with ∂p/∂θ_k from the shift rule
        p = p0[i].clone().requires_grad_(True)
        v = cost.of_probs(p)
        (df,) = torch.autograd.grad(v.sum(), p)
        values.append(v.detach())
        grads.append(torch.stack([(df * dp[j][i]).sum(-1) for j in range(len(index))], -1))
    return torch.stack(values), torch.stack(grads)


def _autograd_chunk(
    circuit: Circuit, theta: torch.Tensor, costs: Sequence[ScanCost], index: Sequence[int], method: str
) -> tuple[torch.Tensor, torch.Tensor]:
    t = theta.clone().requires_grad_(True)
    psi = sim.state(circuit, t, diff_method=method)
    values, grads = [], []
    for i, cost in enumerate(costs):
        v = cost(psi)
        (g,) = torch.autograd.grad(v.sum(), t, retain_graph=i < len(costs) - 1)
        values.append(v.detach())
        grads.append(g[:, list(index)])
    return torch.stack(values), torch.stack(grads)


def values_and_gradients(
    circuit: Circuit,
    theta: torch.Tensor,
    costs: Sequence[ScanCost],
    index: Sequence[int],
    *,
    method: str = "auto",
    shots: Optional[int] = None,
    generator: Optional[torch.Generator] = None,
    on_rows: Optional[Callable[[int], object]] = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Cost values ``(C, M)`` and gradients ``(C, M, len(index))`` at the rows of ``theta`` ``(M, P)``.

    ``C = len(costs)``; ``index`` lists the differentiated slots; ``shots`` (shift route
    only) estimates every evaluation from that many samples drawn with ``generator``;
    ``on_rows(k)`` is called after each chunk of ``k`` rows (progress).
    """
    method = resolve_method(circuit, index, method, shots)
    parts = []
    for s in _chunks(theta.shape[0], circuit.n_qubits):
        parts.append(_shift_chunk(circuit, theta[s], costs, index, shots, generator) if method == "shift"
                     else _autograd_chunk(circuit, theta[s], costs, index, method))
        if on_rows is not None:
            on_rows(s.stop - s.start)
    return torch.cat([p[0] for p in parts], 1), torch.cat([p[1] for p in parts], 1)
