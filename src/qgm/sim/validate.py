"""Input checks at the engine's door: shapes, dtypes, finiteness and memory.

Every failure is a :class:`~qgm.errors.QGMError` raised before any large
allocation, with the field, the bad value and the fix in one line.
"""
from __future__ import annotations

import math
import os
from typing import Any, Optional, Sequence

import numpy as np
import torch

from qgm.errors import ParameterError, QGMError, ResourceError, brief

__all__ = [
    "real_dtype_of", "as_angles", "check_memory", "check_shots", "gib", "available_bytes", "COMPLEX_DTYPES",
    "check_generator", "check_initial_state", "broadcast_batch", "check_coefficients", "observable_terms",
    "check_sample_shots", "NORM_ATOL", "MAX_SHOTS", "MAX_COEFFICIENT",
]

#: Largest coefficient magnitude of a Pauli sum: its square and a sum of many such terms stay finite in float64.
MAX_COEFFICIENT = 1e150
#: Most shots one call takes (counts stay exact in float64).
MAX_SHOTS = 2**53
#: Tolerance on ``|norm² - 1|`` of an initial state, by real precision.
NORM_ATOL = {torch.float64: 1e-6, torch.float32: 1e-4}

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
        raise error(f"{field}: expected a positive integer or None (exact), got {brief(shots)}")
    if shots > MAX_SHOTS:
        raise error(f"{field}: {brief(shots)} is more than MAX_SHOTS=2**53 (counts stay exact in float64); use fewer")
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


def _gib_power(per: int, n: int) -> str:
    """:func:`gib` of ``per * 2**n`` bytes, without building a huge integer for huge ``n``."""
    return gib(per << n) if n <= 100_000 else f"2^{per.bit_length() - 1 + n - 30} GiB"


def check_memory(n_qubits: int, batch: int, dtype: torch.dtype, device: torch.device, copies: int = 4) -> None:
    """Refuse work whose state vectors (``copies`` of ``(batch, 2**n)``) cannot fit."""
    from qgm.limits import power_bytes

    per = copies * batch * torch.empty(0, dtype=dtype).element_size()
    need = power_bytes(per, n_qubits)  # a float: no overflow for any number of qubits
    if need < SMALL_BYTES:
        return
    have = available_bytes(device)
    if need > have:
        raise ResourceError(
            f"n_qubits={n_qubits} with batch {batch} needs about {_gib_power(per, n_qubits)} ({copies} state copies "
            f"of {dtype}) but {device} has {gib(have)} free; use fewer qubits or a smaller batch, "
            f"dtype=torch.complex64, or diff_method='adjoint' for gradients"
        )


def check_generator(generator: Any, field: str = "generator") -> None:
    """A ParameterError unless ``generator`` is None or a ``torch.Generator``."""
    if generator is not None and not isinstance(generator, torch.Generator):
        raise ParameterError(f"{field}: expected a torch.Generator or None, got {brief(generator)}; "
                             f"pass {field}=torch.Generator().manual_seed({brief(generator, 20)})")


def check_initial_state(state: Any, n: int, field: str = "initial_state", unit_norm: bool = True) -> torch.Tensor:
    """``state`` as a floating or complex tensor ``(..., 2**n)`` of finite rows, of unit norm when ``unit_norm``
    (probabilities need it; evolving a state alone is linear and takes any vector); ParameterError otherwise."""
    dim = 1 << n
    if not isinstance(state, torch.Tensor) or state.dim() == 0 or state.shape[-1] != dim:
        raise ParameterError(f"{field}: expected a tensor of shape (..., {dim}), got "
                             f"{tuple(state.shape) if isinstance(state, torch.Tensor) else type(state).__name__}")
    if not (state.is_floating_point() or state.is_complex()):
        raise ParameterError(f"{field}: expected complex (or real floating) amplitudes, got dtype {state.dtype}")
    amps = state.detach()
    if amps.numel() and not bool(torch.isfinite(torch.view_as_real(amps) if amps.is_complex() else amps).all()):
        raise ParameterError(f"{field}: non-finite amplitude (NaN or inf); check how the state was made")
    if not unit_norm:
        return state
    norms = (amps.real**2 + (amps.imag**2 if amps.is_complex() else 0)).sum(-1)
    atol = NORM_ATOL.get(norms.dtype, 1e-4)
    if norms.numel() and float((norms - 1).abs().max()) > atol:
        worst = float(norms.reshape(-1)[(norms - 1).abs().reshape(-1).argmax()])
        raise ParameterError(
            f"{field}: a state has squared norm {worst:.6g}, not 1 (tolerance {atol:g}); normalise it with "
            f"{field} / {field}.norm(dim=-1, keepdim=True)"
        )
    return state


def broadcast_batch(*shapes: tuple[str, Sequence[int]]) -> torch.Size:
    """The broadcast of the batch shapes ``(field, shape)``; a ParameterError naming the fields if they clash."""
    given = [tuple(s) for _, s in shapes if len(s)]
    listed = ", ".join(f"{f} batch {tuple(s)}" for f, s in shapes)
    if any(0 in s for s in given):
        raise ParameterError(f"empty batch ({listed}); give at least one row")
    if all(s == given[0] for s in given[1:]):  # the common case needs no broadcasting
        return torch.Size(given[0] if given else ())
    try:
        return torch.broadcast_shapes(*(torch.Size(s) for _, s in shapes))
    except RuntimeError:
        raise ParameterError(f"batch shapes do not broadcast ({listed}); give leading dimensions that are equal "
                             "or 1 (the last dimension of each is its slots or amplitudes)") from None


def _real_coefficient(coef: Any, term: Any) -> None:
    if isinstance(coef, (complex, np.complexfloating)) or (isinstance(coef, torch.Tensor) and coef.is_complex()):
        raise ParameterError(f"observable: coefficient {brief(coef)} of term {brief(term, 20)} is complex; a Pauli sum "
                             "needs real coefficients (a Hermitian observable): split it into real terms")
    try:
        value = float(coef)
    except (TypeError, ValueError, RuntimeError):
        raise ParameterError(f"observable: coefficient {brief(coef)} of term {brief(term, 20)} is not a number") from None
    if not math.isfinite(value):
        raise ParameterError(f"observable: coefficient {value} of term {brief(term, 20)} is not finite; give a real number")
    if abs(value) > MAX_COEFFICIENT:
        raise ParameterError(f"observable: coefficient {value:.3g} of term {brief(term, 20)} exceeds MAX_COEFFICIENT="
                             f"{MAX_COEFFICIENT:.0e} in magnitude (sums and shot variances would overflow); rescale it")


def observable_terms(observables: Sequence[Any], n: int) -> list[Any]:
    """``parse_observable`` of each observable, any malformed one a one-line ParameterError."""
    from qgm.sim.observables import parse_observable

    check_coefficients(observables)
    try:
        return [parse_observable(o, n) for o in observables]
    except (TypeError, ValueError, IndexError) as exc:
        if isinstance(exc, ParameterError):
            raise
        raise ParameterError(f"observable: expected a Pauli string like 'ZIZ', a sum [(coef, 'XXI'), ...] or a list "
                             f"of those, got {brief(observables)}") from None


def check_sample_shots(shots: Any, rows: int) -> None:
    """A ParameterError unless ``shots`` is a positive int (at most :data:`MAX_SHOTS`) whose ``(rows, shots)``
    indices fit the memory budget (:mod:`qgm.limits`)."""
    from qgm.limits import SAMPLE_COPIES, check_bytes

    shots = check_shots(shots, allow_none=False)
    check_bytes(SAMPLE_COPIES * 8 * max(rows, 1) * shots, "shots", f"{rows} x {shots} samples", "draw fewer samples")


def check_coefficients(observable: Any) -> None:
    """A ParameterError for a complex, non-numeric or non-finite coefficient anywhere in ``observable``
    (a Pauli string, a sum ``[(coef, "XZ"), ...]``, or a list of those)."""
    stack = [observable]
    while stack:
        item = stack.pop()
        if isinstance(item, (list, tuple)):
            if len(item) == 2 and isinstance(item[1], str) and not isinstance(item[0], str) and not (
                    isinstance(item[0], (list, tuple)) and item[0] and isinstance(item[0][0], (list, tuple))):
                _real_coefficient(item[0], item[1])
            else:
                stack.extend(item)
