"""Classical baselines under the model contract, for side-by-side runs.

Importing this package registers ``rbm``, ``made`` and ``gan`` in :data:`qgm.registry.MODELS`.
"""
from qgm.baselines.gan import GAN
from qgm.baselines.made import MADE, made_masks
from qgm.baselines.rbm import RBM

__all__ = ["GAN", "RBM", "MADE", "made_masks"]
