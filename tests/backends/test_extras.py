"""Missing optional libraries: every interop entry point names the extra to install.

These tests need neither Qiskit nor PennyLane (the libraries are hidden from
the import system), so they also run where the interop extra is absent.
"""
from __future__ import annotations

import sys

import pytest

from qgm.backends import from_qiskit, run_on_backend, to_pennylane, to_pennylane_qnode, to_qiskit
from qgm.circuits import Circuit
from qgm.errors import QGMError

EXTRA = r"pip install 'qgm\[interop\]'"


@pytest.mark.parametrize(
    "hidden, call",
    [
        ("qiskit", lambda c: to_qiskit(c)),
        ("qiskit", lambda c: from_qiskit(object())),
        ("qiskit", lambda c: run_on_backend(c, shots=4)),
        ("qiskit_aer", lambda c: run_on_backend(c, shots=4)),
        ("pennylane", lambda c: to_pennylane(c)),
        ("pennylane", lambda c: to_pennylane_qnode(c)),
    ],
)
def test_missing_library_names_the_extra(monkeypatch, hidden, call):
    monkeypatch.setitem(sys.modules, hidden, None)
    with pytest.raises(QGMError, match=f"'{hidden}' is unavailable.*{EXTRA}"):
        call(Circuit(1).h(0))
