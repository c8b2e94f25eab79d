"""qgm: quantum generative models on a fast, differentiable state-vector engine."""
from qgm import backends, baselines, circuits, data, geometry, losses, metrics, models, optim, sim, train, trainability
from qgm.backends import from_qiskit, run_on_backend, to_pennylane, to_pennylane_qnode, to_qiskit
from qgm.baselines import GAN
from qgm.circuits import Circuit, In, P
from qgm.errors import CircuitError, ConfigError, DataError, ParameterError, QGMError, ResourceError
from qgm.models import QCBM, QGAN, GenerativeModel, PatchQGAN, scenarios
from qgm.sim import NoiseModel, density_matrix, noisy_probs, noisy_sample
from qgm.train import Trainer, run_config

__version__ = "0.1.0"

__all__ = [
    "Circuit", "P", "In", "QCBM", "QGAN", "PatchQGAN", "GAN", "GenerativeModel", "scenarios",
    "Trainer", "run_config",
    "NoiseModel", "density_matrix", "noisy_probs", "noisy_sample",
    "to_qiskit", "from_qiskit", "run_on_backend", "to_pennylane", "to_pennylane_qnode",
    "circuits", "sim", "backends", "data", "metrics", "losses", "models", "baselines",
    "geometry", "optim", "trainability", "train",
    "QGMError", "ConfigError", "DataError", "CircuitError", "ParameterError", "ResourceError",
    "__version__",
]
