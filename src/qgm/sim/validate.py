"""Input checks at the engine's door: shapes, dtypes, finiteness and memory.

Every failure is a :class:`~qgm.errors.QGMError` raised before any large
allocation, with the field, the bad value and the fix in one line.
"""
from __future__ import annotations

import os
from typing import Any, Optional

import numpy as np
import torch

from qgm.errors import ParameterError, QGMError, ResourceError

__all__ = ["real_dtype_of", "as_angles", "check_memory", "check_shots", "gib", "available_bytes", "COMPLEX_DTYPES"]

COMPLEX_DTYPES = (torch.complex128, torch.complex64)
#: Work below this size is never checked against free memory (reading it costs time).
SMALL_BYTES = 256 * 2**20


def real_dtype_of(dtype: torch.dtype) -> torch.dtype:
    """float64 for complex128, float32 for complex64; anything else is a ParameterError."""
    if dtype == torch.complex128:
        return torch.float64
    if dtype == torch.complex64:
        return torch.float32
    raise ParameterError(f"dtype must be torch.complex128 (default) or torch.complex64, got {dtype}")


def as_angles(
    value: Any,
    n: int,
    field: str,
    rdtype: torch.dtype,
    device: torch.device | None,
) -> torch.Tensor:
    """``value`` as a real tensor ``(..., n)`` of dtype ``rdtype``.

    Accepts tensors, NumPy arrays and sequences. Torch tensors must already be
    real floating point (their dtype is converted to the engine's precision, which
    keeps autograd); integer or complex tensors, a wrong last dimension and
    non-finite entries are ParameterErrors.
    """
    if value is None:
        if n:
            raise ParameterError(f"{field}: the circuit has {n} {field} slot(s); pass a tensor of shape (..., {n})")
        return torch.zeros(0, dtype=rdtype, device=device)
    if isinstance(value, torch.Tensor):
        if not value.is_floating_point():
            raise ParameterError(
                f"{field}: expected a real floating tensor, got dtype {value.dtype}; convert with {field}.double()"
            )
        t = value.to(dtype=rdtype, device=device if device is not None else value.device)
    else:
        arr = np.asarray(value)
        if arr.dtype.kind not in "fiub":
            raise ParameterError(f"{field}: expected real numbers, got an array of dtype {arr.dtype}")
        t = torch.as_tensor(arr.astype(np.float64), dtype=rdtype, device=device)
    if t.dim() == 0 or t.shape[-1] != n:
        raise ParameterError(
            f"{field}: expected shape (..., {n}) (one entry per slot), got {tuple(t.shape)}"
        )
    if t.numel() and not bool(torch.isfinite(t.detach().sum())):  # NaN and inf propagate into the sum
        bad = torch.nonzero(~torch.isfinite(t.detach()))[0].tolist()
        raise ParameterError(f"{field}: non-finite value (NaN or inf) at index {bad}; check the optimiser or the data")
    return t


def check_shots(shots: Any, field: str = "shots", *, allow_none: bool = True,
                error: type[QGMError] = ParameterError) -> Optional[int]:
    """``shots`` as ``None`` (exact) or a positive ``int``; anything else is a ParameterError.

    The one shots validator of qgm (engine, losses and models call it). NumPy
    integers are accepted and returned as ``int``; booleans, floats, zero and
    negative counts are refused, and so is ``None`` where ``allow_none=False``
    (a sample count that must be given). ``error``: the class raised (``ConfigError``
    where the count comes from a configuration).
    """
    if shots is None and allow_none:
        return None
    if isinstance(shots, bool) or not isinstance(shots, (int, np.integer)) or shots < 1:
        raise error(f"{field}: expected a positive integer or None (exact), got {shots!r}")
    return int(shots)


def available_bytes(device: torch.device) -> int:
    """Free memory on ``device`` (CUDA free memory, or the host's MemAvailable)."""
    if device.type == "cuda":
        free, _ = torch.cuda.mem_get_info(device)
        return int(free)
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:  # no /proc (macOS, Windows): fall back to the physical memory below
        pass
    return int(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES"))


def gib(nbytes: int) -> str:
    """``nbytes`` as ``"X.Y GiB"`` in integer arithmetic (a float division overflows beyond 2**1024
    bytes, i.e. at about 1,020 qubits); beyond 2**50 GiB as ``"2^k GiB"`` (``k`` = floor of log2)."""
    nbytes = int(nbytes)
    tenths = (nbytes * 10) >> 30
    if tenths < 10 << 50:
        return f"{tenths // 10}.{tenths % 10} GiB"
    return f"2^{nbytes.bit_length() - 31} GiB"


def check_memory(n_qubits: int, batch: int, dtype: torch.dtype, device: torch.device, copies: int = 4) -> None:
    """Refuse work whose state vectors (``copies`` of ``(batch, 2**n)``) cannot fit."""
    item = torch.empty(0, dtype=dtype).element_size()
    need = copies * batch * (2**n_qubits) * item
    if need < SMALL_BYTES:
        return
    have = available_bytes(device)
    if need > have:
        raise ResourceError(
            f"n_qubits={n_qubits} with batch {batch} needs about {gib(need)} ({copies} state copies of "
            f"{dtype}) but {device} has {gib(have)} free; use fewer qubits or a smaller batch, "
            f"dtype=torch.complex64, or diff_method='adjoint' for gradients"
        )
