"""Bad input at the Python API's doors: one-line QGMErrors naming the field and the fix (issue items 15, 16)."""
import math

import pytest
import torch

from qgm import sim
from qgm.circuits import Circuit, In, P
from qgm.errors import CircuitError, ConfigError, ParameterError, ResourceError
from qgm.registry import DATASETS
from qgm.train import build_run

C = Circuit(3).h(0).ry(1, P("alpha")).cx(1, 2)


def one_line(info) -> str:
    text = str(info.value)
    assert "\n" not in text and len(text) < 400
    return text


def test_bind_refuses_unknown_slots_and_bad_values():
    assert C.bind(alpha=0.3).n_params == 0
    with pytest.raises(CircuitError) as info:
        C.bind(alpah=1)
    assert one_line(info) == "bind: 'alpah' is no slot of this circuit (did you mean 'alpha'?); its slots are alpha"
    for value in ("x", math.nan, 1j, None):
        with pytest.raises(CircuitError, match=r"^bind: alpha=.*; give a finite real number$"):
            C.bind(alpha=value)


def test_circuit_builders_refuse_bad_gates_wires_and_angles():
    for call, message in ((lambda: C.add(3, 0), "unknown gate 3"), (lambda: C.add("ry", 1.5), "wires must be integers"),
                          (lambda: C.ry(0, 1j), "angle 1j must be a real number"),
                          (lambda: C.ry(0, "0.5"), "angle '0.5' must be a real number"),
                          (lambda: C.ry(7), "wire 7 out of range")):
        with pytest.raises(CircuitError, match=message):
            call()


def test_initial_state_must_be_normalised():
    plus = torch.full((8,), 8**-0.5, dtype=torch.complex128)
    p = sim.probs(Circuit(3).h(0), None, initial_state=plus)
    assert torch.allclose(p.sum(), torch.tensor(1.0, dtype=torch.float64))
    with pytest.raises(ParameterError) as info:
        sim.probs(Circuit(3).h(0), None, initial_state=torch.ones(8, dtype=torch.complex128))
    assert one_line(info).startswith("initial_state: a state has squared norm 8, not 1 (tolerance 1e-06); normalise")
    unnormalised = sim.state(Circuit(3).h(0), None, initial_state=torch.ones(8, dtype=torch.complex128))
    assert float(unnormalised.norm()) == pytest.approx(8**0.5)  # evolution alone is linear: any vector goes
    with pytest.raises(ParameterError, match="non-finite amplitude"):
        sim.state(Circuit(3), None, initial_state=torch.full((8,), math.nan, dtype=torch.complex128))
    with pytest.raises(ParameterError, match=r"expected a tensor of shape \(\.\.\., 8\)"):
        sim.state(Circuit(3), None, initial_state=[1, 0, 0, 0, 0, 0, 0, 0])


@pytest.mark.parametrize("observable, message", [
    ([(math.nan, "ZZZ")], "observable: coefficient nan of term 'ZZZ' is not finite"),
    ([(math.inf, "ZZZ"), (1.0, "XII")], "coefficient inf"),
    ([(1j, "ZZZ")], "coefficient 1j of term 'ZZZ' is complex; a Pauli sum needs real coefficients"),
    ([(torch.tensor(1j), "ZZZ")], "is complex"),
    ([("a", "ZZZ")], "observable: expected a Pauli string like 'ZIZ', a sum [(coef, 'XXI'), ...] or a list"),
    ([(None, "ZZZ")], "coefficient None of term 'ZZZ' is not a number"),
    ([([1], "III"), (0.0, "III")], "observable: "),
    ([(1.0, "ZZ")], "exactly 3 characters"),
])
def test_observable_coefficients(observable, message):
    with pytest.raises(ParameterError) as info:
        sim.expval(C, torch.tensor([0.1]), observable)
    assert message in one_line(info)
    assert float(sim.expval(C, torch.tensor([0.0]), [(2.0, "ZII"), (0.5, "IZZ")])) == pytest.approx(0.5)


def test_batch_shapes_generators_and_shots():
    c = Circuit(2).ry(0).rx(1, In("x"))
    with pytest.raises(ParameterError) as info:
        sim.probs(c, torch.zeros(3, 1), torch.zeros(4, 1))
    assert one_line(info).startswith("batch shapes do not broadcast (params batch (3,), inputs batch (4,))")
    with pytest.raises(ParameterError, match=r"^empty batch"):
        sim.probs(c, torch.zeros(0, 1), torch.zeros(1))
    assert sim.probs(c, torch.zeros(3, 1), torch.zeros(1, 1)).shape == (3, 4)
    with pytest.raises(ParameterError) as info:
        sim.sample(c, torch.zeros(1), 5, inputs=torch.zeros(1), generator=42)
    assert one_line(info) == ("generator: expected a torch.Generator or None, got 42; pass "
                              "generator=torch.Generator().manual_seed(42)")
    for shots in (None, 0, 1.5):
        with pytest.raises(ParameterError, match=r"^shots: expected a positive integer or None \(exact\), got "):
            sim.sample(c, torch.zeros(1), shots, inputs=torch.zeros(1))
    with pytest.raises(ParameterError, match=r"^shots: 1180591620717411303424 is more than MAX_SHOTS=2\*\*53"):
        sim.sample(c, torch.zeros(1), 2**70, inputs=torch.zeros(1))
    with pytest.raises(ResourceError, match=r"^shots: 1 x 1000000000000 samples needs"):
        sim.sample(c, torch.zeros(1), 10**12, inputs=torch.zeros(1))


def test_sample_counts_are_samples_not_shots():
    model = build_run({"name": "m", "dataset": {"name": "bas", "rows": 2, "cols": 2}, "model": "qcbm",
                       "loss": "mmd", "optimizer": "adam", "train": {"plots": False}}).model
    for n in (-1, 0, 2.5):
        with pytest.raises(ParameterError, match=rf"^n: expected a positive number of samples, got {n}$"):
            model.sample(n)


def test_registry_names_missing_and_bad_options():
    import qgm.data  # noqa: F401

    with pytest.raises(ConfigError, match="^components: required option of dataset 'mixture' missing$"):
        DATASETS.create("mixture")
    with pytest.raises(ConfigError, match=r"^dataset 'gaussian': bad option value \(ValueError: .*\); options given: "):
        DATASETS.create("gaussian", mu="x")


@pytest.mark.parametrize("n", [1020, 1100])
def test_thousand_qubit_circuits_are_refused_without_overflow(n):
    with pytest.raises(ResourceError, match=rf"^n_qubits={n} with batch 1 needs about 2\^{n - 25} GiB \(2 state copies"):
        sim.state(Circuit(n).h(0), None)


def test_huge_coefficients_are_refused_before_they_overflow():
    c = Circuit(3).h(0)
    with pytest.raises(ParameterError, match=r"^observable: coefficient 8.99e\+307 of term 'ZII' exceeds MAX_COEFFICIENT"):
        sim.expval(c, None, [(1.0, "III"), (8.988e307, "ZII")])
    assert float(sim.expval(c, None, [(1e150, "III"), (1e150, "IZI")])) == pytest.approx(2e150)
