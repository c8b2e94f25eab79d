"""The one ansatz registry: builder names a config, a model or a scan may use.

``ANSATZE[name]`` is an :class:`AnsatzBuilder`: the builder function and the name
of its depth argument (``depth``, ``n_blocks`` for identity blocks, ``layers``
for the Sim et al. circuits), so a barren-plateau scan can set the depth of
any entry. Specs are plain dicts ``{"name": ..., "n_qubits": ..., **options}``.
"""
from __future__ import annotations

import inspect
from dataclasses import dataclass
from typing import Any, Callable

from qgm.circuits.ansatz import brickwork, hardware_efficient, identity_block_ansatz, iqp, liu_wang
from qgm.circuits.circuit import Circuit
from qgm.circuits.sim_catalogue import sim_circuit
from qgm.errors import ConfigError, brief
from qgm.limits import check_ansatz_size

__all__ = ["AnsatzBuilder", "ANSATZE", "build_ansatz", "ansatz_at_depth", "UNRESOLVED_PAIRS"]

#: An entangler value that only a dataset can resolve (its Chow-Liu tree; see ``qgm.models.ansatz``).
UNRESOLVED_PAIRS = "chow-liu"
_PAIR_KEYS = ("pairs", "entangler")


@dataclass(frozen=True)
class AnsatzBuilder:
    """A registered builder and the keyword that sets its depth."""

    build: Callable[..., Circuit]
    depth_key: str = "depth"

    def options(self) -> list[str]:
        """Keyword arguments the builder takes."""
        return list(inspect.signature(self.build).parameters)


ANSATZE: dict[str, AnsatzBuilder] = {
    "hardware_efficient": AnsatzBuilder(hardware_efficient),
    "brickwork": AnsatzBuilder(brickwork),
    "iqp": AnsatzBuilder(iqp),
    "liu_wang": AnsatzBuilder(liu_wang),
    "sim": AnsatzBuilder(sim_circuit, "layers"),
    "identity_blocks": AnsatzBuilder(identity_block_ansatz, "n_blocks"),
}


def _entry(spec: Any) -> AnsatzBuilder:
    if not isinstance(spec, dict) or "name" not in spec:
        raise ConfigError(f"ansatz: expected a dict with a 'name' key (one of {sorted(ANSATZE)}), got {spec!r}")
    try:
        return ANSATZE[spec["name"]]
    except (KeyError, TypeError):
        raise ConfigError(f"ansatz name {spec['name']!r} unknown; known: {sorted(ANSATZE)}") from None


def build_ansatz(spec: dict[str, Any]) -> Circuit:
    """The circuit of a resolved spec (``n_qubits`` present, no dataset-dependent entangler left)."""
    entry = _entry(spec)
    options = {k: v for k, v in spec.items() if k != "name"}
    allowed = entry.options()
    unknown = sorted(set(options) - set(allowed))
    if unknown:
        raise ConfigError(f"ansatz {spec['name']!r}: unknown option(s) {unknown}; allowed: {sorted(allowed)}")
    if "n_qubits" not in options:
        raise ConfigError(f"ansatz {spec['name']!r}: 'n_qubits' missing (the model factory sets it from the dataset)")
    if any(options.get(k) == UNRESOLVED_PAIRS for k in _PAIR_KEYS):
        raise ConfigError(f"ansatz: {UNRESOLVED_PAIRS!r} pairs need the data; build the model with its dataset factory")
    depth = options.get(entry.depth_key, 0)
    if isinstance(depth, bool) or not isinstance(depth, int) or depth < 0:
        raise ConfigError(f"ansatz {spec['name']!r}: {entry.depth_key} must be an integer >= 0, got {brief(depth)}")
    check_ansatz_size(depth, options["n_qubits"], f"ansatz {entry.depth_key}")
    return entry.build(**options)


def ansatz_at_depth(spec: dict[str, Any], n_qubits: int, depth: int) -> Circuit:
    """The circuit of ``spec`` on ``n_qubits`` qubits with its depth argument set to ``depth``."""
    entry = _entry(spec)
    return build_ansatz({**spec, "n_qubits": n_qubits, entry.depth_key: depth})
