"""The claims report: one self-contained HTML page of every stored reproduction (``qgm report``).

For each claim result (``reproductions/results/*.json``, written by ``qgm reproduce``): the
paper's number and setting, ours with the spread over seeds, the pass rule and verdict, the
classical or trivial baseline beside it, every number measured per seed, the exact command,
and a plot (per-seed values against the paper's number and the threshold) embedded as a PNG.
The page has no external resources, so it opens offline and can be attached to a paper.
"""
from __future__ import annotations

import base64
import html
import io
import math
from pathlib import Path
from typing import Any, Union

from qgm.reproduce.table import format_value, load_results

__all__ = ["render_report", "claim_plot_png"]

STYLE = """
body{font-family:system-ui,-apple-system,Segoe UI,sans-serif;margin:2rem auto;max-width:1100px;color:#222;padding:0 1rem}
h1{margin-bottom:.2rem} .lead{color:#555;margin-top:0}
table{border-collapse:collapse;width:100%;margin:1rem 0} th,td{border:1px solid #ccc;padding:.35rem .5rem;
text-align:left;vertical-align:top;font-size:.9rem} th{background:#f3f3f3}
.pass{color:#0a7a28;font-weight:600} .fail{color:#b3261e;font-weight:600} .quick{color:#8a6d00;font-size:.8rem}
section.claim{border-top:2px solid #ddd;margin-top:2rem;padding-top:.5rem} code{background:#f5f5f5;padding:0 .2rem}
.grid{display:grid;grid-template-columns:1fr 360px;gap:1rem} img{max-width:100%;border:1px solid #eee}
"""


def claim_plot_png(result: dict[str, Any]) -> bytes:
    """PNG of the per-seed values of the claim's metric, with the threshold and the paper's number."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    metric = result["metric"]
    seeds = list(result["values"])
    values = [result["values"][s][metric] for s in seeds]
    finite = [v for v in values if math.isfinite(v)]
    cap = max(finite + [result["threshold"]] + ([result["paper_value"]] if result["paper_value"] is not None else []))
    shown = [v if math.isfinite(v) else 1.1 * cap for v in values]
    fig, ax = plt.subplots(figsize=(3.6, 2.6))
    colours = ["#0a7a28" if _passes(result, v) else "#b3261e" for v in values]
    ax.scatter(range(len(shown)), shown, c=colours, zorder=3, label="ours (per seed)")
    ax.axhline(result["threshold"], color="#555", ls="--", lw=1, label="pass threshold")
    if result["paper_value"] is not None:
        ax.axhline(result["paper_value"], color="#1f5fbf", lw=1, label="paper")
    ax.axhline(result["median"] if math.isfinite(result["median"]) else 1.1 * cap, color="#e08a00", lw=1.5,
               label="our median")
    positive = all(v > 0 for v in shown) and result["threshold"] > 0
    if positive and max(shown + [result["threshold"]]) > 30 * min(shown + [result["threshold"]]):
        ax.set_yscale("log")
    ax.set_xticks(range(len(seeds)), seeds, fontsize=7)
    ax.set_xlabel("seed", fontsize=8)
    ax.set_ylabel(metric, fontsize=8)
    ax.tick_params(labelsize=7)
    ax.legend(fontsize=6, loc="best")
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=100)
    plt.close(fig)
    return buf.getvalue()


def _passes(result: dict[str, Any], value: float) -> bool:
    if not math.isfinite(value):
        return False
    return value < result["threshold"] if result["direction"] == "below" else value > result["threshold"]


def _verdict(result: dict[str, Any]) -> str:
    cls, text = ("pass", "✓ passes") if result["passed"] else ("fail", "✗ fails")
    quick = ' <span class="quick">(quick run)</span>' if result["quick"] else ""
    return f'<span class="{cls}">{text}</span>{quick}'


def _per_seed_table(result: dict[str, Any]) -> str:
    keys = sorted({k for v in result["values"].values() for k in v})
    head = "".join(f"<th>{html.escape(k)}</th>" for k in keys)
    rows = "".join(
        f"<tr><td>{html.escape(seed)}</td>" + "".join(f"<td>{format_value(v.get(k))}</td>" for k in keys) + "</tr>"
        for seed, v in result["values"].items()
    )
    return f"<table><tr><th>seed</th>{head}</tr>{rows}</table>"


def _section(result: dict[str, Any]) -> str:
    e = html.escape
    png = base64.b64encode(claim_plot_png(result)).decode()
    rule = "<" if result["direction"] == "below" else ">"
    baseline = f"<p><b>Baseline beside it:</b> {e(result['baseline'])}</p>" if result["baseline"] else ""
    return f"""<section class="claim" id="{e(result['name'])}">
<h2>{e(result['title'])}</h2>
<div class="grid"><div>
<p><b>Source:</b> {e(result['paper'])}. <b>Paper:</b> {format_value(result['paper_value'])}.
<b>Pass rule:</b> median {e(result['metric'])} {rule} {format_value(result['threshold'])}.</p>
<p><b>Ours:</b> median {format_value(result['median'])} [{format_value(result['min'])}, {format_value(result['max'])}]
over {len(result['seeds'])} seeds, {result['n_pass']} pass — {_verdict(result)}</p>
<p><b>Setting:</b> {e(result['setting'])}</p>
<p><b>Convention:</b> {e(result['convention'])}</p>
{baseline}
<p><b>Command:</b> <code>{e(result['command'])}</code> ({result['wall_time_s']:.0f} s;
torch {e(result['versions'].get('torch', '?'))})</p>
</div><div><img alt="per-seed values of {e(result['name'])}" src="data:image/png;base64,{png}"></div></div>
{_per_seed_table(result)}
</section>"""


def render_report(results_dir: Union[str, Path]) -> str:
    """The whole HTML page for the stored results in ``results_dir``."""
    results = load_results(results_dir)
    e = html.escape
    rows = "".join(
        f'<tr><td><a href="#{e(r["name"])}">{e(r["title"])}</a></td><td>{format_value(r["paper_value"])}</td>'
        f'<td>{format_value(r["median"])} [{format_value(r["min"])}, {format_value(r["max"])}]</td>'
        f'<td>{r["n_pass"]}/{len(r["seeds"])}</td><td>{_verdict(r)}</td></tr>'
        for r in results.values()
    )
    passed = sum(r["passed"] for r in results.values())
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>qgm claims report</title><style>{STYLE}</style></head>
<body><h1>Claims of quantum generative modelling, checked</h1>
<p class="lead">Every number below was produced by <code>qgm reproduce</code> on the stored seeds; the paper's
number is in the paper's convention. {passed} of {len(results)} claims pass (by the median over seeds).</p>
<table id="summary"><tr><th>claim</th><th>paper</th><th>ours: median [min, max]</th><th>seeds passing</th>
<th>verdict</th></tr>{rows}</table>
{''.join(_section(r) for r in results.values())}
</body></html>
"""
