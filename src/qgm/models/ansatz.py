"""Ansatz specifications resolved against a dataset.

``{"name": "liu_wang", "n_qubits": 9, "depth": 10, "pairs": "chow-liu"}``. Names
are the builders of the one registry :data:`qgm.circuits.registry.ANSATZE`; the
other keys are their keyword arguments. The entangler value ``"chow-liu"`` (keys ``pairs`` / ``entangler``)
is replaced by the Chow-Liu tree of a dataset's training bits by
:func:`resolve_ansatz_spec`, so a stored spec rebuilds without the data.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from qgm.circuits import chow_liu_tree
from qgm.circuits.registry import ANSATZE, UNRESOLVED_PAIRS, build_ansatz
from qgm.errors import ConfigError

__all__ = ["ANSATZE", "CHOW_LIU", "build_ansatz", "resolve_ansatz_spec"]

#: Entangler value replaced by the data's Chow-Liu tree.
CHOW_LIU = UNRESOLVED_PAIRS
_PAIR_KEYS = ("pairs", "entangler")


def resolve_ansatz_spec(spec: dict[str, Any], dataset: Any) -> dict[str, Any]:
    """``spec`` with ``n_qubits`` = the qubits of the dataset's space (``Bits(n)`` or ``PureStates(n)``) and
    any ``"chow-liu"`` entangler made explicit (from the training bits)."""
    if not isinstance(spec, dict) or spec.get("name") not in ANSATZE:
        raise ConfigError(f"ansatz: expected a dict whose 'name' is one of {sorted(ANSATZE)}, got {spec!r}")
    n = int(dataset.space.n)
    if "n_qubits" in spec and spec["n_qubits"] != n:
        raise ConfigError(f"ansatz n_qubits={spec['n_qubits']} differs from the dataset's {n} qubits")
    out = dict(spec, n_qubits=n)
    for key in _PAIR_KEYS:
        if out.get(key) == CHOW_LIU:
            bits = np.asarray(dataset.bits(dataset.train))
            out[key] = [list(pair) for pair in chow_liu_tree(bits)]
    return out
