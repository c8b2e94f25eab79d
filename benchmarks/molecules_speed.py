"""Time of one training iteration of the molecular GANs on QM9 graphs: QGAN-HG vs MolGAN.

One iteration = one Trainer step = 5 critic updates (WGAN-GP over the (A, X) relaxations) and
one generator update, batch 32 (default), float32 networks, MolGAN's critic. Models, timed
interleaved in one process (median over repetitions, process CPU time and wall time):

* ``molgan``: Gaussian latent + [128, 256, 512] (396,610 generator parameters);
* ``molgan_mr``: Gaussian latent + [128] (the classical ablation);
* ``qgan_hg_mr``: 8-qubit, 1-layer latent circuit on qgm's engine (one batched call, backprop) + [128];
* ``p2qgan_hg``: 2 patches of 4 qubits + [128].

Also times the latent alone (``latent_ms``: a forward + backward of the circuit for one batch) to
show whether the circuit dominates. Data: the shipped 200-molecule QM9 sample (the data size does
not enter the step time).

Usage: ``PYTHONPATH=src python benchmarks/molecules_speed.py [--batch 32] [--reps 9]``
"""
from __future__ import annotations

import argparse
import platform
import statistics
import time
from pathlib import Path

import torch

from qgm.data.qm9 import QM9
from qgm.models.molgan import MolGAN
from qgm.models.qgan_hg import QGANHG
from qgm.train import Trainer

SAMPLE = Path(__file__).resolve().parents[1] / "tests" / "data" / "qm9_sample.smi"


def trainers(batch: int) -> dict[str, Trainer]:
    """One Trainer per model on the sample data (reference optimizers)."""
    data = QM9(None, source=SAMPLE)
    models = {"molgan": MolGAN(), "molgan_mr": MolGAN(hidden=[128]), "qgan_hg_mr": QGANHG(),
              "p2qgan_hg": QGANHG(n_patches=2)}
    return {k: Trainer(m, data, None, m.configure_optimizers({}), steps=10**9, batch_size=batch, seed=0)
            for k, m in models.items()}


def time_steps(ts: dict[str, Trainer], reps: int) -> dict[str, dict[str, list[float]]]:
    """Interleaved per-step CPU and wall seconds of each trainer (first repetition discarded)."""
    out = {k: {"cpu": [], "wall": []} for k in ts}
    for rep in range(reps + 1):
        for name, t in ts.items():
            batch = t.next_batch()
            c0, w0 = time.process_time(), time.perf_counter()
            t.train_step(batch)
            if rep:
                out[name]["cpu"].append(time.process_time() - c0)
                out[name]["wall"].append(time.perf_counter() - w0)
    return out


def latent_ms(t: Trainer, batch: int, reps: int) -> float:
    """Median CPU ms of one forward + backward of the model's latent for ``batch`` samples."""
    latent = t.model.generator.latent
    times = []
    for _ in range(reps):
        c0 = time.process_time()
        z = latent.sample(batch, None)
        if z.requires_grad:
            z.sum().backward()
        times.append(time.process_time() - c0)
    return 1e3 * statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--reps", type=int, default=9)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    ts = trainers(args.batch)
    times = time_steps(ts, args.reps)
    base = statistics.median(times["molgan"]["cpu"])
    print(f"Molecular GAN iteration (5 critic + 1 generator update), batch {args.batch}, {args.threads} thread(s), "
          f"torch {torch.__version__}, {platform.processor() or platform.machine()}, {args.reps} interleaved reps\n")
    print("| model | generator params | CPU ms / iteration | wall ms / iteration | CPU vs MolGAN | latent fwd+bwd CPU ms |")
    print("|---|---|---|---|---|---|")
    for name, t in ts.items():
        cpu, wall = statistics.median(times[name]["cpu"]), statistics.median(times[name]["wall"])
        n = t.model.parameter_counts()["generator_n_params"]
        print(f"| {name} | {n:,} | {1e3 * cpu:.1f} | {1e3 * wall:.1f} | {cpu / base:.2f}x | "
              f"{latent_ms(t, args.batch, args.reps):.2f} |")


if __name__ == "__main__":
    main()
