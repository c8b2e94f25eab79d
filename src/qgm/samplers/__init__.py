"""Annealing-style samplers: exact, simulated annealing (SA) and path-integral quantum annealing (SQA)
on transverse-field Ising problems, through D-Wave's open-source ``dwave-samplers`` and ``dimod``
(optional: ``pip install 'qgm[anneal]'``). Results are basis-index tensors like every ``Bits`` model's.
"""
from qgm.samplers.anneal import (
    SAMPLERS,
    geometric_schedule,
    linear_schedule,
    path_integral_annealing,
    sample_thermal,
    seed_from,
    simulated_annealing,
    worldline_breaks,
)
from qgm.samplers.ising import MAX_ENUMERATED_SPINS, IsingProblem, spins_of

__all__ = [
    "SAMPLERS", "IsingProblem", "MAX_ENUMERATED_SPINS", "spins_of", "simulated_annealing", "path_integral_annealing",
    "sample_thermal", "worldline_breaks", "geometric_schedule", "linear_schedule", "seed_from",
]
