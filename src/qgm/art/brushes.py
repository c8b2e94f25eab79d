"""Brushes: small composable functions ``Encoded -> Encoded`` that act on image states.

Every brush runs on the engine (:func:`qgm.sim.state` with the encoded states as
``initial_state``), acts on every branch of a mixed state, and is batched:

* over the images and states already in ``encoded.states (*batch, K, R, 2**n)``;
* over **frames**: a brush strength given as a 1-D tensor ``(F,)`` (an angle
  sweep, a swap fraction sweep) prepends ``F`` to the batch, so one call renders
  an animation. A float keeps the batch as it is.

Unitary brushes keep every trace ``Σ_r ‖ψ̃_r‖² = 1``; :func:`partial_swap` traces
out the partner register (exactly, as ``2**n`` branches) and :func:`grain`
measures. Wires are the encoding's: address wires from ``encoding.grid.x_wires``
/ ``y_wires`` (finest scale first), channel / colour wires before them.
"""
from __future__ import annotations

import math
from typing import Optional, Sequence, Union

import torch

from qgm import sim
from qgm.art.encodings import Encoded
from qgm.circuits import Circuit, In
from qgm.errors import ParameterError, ResourceError
from qgm.sim.sampling import check_shots, frequencies

__all__ = [
    "Strength", "check_wires", "run", "rotate", "blur", "blur_rates", "collage", "partial_swap", "interfere", "grain",
    "MAX_JOINT_QUBITS",
]

#: A brush strength: one value, or a 1-D tensor of values (one frame each).
Strength = Union[float, torch.Tensor]

#: Widest joint register a two-image brush builds (two 11-qubit tiles).
MAX_JOINT_QUBITS = 22


def _strength(value: Strength, field: str) -> torch.Tensor:
    """``value`` as a float64 tensor: 0-d (no frames) or ``(F,)``; finite, else a ParameterError."""
    t = torch.as_tensor(value, dtype=torch.float64)
    if t.dim() > 1 or t.numel() == 0 or not bool(torch.isfinite(t).all()):
        raise ParameterError(f"{field}: expected a finite number or a 1-D tensor of frame values, got {value!r}")
    return t


def _framed(x: torch.Tensor, batch_dims: int) -> torch.Tensor:
    """A strength ``()`` or ``(F,)`` shaped to broadcast against ``(*batch, K, R)``: ``(F, 1, …, 1)``."""
    return x.reshape(*x.shape, *([1] * (batch_dims + 2)))


def check_wires(encoded: Encoded, wires: Sequence[int], field: str = "wires") -> tuple[int, ...]:
    """``wires`` as distinct wire indices of ``encoded``'s register, else a one-line ParameterError."""
    ws = tuple(int(w) for w in wires)
    n = encoded.n_qubits
    if not ws or len(set(ws)) != len(ws) or not all(0 <= w < n for w in ws):
        raise ParameterError(f"{field}: expected distinct wires in 0..{n - 1} of this {n}-qubit encoding, got {list(wires)}")
    return ws


def run(encoded: Encoded, circuit: Circuit, inputs: Optional[torch.Tensor] = None) -> Encoded:
    """Apply a fixed ``circuit`` (angles fixed or input slots ``inputs (..., n_inputs)`` broadcast against
    ``(*batch, K, R)``) to every branch: ``ψ̃_r -> U ψ̃_r``."""
    if circuit.n_qubits != encoded.n_qubits:
        raise ParameterError(f"circuit: has {circuit.n_qubits} qubits, the encoding {encoded.n_qubits}; build it on "
                             "encoding.n_qubits wires")
    if circuit.n_params:
        raise ParameterError(f"circuit: trainable slots {list(circuit.param_names)}; bind them or use input slots")
    out = sim.state(circuit, None, inputs, initial_state=encoded.states)
    return encoded.with_states(out)


def rotate(encoded: Encoded, wires: Sequence[int], theta: Strength, axis: str = "y") -> Encoded:
    """``R_axis(θ)`` on each of ``wires`` (``axis`` in x, y, z): on an address wire of the Gray grid, a
    partial exchange of neighbouring pixels (``θ = π`` swaps them, ``π/2`` with RX averages them)."""
    if axis not in ("x", "y", "z"):
        raise ParameterError(f"axis: expected 'x', 'y' or 'z', got {axis!r}")
    ws = check_wires(encoded, wires)
    c = Circuit(encoded.n_qubits)
    for w in ws:
        c = c.add("r" + axis, w, In("theta"))
    t = _framed(_strength(theta, "theta"), len(encoded.batch))
    return run(encoded, c, t.unsqueeze(-1))


def blur_rates(encoded: Encoded) -> torch.Tensor:
    """QuantumBlur's ``blur_height`` rates ``(*batch, K, n_address)`` of the address wires
    ``prefix .. n-1`` (in wire order), max-normalised to 1.

    For every pixel and each of its (up to 4) neighbours in the tile, the pixel's height is added to
    every address wire on which the two addresses differ; heights are the picture the states show
    (:meth:`~qgm.art.encodings.Encoding.picture`, summed over channels): for a fresh encoding, the image.
    """
    enc = encoded.encoding
    grid = enc.grid
    heights = enc.picture(encoded).sum(-1).reshape(*encoded.batch, -1, grid.h, grid.w)
    idx = grid.index.reshape(grid.h, grid.w)
    pair_sum = [heights[..., :, 1:] + heights[..., :, :-1], heights[..., 1:, :] + heights[..., :-1, :]]
    pair_diff = [idx[:, 1:] ^ idx[:, :-1], idx[1:, :] ^ idx[:-1, :]]
    rates = heights.new_zeros(*heights.shape[:-2], grid.n)
    for s, d in zip(pair_sum, pair_diff):
        for j in range(grid.n):
            bit = ((d >> (grid.n - 1 - j)) & 1).to(heights.dtype)
            rates[..., j] += (s * bit).sum((-1, -2))
    top = rates.amax(-1, keepdim=True)
    return rates / torch.where(top > 0, top, torch.ones_like(top))


def blur(encoded: Encoded, theta: Strength, axis: str = "x") -> Encoded:
    """QuantumBlur's blur: ``R_axis(θ · rate_w)`` on every address wire ``w`` with the rates of
    :func:`blur_rates`, so the wire that joins most bright neighbours turns by ``θ``.

    QuantumBlur's ``blur_height(height, xi, axis)`` is ``theta = π**2 * xi``; its ``axis='x'`` gives RX,
    any other value RY. ``θ = 0`` is the identity.
    """
    if axis not in ("x", "y"):
        raise ParameterError(f"axis: expected 'x' (RX, QuantumBlur's default) or 'y' (RY), got {axis!r}")
    enc = encoded.encoding
    rates = blur_rates(encoded).unsqueeze(-2)  # (*batch, K, 1, n_address)
    t = _framed(_strength(theta, "theta"), len(encoded.batch)).unsqueeze(-1)
    c = Circuit(enc.n_qubits)
    for j in range(enc.grid.n):
        c = c.add("r" + axis, enc.prefix + j, In(f"a{j}"))
    return run(encoded, c, t * rates)


def collage(encoded: Encoded, gates: Sequence[tuple[str, Sequence[int]]]) -> Encoded:
    """Fixed gates ``[(name, wires), …]`` (e.g. ``[("h", [3]), ("cx", [1, 5])]``) on the image state:
    Heaney-style collages. H on an address wire superposes the two halves at that scale (ghosts and
    their difference); CNOT permutes pixel blocks (tears)."""
    c = Circuit(encoded.n_qubits)
    for name, ws in gates:
        c = c.add(name, check_wires(encoded, ws, f"gates[{name!r}]"))
    if c.n_params:
        raise ParameterError(f"gates: collage gates must be fixed (h, x, cx, swap, …), got parametrised {list(c.param_names)}")
    return run(encoded, c)


def _joint(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Branch ensembles ``(*B, K, Ra, D)``, ``(*B, K, Rb, D)`` -> ``|ψ̃_a⟩|ψ̃_b⟩`` ``(*B, K, Ra*Rb, D*D)``."""
    j = a[..., :, None, :, None] * b[..., None, :, None, :]
    return j.reshape(*j.shape[:-4], j.shape[-4] * j.shape[-3], j.shape[-2] * j.shape[-1])


def _check_pair(a: Encoded, b: Encoded) -> None:
    if a.encoding is not b.encoding and (type(a.encoding) is not type(b.encoding)
                                         or a.encoding.space != b.encoding.space or a.n_qubits != b.n_qubits):
        raise ParameterError("b: the two images need the same encoding and size; encode both with one Encoding")


def partial_swap(a: Encoded, b: Encoded, t: Strength) -> tuple[Encoded, Encoded]:
    """QuantumBlur's ``swap_heights``: ``SWAP**t`` between wire ``q`` of ``a`` and wire ``q`` of ``b`` for every
    ``q`` on ``|ψ_a⟩|ψ_b⟩``, then each register's reduced state (the other measured: ``2**n`` branches).

    ``SWAP**t = e^{iπt/4} RXX(πt/2) RYY(πt/2) RZZ(πt/2)`` (SciPy's principal fractional power, as
    QuantumBlur); ``t = 0`` returns the inputs, ``t = 1`` exchanges them. Stored pixel masses move
    with the swapped weight ``sin²(πt/2)``.
    """
    _check_pair(a, b)
    n = a.n_qubits
    if 2 * n > MAX_JOINT_QUBITS:
        raise ResourceError(f"partial_swap: two {n}-qubit states make a {2 * n}-qubit register, more than "
                            f"{MAX_JOINT_QUBITS}; encode with a smaller tile=(th, tw)")
    sa, sb = torch.broadcast_tensors(a.states[..., :1, :], b.states[..., :1, :])
    batch = sa.shape[:-2]
    joint = _joint(a.states.expand(*batch, -1, -1), b.states.expand(*batch, -1, -1))
    c = Circuit(2 * n)
    for q in range(n):
        for gate in ("rxx", "ryy", "rzz"):
            c = c.add(gate, (q, n + q), (math.pi / 2) * In("t"))
    tt = _strength(t, "t")
    out = sim.state(c, None, _framed(tt, len(batch) - 1).unsqueeze(-1), initial_state=joint)
    d = 1 << n
    psi = out.reshape(*out.shape[:-1], d, d)  # (..., R, a, b)
    weight = _framed(torch.sin(math.pi * tt / 2) ** 2, len(batch) - 1)
    ma, mb = torch.broadcast_tensors(a.meta, b.meta)
    new_a = psi.transpose(-1, -2).reshape(*psi.shape[:-3], -1, d)
    new_b = psi.reshape(*psi.shape[:-3], -1, d)
    return (a.with_states(new_a, (1 - weight) * ma + weight * mb),
            b.with_states(new_b, (1 - weight) * mb + weight * ma))


def interfere(a: Encoded, b: Encoded, t: Strength) -> Encoded:
    """Interference blend ``∝ cos(πt/2) |ψ_a⟩ + sin(πt/2) |ψ_b⟩``: the image register after preparing
    ``cos(πt/2)|0⟩|ψ_a⟩ + sin(πt/2)|1⟩|ψ_b⟩``, an H on the which-image qubit and the outcome 0.

    Its pixels are ``∝ c² p_a + s² p_b + 2cs Re(ψ_a* ψ_b)``: a cross-fade with the two images'
    interference term (for height maps a glow where both are bright); ``t = 0`` gives ``a``, ``t = 1``
    gives ``b``. Needs pure states (``R = 1``); stored masses move with ``sin²(πt/2)``.
    """
    _check_pair(a, b)
    if a.states.shape[-2] != 1 or b.states.shape[-2] != 1:
        raise ParameterError("a, b: interfere superposes pure states; apply it before decoherence or partial_swap")
    tt = _strength(t, "t")
    batch = torch.broadcast_shapes(a.states.shape[:-3], b.states.shape[:-3])
    half = math.pi * _framed(tt, len(batch)).unsqueeze(-1) / 2
    psi = torch.cos(half) * a.states + torch.sin(half) * b.states
    norm = torch.linalg.vector_norm(psi, dim=-1, keepdim=True)
    if bool((norm == 0).any()):
        raise ParameterError("t: the two states cancel exactly at this t (ψ_b = -ψ_a); pick another t")
    weight = torch.sin(half[..., 0]) ** 2  # (F, 1.., 1, 1) against meta (*batch, K, m)
    ma, mb = torch.broadcast_tensors(a.meta, b.meta)
    return a.with_states(psi / norm, (1 - weight) * ma + weight * mb)


def grain(encoded: Encoded, shots: int, generator: Optional[torch.Generator] = None) -> Encoded:
    """Measure every state ``shots`` times and re-prepare ``√(frequencies)``: film grain whose texture is
    shot noise (relative error ``~1/√(shots p)``). Phases are lost, as in a measurement."""
    check_shots(shots)
    if shots is None:
        raise ParameterError("shots: grain needs a positive number of shots")
    p = encoded.probs()
    freq = frequencies(p.reshape(-1, p.shape[-1]), shots, generator).reshape(p.shape)
    return encoded.with_states(freq.sqrt().to(encoded.states.dtype).unsqueeze(-2))
