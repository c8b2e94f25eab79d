"""Named limits: what qgm refuses before it parses, recurses or allocates.

Every limit below is a documented module constant (or, for memory, a budget
read from the environment), and every refusal is a one-line
:class:`~qgm.errors.QGMError` that names the field, the number the work would
have needed and the limit.

==========================  ==============  =====================================================
limit                       value           guards
==========================  ==============  =====================================================
``MAX_CONFIG_BYTES``        1 MiB           a YAML config file or ``--set`` value
``MAX_YAML_DEPTH``          64              nesting of YAML mappings/lists (aliases expanded)
``MAX_YAML_NODES``          100,000         YAML nodes after alias expansion (alias bombs)
``MAX_EXPRESSION_CHARS``    200             an arithmetic rule of ``n`` (``"ceil(log2(n))"``)
``MAX_RULE_VALUE``          1e9             the magnitude of any value inside such a rule
``MAX_BITS``                24              bit datasets that hold ``(2**n_bits,)`` vectors
``MAX_SEED``                2**63 - 1       a seed (torch generators take 64-bit seeds)
``MAX_ANSATZ_CELLS``        4,000           ``depth × n_qubits`` of an ansatz built from a config
``MAX_MODES``               10,000          components of a Gaussian-mixture dataset (ring, grid)
``MAX_MESSAGE_CHARS``       1,000           one error message (:mod:`qgm.errors`)
``MAX_VALUE_CHARS``         80              a user value quoted in a message
memory budget               see below       states, batches, samples, dataset vectors
==========================  ==============  =====================================================

OpenQASM input has its own limits (file size, nesting, gate expansion, expression
size): :class:`qgm.circuits.qasm.QasmLimits`.

Memory: the budget is ``$QGM_MEMORY_LIMIT`` (bytes, or a number with a unit:
``8GiB``, ``500MB``) when set, else the memory the machine has available
(``MemAvailable``). :func:`check_bytes` compares an estimate made *before* any
tensor is allocated with the budget; estimates under :data:`SMALL_BYTES` are
always allowed (and do not read the machine's memory).
"""
from __future__ import annotations

import math
import os
import re
from typing import Any

import numpy as np

from qgm.errors import MAX_MESSAGE_CHARS, MAX_VALUE_CHARS, ConfigError, ResourceError, brief
from qgm.spaces import Bits, DensityMatrices, Graphs, Images, PureStates, Reals, Space

__all__ = [
    "MAX_CONFIG_BYTES", "MAX_YAML_DEPTH", "MAX_YAML_NODES", "MAX_EXPRESSION_CHARS", "MAX_RULE_VALUE", "MAX_BITS",
    "MAX_ANSATZ_CELLS", "MAX_MESSAGE_CHARS", "MAX_VALUE_CHARS", "MEMORY_ENV", "SMALL_BYTES", "STATE_COPIES",
    "SAMPLE_COPIES", "memory_budget", "format_bytes", "power_bytes", "power_text", "check_bytes", "element_bytes",
    "check_samples",
    "check_state", "check_bits", "check_ansatz_size", "MAX_SEED", "check_seed", "MAX_MODES", "check_modes",
]

MAX_CONFIG_BYTES = 1 << 20
MAX_YAML_DEPTH = 64
MAX_YAML_NODES = 100_000
MAX_EXPRESSION_CHARS = 200
MAX_RULE_VALUE = 1e9
#: Largest ``n_bits`` for which a dataset materialises a ``(2**n_bits,)`` vector (target, valid mask).
MAX_BITS = 24
MAX_ANSATZ_CELLS = 4_000
#: Most components of a mixture dataset (each one is a loop over the grid when discretised).
MAX_MODES = 10_000
MAX_SEED = 2**63 - 1
#: Environment variable overriding the memory budget.
MEMORY_ENV = "QGM_MEMORY_LIMIT"
#: Estimates below this many bytes are always allowed.
SMALL_BYTES = 64 << 20
#: Working copies of a state vector an engine call holds at once (state, gate buffers, gradients).
STATE_COPIES = 4
#: Working copies of a batch of samples (uniforms, indices, decoded array, saved copy).
SAMPLE_COPIES = 4

_UNITS = {"": 1, "b": 1, "k": 1e3, "kb": 1e3, "m": 1e6, "mb": 1e6, "g": 1e9, "gb": 1e9, "t": 1e12, "tb": 1e12,
          "kib": 2**10, "mib": 2**20, "gib": 2**30, "tib": 2**40}


def format_bytes(n: float) -> str:
    """``n`` bytes in binary units (``"1.5 GiB"``; ``"about 2**k B"`` beyond what a float holds)."""
    if isinstance(n, int) and n.bit_length() > 1000:
        return f"about 2**{n.bit_length() - 1} B"
    for unit in ("B", "KiB", "MiB", "GiB", "TiB", "PiB"):
        if abs(n) < 1024:
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} EiB" if n < 1024 else f"about 2**{math.log2(n) + 60:.0f} B"


def _parse_size(text: str) -> int:
    m = re.fullmatch(r"\s*([0-9]*\.?[0-9]+(?:[eE][0-9]+)?)\s*([A-Za-z]*)\s*", text)
    if m is None or m.group(2).lower() not in _UNITS:
        raise ConfigError(f"{MEMORY_ENV}={text[:40]!r}: expected bytes or a size such as 8GiB or 500MB")
    return int(float(m.group(1)) * _UNITS[m.group(2).lower()])


def memory_budget() -> tuple[int, str]:
    """``(bytes, where the number comes from)``: ``$QGM_MEMORY_LIMIT``, else the available host memory."""
    raw = os.environ.get(MEMORY_ENV)
    if raw:
        return _parse_size(raw), f"${MEMORY_ENV}"
    import torch

    from qgm.sim.validate import available_bytes

    return available_bytes(torch.device("cpu")), f"available memory; set ${MEMORY_ENV} to change it"


def check_bytes(need: int, field: str, what: str, fix: str) -> None:
    """A ResourceError unless ``need`` bytes (the estimate for ``what``) fit the memory budget.

    The message reads ``"{field}: {what} needs {need}, more than the memory budget ...; {fix}"``.
    """
    if need < SMALL_BYTES:
        return
    have, source = memory_budget()
    if need > have:
        raise ResourceError(
            f"{field}: {what} needs {format_bytes(need)}, more than the memory budget of {format_bytes(have)} "
            f"({source}); {fix}"
        )


def element_bytes(space: Space) -> int:
    """Bytes of one element of ``space`` in its tensor form (:mod:`qgm.spaces`)."""
    if isinstance(space, Bits):
        return 8
    if isinstance(space, Reals):
        return 8 * space.d
    if isinstance(space, Images):
        return 8 * space.h * space.w * space.channels
    if isinstance(space, PureStates):
        return 16 << min(space.n, 200)
    if isinstance(space, DensityMatrices):
        return 16 << min(2 * space.n, 200)
    if isinstance(space, Graphs):
        return 8 * (space.max_atoms + 1) * space.max_atoms
    return 8


def check_samples(n: int, space: Space, field: str) -> None:
    """Refuse ``n`` samples of ``space`` whose working copies (:data:`SAMPLE_COPIES`) exceed the budget."""
    per = element_bytes(space)
    check_bytes(
        SAMPLE_COPIES * int(n) * per, field, f"{n} samples of {space.describe()} ({format_bytes(per)} each)",
        f"ask for fewer samples (at most about {_fitting(SAMPLE_COPIES * per)})",
    )


def _fitting(bytes_each: int) -> str:
    have, _ = memory_budget()
    return f"{max(have // max(bytes_each, 1), 0):,}"


def power_bytes(factor: float, exponent: int) -> float:
    """``factor * 2**exponent`` as a float (saturating far beyond any memory, never overflowing)."""
    return factor * 2.0 ** min(int(exponent), 1000)


def power_text(factor: float, exponent: int) -> str:
    """``factor * 2**exponent`` bytes in words, exact in the exponent however large it is."""
    if exponent <= 900:
        return format_bytes(power_bytes(factor, exponent))
    return f"about 2**{int(exponent) + round(math.log2(factor))} B"


def check_state(n_qubits: int, field: str = "n_qubits", batch: int = 1, copies: int = STATE_COPIES) -> None:
    """Refuse state-vector work on ``n_qubits`` (``copies`` × ``batch`` complex128 vectors) beyond the budget."""
    per = copies * max(int(batch), 1) * 16
    need = power_bytes(per, n_qubits)
    if need < SMALL_BYTES:
        return
    have, source = memory_budget()
    if need > have:
        most = max(int(math.log2(max(have // per, 1))), 0)
        raise ResourceError(
            f"{field}: {n_qubits} qubits need {power_text(per, n_qubits)} ({copies} x {max(int(batch), 1)} state vectors of "
            f"2**{n_qubits} complex128 amplitudes), more than the memory budget of {format_bytes(have)} ({source}); "
            f"at most {most} qubits fit"
        )


def check_bits(n_bits: int, field: str, bytes_per_string: int = 17) -> None:
    """Refuse a bit dataset over ``n_bits`` bits beyond :data:`MAX_BITS` (it holds ``(2**n_bits,)`` vectors of
    about ``bytes_per_string`` bytes per string in all)."""
    if n_bits > MAX_BITS:
        raise ResourceError(
            f"{field}: {n_bits} bits would need (2**{n_bits},) vectors ({power_text(bytes_per_string, n_bits)}); "
            f"datasets hold at most MAX_BITS={MAX_BITS} bits (qgm.limits); use fewer bits"
        )


def check_ansatz_size(depth: Any, n_qubits: int, field: str = "depth") -> None:
    """Refuse an ansatz of ``depth`` layers on ``n_qubits`` qubits beyond :data:`MAX_ANSATZ_CELLS` layer-qubits."""
    if isinstance(depth, int) and not isinstance(depth, bool) and depth * max(int(n_qubits), 1) > MAX_ANSATZ_CELLS:
        raise ResourceError(
            f"{field}: {depth} layers on {n_qubits} qubits is {depth * max(int(n_qubits), 1):,} layer-qubits, over "
            f"MAX_ANSATZ_CELLS={MAX_ANSATZ_CELLS:,} (qgm.limits); use a smaller depth"
        )


def check_modes(n_modes: int, field: str) -> int:
    """``n_modes`` (a positive int already) unless it exceeds :data:`MAX_MODES`."""
    if n_modes > MAX_MODES:
        raise ResourceError(f"{field}: {n_modes:,} mixture components, over MAX_MODES={MAX_MODES:,} (qgm.limits); "
                            "use fewer modes")
    return n_modes


def check_seed(value: Any, field: str = "seed") -> int:
    """``value`` as a seed in ``[0, MAX_SEED]``; a ConfigError naming ``field`` otherwise."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or not 0 <= int(value) <= MAX_SEED:
        raise ConfigError(f"{field}: expected an integer seed in [0, 2**63 - 1], got {brief(value)}")
    return int(value)
