"""Time per stage of one QuDDPM training step on the 2-qubit clustered task (issue 14's Speed section).

Setting (the paper's): 2 data + 1 ancilla qubits, T = 20, L = 6 (36 angles per step),
100 Haar training inputs, data batch 100, Adam. The step trains diffusion step ``t``
(``--t``, default 10: the target batch is diffused 10 layers). Stages, timed
interleaved in one process (medians):

* ``inputs``: :meth:`QuDDPM.stage_inputs` (a cache hit inside a stage);
* ``diffuse``: the data batch through ``t`` forward layers (fresh noise, 100 states);
* ``engine``: the step's isometry, one engine call over the 4 data basis states (forward);
* ``mixture``: ensemble product ``Ψ V``, reduced states and the branch-mixture MMD (forward);
* ``backward``: autograd from the loss to the 36 angles;
* ``adam``: the optimizer step;
* ``step``: one whole :func:`qgm.train.update` (the Trainer's step), for ``diff_method`` backprop,
  adjoint and parameter-shift (73 angle sets × 4 basis states in one engine call) and for the
  reference's sampled-branch loss (``mmd_sampled``).

Prints a markdown table (ms). Usage: ``PYTHONPATH=src python benchmarks/bench_qddpm.py [--reps 30] [--t 10]``.
"""
from __future__ import annotations

import argparse
import os
import platform
import statistics

import torch

import qgm.data  # noqa: F401  (registers the datasets)
from bench_common import interleave
from qgm.losses.ensemble import branch_mixture_mmd, reduced_density
from qgm.models.qddpm import QuDDPM, forward_diffuse
from qgm.registry import DATASETS
from qgm.train.trainer import update


def build(diff_method: str = "backprop", loss: str = "mmd", t: int = 10) -> tuple[QuDDPM, torch.optim.Optimizer]:
    """The 2-qubit clustered QuDDPM positioned at diffusion step ``t`` with its optimizer."""
    data = DATASETS.create("clustered_states", n_qubits=2, n_train=1000, n_test=0, seed=0)
    model = QuDDPM(2, n_ancilla=1, steps=20, layers=6, schedule={"name": "linspace", "start": 0.5, "stop": 4.0},
                   loss=loss, n_inputs=100, epochs_per_step=10**6, diff_method=diff_method, data=data.train)
    model.updates.fill_((19 - t) * 10**6)
    opt = model.configure_optimizers({"name": "adam", "lr": 0.01})["model"]
    return model, opt


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--reps", type=int, default=30)
    parser.add_argument("--t", type=int, default=10, help="diffusion step being trained (0..19)")
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    model, opt = build(t=args.t)
    data = DATASETS.create("clustered_states", n_qubits=2, n_train=1000, n_test=0, seed=0)
    batch = data.train[:100]
    t = model.training_step
    inputs = model.stage_inputs(t)
    state: dict[str, torch.Tensor] = {}

    def engine() -> None:
        state["iso"] = model.isometry(t)

    def mixture() -> None:
        state["loss"] = branch_mixture_mmd(reduced_density(inputs @ state["iso"], 1), state["target"])

    def backward() -> None:
        opt.zero_grad()
        state["loss"].backward()

    stages = {
        "inputs": lambda: model.stage_inputs(t),
        "diffuse": lambda: state.__setitem__("target", forward_diffuse(batch, model.schedule[:t], model.rng)),
        "engine": engine,
        "mixture": mixture,
        "backward": backward,
        "adam": opt.step,
    }
    steps = {}
    for name, (method, loss) in {"step backprop": ("backprop", "mmd"), "step adjoint": ("adjoint", "mmd"),
                                 "step parameter-shift": ("parameter-shift", "mmd"),
                                 "step mmd_sampled (reference loss)": ("backprop", "mmd_sampled")}.items():
        m, o = build(method, loss, args.t)
        steps[name] = (lambda m=m, o=o: update(m.objective, batch, {"model": o}, {"model": 1}))
    times = interleave({**stages, **steps}, args.reps)
    print(f"QuDDPM 2-qubit cluster, training step t = {t}; {platform.processor() or platform.machine()}, "
          f"{os.cpu_count()} cores, torch {torch.__version__}, {args.threads} thread(s), {args.reps} reps, "
          f"load average {os.getloadavg()[0]:.1f}\n")
    print("| stage | median ms | min ms |\n|---|---|---|")
    for name, ts in times.items():
        print(f"| {name} | {1e3 * statistics.median(ts):.2f} | {1e3 * min(ts):.2f} |")
    total = sum(statistics.median(times[k]) for k in stages)
    print(f"| sum of stages | {1e3 * total:.2f} | |")


if __name__ == "__main__":
    main()
