"""Tail dependence of QCBMs on the S&P 500 / NASDAQ copula: which configuration reaches the data's intervals?

Each configuration: ``market_copula`` with ``bits`` per asset, a QCBM with a
``hardware_efficient`` ansatz (depth, entangler), trained on the exact training
histogram with an exact-probability loss (``kl`` = KL(train ‖ model), or ``mmd``
with Hamming bandwidths ``sigmas``), Adam with a cosine schedule. Evaluation as
in ``repro_patch_copula.py`` (its helpers are reused): ``n`` sampled bins decoded to
returns through the training quantiles with uniform jitter inside each bin, then
Kendall τ, λ_L / λ_U at q = 0.05, the joint-crash frequency at 1%, and
KL(held-out ‖ model) on 16 × 16 copula bins. Reference rows: the real training
days with 20-day block-bootstrap 95% intervals, a Gaussian copula, and the
"empirical histogram" at each bit depth (the training histogram itself sampled and
decoded like a model: the best a perfect fit of that histogram can do).

Usage (from ``benchmarks/``): ``python repro_copula_tails.py [--references] --configs NAME ...
--seeds S ... --out FILE.json`` (names: the keys of :data:`CONFIGS`); ``--table FILE.json ...``
prints the Markdown table of saved results (one file must hold the reference rows).
"""
from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any

import torch
from scipy import stats

from qgm.circuits import Circuit
from qgm.data.market import MarketCopula, fit_gaussian_copula, sample_gaussian_copula
from qgm.losses.likelihood import kl as kl_loss
from qgm.losses.mmd import mmd as mmd_loss
from qgm.metrics.finance import bootstrap_ci, joint_crash_frequency, kendall_tau, tail_dependence
from qgm.models.ansatz import build_ansatz
from qgm.models.qcbm import QCBM
from repro_patch_copula import Q_CRASH, Q_TAIL, coarse_histogram, copula_stats, kl, to_returns

LIU_WANG_SIGMAS = [0.5, 1.0, 2.0, 4.0]


def gray_decoder(bits: int, assets: int = 2) -> Circuit:
    """Fixed CNOT ladder per asset mapping Gray-coded bits to binary (``b_0 = g_0``, ``b_i = b_{i-1} ⊕ g_i``).

    Appended to a trainable circuit, the circuit's bits before the ladder are the Gray code of each
    asset's bin, in which neighbouring bins differ in one bit: a band around the copula's
    diagonal becomes "asset 1's Gray bits ≈ asset 0's, low bits flipped", a pairwise bit structure.
    """
    c = Circuit(bits * assets)
    for a in range(assets):
        for i in range(1, bits):
            c = c.cx(a * bits + i - 1, a * bits + i)
    return c


def comonotone_ansatz(bits: int, layers: int) -> Circuit:
    """Two assets of ``bits`` qubits each (asset 0 on wires ``0..bits-1``), starting at the comonotone copula.

    Fixed prefix: H on asset 0's wires, CNOT from asset-0 bit i to asset-1 bit i (at zero angles the
    circuit samples the diagonal ``u_0 = u_1``). Then ``layers`` × [RY on every wire; CRY on every
    pair of wires, control on the lower wire in even layers and on the higher wire in odd ones],
    all identity at zero angle; a final RY layer. Real amplitudes only.
    """
    n = 2 * bits
    c = Circuit(n)
    for i in range(bits):
        c = c.h(i)
    for i in range(bits):
        c = c.cx(i, bits + i)
    for layer in range(layers):
        for q in range(n):
            c = c.ry(q)
        for a in range(n):
            for b in range(a + 1, n):
                c = c.cry(a, b) if layer % 2 == 0 else c.cry(b, a)
    for q in range(n):
        c = c.ry(q)
    return c

#: name -> bits per asset, circuit depth, entangler ("comonotone" = :func:`comonotone_ansatz`), loss
#: ("kl" | "mmd" with ``sigmas`` | "mrkl" | "tailkl" with ``weight``), optional ``gray`` decoder, Adam steps, lr.
CONFIGS: dict[str, dict[str, Any]] = {
    "b4-d6-all-mmd-wide": dict(bits=4, depth=6, entangler="all", loss="mmd", sigmas=LIU_WANG_SIGMAS, steps=400, lr=0.05),
    "b4-d6-all-kl": dict(bits=4, depth=6, entangler="all", loss="kl", steps=1000, lr=0.05),
    "b4-d6-all-mmd-narrow": dict(bits=4, depth=6, entangler="all", loss="mmd", sigmas=[0.1, 0.25], steps=1000, lr=0.05),
    "b5-d8-all-kl": dict(bits=5, depth=8, entangler="all", loss="kl", steps=1500, lr=0.05),
    "b6-d8-all-kl": dict(bits=6, depth=8, entangler="all", loss="kl", steps=1500, lr=0.05),
    "b6-d12-all-kl": dict(bits=6, depth=12, entangler="all", loss="kl", steps=2000, lr=0.03),
    "b6-d12-all-mmd-narrow": dict(bits=6, depth=12, entangler="all", loss="mmd", sigmas=[0.1, 0.25], steps=2000, lr=0.03),
    "b6-d12-all-kl-long": dict(bits=6, depth=12, entangler="all", loss="kl", steps=12000, lr=0.02),
    "b6-d12-all-mrkl": dict(bits=6, depth=12, entangler="all", loss="mrkl", steps=4000, lr=0.03),
    "b6-d12-all-kl-gray": dict(bits=6, depth=12, entangler="all", loss="kl", gray=True, steps=3000, lr=0.03),
    "b6-d12-all-mrkl-gray": dict(bits=6, depth=12, entangler="all", loss="mrkl", gray=True, steps=3000, lr=0.03),
    "b6-d12-all-tailkl20": dict(bits=6, depth=12, entangler="all", loss="tailkl", weight=20.0, steps=3000, lr=0.03),
    "b6-d12-all-tailkl100": dict(bits=6, depth=12, entangler="all", loss="tailkl", weight=100.0, steps=3000, lr=0.03),
    "b6-d20-all-tailkl50": dict(bits=6, depth=20, entangler="all", loss="tailkl", weight=50.0, steps=6000, lr=0.02),
    "b6-d20-all-tailkl50-gray": dict(bits=6, depth=20, entangler="all", loss="tailkl", weight=50.0, gray=True,
                                     steps=6000, lr=0.02),
    "b6-d24-all-tailkl50-long": dict(bits=6, depth=24, entangler="all", loss="tailkl", weight=50.0, steps=10000,
                                     lr=0.02),
    "b6-d24-all-tailkl50-gray-long": dict(bits=6, depth=24, entangler="all", loss="tailkl", weight=50.0, gray=True,
                                          steps=10000, lr=0.02),
    "b6-d24-all-tailkl100-gray-long": dict(bits=6, depth=24, entangler="all", loss="tailkl", weight=100.0, gray=True,
                                           steps=10000, lr=0.02),
    "b6-como2-kl": dict(bits=6, depth=2, entangler="comonotone", loss="kl", steps=1500, lr=0.02),
    "b6-como4-kl": dict(bits=6, depth=4, entangler="comonotone", loss="kl", steps=2000, lr=0.02),
}


class MultiResolutionKL:
    """``Σ_k KL(π_k ‖ p_k)`` over the copula histograms at ``2**k × 2**k`` bins, ``k = 1..bits``.

    ``π_k`` / ``p_k``: the training / model histograms summed over blocks of fine bins (asset 0's
    bits first, MSB first, so a coarse bin is a leading-bit prefix of each asset). Every term is
    a proper divergence (zero at ``p = π``); the coarse terms weight the corner cells (joint tails)
    by their relative, not absolute, error.
    """

    def __init__(self, dataset: MarketCopula) -> None:
        self.bits = dataset.bits_per_variable
        self.target = histogram(dataset.train, 1 << dataset.n_bits)

    def coarse(self, p: torch.Tensor, k: int) -> torch.Tensor:
        """Histogram ``(2**k, 2**k)`` of ``p`` ``(2**(2 bits),)`` on the first ``k`` bits of each asset."""
        f, c = 1 << self.bits, 1 << k
        return p.reshape(c, f // c, c, f // c).sum(dim=(1, 3))

    def __call__(self, model: QCBM, batch: Any) -> torch.Tensor:
        p = model.probs()
        total = p.new_zeros(())
        for k in range(1, self.bits + 1):
            t, q = self.coarse(self.target, k), self.coarse(p, k)
            m = t > 0
            total = total + (t[m] * (t[m] / q[m].clamp_min(1e-300)).log()).sum()
        return total


class TailEventKL:
    """``KL(π ‖ p) + weight · Σ_A KL(Bernoulli(π(A)) ‖ Bernoulli(p(A)))`` over tail events ``A``.

    Events, for cell sizes ``2**-k`` (``k = 3..bits``) in each tail: both assets in the corner
    square, and each asset alone in its strip (lower: ``u < 2**-k``; upper: ``u ≥ 1 - 2**-k``).
    Every term is zero at ``p = π``; the event terms give the joint-tail masses (which set
    λ_L, λ_U and the crash frequency) a weight the bin-level KL (≈ 3% of the mass) does not.
    """

    def __init__(self, dataset: MarketCopula, weight: float) -> None:
        self.bits, self.weight = dataset.bits_per_variable, float(weight)
        self.target = histogram(dataset.train, 1 << dataset.n_bits)
        f = 1 << self.bits
        idx = torch.arange(f)
        masks = []
        for k in range(3, self.bits + 1):
            w = f >> k
            for side in (idx < w, idx >= f - w):
                a0, a1 = side[:, None].expand(f, f), side[None, :].expand(f, f)
                masks += [a0 & a1, a0, a1]
        self.masks = torch.stack([m.reshape(-1) for m in masks]).double()
        self.target_events = self.masks @ self.target

    def __call__(self, model: QCBM, batch: Any) -> torch.Tensor:
        p = model.probs()
        m = self.target > 0
        fine = (self.target[m] * (self.target[m] / p[m].clamp_min(1e-300)).log()).sum()
        t, q = self.target_events, (self.masks @ p).clamp(1e-12, 1 - 1e-12)
        events = (t * (t / q).log() + (1 - t) * ((1 - t) / (1 - q)).log()).sum()
        return fine + self.weight * events


def histogram(indices: torch.Tensor, size: int) -> torch.Tensor:
    """Normalised bin counts ``(size,)`` float64 of basis indices."""
    return torch.bincount(indices.long(), minlength=size).double() / len(indices)


def evaluate(dataset: MarketCopula, indices: torch.Tensor, gen: torch.Generator) -> dict[str, float]:
    """Statistics of sampled basis indices decoded to returns (jittered inside bins)."""
    synth = dataset.decode(indices, generator=gen)
    train_r = dataset.returns("train")
    row = copula_stats(synth, train_r)
    n = len(synth)
    row["KL_test"] = kl(coarse_histogram(dataset.uniforms("test")),
                        coarse_histogram(stats.rankdata(synth, axis=0) / (n + 1)))
    return row


def train_config(name: str, seed: int, n: int) -> dict[str, Any]:
    """Train configuration ``name`` with ``seed``; statistics of ``n`` samples plus training info."""
    cfg = CONFIGS[name]
    dataset = MarketCopula(bits=cfg["bits"])
    if cfg["entangler"] == "comonotone":
        source: Any = comonotone_ansatz(cfg["bits"], cfg["depth"])
    else:
        source = {"name": "hardware_efficient", "n_qubits": dataset.n_bits, "depth": cfg["depth"],
                  "entangler": cfg["entangler"]}
        if cfg.get("gray"):
            source = build_ansatz(source).compose(gray_decoder(cfg["bits"]))
    model = QCBM(source, diff_method="backprop", init="small", seed=seed, init_options={"std": cfg.get("init_std", 0.1)})
    if cfg["loss"] == "tailkl":
        loss_fn: Any = TailEventKL(dataset, cfg["weight"])
    elif cfg["loss"] == "mrkl":
        loss_fn = MultiResolutionKL(dataset)
    elif cfg["loss"] == "kl":
        loss_fn = kl_loss(dataset)
    else:
        loss_fn = mmd_loss(dataset, sigmas=cfg["sigmas"], estimator="exact")
    opt = torch.optim.Adam(model.parameters(), lr=cfg["lr"])
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=cfg["steps"])
    t0 = time.time()
    for _ in range(cfg["steps"]):
        opt.zero_grad()
        loss = loss_fn(model, None)
        loss.backward()
        opt.step()
        sched.step()
    seconds = time.time() - t0
    with torch.no_grad():
        p = model.probs()
        target = histogram(dataset.train, 1 << dataset.n_bits)
        kl_train = float((target[target > 0] * (target[target > 0] / p[target > 0].clamp_min(1e-12)).log()).sum())
    gen = torch.Generator().manual_seed(1000 + seed)
    row = evaluate(dataset, model.sample(n, generator=gen), gen)
    row.update(config=name, seed=seed, final_loss=float(loss.detach()), KL_train_bins=kl_train, seconds=seconds,
               n_params=model.circuit.n_params, **{k: v for k, v in cfg.items() if k != "sigmas"},
               sigmas=cfg.get("sigmas"))
    return row


def references(n: int) -> dict[str, Any]:
    """Real-data statistics with block-bootstrap intervals, Gaussian copula, empirical histograms."""
    dataset = MarketCopula(bits=4)
    train_r = dataset.returns("train")
    gen = torch.Generator().manual_seed(7)
    real = copula_stats(train_r, train_r)
    real["KL_test"] = kl(coarse_histogram(dataset.uniforms("test")), coarse_histogram(dataset.uniforms("train")))
    block = 20
    ci = {
        "tau": bootstrap_ci(kendall_tau, train_r, n_boot=300, block=block, seed=0),
        "lambda_L": bootstrap_ci(lambda a: tail_dependence(a, Q_TAIL, "lower"), train_r, n_boot=1000, block=block),
        "lambda_U": bootstrap_ci(lambda a: tail_dependence(a, Q_TAIL, "upper"), train_r, n_boot=1000, block=block),
        "crash": bootstrap_ci(lambda a: joint_crash_frequency(a, Q_CRASH), train_r, n_boot=1000, block=block),
    }
    g_u = sample_gaussian_copula(fit_gaussian_copula(dataset.uniforms("train")), n, generator=gen)
    gauss = copula_stats(to_returns(g_u, train_r), train_r)
    gauss["KL_test"] = kl(coarse_histogram(dataset.uniforms("test")), coarse_histogram(g_u))
    empirical = {}
    for bits in (4, 5, 6):
        d = MarketCopula(bits=bits)
        p = histogram(d.train, 1 << d.n_bits)
        idx = torch.multinomial(p, n, replacement=True, generator=gen)
        empirical[bits] = evaluate(d, idx, gen)
    return {"real": real, "ci": ci, "gaussian": gauss, "empirical": empirical}


KEYS = ("tau", "lambda_L", "lambda_U", "crash", "KL_test")


def cell(key: str, value: float, ci: dict[str, Any]) -> str:
    """Formatted value, with ✓ / ✗ for inside / outside the real 95% interval."""
    text = f"{100 * value:.2f}%" if key == "crash" else f"{value:.3f}"
    if key in ci:
        text += " ✓" if ci[key][0] <= value <= ci[key][1] else " ✗"
    return text


def table(paths: list[str]) -> str:
    """Markdown table of the reference rows and every run stored in the JSON files ``paths``."""
    runs, refs = [], None
    for path in paths:
        data = json.loads(Path(path).read_text())
        refs = data.get("references", refs)
        runs += data["runs"]
    if refs is None:
        raise SystemExit("--table: none of the files holds the reference rows (run once with --references)")
    ci = refs["ci"]
    lines = ["| row | loss | qubits | params | steps | KL train bins | Kendall τ | λ_L (q=0.05) | λ_U (q=0.05) "
             "| joint crash (1%) | KL held-out 16×16 | train s |", "|" + "---|" * 12]
    def ref(label: str, row: dict[str, float]) -> str:
        return f"| {label} | | | | | | " + " | ".join(cell(k, row[k], ci) for k in KEYS) + " | |"
    lines.append(ref("real training days", refs["real"]))
    lines.append("| real 95% CI (20-day block bootstrap) | | | | | | " + " | ".join(
        (f"[{cell(k, ci[k][0], {})}, {cell(k, ci[k][1], {})}]" if k in ci else "") for k in KEYS) + " | |")
    lines.append(ref("Gaussian copula", refs["gaussian"]))
    for bits, row in refs["empirical"].items():
        lines.append(ref(f"training histogram itself, {bits} bits/asset (perfect-fit ceiling)", row))
    for r in runs:
        loss = r["loss"] + (f" σ={r['sigmas']}" if r.get("sigmas") else "") + (
            f" w={r['weight']:g}" if r.get("weight") else "") + (" + Gray decoder" if r.get("gray") else "")
        lines.append(f"| {r['config']} seed {r['seed']} | {loss} | {2 * r['bits']} | {r['n_params']} | {r['steps']} "
                     f"| {r['KL_train_bins']:.3f} | " + " | ".join(cell(k, r[k], ci) for k in KEYS)
                     + f" | {r['seconds']:.0f} |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--configs", nargs="*", default=[], help=f"any of {list(CONFIGS)}")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0])
    parser.add_argument("--n", type=int, default=100_000, help="synthetic days per model")
    parser.add_argument("--references", action="store_true", help="also compute the reference rows")
    parser.add_argument("--out", help="JSON file of the results")
    parser.add_argument("--table", nargs="+", help="print the Markdown table of these JSON files and exit")
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    if args.table:
        print(table(args.table))
        return
    if not args.out:
        parser.error("--out is required unless --table is given")
    torch.set_num_threads(args.threads)
    out: dict[str, Any] = {"runs": []}
    if args.references:
        out["references"] = references(args.n)
        Path(args.out).write_text(json.dumps(out, indent=1))
    for name in args.configs:
        for seed in args.seeds:
            row = train_config(name, seed, args.n)
            print(json.dumps(row), flush=True)
            out["runs"].append(row)
            Path(args.out).write_text(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
