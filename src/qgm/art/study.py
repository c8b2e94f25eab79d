"""The latent-seed study: does seeding a digit generator with quantum latents make it explore more?

For every seed, a :class:`~qgm.art.seeds.SeedKit` is trained on the training digits
and ``n`` digits are generated from each source (``qcbm``, ``noise``, ``gauss``);
held-out real digits give the reference row. Measured per source:

* ``coverage``: fraction of the 10 classes that a 5-nearest-neighbour judge (the training
  digits) assigns to at least ``1%`` of the samples; ``class_entropy``: the
  entropy of the assigned classes over ``log 10`` (1 = all classes equally often);
* ``diversity``: mean pairwise Euclidean distance between samples (pixels in [0, 1]);
* ``frechet``: Fréchet distance between Gaussians fitted to the samples and to the
  held-out digits, in pixel space (64-d; no Inception network here);
* ``novelty``: mean distance from a sample to its nearest training digit.

:func:`run_study` returns per-seed numbers and a summary (median, min, max);
:func:`verdict` reads the claim off the paired per-seed differences.
"""
from __future__ import annotations

import functools
from typing import Any, Optional, Sequence

import numpy as np
import torch

from qgm.art.seeds import SOURCES, train_kit
from qgm.errors import ConfigError

__all__ = [
    "frechet_distance", "mean_pairwise_distance", "nearest_distance", "class_histogram", "DigitJudge",
    "STUDY", "QUICK", "METRICS", "measure_seed", "run_study", "summarise", "verdict", "to_markdown",
]

METRICS = ("coverage", "class_entropy", "diversity", "frechet", "novelty")
#: Full study settings (about 3 minutes of one core) and the CI short mode.
STUDY = {"seeds": (0, 1, 2, 3, 4), "n": 1000, "latent_dim": 3, "bits_per_dim": 3, "vae_steps": 1500,
         "qcbm_steps": 400, "qcbm_depth": 6}
QUICK = {"seeds": (0,), "n": 150, "latent_dim": 2, "bits_per_dim": 2, "vae_steps": 100, "qcbm_steps": 20,
         "qcbm_depth": 2}


def _psd_sqrt(c: np.ndarray) -> np.ndarray:
    """Symmetric square root of a positive semi-definite matrix (eigenvalues clipped at 0)."""
    w, v = np.linalg.eigh(c)
    return (v * np.sqrt(np.clip(w, 0.0, None))) @ v.T


def frechet_distance(x: np.ndarray, y: np.ndarray) -> float:
    """``‖μx − μy‖² + Tr Σx + Tr Σy − 2 Tr (Σx^½ Σy Σx^½)^½`` between Gaussians fitted to the rows of
    ``x`` and ``y`` (the symmetric form of ``Tr (Σx Σy)^½``: stable for singular covariances)."""
    x, y = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
    if x.ndim != 2 or y.ndim != 2 or x.shape[0] < 2 or y.shape[0] < 2 or x.shape[1] != y.shape[1]:
        raise ConfigError(f"frechet_distance: need two sample sets (>= 2 rows, same width), got {x.shape} and {y.shape}")
    cx, cy = np.atleast_2d(np.cov(x, rowvar=False)), np.atleast_2d(np.cov(y, rowvar=False))
    rx = _psd_sqrt(cx)
    cross = np.sqrt(np.clip(np.linalg.eigvalsh(rx @ cy @ rx), 0.0, None)).sum()
    return float(((x.mean(0) - y.mean(0)) ** 2).sum() + np.trace(cx) + np.trace(cy) - 2 * cross)


def mean_pairwise_distance(x: np.ndarray) -> float:
    """Mean Euclidean distance over all unordered pairs of rows of ``x`` ``(N, d)``, ``N >= 2``."""
    from scipy.spatial.distance import pdist

    return float(pdist(np.asarray(x, dtype=np.float64)).mean())


def nearest_distance(x: np.ndarray, reference: np.ndarray) -> np.ndarray:
    """Distance ``(N,)`` from each row of ``x`` to its nearest row of ``reference``."""
    sq = (x**2).sum(1)[:, None] + (reference**2).sum(1)[None, :] - 2 * x @ reference.T
    return np.sqrt(np.clip(sq.min(1), 0.0, None))


def class_histogram(labels: np.ndarray, classes: int = 10) -> np.ndarray:
    """Fractions ``(classes,)`` of ``labels``."""
    return np.bincount(np.asarray(labels, dtype=np.int64), minlength=classes)[:classes] / max(len(labels), 1)


class DigitJudge:
    """What the metrics compare against: training digits (novelty), held-out digits (Fréchet) and a
    5-nearest-neighbour classifier of the training digits (coverage; 98% on the held-out digits)."""

    def __init__(self, train: np.ndarray, train_labels: np.ndarray, held_out: np.ndarray, min_fraction: float = 0.01):
        from sklearn.neighbors import KNeighborsClassifier

        self.train, self.held_out, self.min_fraction = train, held_out, min_fraction
        self.classifier = KNeighborsClassifier(n_neighbors=5).fit(train, train_labels)

    def measure(self, samples: np.ndarray) -> dict[str, float]:
        """The study's metrics (see the module docstring) of ``samples (N, 64)``."""
        hist = class_histogram(self.classifier.predict(samples))
        nz = hist[hist > 0]
        return {
            "coverage": float((hist >= self.min_fraction).mean()),
            "class_entropy": float(-(nz * np.log(nz)).sum() / np.log(len(hist))),
            "diversity": mean_pairwise_distance(samples),
            "frechet": frechet_distance(samples, self.held_out),
            "novelty": float(nearest_distance(samples, self.train).mean()),
        }


def _digits_split(seed: int = 0, held_out: int = 397) -> tuple[torch.Tensor, np.ndarray, torch.Tensor]:
    """All 1797 digits split once (fixed permutation): training images, their labels, held-out images."""
    from qgm.data.digits import Digits

    d = Digits(classes=list(range(10)))
    perm = torch.randperm(len(d.train), generator=torch.Generator().manual_seed(seed))
    test, train = perm[:held_out], perm[held_out:]
    return d.train[train], np.asarray(d.labels)[train.numpy()], d.train[test]


@functools.lru_cache(maxsize=1)
def _reference() -> tuple[torch.Tensor, torch.Tensor, DigitJudge]:
    """Training digits, held-out digits and the judge (built once per process)."""
    train, labels, held = _digits_split()
    return train, held, DigitJudge(train.numpy(), labels, held.numpy())


def measure_seed(seed: int, settings: Optional[dict[str, Any]] = None) -> dict[str, dict[str, float]]:
    """One seed of the study: ``{source: {metric: value}}`` for the three sources and the held-out digits."""
    s = {**STUDY, **(settings or {})}
    train, held, judge = _reference()
    kit = train_kit(train, seed=seed, latent_dim=s["latent_dim"], bits_per_dim=s["bits_per_dim"],
                    vae_steps=s["vae_steps"], qcbm_steps=s["qcbm_steps"], qcbm_depth=s["qcbm_depth"])
    g = torch.Generator().manual_seed(1000 + seed)
    rows = {src: kit.generate(src, s["n"], g).numpy() for src in SOURCES}
    real = torch.randint(held.shape[0], (min(s["n"], held.shape[0]),), generator=g)
    rows["real"] = held[torch.unique(real)].numpy()
    return {src: judge.measure(x) for src, x in rows.items()}


def run_study(settings: Optional[dict[str, Any]] = None, progress=None) -> dict[str, Any]:
    """Run the study with ``settings`` (default :data:`STUDY`; :data:`QUICK` for CI) ->
    ``{"settings", "per_seed": {source: {metric: [..]}}, "summary", "verdict"}``."""
    s = {**STUDY, **(settings or {})}
    per_seed: dict[str, dict[str, list[float]]] = {src: {m: [] for m in METRICS} for src in (*SOURCES, "real")}
    for seed in s["seeds"]:
        measured = measure_seed(seed, s)
        for src, values in measured.items():
            for m, v in values.items():
                per_seed[src][m].append(v)
        if progress is not None:
            progress(seed, {src: values["novelty"] for src, values in measured.items()})
    return {"settings": {k: list(v) if isinstance(v, tuple) else v for k, v in s.items()},
            "per_seed": per_seed, "summary": summarise(per_seed), "verdict": verdict(per_seed)}


def summarise(per_seed: dict[str, dict[str, list[float]]]) -> dict[str, dict[str, dict[str, float]]]:
    """``{source: {metric: {"median", "min", "max"}}}`` over seeds."""
    return {src: {m: {"median": float(np.median(v)), "min": float(np.min(v)), "max": float(np.max(v))}
                  for m, v in ms.items()} for src, ms in per_seed.items()}


def verdict(per_seed: dict[str, dict[str, list[float]]], baseline: str = "gauss") -> dict[str, str]:
    """For each quantum source, whether it explored more than ``baseline`` in every seed (higher novelty
    and diversity, class coverage not lower), in words with the paired differences."""
    out = {}
    base = per_seed[baseline]
    for src in SOURCES:
        if src == baseline:
            continue
        q = per_seed[src]
        dn = np.subtract(q["novelty"], base["novelty"])
        dd = np.subtract(q["diversity"], base["diversity"])
        dc = np.subtract(q["coverage"], base["coverage"])
        more = bool((dn > 0).all() and (dd > 0).all() and (dc >= 0).all())
        out[src] = (f"{'explores more' if more else 'does not explore more'} than {baseline}: novelty "
                    f"{_signed(dn)}, diversity {_signed(dd)}, coverage {_signed(dc)} (paired per seed)")
    return out


def _signed(d: np.ndarray) -> str:
    return f"{np.median(d):+.3f} [{d.min():+.3f}, {d.max():+.3f}]"


def to_markdown(result: dict[str, Any], sources: Sequence[str] = (*SOURCES, "real")) -> str:
    """The summary as a Markdown table (median [min, max] over seeds) plus the verdict lines."""
    head = "| source | " + " | ".join(METRICS) + " |\n|---|" + "---|" * len(METRICS) + "\n"
    rows = []
    for src in sources:
        cells = [f"{v['median']:.3f} [{v['min']:.3f}, {v['max']:.3f}]" for v in result["summary"][src].values()]
        rows.append(f"| {src} | " + " | ".join(cells) + " |")
    lines = [f"- `{src}` {text}" for src, text in result["verdict"].items()]
    return head + "\n".join(rows) + "\n\n" + "\n".join(lines) + "\n"
