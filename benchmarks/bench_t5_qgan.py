"""Task T5 (shared/bench/TASKS.md): time of one patch-QGAN training step, qgm vs PennyLane.

Model (all implementations): 4 sub-generators × 5 qubits (1 ancilla), depth 6, the
PennyLane demo's circuit (RY latents, RY layers, CZ chain), post-selection on the
ancilla, max-normalised patches, discriminator 64→64→16→1 ReLU (logits, float64),
non-saturating BCE, SGD lr_G = 0.3, lr_D = 0.01. One step = generate a batch of
fakes, one discriminator update (real + fake), one generator update; batch 1 and 32
of real digit-0 images (``sklearn.datasets.load_digits``, /16). complex128 / float64
everywhere.

Implementations, timed interleaved in one process (median over repetitions):

* ``qgm``: :meth:`qgm.models.PatchQGAN.training_step` (one engine call for all
  sub-generators and the whole batch, autograd through the engine);
* ``pl-lightning-ps``: the demo's generator, ``lightning.qubit`` with
  ``diff_method="parameter-shift"``, one QNode call per sub-generator and latent
  (the demo's loop);
* ``pl-default-bp``: the same loop on ``default.qubit`` with backprop (torch);
* ``pl-default-bp-bcast``: ``default.qubit`` backprop with the latent batch
  broadcast in one QNode call per sub-generator (PennyLane's fastest route here).

Prints a markdown table (ms per step, ratio peer/qgm) and, with ``--doc FILE``, puts it
between the lines ``<!-- bench_t5:start -->`` and ``<!-- bench_t5:end -->`` of FILE
(docs/repro/patch_copula.md).

Usage: ``.venv/bin/python benchmarks/bench_t5_qgan.py [--reps 15] [--reps-slow 3] [--threads 1]
[--doc docs/repro/patch_copula.md]``
"""
from __future__ import annotations

import argparse
import copy
import math
import os
import platform
import statistics
import time
from typing import Callable

import numpy as np
import pennylane as qml
import torch
from sklearn.datasets import load_digits
from torch import nn

import qgm
from qgm.losses.adversarial import bce_d_loss, bce_g_loss
from qgm.models.patch_qgan import PatchQGAN, max_normalise, postselect

N_QUBITS, N_ANCILLA, Q_DEPTH, N_GENERATORS = 5, 1, 6, 4
LR_G, LR_D = 0.3, 0.01


def digit_zeros() -> torch.Tensor:
    """Real digit-0 images ``(178, 64)`` in [0, 1]."""
    d = load_digits()
    return torch.tensor(d.data[d.target == 0] / 16.0, dtype=torch.float64)


def pl_circuit(device_name: str, diff_method: str) -> Callable:
    """The demo's QNode: probabilities of all 5 wires of one sub-generator."""
    dev = qml.device(device_name, wires=N_QUBITS)

    @qml.qnode(dev, interface="torch", diff_method=diff_method)
    def circuit(noise: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
        weights = weights.reshape(Q_DEPTH, N_QUBITS)
        for i in range(N_QUBITS):
            qml.RY(noise[..., i], wires=i)
        for layer in range(Q_DEPTH):
            for i in range(N_QUBITS):
                qml.RY(weights[layer][i], wires=i)
            for i in range(N_QUBITS - 1):
                qml.CZ(wires=[i, i + 1])
        return qml.probs(wires=list(range(N_QUBITS)))

    return circuit


class PLPatchGenerator(nn.Module):
    """The demo's ``PatchQuantumGenerator`` (float64, true post-selection as qgm), starting from ``weights``."""

    def __init__(self, circuit: Callable, weights: torch.Tensor, broadcast: bool) -> None:
        super().__init__()
        self.circuit, self.broadcast = circuit, broadcast
        self.q_params = nn.ParameterList([nn.Parameter(w.detach().clone()) for w in weights])

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        patches = []
        for params in self.q_params:
            if self.broadcast:
                probs = self.circuit(z, params)
            else:
                probs = torch.stack([self.circuit(elem, params) for elem in z])
            patches.append(max_normalise(postselect(probs, N_ANCILLA)))
        return torch.cat(patches, dim=1)


class PLStep:
    """One demo training step (D then G update) of a PennyLane generator with a copy of qgm's discriminator."""

    def __init__(self, generator: PLPatchGenerator, discriminator: nn.Module, seed: int) -> None:
        self.gen, self.disc = generator, copy.deepcopy(discriminator)
        self.opt_g = torch.optim.SGD(self.gen.parameters(), lr=LR_G)
        self.opt_d = torch.optim.SGD(self.disc.parameters(), lr=LR_D)
        self.noise = torch.Generator().manual_seed(seed)

    def __call__(self, real: torch.Tensor, step: int) -> None:
        z = (math.pi / 2) * torch.rand(real.shape[0], N_QUBITS, dtype=torch.float64, generator=self.noise)
        fake = self.gen(z)
        self.opt_d.zero_grad()
        bce_d_loss(self.disc(real), self.disc(fake.detach())).backward()
        self.opt_d.step()
        self.opt_g.zero_grad()
        bce_g_loss(self.disc(fake)).backward()
        self.opt_g.step()


def build(seed: int) -> dict[str, Callable[[torch.Tensor, int], None]]:
    """Every implementation's step function, all starting from the same weights."""
    model = PatchQGAN(n_pixels=64, n_qubits=N_QUBITS, n_ancilla=N_ANCILLA, q_depth=Q_DEPTH, seed=seed)
    weights = model.generator.weights.detach()
    opts = {
        "generator": torch.optim.SGD(model.player_parameters("generator"), lr=LR_G),
        "discriminator": torch.optim.SGD(model.discriminator.parameters(), lr=LR_D),
    }
    steps: dict[str, Callable[[torch.Tensor, int], None]] = {
        "qgm": lambda real, step: model.training_step(real, opts, step),
    }
    for name, dev, method, bcast in (
        ("pl-lightning-ps", "lightning.qubit", "parameter-shift", False),
        ("pl-default-bp", "default.qubit", "backprop", False),
        ("pl-default-bp-bcast", "default.qubit", "backprop", True),
    ):
        steps[name] = PLStep(PLPatchGenerator(pl_circuit(dev, method), weights, bcast), model.discriminator, seed)
    return steps


def check_same_model(seed: int) -> float:
    """Largest difference between qgm's and PennyLane's images at the same weights and latents."""
    model = PatchQGAN(n_pixels=64, n_qubits=N_QUBITS, n_ancilla=N_ANCILLA, q_depth=Q_DEPTH, seed=seed)
    z = model.latent(3, torch.Generator().manual_seed(seed))
    pl = PLPatchGenerator(pl_circuit("lightning.qubit", "parameter-shift"), model.generator.weights, broadcast=False)
    with torch.no_grad():
        return float((model.generate(z) - pl(z)).abs().max())


def run(batch: int, reps: int, reps_slow: int, seed: int) -> dict[str, list[float]]:
    """Interleaved step times (s) of every implementation at ``batch``; the slow peers get ``reps_slow``."""
    real_all = digit_zeros()
    steps = build(seed)
    gen = torch.Generator().manual_seed(seed)
    times: dict[str, list[float]] = {name: [] for name in steps}
    slow = {"pl-lightning-ps", "pl-default-bp"} if batch > 1 else set()
    for fn in steps.values():  # warm-up (compilation, device set-up)
        fn(real_all[:batch], 0)
    for rep in range(reps):
        real = real_all[torch.randint(len(real_all), (batch,), generator=gen)]
        for name, fn in steps.items():
            if name in slow and rep >= reps_slow:
                continue
            t0 = time.perf_counter()
            fn(real, rep + 1)
            times[name].append(time.perf_counter() - t0)
    return times


def table(results: dict[int, dict[str, list[float]]], args: argparse.Namespace, max_diff: float) -> str:
    lines = [
        "| batch | implementation | median ms / step | reps | ratio (peer / qgm) |",
        "|---|---|---|---|---|",
    ]
    for batch, times in results.items():
        base = statistics.median(times["qgm"])
        for name, ts in times.items():
            med = statistics.median(ts)
            ratio = "1" if name == "qgm" else f"{med / base:.1f}x"
            lines.append(f"| {batch} | {name} | {1e3 * med:.2f} | {len(ts)} | {ratio} |")
    env = (
        f"qgm {getattr(qgm, '__version__', 'dev')}, PennyLane {qml.__version__}, torch {torch.__version__}, "
        f"numpy {np.__version__}; {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
        f"torch threads {torch.get_num_threads()}; complex128/float64; max |qgm − PennyLane| image difference "
        f"at equal weights: {max_diff:.1e}"
    )
    command = (
        f"`.venv/bin/python benchmarks/bench_t5_qgan.py --reps {args.reps} --reps-slow {args.reps_slow} "
        f"--threads {args.threads} --seed {args.seed} --doc docs/repro/patch_copula.md`"
    )
    return "\n".join(["### T5: patch-QGAN step (4 × 5 qubits, 1 ancilla, depth 6, D 64→64→16→1)", "",
                      *lines, "", env, "", command, ""])


START, END = "<!-- bench_t5:start -->", "<!-- bench_t5:end -->"


def write_between_markers(path: str, text: str) -> None:
    """Replace what lies between :data:`START` and :data:`END` in ``path`` by ``text``."""
    with open(path) as f:
        doc = f.read()
    if START not in doc or END not in doc:
        raise SystemExit(f"{path}: markers {START} / {END} missing")
    head, rest = doc.split(START, 1)
    _, tail = rest.split(END, 1)
    with open(path, "w") as f:
        f.write(f"{head}{START}\n{text}\n{END}{tail}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=15)
    parser.add_argument("--reps-slow", type=int, default=3,
                        help="repetitions of the per-latent PennyLane loops at batch 32")
    parser.add_argument("--threads", type=int, default=1, help="torch intra-op threads (all implementations)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--batches", type=int, nargs="+", default=[1, 32])
    parser.add_argument("--doc", default=None, help="markdown file whose bench_t5 markers receive the table")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    max_diff = check_same_model(args.seed)
    results = {b: run(b, args.reps, args.reps_slow, args.seed) for b in args.batches}
    text = table(results, args, max_diff)
    print(text)
    if args.doc:
        write_between_markers(args.doc, text)


if __name__ == "__main__":
    main()
