"""Dataset containers shared by every ``qgm.data`` dataset.

Every dataset is a :class:`Dataset`: it declares the :class:`~qgm.spaces.Space`
of its elements (``dataset.space``) and serves training batches through
``dataset.batch(indices)`` (elements ``train[indices]`` in the space's tensor
form); ``len(dataset)`` is the number of training elements.

Bit datasets hold basis indices of ``n_bits`` qubits (wire 0 = most significant
bit of an index = column 0 of :meth:`BitDataset.bits`); grid datasets are bit
datasets whose strings decode to real vectors (``value_space``); continuous
datasets hold real vectors ``(N, dim)``; image datasets flat images.
"""
from __future__ import annotations

from typing import Callable, Optional, Sequence

import numpy as np
import torch

from qgm.errors import ConfigError, DataError, brief
from qgm.limits import MAX_BITS, check_bits, check_samples, check_seed
from qgm.spaces import Bits, Elements, Reals, Space

__all__ = [
    "Dataset", "BitDataset", "ValidSetDataset", "GridDataset", "ContinuousDataset", "MAX_BITS", "check_n_bits",
    "index_to_bits", "bits_to_index", "grid_marginals", "check_positive_int", "check_fraction", "sample_indices",
]


def check_positive_int(name: str, value: object, *, minimum: int = 1) -> int:
    """``value`` as an int ``>= minimum``; a ConfigError naming ``name`` otherwise."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or int(value) < minimum:
        raise ConfigError(f"{name}: expected an integer >= {minimum}, got {brief(value)}")
    return int(value)


def check_fraction(name: str, value: object, *, closed: bool = False) -> float:
    """``value`` as a float in ``(0, 1)`` (``[0, 1]`` if ``closed``); ConfigError otherwise."""
    try:
        v = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise ConfigError(f"{name}: expected a number in (0, 1), got {brief(value)}") from None
    ok = 0.0 <= v <= 1.0 if closed else 0.0 < v < 1.0
    if not ok:
        interval = "[0, 1]" if closed else "(0, 1)"
        raise ConfigError(f"{name}: expected a number in {interval}, got {brief(value)}")
    return v


def check_n_bits(name: str, n_bits: int) -> int:
    """Refuse datasets whose state space cannot be enumerated (more than :data:`qgm.limits.MAX_BITS` bits)."""
    check_bits(n_bits, name)
    return n_bits


def index_to_bits(indices: torch.Tensor | np.ndarray, n_bits: int) -> np.ndarray:
    """Bits ``(len, n_bits)`` int64 of basis indices; column 0 = wire 0 = most significant bit."""
    x = np.asarray(torch.as_tensor(indices).cpu(), dtype=np.int64).reshape(-1)
    shifts = np.arange(n_bits - 1, -1, -1, dtype=np.int64)
    return (x[:, None] >> shifts) & 1


def bits_to_index(bits: np.ndarray) -> np.ndarray:
    """Basis indices ``(len,)`` int64 of 0/1 rows ``(len, n_bits)`` (column 0 = most significant)."""
    b = np.asarray(bits, dtype=np.int64)
    weights = 1 << np.arange(b.shape[1] - 1, -1, -1, dtype=np.int64)
    return b @ weights


def grid_marginals(p: np.ndarray, shape: Sequence[int]) -> list[np.ndarray]:
    """Marginals ``[(shape[j],)]`` of a joint distribution ``p`` flattened in C order over a grid of ``shape``."""
    grid = np.asarray(p, dtype=np.float64).reshape(tuple(shape))
    axes = range(grid.ndim)
    return [grid.sum(axis=tuple(a for a in axes if a != j)) for j in axes]


def sample_indices(p: np.ndarray, n: int, seed: int, field: str = "n_train") -> torch.Tensor:
    """``n`` i.i.d. basis indices (LongTensor) drawn from ``p`` with a seeded torch generator
    (``n`` checked against the memory budget first; errors name ``field``)."""
    check_samples(check_positive_int(field, n), Bits(1), field)
    g = torch.Generator().manual_seed(check_seed(seed))
    return torch.multinomial(torch.as_tensor(p, dtype=torch.float64), n, replacement=True, generator=g)


def _as_index_tensor(name: str, x: torch.Tensor | np.ndarray | Sequence[int], n_bits: int) -> torch.Tensor:
    t = torch.as_tensor(np.asarray(x) if not isinstance(x, torch.Tensor) else x)
    if t.dtype not in (torch.int64, torch.int32, torch.int16, torch.int8, torch.uint8) or t.dim() != 1:
        raise DataError(f"{name}: expected a 1-D integer tensor of basis indices, got dtype {t.dtype} shape {tuple(t.shape)}")
    t = t.to(torch.int64)
    if t.numel() and (int(t.min()) < 0 or int(t.max()) >= 1 << n_bits):
        raise DataError(f"{name}: basis indices must lie in 0..{(1 << n_bits) - 1} for n_bits={n_bits}")
    return t


class Dataset:
    """Elements of :attr:`space` split into ``train`` and optional ``test`` (see the module docstring).

    Attributes:
        name: registry name.
        space: the space of the elements.
        train, test: elements in the space's tensor form (``test`` may be None).
        value_space: the real space the elements decode to (grid and market bins), else None.
    """

    value_space: Optional[Reals] = None

    def __init__(self, name: str, space: Space, train: Elements, test: Optional[Elements] = None) -> None:
        self.name, self.space = name, space
        self.train = space.check(train, f"{name}.train")
        if space.length(self.train) == 0:
            raise DataError(f"{name}: the training split is empty; provide at least one sample")
        self.test = None if test is None else space.check(test, f"{name}.test")

    def __len__(self) -> int:
        """Number of training elements."""
        return self.space.length(self.train)

    def batch(self, indices: torch.Tensor) -> Elements:
        """Training elements at positions ``indices`` (LongTensor ``(m,)``), in the space's tensor form."""
        return self.space.take(self.train, indices)

    def split(self, split: str) -> Elements:
        """The elements of ``split`` (``"train"`` or ``"test"``)."""
        if split == "train":
            return self.train
        if split == "test":
            if self.test is None:
                raise DataError(f"{self.name}: has no test split; use split='train'")
            return self.test
        raise ConfigError(f"split: expected 'train' or 'test', got {split!r}")

    @property
    def has_exact_target(self) -> bool:
        """True when a loss can train on the whole data distribution at once (``batch=None``)."""
        return False

    def to_numpy(self, samples: Elements) -> np.ndarray:
        """Samples as saved in ``samples.npy``: decoded values for grid data, else the space's array form."""
        if self.value_space is not None:
            return np.asarray(self.decode(samples), dtype=np.float64)  # type: ignore[attr-defined]
        return self.space.to_numpy(samples)

    def __repr__(self) -> str:
        n_test = 0 if self.test is None else self.space.length(self.test)
        return f"{type(self).__name__}(name={self.name!r}, space={self.space.describe()}, n_train={len(self)}, n_test={n_test})"


class BitDataset(Dataset):
    """Samples of ``n_bits``-bit strings stored as basis indices (space ``Bits(n_bits)``).

    Attributes:
        name: registry name.
        n_bits: number of qubits a Born machine needs.
        train: LongTensor ``(N,)`` basis indices; ``test``: LongTensor ``(M,)`` or None.
        target: exact target distribution ``(2**n_bits,)`` float64 or None (then the
            empirical training distribution is the exact target of the losses).
        valid: None here; datasets with a set of valid strings (:class:`ValidSetDataset`)
            define ``valid(indices) -> bool array``.
    """

    valid: Optional[Callable[[torch.Tensor], np.ndarray]] = None

    def __init__(
        self,
        name: str,
        n_bits: int,
        train: torch.Tensor | np.ndarray | Sequence[int],
        test: torch.Tensor | np.ndarray | Sequence[int] | None = None,
        target: torch.Tensor | np.ndarray | None = None,
    ) -> None:
        self.n_bits = check_n_bits(name, check_positive_int("n_bits", n_bits))
        super().__init__(
            name, Bits(self.n_bits), _as_index_tensor(f"{name}.train", train, self.n_bits),
            None if test is None else _as_index_tensor(f"{name}.test", test, self.n_bits),
        )
        self.target = None if target is None else self._check_target(target)

    def _check_target(self, target: torch.Tensor | np.ndarray) -> torch.Tensor:
        t = torch.as_tensor(np.asarray(target, dtype=np.float64))
        if t.shape != (1 << self.n_bits,):
            raise DataError(f"{self.name}.target: expected shape ({1 << self.n_bits},), got {tuple(t.shape)}")
        if bool((t < 0).any()) or abs(float(t.sum()) - 1.0) > 1e-9:
            raise DataError(f"{self.name}.target: probabilities must be >= 0 and sum to 1 (sum {float(t.sum()):.6g})")
        return t

    @property
    def has_exact_target(self) -> bool:
        """Bit data always have one: ``target``, else the empirical training distribution."""
        return True

    def empirical(self, split: str = "train") -> np.ndarray:
        """Normalised histogram ``(2**n_bits,)`` float64 of ``split``."""
        x = self.split(split).numpy()
        return np.bincount(x, minlength=1 << self.n_bits).astype(np.float64) / len(x)

    def bits(self, indices: torch.Tensor | np.ndarray) -> np.ndarray:
        """Bits ``(len, n_bits)`` int64 of ``indices``; column 0 = wire 0."""
        return index_to_bits(indices, self.n_bits)

    def decode(self, indices: torch.Tensor | np.ndarray) -> np.ndarray:
        """Values ``(len, d)`` float64 of ``indices``; for plain bit datasets the bits themselves."""
        return self.bits(indices).astype(np.float64)


class ValidSetDataset(BitDataset):
    """A bit dataset with a known set of valid strings (BAS, fixed cardinality).

    ``valid_mask`` ``(2**n_bits,)`` bool marks the valid strings.
    """

    def __init__(self, name: str, n_bits: int, train, valid_mask: np.ndarray, test=None, target=None) -> None:
        super().__init__(name, n_bits, train, test=test, target=target)
        mask = np.asarray(valid_mask, dtype=bool)
        if mask.shape != (1 << self.n_bits,):
            raise DataError(f"{name}.valid_mask: expected shape ({1 << self.n_bits},), got {mask.shape}")
        self.valid_mask = mask

    @property
    def n_valid(self) -> int:
        """Number of valid strings."""
        return int(self.valid_mask.sum())

    def valid(self, indices: torch.Tensor | np.ndarray) -> np.ndarray:  # type: ignore[override]
        """Bool array ``(len,)``: is each basis index a valid string?"""
        x = np.asarray(torch.as_tensor(indices).cpu(), dtype=np.int64).reshape(-1)
        return self.valid_mask[x]


class GridDataset(BitDataset):
    """A bit dataset whose strings encode ``d`` variables on ``2**bits`` bins each.

    Wire order: variable 0's bits first, each variable most significant bit first,
    so the joint index is the C-order flat index of the bin tuple ``(b_0, ..., b_{d-1})``.
    ``centres[j]`` ``(2**bits,)`` are the bin centres of variable ``j``; samples decode
    to ``value_space = Reals(d)``.
    """

    def __init__(self, name: str, bits: int, centres: Sequence[np.ndarray], train, test=None, target=None) -> None:
        self.bits_per_variable = check_positive_int("bits", bits)
        self.centres = [np.asarray(c, dtype=np.float64) for c in centres]
        if any(c.shape != (1 << self.bits_per_variable,) for c in self.centres):
            raise DataError(f"{name}: every variable needs {1 << self.bits_per_variable} bin centres")
        super().__init__(name, self.bits_per_variable * len(self.centres), train, test=test, target=target)
        self.value_space = Reals(self.dim, float(min(c.min() for c in self.centres)),
                                 float(max(c.max() for c in self.centres)))

    @property
    def dim(self) -> int:
        """Number of variables ``d``."""
        return len(self.centres)

    def bin_indices(self, indices: torch.Tensor | np.ndarray) -> np.ndarray:
        """Per-variable bin numbers ``(len, d)`` int64 of joint basis indices."""
        x = np.asarray(torch.as_tensor(indices).cpu(), dtype=np.int64).reshape(-1)
        k = self.bits_per_variable
        shifts = k * np.arange(self.dim - 1, -1, -1, dtype=np.int64)
        return (x[:, None] >> shifts) & ((1 << k) - 1)

    def decode(self, indices: torch.Tensor | np.ndarray) -> np.ndarray:
        """Bin centres ``(len, d)`` float64 of ``indices``."""
        b = self.bin_indices(indices)
        return np.stack([self.centres[j][b[:, j]] for j in range(self.dim)], axis=1)

    def marginals(self, p: np.ndarray) -> list[np.ndarray]:
        """Per-variable marginals ``[(2**bits,)] * d`` of a joint distribution ``p`` ``(2**n_bits,)``."""
        return grid_marginals(p, (1 << self.bits_per_variable,) * self.dim)


class ContinuousDataset(Dataset):
    """Real vectors ``(N, dim)`` float64 (space ``Reals(dim)``, or e.g. ``Images`` for pixel rows) with an
    optional known law to draw fresh samples from.

    ``sampler(n, generator) -> Tensor (n, dim)`` draws from the law; without one,
    :meth:`sample` resamples the training set with replacement.
    """

    def __init__(
        self,
        name: str,
        train: torch.Tensor | np.ndarray,
        test: torch.Tensor | np.ndarray | None = None,
        sampler: Optional[Callable[[int, Optional[torch.Generator]], torch.Tensor]] = None,
        space: Optional[Space] = None,
    ) -> None:
        x = _as_rows(f"{name}.train", train)
        self.dim = int(x.shape[1])
        y = None if test is None else _as_rows(f"{name}.test", test, self.dim)
        super().__init__(name, Reals(self.dim) if space is None else space, x, y)
        self._sampler = sampler

    def sample(self, n: int, generator: Optional[torch.Generator] = None) -> torch.Tensor:
        """``n`` draws ``(n, dim)`` float64: fresh from the law if known, else resampled training rows."""
        n = check_positive_int("n", n)
        if self._sampler is not None:
            return self._sampler(n, generator)
        rows = torch.randint(len(self.train), (n,), generator=generator)
        return self.train[rows]


def _as_rows(name: str, x: torch.Tensor | np.ndarray, dim: Optional[int] = None) -> torch.Tensor:
    """``x`` as a non-empty float64 tensor ``(N, dim)``; a DataError naming ``name`` otherwise."""
    t = torch.as_tensor(np.asarray(x, dtype=np.float64)) if not isinstance(x, torch.Tensor) else x.to(torch.float64)
    if t.dim() != 2 or t.shape[0] == 0:
        raise DataError(f"{name}: expected a non-empty (N, dim) array, got shape {tuple(t.shape)}")
    if dim is not None and t.shape[1] != dim:
        raise DataError(f"{name}: expected {dim} columns, got {t.shape[1]}")
    return t
