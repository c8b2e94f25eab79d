"""Classical discriminators (critics) for adversarial models, swappable by name.

A discriminator is any ``nn.Module`` mapping inputs ``(m, in_dim)`` (float64)
to logits ``(m, 1)``; the adversarial losses (:mod:`qgm.losses.adversarial`)
read logits, never probabilities. :data:`DISCRIMINATORS` maps names to classes
whose ``__init__(in_dim, **options)`` builds one, so a config names it as
``{"name": "mlp", "hidden": [20]}``; :func:`register_discriminator` adds a
user class under a new name.

The default :class:`MLPDiscriminator` standardises its input with fixed
``shift`` / ``scale`` buffers (set from the data by the model factory) so the
same network works on values 0..7 and on rings of radius 2.
"""
from __future__ import annotations

import inspect
import math
from typing import Any, Callable, Optional, Sequence

import torch
from torch import nn

from qgm.errors import ConfigError
from qgm.registry import add_unique

__all__ = ["MLPDiscriminator", "DISCRIMINATORS", "register_discriminator", "build_discriminator", "ACTIVATIONS"]

ACTIVATIONS: dict[str, Callable[[], nn.Module]] = {
    "leaky_relu": lambda: nn.LeakyReLU(0.2),
    "relu": nn.ReLU,
    "tanh": nn.Tanh,
    "elu": nn.ELU,
}


def init_linear(layer: nn.Linear, generator: torch.Generator) -> None:
    """PyTorch's default ``U(±1/√fan_in)`` initialisation, drawn from ``generator``."""
    bound = 1.0 / math.sqrt(layer.in_features)
    with torch.no_grad():
        for p in (layer.weight, layer.bias):
            p.copy_((torch.rand(p.shape, dtype=p.dtype, generator=generator) * 2 - 1) * bound)


def mlp(sizes: Sequence[int], activation: str, generator: torch.Generator) -> nn.Sequential:
    """Float64 MLP ``sizes[0] -> … -> sizes[-1]`` with ``activation`` between layers, seeded init."""
    if activation not in ACTIVATIONS:
        raise ConfigError(f"activation {activation!r} unknown; known: {sorted(ACTIVATIONS)}")
    if any(int(s) < 1 for s in sizes):
        raise ConfigError(f"layer widths must be >= 1, got {list(sizes)}")
    layers: list[nn.Module] = []
    for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
        lin = nn.Linear(int(a), int(b), dtype=torch.float64)
        init_linear(lin, generator)
        layers.append(lin)
        if i < len(sizes) - 2:
            layers.append(ACTIVATIONS[activation]())
    return nn.Sequential(*layers)


class MLPDiscriminator(nn.Module):
    """``logit = MLP((x − shift) / scale)``.

    Args:
        in_dim: input features ``d`` (values per sample, or bits).
        hidden: hidden widths (Zoufal et al.: ``[50, 20]``; Qiskit's tutorial: ``[20]``).
        activation: key of :data:`ACTIVATIONS` (default LeakyReLU(0.2)).
        shift, scale: per-feature standardisation ``(d,)`` (default 0 and 1).
        seed: seed of the initial weights.
    """

    def __init__(
        self,
        in_dim: int,
        hidden: Sequence[int] = (20,),
        activation: str = "leaky_relu",
        shift: Optional[Sequence[float]] = None,
        scale: Optional[Sequence[float]] = None,
        seed: int = 0,
    ) -> None:
        super().__init__()
        if int(in_dim) < 1:
            raise ConfigError(f"discriminator in_dim must be >= 1, got {in_dim}")
        self.in_dim = int(in_dim)
        gen = torch.Generator().manual_seed(int(seed))
        self.net = mlp([self.in_dim, *[int(h) for h in hidden], 1], activation, gen)
        self.register_buffer("shift", _feature_vector(shift, self.in_dim, 0.0, "shift"))
        self.register_buffer("scale", _feature_vector(scale, self.in_dim, 1.0, "scale"))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Logits ``(m, 1)`` of inputs ``(m, in_dim)``."""
        return self.net((x.to(torch.float64) - self.shift) / self.scale)


def _feature_vector(values: Optional[Sequence[float]], d: int, default: float, field: str) -> torch.Tensor:
    if values is None:
        return torch.full((d,), default, dtype=torch.float64)
    v = torch.as_tensor(values, dtype=torch.float64).reshape(-1)
    if v.numel() != d:
        raise ConfigError(f"discriminator {field}: expected {d} values, got {v.numel()}")
    return v


DISCRIMINATORS: dict[str, Callable[..., nn.Module]] = {"mlp": MLPDiscriminator}


def register_discriminator(name: str) -> Callable[[type], type]:
    """Class decorator adding a discriminator ``cls(in_dim, **options)`` under ``name``."""

    def deco(cls: type) -> type:
        return add_unique(DISCRIMINATORS, "discriminator", name, cls)

    return deco


def build_discriminator(spec: dict[str, Any], in_dim: int, **defaults: Any) -> nn.Module:
    """``DISCRIMINATORS[spec["name"]](in_dim, **options)``: the spec's options, plus those of ``defaults``
    (e.g. ``seed``, data ``shift``/``scale``) that the class accepts and the spec does not set."""
    if not isinstance(spec, dict) or "name" not in spec:
        raise ConfigError(f"discriminator: expected a dict with a 'name' key, got {spec!r}")
    options = {k: v for k, v in spec.items() if k != "name"}
    try:
        cls = DISCRIMINATORS[spec["name"]]
    except KeyError:
        raise ConfigError(f"discriminator {spec['name']!r} unknown; known: {sorted(DISCRIMINATORS)}") from None
    accepted = inspect.signature(cls).parameters
    takes_any = any(p.kind is p.VAR_KEYWORD for p in accepted.values())
    fill = {k: v for k, v in defaults.items() if k not in options and (takes_any or k in accepted)}
    try:
        return cls(in_dim, **fill, **options)
    except TypeError as err:
        raise ConfigError(f"discriminator {spec['name']!r}: bad options {sorted(options)} ({err})") from None
