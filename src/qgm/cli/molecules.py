"""``qgm molecules``: sample a trained molecular run into a SMILES file with QED, logP and SA."""
from __future__ import annotations

import argparse
import json
from pathlib import Path

from qgm.cli.core import command, output_file
from qgm.errors import ConfigError
from qgm.limits import check_samples, check_seed


def _molecules_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("run", metavar="RUN", help="run directory of a model trained on molecular graphs (e.g. qm9)")
    p.add_argument("--n", type=int, required=True, help="number of graphs to sample")
    p.add_argument("--out", required=True, metavar="FILE", help="output file: one valid molecule a line, "
                   "tab-separated SMILES, QED, logP, SA (header line starting with #)")
    p.add_argument("--seed", type=int, default=0, help="sampling seed")
    p.add_argument("--grid", type=int, default=48, metavar="K",
                   help="draw the first K valid molecules into RUN/plots/molecules_sampled.png (0: no picture)")


@command("molecules", "sample a molecular run: valid SMILES with QED/logP/SA, metrics and a grid image",
         _molecules_args)
def _molecules(args: argparse.Namespace) -> int:
    import torch

    from qgm.atomic import atomic_text
    from qgm.data.qm9 import canonical_smiles, is_valid, molecule_grid
    from qgm.metrics.chemistry import CHEMISTRY_METRICS, logp, qed, sa_score, score_graphs
    from qgm.train import load_run

    if args.n < 1:
        raise ConfigError(f"--n: expected a positive number of samples, got {args.n}")
    seed = check_seed(args.seed, "--seed")
    out = output_file(args.out, "--out")
    parts = load_run(args.run)
    codec = getattr(parts.dataset, "codec", None)
    if codec is None:
        raise ConfigError(f"RUN: {args.run} was trained on {parts.dataset.space.describe()} data, not molecules")
    check_samples(args.n, parts.dataset.space, "--n")
    parts.model.eval()
    with torch.no_grad():
        graphs = parts.model.sample(args.n, generator=torch.Generator().manual_seed(seed))
    scores = score_graphs(graphs, codec, getattr(parts.dataset, "train_smiles", frozenset()))
    valid = [m for m in scores.mols if is_valid(m)]
    lines = ["# smiles\tqed\tlogp\tsa"] + [
        f"{canonical_smiles(m)}\t{qed(m):.4f}\t{logp(m):.4f}\t{sa_score(m):.4f}" for m in valid]
    atomic_text(out, "\n".join(lines) + "\n")
    if args.grid > 0 and valid:
        print(f"wrote {molecule_grid(valid, Path(args.run) / 'plots' / 'molecules_sampled.png', n=args.grid)}")
    print(json.dumps({name: scores.metric(name) for name in CHEMISTRY_METRICS}, indent=2))
    print(f"wrote {out}: {len(valid)} valid molecules of {args.n} samples")
    return 0
