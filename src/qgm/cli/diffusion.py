"""``qgm diffusion-plots``: metric against diffusion step and Bloch trajectories of a trained QuDDPM run."""
from __future__ import annotations

import argparse
from pathlib import Path

from qgm.cli.core import command


def _plots_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("run", metavar="RUN", help="run directory of a QuDDPM model")
    p.add_argument("--n", type=int, default=100, help="states per ensemble (default 100)")
    p.add_argument("--seed", type=int, default=0, help="seed of the Haar inputs, outcomes and forward noise")
    p.add_argument("--out", metavar="DIR", help="output folder (default RUN/plots)")


@command("diffusion-plots", "metric vs diffusion step and Bloch trajectories of a QuDDPM run", _plots_args)
def _plots(args: argparse.Namespace) -> int:
    import torch

    from qgm.errors import ConfigError
    from qgm.plots.diffusion import write_diffusion_plots
    from qgm.train import load_run

    if args.n < 1:
        raise ConfigError(f"--n: expected a positive number of states, got {args.n}")
    parts = load_run(args.run)
    parts.model.eval()
    out = Path(args.out) if args.out else Path(args.run) / "plots"
    with torch.no_grad():
        curves = write_diffusion_plots(parts.model, parts.dataset, out, n=args.n, seed=args.seed)
    print(f"wrote {out}: metric_vs_step.png, diffusion_curves.json" + (", bloch_trajectory.png"
                                                                       if parts.model.space.n == 1 else ""))
    print(f"MMD to the data at t=0: backward {curves['mmd_backward'][0]:.4g}, forward {curves['mmd_forward'][0]:.4g}")
    return 0
