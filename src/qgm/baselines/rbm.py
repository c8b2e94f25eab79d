"""Restricted Boltzmann machine with exact likelihood (small ``n_bits``).

Binary visible units ``v`` = the bits of a basis state (column 0 = wire 0 = most
significant bit), binary hidden units ``h``, energy
``E(v, h) = −bᵀv − cᵀh − vᵀWh``. Summing out ``h`` gives the free energy
``F(v) = −bᵀv − Σ_j softplus(c_j + (vW)_j)`` and ``p(v) = exp(−F(v)) / Z`` with
``log Z = logsumexp_v(−F(v))`` enumerated over all ``2**n`` states, so
``log_prob``/``probs`` are exact and differentiable: the Trainer fits it with
the ``nll``/``kl`` (or exact ``mmd``) losses. Sampling is exact, from ``probs``.
"""
from __future__ import annotations

from typing import Any, Optional

import torch
from torch import nn
from torch.nn.functional import softplus

from qgm.errors import ConfigError
from qgm.models.base import GenerativeModel, ModelTags, basis_bits, check_exact_size, exact_only, index_bits, sample_from_probs
from qgm.registry import MODELS
from qgm.spaces import Bits

__all__ = ["RBM"]


class RBM(GenerativeModel):
    """RBM over ``n_bits`` visible units.

    Args:
        n_bits: visible units (at most :data:`~qgm.models.base.MAX_EXACT_BITS`).
        n_hidden: hidden units.
        init_scale: standard deviation of the initial weights (biases start at 0).
        seed: seed of the initial weights.
    """

    tags = ModelTags(exact_probs=True)

    def __init__(self, n_bits: int, n_hidden: int = 8, init_scale: float = 0.01, seed: int = 0) -> None:
        super().__init__()
        check_exact_size("rbm", n_bits)
        if n_bits < 1 or n_hidden < 1:
            raise ConfigError(f"rbm: n_bits and n_hidden must be >= 1, got {n_bits}, {n_hidden}")
        self.space = Bits(int(n_bits))
        self.n_hidden = int(n_hidden)
        self.init_scale, self.seed = float(init_scale), int(seed)
        gen = torch.Generator().manual_seed(self.seed)
        self.weight = nn.Parameter(
            self.init_scale * torch.randn(self.n_bits, self.n_hidden, dtype=torch.float64, generator=gen)
        )
        self.visible_bias = nn.Parameter(torch.zeros(self.n_bits, dtype=torch.float64))
        self.hidden_bias = nn.Parameter(torch.zeros(self.n_hidden, dtype=torch.float64))

    @property
    def config(self) -> dict[str, Any]:
        return {"n_bits": self.n_bits, "n_hidden": self.n_hidden, "init_scale": self.init_scale, "seed": self.seed}

    def free_energy(self, v: torch.Tensor) -> torch.Tensor:
        """``F(v)`` ``(...)`` for visible bits ``v`` ``(..., n_bits)`` (float)."""
        return -(v @ self.visible_bias) - softplus(v @ self.weight + self.hidden_bias).sum(-1)

    def log_partition(self) -> torch.Tensor:
        """``log Z`` by enumeration of all ``2**n`` visible states (differentiable)."""
        v = basis_bits(self.n_bits, device=self.weight.device)
        return torch.logsumexp(-self.free_energy(v), 0)

    def log_prob(self, x: torch.Tensor) -> torch.Tensor:
        """Exact ``log p(x)`` ``(len(x),)``."""
        v = index_bits(self.check_indices(x).to(self.weight.device), self.n_bits)
        return -self.free_energy(v) - self.log_partition()

    def probs(self, *, shots: Optional[int] = None, generator: Optional[torch.Generator] = None) -> torch.Tensor:
        """Exact ``p`` ``(2**n,)`` (``shots`` is refused: probabilities are exact)."""
        exact_only(self, shots)
        return torch.softmax(-self.free_energy(basis_bits(self.n_bits, device=self.weight.device)), 0)

    def sample(self, n: int, *, generator: Optional[torch.Generator] = None) -> torch.Tensor:
        """``n`` exact samples ``(n,)`` drawn from :meth:`probs`."""
        with torch.no_grad():
            return sample_from_probs(self.probs(), n, generator)


@MODELS.register("rbm", accepts=(Bits,))
def rbm(dataset: Any, n_hidden: int = 8, init_scale: float = 0.01, seed: int = 0) -> RBM:
    """Registered factory: an :class:`RBM` with ``dataset.n_bits`` visible units."""
    return RBM(dataset.n_bits, n_hidden=n_hidden, init_scale=init_scale, seed=seed)
