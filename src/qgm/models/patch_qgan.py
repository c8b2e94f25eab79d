"""Patch quantum GAN for images (Huang et al., arXiv:2010.06201; PennyLane demo ``tutorial_quantum_gans``).

``n_generators`` sub-generators share one latent vector ``z ∈ [0, latent_range)^n_qubits``
(uniform). Sub-generator ``g`` runs on ``n_qubits`` wires

    RY(z_i) on every wire;  q_depth × [ RY(θ_{g,l,i}) on every wire; CZ(i, i+1) chain ]

and measures all wires. The first ``n_ancilla`` wires are ancillas (wire 0 = most
significant bit, so "ancillas = 0" are the first ``2**(n_qubits - n_ancilla)``
basis indices). Post-selection on ancillas = 0 is the non-linearity:

    g(x) = P(x, anc = 0) / P(anc = 0)          (true conditioning, sums to 1)
    patch = g / max_x g(x)                      (pixels in [0, 1], max 1, as in the demo)

and the image is the concatenation of the ``n_generators`` patches of
``2**(n_qubits - n_ancilla)`` pixels each. All sub-generators and the whole latent
batch run as one engine call: parameters ``(n_generators, 1, n_params)`` broadcast
against latents ``(1, batch, n_qubits)``.

Contract notes: the model generates ``Images(h, w)`` (``h * w = n_pixels``):
:meth:`PatchQGAN.sample` returns flat images ``(n, n_pixels)`` float64 in [0, 1];
it has no exact probabilities. The model is a
:class:`qgm.models.adversarial.AdversarialModel` whose generator is :class:`PatchGenerator`; the
classical discriminator (``model.discriminator``, logits, default MLP
``n_pixels→64→16→1`` ReLU as in the demo) is part of the module, so ``save``/``load``
keep both players. Training is adversarial through the model-owned objective
(non-saturating BCE, the demo's SGD ``lr_G = 0.3``, ``lr_D = 0.01`` by default).
"""
from __future__ import annotations

import math
from typing import Any, Optional, Sequence

import torch
from torch import nn

from qgm import sim
from qgm.circuits import Circuit, In, P
from qgm.errors import ConfigError, ParameterError
from qgm.models.adversarial import AdversarialModel, continuous_batch
from qgm.models.base import check_n_samples
from qgm.models.discriminators import build_discriminator
from qgm.registry import MODELS
from qgm.sim.diff import canonical_diff_method
from qgm.spaces import Images

__all__ = [
    "PatchQGAN", "PatchGenerator", "patch_circuit", "postselect", "max_normalise",
    "DEFAULT_DISCRIMINATOR", "DEFAULT_OPTIMIZERS",
]

#: The demo's discriminator ``64 → 64 → 16 → 1`` with ReLU (logits; the BCE applies the sigmoid).
DEFAULT_DISCRIMINATOR: dict[str, Any] = {"name": "mlp", "hidden": [64, 16], "activation": "relu"}
#: The demo's optimizers (plain SGD).
DEFAULT_OPTIMIZERS: dict[str, dict[str, Any]] = {
    "generator": {"name": "sgd", "lr": 0.3},
    "discriminator": {"name": "sgd", "lr": 0.01},
}


def patch_circuit(n_qubits: int, q_depth: int) -> Circuit:
    """Sub-generator circuit: input slots ``z0..z{n-1}`` (RY), then ``q_depth`` layers of
    RY(``w{l}_{i}``) on every wire and a CZ chain ``(i, i+1)``; ``n_qubits * q_depth`` parameters
    ordered layer-major (``w{l}_{i}`` at index ``l * n_qubits + i``, as the demo's reshape)."""
    c = Circuit(n_qubits)
    for i in range(n_qubits):
        c = c.ry(i, In(f"z{i}"))
    for layer in range(q_depth):
        for i in range(n_qubits):
            c = c.ry(i, P(f"w{layer}_{i}"))
        for i in range(n_qubits - 1):
            c = c.cz(i, i + 1)
    return c


def postselect(probs: torch.Tensor, n_ancilla: int) -> torch.Tensor:
    """Conditional distribution ``P(x | ancillas = 0)`` ``(..., 2**(n - n_ancilla))`` of full
    probabilities ``probs`` ``(..., 2**n)`` whose first ``n_ancilla`` wires are the ancillas.

    A zero ``P(ancillas = 0)`` is clamped to the smallest normal float (the patch is then 0).
    """
    keep = probs.shape[-1] >> n_ancilla
    kept = probs[..., :keep]
    return kept / kept.sum(-1, keepdim=True).clamp_min(torch.finfo(probs.dtype).tiny)


def max_normalise(patch: torch.Tensor) -> torch.Tensor:
    """``patch / max(patch)`` over the last axis (pixels in [0, 1]; an all-zero patch stays 0)."""
    return patch / patch.amax(-1, keepdim=True).clamp_min(torch.finfo(patch.dtype).tiny)


def _positive_int(value: Any, field: str, minimum: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ConfigError(f"{field}: expected an integer >= {minimum}, got {value!r}")
    return value


class PatchGenerator(nn.Module):
    """The generator player (see :mod:`qgm.models.qgan`): ``n_generators`` sub-generator circuits
    sharing one latent, weights ``(n_generators, n_qubits * q_depth)`` uniform in ``[0, init_scale)``."""

    def __init__(
        self, n_generators: int, n_qubits: int, n_ancilla: int, q_depth: int, latent_range: float,
        init_scale: float, diff_method: str, seed: int,
    ) -> None:
        super().__init__()
        self.circuit = patch_circuit(n_qubits, q_depth)
        self.n_generators, self.n_qubits, self.n_ancilla = n_generators, n_qubits, n_ancilla
        self.patch_size = 1 << (n_qubits - n_ancilla)
        self.n_pixels = n_generators * self.patch_size
        self.latent_range, self.diff_method = latent_range, diff_method
        gen = torch.Generator().manual_seed(seed)
        self.weights = nn.Parameter(
            init_scale * torch.rand(n_generators, self.circuit.n_params, dtype=torch.float64, generator=gen)
        )

    def latent(self, m: int, rng: Optional[torch.Generator] = None) -> torch.Tensor:
        """``m`` latent vectors ``(m, n_qubits)`` uniform in ``[0, latent_range)`` (float64)."""
        check_n_samples(m)
        return self.latent_range * torch.rand(m, self.n_qubits, dtype=torch.float64, generator=rng)

    def patches(self, z: torch.Tensor) -> torch.Tensor:
        """Max-normalised patches ``(n_generators, batch, patch_size)`` of latents ``z`` ``(batch, n_qubits)``
        (one engine call for all sub-generators and the whole batch; differentiable in the weights)."""
        if not isinstance(z, torch.Tensor) or z.ndim != 2 or z.shape[-1] != self.n_qubits:
            raise ParameterError(
                f"z: expected latents of shape (batch, {self.n_qubits}), got {tuple(getattr(z, 'shape', ()))}"
            )
        p = sim.probs(self.circuit, self.weights[:, None, :], z[None].to(self.weights.device),
                      diff_method=self.diff_method)
        return max_normalise(postselect(p, self.n_ancilla))

    def generate(self, z: torch.Tensor) -> torch.Tensor:
        """Images ``(batch, n_pixels)`` of latents ``z`` ``(batch, n_qubits)``: patch ``g`` fills
        pixels ``g * patch_size … (g + 1) * patch_size − 1``."""
        return self.patches(z).permute(1, 0, 2).reshape(z.shape[0], self.n_pixels)

    def fake(self, m: int, rng: torch.Generator) -> tuple[torch.Tensor, None]:
        return self.generate(self.latent(m, rng)), None

    def draw(self, n: int, rng: Optional[torch.Generator]) -> torch.Tensor:
        return self.generate(self.latent(n, rng))

    def real(self, batch: Optional[torch.Tensor]) -> tuple[torch.Tensor, None]:
        return continuous_batch(batch, self.n_pixels)


class PatchQGAN(AdversarialModel):
    """Patch QGAN: quantum sub-generators with ancilla post-selection vs a classical discriminator.

    Args:
        n_pixels: pixels per image (8×8 digits: 64); must equal
            ``n_generators * 2**(n_qubits - n_ancilla)``.
        n_generators: sub-generators (None: ``n_pixels / 2**(n_qubits - n_ancilla)``).
        n_qubits: wires per sub-generator, ancillas included (demo: 5).
        n_ancilla: post-selected ancilla wires, the first ones (demo: 1).
        q_depth: RY + CZ-chain layers (demo: 6).
        discriminator: spec of :func:`qgm.models.discriminators.build_discriminator`
            (default :data:`DEFAULT_DISCRIMINATOR`).
        loss, d_steps, g_steps, gp_weight: see :class:`qgm.models.qgan.AdversarialModel`
            (default non-saturating ``"bce"``, one update of each player per step, as the demo).
        latent_range: latents are uniform in ``[0, latent_range)`` (demo: π/2).
        init_scale: generator angles start uniform in ``[0, init_scale)`` (demo: 1).
        diff_method: engine gradient method.
        seed: seed of the initial angles, the discriminator and the model's random stream (fakes).
        image_shape: ``[h, w]`` of the images (default: square).

    The step follows :meth:`AdversarialModel.training_step`: the discriminator update sees
    fresh fakes, then the generator update draws new ones (the demo reuses one batch of fakes
    for both; the distributions are the same). QNG does not apply (the weights are a
    ``(n_generators, n_params)`` stack of independent circuits).
    """

    def __init__(
        self,
        n_pixels: int = 64,
        n_generators: Optional[int] = None,
        n_qubits: int = 5,
        n_ancilla: int = 1,
        q_depth: int = 6,
        discriminator: Optional[dict[str, Any]] = None,
        loss: str = "bce",
        d_steps: int = 1,
        g_steps: int = 1,
        gp_weight: float = 10.0,
        latent_range: float = math.pi / 2,
        init_scale: float = 1.0,
        diff_method: str = "backprop",
        seed: int = 0,
        image_shape: Optional[Sequence[int]] = None,
    ) -> None:
        n_pixels = _positive_int(n_pixels, "n_pixels")
        n_qubits = _positive_int(n_qubits, "n_qubits")
        n_ancilla = _positive_int(n_ancilla, "n_ancilla", 0)
        q_depth = _positive_int(q_depth, "q_depth")
        if n_ancilla >= n_qubits:
            raise ConfigError(f"n_ancilla={n_ancilla} must be < n_qubits={n_qubits} (a patch needs data wires)")
        patch = 1 << (n_qubits - n_ancilla)
        if n_generators is None:
            if n_pixels % patch:
                raise ConfigError(
                    f"n_pixels={n_pixels} does not divide into patches of 2**(n_qubits - n_ancilla)={patch} pixels; "
                    "change n_qubits/n_ancilla"
                )
            n_generators = n_pixels // patch
        n_generators = _positive_int(n_generators, "n_generators")
        if n_generators * patch != n_pixels:
            raise ConfigError(
                f"n_generators={n_generators} patches of {patch} pixels give {n_generators * patch} pixels, "
                f"the images have n_pixels={n_pixels}; set n_generators={n_pixels / patch:g} or change n_qubits"
            )
        diff_method = canonical_diff_method(diff_method)
        if not latent_range > 0 or not init_scale >= 0:
            raise ConfigError(f"latent_range (>0) / init_scale (>=0): got {latent_range!r} / {init_scale!r}")
        disc_spec = dict(DEFAULT_DISCRIMINATOR if discriminator is None else discriminator)
        player = PatchGenerator(n_generators, n_qubits, n_ancilla, q_depth, float(latent_range), float(init_scale),
                                diff_method, int(seed))
        super().__init__(player, build_discriminator(disc_spec, n_pixels, seed=int(seed)),
                         loss, d_steps, g_steps, gp_weight, seed=int(seed))
        self.space = image_space(n_pixels, image_shape)
        self._config = {
            "n_pixels": n_pixels, "n_generators": n_generators, "n_qubits": n_qubits, "n_ancilla": n_ancilla,
            "q_depth": q_depth, "discriminator": disc_spec, "loss": loss, "d_steps": self.d_steps,
            "g_steps": self.g_steps, "gp_weight": self.gp_weight, "latent_range": float(latent_range),
            "init_scale": float(init_scale), "diff_method": diff_method, "seed": int(seed),
            "image_shape": [self.space.h, self.space.w],
        }

    @property
    def circuit(self) -> Circuit:
        """One sub-generator's circuit (all share it; their weights differ)."""
        return self.generator.circuit

    def generate(self, z: torch.Tensor) -> torch.Tensor:
        """Images ``(batch, n_pixels)`` of latents ``z`` ``(batch, n_qubits)`` (differentiable)."""
        return self.generator.generate(z)

    def latent(self, n: int, rng: Optional[torch.Generator] = None) -> torch.Tensor:
        """``n`` latents ``(n, n_qubits)`` uniform in ``[0, latent_range)``."""
        return self.generator.latent(n, rng)

    def default_optimizers(self) -> dict[str, dict[str, Any]]:
        """The demo's :data:`DEFAULT_OPTIMIZERS` (SGD 0.3 / 0.01) for players the config leaves out."""
        return DEFAULT_OPTIMIZERS


def image_space(n_pixels: int, shape: Optional[Sequence[int]]) -> Images:
    """``Images(h, w)`` of ``n_pixels`` pixels: ``shape`` if given, else square, else one row."""
    if shape is None:
        side = math.isqrt(n_pixels)
        return Images(side, side) if side * side == n_pixels else Images(1, n_pixels)
    if len(shape) != 2 or shape[0] * shape[1] != n_pixels:
        raise ConfigError(f"image_shape: expected [h, w] with h * w = n_pixels = {n_pixels}, got {list(shape)!r}")
    return Images(int(shape[0]), int(shape[1]))


@MODELS.register("patch_qgan", accepts=(Images,))
def patch_qgan(
    dataset: Any,
    n_generators: Optional[int] = None,
    n_qubits: int = 5,
    n_ancilla: int = 1,
    q_depth: int = 6,
    discriminator: Optional[dict[str, Any]] = None,
    loss: str = "bce",
    d_steps: int = 1,
    g_steps: int = 1,
    gp_weight: float = 10.0,
    latent_range: float = math.pi / 2,
    init_scale: float = 1.0,
    diff_method: str = "backprop",
    seed: int = 0,
) -> PatchQGAN:
    """Registered factory: a :class:`PatchQGAN` on the dataset's ``Images(h, w)``."""
    space = dataset.space
    if not isinstance(space, Images) or space.channels != 1:
        raise ConfigError(f"patch_qgan needs one-channel Images data, got {space.describe()}")
    return PatchQGAN(
        space.n_pixels, n_generators, n_qubits, n_ancilla, q_depth, discriminator, loss,
        d_steps, g_steps, gp_weight, latent_range, init_scale, diff_method, seed, [space.h, space.w],
    )
