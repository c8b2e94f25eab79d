"""``evaluate(model, dataset, names)`` and the metric adapters registered in
:data:`qgm.registry.METRICS`.

Every registered metric has the signature
``metric(*, model, dataset, samples, probs) -> float`` where ``samples`` are the
model's draws in its space's tensor form (basis indices ``(n,)`` for ``Bits``,
float ``(n, dim)`` for ``Reals`` and flat ``Images``) and ``probs`` its exact
probabilities ``(2**n_bits,)`` or None. A metric states what it applies to in
terms of the dataset's space (and ``value_space`` for grids that decode to
values). Distribution metrics compare the model distribution (``probs`` if
given, else the histogram of ``samples``) with the dataset's reference: its
exact ``target``, else the empirical test split (held-out data), else the
empirical training split. Sample metrics on real-valued datasets compare with
the test split (else the training split).

Fixed conventions of the registered adapters (call the pure functions for others):
``mmd`` uses a Gaussian kernel with bandwidth 1 on bits (Hamming distance) or on
values standardised by the reference's per-variable std, exactly from
distributions for grids of at most 2**MMD_EXACT_BITS states, else on at most
MMD_MAX_SAMPLES samples of each side; ``ks`` is the largest per-marginal KS
statistic; finance metrics (``kendall_tau``, ``tail_lower``, ``tail_upper`` at
q = 0.05, ``joint_crash_frequency`` at q = 0.01) are the GENERATED data's values,
averaged over all pairs of variables; a :class:`~qgm.data.MarketCopula` decodes
samples with uniform jitter inside each bin (generator seeded 0) so ranks are
continuous.
"""
from __future__ import annotations

from typing import Any, Callable, Optional

import numpy as np
import torch

from qgm.errors import ConfigError
from qgm.metrics import bitstrings, coverage, divergences, finance
from qgm.metrics.samples import ks_per_marginal, mmd, mmd_distributions
from qgm.registry import METRICS
from qgm.spaces import Bits, Images, Reals

__all__ = ["evaluate", "model_distribution", "reference_distribution", "require", "MMD_EXACT_BITS", "MMD_MAX_SAMPLES"]

#: Largest n_bits for which the ``mmd`` adapter uses exact distributions.
MMD_EXACT_BITS = 10
#: Samples per side of the sample-based ``mmd`` adapter.
MMD_MAX_SAMPLES = 2000
TAIL_Q = 0.05
CRASH_Q = 0.01


def require(metric: str, dataset: Any, ok: bool, why: str) -> None:
    """Raise the ConfigError 'metric X does not apply to dataset Y' unless ``ok``."""
    if not ok:
        name = getattr(dataset, "name", type(dataset).__name__)
        raise ConfigError(f"metric '{metric}' does not apply to dataset '{name}': {why}; remove it from metrics")


def _is_bits(dataset: Any) -> bool:
    return isinstance(dataset.space, Bits)


def _real_valued(dataset: Any) -> bool:
    """Samples are (or decode to) real vectors: grids with a ``value_space``, ``Reals`` and ``Images`` data."""
    return dataset.value_space is not None or isinstance(dataset.space, (Reals, Images))


def _value_dim(dataset: Any) -> int:
    space = dataset.value_space if dataset.value_space is not None else dataset.space
    return int(getattr(space, "d", getattr(space, "n_pixels", 1)))


def model_distribution(metric: str, dataset: Any, samples: torch.Tensor, probs: Optional[torch.Tensor]) -> np.ndarray:
    """The model's distribution ``(2**n_bits,)``: ``probs`` if given, else the sample histogram."""
    require(metric, dataset, _is_bits(dataset), "it needs a bit dataset (basis-index samples)")
    if probs is not None:
        return np.asarray(probs.detach().cpu(), dtype=np.float64)
    x = np.asarray(torch.as_tensor(samples).cpu()).reshape(-1)
    require(metric, dataset, np.issubdtype(x.dtype, np.integer), "the model's samples are not basis indices")
    return np.bincount(x.astype(np.int64), minlength=1 << dataset.n_bits) / x.size


def reference_distribution(dataset: Any) -> np.ndarray:
    """The dataset's target, else its empirical test split, else its empirical training split."""
    if getattr(dataset, "target", None) is not None:
        return np.asarray(dataset.target, dtype=np.float64)
    return dataset.empirical("test" if getattr(dataset, "test", None) is not None else "train")


def _distribution_metric(name: str, fn: Callable[[np.ndarray, np.ndarray], float], model_first: bool) -> None:
    def metric(*, model: Any, dataset: Any, samples: torch.Tensor, probs: Optional[torch.Tensor]) -> float:
        p_model = model_distribution(name, dataset, samples, probs)
        p_ref = reference_distribution(dataset)
        return fn(p_model, p_ref) if model_first else fn(p_ref, p_model)

    metric.__name__ = name
    metric.__doc__ = f"Registered metric '{name}' between the dataset's reference distribution and the model's."
    METRICS.register(name)(metric)


# KL(target || model), as in Liu-Wang and Zoufal et al.; the others are symmetric.
_distribution_metric("kl", divergences.kl, model_first=False)
_distribution_metric("tv", divergences.tv, model_first=True)
_distribution_metric("js", divergences.js, model_first=True)
_distribution_metric("hellinger_fidelity", divergences.hellinger_fidelity, model_first=True)


def _valid_samples(metric: str, dataset: Any, samples: torch.Tensor) -> np.ndarray:
    require(metric, dataset, getattr(dataset, "valid", None) is not None, "it has no set of valid strings")
    x = np.asarray(torch.as_tensor(samples).cpu()).reshape(-1)
    require(metric, dataset, np.issubdtype(x.dtype, np.integer), "the model's samples are not basis indices")
    return x


@METRICS.register("valid_fraction")
def _valid_fraction(*, model: Any, dataset: Any, samples: torch.Tensor, probs: Optional[torch.Tensor]) -> float:
    """Share of samples that are valid strings (BAS, cardinality)."""
    return bitstrings.valid_fraction(_valid_samples("valid_fraction", dataset, samples), dataset.valid_mask)


@METRICS.register("qbas")
def _qbas(*, model: Any, dataset: Any, samples: torch.Tensor, probs: Optional[torch.Tensor]) -> float:
    """Benedetti et al.'s qBAS F1 score of the samples."""
    return bitstrings.qbas_score(_valid_samples("qbas", dataset, samples), dataset.valid_mask)


def _generalisation_metric(key: str) -> None:
    name = f"generalisation_{key}"

    def metric(*, model: Any, dataset: Any, samples: torch.Tensor, probs: Optional[torch.Tensor]) -> float:
        x = _valid_samples(name, dataset, samples)
        train_mask = np.zeros(1 << dataset.n_bits, dtype=bool)
        train_mask[dataset.train.numpy()] = True
        require(name, dataset, bool((dataset.valid_mask & ~train_mask).any()), "every valid string is in the training set")
        return bitstrings.generalisation(x, dataset.valid_mask, train_mask)[key]

    metric.__name__ = name
    metric.__doc__ = f"Gili et al.'s generalisation {key} (see qgm.metrics.bitstrings)."
    METRICS.register(name)(metric)


for _key in ("fidelity", "rate", "coverage", "coverage_normalised"):
    _generalisation_metric(_key)


def _values(metric: str, dataset: Any, samples: torch.Tensor) -> np.ndarray:
    """Model samples as real vectors ``(n, d)``: continuous samples as they are, indices decoded."""
    x = torch.as_tensor(samples)
    if x.is_floating_point():
        return np.asarray(x.detach().cpu(), dtype=np.float64).reshape(len(x), -1)
    require(metric, dataset, hasattr(dataset, "decode"), "its samples are not real vectors and it cannot decode indices")
    if getattr(dataset, "returns", None) is not None:
        return dataset.decode(x, generator=torch.Generator().manual_seed(0))
    return dataset.decode(x)


def _reference_samples(dataset: Any) -> np.ndarray:
    """Real data ``(N, d)``: market returns, else the continuous test split, else the training split."""
    if getattr(dataset, "returns", None) is not None:
        return dataset.returns("test" if dataset.test is not None else "train")
    data = dataset.test if getattr(dataset, "test", None) is not None else dataset.train
    return np.asarray(data, dtype=np.float64).reshape(len(data), -1)


def _is_grid(dataset: Any) -> bool:
    return hasattr(dataset, "bits_per_variable") and hasattr(dataset, "centres")


def _subsample(x: np.ndarray, n: int) -> np.ndarray:
    rows = np.random.default_rng(0).permutation(len(x))[:n]
    return x[np.sort(rows)]


@METRICS.register("mmd")
def _mmd(*, model: Any, dataset: Any, samples: torch.Tensor, probs: Optional[torch.Tensor]) -> float:
    """Squared MMD (Gaussian kernel, bandwidth 1 on bits / standardised values; see module docstring)."""
    if _is_bits(dataset) and dataset.n_bits <= MMD_EXACT_BITS:
        states = torch.arange(1 << dataset.n_bits)
        points = dataset.decode(states)
        ref = reference_distribution(dataset)
        if dataset.value_space is not None:
            std = np.sqrt(ref @ (points - ref @ points) ** 2)
            points = points / np.where(std > 0, std, 1.0)
        return mmd_distributions(model_distribution("mmd", dataset, samples, probs), ref, points)
    if _is_bits(dataset):
        x = dataset.decode(torch.as_tensor(samples))
        ref_idx = torch.multinomial(torch.as_tensor(reference_distribution(dataset)), MMD_MAX_SAMPLES, replacement=True,
                                    generator=torch.Generator().manual_seed(0))
        y = dataset.decode(ref_idx)
    else:
        x, y = _values("mmd", dataset, samples), _reference_samples(dataset)
    x, y = _subsample(x, MMD_MAX_SAMPLES), _subsample(y, MMD_MAX_SAMPLES)
    if _real_valued(dataset):
        std = y.std(axis=0)
        scale = np.where(std > 0, std, 1.0)  # constant variables (e.g. blank pixels) stay unscaled
        x, y = x / scale, y / scale
    return mmd(x, y)


@METRICS.register("ks")
def _ks(*, model: Any, dataset: Any, samples: torch.Tensor, probs: Optional[torch.Tensor]) -> float:
    """Largest per-marginal Kolmogorov-Smirnov statistic (grid CDFs, or two-sample KS on continuous data)."""
    if _is_grid(dataset):
        shape = (1 << dataset.bits_per_variable,) * dataset.dim
        p_model = model_distribution("ks", dataset, samples, probs)
        return float(ks_per_marginal(p_model, reference_distribution(dataset), shape).max())
    require("ks", dataset, isinstance(dataset.space, (Reals, Images)), "it has no real-valued marginals")
    return float(ks_per_marginal(_values("ks", dataset, samples), _reference_samples(dataset)).max())


def _coverage_metric(key: str) -> None:
    def metric(*, model: Any, dataset: Any, samples: torch.Tensor, probs: Optional[torch.Tensor]) -> float:
        require(key, dataset, hasattr(dataset, "modes") and hasattr(dataset, "mode_radius"), "it has no known modes")
        return coverage.mode_coverage(_values(key, dataset, samples), dataset.modes, dataset.mode_radius)[key]

    metric.__name__ = key
    metric.__doc__ = f"Mode-coverage statistic '{key}' (see qgm.metrics.coverage) on datasets with known modes."
    METRICS.register(key)(metric)


for _key in ("modes_covered", "high_quality_fraction", "mode_kl"):
    _coverage_metric(_key)


def _finance_metric(name: str, statistic: Any) -> None:
    def metric(*, model: Any, dataset: Any, samples: torch.Tensor, probs: Optional[torch.Tensor]) -> float:
        require(name, dataset, _real_valued(dataset) and _value_dim(dataset) >= 2,
                "it needs real-valued data with at least 2 variables")
        return finance.pairwise_mean(statistic, _values(name, dataset, samples))

    metric.__name__ = name
    metric.__doc__ = f"Finance statistic '{name}' of the generated data (mean over pairs of variables)."
    METRICS.register(name)(metric)


_finance_metric("kendall_tau", finance.kendall_tau)
_finance_metric("tail_lower", lambda x: finance.tail_dependence(x, TAIL_Q, "lower"))
_finance_metric("tail_upper", lambda x: finance.tail_dependence(x, TAIL_Q, "upper"))
_finance_metric("joint_crash_frequency", lambda x: finance.joint_crash_frequency(x, CRASH_Q))


def evaluate(
    model: Any,
    dataset: Any,
    names: list[str],
    *,
    n_samples: int = 10000,
    generator: Optional[torch.Generator] = None,
) -> dict[str, float]:
    """Metrics ``names`` of ``model`` on ``dataset``: ``{name: value}``.

    Draws ``model.sample(n_samples, generator=generator)`` once and, when the model is tagged
    ``exact_probs``, uses ``model.probs()`` for the distribution metrics.
    """
    if isinstance(names, str) or not all(isinstance(n, str) for n in names):
        raise ConfigError(f"metrics: expected a list of metric names, got {names!r}")
    metrics = {name: METRICS.get(name) for name in names}
    with torch.no_grad():
        samples = model.sample(n_samples, generator=generator)
        probs = model.probs().detach() if model.tags.exact_probs else None
    return {name: float(fn(model=model, dataset=dataset, samples=samples, probs=probs)) for name, fn in metrics.items()}
