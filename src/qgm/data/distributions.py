"""Continuous distributions discretised onto ``2**bits`` bins per variable.

Conventions (those of qiskit-finance's ``LogNormalDistribution`` and of Liu & Wang's
Gaussian tasks):

* ``range=(low, high)`` gives the FIRST and LAST bin centres of every variable
  (or a list of such pairs, one per variable): centres ``linspace(low, high, 2**bits)``.
  Default: the integer grid ``(0, 2**bits - 1)``.
* Target probabilities are proportional to the density evaluated at the bin
  centres, normalised over the grid (so mass outside the range is dropped).
* ``d`` variables take ``d*bits`` wires: variable 0's bits first, MSB first.
* ``train`` holds ``n_train`` draws from the target (torch generator seeded with ``seed``).

Mixture components are dicts ``{"family": "gaussian" | "lognormal", "weight": w,
"mu": m, "sigma": s}`` (``mu``/``sigma`` scalars or one per variable; a Gaussian may
give a full ``"cov"`` matrix instead of ``sigma``; a log-normal is a product of
independent ``LogNormal(mu_j, sigma_j)``, the law of ``exp(N(mu, sigma**2))``).
"""
from __future__ import annotations

from typing import Any, Callable, Optional, Sequence

import numpy as np
from scipy import stats

from qgm.data.base import GridDataset, check_n_bits, check_positive_int, sample_indices
from qgm.errors import ConfigError
from qgm.limits import check_bits
from qgm.registry import DATASETS

__all__ = [
    "grid_centres", "mixture_probabilities", "discretised", "gaussian", "lognormal", "mixture",
    "double_gaussian", "lognormal_zoufal", "custom",
]

Pdf = Callable[[np.ndarray], np.ndarray]
_COMPONENT_KEYS = {"family", "weight", "mu", "sigma", "cov"}


def grid_centres(bits: int, bounds: Optional[Sequence[Any]], dim: int) -> list[np.ndarray]:
    """Bin centres ``[(2**bits,)] * dim`` from ``bounds`` = ``(low, high)``, a list of pairs, or None
    (``bits * dim`` checked against :data:`qgm.limits.MAX_BITS` first)."""
    check_bits(bits * dim, "bits")
    if bounds is None:
        pairs = [(0.0, float((1 << bits) - 1))] * dim
    else:
        arr = np.asarray(bounds, dtype=np.float64)
        if arr.shape == (2,):
            pairs = [tuple(arr)] * dim
        elif arr.shape == (dim, 2):
            pairs = [tuple(row) for row in arr]
        else:
            raise ConfigError(f"range: expected (low, high) or {dim} such pairs, got {bounds!r}")
    for low, high in pairs:
        if not np.isfinite(low) or not np.isfinite(high) or not low < high:
            raise ConfigError(f"range: expected finite low < high, got ({low}, {high})")
    return [np.linspace(low, high, 1 << bits) for low, high in pairs]


def _vector(name: str, value: Any, dim: int) -> np.ndarray:
    v = np.atleast_1d(np.asarray(value, dtype=np.float64))
    if v.shape == (1,):
        v = np.repeat(v, dim)
    if v.shape != (dim,) or not np.all(np.isfinite(v)):
        raise ConfigError(f"{name}: expected a number or {dim} finite numbers, got {value!r}")
    return v


def _positive_vector(name: str, value: Any, dim: int) -> np.ndarray:
    v = _vector(name, value, dim)
    if np.any(v <= 0):
        raise ConfigError(f"{name}: must be > 0, got {value!r}")
    return v


def _component_pdf(spec: Any, dim: int, where: str) -> Pdf:
    """The density ``(N, dim) -> (N,)`` of one mixture component spec."""
    if not isinstance(spec, dict) or "mu" not in spec:
        raise ConfigError(f"{where}: expected a dict with 'mu' (and 'sigma' or 'cov'), got {spec!r}")
    unknown = sorted(set(spec) - _COMPONENT_KEYS)
    if unknown:
        raise ConfigError(f"{where}: unknown key(s) {unknown}; allowed: {sorted(_COMPONENT_KEYS)}")
    family = spec.get("family", "gaussian")
    mu = _vector(f"{where}.mu", spec["mu"], dim)
    if family == "gaussian":
        if spec.get("cov") is not None:
            cov = np.asarray(spec["cov"], dtype=np.float64)
            if cov.shape != (dim, dim) or not np.allclose(cov, cov.T) or np.any(np.linalg.eigvalsh(cov) <= 0):
                raise ConfigError(f"{where}.cov: expected a symmetric positive-definite {dim}x{dim} matrix")
        else:
            cov = np.diag(_positive_vector(f"{where}.sigma", spec.get("sigma", 1.0), dim) ** 2)
        law = stats.multivariate_normal(mean=mu, cov=cov)
        return lambda x: np.atleast_1d(law.pdf(x))
    if family == "lognormal":
        sigma = _positive_vector(f"{where}.sigma", spec.get("sigma", 1.0), dim)
        return lambda x: np.prod(stats.lognorm.pdf(x, s=sigma, scale=np.exp(mu)), axis=1)
    raise ConfigError(f"{where}.family: expected 'gaussian' or 'lognormal', got {family!r}")


def _dimension(components: Sequence[Any]) -> int:
    if not isinstance(components, (list, tuple)) or not components:
        raise ConfigError(f"components: expected a non-empty list of component dicts, got {components!r}")
    first = components[0]
    if not isinstance(first, dict) or "mu" not in first:
        raise ConfigError(f"components[0]: expected a dict with 'mu', got {first!r}")
    return int(np.atleast_1d(np.asarray(first["mu"])).size)


def mixture_probabilities(components: Sequence[dict], centres: Sequence[np.ndarray]) -> np.ndarray:
    """Normalised mixture density at the grid of ``centres``: ``(prod len(c),)`` in C order."""
    dim = len(centres)
    weights = np.array([float(c.get("weight", 1.0)) if isinstance(c, dict) else np.nan for c in components])
    if not np.all(np.isfinite(weights)) or np.any(weights < 0) or weights.sum() <= 0:
        raise ConfigError(f"components: weights must be >= 0 with a positive sum, got {weights.tolist()}")
    points = np.stack(np.meshgrid(*centres, indexing="ij"), axis=-1).reshape(-1, dim)
    density = np.zeros(len(points))
    for i, (w, spec) in enumerate(zip(weights / weights.sum(), components)):
        density += w * _component_pdf(spec, dim, f"components[{i}]")(points)
    total = density.sum()
    if not np.isfinite(total) or total <= 0:
        raise ConfigError("range: the density is zero at every bin centre; widen 'range' or move 'mu'")
    return density / total


def discretised(
    name: str, p: np.ndarray, bits: int, centres: Sequence[np.ndarray], n_train: int, seed: int
) -> GridDataset:
    """A :class:`GridDataset` with target ``p`` and ``n_train`` seeded training draws."""
    n_train = check_positive_int("n_train", n_train)
    return GridDataset(name, bits, centres, sample_indices(p, n_train, seed), target=p)


def _mixture_dataset(
    name: str, components: Sequence[dict], bits: int, bounds: Any, n_train: int, seed: int
) -> GridDataset:
    bits = check_positive_int("bits", bits)
    dim = _dimension(components)
    check_n_bits(name, bits * dim)
    centres = grid_centres(bits, bounds, dim)
    return discretised(name, mixture_probabilities(components, centres), bits, centres, n_train, seed)


@DATASETS.register("gaussian")
def gaussian(
    mu: Any = None, sigma: Any = None, cov: Any = None, bits: int = 6, range: Any = None,
    n_train: int = 10000, seed: int = 0,
) -> GridDataset:
    """A (multivariate) Gaussian; ``mu`` defaults to the grid's middle, ``sigma`` to a quarter of its width."""
    bits = check_positive_int("bits", bits)
    dim = int(np.atleast_1d(np.asarray(mu if mu is not None else 0.0)).size)
    centres = grid_centres(bits, range, dim)
    mu = [0.5 * (c[0] + c[-1]) for c in centres] if mu is None else mu
    sigma = [0.25 * (c[-1] - c[0]) for c in centres] if sigma is None and cov is None else sigma
    return _mixture_dataset("gaussian", [{"mu": mu, "sigma": sigma, "cov": cov}], bits, range, n_train, seed)


@DATASETS.register("lognormal")
def lognormal(
    mu: Any = 1.0, sigma: Any = 1.0, bits: int = 3, range: Any = None, n_train: int = 10000, seed: int = 0
) -> GridDataset:
    """Log-normal ``exp(N(mu, sigma**2))`` on ``2**bits`` bins (qiskit-finance ``LogNormalDistribution``)."""
    return _mixture_dataset(
        "lognormal", [{"family": "lognormal", "mu": mu, "sigma": sigma}], bits, range, n_train, seed
    )


@DATASETS.register("mixture")
def mixture(
    components: Sequence[dict], bits: int = 6, range: Any = None, n_train: int = 10000, seed: int = 0
) -> GridDataset:
    """A weighted mixture of Gaussian / log-normal components (see module docstring)."""
    return _mixture_dataset("mixture", components, bits, range, n_train, seed)


@DATASETS.register("double_gaussian")
def double_gaussian(bits: int = 10, n_train: int = 10000, seed: int = 0) -> GridDataset:
    """Liu & Wang's double Gaussian: ``p(x) ∝ N(x; 2/7 2**n, (2**n/8)**2) + N(x; 5/7 2**n, (2**n/8)**2)``
    at ``x = 0..2**n - 1`` (``n = bits``; equal weights; arXiv:1804.04168 sec. III)."""
    bits = check_n_bits("double_gaussian", check_positive_int("bits", bits))
    size, sigma = float(1 << bits), float(1 << bits) / 8
    components = [{"mu": 2 / 7 * size, "sigma": sigma}, {"mu": 5 / 7 * size, "sigma": sigma}]
    return _mixture_dataset("double_gaussian", components, bits, None, n_train, seed)


#: How :func:`lognormal_zoufal` turns the continuous law into 8 bins.
DISCRETISATIONS = ("density", "round")


def rounded_lognormal(mu: float, sigma: float, top: int) -> np.ndarray:
    """``P(round(X) = k | round(X) <= top)`` for ``X ~ LogNormal(mu, sigma)``, ``k = 0..top`` ``(top + 1,)``:
    continuous samples rounded to the nearest integer and those above ``top`` dropped (Zoufal et al.'s data)."""
    edges = np.concatenate([[0.0], np.arange(top + 1) + 0.5])
    cdf = stats.lognorm.cdf(edges, s=sigma, scale=np.exp(mu))
    mass = np.diff(cdf)
    return mass / mass.sum()


@DATASETS.register("lognormal_zoufal")
def lognormal_zoufal(n_train: int = 20000, seed: int = 0, discretisation: str = "density") -> GridDataset:
    """Zoufal et al.'s log-normal (``mu = 1``, ``sigma = 1``) on 3 qubits, values 0..7.

    ``discretisation="density"``: ``p(x) ∝`` the density at ``x`` (qiskit-finance's
    ``LogNormalDistribution``; ``p(0) = 0``). ``"round"``: the paper's data, continuous samples
    rounded to integers with those above 7 dropped (:func:`rounded_lognormal`; ``p(0) ≈ 0.054``).
    """
    if discretisation not in DISCRETISATIONS:
        raise ConfigError(f"discretisation: expected one of {DISCRETISATIONS}, got {discretisation!r}")
    if discretisation == "density":
        return _mixture_dataset(
            "lognormal_zoufal", [{"family": "lognormal", "mu": 1.0, "sigma": 1.0}], 3, (0.0, 7.0), n_train, seed
        )
    return discretised("lognormal_zoufal", rounded_lognormal(1.0, 1.0, 7), 3, grid_centres(3, (0.0, 7.0), 1),
                       n_train, seed)


@DATASETS.register("custom")
def custom(
    probs: Sequence[float], bits: Optional[int] = None, range: Any = None, n_train: int = 10000, seed: int = 0
) -> GridDataset:
    """User-given probabilities ``(2**n,)`` (normalised here); ``bits`` per variable (default all ``n``)."""
    p = np.asarray(probs, dtype=np.float64).reshape(-1)
    n_bits = int(np.log2(p.size)) if p.size else -1
    if p.size < 2 or 1 << n_bits != p.size:
        raise ConfigError(f"probs: expected 2**n entries (n >= 1), got {p.size}")
    if not np.all(np.isfinite(p)) or np.any(p < 0) or p.sum() <= 0:
        raise ConfigError("probs: entries must be finite, >= 0 and not all zero")
    bits = n_bits if bits is None else check_positive_int("bits", bits)
    if n_bits % bits:
        raise ConfigError(f"bits: {bits} does not divide the {n_bits} bits of 'probs'; use a divisor of {n_bits}")
    centres = grid_centres(bits, range, n_bits // bits)
    return discretised("custom", p / p.sum(), bits, centres, n_train, seed)
