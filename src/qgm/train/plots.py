"""End-of-run plots (matplotlib, Agg backend): files in ``<run>/plots/``.

* ``curves.png``: the loss and every metric against the step (log scale where positive);
* ``distribution.png``: learned vs target probabilities per basis state (bit data;
  the ``MAX_BARS`` most probable states when there are more);
* ``samples.png``: a grid of sampled images (datasets with ``images(indices)``, e.g. BAS);
* ``values.png``: sampled vs data values (1-D histogram, 2-D scatter) for data that decode
  to values (grids) and real-valued data.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Optional, Sequence

import numpy as np

from qgm.atomic import atomic_savefig

__all__ = ["write_plots", "plot_curves", "plot_distribution", "plot_images", "plot_values", "MAX_BARS"]

#: Most basis states drawn as bars in ``distribution.png``.
MAX_BARS = 64


def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def plot_curves(records: Sequence[dict[str, Any]], path: Path) -> None:
    """Loss and metrics (one panel each) against the step."""
    plt = _pyplot()
    keys = [k for k in dict.fromkeys(k for r in records for k in r) if k != "step" and not k.startswith("lr")]
    fig, axes = plt.subplots(len(keys), 1, figsize=(6, 2.2 * len(keys)), sharex=True, squeeze=False)
    for ax, key in zip(axes[:, 0], keys):
        pts = np.array([(r["step"], r[key]) for r in records if key in r], dtype=np.float64)
        ax.plot(pts[:, 0], pts[:, 1], marker="." if len(pts) < 50 else None)
        if np.all(pts[:, 1] > 0) and pts[:, 1].max() > 20 * pts[:, 1].min():
            ax.set_yscale("log")
        ax.set_ylabel(key)
        ax.grid(alpha=0.3)
    axes[-1, 0].set_xlabel("step")
    fig.tight_layout()
    atomic_savefig(fig, path, dpi=110)
    plt.close(fig)


def plot_distribution(learned: np.ndarray, target: np.ndarray, n_bits: int, path: Path, ordered: bool = False) -> None:
    """Bars of ``learned`` and ``target`` ``(2**n_bits,)`` over the states (bitstring labels, wire 0 left);
    ``ordered`` states (binned values) with more than :data:`MAX_BARS` states are drawn as two curves."""
    plt = _pyplot()
    if ordered and learned.size > MAX_BARS:
        fig, ax = plt.subplots(figsize=(7, 3.5))
        ax.step(np.arange(learned.size), learned, where="mid", label="learned", color="C1", alpha=0.8)
        ax.step(np.arange(target.size), target, where="mid", label="target", color="C0")
        ax.set_xlabel("basis index")
        ax.set_ylabel("probability")
        ax.legend()
        fig.tight_layout()
        atomic_savefig(fig, path, dpi=110)
        plt.close(fig)
        return
    states = np.arange(learned.size)
    if learned.size > MAX_BARS:
        states = np.sort(np.argsort(-(learned + target), kind="stable")[:MAX_BARS])
    fig, ax = plt.subplots(figsize=(max(6, 0.22 * len(states)), 3.5))
    x = np.arange(len(states))
    ax.bar(x - 0.2, target[states], width=0.4, label="target")
    ax.bar(x + 0.2, learned[states], width=0.4, label="learned")
    if n_bits <= 12:
        ax.set_xticks(x, [format(int(s), f"0{n_bits}b") for s in states], rotation=90, fontsize=6)
    ax.set_ylabel("probability")
    ax.legend()
    fig.tight_layout()
    atomic_savefig(fig, path, dpi=110)
    plt.close(fig)


def plot_images(images: np.ndarray, path: Path, max_images: int = 48) -> None:
    """Grid of binary images ``(N, rows, cols)``."""
    plt = _pyplot()
    images = images[:max_images]
    n_cols = min(8, len(images))
    n_rows = -(-len(images) // n_cols)
    fig, axes = plt.subplots(n_rows, n_cols, figsize=(1.1 * n_cols, 1.1 * n_rows), squeeze=False)
    for ax in axes.ravel()[len(images):]:
        ax.axis("off")
    for ax, im in zip(axes.ravel(), images):
        ax.imshow(im, cmap="gray_r", vmin=0, vmax=1)
        ax.set_xticks([])  # keep the frame: without it, neighbouring images merge into one picture
        ax.set_yticks([])
    fig.subplots_adjust(left=0.02, right=0.98, bottom=0.02, top=0.98, wspace=0.15, hspace=0.15)
    atomic_savefig(fig, path, dpi=110)
    plt.close(fig)


def plot_values(samples: np.ndarray, data: np.ndarray, path: Path) -> None:
    """Generated vs data values: histograms for 1-D, a scatter of the first two coordinates otherwise."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(5, 4))
    if samples.shape[1] == 1:
        bins = np.histogram_bin_edges(np.concatenate([samples[:, 0], data[:, 0]]), bins=64)
        ax.hist(data[:, 0], bins=bins, density=True, alpha=0.5, label="data")
        ax.hist(samples[:, 0], bins=bins, density=True, alpha=0.5, label="generated")
        ax.set_xlabel("x")
    else:
        ax.scatter(data[:, 0], data[:, 1], s=4, alpha=0.3, label="data")
        ax.scatter(samples[:, 0], samples[:, 1], s=4, alpha=0.3, label="generated")
        ax.set_xlabel("x0")
        ax.set_ylabel("x1")
    ax.legend()
    fig.tight_layout()
    atomic_savefig(fig, path, dpi=110)
    plt.close(fig)


def write_plots(
    folder: Path,
    records: Sequence[dict[str, Any]],
    dataset: Any,
    samples: Any,
    learned: Optional[np.ndarray],
    values: Optional[np.ndarray],
) -> list[Path]:
    """Every plot that applies to this run; the paths written.

    ``samples`` are the model's raw samples, ``learned`` its distribution ``(2**n,)``
    (exact or the sample histogram; None unless the data are bits), ``values`` the
    decoded samples ``(N, d)`` (None unless the data are real-valued).
    """
    folder.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    if records:
        plot_curves(records, folder / "curves.png")
        written.append(folder / "curves.png")
    if learned is not None:
        target = getattr(dataset, "target", None)
        ref = np.asarray(target, dtype=np.float64) if target is not None else dataset.empirical("train")
        ordered = dataset.value_space is not None
        plot_distribution(learned, ref, dataset.n_bits, folder / "distribution.png", ordered)
        written.append(folder / "distribution.png")
    if callable(getattr(dataset, "images", None)):
        plot_images(dataset.images(samples), folder / "samples.png")
        written.append(folder / "samples.png")
    if values is not None:
        data = dataset.decode(dataset.train) if dataset.value_space is not None else np.asarray(dataset.train)
        plot_values(values, data, folder / "values.png")
        written.append(folder / "values.png")
    return written
