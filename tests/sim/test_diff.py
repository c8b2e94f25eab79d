"""The one differentiation resolver and the one shots validator."""
import numpy as np
import pytest
import torch

import qgm
from qgm.circuits import Circuit, P, hardware_efficient
from qgm.errors import ConfigError, ParameterError
from qgm.sim import DIFF_METHODS, check_shots, resolve_diff_method
from qgm.sim.diff import BACKPROP_BUDGET_BYTES, canonical_diff_method


def test_names_aliases_and_did_you_mean():
    assert DIFF_METHODS == ("auto", "backprop", "adjoint", "parameter-shift")
    assert canonical_diff_method("shift") == "parameter-shift"
    assert canonical_diff_method(" Adjoint ") == "adjoint"
    with pytest.raises(ConfigError, match=r"did you mean 'backprop'"):
        canonical_diff_method("backpropp")
    with pytest.raises(ConfigError, match="auto, backprop, adjoint, parameter-shift"):
        canonical_diff_method("finite-diff")
    with pytest.raises(ConfigError, match="grad_method"):
        canonical_diff_method(3, field="grad_method")


def test_auto_rules():
    assert resolve_diff_method(n_qubits=4, shots=100) == "parameter-shift"
    assert resolve_diff_method(n_qubits=4, needs_second_order=True) == "backprop"
    assert resolve_diff_method(n_qubits=4, n_diff_params=1) == "parameter-shift"
    assert resolve_diff_method(n_qubits=4, n_diff_params=1, measured=False) == "backprop"
    assert resolve_diff_method(n_qubits=4, n_diff_params=1, shiftable=False) == "backprop"
    # the states backprop would keep decide between backprop and adjoint
    states = BACKPROP_BUDGET_BYTES // (16 << 20)
    assert resolve_diff_method(n_qubits=20, n_saved=states) == "backprop"
    assert resolve_diff_method(n_qubits=20, n_saved=states + 1) == "adjoint"
    assert resolve_diff_method(circuit=hardware_efficient(6, 4)) == "backprop"
    assert resolve_diff_method(circuit=hardware_efficient(6, 4), batch_size=2**25) == "adjoint"
    assert resolve_diff_method("adjoint", n_qubits=3) == "adjoint"


def test_incompatible_requests():
    with pytest.raises(ParameterError, match="shots=10 with diff_method='backprop'"):
        resolve_diff_method("backprop", n_qubits=2, shots=10)
    with pytest.raises(ParameterError, match="measured quantities"):
        resolve_diff_method("parameter-shift", n_qubits=2, measured=False)
    with pytest.raises(ParameterError, match="n_qubits or circuit"):
        resolve_diff_method()


def test_engine_defaults_to_auto_and_validates_names():
    c = Circuit(2).ry(0, P("a")).cx(0, 1).rz(1, P("b"))
    th = torch.tensor([0.3, -0.7], dtype=torch.float64, requires_grad=True)
    qgm.sim.expval(c, th, "ZI").backward()  # <Z_0> = cos(a)
    assert th.grad is not None and abs(float(th.grad[0]) + np.sin(0.3)) < 1e-12
    with pytest.raises(ConfigError, match="did you mean"):
        qgm.sim.probs(c, th, diff_method="ajoint")


@pytest.mark.parametrize("bad", [0, -3, 1.5, True, "10"])
def test_check_shots_refuses(bad):
    with pytest.raises(ParameterError, match=r"shots: expected a positive integer or None"):
        check_shots(bad)


def test_check_shots_accepts():
    assert check_shots(None) is None
    assert check_shots(np.int64(7)) == 7 and type(check_shots(np.int64(7))) is int
    with pytest.raises(ParameterError, match="n_samples"):
        check_shots(None, "n_samples", allow_none=False)
    with pytest.raises(ParameterError, match="shots"):
        qgm.sim.sample(Circuit(1).h(0), shots=0)
