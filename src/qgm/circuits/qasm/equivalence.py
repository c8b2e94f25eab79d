"""Dense matrices of short gate sequences, to recognise a ``gate`` definition equal to a catalogue gate.

Used when reading OpenQASM: a definition named like a catalogue gate (e.g. the
``rzz`` the writer emits) whose body equals that gate up to global phase is read
back as the native gate.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np
import torch

from qgm.circuits.gates import gate_matrix

__all__ = ["embed", "dense", "equal_up_to_phase"]


def embed(u: np.ndarray, wires: Sequence[int], n: int) -> np.ndarray:
    k = len(wires)
    others = [w for w in range(n) if w not in wires]
    full = np.kron(u, np.eye(2 ** (n - k)))
    order = list(wires) + others
    inv = [order.index(w) for w in range(n)]
    t = full.reshape([2] * (2 * n)).transpose(inv + [n + i for i in inv])
    return t.reshape(2**n, 2**n)


def dense(ops: list[tuple], n: int) -> np.ndarray:
    m = np.eye(2**n, dtype=np.complex128)
    for name, wires, vals, matrix, _ in ops:
        if name == "unitary":
            u = matrix
        else:
            u = gate_matrix(name, torch.tensor([v.offset for v in vals], dtype=torch.float64)).numpy()
        m = embed(u, wires, n) @ m
    return m


def equal_up_to_phase(a: np.ndarray, b: np.ndarray, atol: float = 1e-9) -> bool:
    i = np.unravel_index(np.argmax(np.abs(b)), b.shape)
    if abs(a[i]) < 1e-12:
        return False
    phase = b[i] / a[i]
    return bool(abs(abs(phase) - 1) < atol and np.allclose(a * phase, b, atol=atol))
