"""Generative models behind one contract (:class:`GenerativeModel`).

Importing this package registers ``qcbm`` in :data:`qgm.registry.MODELS`.
"""
from qgm.models.ansatz import ANSATZE, build_ansatz, resolve_ansatz_spec
from qgm.models.base import GenerativeModel, basis_bits, sample_from_probs
from qgm.models.qcbm import INITIALIZERS, QCBM, register_init

__all__ = [
    "GenerativeModel", "basis_bits", "sample_from_probs", "QCBM", "INITIALIZERS", "register_init",
    "ANSATZE", "build_ansatz", "resolve_ansatz_spec",
]
