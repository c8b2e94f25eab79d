"""Reproductions of QCBM results (Liu & Wang arXiv:1804.04168; market copula vs a Gaussian copula).

Each task trains through the normal pipeline (:func:`qgm.train.run_config`) into
``<out>/<task>/`` and prints one JSON line of measured numbers; ``<out>/results.json``
collects them. Tasks::

    python benchmarks/repro_qcbm.py bas-exact          # BAS 3x3, depth 10, exact MMD, L-BFGS
    python benchmarks/repro_qcbm.py bas-shots --shots 2000   # ... MMD from 2000 shots per estimate, Adam
    python benchmarks/repro_qcbm.py double-gaussian    # 10 qubits, exact MMD (integer distance), Adam
    python benchmarks/repro_qcbm.py market             # S&P 500 / NASDAQ copula: QCBM vs Gaussian copula

``--steps N`` overrides a task's number of steps. Numbers go to docs/repro/qcbm.md.
"""
from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any, Callable

import numpy as np
import torch

from qgm.data.market import fit_gaussian_copula, sample_gaussian_copula
from qgm.metrics import finance
from qgm.models import GenerativeModel
from qgm.registry import DATASETS, METRICS
from qgm.train import apply_overrides, run_config
from qgm.train.config import yaml_load

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
QUIET = ["train.progress=false"]


def example(name: str, overrides: list[str]) -> dict[str, Any]:
    """An example config with ``overrides`` applied."""
    return apply_overrides(yaml_load((EXAMPLES / f"{name}.yaml").read_text()), overrides + QUIET)


def exact_valid_mass(run: Path, dataset: Any) -> float:
    """Probability mass the trained model puts on valid strings (exact, from model.probs())."""
    with torch.no_grad():
        p = GenerativeModel.load(run / "model.pt").probs().numpy()
    return float(p[dataset.valid_mask].sum())


def bas_exact(out: Path, steps: int | None) -> dict[str, Any]:
    """Liu & Wang BAS 3x3: depth 10, Chow-Liu pairs, MMD sigmas {0.5,1,2,4} (Hamming), exact, L-BFGS."""
    cfg = example("bas3x3_qcbm", [
        "name=repro_bas_exact", "schedule=none", "optimizer={name: lbfgs, max_iter: 20}",
        f"train.steps={steps or 50}", "train.eval_every=10", "train.n_eval_samples=20000",
        "train.early_stop={metric: loss, below: 1.0e-8, patience: 1}",
    ])
    summary = run_config(cfg, out / "bas-exact", overwrite=True)
    data = DATASETS.create("bas", rows=3, cols=3)
    return {**summary, "exact_valid_mass": exact_valid_mass(out / "bas-exact", data)}


def bas_shots(out: Path, steps: int | None, shots: int) -> dict[str, Any]:
    """Liu & Wang BAS 3x3 with ``shots`` model samples per MMD (and per shifted circuit), Adam."""
    cfg = example("bas3x3_qcbm", [
        f"name=repro_bas_shots{shots}", f"loss.shots={shots}", "optimizer.lr=0.1",
        f"train.steps={steps or 200}", "train.eval_every=25", "train.checkpoint_every=25",
        "train.n_eval_samples=20000",
    ])
    run = out / f"bas-shots{shots}"
    summary = run_config(cfg, run, overwrite=True)
    return {**summary, "exact_valid_mass": exact_valid_mass(run, DATASETS.create("bas", rows=3, cols=3))}


def double_gaussian(out: Path, steps: int | None) -> dict[str, Any]:
    """Liu & Wang double Gaussian, 10 qubits: exact MMD on (x-y)^2, sigmas {0.25,..,4}, Adam."""
    cfg = example("double_gaussian_qcbm", ["name=repro_double_gaussian", f"train.steps={steps or 500}"])
    run = out / "double-gaussian"
    summary = run_config(cfg, run, overwrite=True)
    records = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    losses = [(r["step"], r["loss"]) for r in records if "loss" in r]
    first_below = next((s for s, v in losses if v <= 6.4e-4), None)
    return {**summary, "initial_mmd": losses[0][1], "first_step_mmd_below_6.4e-4": first_below}


def _metric(name: str, dataset: Any, samples: torch.Tensor, probs: Any = None) -> float:
    return float(METRICS.get(name)(model=None, dataset=dataset, samples=samples, probs=probs))


def market(out: Path, steps: int | None) -> dict[str, Any]:
    """Market copula (S&P 500, NASDAQ; 4 bits each): the QCBM next to a Gaussian copula fitted to the
    same training days; KL against the held-out days' copula histogram, Kendall's tau and lower-tail
    dependence of generated returns vs the held-out returns."""
    cfg = example("market_copula_qcbm", ["name=repro_market", f"train.steps={steps or 400}"])
    summary = run_config(cfg, out / "market", overwrite=True)
    data = DATASETS.create("market_copula", **{k: v for k, v in cfg["dataset"].items() if k != "name"})
    n = cfg["train"]["n_eval_samples"]
    gen = torch.Generator().manual_seed(0)
    corr = fit_gaussian_copula(data.uniforms("train"))
    big = data.encode(sample_gaussian_copula(corr, 2_000_000, gen))  # its bin probabilities, to 1e-3 relative
    gauss_probs = torch.as_tensor(np.bincount(big.numpy(), minlength=1 << data.n_bits) / big.numel())
    gauss_idx = data.encode(sample_gaussian_copula(corr, n, gen))
    gaussian = {name: _metric(name, data, gauss_idx, gauss_probs if name in ("kl", "tv") else None)
                for name in cfg["metrics"]}
    test = data.returns("test")
    real = {"kendall_tau": finance.kendall_tau(test), "tail_lower": finance.tail_dependence(test, 0.05, "lower")}
    return {**summary, "gaussian_copula": gaussian, "held_out_data": real, "gaussian_corr": corr.tolist()}


TASKS: dict[str, Callable[..., dict[str, Any]]] = {
    "bas-exact": bas_exact, "bas-shots": bas_shots, "double-gaussian": double_gaussian, "market": market,
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("task", choices=[*TASKS, "all"])
    parser.add_argument("--out", default="runs/repro_qcbm", help="folder of the runs and results.json")
    parser.add_argument("--steps", type=int, help="override the task's number of steps")
    parser.add_argument("--shots", type=int, default=2000, help="shots per estimate (bas-shots)")
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    results_path = out / "results.json"
    results = json.loads(results_path.read_text()) if results_path.exists() else {}
    for task in TASKS if args.task == "all" else [args.task]:
        start = time.perf_counter()
        extra = {"shots": args.shots} if task == "bas-shots" else {}
        res = TASKS[task](out, args.steps, **extra)
        key = task + (str(args.shots) if task == "bas-shots" else "")
        results[key] = {**res, "task_wall_s": round(time.perf_counter() - start, 1)}
        print(json.dumps({key: results[key]}), flush=True)
        results_path.write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
