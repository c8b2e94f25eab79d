"""Geometry of parametrised circuits: Fubini–Study metric and quantum Fisher
information (full, block-diagonal, diagonal), classical Fisher information of
Born machines, expressibility, entangling capability and entanglement entropy."""
from qgm.geometry.entanglement import (
    entanglement_entropy,
    entangling_capability,
    meyer_wallach,
    reduced_density_matrix,
    schmidt_spectrum,
)
from qgm.geometry.expressibility import expressibility, fidelity_histogram, fidelity_samples, haar_log_masses, kl_to_haar
from qgm.geometry.fisher import classical_fisher, probability_jacobian
from qgm.geometry.jacobian import gate_generator, state_jacobian
from qgm.geometry.layers import parametrized_layers
from qgm.geometry.metric import APPROXIMATIONS, fubini_study, metric_tensor, quantum_fisher
from qgm.geometry.report import geometry_report, metric_spectrum, plot_geometry_report
from qgm.geometry.sampling import uniform_params

__all__ = [
    "metric_tensor", "quantum_fisher", "fubini_study", "state_jacobian", "APPROXIMATIONS",
    "parametrized_layers", "gate_generator",
    "classical_fisher", "probability_jacobian",
    "expressibility", "fidelity_samples", "fidelity_histogram", "haar_log_masses", "kl_to_haar",
    "entangling_capability", "entanglement_entropy", "meyer_wallach", "reduced_density_matrix",
    "schmidt_spectrum", "uniform_params",
    "geometry_report", "plot_geometry_report", "metric_spectrum",
]
