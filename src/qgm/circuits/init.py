"""Initial-angle strategies (registry :data:`INITIALIZERS`) and the layer structure some of them use.

A strategy is ``init(circuit, generator, **options) -> (n_params,) float64``;
``register_init(name)`` adds one; configs select one by name (the QCBM's
``init:``; :func:`initialize` passes options). Strategies:

* ``uniform``: angles uniform in [−π, π).
* ``small``: small-angle Gaussian, ``N(0, std²)`` (``std=0.01``).
* ``identity_blocks`` (Grant et al. 2019): for circuits of
  :func:`identity_block_ansatz`, block ``b`` is ``W(α_b)`` followed by
  ``W(β_b)†``; ``α_b`` is uniform and ``β_b = α_b``, so each block (and the
  circuit) is the identity at the start while all angles stay independent
  trainable parameters (:func:`qgm.circuits.identity_block_ansatz`). **Born-machine caveat** (trainability.md §5): an exact
  identity on |0…0⟩ gives ``p(0…0) = 1`` (maximal), so every ``∂p(x)/∂θ = 0``
  and every loss of the output distribution is stationary there. The
  ``tie_break`` option breaks it: ``"noise"`` (default; ``β_b = α_b + N(0,
  tie_break_std²)``), ``"first_block"`` (block 0's mirror half drawn
  independently: a random shallow circuit followed by identities), or
  ``"none"`` (exact identity). The ansatz's ``input_layer="h"`` (H on every
  wire first, as in Zoufal's qGAN) is the third remedy of the spec.
* ``layerwise`` (Skolik et al. 2021): the first ``start_layers`` layers uniform,
  all later layers 0 (identity); :func:`layerwise_phases` gives the trainable
  masks of the growth schedule and the partition phase.

``adainit`` (a search that needs gradients) registers itself from
:mod:`qgm.trainability.adainit`.
"""
from __future__ import annotations

import math
from typing import Any, Callable

import torch

from qgm.circuits.ansatz import MIRROR
from qgm.circuits.circuit import Circuit, Param
from qgm.errors import ConfigError
from qgm.registry import add_unique

__all__ = ["INITIALIZERS", "register_init", "initialize", "param_layers", "layerwise_phases", "TIE_BREAKS"]

Initializer = Callable[..., torch.Tensor]
#: Initial-angle strategies ``init(circuit, generator, **options) -> (n_params,) float64``.
INITIALIZERS: dict[str, Initializer] = {}
TIE_BREAKS = ("noise", "first_block", "none")


def register_init(name: str) -> Callable[[Initializer], Initializer]:
    """Decorator adding an initial-angle strategy under ``name``."""

    def deco(fn: Initializer) -> Initializer:
        return add_unique(INITIALIZERS, "init strategy", name, fn)

    return deco


def initialize(name: str, circuit: Circuit, generator: torch.Generator, **options: Any) -> torch.Tensor:
    """Angles ``(n_params,)`` float64 from strategy ``name`` with ``options``."""
    if name not in INITIALIZERS:
        raise ConfigError(f"init {name!r} unknown; known: {sorted(INITIALIZERS)}")
    try:
        theta = INITIALIZERS[name](circuit, generator, **options)
    except TypeError as err:
        raise ConfigError(f"init {name!r}: bad options {sorted(options)} ({err})") from None
    return theta.to(torch.float64)


def _uniform_angles(size: int, generator: torch.Generator) -> torch.Tensor:
    return (torch.rand(size, dtype=torch.float64, generator=generator) * 2.0 - 1.0) * math.pi


@register_init("uniform")
def _uniform(circuit: Circuit, generator: torch.Generator) -> torch.Tensor:
    """Angles uniform in [−π, π)."""
    return _uniform_angles(circuit.n_params, generator)


@register_init("small")
def _small(circuit: Circuit, generator: torch.Generator, std: float = 0.01) -> torch.Tensor:
    """Angles normal(0, std²) (near the identity circuit; see the Born-machine caveat)."""
    return std * torch.randn(circuit.n_params, dtype=torch.float64, generator=generator)


# -- identity blocks ------------------------------------------------------------------------------------
@register_init("identity_blocks")
def _identity_blocks(
    circuit: Circuit, generator: torch.Generator, tie_break: str = "noise", tie_break_std: float = 0.01
) -> torch.Tensor:
    """``α`` uniform, mirror ``β = α`` (+ tie-break) for :func:`identity_block_ansatz` circuits."""
    if tie_break not in TIE_BREAKS:
        raise ConfigError(f"tie_break: expected one of {TIE_BREAKS}, got {tie_break!r}")
    names = list(circuit.param_names)
    mirrors = [k for k, p in enumerate(names) if MIRROR in p]
    if not mirrors:
        raise ConfigError("init 'identity_blocks' needs a circuit from identity_block_ansatz (slots 'b*_mirror_*')")
    theta = _uniform_angles(len(names), generator)
    position = {p: k for k, p in enumerate(names)}
    for k in mirrors:
        theta[k] = theta[position[names[k].replace(MIRROR, "", 1)]]
    if tie_break == "noise":
        theta[mirrors] += tie_break_std * torch.randn(len(mirrors), dtype=torch.float64, generator=generator)
    elif tie_break == "first_block":
        first = [k for k in mirrors if names[k].startswith(f"b0{MIRROR}_")]
        theta[first] = _uniform_angles(len(first), generator)
    return theta


# -- layerwise ------------------------------------------------------------------------------------------
def param_layers(circuit: Circuit) -> list[int]:
    """Layer index of every trainable slot: a new layer starts at the first parametrised
    single-qubit gate after a block of multi-qubit gates (rotation layer + entangler = one layer;
    a slot shared by several gates belongs to the layer of its first use)."""
    layer, after_entangler = 0, False
    first: dict[str, int] = {}
    for op in circuit.ops:
        if len(op.wires) > 1:
            after_entangler = True
        elif op.params and after_entangler:
            layer, after_entangler = layer + 1, False
        for a in op.params:
            if isinstance(a, Param) and a.kind == "param":
                first.setdefault(a.name, layer)
    return [first.get(p, layer) for p in circuit.param_names]


@register_init("layerwise")
def _layerwise(circuit: Circuit, generator: torch.Generator, start_layers: int = 1) -> torch.Tensor:
    """First ``start_layers`` layers uniform, the rest 0.

    A zero layer is the identity only if its entangler is parametrised (e.g.
    ``hardware_efficient(..., entangling_gate="rzz")``); with fixed CNOTs the
    later layers start as bare entanglers."""
    layers = torch.as_tensor(param_layers(circuit))
    return torch.where(layers < start_layers, _uniform_angles(circuit.n_params, generator), torch.zeros(()))


def layerwise_phases(circuit: Circuit, start_layers: int = 1, add_layers: int = 1,
                     partitions: int = 2) -> list[torch.Tensor]:
    """Trainable masks ``(n_params,)`` bool of the layerwise schedule (Skolik et al. 2021).

    Phase 1: train layers ``[0, s)``, then ``[s, s+p)`` with older layers frozen,
    … until the last layer (``s = start_layers``, ``p = add_layers``; new layers
    start at 0 from :func:`_layerwise`). Phase 2: the full circuit split into
    ``partitions`` contiguous groups of layers, each trained in turn.
    """
    layers = torch.as_tensor(param_layers(circuit))
    top = int(layers.max()) + 1 if layers.numel() else 0
    masks = [layers < min(start_layers, top)]
    for lo in range(start_layers, top, add_layers):
        masks.append((layers >= lo) & (layers < lo + add_layers))
    bounds = [round(i * top / partitions) for i in range(partitions + 1)]
    masks += [(layers >= a) & (layers < b) for a, b in zip(bounds, bounds[1:]) if b > a]
    return masks
