"""The model contract shared by every generative model (quantum and classical).

A model is a ``torch.nn.Module`` over ``n_bits``-bit basis states (wire 0 = most
significant bit of an index) with:

* ``sample(n, generator=None) -> LongTensor (n,)`` of basis indices;
* ``probs() -> (2**n,)`` and ``log_prob(x) -> (len(x),)`` where tractable
  (class attribute ``has_probs``); ``probs(shots=m, generator=g)`` gives the
  frequencies of ``m`` samples for models that can differentiate them (QCBM);
* ``n_trainable()`` (free parameters), ``config`` (plain hyper-parameters that
  rebuild it), ``shots`` (default measurement shots for losses; None = exact);
* ``save(path)`` / ``GenerativeModel.load(path)``: ``{"class", "config",
  "state_dict"}`` written atomically, loadable with ``torch.load(weights_only=True)``.
"""
from __future__ import annotations

import os
import tempfile
from abc import ABC, abstractmethod
from typing import Any, ClassVar, Optional, Union

import torch
from torch import nn

from qgm.errors import ConfigError, ParameterError, ResourceError

__all__ = [
    "GenerativeModel", "index_bits", "basis_bits", "sample_from_probs", "exact_only", "atomic_save",
    "check_exact_size", "MAX_EXACT_BITS",
]

#: Largest ``n_bits`` for which a classical model enumerates all ``2**n`` states.
MAX_EXACT_BITS = 20

PathLike = Union[str, "os.PathLike[str]"]


def index_bits(x: torch.Tensor, n_bits: int, dtype: torch.dtype = torch.float64) -> torch.Tensor:
    """Bits ``(len(x), n)`` of basis indices ``x``; column 0 = wire 0 = most significant bit."""
    shifts = torch.arange(n_bits - 1, -1, -1, device=x.device)
    return ((x[:, None] >> shifts) & 1).to(dtype)


def basis_bits(n_bits: int, dtype: torch.dtype = torch.float64, device: Optional[torch.device] = None) -> torch.Tensor:
    """Bits of every basis state ``(2**n, n)`` in index order."""
    return index_bits(torch.arange(1 << n_bits, device=device), n_bits, dtype)


def check_exact_size(name: str, n_bits: int) -> None:
    """Refuse exact enumeration beyond :data:`MAX_EXACT_BITS` bits."""
    if n_bits > MAX_EXACT_BITS:
        raise ResourceError(
            f"{name}: exact probabilities enumerate 2**n_bits states; n_bits={n_bits} exceeds {MAX_EXACT_BITS}"
        )


def sample_from_probs(p: torch.Tensor, n: int, generator: Optional[torch.Generator] = None) -> torch.Tensor:
    """``n`` i.i.d. draws (LongTensor ``(n,)``) from the distribution ``p`` ``(K,)``."""
    if not isinstance(n, int) or isinstance(n, bool) or n < 1:
        raise ParameterError(f"n: expected a positive number of samples, got {n!r}")
    return torch.multinomial(p.detach().to(torch.float64), n, replacement=True, generator=generator)


def exact_only(model: "GenerativeModel", shots: Optional[int]) -> None:
    """Refuse ``probs(shots=...)`` on a model whose probabilities are computed exactly."""
    if shots is not None:
        raise ParameterError(
            f"{type(model).__name__}.probs(shots={shots}): this model has exact probabilities only; "
            "use shots=None (estimator 'exact') with it"
        )


def atomic_save(obj: Any, path: PathLike) -> None:
    """``torch.save`` to a temporary file in the target folder, then ``os.replace``."""
    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=".tmp-", suffix=".pt")
    try:
        with os.fdopen(fd, "wb") as f:
            torch.save(obj, f)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise


class GenerativeModel(nn.Module, ABC):
    """Abstract base of every model (see module docstring for the contract)."""

    #: True when ``probs()`` / ``log_prob`` are exact and differentiable.
    has_probs: ClassVar[bool] = False
    _classes: ClassVar[dict[str, type["GenerativeModel"]]] = {}

    n_bits: int
    shots: Optional[int] = None

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        GenerativeModel._classes[cls.__name__] = cls

    @property
    @abstractmethod
    def config(self) -> dict[str, Any]:
        """Hyper-parameters (plain Python types) such that ``type(self).from_config(config)`` rebuilds it."""

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> "GenerativeModel":
        """A fresh model from :attr:`config` (learned state not included)."""
        return cls(**config)

    @abstractmethod
    def sample(self, n: int, generator: Optional[torch.Generator] = None) -> torch.Tensor:
        """``n`` basis indices, LongTensor ``(n,)``."""

    def probs(self, shots: Optional[int] = None, generator: Optional[torch.Generator] = None) -> torch.Tensor:
        """Exact probabilities ``(2**n,)`` (models with ``has_probs``)."""
        raise ConfigError(f"{type(self).__name__} has no tractable probabilities; use a sample-based loss")

    def log_prob(self, x: torch.Tensor) -> torch.Tensor:
        """``log p(x)`` ``(len(x),)`` for basis indices ``x`` (LongTensor).

        Probabilities below the smallest normal float64 give ``log(tiny) ≈ −708`` instead of ``−inf``.
        """
        p = self.probs()
        return p[self.check_indices(x).to(p.device)].clamp_min(torch.finfo(p.dtype).tiny).log()

    def check_indices(self, x: torch.Tensor) -> torch.Tensor:
        """``x`` validated as a LongTensor of basis indices of this model."""
        if not isinstance(x, torch.Tensor) or x.dtype != torch.int64:
            got = getattr(x, "dtype", type(x).__name__)
            raise ParameterError(f"x: expected a LongTensor of basis indices, got {got}")
        if x.numel() and (int(x.min()) < 0 or int(x.max()) >= 1 << self.n_bits):
            raise ParameterError(f"x: basis indices must lie in 0..{(1 << self.n_bits) - 1}")
        return x

    def n_trainable(self) -> int:
        """Number of trainable scalars."""
        return sum(p.numel() for p in self.parameters() if p.requires_grad)

    def save(self, path: PathLike) -> None:
        """Write ``{"class", "config", "state_dict"}`` atomically to ``path``."""
        atomic_save({"class": type(self).__name__, "config": self.config, "state_dict": self.state_dict()}, path)

    @classmethod
    def load(cls, path: PathLike, map_location: Any = None) -> "GenerativeModel":
        """Model saved by :meth:`save` (on the base class: any registered model class)."""
        blob = torch.load(os.fspath(path), map_location=map_location, weights_only=True)
        name = blob.get("class")
        target = GenerativeModel._classes.get(name)
        if target is None or not issubclass(target, cls):
            raise ConfigError(f"{os.fspath(path)}: holds a {name!r} model, cannot load it as {cls.__name__}")
        model = target.from_config(blob["config"])
        model.load_state_dict(blob["state_dict"])
        return model
