"""Reproductions of quantum-Boltzmann-machine claims (issue 13), trained through ``run_config``.

* **CQCL qbm_benchmark_dataset** (Rinaldi, Kikuchi, Sakata 2024; github.com/CQCL/qbm_benchmark_dataset):
  8-qubit 1-D TFIM Gibbs target ``H = c_0 Σ Z_iZ_{i+1} + c_1 Σ X_i`` at ``β = 1``,
  ``(c_0, c_1) = default_rng(seed).normal(size=2)``; models start from the maximally mixed
  state (``θ = 0``) and take plain gradient steps on ``S(η‖ρ)`` with the benchmark's learning
  rate ``1 / (2 K)`` (``K`` = its number of operators; 0.25 for the 2-operator TFIM model).
  Four end points (seed 1 in the benchmark): TFIM model 2.8e-14 in 17 epochs, 1-D XYZ 0.022
  after 1000 epochs (an early random-init run; the zero-init history of the current code is
  0.0070), all-to-all XYZ 0.0455, classical ZZ+Z 1.910. Our XYZ families omit the benchmark's
  single-qubit ``Y`` terms (they keep ``H`` real); from ``θ = 0`` on a real target their
  gradient ``⟨Y⟩_ρ − ⟨Y⟩_η`` is exactly 0, so they never move and the trajectories coincide,
  provided the learning rate counts them (``K`` includes the ``n`` Y fields).
* **Amin et al. 2018** (PRX 8, 021050): KL of the exact-gradient QBM (Γ trained), the bound-based
  QBM (Γ fixed) and the classical BM on the 10-bit mixture of 8 Bernoulli modes (``p = 0.9``),
  trained on the exact data distribution; an RBM (8 hidden) beside them.
* **VQT** (Verdon et al. 2019): fidelity of the variational thermal state with the exact TFIM
  Gibbs state.
"""
from __future__ import annotations

import functools
import math
import tempfile
from pathlib import Path
from typing import Any

from qgm.reproduce.base import CLAIMS, Claim

__all__ = ["train_run", "cqcl_measure", "amin_runs", "CQCL_MODELS"]

CQCL_PAPER = "Rinaldi, Kikuchi, Sakata, CQCL/qbm_benchmark_dataset (2024), data/1d_tfim histories"
#: model options, benchmark label, single-qubit Y terms the benchmark adds, steps (full run).
CQCL_MODELS: dict[str, tuple[dict[str, Any], int, int, int]] = {
    "tfim": (dict(family="tfim", graph="chain", fields=False, shared_couplings=True, shared_gamma=True, gamma=0.0), 0, 0, 200),
    "xyz_chain": (dict(family="xyz", graph="chain"), 6, 8, 1000),
    "xyz_all": (dict(family="xyz", graph="all"), 8, 8, 1000),
    "classical": (dict(family="classical", graph="all"), 9, 0, 1000),
}


def train_run(config: dict[str, Any]) -> tuple[dict[str, Any], list[dict[str, Any]], Any]:
    """Train ``config`` in a temporary run directory; its summary, metric records and trained model."""
    import torch

    from qgm.models import GenerativeModel
    from qgm.train import read_records, run_config

    torch.set_num_threads(1)
    with tempfile.TemporaryDirectory() as tmp:
        summary = run_config(config, Path(tmp) / "run")
        records = read_records(Path(tmp) / "run" / "metrics.jsonl")
        return summary, records, GenerativeModel.load(Path(tmp) / "run" / "model.pt")


def _n_operators(options: dict[str, Any], n: int) -> int:
    from qgm.models.qbm import qbm_operators

    return len(qbm_operators(n, 0, options["family"], options["graph"], options.get("fields", True),
                             options.get("shared_couplings", False), options.get("shared_gamma", False)))


def cqcl_measure(model: str, seed: int, quick: bool) -> dict[str, float]:
    """One CQCL run: target seed ``seed``, the benchmark's learning rate and steps;
    ``quick`` runs the same setting on the claim's quick seed only (its verdict must agree with the full run's)."""
    from qgm.data.gibbs import cqcl_tfim_coefficients

    options, _, y_fields, steps = CQCL_MODELS[model]
    lr = 1.0 / (2 * (_n_operators(options, 8) + y_fields))
    cfg = {
        "name": f"cqcl_{model}", "seed": 0, "dataset": {"name": "tfim_gibbs", "n_qubits": 8, "beta": 1.0, "seed": seed},
        "model": {"name": "qbm", **options, "init_scale": 0.0}, "optimizer": {"name": "sgd", "lr": lr},
        "train": {"steps": steps, "batch_size": None, "eval_every": 1 if model == "tfim" else 50, "log_every": 50,
                  "n_eval_samples": 1, "plots": False, "progress": False},
        "metrics": ["relative_entropy"],
    }
    summary, records, _ = train_run(cfg)
    curve = [(r["step"], r["relative_entropy"]) for r in records if "relative_entropy" in r]
    c0, c1 = cqcl_tfim_coefficients(seed)
    out = {"relative_entropy": summary["metrics"]["relative_entropy"], "initial": curve[0][1], "steps": float(steps),
           "lr": lr, "c0": c0, "c1": c1}
    below = [step for step, value in curve if value < 1e-12]
    out["epochs_below_1e-12"] = float(below[0]) if below else math.inf
    out.update({f"at_{step}": value for step, value in curve if step in (10, 20, 100, 500)})
    return out


def _cqcl_claim(model: str, title: str, paper_value: float, threshold: float, direction: str, setting: str,
                metric: str = "relative_entropy", quick_seeds: tuple[int, ...] = (1,)) -> None:
    name = f"cqcl_qbm_{model}"
    CLAIMS.register(name)(Claim(
        name=name, title=title, paper=CQCL_PAPER, metric=metric, paper_value=paper_value,
        threshold=threshold, direction=direction, setting=setting,
        convention="S(η‖ρ) in nats; θ = 0 start; plain gradient descent, lr = 1/(2 K) with K counting the benchmark's "
                   "Y fields; benchmark value is its seed 1",
        measure=functools.partial(cqcl_measure, model), seeds=(1, 2, 3, 4, 5), quick_seeds=quick_seeds,
        command=f"qgm reproduce {name}"))


_cqcl_claim("tfim", "CQCL 8-qubit TFIM Gibbs target, TFIM model: relative entropy after 20 epochs", 2.8e-14, 1e-12,
            "below", "8 qubits, β = 1, model ΣZZ + ΣX (2 parameters), lr 0.25, 200 epochs (metric: after 20)", "at_20",
            quick_seeds=(1, 2, 3))  # per-target values straddle the bar: one target cannot stand for the median
_cqcl_claim("xyz_chain", "CQCL 8-qubit TFIM Gibbs target, 1-D XYZ model: relative entropy after 1000 epochs", 0.022,
            0.03, "below", "8 qubits, β = 1, XX/YY/ZZ chain + X/Z fields (37 parameters), lr 1/90, 1000 epochs")
_cqcl_claim("xyz_all", "CQCL 8-qubit TFIM Gibbs target, all-to-all XYZ model: relative entropy after 1000 epochs",
            0.0455, 0.06, "below", "8 qubits, β = 1, all-to-all XX/YY/ZZ + X/Z fields (100 parameters), lr 1/216, "
            "1000 epochs")
_cqcl_claim("classical", "CQCL 8-qubit TFIM Gibbs target, classical ZZ+Z model stalls", 1.91, 0.5, "above",
            "8 qubits, β = 1, all-to-all ZZ + Z fields (36 parameters), lr 1/72, 1000 epochs")


# ---------------------------------------------------------------------------- Amin et al.
AMIN_PAPER = "Amin, Andriyash, Rolfe, Kulchytskyy, Melko, PRX 8, 021050 (2018), arXiv:1601.02036, Sec. V"
#: The models side by side: QBM options (or the RBM baseline with its loss).
AMIN_MODELS: dict[str, dict[str, Any]] = {
    "bm": {"model": {"name": "qbm", "family": "classical"}},
    "bqbm": {"model": {"name": "qbm", "family": "tfim", "shared_gamma": True, "gamma": 2.0, "train_gamma": False,
                       "gradient": "bound"}},
    "qbm": {"model": {"name": "qbm", "family": "tfim", "shared_gamma": True, "gamma": 2.0}},
    "rbm": {"model": {"name": "rbm", "n_hidden": 8, "init_scale": 0.01}, "loss": {"name": "kl"}},
}
AMIN_STEPS, AMIN_LR = 40, 0.1


def _amin_config(key: str, seed: int, steps: int, eval_every: int) -> dict[str, Any]:
    parts = AMIN_MODELS[key]
    model = dict(parts["model"])
    if model["name"] == "qbm":
        model["init_scale"] = 0.01
    return {
        "name": f"amin_{key}", "seed": seed,
        "dataset": {"name": "bernoulli_mixture", "n_bits": 10, "n_modes": 8, "p": 0.9, "seed": seed},
        "model": model, **({"loss": parts["loss"]} if "loss" in parts else {}),
        "optimizer": {"name": "adam", "lr": AMIN_LR},
        "train": {"steps": steps, "batch_size": None, "eval_every": eval_every, "log_every": 1, "n_eval_samples": 100,
                  "plots": False, "progress": False},
        "metrics": ["kl"],
    }


def amin_runs(seed: int, quick: bool) -> dict[str, float]:
    """KL learning curves of the four models on the Bernoulli mixture of data seed ``seed``, plus the classical
    baselines trained 10x longer (``kl_bm_long``, ``kl_rbm_long``: the BM's objective is convex, so this is its
    optimum); both claims read this one measurement."""
    steps = AMIN_STEPS  # quick: the same steps on one seed
    out: dict[str, float] = {}
    for key in AMIN_MODELS:
        summary, records, trained = train_run(_amin_config(key, seed, steps, 10))
        out[f"kl_{key}"] = summary["metrics"]["kl"]
        out.update({f"kl_{key}@{r['step']}": r["kl"] for r in records if "kl" in r})
        if key == "qbm":
            out["gamma_qbm"] = float(trained.theta()[-1].detach())
    for key in ("bm", "rbm"):
        out[f"kl_{key}_long"] = train_run(_amin_config(key, seed, 10 * steps, 0))[0]["metrics"]["kl"]
    out["gain_qbm"] = out["kl_bm"] - out["kl_qbm"]
    out["gain_bqbm"] = out["kl_bm"] - out["kl_bqbm"]
    return out


for _name, _metric, _title in (
    ("amin_qbm_vs_bm", "gain_qbm", "Amin et al.: exact-gradient QBM reaches a lower KL than the classical BM"),
    ("amin_bqbm_vs_bm", "gain_bqbm", "Amin et al.: bound-based QBM (Γ = 2 fixed) reaches a lower KL than the BM"),
):
    CLAIMS.register(_name)(Claim(
        name=_name, title=_title, paper=AMIN_PAPER, metric=_metric, paper_value=None, threshold=0.0, direction="above",
        setting=f"10 visible qubits, 8 Bernoulli modes p = 0.9 (centres from the data seed), exact data distribution, "
                f"fully visible all-to-all TFIM with shared Γ, Adam lr {AMIN_LR}, {AMIN_STEPS} steps",
        convention="KL(data‖model) in nats, exact; gain = KL(BM) − KL(model); the paper shows curves only "
                   "(its learning rate and Γ values were not recovered)",
        baseline="classical BM (family classical) and an RBM with 8 hidden units trained by the exact KL loss",
        measure=amin_runs, command=f"qgm reproduce {_name}"))


# ---------------------------------------------------------------------------- VQT
VQT_STEPS = 400


def vqt_measure(sizes: tuple[int, ...], seed: int, quick: bool) -> dict[str, float]:
    """VQT (free-fermion ansatz, depth n) on TFIM chains J = h = 1, β = 1 of ``sizes`` qubits: fidelity with the
    exact Gibbs state and free-energy gap β(F − F_exact) = S(ρ‖σ) after Adam training;
    ``quick`` runs the same setting on the claim's quick seed only (its verdict must agree with the full run's)."""
    import torch

    from qgm.data.gibbs import tfim_gibbs
    from qgm.models.vqt import vqt
    from qgm.sim.hamiltonian import fidelity

    torch.set_num_threads(1)
    out: dict[str, float] = {}
    for n in sizes:
        data = tfim_gibbs(n, beta=1.0, J=1.0, h=1.0)
        model = vqt(data, seed=seed)
        opt = model.configure_optimizers({"name": "adam", "lr": 0.05})["model"]
        for _ in range(VQT_STEPS):
            opt.zero_grad()
            model.objective(None, "model")["loss"].backward()
            opt.step()
        with torch.no_grad():
            result = model.objective(None, "model")
            out[f"fidelity_{n}"] = float(fidelity(model.gibbs_state(), data.state))
            out[f"free_energy_gap_{n}"] = float(result["loss"])
            out[f"free_energy_{n}"] = float(result["free_energy"])
            out[f"exact_free_energy_{n}"] = float(-model.log_z)
    out["fidelity_min"] = min(v for k, v in out.items() if k.startswith("fidelity_"))
    return out


for _sizes, _seeds, _why in (((4, 6), (0, 1, 2, 3, 4), ""),
                             ((8,), (0, 1), "an 8-qubit run (400 steps, 184 angles, 256 latent strings) takes ~10 min "
                                            "of wall time on the shared 2-core machine")):
    _name = "vqt_tfim" + "".join(str(n) for n in _sizes)
    CLAIMS.register(_name)(Claim(
        name=_name, title=f"Variational quantum thermalizer reproduces the exact TFIM Gibbs state ({_sizes} qubits)",
        paper="Verdon, Marks, Nanda, Leichenauer, Hidary, arXiv:1910.02071 (2019)", metric="fidelity_min",
        paper_value=None, threshold=0.99, direction="above",
        setting=f"TFIM chains J = h = 1, β = 1, n = {_sizes}; product-of-Bernoullis latent + free-fermion ansatz "
                f"(H, then n layers RX / RZZ·RYY brickwork); Adam lr 0.05, {VQT_STEPS} steps, exact free-energy gradients",
        convention="Uhlmann fidelity (Tr √(√ρ σ √ρ))², minimum over the sizes; free-energy gap β(F − F_exact) "
                   "= S(ρ‖σ) in nats",
        measure=functools.partial(vqt_measure, _sizes), seeds=_seeds, quick_seeds=_seeds[:2], why_fewer=_why,
        command=f"qgm reproduce {_name}"))
