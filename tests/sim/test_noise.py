"""Density matrices and noise: analytic channels, a dense Kraus oracle, Qiskit Aer
and PennyLane cross-checks, gradients, sampling and errors."""
from __future__ import annotations

import numpy as np
import pytest
import torch
from scipy import stats

import qgm
from qgm.circuits import Circuit, P, hardware_efficient
from qgm.circuits.gates import gate_matrix
from qgm.errors import ParameterError, ResourceError
from qgm.sim import (
    AmplitudeDamping,
    BitFlip,
    Depolarizing,
    NoiseModel,
    PhaseDamping,
    PhaseFlip,
    ReadoutError,
    density_matrix,
    noisy_probs,
    noisy_sample,
)
from reference import angle, embed, random_circuit

# gates Qiskit Aer runs natively (no transpilation, so noise lands after the same gates);
# Aer keys errors by gate name only, so user unitaries (any width) are left to the dense oracle
AER_GATES = ["x", "y", "z", "h", "s", "sdg", "t", "tdg", "sx", "rx", "ry", "rz", "p", "u3",
             "cx", "cy", "cz", "swap", "rxx", "ryy", "rzz", "ccx"]


def every_channel(rng: np.random.Generator) -> NoiseModel:
    """A model using every channel kind and every selector kind."""
    u = lambda: float(rng.uniform(0.02, 0.3))  # noqa: E731
    return (
        NoiseModel()
        .add_gate_noise(Depolarizing(u()), gates="1q")
        .add_gate_noise(Depolarizing(u(), n_qubits=2), gates="2q")
        .add_gate_noise(AmplitudeDamping(u()))
        .add_gate_noise(PhaseDamping(u()), gates=("ry", "cx", "unitary"))
        .add_gate_noise(BitFlip(u()), wires=[0, 2])
        .add_gate_noise(PhaseFlip(u()), gates="cz", wires=[1, 2, 3])
        .add_readout(ReadoutError(u(), u()))
    )


def dense_rho(circuit: Circuit, params, inputs, noise: NoiseModel | None) -> np.ndarray:
    """Oracle: gate by gate with full 2**n matrices, then every Kraus channel the model places."""
    n = circuit.n_qubits
    pv = dict(zip(circuit.param_names, np.asarray(params if params is not None else [], dtype=float).tolist()))
    iv = dict(zip(circuit.input_names, np.asarray(inputs if inputs is not None else [], dtype=float).tolist()))
    rho = np.zeros((2**n, 2**n), dtype=np.complex128)
    rho[0, 0] = 1
    for op in circuit.ops:
        if op.name == "unitary":
            u = op.matrix
        else:
            u = gate_matrix(op.name, torch.tensor([angle(a, pv, iv) for a in op.params], dtype=torch.float64)).numpy()
        full = embed(u, op.wires, n)
        rho = full @ rho @ full.conj().T
        for channel, wires in (noise.channels_after(op) if noise is not None else []):
            ks = [embed(k, wires, n) for k in channel.kraus().numpy()]
            rho = sum(k @ rho @ k.conj().T for k in ks)
    return rho


def one_gate(name: str = "id") -> Circuit:
    return Circuit(1).add(name, 0)


# ---------------------------------------------------------------------------
# channels: analytic answers


@pytest.mark.parametrize("p", [0.0, 0.25, 1.0])
def test_channels_are_trace_preserving_and_superoperator_matches_kraus(p):
    channels = [Depolarizing(p), Depolarizing(p, n_qubits=2), Depolarizing(4 / 3), AmplitudeDamping(p),
                PhaseDamping(p), BitFlip(p), PhaseFlip(p), Depolarizing.from_pauli_probability(p)]
    for ch in channels:
        k = ch.kraus()
        d = k.shape[-1]
        torch.testing.assert_close(torch.einsum("mji,mjk->ik", k.conj(), k), torch.eye(d, dtype=k.dtype))
        want = sum(torch.kron(a, a.conj()) for a in k)
        torch.testing.assert_close(ch.superoperator(), want, atol=1e-14, rtol=0)


@pytest.mark.parametrize("p", [0.1, 0.6])
def test_depolarizing_on_zero(p):
    rho = density_matrix(one_gate(), noise=NoiseModel().add_gate_noise(Depolarizing(p)))
    torch.testing.assert_close(rho, torch.diag(torch.tensor([1 - p / 2, p / 2], dtype=torch.complex128)))
    # two-qubit: (1-p)|00><00| + p I/4
    c = Circuit(2).cz(0, 1)
    rho2 = density_matrix(c, noise=NoiseModel().add_gate_noise(Depolarizing(p, n_qubits=2), gates="2q"))
    want = np.diag([1 - 3 * p / 4, p / 4, p / 4, p / 4]).astype(np.complex128)
    np.testing.assert_allclose(rho2.numpy(), want, atol=1e-14)


def test_depolarizing_pauli_convention_matches_pennylane():
    qml = pytest.importorskip("pennylane")
    for q in [0.05, 0.5, 1.0]:
        ours = Depolarizing.from_pauli_probability(q)
        assert ours.p == pytest.approx(4 * q / 3)
        theirs = sum(np.kron(k, k.conj()) for k in qml.DepolarizingChannel(q, wires=0).kraus_matrices())
        np.testing.assert_allclose(ours.superoperator().numpy(), theirs, atol=1e-14)
    for g in [0.1, 0.7]:
        for ours, theirs in [(AmplitudeDamping(g), qml.AmplitudeDamping(g, wires=0)),
                             (PhaseDamping(g), qml.PhaseDamping(g, wires=0)),
                             (BitFlip(g), qml.BitFlip(g, wires=0)), (PhaseFlip(g), qml.PhaseFlip(g, wires=0))]:
            want = sum(np.kron(k, k.conj()) for k in theirs.kraus_matrices())
            np.testing.assert_allclose(ours.superoperator().numpy(), want, atol=1e-14)


@pytest.mark.parametrize("g", [0.2, 0.9])
def test_amplitude_damping(g):
    noise = NoiseModel().add_gate_noise(AmplitudeDamping(g))
    rho = density_matrix(one_gate("x"), noise=noise)
    torch.testing.assert_close(rho, torch.diag(torch.tensor([g, 1 - g], dtype=torch.complex128)))
    plus = density_matrix(one_gate("h"), noise=noise).numpy()
    np.testing.assert_allclose(plus, [[(1 + g) / 2, np.sqrt(1 - g) / 2], [np.sqrt(1 - g) / 2, (1 - g) / 2]], atol=1e-14)


@pytest.mark.parametrize("g", [0.3, 1.0])
def test_dephasing_shrinks_coherences_of_plus(g):
    for channel, factor in [(PhaseDamping(g), np.sqrt(1 - g)), (PhaseFlip(g), 1 - 2 * g)]:
        rho = density_matrix(one_gate("h"), noise=NoiseModel().add_gate_noise(channel)).numpy()
        np.testing.assert_allclose(rho, 0.5 * np.array([[1, factor], [factor, 1]]), atol=1e-14)


def test_bit_flip():
    noise = NoiseModel().add_gate_noise(BitFlip(0.3))
    np.testing.assert_allclose(density_matrix(one_gate(), noise=noise).numpy(), np.diag([0.7, 0.3]), atol=1e-14)
    np.testing.assert_allclose(density_matrix(one_gate("h"), noise=noise).numpy(), np.full((2, 2), 0.5), atol=1e-14)


def test_readout_confusion_on_a_known_distribution():
    c = Circuit(3).x(0).h(2)  # wire 0 is 1, wire 1 is 0, wire 2 is uniform
    noise = NoiseModel().add_readout(ReadoutError(0.1, 0.2), wires=[0]).add_readout(ReadoutError(0.3, 0.05), wires=[1])
    w0, w1, w2 = np.array([0.2, 0.8]), np.array([0.7, 0.3]), np.array([0.5, 0.5])
    np.testing.assert_allclose(noisy_probs(c, noise=noise).numpy(), np.kron(np.kron(w0, w1), w2), atol=1e-14)
    np.testing.assert_allclose(noisy_probs(c, noise=noise, wires=[1, 0]).numpy(), np.kron(w1, w0), atol=1e-14)
    np.testing.assert_allclose(noisy_probs(c, noise=noise, wires=[0]).numpy(), w0, atol=1e-14)
    # two rules on one wire compose: the bit is read through both confusions in turn
    twice = noise.add_readout(ReadoutError(0.5, 0.25), wires=[0])
    c2 = np.array([[0.5, 0.25], [0.5, 0.75]])
    np.testing.assert_allclose(noisy_probs(c, noise=twice, wires=[0]).numpy(), c2 @ w0, atol=1e-14)


# ---------------------------------------------------------------------------
# noise model rules


def test_rule_placements():
    cx, h, u2 = Circuit(4).cx(1, 3).ops[0], Circuit(4).h(2).ops[0], Circuit(4).unitary(np.eye(4), [0, 2]).ops[0]
    a, b, d = BitFlip(0.1), Depolarizing(0.1, n_qubits=2), PhaseFlip(0.2)
    m = NoiseModel().add_gate_noise(a, gates="2q", wires=[0, 1, 2]).add_gate_noise(b, gates="cnot")
    m = m.add_gate_noise(d, wires=[2]).add_gate_noise(b, gates="unitary", wires=[0, 2])
    assert m.channels_after(cx) == [(a, (1,)), (b, (1, 3))]
    assert m.channels_after(h) == [(d, (2,))]
    assert m.channels_after(u2) == [(a, (0,)), (a, (2,)), (d, (2,)), (b, (0, 2))]
    assert NoiseModel().channels_after(cx) == []


# ---------------------------------------------------------------------------
# simulation against oracles


@pytest.mark.parametrize("seed", range(2))
def test_noiseless_density_is_outer_product_of_state(seed):
    rng = np.random.default_rng(seed)
    for _ in range(12):
        n = int(rng.integers(1, 6))
        c = random_circuit(n, int(rng.integers(1, 25)), rng, inputs=2)
        th, x = torch.tensor(rng.uniform(-3, 3, (3, c.n_params))), torch.tensor(rng.uniform(-3, 3, c.n_inputs))
        psi = qgm.sim.state(c, th, x)
        rho = density_matrix(c, th, x)
        assert rho.shape == (3, 2**n, 2**n)
        torch.testing.assert_close(rho, psi[..., :, None] * psi[..., None, :].conj(), atol=1e-12, rtol=0)


@pytest.mark.parametrize("seed", range(3))
def test_noisy_density_matches_dense_kraus_oracle(seed):
    rng = np.random.default_rng(10 + seed)
    for _ in range(6):
        n = int(rng.integers(1, 6))
        c = random_circuit(n, int(rng.integers(1, 20)), rng, inputs=2)
        noise = every_channel(rng)
        th, x = rng.uniform(-3, 3, (2, c.n_params)), rng.uniform(-3, 3, c.n_inputs)
        rho = density_matrix(c, torch.tensor(th), torch.tensor(x), noise=noise).numpy()
        for b in range(2):
            np.testing.assert_allclose(rho[b], dense_rho(c, th[b], x, noise), atol=1e-12)


@pytest.mark.parametrize("seed", range(2))
def test_trace_hermiticity_and_positivity(seed):
    rng = np.random.default_rng(20 + seed)
    for _ in range(6):
        n = int(rng.integers(2, 6))
        c = random_circuit(n, 25, rng)
        rho = density_matrix(c, torch.tensor(rng.uniform(-3, 3, c.n_params)), noise=every_channel(rng))
        torch.testing.assert_close(torch.diagonal(rho).sum(), torch.tensor(1.0 + 0j, dtype=rho.dtype))
        torch.testing.assert_close(rho, rho.mH, atol=1e-13, rtol=0)
        assert torch.linalg.eigvalsh(rho).min() > -1e-12
        p = noisy_probs(c, torch.tensor(rng.uniform(-3, 3, c.n_params)), noise=every_channel(rng))
        assert p.min() >= -1e-14 and abs(p.sum().item() - 1) < 1e-12


def to_qiskit(circuit: Circuit, params) -> "object":
    """The circuit in Qiskit with wire w on qubit n-1-w: then Qiskit's little-endian
    basis index equals ours, so density matrices compare entry by entry."""
    from qiskit import QuantumCircuit

    n = circuit.n_qubits
    pv = dict(zip(circuit.param_names, np.asarray(params, dtype=float).tolist()))
    qc = QuantumCircuit(n)
    for op in circuit.ops:
        qubits = [n - 1 - w for w in op.wires]
        if op.name == "unitary":
            qc.unitary(op.matrix, qubits[::-1])  # Qiskit's first qarg is the matrix's least significant bit
            continue
        angles = [angle(a, pv, {}) for a in op.params]
        getattr(qc, {"u3": "u"}.get(op.name, op.name))(*angles, *qubits)
    qc.save_density_matrix()
    return qc


@pytest.mark.parametrize("seed", range(2))
def test_against_qiskit_aer_density_matrix(seed):
    pytest.importorskip("qiskit_aer")
    from qiskit_aer import AerSimulator
    from qiskit_aer import noise as aer

    rng = np.random.default_rng(30 + seed)
    names_1q = ["x", "y", "z", "s", "sdg", "t", "tdg", "sx", "rx", "rz", "p", "u"]  # h, ry get more below
    for _ in range(3):
        n = int(rng.integers(2, 5))
        c = random_circuit(n, 20, rng, gates=AER_GATES)
        th = rng.uniform(-3, 3, c.n_params)
        p1, p2, g, q = rng.uniform(0.02, 0.2, 4)
        ours = (NoiseModel().add_gate_noise(Depolarizing(p1), gates="1q")
                .add_gate_noise(Depolarizing(p2, n_qubits=2), gates="2q")
                .add_gate_noise(AmplitudeDamping(g), gates=("cx", "rzz"))
                .add_gate_noise(PhaseDamping(q), gates=("h", "ry"))
                .add_gate_noise(BitFlip(q / 2), gates="ccx"))
        theirs = aer.NoiseModel(basis_gates=AER_GATES + ["u"])  # our u3 is Qiskit's u
        amp, ph = aer.amplitude_damping_error(g), aer.phase_damping_error(q)
        flip = aer.pauli_error([("X", q / 2), ("I", 1 - q / 2)])
        theirs.add_all_qubit_quantum_error(aer.depolarizing_error(p1, 1), names_1q)
        theirs.add_all_qubit_quantum_error(aer.depolarizing_error(p1, 1).compose(ph), ["h", "ry"])
        theirs.add_all_qubit_quantum_error(aer.depolarizing_error(p2, 2), ["cy", "cz", "swap", "rxx", "ryy"])
        theirs.add_all_qubit_quantum_error(aer.depolarizing_error(p2, 2).compose(amp.tensor(amp)), ["cx", "rzz"])
        theirs.add_all_qubit_quantum_error(flip.tensor(flip).tensor(flip), ["ccx"])
        sim = AerSimulator(method="density_matrix", noise_model=theirs)
        want = np.asarray(sim.run(to_qiskit(c, th)).result().data()["density_matrix"])
        got = density_matrix(c, torch.tensor(th), noise=ours).numpy()
        np.testing.assert_allclose(got, want, atol=1e-10)


# ---------------------------------------------------------------------------
# gradients, batching, sampling


def test_gradient_of_noisy_expectation_matches_finite_differences():
    rng = np.random.default_rng(40)
    c = random_circuit(3, 15, rng, gates=["rx", "ry", "rz", "cx", "crx", "rzz", "u3"], inputs=1)
    x = torch.tensor(rng.uniform(-2, 2, c.n_inputs))
    zsign = torch.tensor([1.0, -1, -1, 1, 1, -1, -1, 1], dtype=torch.float64)  # <Z1 Z2> from probs

    def f(th, x, gamma):
        noise = every_channel(np.random.default_rng(1)).add_gate_noise(AmplitudeDamping(gamma), gates="2q")
        return noisy_probs(c, th, x, noise=noise) @ zsign

    th = torch.tensor(rng.uniform(-3, 3, c.n_params), requires_grad=True)
    xx = x.clone().requires_grad_()
    gamma = torch.tensor(0.15, dtype=torch.float64, requires_grad=True)
    f(th, xx, gamma).backward()
    eps = 1e-6
    e = torch.eye(c.n_params, dtype=torch.float64)
    fd = [(f(th.detach() + eps * v, x, 0.15) - f(th.detach() - eps * v, x, 0.15)) / (2 * eps) for v in e]
    torch.testing.assert_close(th.grad, torch.stack(fd), atol=1e-8, rtol=0)
    fdx = (f(th.detach(), x + eps, 0.15) - f(th.detach(), x - eps, 0.15)) / (2 * eps)
    torch.testing.assert_close(xx.grad, fdx.reshape(1), atol=1e-8, rtol=0)
    fdg = (f(th.detach(), x, 0.15 + eps) - f(th.detach(), x, 0.15 - eps)) / (2 * eps)
    torch.testing.assert_close(gamma.grad, fdg, atol=1e-8, rtol=0)


def test_gradient_in_probability_at_zero_is_finite():
    c = Circuit(1).ry(0, 1.0)

    def f(channel):
        rho = density_matrix(c, noise=NoiseModel().add_gate_noise(channel))
        return rho[0, 1].real + 2 * rho[1, 1].real

    eps = 1e-7
    for kind in [BitFlip, PhaseFlip, PhaseDamping, AmplitudeDamping, Depolarizing]:
        p = torch.tensor(0.0, dtype=torch.float64, requires_grad=True)
        f(kind(p)).backward()
        assert torch.isfinite(p.grad)
        assert p.grad.item() == pytest.approx(((f(kind(eps)) - f(kind(0.0))) / eps).item(), abs=1e-6)


def test_batching_complex64_and_shapes():
    c = hardware_efficient(3, 1)
    noise = NoiseModel().add_gate_noise(Depolarizing(0.05)).add_readout(ReadoutError(0.02, 0.04))
    th = torch.randn(2, 4, c.n_params, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    rho = density_matrix(c, th, noise=noise)
    assert rho.shape == (2, 4, 8, 8)
    torch.testing.assert_close(rho[1, 2], density_matrix(c, th[1, 2], noise=noise))
    r64 = density_matrix(c, th.float(), noise=noise, dtype=torch.complex64)
    assert r64.dtype == torch.complex64
    torch.testing.assert_close(r64, rho.to(torch.complex64), atol=1e-5, rtol=0)
    assert noisy_probs(c, th, noise=noise, wires=[2, 0]).shape == (2, 4, 4)
    s = noisy_sample(c, th, 7, noise=noise, generator=torch.Generator().manual_seed(1))
    assert s.shape == (2, 4, 7) and s.dtype == torch.long and int(s.max()) < 8


def test_noisy_sampling_passes_chi_squared():
    c = Circuit(3).ry(0, P("a")).cx(0, 1).ry(2, P("b")).cz(1, 2)
    th = torch.tensor([1.1, 2.0], dtype=torch.float64)
    noise = every_channel(np.random.default_rng(3))
    p = noisy_probs(c, th, noise=noise).numpy()
    shots = 20000
    s = noisy_sample(c, th, shots, noise=noise, generator=torch.Generator().manual_seed(123)).numpy()
    counts = np.bincount(s, minlength=8)
    assert stats.chisquare(counts, p * shots).pvalue > 1e-3
    f1 = noisy_probs(c, th, noise=noise, shots=500, generator=torch.Generator().manual_seed(9))
    f2 = noisy_probs(c, th, noise=noise, shots=500, generator=torch.Generator().manual_seed(9))
    assert torch.equal(f1, f2) and abs(f1.sum().item() - 1) < 1e-12
    with pytest.raises(ParameterError, match="shots"):
        noisy_probs(c, th.clone().requires_grad_(), noise=noise, shots=100)


# ---------------------------------------------------------------------------
# errors


@pytest.mark.parametrize(
    "make, field",
    [
        (lambda: Depolarizing(-0.1), "Depolarizing.p"),
        (lambda: Depolarizing(1.4), "Depolarizing.p"),
        (lambda: Depolarizing(1.1, n_qubits=2), "Depolarizing.p"),
        (lambda: Depolarizing(0.1, n_qubits=3), "Depolarizing.n_qubits"),
        (lambda: Depolarizing.from_pauli_probability(1.2), "from_pauli_probability.p"),
        (lambda: AmplitudeDamping(1.5), "AmplitudeDamping.gamma"),
        (lambda: PhaseDamping(float("nan")), "PhaseDamping.gamma"),
        (lambda: BitFlip("0.1"), "BitFlip.p"),
        (lambda: PhaseFlip(torch.tensor([0.1, 0.2])), "PhaseFlip.p"),
        (lambda: ReadoutError(0.1, -0.01), "ReadoutError.p10"),
        (lambda: ReadoutError(True, 0.1), "ReadoutError.p01"),
    ],
)
def test_bad_probabilities_raise(make, field):
    with pytest.raises(ParameterError, match=field):
        make()


def test_bad_rules_and_arguments_raise():
    with pytest.raises(ParameterError, match="unknown gate"):
        NoiseModel().add_gate_noise(BitFlip(0.1), gates="cnott")
    with pytest.raises(ParameterError, match="2-qubit channel"):
        NoiseModel().add_gate_noise(Depolarizing(0.1, n_qubits=2))
    with pytest.raises(ParameterError, match="2-qubit channel"):
        NoiseModel().add_gate_noise(Depolarizing(0.1, n_qubits=2), gates=("cx", "h"))
    with pytest.raises(ParameterError, match="wires"):
        NoiseModel().add_gate_noise(BitFlip(0.1), wires=[-1])
    with pytest.raises(ParameterError, match="channel"):
        NoiseModel().add_gate_noise(ReadoutError(0.1, 0.1))
    with pytest.raises(ParameterError, match="noise"):
        density_matrix(Circuit(1).h(0), noise=BitFlip(0.1))
    with pytest.raises(ParameterError, match="wires"):
        noisy_probs(Circuit(2).h(0), noise=None, wires=[0, 2])


def test_too_many_qubits_raise_resource_error_before_allocating():
    c = Circuit(13).h(0)
    with pytest.raises(ResourceError, match="n_qubits=13"):
        density_matrix(c)
    with pytest.raises(ResourceError, match="n_qubits <= 12"):
        noisy_sample(c, shots=10, noise=NoiseModel())
