"""Datasets for quantum generative models, registered in :data:`qgm.registry.DATASETS`.

``DATASETS.create(name, **options)`` builds one. Bit datasets (:class:`BitDataset`)
hold basis indices (wire 0 = most significant bit); continuous ones
(:class:`ContinuousDataset`) hold real vectors.

Registered: ``bas``, ``cardinality``, ``gaussian``, ``lognormal``, ``mixture``,
``double_gaussian``, ``lognormal_zoufal``, ``custom``, ``market_copula``,
``market_returns``, ``file``, ``ring``, ``grid``, ``digits``.
"""
from qgm.data.base import BitDataset, ContinuousDataset, GridDataset, ValidSetDataset
from qgm.data.bas import BarsAndStripes, bas_patterns
from qgm.data.cardinality import Cardinality, weight_k_strings
from qgm.data.digits import Digits
from qgm.data.distributions import grid_centres, mixture_probabilities
from qgm.data.files import read_bit_file
from qgm.data.market import (
    MarketCopula,
    discretise_uniforms,
    fit_gaussian_copula,
    load_returns,
    sample_gaussian_copula,
)
from qgm.data.mixtures2d import DiscretisedMixture2D, Mixture2D, grid_modes, ring_modes

__all__ = [
    "BitDataset", "ValidSetDataset", "GridDataset", "ContinuousDataset",
    "BarsAndStripes", "bas_patterns", "Cardinality", "weight_k_strings",
    "grid_centres", "mixture_probabilities",
    "MarketCopula", "load_returns", "discretise_uniforms", "fit_gaussian_copula", "sample_gaussian_copula",
    "read_bit_file", "Mixture2D", "DiscretisedMixture2D", "ring_modes", "grid_modes", "Digits",
]
