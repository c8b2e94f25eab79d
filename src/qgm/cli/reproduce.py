"""``qgm reproduce``: run registered reproductions of published claims and store their results."""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from qgm.cli.core import command, output_file
from qgm.errors import ConfigError

#: Default folder of the stored results (REPRODUCTIONS.md is generated from it).
RESULTS_DIR = Path("reproductions") / "results"


def _reproduce_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("names", nargs="*", metavar="NAME", help="registered claims (see --list)")
    p.add_argument("--list", action="store_true", help="list the registered claims and exit")
    p.add_argument("--quick", action="store_true", help="the claim's quick mode (few seeds, short runs)")
    p.add_argument("--seeds", type=int, nargs="+", help="override the claim's seeds")
    p.add_argument("--all", action="store_true", help="run every registered claim")
    p.add_argument("--out", default=str(RESULTS_DIR), metavar="DIR", help=f"results folder (default {RESULTS_DIR})")
    p.add_argument("--workers", type=int, help="claim seeds measured in parallel (default: the number of cores)")
    p.add_argument("--executor", choices=("local", "ray"), default="local",
                   help="local processes (default) or Ray tasks (extra 'scale')")
    p.add_argument("--address", help="Ray cluster address (default: start a local Ray instance)")
    p.add_argument("--write-table", metavar="FILE", help="write the Markdown table of the stored results "
                   "(REPRODUCTIONS.md) after running (or alone)")


@command("reproduce", "run reproductions of published claims (median over seeds, stored as JSON)", _reproduce_args)
def _reproduce(args: argparse.Namespace) -> int:
    from qgm.reproduce import CLAIMS, run_claims

    if args.list:
        for name in CLAIMS.names():
            claim = CLAIMS.get(name)
            print(f"{name}: {claim.title} ({claim.paper})")
        return 0
    names = CLAIMS.names() if args.all else args.names
    if not names and not args.write_table:
        raise ConfigError("NAME: give one or more claims, --all, or --write-table (qgm reproduce --list shows them)")
    table = output_file(args.write_table, "--write-table") if args.write_table else None
    results, failures = run_claims([CLAIMS.get(n) for n in names], args.out, quick=args.quick, seeds=args.seeds,
                                   executor=args.executor, workers=args.workers, address=args.address,
                                   progress=len(names) > 1)
    for result in results:
        print(json.dumps({"name": result.name, "median": result.median, "passed": result.passed,
                          "n_pass": result.n_pass, "seeds": result.seeds}))
    for name, error in failures.items():
        print(f"qgm reproduce: {name} failed: {error}", file=sys.stderr)
    if args.quick and results:
        from qgm.reproduce.table import verdict_agreement

        agree, differ = verdict_agreement(args.out)
        print(f"quick verdicts agree with the stored full verdicts for {len(agree)} claims"
              + (f"; differ for {', '.join(differ)}" if differ else ""))
    if args.write_table:
        from qgm.atomic import atomic_text
        from qgm.reproduce.table import render_markdown

        atomic_text(table, render_markdown(args.out))
        print(f"wrote {args.write_table}")
    return 1 if failures else 0
