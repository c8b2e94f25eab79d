"""The one model protocol shared by every generative model (quantum and classical).

A model is a ``torch.nn.Module`` that declares the :class:`~qgm.spaces.Space`
it generates (``model.space``) and what it can do (``model.tags``, a
:class:`ModelTags`, in the spirit of scikit-learn's estimator tags):

* ``sample(n, *, generator=None)`` -> ``n`` elements of ``model.space`` in its
  tensor form (basis indices for ``Bits``, ``(n, d)`` reals, flat images,
  state vectors, ``(A, X)`` graphs);
* ``tags.exact_probs``: ``probs()`` -> ``(2**n,)`` and ``log_prob(x)``, exact and
  differentiable (``Bits`` models);
* ``tags.differentiable_shots``: ``probs(shots=m, generator=g)`` are the
  frequencies of ``m`` samples, differentiable by parameter shift;
* ``tags.owns_objective``: the model defines its training objective —
  ``players()`` (ordered player -> updates per step, e.g. ``{"discriminator": 5,
  "generator": 1}``) and ``objective(batch, player) -> {"loss": scalar, ...}``;
  the Trainer owns the loop and steps ``optimizers[player]`` on ``"loss"``.
  Other models are trained by a :class:`~qgm.losses.Loss` named in the config;
* ``tags.prepares_state``: ``state()`` -> the differentiable state ``(2**n,)``
  (fidelity losses, quantum data);
* ``tags.conditional``: ``sample(n, condition=..., method=...)``.

Persistence: ``config`` (plain hyper-parameters that rebuild the model with
``from_config``), ``save(path)`` / ``GenerativeModel.load(path)`` of
``{"class", "config", "state_dict"}``, written atomically and loadable with
``torch.load(weights_only=True)``. ``n_trainable()`` counts free parameters.
"""
from __future__ import annotations

import os
from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Any, ClassVar, Optional, Union

import torch
from torch import nn

from qgm.atomic import atomic_torch_save
from qgm.errors import ConfigError, ParameterError, ResourceError
from qgm.spaces import Bits, Elements, Space

__all__ = [
    "GenerativeModel", "ModelTags", "index_bits", "basis_bits", "sample_from_probs", "exact_only",
    "check_exact_size", "check_n_samples", "MAX_EXACT_BITS", "DEFAULT_PLAYER",
]

#: Largest ``n_bits`` for which a classical model enumerates all ``2**n`` states.
MAX_EXACT_BITS = 20
#: The player name of a single-optimizer model.
DEFAULT_PLAYER = "model"

PathLike = Union[str, "os.PathLike[str]"]


@dataclass(frozen=True)
class ModelTags:
    """What a model can do (see the module docstring)."""

    exact_probs: bool = False
    differentiable_shots: bool = False
    owns_objective: bool = False
    prepares_state: bool = False
    conditional: bool = False


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


def check_n_samples(n: Any, field: str = "n") -> int:
    """``n`` as a positive int number of samples, else a ParameterError naming ``field``."""
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ParameterError(f"{field}: expected a positive number of samples, got {n!r}")
    return n


def sample_from_probs(p: torch.Tensor, n: int, generator: Optional[torch.Generator] = None) -> torch.Tensor:
    """``n`` i.i.d. draws (LongTensor ``(n,)``) from the distribution ``p`` ``(K,)``."""
    check_n_samples(n)
    return torch.multinomial(p.detach().to(torch.float64), n, replacement=True, generator=generator)


def exact_only(model: Any, shots: Optional[int]) -> None:
    """Refuse ``probs(shots=...)`` on a model whose probabilities are computed exactly."""
    if shots is not None:
        raise ParameterError(
            f"{type(model).__name__}.probs(shots={shots}): this model has exact probabilities only; "
            "use shots=None (estimator 'exact') with it"
        )


class GenerativeModel(nn.Module, ABC):
    """Abstract base of every model (see the module docstring for the protocol)."""

    #: Capabilities; subclasses override (as a class attribute, or a property when they depend on the instance).
    tags: ClassVar[ModelTags] = ModelTags()
    _classes: ClassVar[dict[str, type["GenerativeModel"]]] = {}

    #: The space the model generates (set by each constructor).
    space: Space
    #: Default measurement shots for the losses (None = exact).
    shots: Optional[int] = None

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        GenerativeModel._classes[cls.__name__] = cls

    @property
    def n_bits(self) -> int:
        """Bits of a sample (``Bits`` models only)."""
        if not isinstance(self.space, Bits):
            raise AttributeError(f"{type(self).__name__} generates {self.space.describe()}, not bitstrings")
        return self.space.n

    @property
    @abstractmethod
    def config(self) -> dict[str, Any]:
        """Hyper-parameters (plain Python types) such that ``type(self).from_config(config)`` rebuilds it."""

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> "GenerativeModel":
        """A fresh model from :attr:`config` (learned state not included)."""
        return cls(**config)

    @abstractmethod
    def sample(self, n: int, *, generator: Optional[torch.Generator] = None) -> Elements:
        """``n`` elements of :attr:`space` in its tensor form."""

    # -- exact probabilities (tags.exact_probs) ---------------------------------------------
    def probs(self, *, shots: Optional[int] = None, generator: Optional[torch.Generator] = None) -> torch.Tensor:
        """Exact probabilities ``(2**n,)`` (models tagged ``exact_probs``)."""
        raise ConfigError(f"{type(self).__name__} has no tractable probabilities; use a sample-based loss or metric")

    def log_prob(self, x: torch.Tensor) -> torch.Tensor:
        """``log p(x)`` ``(len(x),)`` for basis indices ``x`` (LongTensor).

        Probabilities below the smallest normal float64 give ``log(tiny) ≈ −708`` instead of ``−inf``.
        """
        p = self.probs()
        return p[self.check_indices(x).to(p.device)].clamp_min(torch.finfo(p.dtype).tiny).log()

    def check_indices(self, x: torch.Tensor) -> torch.Tensor:
        """``x`` validated as a LongTensor of basis indices of this model."""
        return self.space.check(x, "x")  # type: ignore[return-value]

    # -- model-owned objectives (tags.owns_objective) ----------------------------------------
    def players(self) -> dict[str, int]:
        """Ordered player -> updates per training step (one optimizer per player)."""
        return {DEFAULT_PLAYER: 1}

    def objective(self, batch: Optional[Elements], player: str) -> dict[str, torch.Tensor]:
        """``{"loss": scalar, ...}`` that ``player``'s optimizer minimises (models tagged ``owns_objective``)."""
        raise ConfigError(f"{type(self).__name__} does not define its own objective; name a loss in the config")

    def configure_optimizers(self, spec: Any) -> dict[str, torch.optim.Optimizer]:
        """One optimizer per player from the config's ``optimizer`` section (default: one over every
        trainable parameter, built by :func:`qgm.optim.build_optimizer`)."""
        from qgm.optim import build_optimizer

        if not isinstance(spec, dict) or "name" not in spec:
            raise ConfigError(
                f"optimizer: {type(self).__name__} takes one optimizer {{name, lr, ...}}, got players {spec!r}"
            )
        params = [p for p in self.parameters() if p.requires_grad]
        return {DEFAULT_PLAYER: build_optimizer(params, spec, model=self)}

    # -- persistence -------------------------------------------------------------------------
    def n_trainable(self) -> int:
        """Number of trainable scalars."""
        return sum(p.numel() for p in self.parameters() if p.requires_grad)

    def save(self, path: PathLike) -> None:
        """Write ``{"class", "config", "state_dict"}`` atomically to ``path``."""
        atomic_torch_save({"class": type(self).__name__, "config": self.config, "state_dict": self.state_dict()}, path)

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
