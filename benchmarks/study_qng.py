"""Side-by-side study: quantum natural gradient vs Adam vs plain gradient descent on QCBMs
(issue #4; results in docs/repro/geometry.md, section "QNG vs Adam vs GD").

Tasks (exact probabilities, statevector):

* ``bas``: Bars-and-Stripes 3×3, 9 qubits, target uniform over the 14 valid
  patterns, pixel (r, c) = wire 3r + c (wire 0 = most significant bit).
  MMD with the Hamming-distance kernel, Liu & Wang's bandwidths σ = 0.5, 1, 2, 4
  (``exp(-d/(2σ))``).
* ``gauss``: Liu & Wang's double Gaussian on 10 qubits, ``π(x) ∝ N(x; 2/7·2ⁿ, 2ⁿ/8)
  + N(x; 5/7·2ⁿ, 2ⁿ/8)``, x = 0 … 2ⁿ − 1. MMD with the integer distance
  ``(x − y)²`` and Liu & Wang's code bandwidths σ = 0.25, 4.

Model: :class:`qgm.models.QCBM` with the Liu–Wang ansatz (RZ·RX·RZ layers, CNOT
entanglers on the 3×3 open-grid neighbours for BAS, on a ring for the Gaussian),
angles uniform in [−π, π) from the seed. Every optimizer starts from the same
angles for a given seed. The training loss is the MMD (``--loss mmd``, default) or
``KL(π‖p)`` (``--loss kl``); KL and MMD are monitored after every step.

Optimizers: ``torch.optim.SGD`` (plain gradient descent, no momentum),
``torch.optim.Adam`` (default betas) and :class:`qgm.optim.QNG` with the exact
(full) Fubini–Study metric recomputed every step, pinv solver, Tikhonov λ swept
with the step size (1e-3 and 1e-1).

Protocol: a learning-rate sweep per optimizer on 2 sweep seeds (1000, 1001, not
used in the study), choosing the setting with the smallest median number of
iterations to reach KL < 0.1, then KL < 0.5 (unreached counts as cap + 1), then
the smallest median final KL; then 10 study seeds (0 … 9) at the chosen setting. A run
stops at the step cap or as soon as every threshold is reached. Costs:
iterations, wall-clock seconds and process CPU seconds of the training steps
only (loss, backward, optimizer step including the metric), after a warm-up
that compiles the circuit programs; monitoring is not timed.

Usage::

    .venv/bin/python benchmarks/study_qng.py                 # full study (sweep + 10 seeds)
    .venv/bin/python benchmarks/study_qng.py --quick         # 2 seeds, short caps, 2 settings per optimizer
    .venv/bin/python benchmarks/study_qng.py --loss kl       # train on KL(π‖p) instead of the MMD
    .venv/bin/python benchmarks/study_qng.py --tasks bas --threads 1 --json /tmp/study.json
"""
from __future__ import annotations

import argparse
import itertools
import json
import math
import statistics
import time
from dataclasses import dataclass, replace
from typing import Any, Callable, Optional, Sequence

import torch

from qgm.circuits import Circuit, liu_wang
from qgm.losses import KLLoss, MMDLoss
from qgm.models import QCBM
from qgm.optim import QNG

KL_THRESHOLDS = (0.5, 0.1)
OPTIMIZERS = ("qng", "adam", "gd")
SWEEP_SEEDS = (1000, 1001)


@dataclass(frozen=True)
class Setting:
    """Hyper-parameters of one optimizer run: step size, and Tikhonov λ for QNG (None otherwise)."""

    lr: float
    lam: Optional[float] = None

    def __str__(self) -> str:
        return f"{self.lr:g}" if self.lam is None else f"{self.lr:g}, λ={self.lam:g}"

    @classmethod
    def parse(cls, text: str) -> "Setting":
        """``"10"`` or ``"10:0.001"`` (lr:lam)."""
        lr, _, lam = text.partition(":")
        return cls(float(lr), float(lam) if lam else None)


def grid(lrs: Sequence[float], lams: Sequence[Optional[float]] = (None,)) -> tuple[Setting, ...]:
    """Every (lr, λ) combination, λ-major."""
    return tuple(Setting(lr, lam) for lam in lams for lr in lrs)


# -- targets --------------------------------------------------------------------------------
def bars_and_stripes_target(rows: int = 3, cols: int = 3) -> torch.Tensor:
    """Uniform distribution ``(2**(rows·cols),)`` over the valid bars-and-stripes images.

    Pixel (r, c) is wire ``cols·r + c``; wire 0 is the most significant bit of the index.
    Stripes: every row constant; bars: every column constant (all-0 and all-1 are both).
    """
    n = rows * cols
    images = set()
    for row_bits in itertools.product((0, 1), repeat=rows):
        images.add(tuple(row_bits[r] for r in range(rows) for _ in range(cols)))
    for col_bits in itertools.product((0, 1), repeat=cols):
        images.add(tuple(col_bits[c] for _ in range(rows) for c in range(cols)))
    target = torch.zeros(1 << n, dtype=torch.float64)
    for img in images:
        target[int("".join(map(str, img)), 2)] = 1.0
    return target / target.sum()


def double_gaussian_target(n_bits: int = 10) -> torch.Tensor:
    """Liu & Wang's mixture ``(2**n,)``: means 2/7·2ⁿ and 5/7·2ⁿ, standard deviation 2ⁿ/8, normalised."""
    size = 1 << n_bits
    x = torch.arange(size, dtype=torch.float64)
    sigma = size / 8.0
    pdf = sum(torch.exp(-((x - mu) ** 2) / (2.0 * sigma**2)) for mu in (2.0 / 7.0 * size, 5.0 / 7.0 * size))
    return pdf / pdf.sum()


def grid_pairs(rows: int, cols: int) -> list[tuple[int, int]]:
    """Nearest-neighbour pairs of an open rows×cols grid, wire ``cols·r + c``."""
    horizontal = [(cols * r + c, cols * r + c + 1) for r in range(rows) for c in range(cols - 1)]
    vertical = [(cols * r + c, cols * (r + 1) + c) for r in range(rows - 1) for c in range(cols)]
    return horizontal + vertical


@dataclass(frozen=True)
class Task:
    """One benchmark problem: circuit, target and the MMD kernel the loss and the thresholds use."""

    name: str
    circuit: Circuit
    target: torch.Tensor
    mmd_options: dict[str, Any]
    mmd_thresholds: tuple[float, ...]

    @property
    def n_bits(self) -> int:
        return self.circuit.n_qubits


def make_task(name: str, depth: int) -> Task:
    """The ``bas`` or ``gauss`` task with a Liu–Wang ansatz of ``depth`` entangling layers."""
    if name == "bas":
        return Task(
            "bas", liu_wang(9, depth, grid_pairs(3, 3)), bars_and_stripes_target(),
            {"distance": "hamming", "sigmas": (0.5, 1.0, 2.0, 4.0)}, (1e-3, 1e-4),
        )
    if name == "gauss":
        return Task(
            "gauss", liu_wang(10, depth, "ring"), double_gaussian_target(10),
            {"distance": "integer", "sigmas": (0.25, 4.0)}, (1e-4, 1e-5),
        )
    raise SystemExit(f"--tasks: unknown task {name!r}; known: bas, gauss")


# -- optimizers -----------------------------------------------------------------------------
def make_optimizer(name: str, model: QCBM, setting: Setting) -> torch.optim.Optimizer:
    """``gd`` (SGD, no momentum), ``adam`` (default betas) or ``qng`` (full metric, pinv, λ from ``setting``)."""
    if name == "gd":
        return torch.optim.SGD(model.parameters(), lr=setting.lr)
    if name == "adam":
        return torch.optim.Adam(model.parameters(), lr=setting.lr)
    if name == "qng":
        lam = 1e-3 if setting.lam is None else setting.lam
        return QNG(model.parameters(), lr=setting.lr, circuit=model.circuit, approx=None, lam=lam)
    raise ValueError(f"unknown optimizer {name!r}")


# -- one run --------------------------------------------------------------------------------
@dataclass
class RunResult:
    """Trajectory summary: first iteration (and cumulative cost) at which each threshold holds."""

    task: str
    optimizer: str
    setting: Setting
    seed: int
    steps: int
    final_kl: float
    final_mmd: float
    wall_s: float  # training time of all steps run
    cpu_s: float
    hits: dict[str, Optional[dict[str, float]]]  # metric label -> {"iter", "wall_s", "cpu_s"} or None


def threshold_labels(task: Task) -> list[str]:
    return [f"KL<{t:g}" for t in KL_THRESHOLDS] + [f"MMD<{t:g}" for t in task.mmd_thresholds]


def monitor(task: Task, model: QCBM, mmd: MMDLoss) -> tuple[float, float]:
    """``(KL(π‖p), MMD²)`` of the model's exact distribution (not timed, no gradient)."""
    with torch.no_grad():
        p = model.probs()
        support = task.target > 0
        pi = task.target[support]
        kl = float((pi * (pi.log() - p[support].clamp_min(1e-300).log())).sum())
        return kl, float(mmd.kernel.quadratic(p - task.target))


def run(task: Task, optimizer: str, setting: Setting, seed: int, max_steps: int, loss_name: str) -> RunResult:
    """Train one QCBM until every threshold is met or ``max_steps`` updates are done."""
    model = QCBM(task.circuit, seed=seed)
    mmd = MMDLoss(task.n_bits, task.target, **task.mmd_options)
    loss_fn: Callable[[QCBM, None], torch.Tensor] = mmd if loss_name == "mmd" else KLLoss(task.n_bits, task.target)
    opt = make_optimizer(optimizer, model, setting)
    limits = dict(zip(threshold_labels(task), (*KL_THRESHOLDS, *task.mmd_thresholds)))
    hits: dict[str, Optional[dict[str, float]]] = {label: None for label in limits}
    wall = cpu = 0.0
    step = 0
    while True:
        kl, mmd_value = monitor(task, model, mmd)
        for label, limit in limits.items():
            value = kl if label.startswith("KL") else mmd_value
            if hits[label] is None and value < limit:
                hits[label] = {"iter": step, "wall_s": wall, "cpu_s": cpu}
        if step == max_steps or all(h is not None for h in hits.values()) or not math.isfinite(kl):
            break
        w0, c0 = time.perf_counter(), time.process_time()
        opt.zero_grad()
        loss_fn(model, None).backward()
        opt.step()
        wall += time.perf_counter() - w0
        cpu += time.process_time() - c0
        step += 1
    return RunResult(task.name, optimizer, setting, seed, step, kl, mmd_value, wall, cpu, hits)


def warm_up(task: Task, loss_name: str, optimizers: Sequence[str]) -> None:
    """Compile the programs (state, gradient, metric) once so no timed run pays for it."""
    for name in optimizers:
        run(task, name, Setting(1e-3), seed=12345, max_steps=2, loss_name=loss_name)


# -- statistics and tables ------------------------------------------------------------------
def quantiles(values: Sequence[float]) -> tuple[float, float, float]:
    """(25th, 50th, 75th) percentiles (linear interpolation); ``inf`` entries stay ordered last."""
    v = sorted(values)
    if len(v) == 1:
        return v[0], v[0], v[0]

    def q(f: float) -> float:
        pos = f * (len(v) - 1)
        lo, hi = math.floor(pos), math.ceil(pos)
        if math.isinf(v[lo]) or math.isinf(v[hi]):
            return v[hi] if pos - lo > 0 else v[lo]
        return v[lo] + (v[hi] - v[lo]) * (pos - lo)

    return q(0.25), q(0.5), q(0.75)


def fmt_stat(values: Sequence[float], digits: int) -> str:
    """``median [q25, q75]``; unreached runs count as ∞ (shown as '>cap')."""
    q25, q50, q75 = quantiles(values)

    def f(x: float) -> str:
        return "∞" if math.isinf(x) else f"{x:.{digits}f}"

    return f"{f(q50)} [{f(q25)}, {f(q75)}]"


def hit_values(results: Sequence[RunResult], label: str, key: str) -> list[float]:
    return [math.inf if r.hits[label] is None else float(r.hits[label][key]) for r in results]


def sweep_score(results: Sequence[RunResult], cap: int) -> tuple[float, ...]:
    """Median iterations to KL < 0.1, then to KL < 0.5 (unreached = cap + 1), then median final KL:
    compared lexicographically, smaller is better."""
    def median_iters(label: str) -> float:
        return statistics.median(cap + 1 if r.hits[label] is None else r.hits[label]["iter"] for r in results)

    strict_first = sorted(KL_THRESHOLDS)
    return (*(median_iters(f"KL<{t:g}") for t in strict_first), statistics.median(r.final_kl for r in results))


def print_sweep_table(
    task: Task, rows: dict[str, dict[Setting, list[RunResult]]], chosen: dict[str, Setting], caps: dict[str, int]
) -> None:
    labels = threshold_labels(task)[: len(KL_THRESHOLDS)]
    print(f"\n### LR sweep, {task.name} (seeds {', '.join(map(str, SWEEP_SEEDS))})\n")
    print(f"| optimizer | lr | cap | {' | '.join(f'iterations to {label} (per seed)' for label in labels)} "
          "| final KL (per seed) | chosen |")
    print("|---|---|---|" + "---|" * len(labels) + "---|---|")
    for name, by_setting in rows.items():
        for setting, results in by_setting.items():
            its = " | ".join(
                ", ".join("—" if r.hits[label] is None else str(r.hits[label]["iter"]) for r in results)
                for label in labels
            )
            kls = ", ".join(f"{r.final_kl:.3g}" for r in results)
            mark = "✓" if chosen[name] == setting else ""
            print(f"| {name} | {setting} | {caps[name]} | {its} | {kls} | {mark} |")


def print_study_table(task: Task, by_opt: dict[str, list[RunResult]], caps: dict[str, int]) -> None:
    print(f"\n### Study, {task.name}: {task.circuit.n_qubits} qubits, {task.circuit.n_params} parameters, "
          f"{len(next(iter(by_opt.values())))} seeds; median [IQR]\n")
    print("| optimizer | lr | cap | threshold | reached | iterations | wall s | CPU s |")
    print("|---|---|---|---|---|---|---|---|")
    for name, results in by_opt.items():
        for label in threshold_labels(task):
            reached = sum(r.hits[label] is not None for r in results)
            print(f"| {name} | {results[0].setting} | {caps[name]} | {label} | {reached}/{len(results)} | "
                  f"{fmt_stat(hit_values(results, label, 'iter'), 0)} | "
                  f"{fmt_stat(hit_values(results, label, 'wall_s'), 1)} | "
                  f"{fmt_stat(hit_values(results, label, 'cpu_s'), 1)} |")
    print("\n| optimizer | final KL median [IQR] | final MMD median | steps run median | wall s/step | CPU s/step |")
    print("|---|---|---|---|---|---|")
    for name, results in by_opt.items():
        ran = [r for r in results if r.steps]
        wall = statistics.median(r.wall_s / r.steps for r in ran) if ran else math.nan
        cpu = statistics.median(r.cpu_s / r.steps for r in ran) if ran else math.nan
        print(f"| {name} | {fmt_stat([r.final_kl for r in results], 3)} | "
              f"{statistics.median(r.final_mmd for r in results):.2e} | "
              f"{statistics.median(r.steps for r in results):.0f} | {wall:.3f} | {cpu:.3f} |")


# -- driver ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class Plan:
    """Sizes of one invocation (full or --quick)."""

    study_seeds: tuple[int, ...]
    sweep: dict[str, tuple[Setting, ...]]
    sweep_caps: dict[str, int]
    study_caps: dict[str, int]


FULL_PLAN = Plan(
    study_seeds=tuple(range(10)),
    sweep={
        "qng": grid((3.0, 10.0, 30.0, 100.0, 300.0), (1e-3, 1e-1)),
        "adam": grid((0.03, 0.1, 0.3, 1.0)),
        "gd": grid((10.0, 30.0, 100.0, 300.0, 1000.0)),
    },
    sweep_caps={"qng": 60, "adam": 200, "gd": 200},
    study_caps={"qng": 200, "adam": 200, "gd": 200},
)
QUICK_PLAN = Plan(
    study_seeds=(0, 1),
    sweep={"qng": grid((10.0, 30.0), (1e-3,)), "adam": grid((0.03, 0.1)), "gd": grid((10.0, 30.0))},
    sweep_caps={"qng": 5, "adam": 20, "gd": 20},
    study_caps={"qng": 10, "adam": 40, "gd": 40},
)
#: KL gradients are O(1) where MMD gradients are O(MMD): smaller steps for GD and QNG.
KL_SWEEP = {
    "qng": grid((0.03, 0.1, 0.3, 1.0), (1e-3, 1e-1)),
    "adam": grid((0.01, 0.03, 0.1, 0.3)),
    "gd": grid((0.03, 0.1, 0.3, 1.0)),
}
KL_QUICK_SWEEP = {"qng": grid((0.1, 0.3), (1e-3,)), "adam": grid((0.03, 0.1)), "gd": grid((0.1, 0.3))}
PLANS = {
    ("mmd", False): FULL_PLAN,
    ("mmd", True): QUICK_PLAN,
    ("kl", False): replace(FULL_PLAN, sweep=KL_SWEEP),
    ("kl", True): replace(QUICK_PLAN, sweep=KL_QUICK_SWEEP),
}


def study_task(
    task: Task, plan: Plan, loss_name: str, optimizers: Sequence[str], lrs: Optional[dict[str, Setting]]
) -> list[dict[str, Any]]:
    """Sweep (unless ``lrs`` fixes the rates), then the seeds; prints tables, returns all runs as dicts."""
    warm_up(task, loss_name, optimizers)
    records: list[dict[str, Any]] = []
    if lrs is None:
        rows: dict[str, dict[Setting, list[RunResult]]] = {}
        chosen: dict[str, Setting] = {}
        for name in optimizers:
            cap = plan.sweep_caps[name]
            rows[name] = {
                st: [run(task, name, st, s, cap, loss_name) for s in SWEEP_SEEDS] for st in plan.sweep[name]
            }
            chosen[name] = min(rows[name], key=lambda st: sweep_score(rows[name][st], cap))
            records += [dict(vars(r), phase="sweep") for rs in rows[name].values() for r in rs]
        print_sweep_table(task, rows, chosen, plan.sweep_caps)
    else:
        chosen = lrs
    by_opt = {
        name: [run(task, name, chosen[name], s, plan.study_caps[name], loss_name) for s in plan.study_seeds]
        for name in optimizers
    }
    records += [dict(vars(r), phase="study") for rs in by_opt.values() for r in rs]
    print_study_table(task, by_opt, plan.study_caps)
    return records


def parse_lrs(text: Optional[str], optimizers: Sequence[str]) -> Optional[dict[str, Setting]]:
    """``"qng=10:0.001,adam=0.1,gd=30"`` (QNG's ``lr:lam``) -> dict (skips the sweep)."""
    if text is None:
        return None
    out = {k: Setting.parse(v) for k, v in (item.split("=") for item in text.split(","))}
    missing = set(optimizers) - set(out)
    if missing:
        raise SystemExit(f"--lrs: missing rate(s) for {sorted(missing)}")
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="2 seeds, short step caps, 2 rates per optimizer")
    ap.add_argument("--tasks", default="bas,gauss", help="comma list of bas, gauss")
    ap.add_argument("--optimizers", default=",".join(OPTIMIZERS), help="comma list of qng, adam, gd")
    ap.add_argument("--depth", type=int, default=4, help="entangling layers of the Liu–Wang ansatz")
    ap.add_argument("--loss", choices=("mmd", "kl"), default="mmd", help="training loss")
    ap.add_argument("--lrs", default=None, help="fixed settings, e.g. qng=10:0.001,adam=0.1,gd=30 (skips the sweep)")
    ap.add_argument("--threads", type=int, default=1, help="torch.set_num_threads (default 1: CPU seconds per step "
                    "stay comparable; run one process per task to use more cores)")
    ap.add_argument("--json", default=None, help="write every run's summary to this JSON file")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    optimizers = args.optimizers.split(",")
    unknown = set(optimizers) - set(OPTIMIZERS)
    if unknown:
        raise SystemExit(f"--optimizers: unknown {sorted(unknown)}; known: {', '.join(OPTIMIZERS)}")
    plan = PLANS[args.loss, args.quick]
    print(f"# QNG vs Adam vs GD: loss={args.loss}, depth={args.depth}, torch threads {torch.get_num_threads()}, "
          f"{'quick' if args.quick else 'full'} plan")
    t0 = time.perf_counter()
    records: list[dict[str, Any]] = []
    for name in args.tasks.split(","):
        records += study_task(make_task(name, args.depth), plan, args.loss, optimizers, parse_lrs(args.lrs, optimizers))
    print(f"\ntotal wall time {time.perf_counter() - t0:.0f} s")
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(records, fh, indent=1, default=str)


if __name__ == "__main__":
    main()
