"""MADE: a masked autoregressive MLP over bits (Germain et al. 2015), exact for small ``n_bits``.

``p(x) = Π_i p(x_i | x_<i)`` in wire order (wire 0 = most significant bit
first). Input bit ``i`` has degree ``i + 1``, hidden unit ``k`` of every layer
degree ``1 + k mod max(1, n − 1)`` (deterministic), output ``i`` degree ``i + 1``;
a weight is kept where the receiving degree is >= the sending one (hidden
layers) or strictly greater (output layer), so logit ``i`` sees only
``x_<i``. Probabilities are exact by enumeration, samples are ancestral.
"""
from __future__ import annotations

import math
from typing import Any, Optional, Sequence

import torch
from torch import nn
from torch.nn.functional import binary_cross_entropy_with_logits

from qgm.errors import ConfigError
from qgm.models.base import GenerativeModel, ModelTags, basis_bits, check_exact_size, check_n_samples, exact_only, index_bits
from qgm.registry import MODELS
from qgm.spaces import Bits

__all__ = ["MADE", "made_masks"]


def made_masks(n_bits: int, hidden: Sequence[int]) -> list[torch.Tensor]:
    """Connectivity masks ``(out, in)`` (float64 0/1) of every layer, input to output."""
    degrees = [torch.arange(1, n_bits + 1)]
    for width in hidden:
        degrees.append(1 + torch.arange(width) % max(1, n_bits - 1))
    masks = [(d_out[:, None] >= d_in[None, :]) for d_in, d_out in zip(degrees[:-1], degrees[1:])]
    masks.append(torch.arange(1, n_bits + 1)[:, None] > degrees[-1][None, :])
    return [m.to(torch.float64) for m in masks]


def _uniform(shape: torch.Size, bound: float, generator: torch.Generator) -> torch.Tensor:
    return (torch.rand(shape, dtype=torch.float64, generator=generator) * 2 - 1) * bound


class MADE(GenerativeModel):
    """Autoregressive Bernoulli model of ``n_bits`` bits.

    Args:
        n_bits: number of bits (at most :data:`~qgm.models.base.MAX_EXACT_BITS` for ``probs``).
        hidden: widths of the hidden ReLU layers.
        seed: seed of the initial weights (PyTorch's default ``U(±1/√fan_in)``).
    """

    tags = ModelTags(exact_probs=True)

    def __init__(self, n_bits: int, hidden: Sequence[int] = (32,), seed: int = 0) -> None:
        super().__init__()
        check_exact_size("made", n_bits)
        hidden = [int(h) for h in hidden]
        if n_bits < 1 or any(h < 1 for h in hidden):
            raise ConfigError(f"made: n_bits and hidden widths must be >= 1, got {n_bits}, {hidden}")
        self.space = Bits(int(n_bits))
        self.hidden, self.seed = hidden, int(seed)
        gen = torch.Generator().manual_seed(self.seed)
        masks = made_masks(self.n_bits, hidden)
        self.weights = nn.ParameterList()
        self.biases = nn.ParameterList()
        for i, mask in enumerate(masks):
            bound = 1.0 / math.sqrt(mask.shape[1])
            self.weights.append(nn.Parameter(_uniform(mask.shape, bound, gen)))
            self.biases.append(nn.Parameter(_uniform(mask.shape[:1], bound, gen)))
            self.register_buffer(f"mask{i}", mask, persistent=False)

    @property
    def config(self) -> dict[str, Any]:
        return {"n_bits": self.n_bits, "hidden": list(self.hidden), "seed": self.seed}

    def _masks(self) -> list[torch.Tensor]:
        return [getattr(self, f"mask{i}") for i in range(len(self.weights))]

    def logits(self, bits: torch.Tensor) -> torch.Tensor:
        """Logits of ``p(x_i = 1 | x_<i)`` ``(B, n)`` for bits ``(B, n)`` (float)."""
        h = bits
        layers = list(zip(self.weights, self.biases, self._masks()))
        for w, b, m in layers[:-1]:
            h = torch.relu(h @ (w * m).T + b)
        w, b, m = layers[-1]
        return h @ (w * m).T + b

    def _log_prob_bits(self, bits: torch.Tensor) -> torch.Tensor:
        return -binary_cross_entropy_with_logits(self.logits(bits), bits, reduction="none").sum(-1)

    def log_prob(self, x: torch.Tensor) -> torch.Tensor:
        """Exact ``log p(x)`` ``(len(x),)``."""
        return self._log_prob_bits(index_bits(self.check_indices(x).to(self.weights[0].device), self.n_bits))

    def probs(self, *, shots: Optional[int] = None, generator: Optional[torch.Generator] = None) -> torch.Tensor:
        """Exact ``p`` ``(2**n,)`` by enumeration (``shots`` is refused)."""
        exact_only(self, shots)
        return self._log_prob_bits(basis_bits(self.n_bits, device=self.weights[0].device)).exp()

    def sample(self, n: int, *, generator: Optional[torch.Generator] = None) -> torch.Tensor:
        """``n`` ancestral samples ``(n,)``: bit ``i`` drawn from ``p(x_i | x_<i)`` in wire order."""
        check_n_samples(n)
        device = self.weights[0].device
        bits = torch.zeros(n, self.n_bits, dtype=torch.float64, device=device)
        with torch.no_grad():
            for i in range(self.n_bits):
                p1 = torch.sigmoid(self.logits(bits)[:, i])
                u = torch.rand(n, dtype=torch.float64, device=device, generator=generator)
                bits[:, i] = (u < p1).to(torch.float64)
        weights = 1 << torch.arange(self.n_bits - 1, -1, -1, device=device)
        return (bits.to(torch.int64) * weights).sum(-1)

    def n_trainable(self) -> int:
        """Free parameters: unmasked weights plus biases."""
        return int(sum(m.sum().item() for m in self._masks())) + sum(b.numel() for b in self.biases)


@MODELS.register("made", accepts=(Bits,))
def made(dataset: Any, hidden: Sequence[int] = (32,), seed: int = 0) -> MADE:
    """Registered factory: a :class:`MADE` over ``dataset.n_bits`` bits."""
    return MADE(dataset.n_bits, hidden=hidden, seed=seed)
