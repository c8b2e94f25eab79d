"""Generative models behind one protocol (:class:`GenerativeModel`, capability tags :class:`ModelTags`).

Importing this package registers ``qcbm``, ``qgan``, ``patch_qgan``, ``quddpm``,
``quantum_direct_transport``, ``state_qgan`` and ``quantum_flow_matching`` in
:data:`qgm.registry.MODELS`.
"""
from qgm.models.adversarial import AdversarialModel
from qgm.models.ansatz import ANSATZE, build_ansatz, resolve_ansatz_spec
from qgm.models.base import GenerativeModel, ModelTags, basis_bits, sample_from_probs
from qgm.models.discriminators import DISCRIMINATORS, MLPDiscriminator, build_discriminator, register_discriminator
from qgm.models.patch_qgan import PatchGenerator, PatchQGAN, max_normalise, patch_circuit, postselect
from qgm.models.qcbm import INITIALIZERS, QCBM, register_init
from qgm.models.qddpm import QuDDPM, forward_diffuse
from qgm.models.qfm import QuantumFlowMatching
from qgm.models.qgan import QGAN
from qgm.models.scenarios import scenarios
from qgm.models.state_qgan import StateQGAN

__all__ = [
    "GenerativeModel", "ModelTags", "basis_bits", "sample_from_probs", "QCBM", "INITIALIZERS", "register_init",
    "ANSATZE", "build_ansatz", "resolve_ansatz_spec",
    "QGAN", "AdversarialModel", "MLPDiscriminator", "DISCRIMINATORS", "build_discriminator", "register_discriminator",
    "PatchQGAN", "PatchGenerator", "patch_circuit", "postselect", "max_normalise", "scenarios",
    "QuDDPM", "forward_diffuse", "StateQGAN", "QuantumFlowMatching",
]
