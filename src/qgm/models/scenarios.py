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
"""
from __future__ import annotations

import inspect
from typing import Any, Optional

import numpy as np
import torch

from qgm.errors import ConfigError, ParameterError
from qgm.spaces import Bits, Reals

__all__ = ["scenarios"]


def _decode(dataset: Any, indices: torch.Tensor, generator: Optional[torch.Generator]) -> np.ndarray:
    """``dataset.decode`` with the within-bin jitter when the dataset supports it."""
    if generator is not None and "generator" in inspect.signature(dataset.decode).parameters:
        return dataset.decode(indices, generator=generator)
    return dataset.decode(indices)


def scenarios(
    model: Any, dataset: Any, n: int, generator: Optional[torch.Generator] = None
) -> np.ndarray:
    """``n`` synthetic days of log-returns ``(n, d)`` float64 drawn from ``model`` (see module docstring).

    Args:
        model: a trained model whose ``sample(n, generator)`` gives basis indices (bin data)
            or values ``(n, d)`` (continuous data).
        dataset: the run's dataset (decodes bins to returns).
        n: number of days.
        generator: seeds the model's samples and the within-bin draws.
    """
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ParameterError(f"n: expected a positive number of scenarios, got {n!r}")
    space = dataset.space
    with torch.no_grad():
        samples = model.sample(n, generator=generator)
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
