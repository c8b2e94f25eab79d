"""A user's own bitstring data from a ``.npy`` or ``.csv`` file.

Accepted contents (one sample per row):

* a 2-D array of 0/1 with ``n_bits`` columns (column 0 = wire 0);
* a 1-D array (or single CSV column) of integer basis indices; ``n_bits`` must be given;
* a single CSV column of equal-length strings of '0'/'1' of length >= 2 (e.g. ``0110``),
  read as bitstrings (leftmost character = wire 0).

CSV files may have one header line. ``test_path`` optionally gives a test split in
the same format. The target is unknown (None): losses fit the empirical training
distribution.
"""
from __future__ import annotations

import os
from typing import Optional

import numpy as np

from qgm.data.base import BitDataset, bits_to_index, check_positive_int
from qgm.errors import DataError
from qgm.registry import DATASETS

__all__ = ["read_bit_file", "file"]


def _read_csv_cells(path: str) -> np.ndarray:
    with open(path, encoding="utf-8") as f:
        rows = [[cell.strip() for cell in line.split(",")] for line in f if line.strip()]
    if rows and not all(cell.lstrip("-").isdigit() for cell in rows[0]):
        rows = rows[1:]  # header line
    if not rows:
        raise DataError(f"path: {path} holds no data rows")
    if len({len(r) for r in rows}) != 1:
        raise DataError(f"path: {path} has rows with different numbers of columns; every row must have the same")
    return np.array(rows, dtype=str)


def _cells_to_array(path: str, cells: np.ndarray) -> np.ndarray:
    flat = cells.reshape(-1)
    if not all(c.lstrip("-").isdigit() for c in flat):
        bad = next(c for c in flat if not c.lstrip("-").isdigit())
        raise DataError(f"path: {path} contains {bad!r}; expected integers or 0/1 bitstrings")
    lengths = {len(c) for c in flat}
    if cells.shape[1] == 1 and len(lengths) == 1 and lengths.pop() >= 2 and all(set(c) <= {"0", "1"} for c in flat):
        return np.array([[int(ch) for ch in c] for c in flat], dtype=np.int64)
    array = cells.astype(np.int64)
    return array[:, 0] if array.shape[1] == 1 else array


def _load(path: str) -> np.ndarray:
    if not os.path.isfile(path):
        raise DataError(f"path: no such file {path!r}; give the path of a .csv or .npy file")
    ext = os.path.splitext(path)[1].lower()
    if ext == ".npy":
        try:
            array = np.load(path, allow_pickle=False)
        except ValueError as err:
            raise DataError(f"path: {path} is not a plain numeric .npy file ({err})") from None
        if not np.issubdtype(array.dtype, np.integer) and not np.issubdtype(array.dtype, np.bool_):
            if not (np.issubdtype(array.dtype, np.floating) and np.all(array == np.round(array))):
                raise DataError(f"path: {path} holds non-integer values (dtype {array.dtype}); save 0/1 or integer data")
        return array.astype(np.int64)
    if ext == ".csv":
        return _cells_to_array(path, _read_csv_cells(path))
    raise DataError(f"path: unsupported file type {ext!r} of {path!r}; use .csv or .npy")


def read_bit_file(path: str, n_bits: Optional[int] = None) -> tuple[np.ndarray, int]:
    """Basis indices ``(N,)`` and ``n_bits`` of the samples in ``path`` (see module docstring)."""
    array = _load(os.fspath(path))
    if array.ndim == 2:
        if array.shape[0] == 0 or np.any((array != 0) & (array != 1)):
            raise DataError(f"path: {path} must hold rows of 0/1 values (found values outside 0/1 or no rows)")
        if n_bits is not None and n_bits != array.shape[1]:
            raise DataError(f"n_bits: {n_bits} differs from the {array.shape[1]} columns of {path}; drop n_bits or fix it")
        return bits_to_index(array), array.shape[1]
    if array.ndim != 1 or array.size == 0:
        raise DataError(f"path: {path} must hold a 1-D list of indices or a 2-D 0/1 array, got shape {array.shape}")
    if n_bits is None:
        raise DataError(f"n_bits: {path} holds integer indices; set n_bits to the number of bits per sample")
    n_bits = check_positive_int("n_bits", n_bits)
    if array.min() < 0 or array.max() >= 1 << n_bits:
        raise DataError(f"path: {path} has indices outside 0..{(1 << n_bits) - 1} for n_bits={n_bits}; raise n_bits")
    return array, n_bits


@DATASETS.register("file")
def file(path: str, n_bits: Optional[int] = None, test_path: Optional[str] = None) -> BitDataset:
    """Registered factory: a :class:`BitDataset` read from ``path`` (and ``test_path``)."""
    train, n = read_bit_file(path, n_bits)
    test = None
    if test_path is not None:
        test, n_test = read_bit_file(test_path, n)
        if n_test != n:
            raise DataError(f"test_path: {test_path} has {n_test} bits per sample, {path} has {n}")
    return BitDataset("file", n, train, test=test)
