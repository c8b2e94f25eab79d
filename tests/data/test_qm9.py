"""QM9 molecular graphs: SMILES ↔ (A, X) round trips on the shipped sample, subsets, errors."""
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from qgm.errors import DataError, QGMError

pytest.importorskip("rdkit")
from rdkit import Chem  # noqa: E402

from qgm.data.qm9 import QM9, MoleculeCodec, canonical_smiles, is_valid, read_smiles_file  # noqa: E402
from qgm.registry import DATASETS  # noqa: E402
from qgm.spaces import Graphs  # noqa: E402

SAMPLE = Path(__file__).with_name("qm9_sample.smi")


def test_sample_round_trips_through_graphs():
    data = QM9(None, source=SAMPLE)
    raw = read_smiles_file(SAMPLE)
    assert data.space == Graphs(9, 5, 5) and len(data) + data.n_skipped == len(raw) == 200
    mols = data.molecules(data.train)
    assert all(is_valid(m) for m in mols)
    assert [canonical_smiles(m) for m in mols] == data.smiles
    expected = {canonical_smiles(Chem.MolFromSmiles(s)) for s in raw}
    assert set(data.smiles) <= expected
    a, x = data.train
    assert torch.equal(a, a.transpose(1, 2)) and int(a.max()) <= 3  # kekulised: no aromatic bonds
    assert bool((a.diagonal(dim1=1, dim2=2) == 0).all())


def test_encoding_of_a_known_molecule():
    codec = MoleculeCodec()
    a, x = codec.encode(Chem.MolFromSmiles("C1=CC=CC=C1O"))  # phenol, kekulised
    assert x.tolist() == [1, 1, 1, 1, 1, 1, 3, 0, 0]
    ring = [a[i, (i + 1) % 6] for i in range(6)]
    assert sorted(ring) == [1, 1, 1, 2, 2, 2] and a[5, 6] == 1 and a.sum() == 2 * (3 * 1 + 3 * 2 + 1)
    assert canonical_smiles(codec.decode(a, x)) == "Oc1ccccc1"


def test_unencodable_molecules_are_skipped(tmp_path):
    path = tmp_path / "m.smi"
    path.write_text("# comment\nCCO first\nC[NH3+] charged\nCl chlorine\nCCCCCCCCCC ten\nnot_a_smiles\nOCC\n")
    data = QM9(None, source=path)
    assert data.smiles == ["CCO", "CCO"] and data.n_skipped == 4
    assert data.train_smiles == frozenset({"CCO"})
    with pytest.raises(DataError, match="n_molecules: asked for 3"):
        QM9(3, source=path)


def test_csv_source_and_seeded_subsets(tmp_path):
    path = tmp_path / "m.csv"
    smiles = read_smiles_file(SAMPLE)
    path.write_text("id,SMILES\n" + "".join(f"{i},{s}\n" for i, s in enumerate(smiles)))
    a = DATASETS.create("qm9", n_molecules=50, seed=3, source=str(path))
    b = DATASETS.create("qm9", n_molecules=50, seed=3, source=str(path))
    c = DATASETS.create("qm9", n_molecules=50, seed=4, source=str(path))
    assert len(a) == 50 and a.smiles == b.smiles and a.smiles != c.smiles
    assert torch.equal(a.train[0], b.train[0])
    idx = torch.tensor([0, 7])
    assert torch.equal(a.batch(idx)[1], a.train[1][idx])


def test_strict_and_lenient_decoding():
    codec = MoleculeCodec(max_atoms=4)
    x = np.array([1, 1, 0, 3])
    a = np.zeros((4, 4), dtype=np.int64)
    a[0, 1] = a[1, 0] = 1
    assert canonical_smiles(codec.decode(a, x)) == "CC.O"  # fragments decode ...
    assert not is_valid(codec.decode(a, x))  # ... but are not valid
    a[1, 2] = a[2, 1] = 1  # a bond to a missing atom
    assert codec.decode(a, x) is None
    assert canonical_smiles(codec.decode_molgan(a, x)) == "*CC.O"
    a2 = np.zeros((4, 4), dtype=np.int64)
    a2[0, 3] = a2[3, 0] = 3  # C#O: a valence RDKit refuses
    assert codec.decode(a2, np.array([1, 0, 0, 3])) is None
    assert codec.decode(np.zeros((4, 4), dtype=np.int64), np.zeros(4, dtype=np.int64)) is None


def test_missing_rdkit_is_a_one_line_error_naming_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "rdkit", None)
    with pytest.raises(QGMError) as info:
        QM9(None, source=SAMPLE)
    assert "\n" not in str(info.value) and "qgm[chem]" in str(info.value)


def test_bad_options_are_refused():
    with pytest.raises(QGMError, match="n_molecules"):
        QM9(0, source=SAMPLE)
    with pytest.raises(DataError, match="no file"):
        QM9(None, source="/nonexistent.smi")
    with pytest.raises(QGMError, match="atoms"):
        MoleculeCodec(atoms=("C", "C"))
