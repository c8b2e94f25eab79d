"""The quantum-latent claim of *Quantum Memories* (Refik Anadol, 2020; the report's §5.1): quantum noise
as the seed of a generator "forced the model to explore regions of the latent space it would otherwise
ignore".

Setting (:mod:`qgm.art.study`): a VAE on scikit-learn's 8x8 digits (3-d Gaussian latent) is sampled
from latents made of 9-bit strings (3 bits per coordinate, ``z = Φ⁻¹((v + ½)/8)``) drawn by a
Born machine fitted to the digits' latent codes (``qcbm``) or by a random brickwork circuit under
depolarising and readout noise (``noise``), against the usual ``N(0, I)`` (``gauss``). "Exploring
more" is measured as the mean distance from a generated digit to its nearest training digit
(novelty); the claim's metric is the noisy circuit's gain over Gaussian latents. The paper gives no
number, so the pass rule is a positive median gain.
"""
from __future__ import annotations

from qgm.art.study import QUICK, SOURCES, measure_seed
from qgm.reproduce.base import CLAIMS, Claim

__all__ = ["measure_latent_gain"]


def measure_latent_gain(seed: int, quick: bool) -> dict[str, float]:
    """One seed: every source's metrics (``<source>_<metric>``) and the novelty / diversity gains of the
    quantum sources over Gaussian latents."""
    measured = measure_seed(seed, QUICK if quick else None)
    out = {f"{src}_{m}": v for src, values in measured.items() for m, v in values.items()}
    for src in SOURCES[:2]:
        for m in ("novelty", "diversity", "coverage"):
            out[f"{m}_gain_{src}"] = out[f"{src}_{m}"] - out[f"gauss_{m}"]
    return out


CLAIMS.register("quantum_latent_novelty")(Claim(
    name="quantum_latent_novelty",
    title="Noisy-circuit latents make a generator explore beyond Gaussian latents",
    paper="R. Anadol, Quantum Memories (NGV 2020), as described in the report's §5.1 (no published number)",
    metric="novelty_gain_noise", paper_value=None, threshold=0.0, direction="above",
    setting="digit VAE (3-d latent, 1500 Adam steps) sampled 1000 times per source; 9-bit latents from a noisy "
            "random brickwork circuit (depolarising 1%/5%, readout 2%) and from a depth-6 Born machine fitted by KL "
            "to the digits' latent codes",
    convention="novelty = mean Euclidean distance (pixels in [0, 1]) from a generated digit to its nearest training "
               "digit; gain = source minus Gaussian latents, same seed, same generator",
    measure=measure_latent_gain,
    baseline="Gaussian latents N(0, I) through the same generator (the `gauss` rows)",
))
