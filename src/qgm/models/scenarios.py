"""Synthetic return scenarios from a trained model, for back-testing (``qgm scenarios RUN --n N``).

:func:`scenarios` turns model samples into daily log-returns ``(n, d)``:

* bit datasets that decode to values (``market_copula``): the model samples basis
  indices of the discretised copula and ``dataset.decode`` maps each bin back to
  returns through the training marginals; with a ``generator`` the point inside each
  bin is drawn uniformly (continuous marginals instead of ``2**bits`` atoms);
* ``Reals`` datasets (``market_returns`` with a continuous QGAN): the model's samples
  are already returns.

Rows are independent days: a copula model has no serial dependence, so a "path" is a
sequence of i.i.d. draws; column ``j`` is asset ``j`` of the dataset (``dataset.assets``).

Stress scenarios: ``scenarios(..., condition=...)`` draws only days inside a region of
the copula, from a model tagged ``conditional`` (a QCBM: rejection, or amplitude
amplification of its circuit, ``method=``). :data:`PRESETS` names regions by the
dataset: ``"joint_crash"`` (every asset in its lowest 5% of days, rounded up to whole
bins) or ``"joint_crash:0.1"`` (lowest 10%); see :func:`joint_crash`.
"""
from __future__ import annotations

import inspect
import math
from typing import Any, Callable, Optional

import numpy as np
import torch

from qgm.errors import ConfigError, ParameterError
from qgm.spaces import Bits, Reals

__all__ = ["scenarios", "joint_crash", "PRESETS", "resolve_condition"]


def joint_crash(dataset: Any, level: float = 0.05) -> Any:
    """The region where every asset's return lies in its lowest ``level`` fraction of training days.

    On a grid of ``2**bits`` quantile bins per asset the region is the lowest
    ``⌈level · 2**bits⌉`` bins of every asset (so the effective level is rounded up to
    whole bins). When that count is a power of two the region fixes the leading bits of
    every asset to 0 and is returned as fixed bits ``{wire: 0}`` (one multi-controlled
    phase as an oracle); otherwise as a boolean mask ``(2**n_bits,)``.
    """
    bits, d = getattr(dataset, "bits_per_variable", None), getattr(dataset, "dim", None)
    if bits is None or d is None:
        raise ConfigError(f"joint_crash: dataset {getattr(dataset, 'name', '?')!r} has no per-asset bins; "
                          "use a market_copula dataset")
    if isinstance(level, bool) or not isinstance(level, (int, float)) or not 0 < level <= 1:
        raise ParameterError(f"joint_crash: level must be a fraction in (0, 1], got {level!r}")
    count = min(1 << bits, math.ceil(level * (1 << bits) - 1e-9))
    if count & (count - 1) == 0:
        lead = bits - count.bit_length() + 1
        return {j * bits + i: 0 for j in range(d) for i in range(lead)}
    low = torch.as_tensor(dataset.bin_indices(torch.arange(1 << (bits * d)))) < count
    return low.all(dim=1)


#: Named stress regions: ``name`` or ``"name:level"`` -> condition of :func:`scenarios`.
PRESETS: dict[str, Callable[..., Any]] = {"joint_crash": joint_crash}


def resolve_condition(dataset: Any, condition: Any) -> Any:
    """A preset name (``"joint_crash"``, ``"joint_crash:0.1"``) as its condition; anything else unchanged."""
    if not isinstance(condition, str) or condition.split(":")[0] not in PRESETS:
        return condition
    name, _, level = condition.partition(":")
    if not level:
        return PRESETS[name](dataset)
    try:
        value = float(level)
    except ValueError:
        raise ParameterError(f"condition: {condition!r} needs a numeric level after ':', e.g. '{name}:0.05'") from None
    return PRESETS[name](dataset, value)


def _decode(dataset: Any, indices: torch.Tensor, generator: Optional[torch.Generator]) -> np.ndarray:
    """``dataset.decode`` with the within-bin jitter when the dataset supports it."""
    if generator is not None and "generator" in inspect.signature(dataset.decode).parameters:
        return dataset.decode(indices, generator=generator)
    return dataset.decode(indices)


def scenarios(
    model: Any,
    dataset: Any,
    n: int,
    generator: Optional[torch.Generator] = None,
    *,
    condition: Any = None,
    method: str = "reject",
    **options: Any,
) -> np.ndarray:
    """``n`` synthetic days of log-returns ``(n, d)`` float64 drawn from ``model`` (see module docstring).

    Args:
        model: a trained model whose ``sample(n, generator)`` gives basis indices (bin data)
            or values ``(n, d)`` (continuous data).
        dataset: the run's dataset (decodes bins to returns).
        n: number of days.
        generator: seeds the model's samples and the within-bin draws.
        condition: draw only days in this region: a preset of :data:`PRESETS`
            (``"joint_crash"``) or any condition of ``model.sample`` (bit models tagged
            ``conditional``).
        method, options: how conditional days are drawn (``model.sample``'s
            ``method``, ``schedule``, ...).
    """
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ParameterError(f"n: expected a positive number of scenarios, got {n!r}")
    space = dataset.space
    with torch.no_grad():
        if condition is None:
            samples = model.sample(n, generator=generator)
        elif not model.tags.conditional:
            raise ConfigError(f"scenarios: {type(model).__name__} cannot sample under a condition; train a QCBM")
        else:
            samples = model.sample(n, generator=generator, condition=resolve_condition(dataset, condition),
                                   method=method, **options)
    if isinstance(space, Bits) and dataset.value_space is not None:
        if samples.dtype != torch.int64 or samples.ndim != 1:
            raise ConfigError(
                f"scenarios: the dataset {getattr(dataset, 'name', '?')!r} holds bins; the model must sample basis "
                f"indices (n,), got {samples.dtype} {tuple(samples.shape)}"
            )
        out = _decode(dataset, samples, generator)
    elif isinstance(space, Reals):
        out = samples.detach().cpu().numpy()
    else:
        raise ConfigError(
            f"scenarios: dataset {getattr(dataset, 'name', '?')!r} holds {space.describe()}, not returns; "
            "train on market_copula or market_returns"
        )
    out = np.asarray(out, dtype=np.float64)
    return out.reshape(n, -1)
