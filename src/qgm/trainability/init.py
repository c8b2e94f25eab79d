"""Initial-angle strategies (registry :data:`INITIALIZERS`) and the circuits some of them need.

A strategy is ``init(circuit, generator, **options) -> (n_params,) float64``;
``register_init(name)`` adds one; configs select one by name (the QCBM's
``init:``; :func:`initialize` passes options). Strategies:

* ``uniform``: angles uniform in [−π, π).
* ``small``: small-angle Gaussian, ``N(0, std²)`` (``std=0.01``).
* ``identity_blocks`` (Grant et al. 2019): for circuits of
  :func:`identity_block_ansatz`, block ``b`` is ``W(α_b)`` followed by
  ``W(β_b)†``; ``α_b`` is uniform and ``β_b = α_b``, so each block (and the
  circuit) is the identity at the start while all angles stay independent
  trainable parameters. **Born-machine caveat** (trainability.md §5): an exact
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
* ``adainit`` (after Zhuang & Guan, arXiv:2502.13166): adaptive search for a
  starting point of large gradient variance. **Deviation:** the paper's
  proposal generator is a large language model prompted with the problem and
  the history; here it is a classical Gaussian proposal refitted to the best
  candidates of each round (cross-entropy method). See :func:`adainit_search`.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Callable, Optional, Sequence, Union

import torch

from qgm.circuits import Circuit, hardware_efficient
from qgm.circuits.circuit import Param
from qgm.errors import ConfigError
from qgm.registry import add_unique

__all__ = [
    "INITIALIZERS", "register_init", "initialize", "identity_block_ansatz", "param_layers", "layerwise_phases",
    "adainit_search", "AdaInitResult", "TIE_BREAKS",
]

Initializer = Callable[..., torch.Tensor]
#: Initial-angle strategies ``init(circuit, generator, **options) -> (n_params,) float64``.
INITIALIZERS: dict[str, Initializer] = {}
TIE_BREAKS = ("noise", "first_block", "none")
_MIRROR = "_mirror"


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
def _renamed(circuit: Circuit, prefix: str) -> Circuit:
    """``circuit`` with every trainable slot renamed ``prefix + name``."""
    def rename(a: Any) -> Any:
        return Param(prefix + a.name, a.kind, a.scale, a.offset) if isinstance(a, Param) and a.kind == "param" else a

    ops = [type(op)(op.name, op.wires, tuple(rename(a) for a in op.params), op.matrix, op.label) for op in circuit.ops]
    return Circuit(circuit.n_qubits, ops, [prefix + p for p in circuit.param_names], list(circuit.input_names))


def identity_block_ansatz(
    n_qubits: int,
    n_blocks: int,
    block_depth: int = 1,
    rotations: Sequence[str] = ("ry", "rz"),
    entangler: Union[str, Sequence[Sequence[int]]] = "ring",
    input_layer: Optional[str] = None,
) -> Circuit:
    """``n_blocks`` blocks ``W(α_b) · W(β_b)†`` of a hardware-efficient ``W`` (Grant et al. 2019).

    ``W`` = ``hardware_efficient(n_qubits, block_depth, rotations, entangler)``.
    Slots are named ``b{b}_{name}`` (``α``) and ``b{b}_mirror_{name}`` (``β``).
    ``input_layer="h"`` prepends H on every wire (no trainable slots).
    """
    if n_blocks < 1:
        raise ConfigError(f"n_blocks: expected >= 1, got {n_blocks}")
    if input_layer not in (None, "h"):
        raise ConfigError(f"input_layer: expected None or 'h', got {input_layer!r}")
    w = hardware_efficient(n_qubits, block_depth, rotations, entangler)
    c = Circuit(n_qubits)
    if input_layer == "h":
        for q in range(n_qubits):
            c = c.h(q)
    for b in range(n_blocks):
        c = c.compose(_renamed(w, f"b{b}_")).compose(_renamed(w.inverse(), f"b{b}{_MIRROR}_"))
    return c


@register_init("identity_blocks")
def _identity_blocks(
    circuit: Circuit, generator: torch.Generator, tie_break: str = "noise", tie_break_std: float = 0.01
) -> torch.Tensor:
    """``α`` uniform, mirror ``β = α`` (+ tie-break) for :func:`identity_block_ansatz` circuits."""
    if tie_break not in TIE_BREAKS:
        raise ConfigError(f"tie_break: expected one of {TIE_BREAKS}, got {tie_break!r}")
    names = list(circuit.param_names)
    mirrors = [k for k, p in enumerate(names) if _MIRROR in p]
    if not mirrors:
        raise ConfigError("init 'identity_blocks' needs a circuit from identity_block_ansatz (slots 'b*_mirror_*')")
    theta = _uniform_angles(len(names), generator)
    position = {p: k for k, p in enumerate(names)}
    for k in mirrors:
        theta[k] = theta[position[names[k].replace(_MIRROR, "", 1)]]
    if tie_break == "noise":
        theta[mirrors] += tie_break_std * torch.randn(len(mirrors), dtype=torch.float64, generator=generator)
    elif tie_break == "first_block":
        first = [k for k in mirrors if names[k].startswith(f"b0{_MIRROR}_")]
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


# -- AdaInit --------------------------------------------------------------------------------------------
@dataclass
class AdaInitResult:
    """Outcome of :func:`adainit_search`: best angles, their score, and the per-round history
    (``round, best_candidate_score, accepted, best_score, proposal_scale``)."""

    theta: torch.Tensor
    score: float
    history: list[dict] = field(default_factory=list)


def _gradient_scores(circuit: Circuit, theta: torch.Tensor, cost: Any, statistic: str) -> torch.Tensor:
    from qgm.trainability.gradients import values_and_gradients

    _, grads = values_and_gradients(circuit, theta, [cost], list(range(circuit.n_params)), method="adjoint")
    g = grads[0]
    return g.var(dim=1) if statistic == "variance" else (g**2).mean(dim=1)


def adainit_search(
    circuit: Circuit,
    generator: torch.Generator,
    cost: Union[str, dict, Callable[[torch.Tensor], torch.Tensor]] = "local",
    candidates: int = 16,
    rounds: int = 20,
    patience: int = 5,
    elite: float = 0.25,
    scale: float = math.pi / 2,
    statistic: str = "variance",
) -> AdaInitResult:
    """AdaInit with a cross-entropy-method proposal in place of the paper's LLM.

    Round ``t``: draw ``candidates`` angle vectors from ``N(μ, s²)`` (``μ = 0``,
    ``s = scale`` at start), score them all in one batched engine call:
    ``V(θ)`` = variance across slots of ``∇C(θ)`` (``statistic="variance"``) or
    the mean squared gradient (``"norm"``), for ``cost`` (a scan cost spec,
    default the local cost, or a callable states ``(B, 2**n)`` -> ``(B,)``).
    The best candidate is accepted if ``V_t > V*`` (so ``V*`` is non-decreasing
    and bounded: the submartingale argument of the paper); ``μ, s`` are refitted
    to the top ``elite`` fraction of all scored candidates so far (CEM). Stops
    after ``rounds`` rounds or ``patience`` rounds without acceptance. The
    scoring protocol (cost, statistic, exact gradients) is fixed across rounds.
    """
    from qgm.trainability.costs import ScanCost, parse_cost

    if statistic not in ("variance", "norm"):
        raise ConfigError(f"statistic: expected 'variance' or 'norm', got {statistic!r}")
    if candidates < 2 or rounds < 1 or patience < 1 or not 0 < elite <= 1:
        raise ConfigError(
            f"adainit: need candidates >= 2, rounds >= 1, patience >= 1, 0 < elite <= 1; got "
            f"{candidates}, {rounds}, {patience}, {elite}"
        )
    score_cost = (
        ScanCost(circuit.n_qubits, lambda p: cost(p)) if callable(cost) and not isinstance(cost, (str, dict))
        else parse_cost(cost).build(circuit.n_qubits)
    )
    p = circuit.n_params
    mu, s = torch.zeros(p, dtype=torch.float64), torch.full((p,), float(scale), dtype=torch.float64)
    best_theta, best, stale = mu.clone(), -math.inf, 0
    pool_theta, pool_score = torch.zeros(0, p, dtype=torch.float64), torch.zeros(0, dtype=torch.float64)
    history = []
    for t in range(rounds):
        theta = mu + s * torch.randn(candidates, p, dtype=torch.float64, generator=generator)
        scores = _gradient_scores(circuit, theta, score_cost, statistic)
        j = int(scores.argmax())
        accepted = float(scores[j]) > best
        if accepted:
            best_theta, best, stale = theta[j].clone(), float(scores[j]), 0
        else:
            stale += 1
        pool_theta, pool_score = torch.cat([pool_theta, theta]), torch.cat([pool_score, scores])
        top = pool_theta[pool_score.argsort(descending=True)[: max(2, math.ceil(elite * len(pool_score)))]]
        mu, s = top.mean(0), top.std(0).clamp_min(1e-3)
        history.append({"round": t, "best_candidate_score": float(scores[j]), "accepted": accepted,
                        "best_score": best, "proposal_scale": float(s.mean())})
        if stale >= patience:
            break
    return AdaInitResult(best_theta, best, history)


@register_init("adainit")
def _adainit(circuit: Circuit, generator: torch.Generator, **options: Any) -> torch.Tensor:
    """Angles found by :func:`adainit_search` (options passed through)."""
    return adainit_search(circuit, generator, **options).theta
