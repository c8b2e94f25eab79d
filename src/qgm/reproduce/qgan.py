"""Quantum GAN claims: Zoufal et al.'s log-normal loading and the patch QGAN on 8x8 digits.

* **Zoufal, Lucchi & Woerner**, "Quantum generative adversarial networks for learning and
  loading random distributions", npj Quantum Information 5, 103 (2019), arXiv:1904.00043.
  Their data are 20 000 samples of LogNormal(1, 1) *rounded* to integers, those above 7
  dropped (``p(0) ≈ 0.054``); the generator (H, then TwoLocal RY/CZ with 2 repetitions on 3
  qubits) is measured with shots. We use that discretisation (``lognormal_zoufal``,
  ``discretisation: round``) and a generator whose loss uses the frequencies of 10 000 shots
  per evaluation (parameter-shift gradients). Reported: the Kolmogorov-Smirnov statistic and
  the relative entropy KL(target‖model) of the trained generator's exact distribution against
  that rounded target (the paper: KS 0.0607, relative entropy ≤ 0.05 after 2000 epochs).
* **Huang et al.**, "Experimental quantum generative adversarial networks for image generation",
  PR Applied 16, 024051 (2021), arXiv:2010.06201, with PennyLane's patch-QGAN demo settings:
  4 sub-generators of 5 qubits (1 ancilla), depth 6, on the digit 0. The paper gives images,
  not a number; our bar is the share of generated images that an independent classifier
  (:mod:`qgm.metrics.images`) calls "0", ≥ 90%, with the Fréchet distance beside it.
* **Mode coverage** (the report: quantum GANs "cover the modes more evenly" than classical
  GANs, i.e. suffer less mode collapse): a ring of 8 Gaussians discretised on 32 x 32 bins
  (10 qubits); the discrete QGAN (a Born machine whose fakes are all bin centres weighted by
  its probabilities) against a classical GAN with a categorical generator over the same bins,
  same discriminator, loss and optimisers, same steps. The claim holds when the QGAN's
  mode KL (KL between the per-mode sample shares and uniform; 0 = perfectly even) is below
  the GAN's: metric ``qgan_minus_gan_mode_kl < 0``.
"""
from __future__ import annotations

from typing import Any

import numpy as np
import torch

from qgm.data.digits import Digits
from qgm.metrics.images import digit_reference, frechet_distance, share_classified
from qgm.reproduce.base import CLAIMS, Claim
from qgm.reproduce.runs import train_run

__all__ = ["zoufal_config", "patch_digits_config", "ks_and_relative_entropy"]

ZOUFAL = "Zoufal, Lucchi & Woerner, npj Quantum Inf. 5, 103 (2019), arXiv:1904.00043"
HUANG = "Huang et al., PR Applied 16, 024051 (2021), arXiv:2010.06201 (PennyLane patch-QGAN demo settings)"
REPORT = "the survey report's QGAN section (mode collapse); e.g. Zoufal et al. 2019, Situ et al. 2020"


def zoufal_config(steps: int, shots: int = 10000) -> dict[str, Any]:
    """The paper's 3-qubit log-normal QGAN on rounded data, generator measured with ``shots`` shots."""
    adam = {"name": "adam", "lr": 0.01, "betas": [0.7, 0.99], "eps": 1.0e-6, "amsgrad": True}
    return {
        "dataset": {"name": "lognormal_zoufal", "n_train": 20000, "discretisation": "round"},
        "model": {"name": "qgan", "initial": "uniform", "init": "small", "loss": "bce", "d_steps": 3, "g_steps": 1,
                  "shots": shots,
                  "ansatz": {"name": "hardware_efficient", "depth": 2, "rotations": ["ry"], "entangler": "ring",
                             "entangling_gate": "cz"},
                  "discriminator": {"name": "mlp", "hidden": [50, 20], "activation": "leaky_relu"}},
        "optimizer": {"generator": adam, "discriminator": dict(adam)},
        "train": {"steps": steps, "batch_size": 2000, "eval_every": 0, "checkpoint_every": 0},
        "metrics": ["ks", "kl"],
    }


def ks_and_relative_entropy(p: np.ndarray, target: np.ndarray) -> tuple[float, float]:
    """KS statistic of the two CDFs and KL(target‖p) (inf where ``p`` misses target mass)."""
    ks = float(np.abs(np.cumsum(p) - np.cumsum(target)).max())
    nz = target > 0
    with np.errstate(divide="ignore"):
        return ks, float(np.sum(target[nz] * (np.log(target[nz]) - np.log(p[nz]))))


def measure_zoufal(seed: int, quick: bool) -> dict[str, float]:
    """2000 steps (quick: 600) of batch 2000, 3 discriminator updates per generator update."""
    summary, parts = train_run(zoufal_config(600 if quick else 2000), "zoufal_lognormal", seed, quick)
    with torch.no_grad():
        p = parts.model.probs().numpy()
    ks, re = ks_and_relative_entropy(p, parts.dataset.target.numpy())
    return {"ks": ks, "relative_entropy": re, "train_time_s": summary["train_time_s"]}


def patch_digits_config(steps: int) -> dict[str, Any]:
    """PennyLane's patch-QGAN demo on the digit 0: 4 x 5 qubits, 1 ancilla, depth 6, SGD 0.3 / 0.01, batch 1."""
    return {
        "dataset": {"name": "digits", "classes": [0]},
        "model": {"name": "patch_qgan", "n_qubits": 5, "n_ancilla": 1, "q_depth": 6, "loss": "bce",
                  "discriminator": {"name": "mlp", "hidden": [64, 16], "activation": "relu"}},
        "optimizer": {"generator": {"name": "sgd", "lr": 0.3}, "discriminator": {"name": "sgd", "lr": 0.01}},
        "train": {"steps": steps, "batch_size": 1, "eval_every": 0, "checkpoint_every": 0, "n_eval_samples": 64},
        "metrics": [],
    }


def measure_patch_digits(seed: int, quick: bool) -> dict[str, float]:
    """500 steps (quick: 300); 178 generated images against the 178 real zeros."""
    summary, parts = train_run(patch_digits_config(300 if quick else 500), "patch_qgan_digits", seed, quick)
    real = Digits([0]).train.numpy()
    fake = parts.model.sample(len(real), generator=torch.Generator().manual_seed(10_000 + seed)).numpy()
    ref = digit_reference()
    return {"share_zero": share_classified(fake, 0),
            "frechet": frechet_distance(ref.features(fake), ref.features(real)),
            "train_time_s": summary["train_time_s"]}


CLAIMS.register("zoufal_lognormal")(Claim(
    name="zoufal_lognormal", title="qGAN loads a 3-qubit log-normal: KS statistic", paper=ZOUFAL,
    metric="ks", paper_value=0.0607, threshold=0.0607, direction="below",
    setting="3 qubits, H + TwoLocal(RY, CZ, reps 2), MLP discriminator 50-20, BCE, 3 D-steps per G-step, "
            "AMSGrad 0.01, batch 2000, 2000 steps; generator loss from 10 000 shots per evaluation",
    convention="data = LogNormal(1,1) samples rounded to integers, those > 7 dropped (p(0) = 0.054); KS and "
               "KL(target‖model) of the trained generator's exact distribution against that rounded target",
    measure=measure_zoufal, baseline="classical GAN with a categorical generator: qgm train with model gan"))

CLAIMS.register("patch_qgan_digits")(Claim(
    name="patch_qgan_digits", title="Patch QGAN draws recognisable zeros: share classified '0'", paper=HUANG,
    metric="share_zero", paper_value=None, threshold=0.9, direction="above",
    setting="digit 0 of scikit-learn's 8x8 digits; 4 sub-generators x 5 qubits (1 ancilla), depth 6; "
            "MLP discriminator 64-16; SGD 0.3 / 0.01; batch 1; 500 steps",
    convention="share of 178 generated images an MLP digit classifier (held-out accuracy ≈ 0.97) calls '0'; "
               "Fréchet distance on its hidden features beside it (real-vs-real floor ≈ 0.6)",
    measure=measure_patch_digits))


def ring_modes_config(model: str, steps: int) -> dict[str, Any]:
    """The mode-coverage setting on the discretised ring (5 bits per axis) for ``qgan`` or ``gan``."""
    generator = {"name": "qgan", "ansatz": {"name": "hardware_efficient", "depth": 4, "entangler": "ring"}} \
        if model == "qgan" else {"name": "gan"}
    return {
        "dataset": {"name": "ring", "bits": 5, "n_train": 10000},
        "model": {**generator, "discriminator": {"name": "mlp", "hidden": [128, 128], "activation": "leaky_relu"},
                  "loss": "bce", "d_steps": 1, "g_steps": 1},
        "optimizer": {"generator": {"name": "adam", "lr": 0.01, "betas": [0.5, 0.999]},
                      "discriminator": {"name": "adam", "lr": 0.001, "betas": [0.5, 0.999]}},
        "train": {"steps": steps, "batch_size": 128, "eval_every": 0, "checkpoint_every": 0, "n_eval_samples": 2500},
        "metrics": ["modes_covered", "high_quality_fraction", "mode_kl"],
    }


def measure_mode_coverage(seed: int, quick: bool) -> dict[str, float]:
    """Both models 3000 steps (quick: 1000) on the same data and seed; their mode statistics."""
    out: dict[str, float] = {}
    for model in ("qgan", "gan"):
        summary, _ = train_run(ring_modes_config(model, 1000 if quick else 3000), f"mode_coverage_{model}", seed, quick)
        out.update({f"{model}_{k}": v for k, v in summary["metrics"].items()})
    out["qgan_minus_gan_mode_kl"] = out["qgan_mode_kl"] - out["gan_mode_kl"]
    return out


CLAIMS.register("qgan_mode_coverage")(Claim(
    name="qgan_mode_coverage", title="Quantum GANs cover the modes more evenly than classical GANs",
    paper=REPORT, metric="qgan_minus_gan_mode_kl", paper_value=None, threshold=0.0, direction="below",
    setting="ring of 8 Gaussians on 32 x 32 bins (10 qubits); discrete QGAN (hardware-efficient depth 4) vs a "
            "classical GAN with a categorical generator over the bins; MLP discriminator 128-128, BCE, "
            "Adam 0.01 / 0.001, batch 128, 3000 steps",
    convention="mode KL of 2500 samples (KL of the per-mode shares of high-quality samples to uniform; 0 = even), "
               "QGAN minus GAN; modes covered and high-quality fraction beside it",
    measure=measure_mode_coverage, baseline="the classical GAN is the baseline of this claim"))
