"""Density-matrix simulation with noise: ``density_matrix``, ``noisy_probs``, ``noisy_sample``.

ρ is a complex tensor ``(*batch, 2**n, 2**n)``; row and column indices follow
the engine's bit order (wire 0 = most significant bit). Limited to
``n <= MAX_QUBITS = 12`` (ρ has ``4**n`` entries).

How it runs: the :class:`~qgm.sim.noise.NoiseModel` cuts the circuit into
noiseless segments at the points where it places channels. Each segment is
compiled by the state-vector engine (:func:`~qgm.sim.program.compile_circuit`:
the same fused kernels) and applied from both sides, ``ρ -> U ρ U†``, by running
the engine's :func:`~qgm.sim.evolve.evolve` over the rows of ρ twice (see
:func:`_conjugate`). A channel acts on the row-major vectorised ρ (a vector on
``2n`` wires: row wires ``0..n-1``, column wires ``n..2n-1``) as its
superoperator ``Σ K ⊗ conj(K)`` on wires ``(w…, n+w…)``. Everything is plain
autograd: differentiable in ``params``, ``inputs`` and tensor-valued channel
probabilities, batched over the leading dimensions of ``params`` and ``inputs``.
"""
from __future__ import annotations

from collections import deque
from typing import Optional, Sequence, Union

import torch

from qgm.circuits.circuit import Circuit
from qgm.errors import ParameterError, ResourceError
from qgm.sim.engine import marginal
from qgm.sim.evolve import bind, build_mats, evolve
from qgm.sim.kernels import WiresKernel
from qgm.sim.noise import Channel, NoiseModel
from qgm.sim.program import Program, compile_circuit
from qgm.sim.sampling import frequencies, sample_indices
from qgm.sim.validate import SMALL_BYTES, as_angles, available_bytes, check_shots, gib, real_dtype_of

__all__ = ["density_matrix", "noisy_probs", "noisy_sample", "MAX_QUBITS"]

#: Widest circuit the density-matrix simulator accepts.
MAX_QUBITS = 12

_Item = Union[Program, tuple[Channel, tuple[int, ...]]]


class _Call:
    """A validated call: angles, batch shape and device (checked before any large allocation)."""

    def __init__(self, circuit: Circuit, params, inputs, noise: Optional[NoiseModel], dtype: torch.dtype) -> None:
        if not isinstance(circuit, Circuit):
            raise ParameterError(f"circuit: expected a qgm.Circuit, got {type(circuit).__name__}")
        if noise is not None and not isinstance(noise, NoiseModel):
            raise ParameterError(f"noise: expected a qgm.sim.noise.NoiseModel or None, got {type(noise).__name__}")
        n = circuit.n_qubits
        if n > MAX_QUBITS:
            size = gib(4**n * torch.empty(0, dtype=dtype).element_size())
            raise ResourceError(
                f"n_qubits={n}: density matrices are limited to n_qubits <= {MAX_QUBITS} (one 2^{n}x2^{n} "
                f"matrix is {size}); use fewer qubits, or qgm.sim.probs/sample for noiseless circuits"
            )
        rdt = real_dtype_of(dtype)
        device = params.device if isinstance(params, torch.Tensor) else (
            inputs.device if isinstance(inputs, torch.Tensor) else None
        )
        self.params = as_angles(params, circuit.n_params, "params", rdt, device)
        self.inputs = as_angles(inputs, circuit.n_inputs, "inputs", rdt, self.params.device)
        self.batch = torch.broadcast_shapes(self.params.shape[:-1], self.inputs.shape[:-1])
        size = max(int(torch.Size(self.batch).numel()), 1)
        _check_memory(n, size, dtype, self.params.device)
        self.circuit, self.noise, self.n, self.dtype, self.size = circuit, noise, n, dtype, size

    def rho(self) -> torch.Tensor:
        """The final (noisy) density matrices ``(B, 2**n, 2**n)``."""
        d = 1 << self.n
        rho = torch.zeros(self.size, d, d, dtype=self.dtype, device=self.params.device)
        rho[:, 0, 0] = 1
        params = self.params.expand(*self.batch, -1)
        for item in _schedule(self.circuit, self.noise):
            if isinstance(item, Program):
                phi, _ = bind(item, params, self.inputs)
                rho = _conjugate(rho, item, build_mats(item, phi))
            else:
                rho = _apply_channel(rho, *item, self.n)
        return rho.resolve_conj()

    def probs(self, wires: Optional[Sequence[int]]) -> torch.Tensor:
        """Noisy measured probabilities ``(B, 2**k)`` over ``wires`` (readout errors included)."""
        ws = list(range(self.n)) if wires is None else [int(w) for w in wires]
        p = marginal(torch.diagonal(self.rho(), dim1=-2, dim2=-1).real, ws, self.n)
        return p if self.noise is None else _read_out(p, ws, self.noise)

    def shape(self, t: torch.Tensor) -> torch.Tensor:
        return t.reshape(*self.batch, *t.shape[1:])


def _check_memory(n: int, batch: int, dtype: torch.dtype, device: torch.device, copies: int = 4) -> None:
    """Refuse a call whose density matrices (``copies`` of ``(batch, 4**n)``) cannot fit."""
    need = copies * batch * 4**n * torch.empty(0, dtype=dtype).element_size()
    if need < SMALL_BYTES:
        return
    have = available_bytes(device)
    if need > have:
        raise ResourceError(
            f"n_qubits={n} with batch {batch}: density matrices need about {gib(need)} ({copies} copies "
            f"of {batch}x{2**n}x{2**n} {dtype}) but {device} has {gib(have)} free; use a smaller "
            "batch, fewer qubits or dtype=torch.complex64"
        )


def _segment(circuit: Circuit, ops: tuple[int, ...]) -> Program:
    """The ops at indices ``ops`` of ``circuit`` compiled with the circuit's own slots (memoised on it)."""
    memo = circuit.cache()
    key = ("density-segment", ops)
    if key not in memo:
        if ops == tuple(range(len(circuit.ops))):
            memo[key] = compile_circuit(circuit)
        else:
            sub = Circuit(circuit.n_qubits, [circuit.ops[i] for i in ops], circuit.param_names, circuit.input_names)
            memo[key] = compile_circuit(sub)
    return memo[key]


def _schedule(circuit: Circuit, noise: Optional[NoiseModel]) -> list[_Item]:
    """Compiled noiseless segments and ``(channel, wires)`` placements, in an order equivalent to the circuit's.

    Gates and channels on disjoint wires commute, so the circuit is a DAG over
    wires. Each round takes every gate reachable without crossing a channel
    into one fused segment, then every channel that became ready: a layer of
    noisy gates costs one segment and one layer of channels.
    """
    nodes: list[tuple[object, tuple[int, ...]]] = []  # (op index | (channel, wires), wires)
    for i, op in enumerate(circuit.ops):
        nodes.append((i, op.wires))
        if noise is not None:
            nodes.extend(((ch, ws), ws) for ch, ws in noise.channels_after(op))
    queues: dict[int, deque[int]] = {w: deque() for w in range(circuit.n_qubits)}
    for k, (_, ws) in enumerate(nodes):
        for w in ws:
            queues[w].append(k)

    def take(is_gate: bool) -> list[int]:
        """Pop every node of one kind that is (or becomes) first on all its wires."""
        taken, grew = [], True
        while grew:
            grew = False
            for q in queues.values():
                k = q[0] if q else None
                if k is not None and isinstance(nodes[k][0], int) == is_gate and all(
                    queues[w][0] == k for w in nodes[k][1]
                ):
                    for w in nodes[k][1]:
                        queues[w].popleft()
                    taken.append(k)
                    grew = True
        return taken

    items: list[_Item] = []
    while any(queues.values()):
        gates = take(True)
        if gates:
            items.append(_segment(circuit, tuple(sorted(nodes[k][0] for k in gates))))  # type: ignore[type-var]
        items.extend(nodes[k][0] for k in take(False))  # type: ignore[misc]
    return items


def _conjugate(rho: torch.Tensor, program: Program, mats: list) -> torch.Tensor:
    """``U ρ U†`` for the segment's unitary ``U``, ρ ``(B, D, D)``.

    The engine applies ``U`` to state vectors, so ``evolve`` over the rows of a
    matrix ``M`` gives ``M Uᵀ``. Then ``(U ρ)ᵀ = ρᵀ Uᵀ`` and
    ``U ρ U† = conj(conj(U ρ) Uᵀ)``: two passes, each with every row of ρ as
    one state (per-sample matrices are repeated over the rows).
    """
    b, d, _ = rho.shape
    rows = [m if m is None or m.shape[0] == 1 else m.repeat_interleave(d, 0) for m in mats]
    x = evolve(program, rho.transpose(1, 2).reshape(b * d, d), rows)  # rows of (U ρ)ᵀ
    x = x.reshape(b, d, d).transpose(1, 2).conj()  # conj(U ρ)
    y = evolve(program, x.reshape(b * d, d), rows)  # conj(U ρ) Uᵀ
    return y.reshape(b, d, d).conj()


def _apply_channel(rho: torch.Tensor, channel: Channel, wires: tuple[int, ...], n: int) -> torch.Tensor:
    """``Σ K ρ K†`` for ``channel`` on ``wires``: its superoperator on wires ``(w…, n+w…)`` of vec(ρ)."""
    b, d, _ = rho.shape
    sup = channel.superoperator(rho.dtype, rho.device)
    kernel = WiresKernel(2 * n, tuple(wires) + tuple(n + w for w in wires))
    return kernel.apply(rho.reshape(b, d * d), sup.unsqueeze(0)).reshape(b, d, d)


def _read_out(p: torch.Tensor, wires: Sequence[int], noise: NoiseModel) -> torch.Tensor:
    """Probabilities ``(B, 2**k)`` over ``wires`` pushed through each wire's confusion matrix."""
    b, k = p.shape[0], len(wires)
    x = p.reshape(b, *([2] * k))
    for axis, w in enumerate(wires, start=1):
        c = noise.confusion(w, p.dtype, p.device)
        if c is not None:
            x = torch.movedim(torch.tensordot(x, c, dims=([axis], [1])), -1, axis)
    return x.reshape(b, 1 << k)


def density_matrix(
    circuit: Circuit,
    params=None,
    inputs=None,
    *,
    noise: Optional[NoiseModel] = None,
    dtype: torch.dtype = torch.complex128,
) -> torch.Tensor:
    """Final density matrix ``(*batch, 2**n, 2**n)`` of ``circuit`` from ``|0…0⟩⟨0…0|``.

    ``noise`` places channels after gates (readout errors act only on measured
    probabilities, see :func:`noisy_probs`). Without noise it equals ``|ψ⟩⟨ψ|``
    of :func:`qgm.sim.state`. ``n_qubits > 12`` is a ResourceError.
    """
    call = _Call(circuit, params, inputs, noise, dtype)
    return call.shape(call.rho())


def noisy_probs(
    circuit: Circuit,
    params=None,
    inputs=None,
    *,
    noise: Optional[NoiseModel],
    wires: Optional[Sequence[int]] = None,
    shots: Optional[int] = None,
    generator: Optional[torch.Generator] = None,
    dtype: torch.dtype = torch.complex128,
) -> torch.Tensor:
    """Noisy measured probabilities ``(*batch, 2**k)`` over ``wires`` (default all, in order).

    Includes the model's readout errors. With ``shots`` the result is the
    empirical frequency of ``shots`` samples (seeded by ``generator``), which is
    not differentiable: pass ``shots=None`` for exact, differentiable values.
    """
    shots = check_shots(shots)
    call = _Call(circuit, params, inputs, noise, dtype)
    if shots is None:
        return call.shape(call.probs(wires))
    if call.params.requires_grad or call.inputs.requires_grad:
        raise ParameterError(
            f"shots={shots}: sampled frequencies are not differentiable; use shots=None for exact noisy "
            "probabilities, or detach params/inputs"
        )
    with torch.no_grad():
        return call.shape(frequencies(call.probs(wires).clamp_min(0), shots, generator))


def noisy_sample(
    circuit: Circuit,
    params=None,
    shots: int = 1,
    *,
    noise: Optional[NoiseModel],
    inputs=None,
    wires: Optional[Sequence[int]] = None,
    generator: Optional[torch.Generator] = None,
    dtype: torch.dtype = torch.complex128,
) -> torch.Tensor:
    """``shots`` noisy measurement outcomes per batch element: LongTensor ``(*batch, shots)``.

    Indices refer to ``wires`` (default all; first wire = most significant bit)
    and include the model's readout errors.
    """
    shots = check_shots(shots, allow_none=False)
    call = _Call(circuit, params, inputs, noise, dtype)
    with torch.no_grad():
        idx = sample_indices(call.probs(wires).clamp_min(0), shots, generator)
    return call.shape(idx)
