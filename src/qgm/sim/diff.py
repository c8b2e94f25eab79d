"""Differentiation methods: the one list of names, and the resolver of ``"auto"``.

Every differentiated quantity in qgm goes through one of

* ``"backprop"``: one autograd node for the whole circuit; the forward pass keeps
  the states its backward pass reads (persistent buffers, reused across calls);
* ``"adjoint"``: the backward pass un-computes the state kernel by kernel
  (memory of three states whatever the depth);
* ``"parameter-shift"``: shifted re-evaluation of a measured quantity (probabilities,
  expectation values), the only method for estimates from finite ``shots``;
* ``"auto"``: :func:`resolve_diff_method` picks one of the above from the size of
  the work (the default of every engine function).

All methods agree to rounding (tests/sim/test_gradients_oracle.py). ``"shift"``
is accepted as a spelling of ``"parameter-shift"`` (:data:`ALIASES`); any other
name is a :class:`~qgm.errors.ConfigError` that lists the valid names.

``auto`` rules, in order (thresholds measured on the 2-core reference machine,
see BENCHMARKS.md "Choosing the method"):

1. ``shots`` given: ``"parameter-shift"`` (sampled estimates have no tape);
2. second derivatives wanted (``create_graph``): ``"backprop"`` (its backward is
   itself differentiable);
3. one shiftable differentiated parameter (``n_diff_params=1``) of a measured
   quantity: ``"parameter-shift"`` (two forward passes beat forward + backward);
4. the states backprop keeps fit in :data:`BACKPROP_BUDGET_BYTES` and in a quarter of
   the free memory: ``"backprop"``; otherwise ``"adjoint"``.

The state-level shift rules of :data:`STATE_SHIFT_RULES` (exact derivatives of the
state, used by the Jacobian of :mod:`qgm.geometry`) live here too; the
measurement-level rules of each gate are its :attr:`~qgm.circuits.gates.GateDef.shift_rule`.
"""
from __future__ import annotations

import difflib
import math
from typing import Optional

import torch

from qgm.errors import ConfigError, ParameterError
from qgm.sim.validate import available_bytes

__all__ = [
    "DIFF_METHODS",
    "ALIASES",
    "BACKPROP_BUDGET_BYTES",
    "STATE_SHIFT_RULES",
    "canonical_diff_method",
    "resolve_diff_method",
]

DIFF_METHODS = ("auto", "backprop", "adjoint", "parameter-shift")
#: Other accepted spellings of a method name (case-insensitive).
ALIASES = {"shift": "parameter-shift", "param-shift": "parameter-shift", "parameter_shift": "parameter-shift"}
#: Largest amount of saved state the ``auto`` rule lets backprop keep (bytes). At and
#: above n = 24 (A(24, 4): 30 saved states of 256 MiB) the adjoint method is chosen:
#: it makes 4 passes per kernel instead of 3, and keeps 3 states instead of 30.
BACKPROP_BUDGET_BYTES = 2 * 2**30

_HALF_TURN = ((math.pi, 0.5),)
_CONTROLLED = ((math.pi, 0.25), (3 * math.pi, -0.25))
_PHASE = ((math.pi / 2, 0.5), (3 * math.pi / 2, -0.5))

#: ``gate -> per angle: ((shift, coefficient), ...)`` with ``dU/dφ = Σ c U(φ + s)`` exactly
#: (a state-level rule: the derivative of the gate itself, not of a measured mean).
STATE_SHIFT_RULES: dict[str, tuple[tuple[tuple[float, float], ...], ...]] = {
    "rx": (_HALF_TURN,),
    "ry": (_HALF_TURN,),
    "rz": (_HALF_TURN,),
    "rxx": (_HALF_TURN,),
    "ryy": (_HALF_TURN,),
    "rzz": (_HALF_TURN,),
    "crx": (_CONTROLLED,),
    "cry": (_CONTROLLED,),
    "crz": (_CONTROLLED,),
    "p": (_PHASE,),
    "u3": (_HALF_TURN, _PHASE, _PHASE),  # u3(θ, φ, λ): θ a half-turn rotation, φ and λ phases
}


def canonical_diff_method(method: str, field: str = "diff_method") -> str:
    """``method`` as one of :data:`DIFF_METHODS` (aliases resolved); ConfigError if unknown."""
    if isinstance(method, str):
        key = method.strip().lower()
        key = ALIASES.get(key, key)
        if key in DIFF_METHODS:
            return key
    names = list(DIFF_METHODS) + list(ALIASES)
    close = difflib.get_close_matches(str(method).lower(), names, n=1)
    hint = f"; did you mean {ALIASES.get(close[0], close[0])!r}?" if close else ""
    raise ConfigError(f"{field}: unknown method {method!r}; choose one of {', '.join(DIFF_METHODS)}{hint}")


def saved_state_bytes(n_qubits: int, batch_size: int, n_saved: int, dtype: torch.dtype) -> int:
    """Bytes of ``n_saved`` states of ``batch_size × 2**n_qubits`` amplitudes of ``dtype``."""
    item = torch.empty(0, dtype=dtype).element_size()
    return n_saved * batch_size * (1 << n_qubits) * item


def resolve_diff_method(
    method: str = "auto",
    *,
    n_qubits: Optional[int] = None,
    circuit=None,
    batch_size: int = 1,
    shots: Optional[int] = None,
    n_saved: Optional[int] = None,
    n_diff_params: Optional[int] = None,
    shiftable: bool = True,
    measured: bool = True,
    needs_second_order: bool = False,
    dtype: torch.dtype = torch.complex128,
    device: Optional[torch.device] = None,
    field: str = "diff_method",
) -> str:
    """The concrete method (never ``"auto"``) for one differentiated engine call.

    Args:
        method: a name of :data:`DIFF_METHODS` (or an alias).
        n_qubits: wires of the circuit (or give ``circuit``).
        circuit: the :class:`~qgm.circuits.Circuit` (gives ``n_qubits`` and ``n_saved``).
        batch_size: number of states evolved together.
        shots: sample count of an estimate (``None``: exact); forces parameter shift.
        n_saved: states backprop would keep (default: from ``circuit``'s plan, else 1).
        n_diff_params: differentiated parameters (``None``: unknown / many).
        shiftable: every differentiated angle has a shift rule.
        measured: the differentiated quantity is measured (probabilities, expectation
            values); parameter shift cannot differentiate a state.
        needs_second_order: the gradient itself will be differentiated.
        dtype, device: of the states (memory check).
        field: the name errors give the method (``"grad_method"`` in a scan config).
    Raises:
        ConfigError: unknown name, or an explicit method that cannot serve the call
            (``shots`` without parameter shift, parameter shift of a state).
    """
    method = canonical_diff_method(method, field)
    if shots is not None:
        if method not in ("auto", "parameter-shift"):
            raise ParameterError(
                f"shots={shots} with {field}={method!r}: sampled estimates are only differentiable "
                f"with {field}='parameter-shift' (or 'auto'; or use shots=None for exact values)"
            )
        return "parameter-shift"
    if method == "parameter-shift" and not measured:
        raise ParameterError(
            f"{field}='parameter-shift' differentiates measured quantities (probs, expval); "
            "use 'backprop' or 'adjoint' (or 'auto') for state"
        )
    if method != "auto":
        return method
    if needs_second_order:
        return "backprop"
    if measured and shiftable and n_diff_params == 1:
        return "parameter-shift"
    if circuit is not None:
        from qgm.sim.executable import plan_kind
        from qgm.sim.program import compile_circuit

        n_qubits = circuit.n_qubits
        if n_saved is None:
            n_saved = len(compile_circuit(circuit).plan(plan_kind(n_qubits)).pair_points)
    if n_qubits is None:
        raise ParameterError("resolve_diff_method: give n_qubits or circuit")
    need = saved_state_bytes(n_qubits, batch_size, 1 if n_saved is None else n_saved, dtype)
    fits = need < 256 * 2**20 or 4 * need <= available_bytes(device or torch.device("cpu"))
    if need <= BACKPROP_BUDGET_BYTES and fits:
        return "backprop"
    return "adjoint"
