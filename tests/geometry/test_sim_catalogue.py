"""The 19 circuits of Sim et al.: parameter counts, layouts, structural properties."""
from __future__ import annotations

import math

import pytest
import torch

from qgm.circuits.sim_catalogue import SIM_INDICES, sim_circuit
from qgm.errors import CircuitError
from qgm.geometry import entangling_capability, expressibility

#: Parameters per block at n = 4 (Sim et al., Fig. 2); circuit 10 adds 4 once.
PER_BLOCK = [8, 8, 11, 11, 28, 28, 19, 19, 4, 4, 12, 12, 16, 16, 8, 11, 11, 12, 12]


@pytest.mark.parametrize("index", SIM_INDICES)
def test_parameter_counts(index):
    for layers in (1, 2, 5):
        want = PER_BLOCK[index - 1] * layers + (4 if index == 10 else 0)
        assert sim_circuit(index, 4, layers).n_params == want


@pytest.mark.parametrize("index", SIM_INDICES)
@pytest.mark.parametrize("n", [2, 3, 5, 6])
def test_other_sizes_build_and_run(index, n):
    c = sim_circuit(index, n, 2)
    assert c.n_qubits == n and c.n_params > 0
    g = torch.Generator().manual_seed(0)
    assert 0 <= entangling_capability(c, 8, g) <= 1


def _pairs(index: int, gate: str) -> list[tuple[int, ...]]:
    return [op.wires for op in sim_circuit(index, 4, 1).ops if op.name == gate]


def test_entangler_layouts_at_four_qubits():
    assert _pairs(2, "cx") == [(3, 2), (2, 1), (1, 0)]
    assert _pairs(5, "crz")[:4] == [(3, 2), (3, 1), (3, 0), (2, 3)] and len(_pairs(5, "crz")) == 12
    assert _pairs(7, "crz") == [(1, 0), (3, 2), (2, 1)]
    assert _pairs(10, "cz") == [(3, 2), (2, 1), (1, 0), (3, 0)]
    assert _pairs(11, "cx") == [(1, 0), (3, 2), (2, 1)]
    assert [op.wires[0] for op in sim_circuit(11, 4, 1).ops[10:14]] == [1, 2, 1, 2]
    assert _pairs(13, "crz") == [(3, 0), (2, 3), (1, 2), (0, 1), (3, 2), (0, 3), (1, 0), (2, 1)]
    assert _pairs(15, "cx") == _pairs(13, "crz")
    assert _pairs(18, "crz") == [(3, 0), (2, 3), (1, 2), (0, 1)]
    assert [op.name for op in sim_circuit(9, 4, 1).ops] == ["h"] * 4 + ["cz"] * 3 + ["rx"] * 4


def test_fixed_entangler_after_one_layer_does_not_change_fidelities():
    # circuit 2 at L = 1 is circuit 1 followed by a fixed unitary: identical fidelity samples
    g1, g2 = torch.Generator().manual_seed(5), torch.Generator().manual_seed(5)
    assert expressibility(sim_circuit(1, 4, 1), 300, 75, g1) == pytest.approx(
        expressibility(sim_circuit(2, 4, 1), 300, 75, g2), abs=1e-12
    )


def test_entangling_capability_extremes():
    g = torch.Generator().manual_seed(1)
    assert abs(entangling_capability(sim_circuit(1, 4, 3), 100, g)) < 1e-12  # product states
    assert math.isclose(entangling_capability(sim_circuit(9, 4, 1), 100, g), 1.0, rel_tol=1e-12)  # cluster


def test_errors():
    for bad in (0, 20, 2.0, True):
        with pytest.raises(CircuitError, match="index"):
            sim_circuit(bad, 4, 1)
    with pytest.raises(CircuitError, match="n_qubits"):
        sim_circuit(1, 1, 1)
    with pytest.raises(CircuitError, match="layers"):
        sim_circuit(1, 4, 0)
