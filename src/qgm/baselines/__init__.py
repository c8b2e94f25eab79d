"""Classical baselines under the model contract, for side-by-side runs.

Importing this package registers ``rbm`` and ``made`` in :data:`qgm.registry.MODELS`.
"""
from qgm.baselines.made import MADE, made_masks
from qgm.baselines.rbm import RBM

__all__ = ["RBM", "MADE", "made_masks"]
