"""Random parameter draws and batched states of random circuit instances."""
from __future__ import annotations

import math
from typing import Iterator, Optional

import torch

from qgm.circuits.circuit import Circuit
from qgm.errors import ParameterError
from qgm.sim.engine import state

__all__ = ["uniform_params", "random_states", "check_count", "STATE_CHUNK_BYTES"]

#: Memory budget for one batch of states in :func:`random_states`.
STATE_CHUNK_BYTES = 128 * 2**20


def check_count(value: int, field: str) -> int:
    """``value`` if it is a positive int, else a ParameterError naming ``field``."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ParameterError(f"{field}: expected a positive integer, got {value!r}")
    return value


def uniform_params(
    circuit: Circuit,
    n_samples: int,
    generator: Optional[torch.Generator] = None,
    *,
    dtype: torch.dtype = torch.float64,
    device: Optional[torch.device] = None,
) -> torch.Tensor:
    """``n_samples`` parameter vectors ``(n_samples, P)`` drawn i.i.d. from U[0, 2π)."""
    u = torch.rand(check_count(n_samples, "n_samples"), circuit.n_params, generator=generator, dtype=dtype, device=device)
    return u * (2 * math.pi)


def random_states(
    circuit: Circuit,
    params: torch.Tensor,
    inputs=None,
    *,
    dtype: torch.dtype = torch.complex128,
) -> Iterator[torch.Tensor]:
    """States of ``circuit`` at the rows of ``params`` ``(S, P)``, yielded in chunks ``(s, 2**n)``."""
    item = torch.empty(0, dtype=dtype).element_size()
    chunk = max(1, STATE_CHUNK_BYTES // (4 * item * (1 << circuit.n_qubits)))
    with torch.no_grad():
        for start in range(0, params.shape[0], chunk):
            yield state(circuit, params[start : start + chunk], inputs, dtype=dtype)
