"""Shared check of the optimizer tests: resuming from a saved ``state_dict`` is bit-exact."""
from __future__ import annotations

import io
from typing import Callable, Sequence

import pytest
import torch

from qgm.circuits import Circuit
from qgm.sim import expval

OptimizerFactory = Callable[[list[torch.nn.Parameter]], torch.optim.Optimizer]


def _descend(circuit: Circuit, opt: torch.optim.Optimizer, p: torch.nn.Parameter, steps: int) -> None:
    """``steps`` updates of ``opt`` on ``⟨Z…Z⟩`` of ``circuit`` at ``p``."""
    for _ in range(steps):
        opt.zero_grad()
        expval(circuit, p, "Z" * circuit.n_qubits).backward()
        opt.step()


def _check_resume_is_bit_exact(
    circuit: Circuit, start: Sequence[float], make: OptimizerFactory, make_resumed: OptimizerFactory, steps: int = 3
) -> None:
    """Run ``make`` for ``steps`` from ``start``; copy the parameters and the ``state_dict`` (through
    ``torch.save``, as a checkpoint would) into ``make_resumed``; after ``steps`` more of each, the
    parameters must be equal bit for bit."""
    a = torch.nn.Parameter(torch.tensor(start, dtype=torch.float64))
    opt_a = make([a])
    _descend(circuit, opt_a, a, steps)
    b = torch.nn.Parameter(a.detach().clone())
    opt_b = make_resumed([b])
    buf = io.BytesIO()
    torch.save(opt_a.state_dict(), buf)
    buf.seek(0)
    opt_b.load_state_dict(torch.load(buf, weights_only=True))
    _descend(circuit, opt_a, a, steps)
    _descend(circuit, opt_b, b, steps)
    assert torch.equal(a, b)


@pytest.fixture
def check_resume_is_bit_exact() -> Callable[..., None]:
    """:func:`_check_resume_is_bit_exact` (a fixture, so every optimizer test file can use it)."""
    return _check_resume_is_bit_exact
