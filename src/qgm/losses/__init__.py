"""Training losses ``loss(model, batch) -> scalar`` (the :class:`Loss` protocol).

:class:`DistributionLoss` es compare distributions over bitstrings (MMD, KL/NLL,
Sinkhorn, Stein); :class:`StateEnsembleLoss` es compare ensembles of quantum
states (fidelity MMD, Wasserstein on fidelities, global and local fidelity to a
target). Importing this package registers ``mmd``, ``kl``, ``nll``,
``sinkhorn``, ``stein``, ``fidelity_mmd``, ``state_wasserstein``,
``global_fidelity`` and ``local_fidelity`` in :data:`qgm.registry.LOSSES`
(factories ``factory(dataset, **options)``).
"""
from qgm.losses.adversarial import ADVERSARIAL_LOSSES, AdversarialLoss, get_adversarial_loss, gradient_penalty
from qgm.losses.base import DistributionLoss, Loss, histogram, target_distribution
from qgm.losses.distance import DISTANCES, pairwise_distance
from qgm.losses.ensemble import (
    FidelityMMDLoss,
    StateEnsembleLoss,
    StateWassersteinLoss,
    fidelity_mmd,
    overlap_matrix,
    state_wasserstein,
)
from qgm.losses.fidelity import GlobalFidelityLoss, LocalFidelityLoss, Unpreparation, fidelity, local_fidelity
from qgm.losses.kernel import CONVENTIONS, GaussianMixtureKernel, expected_bodyness, sigma_to_gamma
from qgm.losses.likelihood import KLLoss, NLLLoss
from qgm.losses.mmd import ESTIMATORS, MMDLoss, make_kernel, mmd_from_samples
from qgm.losses.sinkhorn import SinkhornLoss, sinkhorn_divergence
from qgm.losses.stein import SteinLoss, stein_kernel

__all__ = [
    "ADVERSARIAL_LOSSES", "AdversarialLoss", "get_adversarial_loss", "gradient_penalty",
    "Loss", "DistributionLoss", "StateEnsembleLoss", "FidelityMMDLoss", "StateWassersteinLoss", "fidelity_mmd",
    "overlap_matrix", "state_wasserstein", "histogram", "target_distribution", "DISTANCES", "pairwise_distance",
    "CONVENTIONS", "GaussianMixtureKernel", "expected_bodyness", "sigma_to_gamma", "make_kernel",
    "MMDLoss", "ESTIMATORS", "mmd_from_samples", "KLLoss", "NLLLoss",
    "GlobalFidelityLoss", "LocalFidelityLoss", "Unpreparation", "fidelity", "local_fidelity",
    "SinkhornLoss", "sinkhorn_divergence", "SteinLoss", "stein_kernel",
]
