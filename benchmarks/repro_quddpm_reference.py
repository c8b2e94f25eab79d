"""The QuDDPM reference repository's committed ensembles, measured with qgm's metrics.

Francis-Hsu/QuantGenMdl commits the ensembles its trained models generated
(``data/<task>/*trainGen*.npy`` / ``*testGen*.npy``, index 0 = the final step) and
its forward-diffusion sets. This script reads them from a checkout (or a bare git
directory, through ``git show``), never copying them, and measures

* the paper's table in the paper's convention with qgm's code: fidelity MMD /
  Wasserstein of the generated states against fresh data drawn by qgm's datasets,
  overlap with ``|00⟩``, inferred noise probability, TFIM magnetisation;
* the agreement of qgm's forward scrambling with the reference's diffusion sets:
  the largest gap over ``t`` of the tracked statistic (``F0``, ``F10`` or ``⟨Y⟩²``).

Usage: ``PYTHONPATH=src python benchmarks/repro_quddpm_reference.py PATH [--json FILE] [--markdown]``.
"""
from __future__ import annotations

import argparse
import io
import json
import subprocess
from pathlib import Path
from typing import Any

import numpy as np
import torch

import qgm.data  # noqa: F401  (registers the datasets)
from qgm.losses.ensemble import fidelity_mmd, state_wasserstein
from qgm.metrics.states import magnetisations
from qgm.models.qddpm import diffusion_schedule, forward_diffuse
from qgm.registry import DATASETS

#: Seed of the fresh data the generated ensembles are compared with.
FRESH_SEED = 16

GENERATED = {
    "cluster1": "data/cluster/n1/QDDPMcluster0{}Gen_n1na1T20L4_mmd.npy",
    "cluster2": "data/cluster/n2/QDDPMcluster0{}Gen_n2na1T20L6_mmd.npy",
    "noise": "data/noise/QDDPMcorrNoise{}Gen_n2na2T20L6_mmd.npy",
    "circle": "data/circle/QDDPMcircleY{}Gen_n1na2T40L6_wd.npy",
    "phase": "data/phase/QDDPMtfim{}Gen_n4na2T30L12N100.npy",
    "qdt": "data/qdt/QDTcluster0{}Gen_n2na1L120_mmd.npy",
    "qgan": "data/qgan/QGANcluster0{}gen_n2na1Lg120Lc16.npy",
}
DIFFUSION = {
    "cluster1": ("data/cluster/n1/cluster0Diff_n1T20_N1000.npy", {"name": "linspace", "start": 1.0, "stop": 4.0}),
    "cluster2": ("data/cluster/n2/cluster0Diff_n2T20_N1000.npy", {"name": "linspace", "start": 0.5, "stop": 4.0}),
    "noise": ("data/noise/corrNoiseDiff_n2T20_N5000.npy",
              {"name": "piecewise", "pieces": [[0.05, 1.0, 12], [1.2, 4.0, 8]]}),
    "circle": ("data/circle/circleYDiff_n1T40_N5000.npy", {"name": "quadratic", "scale": 1e-3}),
}


def load(root: Path, rel: str) -> torch.Tensor:
    """``rel`` of the reference checkout (or bare git directory) as complex128."""
    if (root / rel).is_file():
        arr = np.load(root / rel)
    else:
        blob = subprocess.run(["git", f"--git-dir={root}", "show", f"HEAD:{rel}"], capture_output=True, check=True)
        arr = np.load(io.BytesIO(blob.stdout))
    return torch.as_tensor(arr.astype(np.complex128))


def _final(x: torch.Tensor) -> torch.Tensor:
    """The generated states (step 0) renormalised (the files are complex64)."""
    x = x[0] if x.dim() == 3 else x
    return x / torch.linalg.vector_norm(x, dim=1, keepdim=True)


def fresh(task: str, n: int) -> Any:
    """Fresh data of ``task`` drawn by qgm's datasets."""
    spec = {"cluster1": ("clustered_states", {"n_qubits": 1}), "cluster2": ("clustered_states", {"n_qubits": 2}),
            "qdt": ("clustered_states", {"n_qubits": 2}), "qgan": ("clustered_states", {"n_qubits": 2}),
            "noise": ("correlated_noise_states", {}), "circle": ("circular_states", {}),
            "phase": ("tfim_phase_states", {"n_qubits": 4, "g_low": 0.2, "g_high": 0.4})}[task]
    return DATASETS.create(spec[0], n_train=n, n_test=0, seed=FRESH_SEED, **spec[1])


def generated_metrics(root: Path) -> dict[str, dict[str, float]]:
    """The paper's table from the committed ensembles (``train`` / ``test`` of each task)."""
    out: dict[str, dict[str, float]] = {}
    for task, pattern in GENERATED.items():
        sides = {side: _final(load(root, pattern.format(side))) for side in ("train", "test")}
        row: dict[str, float] = {}
        if task in ("cluster1", "cluster2", "qdt", "qgan"):
            data = fresh(task, 1000).train
            for side, x in sides.items():
                row[f"mmd_{side}"] = float(fidelity_mmd(data, x))
                row[f"overlap_{side}"] = float((x[:, 0].abs() ** 2).mean())
        elif task == "noise":
            ds = fresh(task, 500)
            for side, x in sides.items():
                row[f"mmd_{side}"] = float(fidelity_mmd(ds.train, x))
                row[f"p_{side}"] = ds.infer_noise_probability(x)
        elif task == "circle":
            data = fresh(task, 5000).train
            for side, x in sides.items():
                row[f"wasserstein_{side}"] = float(state_wasserstein(data, x))
        else:
            for side, x in sides.items():
                row[f"magnetisation_{side}"] = float(magnetisations(x).mean())
            row["magnetisation_data"] = float(magnetisations(fresh(task, 1000).train).mean())
        out[task] = row
    return out


def _statistic(task: str, x: torch.Tensor) -> torch.Tensor:
    """The tracked statistic per step of ``x`` ``(T+1, N, d)``: F0, F10 or ⟨Y⟩²."""
    if task == "noise":
        return (x[..., 2].abs() ** 2).mean(-1)
    if task == "circle":
        return ((2 * (x[..., 0].conj() * x[..., 1]).imag) ** 2).mean(-1)
    return (x[..., 0].abs() ** 2).mean(-1)


def forward_agreement(root: Path) -> dict[str, float]:
    """Largest gap over ``t`` between qgm's forward statistic and the reference's diffusion set's."""
    out = {}
    for task, (rel, schedule) in DIFFUSION.items():
        ref = load(root, rel)
        steps = ref.shape[0] - 1
        h = diffusion_schedule(schedule, steps)
        data = ref[0] / torch.linalg.vector_norm(ref[0], dim=1, keepdim=True)
        ours = torch.stack([forward_diffuse(data, h[:t], torch.Generator().manual_seed(t)) for t in range(steps + 1)])
        out[task] = float((_statistic(task, ours) - _statistic(task, ref)).abs().max())
    return out


#: The paper's table (train / test) next to which the committed ensembles are measured.
PAPER_TABLE = {
    "cluster1": {"mmd_train": 0.0004, "mmd_test": 0.0006},
    "cluster2": {"mmd_train": 0.0027, "mmd_test": 0.0039, "overlap_test": 0.944},
    "noise": {"mmd_train": 0.0019, "mmd_test": 0.0028, "p_train": 0.791},
    "circle": {"wasserstein_train": 0.0055, "wasserstein_test": 0.0028},
    "phase": {"magnetisation_train": 0.896, "magnetisation_test": 0.884},
    "qdt": {"mmd_test": 0.403, "overlap_test": 0.465},
    "qgan": {"mmd_test": 0.587, "overlap_test": 0.443},
}


def markdown(result: dict[str, Any]) -> str:
    """The generated-ensemble numbers as a markdown table next to the paper's."""
    lines = ["| task | quantity | paper | reference's ensemble, qgm metrics |", "|---|---|---|---|"]
    for task, row in result["generated"].items():
        for key, value in row.items():
            paper = PAPER_TABLE.get(task, {}).get(key)
            lines.append(f"| {task} | {key} | {'' if paper is None else paper} | {value:.4g} |")
    gaps = ", ".join(f"{k} {v:.3f}" for k, v in result["forward_max_gap"].items())
    return "\n".join(lines) + f"\n\nLargest forward-statistic gap over t: {gaps}."


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("reference", type=Path, help="checkout (or bare git directory) of Francis-Hsu/QuantGenMdl")
    parser.add_argument("--json", type=Path, help="also write the numbers to this file")
    parser.add_argument("--markdown", action="store_true", help="print a markdown table instead of JSON")
    args = parser.parse_args()
    torch.set_num_threads(1)
    result = {"generated": generated_metrics(args.reference), "forward_max_gap": forward_agreement(args.reference)}
    print(markdown(result) if args.markdown else json.dumps(result, indent=2))
    if args.json:
        args.json.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
