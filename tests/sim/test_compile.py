"""The compiler: fusion of arbitrary gate lists, symbolic monomial runs, plans, caching."""
import math

import numpy as np
import pytest
import torch

import qgm
from qgm.circuits import GATES, Circuit, hardware_efficient
from qgm.sim.kernels import BlockKernel, DiagKernel, PermKernel
from qgm.sim.program import _mono_step, block_widths, compile_circuit
from reference import embed, random_circuit, reference_state, reference_state_torch


def qft(n: int) -> Circuit:
    """Textbook QFT from H, controlled phases (as p/cx, the QASM expansion of cp) and swaps."""
    c = Circuit(n)
    for j in range(n):
        c = c.h(j)
        for m in range(j + 1, n):
            lam = math.pi / 2 ** (m - j)
            c = c.p(j, lam / 2).cx(j, m).p(m, -lam / 2).cx(j, m).p(m, lam / 2)
    for j in range(n // 2):
        c = c.swap(j, n - 1 - j)
    return c


def test_ring_layers_are_one_gather_each():
    c = hardware_efficient(12, 3, rotations=("ry", "rz"), entangler="ring")
    plan = compile_circuit(c).plan("pair")
    perms = [s for s in plan.steps if isinstance(s.kernel, PermKernel)]
    blocks = [s for s in plan.steps if isinstance(s.kernel, BlockKernel)]
    assert len(perms) == 3 and perms[0].kernel is perms[1].kernel  # identical rings share one kernel
    assert len(blocks) == 2 * 4 and all(s.kernel.k == 6 for s in blocks)
    rot = compile_circuit(hardware_efficient(20, 2, rotations=("ry", "rz"), entangler="ring")).plan("rotate")
    assert [s.kernel.k for s in rot.steps if isinstance(s.kernel, BlockKernel)] == block_widths(20) * 3
    assert all(s.kernel.rotate for s in rot.steps if isinstance(s.kernel, BlockKernel))


@pytest.mark.parametrize("n", [3, 6])
def test_qft_ladders_fuse_and_match_the_oracle(n):
    c = qft(n)
    plan = compile_circuit(c).plan("pair")
    assert len(plan.steps) <= 2 * n + 1  # per wire: one Hadamard layer and one phase ladder (+ the swaps)
    x = np.zeros(2**n)
    x[5 % 2**n] = 1
    got = qgm.sim.state(c, initial_state=torch.tensor(x, dtype=torch.complex128)).numpy()
    want = np.exp(2j * np.pi * (5 % 2**n) * np.arange(2**n) / 2**n) / 2 ** (n / 2)
    np.testing.assert_allclose(got, want, atol=1e-12)


MONOMIAL = ["x", "y", "z", "s", "sdg", "t", "tdg", "id", "cx", "cy", "cz", "swap", "iswap"]


@pytest.mark.parametrize("toffoli", [False, True])
def test_monomial_runs_compose_exactly(toffoli):
    rng = np.random.default_rng(11 + toffoli)
    for _ in range(15):
        n = int(rng.integers(3, 7))
        names = MONOMIAL + (["ccx"] if toffoli else [])
        c = Circuit(n)
        for _ in range(int(rng.integers(1, 25))):
            name = names[rng.integers(len(names))]
            wires = tuple(int(w) for w in rng.choice(n, size=GATES[name].n_wires, replace=False))
            c = c.add(name, wires)
        for name in ("rz", "p", "crz", "rzz"):  # constant-angle diagonals join the run
            wires = tuple(int(w) for w in rng.choice(n, size=GATES[name].n_wires, replace=False))
            c = c.add(name, wires, float(rng.uniform(-3, 3)))
        consts: dict = {}
        step = _mono_step(n, list(c.ops), consts, "k")
        psi = rng.normal(size=(1, 2**n)) + 1j * rng.normal(size=(1, 2**n))
        mat = None if step.source[0] == "none" else torch.as_tensor(consts[step.source[1]])[None]
        got = step.kernel.apply(torch.as_tensor(psi), mat).numpy()[0]
        dense = np.eye(2**n, dtype=complex)
        for op in c.ops:
            u = qgm.circuits.gates.gate_matrix(op.name, torch.tensor([float(a) for a in op.params],
                                                                      dtype=torch.float64)).numpy()
            dense = embed(u, op.wires, n) @ dense
        np.testing.assert_allclose(got, dense @ psi[0], atol=1e-12)


def test_pure_phase_runs_become_small_diagonals():
    phases = Circuit(12).cz(0, 11).t(3).rzz(4, 5, 0.3)
    plan = compile_circuit(phases).plan("rotate")
    assert [type(s.kernel) for s in plan.steps] == [DiagKernel]
    assert plan.steps[0].kernel.wires == (0, 3, 4, 5, 11)
    c = Circuit(12)
    for w in range(12):
        c = c.h(w)
    c = Circuit(12, list(c.ops) + list(phases.ops))
    want = reference_state_torch(c, torch.zeros(0, dtype=torch.float64)).numpy()
    np.testing.assert_allclose(qgm.sim.state(c).numpy(), want, atol=1e-12)


def test_programs_are_cached_per_structure():
    a = Circuit.from_qasm(qft(4).to_qasm())
    b = Circuit.from_qasm(qft(4).to_qasm())
    assert a is not b and compile_circuit(a) is compile_circuit(b)
    assert compile_circuit(qft(5)) is not compile_circuit(a)


def test_gates_move_past_commuting_layers():
    # the CNOT on (1, 2) commutes with the Hadamard on 0 and joins the first run; the rotations
    # on 0 after it join the first layer
    c = Circuit(3).h(0).cx(1, 2).ry(0, 0.4).cx(0, 1)
    plan = compile_circuit(c).plan("pair")
    kinds = [type(s.kernel).__name__ for s in plan.steps]
    assert kinds.count("PermKernel") == 1
    np.testing.assert_allclose(qgm.sim.state(c).numpy(), reference_state(c), atol=1e-12)


def test_block_widths():
    for n in range(8, 40):
        w = block_widths(n)
        assert sum(w) == n and all(3 <= k <= 5 for k in w)


def test_random_long_circuits_compile_and_match():
    rng = np.random.default_rng(3)
    c = random_circuit(7, 250, rng)
    th = torch.tensor(rng.uniform(-3, 3, c.n_params))
    want = reference_state_torch(c, th).numpy()
    np.testing.assert_allclose(qgm.sim.state(c, th).numpy(), want, atol=1e-11)
