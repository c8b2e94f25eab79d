"""Decoherence brushes: :class:`~qgm.sim.noise.NoiseModel` channels on image states.

A mixed image state is a branch ensemble ``ρ = Σ_r |ψ̃_r⟩⟨ψ̃_r|`` (``Encoded.states
(*batch, K, R, 2**n)``, see :mod:`qgm.art.encodings`). A channel with Kraus
operators ``K_m`` maps it to

* ``trajectories=None`` (exact): the branches ``K_m ψ̃_r`` for every ``m`` and ``r``
  (``R -> R·M``); ``ρ`` is then exactly the channel's output, as
  :func:`qgm.sim.density_matrix` computes it, at the cost of ``M`` times the branches;
* ``trajectories=T`` (quantum trajectories): ``T`` branches (a pure state is first
  split into ``T`` copies of weight ``1/T``); each branch keeps one Kraus
  operator drawn with probability ``‖K_m ψ̃_r‖² / ‖ψ̃_r‖²`` and its weight, so
  ``E[ρ]`` is the channel's output (unbiased) and ``T`` bounds the memory: 256x256
  images under dephasing of every wire.

Readout errors act on measured bits, not on states: a noise model with readout
rules is refused (use :func:`qgm.art.brushes.grain` for measurement texture).
"""
from __future__ import annotations

import math
from typing import Optional, Sequence

import torch

from qgm.art.brushes import check_wires, run
from qgm.art.encodings import Encoded
from qgm.circuits import Circuit
from qgm.errors import ParameterError, ResourceError
from qgm.sim.kernels import WiresKernel
from qgm.sim.noise import Channel, NoiseModel

__all__ = ["apply_channel", "run_noisy", "decohere", "MAX_AMPLITUDES"]

#: Largest number of amplitudes (all branches of all states) an exact channel may create (512 MiB).
MAX_AMPLITUDES = 1 << 25


def _kraus_images(states: torch.Tensor, kraus: torch.Tensor, wires: tuple[int, ...], n: int) -> torch.Tensor:
    """``K_m ψ̃`` for every Kraus operator: ``(M, *states.shape)``."""
    flat = states.reshape(-1, states.shape[-1])
    kernel = WiresKernel(n, wires)
    return torch.stack([kernel.apply(flat, k.unsqueeze(0)).reshape(states.shape) for k in kraus])


def _check_branching(amplitudes: int, factor: int) -> None:
    """Refuse exact branching that would hold more than :data:`MAX_AMPLITUDES` amplitudes."""
    need = amplitudes * factor
    if need > MAX_AMPLITUDES:
        raise ResourceError(f"decoherence: exact branching needs {need} amplitudes (more than {MAX_AMPLITUDES}); "
                            "pass trajectories=T (e.g. 32) for sampled quantum trajectories")


def _exact(states: torch.Tensor, kraus: torch.Tensor, wires: tuple[int, ...], n: int) -> torch.Tensor:
    _check_branching(states.numel(), kraus.shape[0])
    out = _kraus_images(states, kraus, wires, n)  # (M, *b, K, R, D)
    out = out.movedim(0, -2)  # (*b, K, R, M, D)
    return out.reshape(*out.shape[:-3], -1, out.shape[-1])


def _sampled(states: torch.Tensor, kraus: torch.Tensor, wires: tuple[int, ...], n: int, trajectories: int,
             generator: Optional[torch.Generator]) -> torch.Tensor:
    if states.shape[-2] == 1 and trajectories > 1:
        states = states.expand(*states.shape[:-2], trajectories, -1) / trajectories**0.5
    out = _kraus_images(states, kraus, wires, n)  # (M, ..., D)
    weight = out.real**2 + out.imag**2
    norms = weight.sum(-1)  # (M, ...)
    total = norms.sum(0)
    probs = (norms / total.clamp_min(torch.finfo(norms.dtype).tiny)).movedim(0, -1).reshape(-1, kraus.shape[0])
    probs = torch.where(probs.sum(-1, keepdim=True) > 0, probs, torch.ones_like(probs))
    pick = torch.multinomial(probs, 1, generator=generator).reshape(norms.shape[1:])
    chosen = torch.gather(out, 0, pick[None, ..., None].expand(1, *out.shape[1:]))[0]
    kept = torch.gather(norms, 0, pick[None])[0]
    scale = torch.sqrt(total / kept.clamp_min(torch.finfo(norms.dtype).tiny))
    return chosen * scale[..., None]


def apply_channel(
    encoded: Encoded,
    channel: Channel,
    wires: Sequence[int],
    *,
    trajectories: Optional[int] = None,
    generator: Optional[torch.Generator] = None,
) -> Encoded:
    """``ρ -> Σ_m K_m ρ K_m†`` of ``channel`` on ``wires`` (its ``n_qubits`` wires, first = most significant),
    exactly or by ``trajectories`` (see the module docstring)."""
    if not isinstance(channel, Channel):
        raise ParameterError(f"channel: expected a qgm.sim.noise.Channel (PhaseDamping, Depolarizing, …), got {channel!r}")
    ws = check_wires(encoded, wires)
    if len(ws) != channel.n_qubits:
        raise ParameterError(f"wires: {type(channel).__name__} acts on {channel.n_qubits} wire(s), got {list(ws)}")
    if trajectories is not None and (isinstance(trajectories, bool) or not isinstance(trajectories, int)
                                     or trajectories < 1):
        raise ParameterError(f"trajectories: expected a positive integer or None (exact), got {trajectories!r}")
    kraus = channel.kraus(encoded.states.dtype, encoded.states.device)
    n = encoded.n_qubits
    if trajectories is None:
        return encoded.with_states(_exact(encoded.states, kraus, ws, n))
    return encoded.with_states(_sampled(encoded.states, kraus, ws, n, trajectories, generator))


def run_noisy(
    encoded: Encoded,
    circuit: Circuit,
    noise: NoiseModel,
    inputs: Optional[torch.Tensor] = None,
    *,
    trajectories: Optional[int] = None,
    generator: Optional[torch.Generator] = None,
) -> Encoded:
    """Run ``circuit`` on the image states with the channels ``noise`` places after its gates
    (noiseless stretches go to the engine in one call each)."""
    if not isinstance(noise, NoiseModel):
        raise ParameterError(f"noise: expected a qgm.sim.noise.NoiseModel, got {type(noise).__name__}")
    if noise.readout:
        raise ParameterError("noise: readout errors act on measured bits, not on image states; "
                             "drop add_readout (use grain for measurement texture)")
    if trajectories is None:
        factor = math.prod(ch.kraus().shape[0] for op in circuit.ops for ch, _ in noise.channels_after(op))
        _check_branching(encoded.states.numel(), factor)
    ops: list = []
    out = encoded
    for op in circuit.ops:
        ops.append(op)
        placed = noise.channels_after(op)
        if placed:
            out = run(out, Circuit(circuit.n_qubits, ops, (), circuit.input_names), inputs)
            ops = []
            for channel, ws in placed:
                out = apply_channel(out, channel, ws, trajectories=trajectories, generator=generator)
    if ops:
        out = run(out, Circuit(circuit.n_qubits, ops, (), circuit.input_names), inputs)
    return out


def decohere(
    encoded: Encoded,
    channel: Channel,
    wires: Sequence[int],
    *,
    basis: str = "x",
    trajectories: Optional[int] = None,
    generator: Optional[torch.Generator] = None,
) -> Encoded:
    """Heaney-style decoherence: ``H`` on ``wires``, ``channel`` on each of them, ``H`` again (``basis="x"``),
    or the channel alone (``basis="z"``).

    Without noise the Hadamards cancel and the image comes back; dephasing (``PhaseDamping(γ)``) then
    blends each pixel with its partner across every chosen wire, ``p_x -> (1+λ)/2 p_x + (1-λ)/2 p_x'``
    with ``λ = √(1-γ)``: the interference that would undo the superposition is lost.
    """
    if basis not in ("x", "z"):
        raise ParameterError(f"basis: expected 'x' (H, channel, H) or 'z' (channel only), got {basis!r}")
    ws = check_wires(encoded, wires)
    c = Circuit(encoded.n_qubits)
    if basis == "x":
        for w in ws:
            c = c.h(w)
    for w in ws:
        c = c.add("id", w)
    if basis == "x":
        for w in ws:
            c = c.h(w)
    noise = NoiseModel().add_gate_noise(channel, gates=("id",), wires=ws)
    return run_noisy(encoded, c, noise, trajectories=trajectories, generator=generator)
