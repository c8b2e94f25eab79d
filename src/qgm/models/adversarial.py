"""The two-player machinery every GAN here shares: the QGAN, the patch QGAN, the
classical GAN baseline and the molecular GANs.

:class:`AdversarialModel` holds a **generator** (the GAN player that makes fake
data; "generator" means the player only, random-number generators are called
``rng`` here) and a **discriminator** ``nn.Module`` (logits ``(m, 1)`` of its
inputs), and owns its objective (:mod:`qgm.models.base`): players
``{"discriminator": d_steps, "generator": g_steps}`` in that order, each update
seeing the same data batch; ``objective(batch, "discriminator")`` scores the
real batch against fresh fakes (generator frozen) with one of
:data:`~qgm.losses.adversarial.ADVERSARIAL_LOSSES` (+ the gradient penalty for
WGAN-GP), ``objective(batch, "generator")`` scores fresh fakes against the
frozen discriminator. The Trainer steps one optimizer per player.

A generator player is an ``nn.Module`` with

* ``fake(m, rng) -> (x, weights | None)``: discriminator inputs of generated data
  (a tensor ``(k, ...)`` or a tuple of tensors), differentiable in the player's
  parameters; ``weights`` ``(k,)`` is the distribution over the ``k`` rows (None =
  ``k = m`` i.i.d. samples);
* ``real(batch) -> (x, weights | None)``: the discriminator inputs of a data batch;
* ``draw(n, rng)``: ``n`` samples in the model's space;
* ``probs(shots=, generator=)`` (discrete players only).

This module also holds the data side shared by the players: the discrete points
of bit data (:class:`PointsMixin`, :func:`discrete_points`), continuous batches,
and the data-derived discriminator settings of the QGAN and GAN factories.
"""
from __future__ import annotations

import contextlib
import math
from typing import Any, Iterator, Optional, Union

import numpy as np
import torch
from torch import nn

from qgm.errors import ConfigError, ParameterError
from qgm.losses.adversarial import get_adversarial_loss, gradient_penalty
from qgm.losses.base import histogram, target_distribution
from qgm.models.base import GenerativeModel, ModelTags, basis_bits, check_n_samples, sample_from_probs
from qgm.optim import build_optimizer

__all__ = [
    "AdversarialModel", "PointsMixin", "DEFAULT_OPTIMIZERS", "DEFAULT_DISCRIMINATOR", "PLAYERS", "frozen",
    "continuous_batch", "discrete_points", "data_points", "data_standardisation", "output_box",
    "discriminator_spec", "bit_data_discriminator",
]

#: The players in update order.
PLAYERS = ("discriminator", "generator")
#: Optimizers used for a player the config's ``optimizer`` section leaves out.
DEFAULT_OPTIMIZERS: dict[str, dict[str, Any]] = {
    "generator": {"name": "adam", "lr": 0.01},
    "discriminator": {"name": "adam", "lr": 0.01},
}
DEFAULT_DISCRIMINATOR: dict[str, Any] = {"name": "mlp", "hidden": [50, 20], "activation": "leaky_relu"}

Inputs = Union[torch.Tensor, tuple[torch.Tensor, ...]]
Side = tuple[Inputs, Optional[torch.Tensor]]


def positive_int(value: Any, field: str) -> int:
    """``value`` as a positive int; a ConfigError naming ``field`` otherwise."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ConfigError(f"{field}: expected a positive integer, got {value!r}")
    return int(value)


@contextlib.contextmanager
def frozen(module: nn.Module) -> Iterator[None]:
    """Temporarily stop gradients into ``module``'s parameters (inputs still get theirs)."""
    flags = [p.requires_grad for p in module.parameters()]
    for p in module.parameters():
        p.requires_grad_(False)
    try:
        yield
    finally:
        for p, flag in zip(module.parameters(), flags):
            p.requires_grad_(flag)


def _rows(x: Inputs) -> int:
    return int((x[0] if isinstance(x, tuple) else x).shape[0])


def _take(x: Inputs, index: torch.Tensor) -> Inputs:
    return tuple(t[index.to(t.device)] for t in x) if isinstance(x, tuple) else x[index.to(x.device)]


def _paired_draws(side: Side, m: int, rng: torch.Generator) -> Inputs:
    """``m`` rows of a side: i.i.d. draws from its weights if given, else its first ``m`` rows."""
    x, w = side
    if w is None:
        return _take(x, torch.arange(m))
    return _take(x, sample_from_probs(w.detach().cpu(), m, rng))


def _mean(logits: torch.Tensor, weights: Optional[torch.Tensor]) -> torch.Tensor:
    v = logits.reshape(-1)
    return v.mean() if weights is None else (weights.reshape(-1).to(v.dtype) * v).sum()


class AdversarialModel(GenerativeModel):
    """Generator player + discriminator with a model-owned two-player objective.

    Args:
        generator: the generator player (see the module docstring).
        discriminator: logits ``(m, 1)`` of inputs shaped like the player's fakes.
        loss: ``"bce"`` (non-saturating), ``"wgan-gp"`` or ``"hinge"``.
        d_steps, g_steps: discriminator and generator updates per training step
            (the step ratio; e.g. ``d_steps=5`` for WGAN-GP's n_critic). Every
            discriminator update in a step sees the same data batch and fresh fakes.
        gp_weight: gradient-penalty weight λ (WGAN-GP only).
        gp_samples: interpolation pairs of the penalty when a side is weighted (discrete).
        seed: seed of the model's own random stream ``rng`` (fresh fakes, penalty ε, shots);
            its state travels in ``state_dict`` so a resumed run continues bit-exactly.
    """

    def __init__(
        self,
        generator: nn.Module,
        discriminator: nn.Module,
        loss: str = "bce",
        d_steps: int = 1,
        g_steps: int = 1,
        gp_weight: float = 10.0,
        gp_samples: int = 256,
        seed: int = 0,
    ) -> None:
        super().__init__()
        self.adversarial = get_adversarial_loss(loss)
        self.d_steps = positive_int(d_steps, "d_steps")
        self.g_steps = positive_int(g_steps, "g_steps")
        self.gp_samples = positive_int(gp_samples, "gp_samples")
        if not gp_weight >= 0:
            raise ConfigError(f"gp_weight: expected a number >= 0, got {gp_weight!r}")
        self.gp_weight = float(gp_weight)
        self.generator = generator
        self.discriminator = discriminator
        # offset: the training stream must not replay the initial-weight draws seeded by ``seed``
        self.rng = torch.Generator().manual_seed(int(seed) + 0x9E3779B9)

    @property
    def config(self) -> dict[str, Any]:
        """A copy of the hyper-parameters the subclass's constructor recorded in ``_config``."""
        return dict(self._config)

    @property
    def tags(self) -> ModelTags:  # type: ignore[override]
        discrete = hasattr(self.generator, "probs")
        shots = discrete and getattr(self.generator, "circuit", None) is not None
        return ModelTags(exact_probs=discrete, differentiable_shots=shots, owns_objective=True)

    def probs(self, *, shots: Optional[int] = None, generator: Optional[torch.Generator] = None) -> torch.Tensor:
        """Generator distribution ``(2**n,)`` (discrete players only)."""
        if not self.tags.exact_probs:
            return super().probs(shots=shots, generator=generator)
        return self.generator.probs(shots=shots, generator=generator)

    def sample(self, n: int, *, generator: Optional[torch.Generator] = None) -> Any:
        """``n`` samples of the generator player, in the model's space."""
        check_n_samples(n)
        with torch.no_grad():
            return self.generator.draw(n, generator)

    def get_extra_state(self) -> torch.Tensor:
        return self.rng.get_state()

    def set_extra_state(self, state: torch.Tensor) -> None:
        self.rng.set_state(state)

    # -- players and their optimizers -------------------------------------------------------
    def players(self) -> dict[str, int]:
        """``{"discriminator": d_steps, "generator": g_steps}`` (discriminator first)."""
        return {"discriminator": self.d_steps, "generator": self.g_steps}

    def player_parameters(self, player: str) -> list[nn.Parameter]:
        """Trainable parameters of ``player``."""
        module = {"generator": self.generator, "discriminator": self.discriminator}[player]
        return [p for p in module.parameters() if p.requires_grad]

    def default_optimizers(self) -> dict[str, dict[str, Any]]:
        """Optimizer specs of the players the config leaves out."""
        return DEFAULT_OPTIMIZERS

    def configure_optimizers(self, spec: Any = None) -> dict[str, torch.optim.Optimizer]:
        """``{"generator": opt, "discriminator": opt}`` from the config's per-player ``optimizer``
        section (missing players get :meth:`default_optimizers`), built by ``qgm.optim.build_optimizer``."""
        spec = dict(spec or {})
        if "name" in spec:
            raise ConfigError("optimizer: adversarial models take one optimizer per player, e.g. "
                              "{generator: {name: adam, lr: 0.01}, discriminator: {name: adam, lr: 0.01}}")
        unknown = sorted(set(spec) - set(PLAYERS))
        if unknown:
            raise ConfigError(f"optimizer: adversarial models take sections {sorted(PLAYERS)}, got unknown {unknown}")
        defaults = self.default_optimizers()
        specs = {role: dict(spec.get(role, defaults[role])) for role in PLAYERS}
        circuit = getattr(self.generator, "circuit", None)
        if specs["generator"].get("name") == "qng" and circuit is not None and circuit.n_inputs:
            # the metric of a circuit with latent inputs is averaged over a fixed latent batch
            specs["generator"].setdefault("inputs", self.generator.latent(16, torch.Generator().manual_seed(0)))
        return {role: build_optimizer(self.player_parameters(role), specs[role], model=self.generator)
                for role in DEFAULT_OPTIMIZERS}

    # -- the objective ------------------------------------------------------------------------
    def objective(self, batch: Any, player: str) -> dict[str, torch.Tensor]:
        """The losses of one update of ``player`` on the data ``batch`` (see the module docstring).

        Discriminator: ``loss`` (with the penalty), ``loss_d``, ``d_real`` / ``d_fake`` (mean
        logits) and, for WGAN-GP, ``gradient_penalty``; generator: ``loss`` = ``loss_g``.
        """
        if player == "discriminator":
            return self._discriminator_objective(self.generator.real(batch))
        if player == "generator":
            return self._generator_objective(_rows(self.generator.real(batch)[0]))
        raise ConfigError(f"player: expected one of {PLAYERS}, got {player!r}")

    def penalty(self, real: Side, fake: Side) -> torch.Tensor:
        """Gradient penalty on ``m`` paired draws from the real and fake sides."""
        m = self.gp_samples if real[1] is not None or fake[1] is not None else min(_rows(real[0]), _rows(fake[0]))
        x_r = _paired_draws(real, m, self.rng)
        x_f = _paired_draws(fake, m, self.rng)
        return gradient_penalty(self.discriminator, x_r, x_f, generator=self.rng)

    def _discriminator_objective(self, real: Side) -> dict[str, torch.Tensor]:
        with torch.no_grad():
            fake = self.generator.fake(_rows(real[0]), self.rng)
        r_logits, f_logits = self.discriminator(real[0]), self.discriminator(fake[0])
        d_loss = self.adversarial.d_loss(r_logits, f_logits, real[1], fake[1])
        out = {"loss": d_loss, "loss_d": d_loss.detach()}
        if self.adversarial.penalty and self.gp_weight > 0:
            gp = self.penalty(real, fake)
            out["loss"] = d_loss + self.gp_weight * gp
            out["gradient_penalty"] = gp.detach()
        out["d_real"] = _mean(r_logits.detach(), real[1])
        out["d_fake"] = _mean(f_logits.detach(), fake[1])
        return out

    def _generator_objective(self, m: int) -> dict[str, torch.Tensor]:
        x, w = self.generator.fake(m, self.rng)
        with frozen(self.discriminator):
            loss = self.adversarial.g_loss(self.discriminator(x), w)
        return {"loss": loss, "loss_g": loss.detach()}


# -- the data side -------------------------------------------------------------------------
def continuous_batch(batch: Optional[torch.Tensor], dim: int) -> tuple[torch.Tensor, None]:
    """A float data batch ``(m, dim)`` validated (continuous data have no exact target)."""
    if batch is None:
        raise ConfigError("train.batch_size: continuous data have no exact target; set a batch size in the config")
    if not isinstance(batch, torch.Tensor) or batch.dim() != 2 or batch.shape[1] != dim:
        raise ParameterError(f"batch: expected a float tensor (m, {dim}), got {tuple(getattr(batch, 'shape', ()))}")
    return batch.to(torch.float64), None


class PointsMixin(nn.Module):
    """Discrete data side: ``points`` ``(2**n, d)`` and the exact ``target`` ``(2**n,)`` as buffers."""

    points: torch.Tensor
    target: torch.Tensor

    def set_points(self, points: torch.Tensor, target: torch.Tensor) -> None:
        self.register_buffer("points", points.to(torch.float64))
        self.register_buffer("target", target.to(torch.float64))

    def real(self, batch: Optional[torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor]:
        """All points, weighted by the batch histogram (or the exact target for ``batch=None``)."""
        n_bits = int(round(math.log2(self.points.shape[0])))
        w = self.target if batch is None else histogram(batch.cpu(), n_bits).to(self.points.device)
        return self.points, w

    def draw(self, n: int, rng: Optional[torch.Generator]) -> torch.Tensor:
        return sample_from_probs(self.probs(), n, rng)


def discrete_points(n: int, points: Any, target: Any) -> tuple[torch.Tensor, torch.Tensor]:
    """Validated points ``(2**n, d)`` (None = the bits) and target ``(2**n,)`` (None = uniform) of ``n`` bits."""
    pts = basis_bits(n) if points is None else torch.as_tensor(np.asarray(points, dtype=np.float64))
    if pts.dim() == 1:
        pts = pts[:, None]
    if pts.dim() != 2 or pts.shape[0] != 1 << n:
        raise ConfigError(
            f"points: expected one row per basis state, shape ({1 << n}, d) for {n} qubits, got {tuple(pts.shape)}"
        )
    if target is None:
        return pts, torch.full((1 << n,), 1.0 / (1 << n), dtype=torch.float64)
    tgt = torch.as_tensor(np.asarray(target, dtype=np.float64))
    if tgt.shape != (1 << n,):
        raise ConfigError(f"target: expected {1 << n} probabilities for {n} qubits, got {tuple(tgt.shape)}")
    return pts, tgt


def data_points(dataset: Any, disc_input: str) -> Optional[list[list[float]]]:
    """Discriminator inputs of all basis states: decoded values (``"values"``) or None (bits)."""
    if disc_input == "bits":
        return None
    if disc_input != "values":
        raise ConfigError(f"disc_input must be 'values' or 'bits', got {disc_input!r}")
    values = np.asarray(dataset.decode(torch.arange(1 << dataset.n_bits)), dtype=np.float64)
    return values.reshape(1 << dataset.n_bits, -1).tolist()


def data_standardisation(x: np.ndarray, weights: Optional[np.ndarray] = None) -> dict[str, list[float]]:
    """``{"shift": mean, "scale": std}`` per feature of rows ``x`` ``(m, d)`` (optionally weighted)."""
    w = np.full(len(x), 1.0 / len(x)) if weights is None else np.asarray(weights, dtype=np.float64)
    mean = w @ x
    std = np.sqrt(np.maximum(w @ (x - mean) ** 2, 0.0))
    return {"shift": mean.tolist(), "scale": np.where(std > 1e-12, std, 1.0).tolist()}


def output_box(train: np.ndarray, margin: float = 0.1) -> tuple[list[float], list[float]]:
    """Centre and half-width (widened by ``margin``) of the data's bounding box, per feature."""
    lo, hi = train.min(0), train.max(0)
    half = np.maximum((hi - lo) / 2 * (1 + margin), 1e-6)
    return ((lo + hi) / 2).tolist(), half.tolist()


def discriminator_spec(spec: Optional[dict[str, Any]], standardisation: dict[str, list[float]]) -> dict[str, Any]:
    """The spec (default :data:`DEFAULT_DISCRIMINATOR`) with the data's shift/scale filled in for ``mlp``."""
    out = dict(DEFAULT_DISCRIMINATOR if spec is None else spec)
    if out.get("name") == "mlp":
        for key, value in standardisation.items():
            out.setdefault(key, value)
    return out


def bit_data_discriminator(
    dataset: Any, disc_input: str, discriminator: Optional[dict[str, Any]]
) -> tuple[Optional[list[list[float]]], torch.Tensor, dict[str, Any]]:
    """A bit dataset's discriminator inputs ``points`` (:func:`data_points`), its target ``(2**n,)``
    and the discriminator spec standardised on the target-weighted points (basis bits if ``points`` is None)."""
    points = data_points(dataset, disc_input)
    target = target_distribution(dataset)
    x = np.asarray(points) if points is not None else basis_bits(dataset.n_bits).numpy()
    return points, target, discriminator_spec(discriminator, data_standardisation(x, target.numpy()))
