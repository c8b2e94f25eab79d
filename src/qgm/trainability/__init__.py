"""Trainability lab: barren-plateau scans, local vs global costs, target states, initialisation.

* :func:`scan` -> :class:`ScanResult` (table, fits of ``log2 Var`` vs ``n``, plot),
  cached per point so scans resume; :func:`run_plateau` is the library entry of
  ``qgm plateau CONFIG --out DIR``.
* Costs (:data:`COSTS`): global and local fidelity costs, MMD with a bandwidth, KL.
* Target states (:func:`target_state`, from :mod:`qgm.data.states`): GHZ, W, cluster, TFIM ground state.
* Initial-angle strategies (:data:`INITIALIZERS`, defined in :mod:`qgm.circuits.init`):
  uniform, small, identity blocks, layerwise, and AdaInit (registered here; a
  classical proposal in place of the paper's LLM).
"""
from qgm.circuits.ansatz import identity_block_ansatz
from qgm.circuits.init import INITIALIZERS, initialize, layerwise_phases, param_layers, register_init
from qgm.data.states import TARGET_STATES, StateTarget, target_state
from qgm.trainability.adainit import AdaInitResult, adainit_search
from qgm.trainability.costs import COSTS, CostSpec, ScanCost, build_cost, parse_cost
from qgm.trainability.fit import fit_decay, variance_stats
from qgm.trainability.gradients import values_and_gradients
from qgm.trainability.plateau import run_plateau
from qgm.trainability.scan import ScanResult, depth_of, scan

__all__ = [
    "scan", "ScanResult", "depth_of", "run_plateau", "COSTS", "CostSpec", "ScanCost", "build_cost", "parse_cost",
    "fit_decay", "variance_stats", "values_and_gradients", "INITIALIZERS", "register_init", "initialize",
    "identity_block_ansatz", "param_layers", "layerwise_phases", "adainit_search", "AdaInitResult",
    "TARGET_STATES", "StateTarget", "target_state",
]
