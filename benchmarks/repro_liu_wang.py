"""Reproduction of Liu & Wang, "Differentiable learning of quantum circuit Born machines"
(arXiv:1804.04168). Results and commands: docs/repro/liu_wang.md.

Sub-commands:

* ``bas-exact``: BAS 3×3 on 9 qubits, Liu-Wang ansatz (RZ·RX·RZ per qubit, CNOTs on
  the Chow-Liu tree of the data), depth 10, exact MMD with the Hamming-distance
  Gaussian mixture, sigma in {0.5, 1, 2, 4} (gamma = 1/(2 sigma)); L-BFGS-B (scipy,
  as the paper) or Adam on adjoint gradients.
* ``bas-shots``: the same circuit and kernel trained from finite samples: every
  gradient is the parameter-shift estimate ``(p̂ − π)ᵀ K (p̂⁺_k − p̂⁻_k)`` with
  fresh, independent ``--shots`` samples for the unshifted circuit and for each
  of the 2·P shifted circuits (spec qcbm.md); Adam, lr 0.1.
* ``gaussian``: Liu & Wang's double Gaussian on 10 qubits (integer distance
  ``(x − y)²``), nearest-neighbour ring entangler, exact MMD, Adam.
* ``all``: the three above in turn.

Samplers of the shot runs (``--sampler``):

* ``library``: the qgm path, ``MMDLoss(shots=m)`` on ``QCBM.probs(shots=m)``
  (inverse-CDF draws, one per shot: cost O(shots · P));
* ``counts`` (default): the same estimator with the multinomial *counts* of the
  ``m`` shots drawn directly (numpy's conditional-binomial sampler, O(2**n · P)
  per step regardless of ``m``). Both are the frequencies of ``m`` i.i.d. shots,
  so the two samplers give the same gradient distribution; ``counts`` is just
  cheaper for 20000 shots.

Reported per run: the exact MMD (library convention: the kernel is the *mean*
over bandwidths; Liu & Wang's code sums them, so their numbers are
``len(sigmas)`` times ours), the exact probability mass on valid BAS patterns,
the valid fraction of ``--eval-samples`` fresh samples, KL(π‖p), steps and wall
time. ``--quick`` shrinks every run to a smoke test (seconds).

Usage::

    .venv/bin/python benchmarks/repro_liu_wang.py bas-exact --seeds 0 1 2
    .venv/bin/python benchmarks/repro_liu_wang.py bas-shots --shots 2000 --steps 400 --seeds 0
    .venv/bin/python benchmarks/repro_liu_wang.py gaussian --steps 2000 --seeds 0
    .venv/bin/python benchmarks/repro_liu_wang.py all --quick
"""
from __future__ import annotations

import argparse
import json
import math
import sys
import time
from dataclasses import asdict, dataclass, field
from typing import Any, Callable, Optional, Sequence

import numpy as np
import torch
from scipy.optimize import minimize

from qgm import sim
from qgm.losses import MMDLoss
from qgm.metrics import kl, valid_fraction
from qgm.models import QCBM
from qgm.registry import DATASETS, LOSSES, MODELS

#: Liu & Wang's BAS bandwidths (Hamming distance, gamma = 1/(2 sigma)).
BAS_SIGMAS = (0.5, 1.0, 2.0, 4.0)
#: Liu & Wang's 1-D bandwidths (integer distance (x - y)^2, gamma = 1/(2 sigma)).
GAUSSIAN_SIGMAS = (0.25, 0.5, 1.0, 2.0, 4.0)
#: Shift of the parameter-shift rule of RX / RZ (every Liu-Wang angle sits in one such gate).
HALF_PI = math.pi / 2

#: A gradient oracle: angles (P,) -> gradient (P,) of the training loss.
GradFn = Callable[[torch.Tensor], torch.Tensor]


@dataclass
class Problem:
    """A dataset, a QCBM on it and the exact MMD loss against its target."""

    name: str
    dataset: Any
    model: QCBM
    loss: MMDLoss
    sigmas: tuple[float, ...]
    distance: str

    @property
    def target(self) -> torch.Tensor:
        """Exact target distribution ``(2**n,)`` float64."""
        return self.loss.target

    def exact_mmd(self) -> float:
        """Exact squared MMD of the current angles (library convention: mean over bandwidths)."""
        with torch.no_grad():
            return float(self.loss(self.model, None))

    def valid_mass(self) -> Optional[float]:
        """Exact probability of the valid strings (None for datasets without a valid set)."""
        mask = getattr(self.dataset, "valid_mask", None)
        if mask is None:
            return None
        with torch.no_grad():
            return float(self.model.probs().numpy()[mask].sum())


@dataclass
class RunResult:
    """One training run: settings, the measured numbers and the curve ``(step, exact MMD, valid mass)``."""

    task: str
    seed: int
    optimizer: str
    lr: Optional[float]
    lr_final: Optional[float]
    shots: Optional[int]
    steps: int
    n_params: int
    initial_mmd: float
    final_mmd: float
    kl: float
    valid_mass: Optional[float]
    valid_sampled: Optional[float]
    eval_samples: int
    wall_s: float
    s_per_step: float
    stopped_by_time: bool
    curve: list[tuple[int, float, Optional[float]]] = field(default_factory=list, repr=False)


def bas_problem(rows: int = 3, cols: int = 3, depth: int = 10, seed: int = 0, pairs: Any = "chow-liu") -> Problem:
    """BAS ``rows×cols`` with the Liu-Wang ansatz on the Chow-Liu tree and the exact Hamming MMD."""
    data = DATASETS.create("bas", rows=rows, cols=cols)
    model = MODELS.create(
        "qcbm", dataset=data, ansatz={"name": "liu_wang", "depth": depth, "pairs": pairs},
        diff_method="adjoint", seed=seed,
    )
    loss = LOSSES.create("mmd", dataset=data, sigmas=list(BAS_SIGMAS), distance="hamming")
    return Problem(f"bas{rows}x{cols}", data, model, loss, BAS_SIGMAS, "hamming")


def gaussian_problem(
    bits: int = 10, depth: int = 10, seed: int = 0, sigmas: Sequence[float] = GAUSSIAN_SIGMAS
) -> Problem:
    """Liu & Wang's double Gaussian on ``bits`` qubits, ring entangler, exact integer-distance MMD."""
    data = DATASETS.create("double_gaussian", bits=bits)
    model = MODELS.create(
        "qcbm", dataset=data, ansatz={"name": "liu_wang", "depth": depth, "pairs": "ring"},
        diff_method="adjoint", seed=seed,
    )
    loss = LOSSES.create("mmd", dataset=data, sigmas=list(sigmas), distance="integer")
    return Problem(f"double_gaussian{bits}", data, model, loss, tuple(sigmas), "integer")


def exact_grad_fn(problem: Problem) -> GradFn:
    """Gradient of the exact MMD by the model's diff_method (adjoint here)."""

    def grad(theta: torch.Tensor) -> torch.Tensor:
        with torch.no_grad():
            problem.model.theta.copy_(theta)
        problem.model.zero_grad()
        problem.loss(problem.model, None).backward()
        return problem.model.theta.grad.detach().clone()

    return grad


def shift_batch(theta: torch.Tensor) -> torch.Tensor:
    """Angles ``(1 + 2P, P)``: ``theta``, then ``theta + π/2 e_k`` (k < P), then ``theta − π/2 e_k``."""
    eye = torch.eye(theta.numel(), dtype=theta.dtype) * HALF_PI
    return torch.cat([theta[None], theta + eye, theta - eye])


def shift_mmd_gradient(freqs: torch.Tensor, target: torch.Tensor, kernel_matrix: torch.Tensor) -> torch.Tensor:
    """Parameter-shift MMD gradient ``(p̂ − π)ᵀ K (p̂⁺_k − p̂⁻_k)`` ``(P,)``.

    ``freqs`` ``(1 + 2P, 2**n)``: distributions of the circuits of :func:`shift_batch`
    (exact probabilities give the exact gradient; independent sample frequencies
    give the spec's unbiased four-cross-mean estimate).
    """
    n_params = (freqs.shape[0] - 1) // 2
    residual = kernel_matrix @ (freqs[0] - target)
    return (freqs[1 : 1 + n_params] - freqs[1 + n_params :]) @ residual


def counts_grad_fn(problem: Problem, shots: int, seed: int) -> GradFn:
    """Shot-based gradient with the multinomial counts of ``shots`` samples per circuit (see module doc)."""
    rng = np.random.default_rng(seed)
    kernel_matrix = problem.loss.kernel.dense()
    circuit = problem.model.circuit

    def grad(theta: torch.Tensor) -> torch.Tensor:
        with torch.no_grad():
            p = sim.probs(circuit, shift_batch(theta)).numpy()
        p = np.clip(p, 0.0, None)
        counts = rng.multinomial(shots, p / p.sum(-1, keepdims=True))
        freqs = torch.from_numpy(counts / shots)
        return shift_mmd_gradient(freqs, problem.target, kernel_matrix)

    return grad


def library_grad_fn(problem: Problem, shots: int, seed: int) -> GradFn:
    """Shot-based gradient through qgm's own path: ``MMDLoss(shots)`` on ``QCBM.probs(shots=)``."""
    shot_loss = LOSSES.create(
        "mmd", dataset=problem.dataset, sigmas=list(problem.sigmas), distance=problem.distance, shots=shots, seed=seed
    )

    def grad(theta: torch.Tensor) -> torch.Tensor:
        with torch.no_grad():
            problem.model.theta.copy_(theta)
        problem.model.zero_grad()
        shot_loss(problem.model, None).backward()
        return problem.model.theta.grad.detach().clone()

    return grad


class Recorder:
    """Exact-MMD / valid-mass curve and step count of a run, with an optional wall-time limit.

    Curve points come from the exact distribution (two forward passes per log point,
    included in the wall time; small next to a training step).
    """

    def __init__(self, problem: Problem, log_every: int, time_limit: Optional[float], progress: bool = False) -> None:
        self.problem, self.log_every, self.time_limit, self.progress = problem, max(1, log_every), time_limit, progress
        self.start = time.perf_counter()
        self.steps = 0
        self.curve: list[tuple[int, float, Optional[float]]] = [self.point(0)]

    def point(self, step: int) -> tuple[int, float, Optional[float]]:
        return step, self.problem.exact_mmd(), self.problem.valid_mass()

    def step(self, theta: torch.Tensor) -> bool:
        """Count one optimiser step at ``theta``; True when the time limit is reached."""
        self.steps += 1
        if self.steps % self.log_every == 0:
            with torch.no_grad():
                self.problem.model.theta.copy_(theta)
            self.curve.append(self.point(self.steps))
            if self.progress:
                step, mmd, valid = self.curve[-1]
                valid_text = "" if valid is None else f" valid mass {valid:.4f}"
                print(f"  step {step} MMD {mmd:.3e}{valid_text} ({self.elapsed():.0f} s)", file=sys.stderr, flush=True)
        return self.time_limit is not None and self.elapsed() > self.time_limit

    def elapsed(self) -> float:
        return time.perf_counter() - self.start


class _TimeUp(Exception):
    """Raised inside scipy's callback to stop L-BFGS-B at the time limit."""


def train_lbfgs(problem: Problem, max_iter: int, rec: Recorder) -> bool:
    """Scipy L-BFGS-B (Liu & Wang's optimiser) on the exact MMD; True if stopped by the time limit."""
    model, loss = problem.model, problem.loss

    def value_and_grad(x: np.ndarray) -> tuple[float, np.ndarray]:
        with torch.no_grad():
            model.theta.copy_(torch.from_numpy(x))
        model.zero_grad()
        value = loss(model, None)
        value.backward()
        return float(value.detach()), model.theta.grad.detach().numpy().copy()

    def callback(x: np.ndarray) -> None:
        if rec.step(torch.from_numpy(x)):
            raise _TimeUp

    x0 = model.theta.detach().numpy().copy()
    stopped = False
    try:
        result = minimize(
            value_and_grad, x0, jac=True, method="L-BFGS-B", callback=callback,
            options={"maxiter": max_iter, "ftol": 0.0, "gtol": 1e-12, "maxcor": 20},
        )
        x_final = result.x
    except _TimeUp:
        stopped, x_final = True, None
    if x_final is not None:
        with torch.no_grad():
            model.theta.copy_(torch.from_numpy(x_final))
    return stopped


def train_adam(
    problem: Problem, grad_fn: GradFn, steps: int, lr: float, rec: Recorder, lr_final: Optional[float] = None
) -> bool:
    """Adam on the gradients of ``grad_fn``, the learning rate decaying exponentially from ``lr``
    to ``lr_final`` over ``steps`` (constant if None); True if stopped by the time limit."""
    theta = problem.model.theta.detach().clone().requires_grad_(True)
    opt = torch.optim.Adam([theta], lr=lr)
    decay = 1.0 if lr_final is None else (lr_final / lr) ** (1.0 / max(steps - 1, 1))
    schedule = torch.optim.lr_scheduler.ExponentialLR(opt, gamma=decay)
    stopped = False
    for _ in range(steps):
        g = grad_fn(theta.detach())
        opt.zero_grad()
        theta.grad = g
        opt.step()
        schedule.step()
        if rec.step(theta.detach()):
            stopped = True
            break
    with torch.no_grad():
        problem.model.theta.copy_(theta.detach())
    return stopped


def evaluate_run(problem: Problem, eval_samples: int, seed: int) -> dict[str, Optional[float]]:
    """Exact MMD, KL(π‖p), and for BAS the valid probability mass and the valid fraction of samples."""
    with torch.no_grad():
        p = problem.model.probs().detach()
    out: dict[str, Optional[float]] = {
        "final_mmd": problem.exact_mmd(), "kl": kl(problem.target.numpy(), p.numpy()),
        "valid_mass": None, "valid_sampled": None,
    }
    mask = getattr(problem.dataset, "valid_mask", None)
    if mask is not None:
        out["valid_mass"] = float(p.numpy()[mask].sum())
        samples = problem.model.sample(eval_samples, generator=torch.Generator().manual_seed(10_000 + seed))
        out["valid_sampled"] = valid_fraction(samples, mask)
    return out


def run(
    task: str, problem: Problem, optimizer: str, steps: int, *, lr: float = 0.1, grad_fn: Optional[GradFn] = None,
    shots: Optional[int] = None, seed: int = 0, log_every: int = 10, eval_samples: int = 20000,
    time_limit: Optional[float] = None, progress: bool = False, lr_final: Optional[float] = None,
) -> RunResult:
    """Train ``problem`` and measure it (``optimizer``: ``"lbfgs"`` or ``"adam"``)."""
    rec = Recorder(problem, log_every, time_limit, progress)
    if optimizer == "lbfgs":
        stopped = train_lbfgs(problem, steps, rec)
    else:
        stopped = train_adam(problem, grad_fn or exact_grad_fn(problem), steps, lr, rec, lr_final)
    wall = rec.elapsed()
    measured = evaluate_run(problem, eval_samples, seed)
    if rec.curve[-1][0] != rec.steps:
        rec.curve.append(rec.point(rec.steps))
    return RunResult(
        task=task, seed=seed, optimizer=optimizer, shots=shots, steps=rec.steps,
        lr=None if optimizer == "lbfgs" else lr, lr_final=None if optimizer == "lbfgs" else lr_final,
        n_params=problem.model.circuit.n_params, initial_mmd=rec.curve[0][1], wall_s=wall,
        s_per_step=wall / max(rec.steps, 1), stopped_by_time=stopped, eval_samples=eval_samples,
        curve=rec.curve, **measured,  # type: ignore[arg-type]
    )


def first_step_below(curve: Sequence[tuple[int, float, Optional[float]]], threshold: float) -> Optional[int]:
    """First logged step whose exact MMD is <= ``threshold`` (None if never)."""
    return next((point[0] for point in curve if point[1] <= threshold), None)


def lr_text(result: RunResult) -> str:
    """``(lr 0.1)`` or ``(lr 0.1->0.01)`` for Adam runs, empty for L-BFGS-B."""
    if result.lr is None:
        return ""
    return f"(lr {result.lr:g}" + ("" if result.lr_final is None else f"->{result.lr_final:g}") + ")"


def report(result: RunResult, threshold: Optional[float] = None) -> None:
    """One line per run (the numbers docs/repro/liu_wang.md quotes)."""
    parts = [
        f"{result.task} seed={result.seed} opt={result.optimizer}{lr_text(result)} shots={result.shots}",
        f"P={result.n_params} steps={result.steps}{' (time limit)' if result.stopped_by_time else ''}",
        f"MMD {result.initial_mmd:.3e} -> {result.final_mmd:.3e}", f"KL={result.kl:.4f}",
    ]
    if result.valid_mass is not None:
        parts.append(f"valid mass={result.valid_mass:.5f} sampled({result.eval_samples})={result.valid_sampled:.4f}")
    if threshold is not None:
        parts.append(f"first step MMD<={threshold:g}: {first_step_below(result.curve, threshold)}")
    parts.append(f"wall={result.wall_s:.1f}s ({result.s_per_step * 1e3:.1f} ms/step)")
    print(" | ".join(parts), flush=True)


def cmd_bas_exact(args: argparse.Namespace) -> list[RunResult]:
    rows, cols, depth = (2, 2, 4) if args.quick else (3, 3, args.depth)
    steps = 30 if args.quick else args.steps
    results = []
    for seed in args.seeds:
        problem = bas_problem(rows, cols, depth, seed)
        result = run(
            "bas-exact", problem, args.optimizer, steps, lr=args.lr, seed=seed, log_every=args.log_every,
            eval_samples=args.eval_samples, time_limit=args.time_limit, progress=args.progress, lr_final=args.lr_final,
        )
        report(result, threshold=1e-6)
        results.append(result)
    return results


def cmd_bas_shots(args: argparse.Namespace) -> list[RunResult]:
    rows, cols, depth = (2, 2, 2) if args.quick else (3, 3, args.depth)
    steps = 5 if args.quick else args.steps
    make_grad = counts_grad_fn if args.sampler == "counts" else library_grad_fn
    results = []
    for shots in args.shots:
        for seed in args.seeds:
            problem = bas_problem(rows, cols, depth, seed)
            result = run(
                f"bas-shots[{args.sampler}]", problem, "adam", steps, lr=args.lr,
                grad_fn=make_grad(problem, shots, seed), shots=shots, seed=seed, log_every=args.log_every,
                eval_samples=args.eval_samples, time_limit=args.time_limit, progress=args.progress,
                lr_final=args.lr_final,
            )
            report(result)
            results.append(result)
    return results


def cmd_gaussian(args: argparse.Namespace) -> list[RunResult]:
    bits, depth = (6, 4) if args.quick else (args.bits, args.depth)
    steps = 50 if args.quick else args.steps
    results = []
    for seed in args.seeds:
        problem = gaussian_problem(bits, depth, seed, args.sigmas)
        result = run(
            "gaussian", problem, args.optimizer, steps, lr=args.lr, seed=seed, log_every=args.log_every,
            eval_samples=args.eval_samples, time_limit=args.time_limit, progress=args.progress, lr_final=args.lr_final,
        )
        report(result, threshold=6.4e-4)
        results.append(result)
    return results


def cmd_all(args: argparse.Namespace) -> list[RunResult]:
    out = []
    for name in ("bas-exact", "bas-shots", "gaussian"):
        sub = build_parser().parse_args([name, *(["--quick"] if args.quick else []), "--seeds", *map(str, args.seeds)])
        out += sub.func(sub)
    return out


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    subs = parser.add_subparsers(dest="command", required=True)

    def common(p: argparse.ArgumentParser, steps: int, lr: float, log_every: int) -> None:
        p.add_argument("--seeds", type=int, nargs="+", default=[0], help="initial-angle seeds (one run each)")
        p.add_argument("--steps", type=int, default=steps, help="optimiser steps (L-BFGS-B: iterations)")
        p.add_argument("--lr", type=float, default=lr, help="Adam learning rate")
        p.add_argument("--lr-final", type=float, default=None, help="decay the Adam rate exponentially to this value")
        p.add_argument("--log-every", type=int, default=log_every, help="steps between exact-MMD log points")
        p.add_argument("--eval-samples", type=int, default=20000, help="samples for the valid fraction")
        p.add_argument("--time-limit", type=float, default=None, help="stop training after this many seconds")
        p.add_argument("--threads", type=int, default=1, help="torch intra-op threads")
        p.add_argument("--json", default=None, help="write the results (with loss curves) to this file")
        p.add_argument("--quick", action="store_true", help="tiny smoke-test version (seconds)")
        p.add_argument("--progress", action="store_true", help="print every log point to stderr")

    p = subs.add_parser("bas-exact", help="BAS 3x3, exact MMD (paper: MMD 2.4e-7, >= 99.9%% valid)")
    common(p, steps=2000, lr=0.1, log_every=10)
    p.add_argument("--optimizer", choices=("lbfgs", "adam"), default="lbfgs")
    p.add_argument("--depth", type=int, default=10)
    p.set_defaults(func=cmd_bas_exact)

    p = subs.add_parser("bas-shots", help="BAS 3x3 from finite shots (paper: 88.6%% / 92.4%% valid)")
    common(p, steps=400, lr=0.1, log_every=10)
    p.add_argument("--shots", type=int, nargs="+", default=[2000, 20000], help="shots per circuit evaluation")
    p.add_argument("--sampler", choices=("counts", "library"), default="counts")
    p.add_argument("--depth", type=int, default=10)
    p.set_defaults(func=cmd_bas_shots)

    p = subs.add_parser("gaussian", help="double Gaussian, 10 qubits (paper: MMD 9.6e-2 -> 6.4e-4 in 2000 steps)")
    common(p, steps=2000, lr=0.1, log_every=10)
    p.add_argument("--optimizer", choices=("lbfgs", "adam"), default="adam")
    p.add_argument("--bits", type=int, default=10)
    p.add_argument("--sigmas", type=float, nargs="+", default=list(GAUSSIAN_SIGMAS), help="kernel bandwidths")
    p.add_argument("--depth", type=int, default=10)
    p.set_defaults(func=cmd_gaussian)

    p = subs.add_parser("all", help="the three tasks in turn with their defaults")
    p.add_argument("--seeds", type=int, nargs="+", default=[0])
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--json", default=None)
    p.add_argument("--quick", action="store_true")
    p.set_defaults(func=cmd_all)
    return parser


def main(argv: Optional[Sequence[str]] = None) -> None:
    args = build_parser().parse_args(argv)
    torch.set_num_threads(args.threads)
    results = args.func(args)
    if args.json:
        with open(args.json, "w") as fh:
            json.dump([asdict(r) for r in results], fh, indent=1)


if __name__ == "__main__":
    main()
