"""What a sample is: the spaces that datasets hold and models generate.

Every dataset and every model declares a :class:`Space`; the config resolver
checks that a model's space matches its dataset's (:func:`check_compatible`)
and code that needs to know what a sample looks like asks the space, never a
"kind" string. Each space fixes one **tensor form** for a batch of ``N``
elements, which is what ``model.sample(n)`` returns and what
``dataset.batch(indices)`` serves:

=====================================  ==============================================================
space                                  tensor form of ``N`` elements
=====================================  ==============================================================
``Bits(n)``                            LongTensor ``(N,)`` of basis indices in ``[0, 2**n)``
                                       (wire 0 = most significant bit)
``Reals(d, low, high)``                float ``(N, d)``; ``low``/``high`` optional bounds
``Images(h, w, channels)``             float ``(N, h*w*channels)`` in ``[0, 1]``, row-major,
                                       channel last (``unflatten`` gives ``(N, h, w[, c])``)
``PureStates(n)``                      complex ``(N, 2**n)`` unit vectors
``DensityMatrices(n)``                 complex ``(N, 2**n, 2**n)`` Hermitian, unit trace
``Graphs(max_atoms, atoms, bonds)``    ``(A, X)``: LongTensor ``A (N, max_atoms, max_atoms)`` of bond
                                       types (0 = none, symmetric) and ``X (N, max_atoms)`` of atom
                                       types (0 = none)
=====================================  ==============================================================

``space.to_numpy(x)`` is the array written to ``samples.npy`` (bits as 0/1
columns, graphs as ``[X | A.flatten]`` rows); ``space.take(x, idx)`` selects
elements, ``space.length(x)`` counts them, ``space.check(x)`` validates the
form with a one-line :class:`~qgm.errors.ParameterError`.
"""
from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Any, Optional, Union

import numpy as np
import torch

from qgm.errors import ConfigError, ParameterError

__all__ = [
    "Space", "Bits", "Reals", "Images", "PureStates", "DensityMatrices", "Graphs", "Elements",
    "check_compatible", "STATE_TOL",
]

#: Tolerance on the norm of a pure state and on the trace / Hermiticity of a density matrix.
STATE_TOL = 1e-8

#: A batch of elements in a space's tensor form (a tensor, or ``(A, X)`` for graphs).
Elements = Union[torch.Tensor, tuple[torch.Tensor, torch.Tensor]]


def _shape(x: Any) -> tuple[int, ...]:
    return tuple(getattr(x, "shape", ()))


def _positive(name: str, value: Any, minimum: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or int(value) < minimum:
        raise ConfigError(f"{name}: expected an integer >= {minimum}, got {value!r}")
    return int(value)


class Space(ABC):
    """A set that samples live in, with one tensor form for a batch of elements."""

    def __post_init__(self) -> None:
        self.validate()

    def validate(self) -> None:
        """Check the space's own parameters (ConfigError)."""

    @abstractmethod
    def check(self, x: Any, field: str = "samples") -> Elements:
        """``x`` if it is a batch of elements in tensor form, else a ParameterError naming ``field``."""

    def length(self, x: Elements) -> int:
        """Number of elements in the batch ``x``."""
        return int(x.shape[0])  # type: ignore[union-attr]

    def take(self, x: Elements, index: torch.Tensor) -> Elements:
        """Elements ``x[index]`` (``index`` a LongTensor of positions)."""
        return x[index]  # type: ignore[index]

    def to_numpy(self, x: Elements) -> np.ndarray:
        """The array form saved in ``samples.npy``."""
        return np.asarray(torch.as_tensor(x).detach().cpu().numpy())

    def matches(self, other: "Space") -> bool:
        """True when samples of ``other`` are elements of this space (same type and shape parameters)."""
        return self == other

    def describe(self) -> str:
        """A short human-readable name, e.g. ``Bits(9)``."""
        return repr(self)


@dataclass(frozen=True)
class Bits(Space):
    """Bitstrings of ``n`` bits as basis indices (wire 0 = most significant bit)."""

    n: int

    def validate(self) -> None:
        _positive("Bits.n", self.n)

    @property
    def size(self) -> int:
        """Number of elements ``2**n``."""
        return 1 << self.n

    def check(self, x: Any, field: str = "samples") -> torch.Tensor:
        if not isinstance(x, torch.Tensor) or x.dtype != torch.int64 or x.dim() != 1:
            raise ParameterError(
                f"{field}: expected a LongTensor (N,) of basis indices of {self.n} bits, got "
                f"{getattr(x, 'dtype', type(x).__name__)} of shape {_shape(x)}"
            )
        if x.numel() and (int(x.min()) < 0 or int(x.max()) >= self.size):
            raise ParameterError(f"{field}: basis indices must lie in 0..{self.size - 1} for {self.n} bits")
        return x

    def to_numpy(self, x: Elements) -> np.ndarray:
        """0/1 ``int64`` columns ``(N, n)``; column 0 = wire 0."""
        idx = np.asarray(torch.as_tensor(x).cpu(), dtype=np.int64).reshape(-1)
        shifts = np.arange(self.n - 1, -1, -1, dtype=np.int64)
        return (idx[:, None] >> shifts) & 1

    def describe(self) -> str:
        return f"Bits({self.n})"


@dataclass(frozen=True)
class Reals(Space):
    """Real vectors of dimension ``d``, optionally inside the box ``[low, high]`` (informational)."""

    d: int
    low: Optional[float] = None
    high: Optional[float] = None

    def validate(self) -> None:
        _positive("Reals.d", self.d)

    def check(self, x: Any, field: str = "samples") -> torch.Tensor:
        if not isinstance(x, torch.Tensor) or not x.is_floating_point() or x.dim() != 2 or x.shape[1] != self.d:
            raise ParameterError(f"{field}: expected a float tensor (N, {self.d}), got "
                                 f"{getattr(x, 'dtype', type(x).__name__)} of shape {_shape(x)}")
        return x

    def matches(self, other: Space) -> bool:
        """Bounds are informational: any ``Reals`` of the same dimension matches."""
        return isinstance(other, Reals) and other.d == self.d

    def describe(self) -> str:
        return f"Reals({self.d})"


@dataclass(frozen=True)
class Images(Space):
    """Images ``h x w`` with ``channels`` channels, pixels in ``[0, 1]``, stored flat (row-major, channel last)."""

    h: int
    w: int
    channels: int = 1

    def validate(self) -> None:
        _positive("Images.h", self.h)
        _positive("Images.w", self.w)
        _positive("Images.channels", self.channels)

    @property
    def n_pixels(self) -> int:
        """Values per image ``h * w * channels``."""
        return self.h * self.w * self.channels

    def check(self, x: Any, field: str = "samples") -> torch.Tensor:
        if not isinstance(x, torch.Tensor) or not x.is_floating_point() or x.dim() != 2 or x.shape[1] != self.n_pixels:
            raise ParameterError(f"{field}: expected float images (N, {self.n_pixels}) for {self.describe()}, got "
                                 f"{getattr(x, 'dtype', type(x).__name__)} of shape {_shape(x)}")
        return x

    def unflatten(self, x: torch.Tensor | np.ndarray) -> torch.Tensor | np.ndarray:
        """Flat images ``(N, h*w*c)`` as ``(N, h, w)`` (one channel) or ``(N, h, w, c)``."""
        tail = (self.h, self.w) if self.channels == 1 else (self.h, self.w, self.channels)
        return x.reshape(-1, *tail)

    def describe(self) -> str:
        c = "" if self.channels == 1 else f", {self.channels}"
        return f"Images({self.h}, {self.w}{c})"


def _check_complex(x: Any, shape: tuple[int, ...], field: str, what: str) -> torch.Tensor:
    if not isinstance(x, torch.Tensor) or not x.is_complex() or tuple(x.shape[1:]) != shape or x.dim() != len(shape) + 1:
        want = ", ".join(str(s) for s in ("N", *shape))
        raise ParameterError(f"{field}: expected complex {what} ({want}), got "
                             f"{getattr(x, 'dtype', type(x).__name__)} of shape {_shape(x)}")
    return x


@dataclass(frozen=True)
class PureStates(Space):
    """Pure states of ``n`` qubits as unit vectors ``(2**n,)`` (wire 0 = most significant bit)."""

    n: int

    def validate(self) -> None:
        _positive("PureStates.n", self.n)

    @property
    def dim(self) -> int:
        """Hilbert-space dimension ``2**n``."""
        return 1 << self.n

    def check(self, x: Any, field: str = "samples") -> torch.Tensor:
        x = _check_complex(x, (self.dim,), field, "state vectors")
        norms = torch.linalg.vector_norm(x.detach(), dim=-1)
        worst = float((norms - 1).abs().max()) if norms.numel() else 0.0
        if not worst <= STATE_TOL:
            raise ParameterError(f"{field}: states must be normalised; the worst norm is off by {worst:.3g}")
        return x

    def describe(self) -> str:
        return f"PureStates({self.n})"


@dataclass(frozen=True)
class DensityMatrices(Space):
    """Mixed states of ``n`` qubits as density matrices ``(2**n, 2**n)`` (Hermitian, unit trace)."""

    n: int

    def validate(self) -> None:
        _positive("DensityMatrices.n", self.n)

    @property
    def dim(self) -> int:
        """Hilbert-space dimension ``2**n``."""
        return 1 << self.n

    def check(self, x: Any, field: str = "samples") -> torch.Tensor:
        x = _check_complex(x, (self.dim, self.dim), field, "density matrices")
        d = x.detach()
        herm = float((d - d.mH).abs().amax()) if d.numel() else 0.0
        trace = float((torch.diagonal(d, dim1=-2, dim2=-1).sum(-1) - 1).abs().max()) if d.numel() else 0.0
        if not herm <= STATE_TOL or not trace <= STATE_TOL:
            raise ParameterError(
                f"{field}: density matrices must be Hermitian with trace 1 (Hermiticity error {herm:.3g}, "
                f"trace error {trace:.3g})"
            )
        return x

    def describe(self) -> str:
        return f"DensityMatrices({self.n})"


@dataclass(frozen=True)
class Graphs(Space):
    """Molecular graphs of at most ``max_atoms`` atoms: ``atom_types`` atom and ``bond_types`` bond
    types, type 0 meaning "no atom" / "no bond" (see the module table for the tensor form)."""

    max_atoms: int
    atom_types: int
    bond_types: int

    def validate(self) -> None:
        _positive("Graphs.max_atoms", self.max_atoms)
        _positive("Graphs.atom_types", self.atom_types, 2)
        _positive("Graphs.bond_types", self.bond_types, 2)

    def check(self, x: Any, field: str = "samples") -> tuple[torch.Tensor, torch.Tensor]:
        m = self.max_atoms
        ok = isinstance(x, tuple) and len(x) == 2 and all(isinstance(t, torch.Tensor) for t in x)
        if ok:
            a, f = x
            ok = (a.dtype == torch.int64 and f.dtype == torch.int64 and a.dim() == 3 and f.dim() == 2
                  and tuple(a.shape[1:]) == (m, m) and f.shape[1] == m and a.shape[0] == f.shape[0])
        if not ok:
            raise ParameterError(f"{field}: expected a pair (A LongTensor (N, {m}, {m}), X LongTensor (N, {m})) "
                                 f"for {self.describe()}, got {type(x).__name__}")
        a, f = x
        if a.numel() and (int(a.min()) < 0 or int(a.max()) >= self.bond_types):
            raise ParameterError(f"{field}: bond types must lie in 0..{self.bond_types - 1}")
        if f.numel() and (int(f.min()) < 0 or int(f.max()) >= self.atom_types):
            raise ParameterError(f"{field}: atom types must lie in 0..{self.atom_types - 1}")
        if not torch.equal(a, a.transpose(1, 2)):
            raise ParameterError(f"{field}: adjacency tensors must be symmetric")
        return a, f

    def length(self, x: Elements) -> int:
        return int(x[1].shape[0])  # type: ignore[index]

    def take(self, x: Elements, index: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        a, f = x  # type: ignore[misc]
        return a[index], f[index]

    def to_numpy(self, x: Elements) -> np.ndarray:
        """``int64`` rows ``(N, max_atoms + max_atoms**2)``: atom types, then the flattened adjacency."""
        a, f = x  # type: ignore[misc]
        return np.concatenate([f.cpu().numpy(), a.reshape(len(a), -1).cpu().numpy()], axis=1).astype(np.int64)

    def describe(self) -> str:
        return f"Graphs({self.max_atoms}, {self.atom_types}, {self.bond_types})"


def check_compatible(model_space: Space, data_space: Space, model: str, dataset: str, *,
                     prepares_state: bool = False) -> None:
    """Refuse, in one line, a model whose samples are not elements of its dataset's space.

    A Born machine over ``Bits(n)`` that prepares a state (``prepares_state``) also
    trains on ``PureStates(n)`` data: measuring its state gives its bits.
    """
    if model_space.matches(data_space) or data_space.matches(model_space):
        return
    if prepares_state and isinstance(model_space, Bits) and isinstance(data_space, PureStates) \
            and model_space.n == data_space.n:
        return
    raise ConfigError(
        f"model: '{model}' generates {model_space.describe()} but dataset '{dataset}' holds "
        f"{data_space.describe()}; pick a model for {data_space.describe()} or change the model's size"
    )

