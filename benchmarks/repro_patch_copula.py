"""Reproductions for the patch QGAN (digits) and the copula QGAN (S&P 500 + NASDAQ).

Results go to docs/repro/patch_copula.md (this script prints the markdown blocks).

Parts (``--part``, default all):

* ``digits``: ``examples/digits_patch_qgan.yaml`` (the PennyLane demo's settings: 4 × 5
  qubits, 1 ancilla, depth 6, batch 1, 500 SGD steps) trained through the Trainer for
  each seed; scores of 178 generated images against the 178 real digit-0 images of
  ``load_digits``: the Fréchet distance on the 32 hidden features of a small MLP
  classifier trained on all of ``load_digits`` (FD, like FID), the share classified as
  "0", and the pixel MMD² (Gaussian kernel, median bandwidth); next to real/real
  (split halves), the untrained generator, uniform-noise images and real digit-8s.
  Writes the image grid ``docs/repro/patch_copula_digits.png``.
* ``copula``: ``examples/market_copula_qgan.yaml`` (discrete QGAN on the 6-bit-per-asset
  copula) per seed; ``scenarios`` draws synthetic returns, compared with the training
  returns (and the held-out last 20% of days): Kendall's tau, lower/upper tail
  dependence at q = 0.05, KS of each marginal, KL of the held-out copula histogram
  (16 × 16 bins) to the model's, joint-crash frequency (both below their 1% quantile),
  with moving-block bootstrap 95% intervals of the real statistics; a Gaussian copula
  fitted to the training pseudo-observations is the baseline.

Usage: ``.venv/bin/python benchmarks/repro_patch_copula.py [--part digits|copula] [--seeds 0 1 2]
[--runs runs/repro]``
"""
from __future__ import annotations

import argparse
import statistics
from pathlib import Path

import numpy as np
import torch
from scipy import stats
from sklearn.datasets import load_digits

import qgm.models.patch_qgan  # noqa: F401  (registers patch_qgan)
import qgm.models.qgan  # noqa: F401  (registers qgan)
from qgm.data.market import fit_gaussian_copula, sample_gaussian_copula
from qgm.metrics.finance import bootstrap_ci, joint_crash_frequency, kendall_tau, tail_dependence
from qgm.metrics.images import digit_reference, frechet_distance
from qgm.models.scenarios import scenarios
from qgm.train import load_config, load_run, run_config

ROOT = Path(__file__).resolve().parents[1]
DIGITS_YAML = ROOT / "examples" / "digits_patch_qgan.yaml"
COPULA_YAML = ROOT / "examples" / "market_copula_qgan.yaml"
GRID_PNG = ROOT / "docs" / "repro" / "patch_copula_digits.png"


def train(yaml: Path, seed: int, runs: Path) -> Path:
    """Train ``yaml`` with ``seed`` into ``runs/<name>_s<seed>`` (overwriting); the run directory."""
    cfg = load_config(yaml, [f"seed={seed}", "train.progress=false"])
    out = runs / f"{cfg.name}_s{seed}"
    run_config(cfg, out, overwrite=True)
    return out


# -- digits ---------------------------------------------------------------------------------
def mmd2(x: np.ndarray, y: np.ndarray, bandwidth: float) -> float:
    """Unbiased MMD² with the Gaussian kernel ``exp(−|a − b|² / (2 h²))``."""
    def k(a: np.ndarray, b: np.ndarray) -> np.ndarray:
        d2 = ((a[:, None, :] - b[None, :, :]) ** 2).sum(-1)
        return np.exp(-d2 / (2 * bandwidth**2))

    kxx, kyy, kxy = k(x, x), k(y, y), k(x, y)
    n, m = len(x), len(y)
    return float((kxx.sum() - np.trace(kxx)) / (n * (n - 1)) + (kyy.sum() - np.trace(kyy)) / (m * (m - 1))
                 - 2 * kxy.mean())


def image_scores(images: np.ndarray, real: np.ndarray, features, predict, bandwidth: float) -> dict[str, float]:
    return {
        "FD": frechet_distance(features(images), features(real)),
        "share '0'": float((predict(images) == 0).mean()),
        "MMD²": mmd2(images, real, bandwidth),
    }


def save_grid(rows: list[tuple[str, np.ndarray]], path: Path) -> None:
    """One row of 8×8 images per ``(label, images (k, 64))``."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    k = max(len(x) for _, x in rows)
    fig, axes = plt.subplots(len(rows), k, figsize=(k * 0.9, len(rows) * 1.0), squeeze=False)
    for r, (label, images) in enumerate(rows):
        for c in range(k):
            ax = axes[r, c]
            ax.axis("off")
            if c < len(images):
                ax.imshow(images[c].reshape(8, 8), cmap="gray_r", vmin=0, vmax=1)
        axes[r, 0].set_title(label, fontsize=7, loc="left")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)


def digits_part(seeds: list[int], runs: Path) -> None:
    d = load_digits()
    real = d.data[d.target == 0] / 16.0
    eights = d.data[d.target == 8][: len(real)] / 16.0
    ref = digit_reference()
    features, predict, accuracy = ref.features, ref.predict, ref.accuracy
    pair = np.sqrt(((real[:, None] - real[None]) ** 2).sum(-1))
    bandwidth = float(np.median(pair[np.triu_indices(len(real), 1)]))
    gen = torch.Generator().manual_seed(123)
    rows: dict[str, list[dict[str, float]]] = {"trained patch QGAN": [], "untrained patch QGAN (step 0)": []}
    grid = []
    for seed in seeds:
        run = train(DIGITS_YAML, seed, runs)
        model = load_run(run).model
        fake = model.sample(len(real), generator=gen).numpy()
        rows["trained patch QGAN"].append(image_scores(fake, real, features, predict, bandwidth))
        untrained = qgm.models.patch_qgan.PatchQGAN(**model.config).sample(len(real), generator=gen).numpy()
        rows["untrained patch QGAN (step 0)"].append(image_scores(untrained, real, features, predict, bandwidth))
        grid.append((f"seed {seed}", fake[:12]))
    noise = torch.rand(len(real), 64, dtype=torch.float64, generator=gen).numpy()
    rng = np.random.default_rng(0)
    halves = []
    for _ in range(10):  # real vs real: two halves of the digit-0 set, against each other
        perm = rng.permutation(len(real))
        a, b = real[perm[: len(real) // 2]], real[perm[len(real) // 2 :]]
        halves.append(image_scores(a, b, features, predict, bandwidth))
    rows["real 0s, half vs half (floor)"] = halves
    rows["uniform noise images"] = [image_scores(noise, real, features, predict, bandwidth)]
    rows["real 8s"] = [image_scores(eights, real, features, predict, bandwidth)]
    save_grid([("real 0s", real[:12]), *grid], GRID_PNG)
    print(f"### Patch QGAN on digit 0 (seeds {seeds}; 178 images vs the 178 real 0s)\n")
    print(f"Feature classifier: MLP 64→32→10 on 75% of load_digits, held-out accuracy {accuracy:.3f}; "
          "FD on its hidden ReLU features.\n")
    print("| images | FD (classifier features) ↓ | share classified '0' ↑ | pixel MMD² ↓ |")
    print("|---|---|---|---|")
    for label, scores in rows.items():
        cells = []
        for key in ("FD", "share '0'", "MMD²"):
            vals = [s[key] for s in scores]
            med = statistics.median(vals)
            cells.append(f"{med:.3f}" + (f" [{min(vals):.3f}, {max(vals):.3f}]" if len(vals) > 1 else ""))
        print(f"| {label} | " + " | ".join(cells) + " |")
    print(f"\nMedian [min, max] over seeds (the floor: over 10 random halvings). Grid: {GRID_PNG.relative_to(ROOT)}\n")


# -- copula ---------------------------------------------------------------------------------
Q_TAIL, Q_CRASH = 0.05, 0.01


def copula_stats(x: np.ndarray, train: np.ndarray) -> dict[str, float]:
    """Dependence statistics of returns ``x`` ``(N, 2)``; KS of each marginal against ``train``."""
    return {
        "tau": kendall_tau(x),
        "lambda_L": tail_dependence(x, Q_TAIL, "lower"),
        "lambda_U": tail_dependence(x, Q_TAIL, "upper"),
        "crash": joint_crash_frequency(x, Q_CRASH),
        "KS_sp500": float(stats.ks_2samp(x[:, 0], train[:, 0]).statistic),
        "KS_nasdaq": float(stats.ks_2samp(x[:, 1], train[:, 1]).statistic),
    }


def coarse_histogram(u: np.ndarray, bins: int = 16) -> np.ndarray:
    """Joint histogram ``(bins * bins,)`` of copula points ``u`` ``(N, 2)`` in [0, 1]."""
    b = np.minimum((u * bins).astype(np.int64), bins - 1)
    return np.bincount(b[:, 0] * bins + b[:, 1], minlength=bins * bins) / len(u)


def kl(p: np.ndarray, q: np.ndarray, eps: float = 1e-12) -> float:
    """``KL(p‖q)`` (q floored at ``eps``)."""
    m = p > 0
    return float((p[m] * np.log(p[m] / np.maximum(q[m], eps))).sum())


def to_returns(u: np.ndarray, train: np.ndarray) -> np.ndarray:
    """Copula points ``u`` ``(N, 2)`` mapped through the training quantiles of each asset."""
    return np.stack([np.quantile(train[:, j], u[:, j]) for j in range(train.shape[1])], axis=1)


def copula_part(seeds: list[int], runs: Path, n: int) -> None:
    gen = torch.Generator().manual_seed(7)
    results: dict[str, list[dict[str, float]]] = {"copula QGAN": [], "Gaussian copula": []}
    dataset = None
    for seed in seeds:
        parts = load_run(train(COPULA_YAML, seed, runs))
        dataset = parts.dataset
        train_r, test_u = dataset.returns("train"), dataset.uniforms("test")
        synth = scenarios(parts.model, dataset, n, gen)
        row = copula_stats(synth, train_r)
        row["KL_test"] = kl(coarse_histogram(test_u), coarse_histogram(stats.rankdata(synth, axis=0) / (n + 1)))
        results["copula QGAN"].append(row)
        corr = fit_gaussian_copula(dataset.uniforms("train"))
        g_u = sample_gaussian_copula(corr, n, generator=gen)
        row = copula_stats(to_returns(g_u, train_r), train_r)
        row["KL_test"] = kl(coarse_histogram(test_u), coarse_histogram(g_u))
        results["Gaussian copula"].append(row)
    assert dataset is not None
    train_r, test_r = dataset.returns("train"), dataset.returns("test")
    real_train = copula_stats(train_r, train_r)
    real_train["KL_test"] = kl(coarse_histogram(dataset.uniforms("test")), coarse_histogram(dataset.uniforms("train")))
    real_test = copula_stats(test_r, train_r)
    real_test["KL_test"] = 0.0
    block = 20
    ci = {
        "tau": bootstrap_ci(kendall_tau, train_r, n_boot=300, block=block, seed=0),
        "lambda_L": bootstrap_ci(lambda a: tail_dependence(a, Q_TAIL, "lower"), train_r, n_boot=1000, block=block),
        "lambda_U": bootstrap_ci(lambda a: tail_dependence(a, Q_TAIL, "upper"), train_r, n_boot=1000, block=block),
        "crash": bootstrap_ci(lambda a: joint_crash_frequency(a, Q_CRASH), train_r, n_boot=1000, block=block),
    }
    keys = ["tau", "lambda_L", "lambda_U", "crash", "KS_sp500", "KS_nasdaq", "KL_test"]
    print(f"### Copula QGAN, S&P 500 + NASDAQ ({len(train_r)} training days, {len(test_r)} held out; "
          f"{n} synthetic days per seed, seeds {seeds})\n")
    print("| | Kendall τ | λ_L (q=0.05) | λ_U (q=0.05) | joint crash (1%) | KS S&P | KS NASDAQ "
          "| KL held-out 16×16 |")
    print("|---|---|---|---|---|---|---|---|")

    def fmt(key: str, v: float) -> str:
        return f"{100 * v:.2f}%" if key == "crash" else f"{v:.3f}"

    print("| real (train) | " + " | ".join(fmt(k, real_train[k]) for k in keys) + " |")
    print("| real 95% CI (block bootstrap, 20 days) | " + " | ".join(
        f"[{fmt(k, ci[k][0])}, {fmt(k, ci[k][1])}]" if k in ci else "" for k in keys) + " |")
    print("| real (held-out test) | " + " | ".join(fmt(k, real_test[k]) for k in keys) + " |")
    for label, rows in results.items():
        cells = []
        for k in keys:
            vals = [r[k] for r in rows]
            med = statistics.median(vals)
            inside = ("" if k not in ci else (" ✓" if ci[k][0] <= med <= ci[k][1] else " ✗"))
            cells.append(fmt(k, med) + inside)
        print(f"| {label} (median over seeds) | " + " | ".join(cells) + " |")
    print("\n✓ / ✗: median inside / outside the real data's 95% interval. KS against the training returns; "
          "KL(held-out histogram ‖ model histogram) on 16 × 16 copula bins; the 'real (train)' row's KL is the "
          "empirical training copula's.\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--part", choices=["digits", "copula", "all"], default="all")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--runs", default="runs/repro", help="folder of the training runs")
    parser.add_argument("--n", type=int, default=100_000, help="synthetic days per copula model")
    parser.add_argument("--threads", type=int, default=1, help="torch threads (1 avoids oversubscription)")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    runs = Path(args.runs)
    if args.part in ("digits", "all"):
        digits_part(args.seeds, runs)
    if args.part in ("copula", "all"):
        copula_part(args.seeds, runs, args.n)


if __name__ == "__main__":
    main()
