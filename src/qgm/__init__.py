"""qgm: quantum generative models on a fast, differentiable state-vector engine."""
from qgm import circuits, sim
from qgm.circuits import Circuit, In, P
from qgm.errors import (
    CircuitError,
    ConfigError,
    DataError,
    ParameterError,
    QGMError,
    ResourceError,
)

__version__ = "0.1.0"

__all__ = [
    "Circuit", "P", "In", "circuits", "sim",
    "QGMError", "ConfigError", "DataError", "CircuitError", "ParameterError", "ResourceError",
    "__version__",
]
