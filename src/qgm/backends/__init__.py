"""Where else it runs: Qiskit (Aer, IBM hardware) and PennyLane.

These are optional extras (``pip install 'qgm[interop]'``): importing
``qgm.backends`` needs neither library; each function imports its library when
called and raises a :class:`qgm.errors.QGMError` naming the extra if missing.
"""
from qgm.backends.pennylane import to_pennylane, to_pennylane_qnode
from qgm.backends.qiskit import from_qiskit, run_on_backend, to_qiskit

__all__ = ["to_qiskit", "from_qiskit", "run_on_backend", "to_pennylane", "to_pennylane_qnode"]
