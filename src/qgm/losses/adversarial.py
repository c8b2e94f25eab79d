"""Adversarial losses: non-saturating BCE, WGAN-GP and hinge, for any generator.

Every loss is a pair of small functions on discriminator *logits* (real numbers,
``D(x) = sigmoid(logit)`` for BCE, the critic value for WGAN/hinge):

* ``d_loss(real_logits, fake_logits, real_weights=None, fake_weights=None) -> scalar``
  (the discriminator minimises it),
* ``g_loss(fake_logits, weights=None) -> scalar`` (the generator minimises it).

Logits are ``(m,)`` or ``(m, 1)``. Without weights an expectation is the batch
mean; with ``weights`` ``(m,)`` (non-negative, summing to one) it is
``Σ_i w_i l(x_i)``. The discrete quantum generator uses this with the Born
vector as weights over all basis points, ``g_loss = Σ_x p_θ(x) l(D(x))``, which
is linear in ``p_θ`` and hence exactly differentiable (autograd, adjoint, or
parameter shift with shots; Zoufal et al. arXiv:1904.00043).

==========  =====================================  ==========================
name        discriminator loss                     generator loss
==========  =====================================  ==========================
``bce``     ``E softplus(−r) + E softplus(f)``     ``E softplus(−f)`` = ``−E log D(G)``
``wgan-gp`` ``E f − E r`` (+ :func:`gradient_penalty`)  ``−E f``
``hinge``   ``E relu(1 − r) + E relu(1 + f)``      ``−E f``
==========  =====================================  ==========================

:data:`ADVERSARIAL_LOSSES` maps the names to :class:`AdversarialLoss` records.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Optional, Union

import torch
import torch.nn.functional as F

from qgm.errors import ConfigError, ParameterError

__all__ = [
    "AdversarialLoss", "ADVERSARIAL_LOSSES", "get_adversarial_loss", "expectation",
    "bce_d_loss", "bce_g_loss", "wgan_d_loss", "wgan_g_loss", "hinge_d_loss", "hinge_g_loss",
    "gradient_penalty",
]

Weights = Optional[torch.Tensor]


def expectation(values: torch.Tensor, weights: Weights = None) -> torch.Tensor:
    """``mean(values)`` or ``Σ w_i values_i`` for per-sample ``values`` ``(m,)`` / ``(m, 1)``."""
    v = values.reshape(-1)
    if weights is None:
        return v.mean()
    w = weights.reshape(-1).to(v.dtype)
    if w.shape != v.shape:
        raise ParameterError(f"weights: expected shape {tuple(v.shape)} like the logits, got {tuple(w.shape)}")
    return (w * v).sum()


def bce_d_loss(real: torch.Tensor, fake: torch.Tensor, real_weights: Weights = None, fake_weights: Weights = None
               ) -> torch.Tensor:
    """``−E log D(x) − E log(1 − D(x̃))`` with ``D = sigmoid(logit)`` (stable softplus form)."""
    return expectation(F.softplus(-real), real_weights) + expectation(F.softplus(fake), fake_weights)


def bce_g_loss(fake: torch.Tensor, weights: Weights = None) -> torch.Tensor:
    """Non-saturating generator loss ``−E log D(x̃)``."""
    return expectation(F.softplus(-fake), weights)


def wgan_d_loss(real: torch.Tensor, fake: torch.Tensor, real_weights: Weights = None, fake_weights: Weights = None
                ) -> torch.Tensor:
    """Critic loss ``E C(x̃) − E C(x)`` (add :func:`gradient_penalty` for WGAN-GP)."""
    return expectation(fake, fake_weights) - expectation(real, real_weights)


def wgan_g_loss(fake: torch.Tensor, weights: Weights = None) -> torch.Tensor:
    """Generator loss ``−E C(x̃)`` (also the hinge GAN's generator loss)."""
    return -expectation(fake, weights)


def hinge_d_loss(real: torch.Tensor, fake: torch.Tensor, real_weights: Weights = None, fake_weights: Weights = None
                 ) -> torch.Tensor:
    """Hinge loss ``E relu(1 − C(x)) + E relu(1 + C(x̃))``."""
    return expectation(F.relu(1.0 - real), real_weights) + expectation(F.relu(1.0 + fake), fake_weights)


hinge_g_loss = wgan_g_loss


def gradient_penalty(
    critic: Callable[[Any], torch.Tensor],
    real: Union[torch.Tensor, tuple[torch.Tensor, ...]],
    fake: Union[torch.Tensor, tuple[torch.Tensor, ...]],
    generator: Optional[torch.Generator] = None,
) -> torch.Tensor:
    """``E (‖∇C(x̂)‖₂ − 1)²`` at ``x̂ = εx + (1 − ε)x̃``, ``ε ~ U[0, 1)`` per pair (Gulrajani et al. 2017).

    ``real`` and ``fake`` are paired samples: tensors ``(m, ...)``, or tuples of such tensors
    (e.g. a graph's adjacency and node features), interpolated with the same ``ε`` per pair;
    the critic receives ``x̂`` in the same structure and the gradient norm runs over all its
    tensors. ``fake`` is detached from its generator; multiply by the penalty weight (10 in
    the paper) yourself.
    """
    reals, fakes = (real, fake) if isinstance(real, tuple) else ((real,), (fake,))
    if not isinstance(fake, type(real)) or len(reals) != len(fakes) or any(
            r.shape != f.shape for r, f in zip(reals, fakes)):
        raise ParameterError(f"gradient_penalty: real {_shapes(real)} and fake {_shapes(fake)} differ")
    m = reals[0].shape[0]
    eps = torch.rand(m, dtype=reals[0].dtype, generator=generator).to(reals[0].device)
    x_hat = tuple(_interpolate(eps.reshape((m,) + (1,) * (r.dim() - 1)), r, f) for r, f in zip(reals, fakes))
    out = critic(x_hat if isinstance(real, tuple) else x_hat[0]).sum()
    grads = torch.autograd.grad(out, x_hat, create_graph=True)
    norms = torch.cat([g.reshape(m, -1) for g in grads], 1).norm(dim=1)
    return ((norms - 1.0) ** 2).mean()


def _interpolate(eps: torch.Tensor, real: torch.Tensor, fake: torch.Tensor) -> torch.Tensor:
    return (eps * real + (1 - eps) * fake.detach()).requires_grad_(True)


def _shapes(x: Any) -> Any:
    return tuple(tuple(t.shape) for t in x) if isinstance(x, tuple) else tuple(x.shape)


@dataclass(frozen=True)
class AdversarialLoss:
    """A named pair of losses; ``penalty`` says whether the gradient penalty belongs to it."""

    name: str
    d_loss: Callable[..., torch.Tensor]
    g_loss: Callable[..., torch.Tensor]
    penalty: bool = False


ADVERSARIAL_LOSSES: dict[str, AdversarialLoss] = {
    "bce": AdversarialLoss("bce", bce_d_loss, bce_g_loss),
    "wgan-gp": AdversarialLoss("wgan-gp", wgan_d_loss, wgan_g_loss, penalty=True),
    "hinge": AdversarialLoss("hinge", hinge_d_loss, hinge_g_loss),
}


def get_adversarial_loss(name: str) -> AdversarialLoss:
    """The loss pair named ``name``; ConfigError listing the known names otherwise."""
    try:
        return ADVERSARIAL_LOSSES[name]
    except KeyError:
        raise ConfigError(f"adversarial loss {name!r} unknown; known: {sorted(ADVERSARIAL_LOSSES)}") from None
