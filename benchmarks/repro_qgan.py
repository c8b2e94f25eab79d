"""Reproductions of issue 6 (QGAN); results go to docs/repro/qgan.md.

``lognormal``: Zoufal et al. (arXiv:1904.00043) log-normal loading on 3 qubits,
``examples/lognormal_qgan.yaml`` trained through ``qgm.train.run_config`` (the library entry
of ``qgm train``) for every seed, then ``n`` samples drawn with ``qgm.train.sample_run``
(the library entry of ``qgm sample``); KS and relative entropy KL(target || samples)
of those samples, plus the exact values from the Born vector.

``modes``: mode-collapse study, ``examples/mixture_mode_coverage.yaml`` on the ring of 8
and the 5x5 grid of Gaussians, QGAN vs the classical GAN (``model.name=gan``, same
discriminator, loss and optimizers), per seed: modes covered, high-quality fraction and
mode KL of 2500 fresh samples (VEEGAN / unrolled-GAN definitions, qgm.metrics.mode_coverage),
plus ``modes_covered_20`` (PacGAN's stricter count: >= 20 high-quality samples of 2500) and,
as a reference, the same statistics of uniform noise over the generators' output box.

``discrete``: the same study on the discretised mixtures (``bits`` per axis, bin-mass target):
the discrete QGAN (a Born machine over the ``2 * bits`` qubits, fakes = all bin centres weighted by
the Born vector) vs the classical GAN in discrete mode (a categorical generator, softmax over the
``2**(2 * bits)`` bins), both against the same discriminator on the decoded bin centres; plus, as a
non-adversarial quantum reference, the QCBM with the same ansatz trained on exact MMD (Hamming
distance). High quality = within ``3 std + half a bin diagonal`` of a mode; the reference line is
uniform noise over the bins.

Each run writes its run directory (curves.png = loss curves of both players,
values.png / distribution.png = generated vs real) under ``--out``.

    python benchmarks/repro_qgan.py lognormal --seeds 10 --out runs/repro_qgan
    python benchmarks/repro_qgan.py modes --seeds 10 --steps 1500 --out runs/repro_qgan
    python benchmarks/repro_qgan.py summary --out runs/repro_qgan   # modes table from the finished runs
    python benchmarks/repro_qgan.py discrete --seeds 10 --steps 3000 --out runs/repro_qgan
"""
from __future__ import annotations

import argparse
import json
import os
from multiprocessing import Pool
from pathlib import Path
from typing import Any

import numpy as np

HERE = Path(__file__).resolve().parent.parent
LOGNORMAL = HERE / "examples" / "lognormal_qgan.yaml"
MODES = HERE / "examples" / "mixture_mode_coverage.yaml"
PAPER = {"ks": 0.061, "kl": 0.05}
DATASETS = {"ring": [], "grid": ["dataset.name=grid"]}
#: PacGAN's stricter coverage threshold: high-quality samples a mode needs (of 2500).
STRICT = 20
#: Discrete study: bits per axis (32 x 32 bins, 10 qubits) and the generator ansatz shared by the
#: discrete QGAN and the QCBM reference (qgm.models.qcbm.DEFAULT_ANSATZ: RY RZ layers + CNOT ring, depth 4).
DISCRETE_BITS = 5
DISCRETE_ANSATZ = {"name": "hardware_efficient", "depth": 4, "entangler": "ring"}
DISCRETE_MODELS = ("qgan", "gan", "qcbm")
#: QCBM reference: exact MMD (Liu-Wang bandwidths on the Hamming distance), Adam lr 0.05, these steps.
QCBM_STEPS = 500


def _setup() -> None:
    import torch

    torch.set_num_threads(1)
    import qgm.baselines.gan  # noqa: F401  (registers gan)
    import qgm.models.qgan  # noqa: F401  (registers qgan)


def ks_kl(p: np.ndarray, target: np.ndarray) -> tuple[float, float]:
    """KS statistic of the CDFs and KL(target || p) (inf if p misses a target state)."""
    ks = float(np.abs(np.cumsum(p) - np.cumsum(target)).max())
    nz = target > 0
    with np.errstate(divide="ignore"):
        kl = float(np.sum(target[nz] * (np.log(target[nz]) - np.log(p[nz]))))
    return ks, kl


def lognormal_seed(args: tuple[int, str, int, list[str]]) -> dict[str, Any]:
    """Train seed ``seed``, sample ``n`` values as ``qgm sample`` does, score them."""
    seed, out, n, overrides = args
    _setup()
    from qgm.train import load_config, load_run, run_config, sample_run

    run_dir = Path(out) / "lognormal" / f"seed{seed}"
    cfg = load_config(LOGNORMAL, [f"seed={seed}", "train.progress=false", *overrides])
    summary = run_config(cfg, out=run_dir, overwrite=True)
    values = sample_run(run_dir, n, seed=seed)
    parts = load_run(run_dir)
    target = np.asarray(parts.dataset.target, dtype=np.float64)
    hist = np.bincount(np.rint(values[:, 0]).astype(np.int64), minlength=8) / len(values)
    ks, kl = ks_kl(hist, target)
    ks_exact, kl_exact = ks_kl(parts.model.probs().detach().numpy(), target)
    return {"seed": seed, "ks": ks, "kl": kl, "ks_exact": ks_exact, "kl_exact": kl_exact,
            "train_time_s": summary["train_time_s"], "run_dir": str(run_dir)}


def modes_seed(args: tuple[str, str, int, str, int]) -> dict[str, Any]:
    """One (dataset, model, seed) run of the mode-collapse study."""
    dataset, model, seed, out, steps = args
    _setup()
    from qgm.train import load_config, run_config

    run_dir = Path(out) / "modes" / f"{dataset}_{model}_seed{seed}"
    cfg = load_config(MODES, [f"seed={seed}", f"model.name={model}", f"train.steps={steps}",
                              "train.progress=false", f"name=modes_{dataset}_{model}", *DATASETS[dataset]])
    run_config(cfg, out=run_dir, overwrite=True)
    return modes_row(run_dir)


def discrete_config(dataset: str, model: str, seed: int, steps: int) -> dict[str, Any]:
    """Config of one discrete run: the mode-coverage example on ``bits``-discretised data;
    ``qgan``/``gan`` keep its discriminator, loss and optimizers, ``qcbm`` trains on exact MMD."""
    from qgm.train.config import yaml_load

    raw = yaml_load(MODES.read_text(), str(MODES))
    raw.update(seed=seed, name=f"discrete_{dataset}_{model}",
               dataset={"name": dataset, "bits": DISCRETE_BITS, "n_train": 10000})
    raw["train"].update(steps=steps, progress=False)
    if model == "qgan":
        raw["model"]["ansatz"] = dict(DISCRETE_ANSATZ)
    elif model == "gan":
        raw["model"]["name"] = "gan"
    else:
        raw["model"] = {"name": "qcbm", "ansatz": dict(DISCRETE_ANSATZ), "diff_method": "adjoint"}
        raw["loss"] = {"name": "mmd", "distance": "hamming"}
        raw["optimizer"] = {"name": "adam", "lr": 0.05}
        raw["train"].update(steps=QCBM_STEPS, batch_size=None, eval_every=100)
    return raw


def discrete_seed(args: tuple[str, str, int, str, int]) -> dict[str, Any]:
    """One (dataset, model, seed) run of the discrete mode-collapse study."""
    dataset, model, seed, out, steps = args
    _setup()
    from qgm.train import run_config

    run_dir = Path(out) / "discrete" / f"{dataset}_{model}_seed{seed}"
    run_config(discrete_config(dataset, model, seed, steps), out=run_dir, overwrite=True)
    return modes_row(run_dir)


def modes_row(run_dir: Path) -> dict[str, Any]:
    """The statistics of one finished mode-collapse run (from its summary.json and samples.npy)."""
    from qgm.metrics import mode_coverage
    from qgm.models.base import GenerativeModel
    from qgm.train import load_run

    dataset, model, seed = run_dir.name.rsplit("_", 2)
    summary = json.loads((run_dir / "summary.json").read_text())
    data = load_run(run_dir).dataset
    strict = mode_coverage(np.load(run_dir / "samples.npy"), data.modes, data.mode_radius, min_count=STRICT)
    model_ = GenerativeModel.load(run_dir / "model.pt")
    generator = model_.player_parameters("generator") if model_.tags.owns_objective else model_.parameters()
    return {"dataset": dataset, "model": model, "seed": int(seed[4:]), **summary["metrics"],
            "modes_covered_20": strict["modes_covered"], "n_generator_params": sum(p.numel() for p in generator),
            "train_time_s": summary["train_time_s"]}


def uniform_reference(dataset: str, seeds: int) -> dict[str, Any]:
    """Mode statistics of 2500 uniform points over the QGAN's output box (a generator that learned nothing)."""
    from qgm.metrics import mode_coverage
    from qgm.models.qgan import output_box
    from qgm.registry import DATASETS as REGISTRY

    data = REGISTRY.create(dataset, n_train=10000, seed=0)
    centre, half = (np.asarray(v) for v in output_box(np.asarray(data.train)))
    rows = []
    for s in range(seeds):
        x = centre + half * (2 * np.random.default_rng(s).random((2500, 2)) - 1)
        row = mode_coverage(x, data.modes, data.mode_radius)
        row["modes_covered_20"] = mode_coverage(x, data.modes, data.mode_radius, min_count=STRICT)["modes_covered"]
        rows.append(row)
    return {k: describe([r[k] for r in rows]) for k in rows[0]}


def bins_reference(dataset: str, seeds: int, law: str = "uniform") -> dict[str, Any]:
    """Mode statistics of 2500 bin centres drawn from ``law`` over the discretised data's bins:
    ``"uniform"`` (a generator that learned nothing) or ``"target"`` (the exact bin-mass target,
    a perfect generator)."""
    from qgm.metrics import mode_coverage
    from qgm.registry import DATASETS as REGISTRY

    data = REGISTRY.create(dataset, bits=DISCRETE_BITS, n_train=10000, seed=0)
    rows = []
    for s in range(seeds):
        rng = np.random.default_rng(s)
        p = np.asarray(data.target, dtype=np.float64) if law == "target" else None
        x = data.decode(rng.choice(1 << data.n_bits, size=2500, p=p))
        row = mode_coverage(x, data.modes, data.mode_radius)
        row["modes_covered_20"] = mode_coverage(x, data.modes, data.mode_radius, min_count=STRICT)["modes_covered"]
        rows.append(row)
    return {"mode_radius": data.mode_radius, **{k: describe([r[k] for r in rows]) for k in rows[0]}}


def modes_summary(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Median and spread of every statistic per (dataset, model) over the rows present."""
    keys = ("modes_covered", "modes_covered_20", "high_quality_fraction", "mode_kl", "n_generator_params")
    groups = sorted({(r["dataset"], r["model"]) for r in rows})
    return {f"{d}/{m}": {"n_seeds": sum(1 for r in rows if (r["dataset"], r["model"]) == (d, m)),
                         **{k: describe([r[k] for r in rows if (r["dataset"], r["model"]) == (d, m)]) for k in keys}}
            for d, m in groups}


def finished_modes_rows(out: str, study: str = "modes") -> list[dict[str, Any]]:
    """Rows of the ``study`` ("modes" or "discrete") runs under ``out`` that finished (have summary.json)."""
    _setup()
    return [modes_row(path.parent) for path in sorted((Path(out) / study).glob("*_seed*/summary.json"))]


def describe(values: list[float]) -> dict[str, float]:
    v = np.asarray(values, dtype=np.float64)
    return {"median": float(np.median(v)), "q25": float(np.quantile(v, 0.25)), "q75": float(np.quantile(v, 0.75)),
            "min": float(v.min()), "max": float(v.max())}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("study", choices=["lognormal", "modes", "summary", "discrete", "discrete-summary"])
    ap.add_argument("--seeds", type=int, default=10)
    ap.add_argument("--out", default="runs/repro_qgan")
    ap.add_argument("--n", type=int, default=100000, help="samples drawn per lognormal run")
    ap.add_argument("--steps", type=int, default=1500, help="training steps per mode-collapse run")
    ap.add_argument("--workers", type=int, default=max(1, min(4, os.cpu_count() or 1)))
    ap.add_argument("overrides", nargs="*", help="config overrides KEY=VALUE for the lognormal config")
    args = ap.parse_args()
    Path(args.out).mkdir(parents=True, exist_ok=True)
    if args.study in ("summary", "discrete-summary"):
        discrete = args.study == "discrete-summary"
        rows = finished_modes_rows(args.out, "discrete" if discrete else "modes")
        reference = bins_reference if discrete else uniform_reference
        result = {"rows": rows, "summary": modes_summary(rows),
                  "uniform_reference": {d: reference(d, args.seeds) for d in DATASETS}}
        if discrete:
            result["target_reference"] = {d: bins_reference(d, args.seeds, "target") for d in DATASETS}
        name = "discrete_summary.json" if discrete else "modes_summary.json"
        (Path(args.out) / name).write_text(json.dumps(result, indent=1))
        print(json.dumps({k: v for k, v in result.items() if k != "rows"}, indent=1))
        return
    with Pool(args.workers) as pool:
        if args.study == "lognormal":
            rows = pool.map(lognormal_seed, [(s, args.out, args.n, args.overrides) for s in range(args.seeds)])
            result = {"paper": PAPER, "rows": rows,
                      **{k: describe([r[k] for r in rows]) for k in ("ks", "kl", "ks_exact", "kl_exact")}}
        elif args.study == "discrete":
            jobs = [(d, m, s, args.out, args.steps) for d in DATASETS for m in DISCRETE_MODELS for s in range(args.seeds)]
            rows = pool.map(discrete_seed, jobs, chunksize=1)
            result = {"rows": rows, "summary": modes_summary(rows), "bits_per_axis": DISCRETE_BITS,
                      "uniform_reference": {d: bins_reference(d, args.seeds) for d in DATASETS},
                      "target_reference": {d: bins_reference(d, args.seeds, "target") for d in DATASETS}}
        else:
            jobs = [(d, m, s, args.out, args.steps) for d in DATASETS for m in ("qgan", "gan") for s in range(args.seeds)]
            rows = pool.map(modes_seed, jobs)
            result = {"rows": rows, "summary": modes_summary(rows),
                      "uniform_reference": {d: uniform_reference(d, args.seeds) for d in DATASETS}}
    path = Path(args.out) / f"{args.study}.json"
    path.write_text(json.dumps(result, indent=1))
    print(json.dumps({k: v for k, v in result.items() if k != "rows"}, indent=1))
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
