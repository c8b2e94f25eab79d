"""Liu & Wang, "Differentiable learning of quantum circuit Born machines" (PRA 98, 062324; arXiv:1804.04168).

Setting of the paper: Bars-and-Stripes 3x3 on 9 qubits, the Liu-Wang ansatz
(RZ·RX·RZ per qubit, CNOTs on the Chow-Liu tree of the data) at depth 10, and a
10-qubit double Gaussian with a ring entangler; squared MMD with a mixture of
Gaussian kernels ``exp(−d/(2σ))``, Hamming distance and σ ∈ {0.5, 1, 2, 4} for
BAS, ``(x − y)²`` and σ ∈ {0.25, 0.5, 1, 2, 4} for the Gaussian.

**Convention.** The paper's code *sums* the kernel over the bandwidths; qgm's
kernel is their *mean* (spec qcbm.md). Every MMD here is reported in the paper's
convention, ``mmd_paper = len(σ) × ours``; ``mmd`` keeps ours. In that
convention a uniform distribution scores 2.9e-3 on the double Gaussian, above
the paper's 6.4e-4, so the bar means something (in ours it scored 5.9e-4 and
passed).
"""
from __future__ import annotations

from typing import Any

import numpy as np
import torch

from qgm.metrics import kl, tv
from qgm.registry import LOSSES
from qgm.reproduce.base import CLAIMS, Claim
from qgm.reproduce.runs import train_run

__all__ = ["bas_config", "double_gaussian_config", "BAS_SIGMAS", "GAUSSIAN_SIGMAS"]

BAS_SIGMAS = [0.5, 1.0, 2.0, 4.0]
GAUSSIAN_SIGMAS = [0.25, 0.5, 1.0, 2.0, 4.0]
PAPER = "Liu & Wang, PRA 98, 062324 (2018), arXiv:1804.04168"


def bas_config(steps: int, optimizer: dict[str, Any], shots: Any = None, schedule: Any = None) -> dict[str, Any]:
    """BAS 3x3, Liu-Wang ansatz depth 10 on the Chow-Liu tree, Hamming-kernel MMD (the paper's setting)."""
    cfg: dict[str, Any] = {
        "dataset": {"name": "bas", "rows": 3, "cols": 3},
        "model": {"name": "qcbm", "ansatz": {"name": "liu_wang", "depth": 10, "pairs": "chow-liu"},
                  "diff_method": "adjoint"},
        "loss": {"name": "mmd", "sigmas": BAS_SIGMAS, "convention": "liu-wang", "distance": "hamming", "shots": shots},
        "optimizer": optimizer,
        "train": {"steps": steps, "batch_size": None, "eval_every": 0, "checkpoint_every": 0, "n_eval_samples": 20000},
        "metrics": ["kl", "valid_fraction"],
    }
    if schedule is not None:
        cfg["schedule"] = schedule
    return cfg


def double_gaussian_config(steps: int) -> dict[str, Any]:
    """The 10-qubit double Gaussian with the ring ansatz at depth 10, integer-distance MMD, Adam + cosine."""
    return {
        "dataset": {"name": "double_gaussian", "bits": 10},
        "model": {"name": "qcbm", "ansatz": {"name": "liu_wang", "depth": 10, "pairs": "ring"}, "diff_method": "adjoint"},
        "loss": {"name": "mmd", "sigmas": GAUSSIAN_SIGMAS, "convention": "liu-wang", "distance": "integer"},
        "optimizer": {"name": "adam", "lr": 0.1},
        "schedule": "cosine",
        "train": {"steps": steps, "batch_size": None, "eval_every": 0, "checkpoint_every": 0, "n_eval_samples": 20000},
        "metrics": ["kl", "tv"],
    }


def _exact_mmd(parts: Any) -> float:
    """The run's final exact MMD in qgm's convention (mean over bandwidths)."""
    loss_cfg = parts.config.loss.options
    loss = LOSSES.create("mmd", dataset=parts.dataset, **{k: v for k, v in loss_cfg.items() if k not in ("shots", "seed")})
    with torch.no_grad():
        return float(loss(parts.model, None))


def _valid_mass(parts: Any) -> float:
    with torch.no_grad():
        return float(parts.model.probs().numpy()[parts.dataset.valid_mask].sum())


def measure_bas_exact(seed: int, quick: bool) -> dict[str, float]:
    """Exact probabilities, L-BFGS (torch, up to 20 iterations a step) for 60 steps (quick: 45)."""
    optimizer = {"name": "lbfgs", "max_iter": 20, "history_size": 20}
    summary, parts = train_run(bas_config(45 if quick else 60, optimizer), "liu_wang_bas_exact", seed, quick)
    mmd = _exact_mmd(parts)
    return {"mmd_paper": len(BAS_SIGMAS) * mmd, "mmd": mmd, "valid_mass": _valid_mass(parts),
            "valid_fraction": summary["metrics"]["valid_fraction"], "kl": summary["metrics"]["kl"],
            "train_time_s": summary["train_time_s"]}


def _measure_bas_shots(shots: int) -> Any:
    def measure(seed: int, quick: bool) -> dict[str, float]:
        steps = 1000  # quick: the same steps on one seed (300 steps fell short at 20000 shots)
        # Adam lr 0.1 decayed exponentially to 0.01 over the run (docs/repro/liu_wang.md: a constant
        # rate leaves some seeds short of the paper's fraction)
        schedule = {"name": "exponential", "gamma": float(0.1 ** (1.0 / (steps - 1)))}
        cfg = bas_config(steps, {"name": "adam", "lr": 0.1}, shots=shots, schedule=schedule)
        summary, parts = train_run(cfg, f"liu_wang_bas_shots_{shots}", seed, quick)
        return {"valid_fraction": summary["metrics"]["valid_fraction"], "valid_mass": _valid_mass(parts),
                "kl": summary["metrics"]["kl"], "mmd_paper": len(BAS_SIGMAS) * _exact_mmd(parts),
                "train_time_s": summary["train_time_s"]}

    return measure


def uniform_mmd_paper(parts: Any) -> float:
    """The paper-convention MMD of the uniform distribution against the run's target (the trivial baseline)."""
    loss_cfg = parts.config.loss.options
    loss = LOSSES.create("mmd", dataset=parts.dataset, **loss_cfg)
    uniform = torch.full_like(loss.target, 1.0 / loss.target.numel())
    diff = uniform - loss.target
    return float(len(GAUSSIAN_SIGMAS) * loss.kernel.quadratic(diff))


def measure_double_gaussian(seed: int, quick: bool) -> dict[str, float]:
    """Adam 0.1 with a cosine schedule for 500 steps (quick: 300), exact MMD."""
    summary, parts = train_run(double_gaussian_config(300 if quick else 500), "liu_wang_double_gaussian", seed, quick)
    with torch.no_grad():
        p = parts.model.probs().numpy()
    target = parts.dataset.target.numpy()
    return {"mmd_paper": len(GAUSSIAN_SIGMAS) * _exact_mmd(parts), "kl": kl(target, p), "tv": tv(p, target),
            "uniform_mmd_paper": uniform_mmd_paper(parts), "uniform_kl": kl(target, np.full_like(p, 1 / p.size)),
            "train_time_s": summary["train_time_s"]}


CLAIMS.register("liu_wang_bas_exact")(Claim(
    name="liu_wang_bas_exact", title="QCBM on BAS 3x3, exact MMD: final MMD²", paper=PAPER,
    metric="mmd_paper", paper_value=2.4e-7, threshold=2.4e-7, direction="below",
    setting="9 qubits, Liu-Wang ansatz depth 10 (279 angles) on the Chow-Liu tree, exact probabilities, "
            "L-BFGS (torch, 60 steps of up to 20 iterations)",
    convention="MMD² with the kernel summed over σ ∈ {0.5, 1, 2, 4}, exp(−d_H/(2σ)) (the paper's code); "
               "also reports the valid mass and 20000-sample valid fraction (paper: ≥ 99.9%)",
    measure=measure_bas_exact, baseline="MADE and RBM on the same data: examples/bas3x3_{made,rbm}.yaml"))

for _shots, _paper in ((2000, 0.886), (20000, 0.924)):
    CLAIMS.register(f"liu_wang_bas_shots_{_shots}")(Claim(
        name=f"liu_wang_bas_shots_{_shots}", title=f"QCBM on BAS 3x3 from {_shots} shots per estimate: valid samples",
        paper=PAPER, metric="valid_fraction", paper_value=_paper, threshold=_paper, direction="above",
        setting=f"same circuit; MMD and its parameter-shift gradient from {_shots} fresh shots per circuit "
                "(unbiased estimator), Adam lr 0.1 → 0.01 exponentially over 1000 steps",
        convention="share of 20000 samples of the trained circuit that are BAS patterns (the paper's 'valid')",
        measure=_measure_bas_shots(_shots)))

CLAIMS.register("liu_wang_double_gaussian")(Claim(
    name="liu_wang_double_gaussian", title="QCBM on the 10-qubit double Gaussian: final MMD²", paper=PAPER,
    metric="mmd_paper", paper_value=6.4e-4, threshold=6.4e-4, direction="below",
    setting="10 qubits, Liu-Wang ansatz depth 10 with a ring entangler (310 angles), exact probabilities, "
            "Adam 0.1 with a cosine schedule, 500 steps",
    convention="MMD² with the kernel summed over σ ∈ {0.25, 0.5, 1, 2, 4}, exp(−(x−y)²/(2σ)) (the paper's code); "
               "KL(π‖p) and TV reported beside it; the uniform distribution's MMD² is the trivial baseline",
    measure=measure_double_gaussian, baseline="uniform distribution (uniform_mmd_paper, uniform_kl)"))

#: The stronger bar: KL(π‖p) at most half the uniform distribution's (0.1247 / 2).
UNIFORM_KL_DOUBLE_GAUSSIAN = 0.1247
CLAIMS.register("liu_wang_double_gaussian_kl")(Claim(
    name="liu_wang_double_gaussian_kl", title="Same double Gaussian, stronger bar: KL(π‖p) half the uniform's",
    paper=PAPER, metric="kl", paper_value=None, threshold=UNIFORM_KL_DOUBLE_GAUSSIAN / 2, direction="below",
    setting="the liu_wang_double_gaussian run (same circuit, kernel, optimiser and steps)",
    convention="KL(π‖p) of the exact distributions; the uniform distribution scores 0.1247, so the bar asks for a "
               "fit that halves it (the paper's MMD bar is met by fits that are worse than uniform in KL)",
    measure=measure_double_gaussian, baseline="uniform distribution: KL 0.1247"))
