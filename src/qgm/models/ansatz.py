"""Ansatz specifications: plain dicts naming a circuit builder and its options.

``{"name": "liu_wang", "n_qubits": 9, "depth": 10, "pairs": "chow-liu"}``. Names
are the builders of :mod:`qgm.circuits.ansatz`; the other keys are their keyword
arguments. The entangler value ``"chow-liu"`` (keys ``pairs`` / ``entangler``)
is replaced by the Chow-Liu tree of a dataset's training bits by
:func:`resolve_ansatz_spec`, so a stored spec rebuilds without the data.
"""
from __future__ import annotations

import inspect
from typing import Any, Callable

import numpy as np

from qgm.circuits import Circuit, brickwork, chow_liu_tree, hardware_efficient, iqp, liu_wang, sim_circuit
from qgm.errors import ConfigError
from qgm.trainability.init import identity_block_ansatz

__all__ = ["ANSATZE", "CHOW_LIU", "build_ansatz", "resolve_ansatz_spec"]

ANSATZE: dict[str, Callable[..., Circuit]] = {
    "hardware_efficient": hardware_efficient,
    "brickwork": brickwork,
    "iqp": iqp,
    "liu_wang": liu_wang,
    "sim": sim_circuit,
    "identity_blocks": identity_block_ansatz,
}
#: Entangler value replaced by the data's Chow-Liu tree.
CHOW_LIU = "chow-liu"
_PAIR_KEYS = ("pairs", "entangler")


def _builder(spec: dict[str, Any]) -> Callable[..., Circuit]:
    if not isinstance(spec, dict) or "name" not in spec:
        raise ConfigError(f"ansatz: expected a dict with a 'name' key (one of {sorted(ANSATZE)}), got {spec!r}")
    try:
        return ANSATZE[spec["name"]]
    except KeyError:
        raise ConfigError(f"ansatz name {spec['name']!r} unknown; known: {sorted(ANSATZE)}") from None


def build_ansatz(spec: dict[str, Any]) -> Circuit:
    """The circuit of a resolved spec (``n_qubits`` present, no ``"chow-liu"`` left)."""
    builder = _builder(spec)
    options = {k: v for k, v in spec.items() if k != "name"}
    allowed = set(inspect.signature(builder).parameters)
    unknown = sorted(set(options) - allowed)
    if unknown:
        raise ConfigError(f"ansatz {spec['name']!r}: unknown option(s) {unknown}; allowed: {sorted(allowed)}")
    if "n_qubits" not in options:
        raise ConfigError(f"ansatz {spec['name']!r}: 'n_qubits' missing (the model factory sets it from the dataset)")
    if any(options.get(k) == CHOW_LIU for k in _PAIR_KEYS):
        raise ConfigError("ansatz: 'chow-liu' pairs need the data; build the model with its dataset factory")
    return builder(**options)


def resolve_ansatz_spec(spec: dict[str, Any], dataset: Any) -> dict[str, Any]:
    """``spec`` with ``n_qubits = dataset.n_bits`` and any ``"chow-liu"`` entangler made explicit."""
    _builder(spec)
    if "n_qubits" in spec and spec["n_qubits"] != dataset.n_bits:
        raise ConfigError(f"ansatz n_qubits={spec['n_qubits']} differs from the dataset's n_bits={dataset.n_bits}")
    out = dict(spec, n_qubits=int(dataset.n_bits))
    for key in _PAIR_KEYS:
        if out.get(key) == CHOW_LIU:
            bits = np.asarray(dataset.bits(dataset.train))
            out[key] = [list(pair) for pair in chow_liu_tree(bits)]
    return out
