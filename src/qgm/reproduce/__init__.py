"""Reproductions of published claims as code (see :mod:`qgm.reproduce.base`).

Importing this package imports every module of :data:`CLAIM_MODULES`, which
register their :class:`Claim` s in :data:`CLAIMS`; ``qgm reproduce NAME`` runs one.
"""
import importlib

from qgm.reproduce.base import CLAIMS, Claim, ClaimResult, result_path, run_claim, run_claims, summarise

__all__ = ["CLAIMS", "Claim", "ClaimResult", "run_claim", "run_claims", "summarise", "result_path", "CLAIM_MODULES"]

#: Modules whose import registers claims (one per published claim or family of claims).
CLAIM_MODULES: tuple[str, ...] = (
    "qgm.reproduce.liu_wang",
    "qgm.reproduce.qgan",
    "qgm.reproduce.geometry",
    "qgm.reproduce.trainability",
    "qgm.reproduce.finance",
    "qgm.reproduce.amplitude_amplification",
    "qgm.reproduce.art",
    "qgm.reproduce.molecules",
    "qgm.reproduce.diffusion",
    "qgm.reproduce.qbm",
    "qgm.reproduce.annealing",
)

for _module in CLAIM_MODULES:
    importlib.import_module(_module)
