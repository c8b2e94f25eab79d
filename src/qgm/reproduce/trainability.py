"""Barren plateaus (McClean et al., Nat. Commun. 9, 4812 (2018); Cerezo et al., Nat. Commun. 12, 1791 (2021)).

* ``plateau_global_parity``: for a global Pauli cost ``⟨Z…Z⟩`` on hardware-efficient circuits
  of depth n, ``Var[∂C/∂θ]`` decays like ``2^−n`` (2-design argument): the fitted slope of
  ``log2 Var`` against n should be −1. Pass: within ±0.2 of −1.
* ``plateau_local_polynomial``: a local cost (``1 − mean_j p_j(0)``) at depth ``⌈log2 n⌉`` has
  polynomially vanishing gradients: a power law fits ``log2 Var`` better than an exponential.
  Pass: power-law R² − exponential R² > 0.

Seeds are the scan's base seed (independent angle draws); 500 initialisations per point, n = 2..14
(quick: 200 initialisations, n = 2..10).
"""
from __future__ import annotations

from typing import Any

from qgm.reproduce.base import CLAIMS, Claim
from qgm.trainability import scan

__all__ = ["plateau_scan"]

ANSATZ = {"name": "hardware_efficient", "rotations": ["ry", "rz"], "entangler": "ring"}
MCCLEAN = "McClean et al., Nat. Commun. 9, 4812 (2018)"
CEREZO = "Cerezo et al., Nat. Commun. 12, 1791 (2021)"


def plateau_scan(cost: str, depth: Any, seed: int, quick: bool) -> dict[str, float]:
    """The fit of ``log2 Var`` vs n of one cost at one depth rule (exact gradients of the first angle)."""
    n_qubits = list(range(2, 11 if quick else 15, 2))
    result = scan(ANSATZ, n_qubits, depth, cost, n_inits=200 if quick else 500, params_index=0, seed=seed)
    (fit,) = result.fits
    return {"slope": float(fit["slope"]), "r2": float(fit["r2"]), "power_r2": float(fit["power_r2"])}


def measure_parity(seed: int, quick: bool) -> dict[str, float]:
    fit = plateau_scan("parity", "n", seed, quick)
    return {"slope_error": abs(fit["slope"] + 1.0), **fit}


def measure_local(seed: int, quick: bool) -> dict[str, float]:
    fit = plateau_scan("local", "ceil(log2(n))", seed, quick)
    return {"power_minus_exponential_r2": fit["power_r2"] - fit["r2"], **fit}


CLAIMS.register("plateau_global_parity")(Claim(
    name="plateau_global_parity", title="Global cost: gradient variance decays as 2^-n", paper=MCCLEAN,
    metric="slope_error", paper_value=0.0, threshold=0.2, direction="below",
    setting="hardware-efficient RY·RZ + CNOT ring at depth n, n = 2..14, 500 initial angle draws per n, "
            "exact gradients of the first angle",
    convention="|fitted slope of log2 Var[∂C/∂θ] vs n − (−1)| for C = ⟨Z…Z⟩ (2-design theory: slope −1)",
    measure=measure_parity))

CLAIMS.register("plateau_local_polynomial")(Claim(
    name="plateau_local_polynomial", title="Local cost at log depth: polynomial, not exponential, decay", paper=CEREZO,
    metric="power_minus_exponential_r2", paper_value=None, threshold=0.0, direction="above",
    setting="hardware-efficient RY·RZ + CNOT ring at depth ⌈log2 n⌉, n = 2..14, 500 draws per n, "
            "cost 1 − mean_j P(wire j reads 0)",
    convention="R² of a power law in n minus R² of an exponential, both fitted to log2 Var[∂C/∂θ]",
    measure=measure_local))
