"""``qgm report``: the self-contained HTML claims report from the stored reproduction results."""
from __future__ import annotations

import argparse
from pathlib import Path

from qgm.cli.core import command
from qgm.cli.reproduce import RESULTS_DIR
from qgm.errors import ConfigError


def _report_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--results", default=str(RESULTS_DIR), metavar="DIR", help=f"stored results (default {RESULTS_DIR})")
    p.add_argument("--out", default="report.html", metavar="FILE", help="HTML file to write (default report.html)")


@command("report", "the claims report: one self-contained HTML page of every stored reproduction", _report_args)
def _report(args: argparse.Namespace) -> int:
    from qgm.atomic import atomic_text
    from qgm.report import render_report

    if not any(Path(args.results).glob("*.json")):
        raise ConfigError(f"--results: no stored results in {args.results}; run qgm reproduce first")
    atomic_text(args.out, render_report(args.results))
    print(f"wrote {args.out}")
    return 0
