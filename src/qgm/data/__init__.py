"""Datasets for quantum generative models, registered in :data:`qgm.registry.DATASETS`.

``DATASETS.create(name, **options)`` builds one. Every dataset is a
:class:`Dataset` that declares its :mod:`~qgm.spaces` space and serves batches
with ``dataset.batch(indices)``: bit datasets (:class:`BitDataset`) hold basis
indices (wire 0 = most significant bit), continuous ones
(:class:`ContinuousDataset`) real vectors or flat images, state datasets
(:class:`StateEnsemble`) pure states.

Registered: ``bas``, ``cardinality``, ``gaussian``, ``lognormal``, ``mixture``,
``double_gaussian``, ``lognormal_zoufal``, ``custom``, ``market_copula``,
``market_returns``, ``file``, ``ring``, ``grid``, ``digits``, ``zero_state``, ``ghz``,
``w_state``, ``cluster``, ``tfim_ground``, ``state_ensemble``.
"""
from qgm.data.bas import BarsAndStripes, bas_patterns
from qgm.data.base import BitDataset, ContinuousDataset, Dataset, GridDataset, ValidSetDataset
from qgm.data.cardinality import Cardinality, weight_k_strings
from qgm.data.digits import Digits
from qgm.data.distributions import grid_centres, mixture_probabilities
from qgm.data.files import read_bit_file
from qgm.data.market import MarketCopula, discretise_uniforms, fit_gaussian_copula, load_returns, sample_gaussian_copula
from qgm.data.mixtures2d import DiscretisedMixture2D, Mixture2D, grid_modes, ring_modes
from qgm.data.states import StateEnsemble, StateTarget, target_state

__all__ = [
    "Dataset", "BitDataset", "ValidSetDataset", "GridDataset", "ContinuousDataset",
    "BarsAndStripes", "bas_patterns", "Cardinality", "weight_k_strings",
    "grid_centres", "mixture_probabilities",
    "MarketCopula", "load_returns", "discretise_uniforms", "fit_gaussian_copula", "sample_gaussian_copula",
    "read_bit_file", "Mixture2D", "DiscretisedMixture2D", "ring_modes", "grid_modes", "Digits",
    "StateEnsemble", "StateTarget", "target_state",
]
