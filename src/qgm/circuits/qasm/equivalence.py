"""Whether a short gate sequence equals a catalogue gate up to global phase (dense matrices).

Used when reading OpenQASM: a ``gate`` definition named like a catalogue gate
(e.g. the ``rzz`` the writer emits) whose body equals that gate is read back as
the native gate.
"""
from __future__ import annotations

from typing import Callable, Sequence

import numpy as np
import torch

from qgm.circuits.gates import GATES, gate_matrix
from qgm.errors import CircuitError

__all__ = ["embed", "dense", "equal_up_to_phase", "equals_gate"]

#: Angles at which a body and a catalogue gate are compared (generic: no special values).
TRIAL_ANGLES = ([0.7123, -1.3171, 2.2213, 0.4481], [-2.0917, 0.3319, -0.8846, 1.7707])

#: ``(matrix, wires)`` of each gate of a sequence; wires index ``range(k)``, the first is the MSB.
Gates = Sequence[tuple[np.ndarray, tuple[int, ...]]]


def embed(u: np.ndarray, wires: Sequence[int], n: int) -> np.ndarray:
    """The ``(2**n, 2**n)`` matrix of ``u`` acting on ``wires`` (first wire = most significant bit)."""
    k = len(wires)
    others = [w for w in range(n) if w not in wires]
    full = np.kron(u, np.eye(2 ** (n - k)))
    order = list(wires) + others
    inv = [order.index(w) for w in range(n)]
    t = full.reshape([2] * (2 * n)).transpose(inv + [n + i for i in inv])
    return t.reshape(2**n, 2**n)


def dense(gates: Gates, n: int) -> np.ndarray:
    """The ``(2**n, 2**n)`` matrix of the sequence ``gates`` (applied first to last)."""
    m = np.eye(2**n, dtype=np.complex128)
    for u, wires in gates:
        m = embed(u, wires, n) @ m
    return m


def equal_up_to_phase(a: np.ndarray, b: np.ndarray, atol: float = 1e-9) -> bool:
    i = np.unravel_index(np.argmax(np.abs(b)), b.shape)
    if abs(a[i]) < 1e-12:
        return False
    phase = b[i] / a[i]
    return bool(abs(abs(phase) - 1) < atol and np.allclose(a * phase, b, atol=atol))


def equals_gate(body: Callable[[list[float]], Gates], name: str) -> bool:
    """Whether ``body(angles)`` equals catalogue gate ``name`` at the :data:`TRIAL_ANGLES`, up to phase.

    ``body`` maps the gate's angles to its gate sequence; a body that cannot be
    evaluated at some angles (a :class:`CircuitError`) is not equal.
    """
    g = GATES[name]
    for trial in TRIAL_ANGLES:
        angles = trial[: g.n_params]
        try:
            got = dense(body(angles), g.n_wires)
        except CircuitError:
            return False
        want = gate_matrix(name, torch.tensor(angles, dtype=torch.float64)).numpy()
        if not equal_up_to_phase(got, want):
            return False
    return True
