"""An independent, naive dense simulator used as a test oracle.

Builds the full 2**n x 2**n unitary of every gate with NumPy ``kron`` and
permutations (no code shared with ``qgm.sim``), so it is slow but obviously right.
"""
from __future__ import annotations

import numpy as np
import torch

from qgm.circuits import GATES, Circuit
from qgm.circuits.circuit import Param
from qgm.circuits.gates import gate_matrix


def embed(u: np.ndarray, wires: tuple[int, ...], n: int) -> np.ndarray:
    """Full matrix of ``u`` acting on ``wires`` (first wire = MSB of ``u``)."""
    k = len(wires)
    others = [w for w in range(n) if w not in wires]
    full = np.kron(u, np.eye(2 ** (n - k)))  # acts on (wires..., others...)
    order = list(wires) + others  # axis i of `full` is wire order[i]
    t = full.reshape([2] * (2 * n))
    inv = [order.index(w) for w in range(n)]
    t = t.transpose(inv + [n + i for i in inv])
    return t.reshape(2**n, 2**n)


def angle(a, params: dict, inputs: dict) -> float:
    if isinstance(a, Param):
        v = params[a.name] if a.kind == "param" else inputs[a.name]
        return a.scale * v + a.offset
    return float(a)


def reference_state(circuit: Circuit, params=None, inputs=None) -> np.ndarray:
    n = circuit.n_qubits
    pv = dict(zip(circuit.param_names, np.asarray(params if params is not None else [], dtype=float).tolist()))
    iv = dict(zip(circuit.input_names, np.asarray(inputs if inputs is not None else [], dtype=float).tolist()))
    psi = np.zeros(2**n, dtype=np.complex128)
    psi[0] = 1
    for op in circuit.ops:
        if op.name == "unitary":
            u = op.matrix
        else:
            ang = torch.tensor([angle(a, pv, iv) for a in op.params], dtype=torch.float64)
            u = gate_matrix(op.name, ang).numpy()
        psi = embed(u, op.wires, n) @ psi
    return psi


def random_circuit(n: int, n_ops: int, rng: np.random.Generator, gates=None, inputs: int = 0) -> Circuit:
    """A random circuit over ``gates`` (default: the whole catalogue plus a random unitary)."""
    from scipy.stats import unitary_group

    from qgm.circuits import In, P

    names = list(gates or [g for g in GATES if GATES[g].n_wires <= n] + (["unitary"] if n >= 2 else []))
    c = Circuit(n)
    for _ in range(n_ops):
        name = names[rng.integers(len(names))]
        if name == "unitary":
            k = int(rng.integers(1, min(3, n) + 1))
            wires = tuple(int(w) for w in rng.choice(n, size=k, replace=False))
            c = c.unitary(unitary_group.rvs(2**k, random_state=rng), wires)
            continue
        g = GATES[name]
        if g.n_wires > n:
            continue
        wires = tuple(int(w) for w in rng.choice(n, size=g.n_wires, replace=False))
        angles = []
        for _ in range(g.n_params):
            r = rng.random()
            if r < 0.6:
                angles.append(P(f"t{rng.integers(6)}") * float(rng.choice([1.0, -0.5, 2.0])) + float(rng.choice([0.0, 0.3])))
            elif r < 0.8 and inputs:
                angles.append(In(f"x{rng.integers(inputs)}"))
            else:
                angles.append(float(rng.uniform(-np.pi, np.pi)))
        c = c.add(name, wires, *angles)
    return c


def measured_samples(model, shots: int, seed: int) -> torch.Tensor:
    """The samples behind ``model.probs(shots=shots, generator=seed)``: its counts written out
    as a sorted list of basis indices (order-free statistics see the same samples)."""
    freq = model.probs(shots=shots, generator=torch.Generator().manual_seed(seed)).detach()
    counts = (freq * shots).round().long()
    return torch.repeat_interleave(torch.arange(freq.numel()), counts)


def reference_state_torch(circuit: Circuit, params: torch.Tensor, inputs: torch.Tensor | None = None) -> torch.Tensor:
    """The state as a differentiable torch function of ``params``/``inputs`` (1-D tensors).

    Gate by gate: each gate matrix from ``gate_matrix`` (autograd-traceable), contracted
    with the ``(2,)*n`` state tensor by ``tensordot``; shares no code with ``qgm.sim``.
    Gradients through it are exact to rounding (the oracle of the engine's diff methods).
    """
    n = circuit.n_qubits
    pv = {name: params[i] for i, name in enumerate(circuit.param_names)}
    iv = {name: inputs[i] for i, name in enumerate(circuit.input_names)} if inputs is not None else {}
    psi = torch.zeros([2] * n, dtype=torch.complex128)
    psi[(0,) * n] = 1
    for op in circuit.ops:
        k = len(op.wires)
        if op.name == "unitary":
            u = torch.tensor(np.asarray(op.matrix), dtype=torch.complex128)
        else:
            angles = [
                (pv[a.name] if a.kind == "param" else iv[a.name]) * a.scale + a.offset if isinstance(a, Param)
                else torch.tensor(float(a), dtype=torch.float64)
                for a in op.params
            ]
            ang = torch.stack(angles) if angles else torch.zeros(0, dtype=torch.float64)
            u = gate_matrix(op.name, ang).to(torch.complex128)
        u = u.reshape([2] * (2 * k))
        psi = torch.tensordot(u, psi, dims=(list(range(k, 2 * k)), list(op.wires)))
        psi = torch.movedim(psi, list(range(k)), list(op.wires))
    return psi.reshape(-1)


def refused_quickly(call, prefix: str, message: str, seconds: float) -> str:
    """The text of the one-line ConfigError ``call()`` raises, checked to start with ``prefix``, contain
    ``message`` and come within ``seconds`` of wall time."""
    import time

    import pytest

    from qgm.errors import ConfigError

    start = time.perf_counter()
    with pytest.raises(ConfigError) as info:
        call()
    text = str(info.value)
    assert text.startswith(prefix) and message in text and "\n" not in text, text
    assert time.perf_counter() - start < seconds
    return text
