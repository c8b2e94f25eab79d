"""One-call geometry summary of a circuit (for ``qgm geometry``) and its plot.

The report is a JSON-ready dict: expressibility (with its fidelity histogram
and the Haar bin masses), entangling capability, and the spectrum of the full
Fubini–Study metric at one parameter point.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Callable, Optional, Union

import torch

from qgm.atomic import atomic_savefig
from qgm.circuits.circuit import Circuit
from qgm.geometry.entanglement import entangling_capability
from qgm.geometry.expressibility import fidelity_histogram, fidelity_samples, haar_log_masses, kl_to_haar
from qgm.geometry.metric import metric_tensor
from qgm.geometry.sampling import uniform_params
from qgm.sim.validate import as_angles

__all__ = ["metric_spectrum", "geometry_report", "plot_geometry_report"]


def metric_spectrum(g: torch.Tensor) -> dict[str, Any]:
    """Eigen-summary of one metric ``(P, P)``.

    ``rank`` counts eigenvalues above ``λ_max · P · eps`` (NumPy's matrix-rank
    rule); ``condition_number`` is ``λ_max / λ_min`` over those eigenvalues
    (the conditioning on the metric's range; None when the rank is 0).
    """
    w = torch.linalg.eigvalsh(g.to(torch.float64)) if g.numel() else torch.zeros(0, dtype=torch.float64)
    top = float(w.max()) if w.numel() else 0.0
    tol = top * max(w.numel(), 1) * torch.finfo(torch.float64).eps
    kept = w[w > tol]
    return {
        "eigenvalues": w.tolist(),
        "rank": int(kept.numel()),
        "condition_number": float(kept.max() / kept.min()) if kept.numel() else None,
        "trace": float(w.sum()),
    }


def geometry_report(
    circuit: Circuit,
    params=None,
    n_pairs: int = 5000,
    bins: int = 75,
    generator: Optional[torch.Generator] = None,
    progress: Optional[Callable[[str], object]] = None,
) -> dict[str, Any]:
    """Expressibility, entangling capability and metric spectrum of ``circuit``.

    Args:
        circuit: an ansatz without input slots (bind inputs first with ``circuit.bind``).
        params: ``(P,)`` point for the metric; drawn from U[0, 2π) when None.
        n_pairs: fidelity pairs for expressibility; also the number of samples of
            the entangling capability.
        bins: fidelity histogram bins.
        generator: seeds, in this order, the metric point (if drawn), the pairs and the samples.
        progress: called with the name of each of the three parts (``"metric"``, ``"expressibility"``,
            ``"entangling capability"``) when it is done.
    Returns:
        ``{"n_qubits", "n_params", "n_pairs", "bins", "expressibility",
        "entangling_capability", "fidelity_histogram", "haar_histogram",
        "metric": {"approx": "full", "params", "eigenvalues", "rank",
        "condition_number", "trace"}}`` (floats, ints and lists only).
    """
    theta = uniform_params(circuit, 1, generator)[0] if params is None else as_angles(
        params, circuit.n_params, "params", torch.float64, None
    ).detach()
    done = progress or (lambda part: None)
    g = metric_tensor(circuit, theta)
    done("metric")
    fids = fidelity_samples(circuit, n_pairs, generator)
    expressibility = kl_to_haar(fids, circuit.n_qubits, bins)
    done("expressibility")
    entangling = entangling_capability(circuit, n_pairs, generator)
    done("entangling capability")
    return {
        "n_qubits": circuit.n_qubits,
        "n_params": circuit.n_params,
        "n_pairs": n_pairs,
        "bins": bins,
        "expressibility": expressibility,
        "entangling_capability": entangling,
        "fidelity_histogram": fidelity_histogram(fids, bins).tolist(),
        "haar_histogram": haar_log_masses(circuit.n_qubits, bins).exp().tolist(),
        "metric": {"approx": "full", "params": theta.reshape(-1).tolist(), **metric_spectrum(g)},
    }


def plot_geometry_report(report: dict[str, Any], path: Union[str, Path]) -> Path:
    """Save a two-panel figure (fidelity histogram vs Haar; metric eigenvalues) to ``path``; returns it."""
    from matplotlib.figure import Figure  # no pyplot: no global backend state

    path = Path(path)
    bins = report["bins"]
    centres = [(b + 0.5) / bins for b in range(bins)]
    fig = Figure(figsize=(10, 4))
    ax_f, ax_g = fig.subplots(1, 2)
    ax_f.bar(centres, report["fidelity_histogram"], width=1 / bins, alpha=0.6, label="circuit")
    ax_f.plot(centres, report["haar_histogram"], color="k", lw=1.5, label="Haar")
    ax_f.set_xlabel("fidelity F")
    ax_f.set_ylabel("probability per bin")
    ax_f.set_title(
        f"Expr = {report['expressibility']:.4f} ({report['n_pairs']} pairs, {bins} bins); "
        f"Ent = {report['entangling_capability']:.3f}",
        fontsize=9,
    )
    ax_f.legend()
    m = report["metric"]
    eig = sorted(m["eigenvalues"], reverse=True)
    floor = 1e-16
    ax_g.semilogy(range(1, len(eig) + 1), [max(e, floor) for e in eig], "o-", ms=3)
    cond = "n/a" if m["condition_number"] is None else f"{m['condition_number']:.3g}"
    ax_g.set_title(f"metric spectrum: rank {m['rank']}/{report['n_params']}, cond {cond}", fontsize=9)
    ax_g.set_xlabel("index")
    ax_g.set_ylabel(f"eigenvalue (floored at {floor:g})")
    fig.tight_layout()
    atomic_savefig(fig, path, dpi=120)
    return path
