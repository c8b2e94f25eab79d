"""PennyLane interop: gate-by-gate matrices, random circuits, a trained circuit's
distribution, batching and gradients against ``default.qubit``."""
from __future__ import annotations

import numpy as np
import pytest
import torch
from scipy.stats import unitary_group

from qgm import sim
from qgm.circuits import GATES, Circuit, In, P, gate_matrix, hardware_efficient
from qgm.errors import ParameterError
from reference import embed, random_circuit

qml = pytest.importorskip("pennylane")

from qgm.backends import to_pennylane, to_pennylane_qnode  # noqa: E402

pytestmark = pytest.mark.interop

TOL = 1e-10


def _matrix(circuit: Circuit, params=None) -> np.ndarray:
    """PennyLane's matrix of the converted circuit on wires 0..n-1 (wire 0 = MSB)."""
    return np.asarray(qml.matrix(to_pennylane(circuit, params), wire_order=range(circuit.n_qubits))())


@pytest.mark.parametrize("name", sorted(GATES))
def test_every_gate_has_the_catalogue_matrix(name):
    g = GATES[name]
    angles = np.random.default_rng(len(name)).uniform(-3, 3, g.n_params)
    n = g.n_wires + 1
    wires = tuple(range(n - 1, 0, -1))  # reversed wires, one spectator: order conventions matter
    c = Circuit(n).add(name, wires, *[P(f"a{i}") for i in range(g.n_params)])
    expected = embed(gate_matrix(name, torch.tensor(angles)).numpy(), wires, n)
    np.testing.assert_allclose(_matrix(c, angles), expected, atol=TOL)


def test_user_unitary_keeps_its_wire_order():
    m = unitary_group.rvs(8, random_state=np.random.default_rng(3))
    wires = (2, 0, 3)
    np.testing.assert_allclose(_matrix(Circuit(4).unitary(m, wires)), embed(m, wires, 4), atol=TOL)


def _random_cases(count: int, seed: int):
    rng = np.random.default_rng(seed)
    for _ in range(count):
        c = random_circuit(int(rng.integers(1, 7)), 14, rng, inputs=2)
        yield c, rng.uniform(-3, 3, c.n_params), rng.uniform(-3, 3, c.n_inputs)


@pytest.mark.parametrize("interface", ["torch", "autograd"])
def test_random_circuits_match_the_engine_state(interface):
    for c, p, x in _random_cases(25, seed=7):
        args = (torch.tensor(p), torch.tensor(x)) if interface == "torch" else (p, x)
        ours = sim.state(c, p, x).numpy()
        theirs = np.asarray(to_pennylane_qnode(c, measurement="state", interface=interface)(*args))
        np.testing.assert_allclose(theirs, ours, atol=TOL)


def test_random_circuits_match_the_engine_probs():
    worst = 0.0
    for c, p, x in _random_cases(60, seed=8):
        theirs = to_pennylane_qnode(c)(torch.tensor(p), torch.tensor(x))
        worst = max(worst, (theirs - sim.probs(c, p, x)).abs().max().item())
    assert worst <= TOL


def test_custom_wire_labels_keep_qgm_order():
    """qgm wire i on PennyLane wire labels[i]; probs over the labels in that order are qgm's."""
    rng = np.random.default_rng(9)
    c = random_circuit(4, 16, rng, inputs=2)
    p, x = rng.uniform(-3, 3, c.n_params), rng.uniform(-3, 3, c.n_inputs)
    labels = ["q", 7, "a", 2]
    dev = qml.device("default.qubit", wires=[2, "a", 7, "q", "spare"])  # another order, one more wire
    theirs = to_pennylane_qnode(c, device=dev, wires=labels)(torch.tensor(p), torch.tensor(x))
    torch.testing.assert_close(theirs, sim.probs(c, p, x), atol=TOL, rtol=0)


@pytest.mark.parametrize("device", ["default.qubit", "lightning.qubit"])
def test_trained_circuit_gives_the_same_distribution(trained, device):
    if device == "lightning.qubit":
        pytest.importorskip("pennylane_lightning")
    c, params, _ = trained
    theirs = to_pennylane_qnode(c, device=device)(params)
    assert theirs.shape == (2**c.n_qubits,)
    torch.testing.assert_close(theirs, sim.probs(c, params), atol=TOL, rtol=0)


def test_parameter_batches_broadcast(trained):
    c, _, _ = trained
    batch = torch.rand(3, c.n_params, dtype=torch.float64, generator=torch.Generator().manual_seed(1))
    torch.testing.assert_close(to_pennylane_qnode(c)(batch), sim.probs(c, batch), atol=TOL, rtol=0)


@pytest.mark.parametrize("diff_method", ["backprop", "parameter-shift"])
def test_gradient_of_zz_matches_the_engine(diff_method):
    # a shared slot in affine angles and an input, before the layers so that all of them matter
    prefix = Circuit(3).h(2).crx(2, 0, 2 * P("w") - 0.3).u3(1, In("x"), P("w"), 0.4)
    c = prefix + hardware_efficient(3, 2)
    g = torch.Generator().manual_seed(2)
    params = torch.rand(c.n_params, dtype=torch.float64, generator=g).requires_grad_()
    inputs = torch.rand(c.n_inputs, dtype=torch.float64, generator=g).requires_grad_()
    qnode = to_pennylane_qnode(c, measurement="ZZI", diff_method=diff_method)
    theirs = torch.autograd.grad(qnode(params, inputs), (params, inputs))
    ours = torch.autograd.grad(sim.expval(c, params, "ZZI", inputs), (params, inputs))
    for a, b in zip(theirs, ours):
        torch.testing.assert_close(a, b, atol=1e-9, rtol=0)


def test_observable_sums_match_the_engine(trained):
    c, params, _ = trained
    obs = [(0.5, "ZZII"), (-1.2, "XIYZ"), (0.25, "ZZII"), (0.1, "IIII")]
    torch.testing.assert_close(
        to_pennylane_qnode(c, measurement=obs)(params), sim.expval(c, params, obs), atol=TOL, rtol=0
    )


def test_conversion_time_values_are_defaults():
    c = Circuit(2).ry(0, P("a")).rx(1, In("x"))
    ops = to_pennylane(c, params=[0.3], inputs=[1.1])
    dev = qml.device("default.qubit", wires=2)
    default = qml.QNode(lambda: (ops(), qml.state())[1], dev)()
    override = qml.QNode(lambda: (ops([0.7]), qml.state())[1], dev)()
    np.testing.assert_allclose(default, sim.state(c, [0.3], [1.1]).numpy(), atol=TOL)
    np.testing.assert_allclose(override, sim.state(c, [0.7], [1.1]).numpy(), atol=TOL)


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda c: to_pennylane_qnode(c)(), "params: the circuit has 1"),
        (lambda c: to_pennylane_qnode(c)([0.1, 0.2]), r"params: expected shape \(\.\.\., 1\)"),
        (lambda c: to_pennylane_qnode(c, measurement="prob"), "measurement"),
        (lambda c: to_pennylane_qnode(c, measurement="ZZZ"), "exactly 2 characters"),
        (lambda c: to_pennylane_qnode(c, wires=["a", "a"]), "2 distinct PennyLane wire labels"),
    ],
)
def test_argument_errors(call, match):
    with pytest.raises(ParameterError, match=match):
        call(Circuit(2).ry(0).cx(0, 1))
