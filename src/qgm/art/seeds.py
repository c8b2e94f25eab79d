"""Quantum latent seeds for a classical generator (the Anadol-style pipeline):
source -> bits -> latent ``z`` -> generator -> image.

* Generator: :class:`DigitVAE`, a small VAE trained on scikit-learn's 8x8 digits with a
  Gaussian latent ``z ~ N(0, I_d)``; its decoder is the generator.
* Bits -> latent (:func:`bits_to_latent`): an ``n = d·k``-bit string is cut into ``d``
  chunks of ``k`` bits (wire 0 first), ``u = (v + 0.5) / 2**k``, ``z = Φ⁻¹(u)``; uniform
  bits give a ``2**k``-level quantised N(0, 1) per coordinate. :func:`latent_to_bits`
  is the matching quantiser ``v = floor(Φ(z) 2**k)``.
* Sources (:data:`SOURCES`): ``"qcbm"``, a Born machine (:class:`qgm.models.QCBM`)
  trained on the quantised latents of the real digits; ``"noise"``, a random
  brickwork circuit sampled under a depolarising + readout :class:`~qgm.sim.NoiseModel`
  (the "hardware noise" of Anadol's *Quantum Memories*, which used random-circuit data);
  ``"gauss"``, the usual ``torch.randn``.

Every draw here is simulated: the "quantum" randomness is PyTorch's pseudo-random
generator pushed through Born probabilities, seeded by ``generator``.
"""
from __future__ import annotations

import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Optional, Union

import torch
from torch import nn

from qgm import sim
from qgm.atomic import atomic_json, atomic_torch_save
from qgm.circuits import brickwork
from qgm.errors import ConfigError, DataError
from qgm.models import QCBM, GenerativeModel
from qgm.sim import Depolarizing, NoiseModel, ReadoutError

__all__ = [
    "SOURCES", "bits_to_latent", "latent_to_bits", "DigitVAE", "train_vae", "train_born_machine",
    "noisy_circuit_probs", "SeedKit", "train_kit", "KIT_FILES",
]

PathLike = Union[str, "os.PathLike[str]"]
SOURCES = ("qcbm", "noise", "gauss")
KIT_FILES = ("kit.json", "vae.pt", "qcbm.pt", "noise.pt")
_NORMAL = torch.distributions.Normal(torch.tensor(0.0, dtype=torch.float64), torch.tensor(1.0, dtype=torch.float64))


def _check_int(name: str, value: object, minimum: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ConfigError(f"{name}: expected an integer >= {minimum}, got {value!r}")
    return value


def bits_to_latent(indices: torch.Tensor, dim: int, bits_per_dim: int) -> torch.Tensor:
    """Basis indices ``(N,)`` of ``dim·bits_per_dim`` bits -> latents ``(N, dim)`` float64,
    ``z_j = Φ⁻¹((v_j + 0.5) / 2**k)`` with ``v_j`` the ``j``-th ``k``-bit chunk (wire 0 first)."""
    k = bits_per_dim
    shifts = torch.arange(dim - 1, -1, -1) * k
    v = (indices.reshape(-1, 1) >> shifts) & ((1 << k) - 1)
    return _NORMAL.icdf((v.to(torch.float64) + 0.5) / (1 << k))


def latent_to_bits(z: torch.Tensor, bits_per_dim: int) -> torch.Tensor:
    """Latents ``(N, dim)`` -> basis indices ``(N,)``: ``v_j = floor(Φ(z_j) 2**k)`` (clamped), chunks MSB first."""
    k = bits_per_dim
    v = torch.floor(_NORMAL.cdf(z.to(torch.float64)) * (1 << k)).clamp(0, (1 << k) - 1).long()
    shifts = torch.arange(z.shape[1] - 1, -1, -1) * k
    return (v << shifts).sum(-1)


class DigitVAE(nn.Module):
    """VAE for flat 8x8 digits ``(N, 64)`` in [0, 1]: encoder ``64 -> hidden -> (μ, log σ²)``, decoder
    ``d -> hidden -> 64`` with a sigmoid (Bernoulli likelihood), prior ``N(0, I_d)``."""

    def __init__(self, latent_dim: int, hidden: int = 128, pixels: int = 64) -> None:
        super().__init__()
        self.latent_dim, self.hidden, self.pixels = latent_dim, hidden, pixels
        self.encoder = nn.Sequential(nn.Linear(pixels, hidden), nn.ReLU(), nn.Linear(hidden, 2 * latent_dim))
        self.decoder = nn.Sequential(nn.Linear(latent_dim, hidden), nn.ReLU(), nn.Linear(hidden, pixels))
        self.double()

    @property
    def config(self) -> dict:
        return {"latent_dim": self.latent_dim, "hidden": self.hidden, "pixels": self.pixels}

    def encode(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Posterior mean and log-variance ``(N, d)`` each."""
        mu, logvar = self.encoder(x).chunk(2, -1)
        return mu, logvar

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """Images ``(N, 64)`` in [0, 1] from latents ``(N, d)``."""
        return torch.sigmoid(self.decoder(z))

    def loss(self, x: torch.Tensor, generator: Optional[torch.Generator]) -> torch.Tensor:
        """Negative ELBO per image (nats): binary cross-entropy + KL to the prior."""
        mu, logvar = self.encode(x)
        z = mu + torch.exp(0.5 * logvar) * torch.randn(mu.shape, dtype=mu.dtype, generator=generator)
        rec = nn.functional.binary_cross_entropy_with_logits(self.decoder(z), x, reduction="sum")
        kl = -0.5 * torch.sum(1 + logvar - mu**2 - logvar.exp())
        return (rec + kl) / x.shape[0]


def train_vae(images: torch.Tensor, latent_dim: int, steps: int, seed: int, *, hidden: int = 128,
              batch_size: int = 128, lr: float = 2e-3) -> DigitVAE:
    """A :class:`DigitVAE` trained by Adam on ``images (N, 64)`` for ``steps`` minibatches (seeded)."""
    _check_int("steps", steps)
    torch.manual_seed(seed)  # nn.Linear's initial weights come from the global generator
    vae = DigitVAE(_check_int("latent_dim", latent_dim), hidden, images.shape[1])
    g = torch.Generator().manual_seed(seed)
    opt = torch.optim.Adam(vae.parameters(), lr=lr)
    for _ in range(steps):
        idx = torch.randint(images.shape[0], (min(batch_size, images.shape[0]),), generator=g)
        opt.zero_grad()
        vae.loss(images[idx], g).backward()
        opt.step()
    return vae.eval()


def train_born_machine(indices: torch.Tensor, n_qubits: int, steps: int, seed: int, *, depth: int = 4,
                       lr: float = 0.05) -> QCBM:
    """A :class:`~qgm.models.QCBM` (hardware-efficient, ring, ``depth`` layers) fitted by Adam to the
    empirical distribution of ``indices`` with the exact KL divergence ``KL(p_data ‖ p_θ)``."""
    if indices.numel() == 0:
        raise DataError("indices: no training bitstrings for the Born machine")
    target = torch.bincount(indices, minlength=1 << n_qubits).to(torch.float64)
    target = target / target.sum()
    model = QCBM({"name": "hardware_efficient", "n_qubits": n_qubits, "depth": depth, "entangler": "ring"},
                 init="small", seed=seed)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    support = target > 0
    for _ in range(_check_int("steps", steps)):
        opt.zero_grad()
        p = model.probs()
        loss = (target[support] * (target[support].log() - p[support].clamp_min(1e-300).log())).sum()
        loss.backward()
        opt.step()
    return model


def noisy_circuit_probs(n_qubits: int, seed: int, *, depth: Optional[int] = None, p1: float = 0.01,
                        p2: float = 0.05, readout: float = 0.02) -> torch.Tensor:
    """Measured probabilities ``(2**n,)`` of a random brickwork circuit (RY/RZ angles uniform in
    ``[0, 2π)``, CZ bricks, ``depth`` = ``n`` layers by default) under depolarising noise ``p1`` after
    one-qubit gates, ``p2`` after CZ and a symmetric readout error: a simulated noisy random-circuit
    experiment, the kind of data *Quantum Memories* was seeded with."""
    circuit = brickwork(n_qubits, depth or n_qubits)
    g = torch.Generator().manual_seed(seed)
    angles = 2 * math.pi * torch.rand(circuit.n_params, dtype=torch.float64, generator=g)
    noise = (NoiseModel().add_gate_noise(Depolarizing(p1), gates="1q")
             .add_gate_noise(Depolarizing(p2, n_qubits=2), gates="2q").add_readout(ReadoutError(readout, readout)))
    return sim.noisy_probs(circuit, angles, noise=noise).detach()


@dataclass
class SeedKit:
    """A trained generator and its latent sources (see the module docstring)."""

    vae: DigitVAE
    qcbm: QCBM
    noise_probs: torch.Tensor
    bits_per_dim: int
    seed: int

    @property
    def latent_dim(self) -> int:
        return self.vae.latent_dim

    def latents(self, source: str, n: int, generator: Optional[torch.Generator] = None) -> torch.Tensor:
        """``n`` latents ``(n, d)`` from ``source`` (``"qcbm"``, ``"noise"`` or ``"gauss"``)."""
        if source not in SOURCES:
            raise ConfigError(f"source: expected one of {', '.join(SOURCES)}, got {source!r}")
        _check_int("n", n)
        if source == "gauss":
            return torch.randn(n, self.latent_dim, dtype=torch.float64, generator=generator)
        if source == "qcbm":
            bits = self.qcbm.sample(n, generator=generator)
        else:
            bits = torch.multinomial(self.noise_probs, n, replacement=True, generator=generator)
        return bits_to_latent(bits, self.latent_dim, self.bits_per_dim)

    @torch.no_grad()
    def generate(self, source: str, n: int, generator: Optional[torch.Generator] = None) -> torch.Tensor:
        """``n`` generated digits ``(n, 64)`` in [0, 1] seeded by latents from ``source``."""
        return self.vae.decode(self.latents(source, n, generator))

    def save(self, folder: PathLike) -> Path:
        """Write ``kit.json``, ``vae.pt``, ``qcbm.pt`` and ``noise.pt`` into ``folder`` (atomically)."""
        out = Path(folder)
        out.mkdir(parents=True, exist_ok=True)
        atomic_json(out / "kit.json", {"bits_per_dim": self.bits_per_dim, "seed": self.seed, "vae": self.vae.config})
        atomic_torch_save(self.vae.state_dict(), out / "vae.pt")
        self.qcbm.save(out / "qcbm.pt")
        atomic_torch_save(self.noise_probs, out / "noise.pt")
        return out

    @classmethod
    def load(cls, folder: PathLike) -> "SeedKit":
        """The kit saved in ``folder`` (a ConfigError naming the missing file otherwise)."""
        import json

        path = Path(folder)
        missing = [f for f in KIT_FILES if not (path / f).is_file()]
        if missing:
            raise ConfigError(f"RUN: {str(path)!r} has no seed kit ({', '.join(missing)} missing); "
                              "make one with `qgm art train-seeds RUN`")
        meta = json.loads((path / "kit.json").read_text())
        vae = DigitVAE(**meta["vae"])
        vae.load_state_dict(torch.load(path / "vae.pt", weights_only=True))
        qcbm = GenerativeModel.load(path / "qcbm.pt")
        noise = torch.load(path / "noise.pt", weights_only=True)
        return cls(vae.eval(), qcbm, noise, int(meta["bits_per_dim"]), int(meta["seed"]))


def train_kit(images: torch.Tensor, *, seed: int, latent_dim: int = 3, bits_per_dim: int = 3, vae_steps: int = 3000,
              qcbm_steps: int = 300, qcbm_depth: int = 4) -> SeedKit:
    """Train the VAE on ``images (N, 64)``, fit the Born machine to the quantised posterior means of the
    same images, and simulate the noisy random circuit; all seeded by ``seed``."""
    n_qubits = latent_dim * _check_int("bits_per_dim", bits_per_dim)
    vae = train_vae(images, latent_dim, vae_steps, seed)
    with torch.no_grad():
        codes = latent_to_bits(vae.encode(images)[0], bits_per_dim)
    qcbm = train_born_machine(codes, n_qubits, qcbm_steps, seed, depth=qcbm_depth)
    return SeedKit(vae, qcbm, noisy_circuit_probs(n_qubits, seed), bits_per_dim, seed)
