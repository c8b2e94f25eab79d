"""Metrics of generative models: pure functions on distributions and samples,
plus adapters registered in :data:`qgm.registry.METRICS` and :func:`evaluate`.

Registered metric names: ``kl`` (KL(reference || model)), ``tv``, ``js``,
``hellinger_fidelity``, ``mmd``, ``ks``, ``valid_fraction``, ``qbas``,
``generalisation_{fidelity,rate,coverage,coverage_normalised}``,
``modes_covered``, ``high_quality_fraction``, ``mode_kl``, ``kendall_tau``,
``tail_lower``, ``tail_upper``, ``joint_crash_frequency``, and for quantum states
``state_mmd``, ``state_wasserstein``, ``centre_fidelity``, ``magnetisation``,
``ordered_fraction``, ``purity_w1``, ``entropy_w1``, ``entanglement_w1``, ``validity_rate``.
"""
from qgm.metrics.bitstrings import generalisation, qbas_score, valid_fraction
from qgm.metrics.coverage import mode_coverage
from qgm.metrics.divergences import hellinger_fidelity, js, kl, tv
from qgm.metrics.evaluate import evaluate
from qgm.metrics.finance import (
    bootstrap_ci,
    joint_crash_frequency,
    kendall_tau,
    pairwise_mean,
    pseudo_observations,
    tail_dependence,
)
from qgm.metrics.samples import gaussian_kernel, ks_per_marginal, mmd, mmd_distributions
from qgm.metrics.states import entanglement_entropies, magnetisations, physical_validity, purities, von_neumann_entropies

__all__ = [
    "kl", "tv", "js", "hellinger_fidelity",
    "mmd", "mmd_distributions", "gaussian_kernel", "ks_per_marginal",
    "valid_fraction", "qbas_score", "generalisation", "mode_coverage",
    "pseudo_observations", "kendall_tau", "tail_dependence", "joint_crash_frequency", "pairwise_mean", "bootstrap_ci",
    "evaluate", "purities", "von_neumann_entropies", "entanglement_entropies", "magnetisations", "physical_validity",
]
