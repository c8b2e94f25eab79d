"""Spaces: tensor forms, validation errors, numpy forms and compatibility."""
import numpy as np
import pytest
import torch

from qgm.errors import ConfigError, ParameterError
from qgm.spaces import Bits, DensityMatrices, Graphs, Images, PureStates, Reals, check_compatible


def test_bits_form_and_numpy_columns():
    space = Bits(3)
    x = torch.tensor([0, 5, 7])
    assert space.check(x) is x and space.length(x) == 3 and space.size == 8
    assert np.array_equal(space.to_numpy(x), [[0, 0, 0], [1, 0, 1], [1, 1, 1]])  # column 0 = wire 0 = MSB
    assert torch.equal(space.take(x, torch.tensor([2, 0])), torch.tensor([7, 0]))
    with pytest.raises(ParameterError, match="0..7"):
        space.check(torch.tensor([8]))
    with pytest.raises(ParameterError, match="LongTensor"):
        space.check(torch.tensor([0.0]))


def test_reals_match_by_dimension_only():
    assert Reals(2, 0.0, 1.0).matches(Reals(2)) and not Reals(2).matches(Reals(3))
    with pytest.raises(ParameterError, match=r"\(N, 2\)"):
        Reals(2).check(torch.zeros(4, 3, dtype=torch.float64))


def test_images_flat_form_and_unflatten():
    space = Images(2, 3)
    x = torch.arange(12, dtype=torch.float64).reshape(2, 6)
    assert space.check(x) is x and space.unflatten(x).shape == (2, 2, 3)
    assert Images(2, 3, 3).unflatten(torch.zeros(1, 18)).shape == (1, 2, 3, 3)
    with pytest.raises(ParameterError, match="Images"):
        space.check(torch.zeros(2, 5))


def test_pure_states_need_unit_norm():
    space = PureStates(1)
    ok = torch.tensor([[1.0, 0.0], [0.6, 0.8j]], dtype=torch.complex128)
    assert space.check(ok) is ok
    with pytest.raises(ParameterError, match="normalised"):
        space.check(2 * ok)
    with pytest.raises(ParameterError, match="complex"):
        space.check(ok.real)


def test_density_matrices_need_hermitian_unit_trace():
    rho = torch.tensor([[[0.5, 0.5], [0.5, 0.5]]], dtype=torch.complex128)
    assert DensityMatrices(1).check(rho) is rho
    with pytest.raises(ParameterError, match="Hermitian"):
        DensityMatrices(1).check(torch.tensor([[[0.5, 1.0], [0.0, 0.5]]], dtype=torch.complex128))
    with pytest.raises(ParameterError, match="trace"):
        DensityMatrices(1).check(2 * rho)


def test_graphs_pair_form():
    space = Graphs(3, atom_types=5, bond_types=4)
    a = torch.zeros(2, 3, 3, dtype=torch.int64)
    a[0, 0, 1] = a[0, 1, 0] = 1
    x = torch.tensor([[1, 2, 0], [3, 0, 0]])
    assert space.length((a, x)) == 2
    a1, x1 = space.take((a, x), torch.tensor([1]))
    assert a1.shape == (1, 3, 3) and torch.equal(x1, x[1:])
    arr = space.to_numpy((a, x))
    assert arr.shape == (2, 3 + 9) and arr[0, 3 + 1] == 1
    bad = a.clone()
    bad[1, 0, 2] = 1
    with pytest.raises(ParameterError, match="symmetric"):
        space.check((bad, x))
    with pytest.raises(ParameterError, match="atom types"):
        space.check((a, x + 5))


def test_bad_space_parameters_are_config_errors():
    with pytest.raises(ConfigError, match="Bits.n"):
        Bits(0)
    with pytest.raises(ConfigError, match="Graphs.bond_types"):
        Graphs(9, 5, 1)


def test_compatibility_refusal_is_one_line():
    check_compatible(Bits(3), Bits(3), "m", "d")
    check_compatible(Bits(3), PureStates(3), "qcbm", "ghz", prepares_state=True)
    with pytest.raises(ConfigError, match=r"^model: 'm' generates Bits\(3\) but dataset 'd' holds Images\(8, 8\)"):
        check_compatible(Bits(3), Images(8, 8), "m", "d")
    with pytest.raises(ConfigError):
        check_compatible(Bits(3), PureStates(3), "rbm", "ghz")
