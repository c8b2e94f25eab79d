"""QuDDPM diagnostics: metrics against the diffusion step and denoising trajectories on the Bloch sphere.

:func:`diffusion_curves` compares, at every diffusion step ``t = 0 … T``, the
model's backward ensemble ``S̃_t`` (from fresh Haar inputs) and the forward
ensemble ``S_t`` (the data diffused ``t`` steps) with the data ``S_0``: the
fidelity MMD of each to ``S_0`` and, for data with a ``centre``, the mean
fidelity to it. :func:`write_diffusion_plots` draws them
(``metric_vs_step.png``), the Bloch-sphere trajectory of one-qubit ensembles
(``bloch_trajectory.png``) and writes the numbers (``diffusion_curves.json``).
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Optional, Sequence

import numpy as np
import torch

from qgm.atomic import atomic_json
from qgm.errors import ConfigError
from qgm.losses.ensemble import fidelity_mmd, haar_states
from qgm.metrics.states import bloch_vectors
from qgm.models.qddpm import forward_diffuse

__all__ = ["diffusion_curves", "plot_metric_vs_step", "plot_bloch_trajectory", "write_diffusion_plots"]


def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _trajectories(model: Any, data: torch.Tensor, n: int, generator: torch.Generator
                  ) -> tuple[torch.Tensor, torch.Tensor]:
    """Backward ``(T+1, n, d)`` from ``n`` fresh Haar inputs and forward ``(T+1, m, d)`` of ``data``."""
    if not hasattr(model, "trajectory") or not hasattr(model, "schedule"):
        raise ConfigError(f"RUN: the model is a {type(model).__name__}, not a diffusion model (QuDDPM)")
    inputs = haar_states(model.space.n, n, generator=generator)
    backward = model.trajectory(inputs, generator)
    forward = torch.stack([forward_diffuse(data, model.schedule[:t], generator) for t in range(model.steps + 1)])
    return backward, forward


def diffusion_curves(model: Any, dataset: Any, n: int = 100, seed: int = 0) -> dict[str, list[float]]:
    """Per diffusion step ``t = 0 … T``: ``mmd_backward`` / ``mmd_forward`` (fidelity MMD of ``S̃_t`` / ``S_t`` to the
    data), and ``centre_backward`` / ``centre_forward`` (mean fidelity to ``dataset.centre``) where it has one.
    The data are the test split (else the training split), at most ``n`` states of it for ``S_t``."""
    data = dataset.test if dataset.test is not None else dataset.train
    gen = torch.Generator().manual_seed(int(seed))
    with torch.no_grad():
        backward, forward = _trajectories(model, data[:n], n, gen)
        out = {"mmd_backward": [float(fidelity_mmd(data, s)) for s in backward],
               "mmd_forward": [float(fidelity_mmd(data, s)) for s in forward]}
        centre = getattr(dataset, "centre", None)
        if centre is not None:
            c = centre.to(torch.complex128)
            out["centre_backward"] = [float(((s @ c.conj()).abs() ** 2).mean()) for s in backward]
            out["centre_forward"] = [float(((s @ c.conj()).abs() ** 2).mean()) for s in forward]
    return out


def plot_metric_vs_step(curves: dict[str, Sequence[float]], path: Path) -> None:
    """One panel per metric family (``mmd``, ``centre``): backward and forward curves against ``t``."""
    plt = _pyplot()
    families = sorted({k.split("_")[0] for k in curves})
    fig, axes = plt.subplots(1, len(families), figsize=(5 * len(families), 3.6), squeeze=False)
    for ax, family in zip(axes[0], families):
        for key in (f"{family}_forward", f"{family}_backward"):
            if key in curves:
                ax.plot(np.arange(len(curves[key])), curves[key], "o--", ms=3, label=key.split("_")[1])
        ax.set_xlabel("diffusion step t")
        ax.set_ylabel({"mmd": "fidelity MMD to the data", "centre": "mean fidelity to the centre"}.get(family, family))
        ax.grid(alpha=0.3)
        ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def plot_bloch_trajectory(trajectory: torch.Tensor, path: Path, data: Optional[torch.Tensor] = None,
                          panels: int = 5) -> None:
    """Bloch vectors of a one-qubit backward trajectory ``(T+1, n, 2)`` at ``panels`` steps from ``t = T`` to 0
    (3-D scatter on the unit sphere; ``data`` ``(m, 2)`` drawn in grey in the last panel)."""
    plt = _pyplot()
    steps = np.unique(np.linspace(trajectory.shape[0] - 1, 0, panels).round().astype(int))[::-1]
    fig = plt.figure(figsize=(3.2 * len(steps), 3.4))
    u, v = np.mgrid[0:2 * np.pi:24j, 0:np.pi:12j]
    for k, t in enumerate(steps):
        ax = fig.add_subplot(1, len(steps), k + 1, projection="3d")
        ax.plot_wireframe(np.cos(u) * np.sin(v), np.sin(u) * np.sin(v), np.cos(v), color="0.85", lw=0.4)
        if data is not None and k == len(steps) - 1:
            b = bloch_vectors(data).numpy()
            ax.scatter(b[:, 0], b[:, 1], b[:, 2], s=4, c="0.5", label="data")
        b = bloch_vectors(trajectory[t]).numpy()
        ax.scatter(b[:, 0], b[:, 1], b[:, 2], s=6, c="C3")
        ax.set_title(f"t = {t}")
        ax.set_box_aspect((1, 1, 1))
        ax.set_axis_off()
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def write_diffusion_plots(model: Any, dataset: Any, out: Path, n: int = 100, seed: int = 0) -> dict[str, Any]:
    """Write ``metric_vs_step.png``, ``diffusion_curves.json`` and, for one qubit, ``bloch_trajectory.png``
    into ``out``; the curves."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    curves = diffusion_curves(model, dataset, n, seed)
    atomic_json(out / "diffusion_curves.json", curves)
    plot_metric_vs_step(curves, out / "metric_vs_step.png")
    if model.space.n == 1:
        gen = torch.Generator().manual_seed(int(seed))
        with torch.no_grad():
            traj = model.trajectory(haar_states(1, n, generator=gen), gen)
        data = dataset.test if dataset.test is not None else dataset.train
        plot_bloch_trajectory(traj, out / "bloch_trajectory.png", data[:n])
    return curves
