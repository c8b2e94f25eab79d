"""QM9 small molecules as graphs: kekulised RDKit molecules ↔ ``(A, X)`` tensors.

The data are the QM9 SMILES shipped inside the PyPI package ``qm9pack`` (three CSV
files, 130,831 molecules, read directly: no network), or a user's SMILES / CSV file.
A molecule becomes an element of ``Graphs(max_atoms, 1 + len(atoms), 5)``:

* ``X`` ``(m,)``: atom type per node, 0 = no atom, ``k`` = ``atoms[k - 1]``
  (default ``C, N, O, F``), nodes in RDKit's atom order, padded with 0;
* ``A`` ``(m, m)``: bond type per pair, symmetric, 0 = none, then
  :data:`BOND_NAMES` ``single, double, triple, aromatic`` (MolGAN's five edge types).
  Molecules are kekulised before encoding, so aromatic bonds never occur in the data;
  the channel is kept so the generators have MolGAN's exact parameter counts.

Only neutral, radical-free molecules of at most ``max_atoms`` heavy atoms of the listed
elements are encodable (QM9's zwitterions such as ``[NH3+]…[O-]`` are skipped and counted).
Decoding is strict (:meth:`MoleculeCodec.decode`): a bond to a missing atom or a
valence RDKit refuses gives ``None``; :meth:`MoleculeCodec.decode_molgan` is MolGAN's
lenient variant (missing atoms that carry bonds become dummy atoms ``*``).

RDKit is optional (the ``chem`` extra): without it, encoding, decoding and the dataset
raise a one-line :class:`~qgm.errors.QGMError` naming the extra.
"""
from __future__ import annotations

import csv
import importlib
import importlib.util
import os
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from types import ModuleType
from typing import Any, Iterable, Optional, Sequence, Union

import numpy as np
import torch

from qgm.data.base import Dataset, check_positive_int
from qgm.errors import ConfigError, DataError, QGMError
from qgm.limits import check_samples
from qgm.registry import DATASETS
from qgm.spaces import Graphs

__all__ = [
    "QM9", "MoleculeCodec", "BOND_NAMES", "QM9_ATOMS", "QM9_MAX_ATOMS", "CHEM_EXTRA", "chem",
    "qm9pack_smiles", "read_smiles_file", "canonical_smiles", "molecule_grid",
]

#: Bond types by index (0 = no bond); the RDKit ``BondType`` of each is looked up by name.
BOND_NAMES = ("none", "single", "double", "triple", "aromatic")
#: Heavy-atom elements of QM9 (type ``k`` = ``QM9_ATOMS[k - 1]``; 0 = no atom).
QM9_ATOMS = ("C", "N", "O", "F")
#: Largest number of heavy atoms of a QM9 molecule.
QM9_MAX_ATOMS = 9
#: The install hint of every missing-RDKit error.
CHEM_EXTRA = "pip install 'qgm[chem]'"
#: The CSV files of ``qm9pack`` (folder ``qm9pack/data``), in index order.
QM9PACK_FILES = ("qm9_part1.csv", "qm9_part2.csv", "qm9_part3.csv")
#: Largest number of molecules a grid image draws.
MAX_GRID = 100


def chem(module: str = "rdkit.Chem") -> ModuleType:
    """Import an RDKit module, or raise a one-line QGMError naming the ``chem`` extra."""
    try:
        importlib.import_module("rdkit")
        return importlib.import_module(module)
    except ImportError:
        raise QGMError(f"molecules need RDKit, which is not installed; install the chem extra: {CHEM_EXTRA}") from None


def canonical_smiles(mol: Any) -> str:
    """RDKit's canonical SMILES of ``mol`` without stereochemistry (what uniqueness and novelty compare)."""
    return chem().MolToSmiles(mol, isomericSmiles=False)


@dataclass(frozen=True)
class MoleculeCodec:
    """Kekulised molecules of at most ``max_atoms`` heavy atoms of ``atoms`` ↔ graph tensors (module docstring)."""

    max_atoms: int = QM9_MAX_ATOMS
    atoms: tuple[str, ...] = QM9_ATOMS

    def __post_init__(self) -> None:
        check_positive_int("max_atoms", self.max_atoms)
        if not self.atoms or len(set(self.atoms)) != len(self.atoms):
            raise ConfigError(f"atoms: expected distinct element symbols, got {list(self.atoms)!r}")

    @property
    def space(self) -> Graphs:
        """``Graphs(max_atoms, 1 + len(atoms), 5)``."""
        return Graphs(self.max_atoms, len(self.atoms) + 1, len(BOND_NAMES))

    def _bond_types(self) -> list[Any]:
        bt = chem().BondType
        return [None] + [getattr(bt, name.upper()) for name in BOND_NAMES[1:]]

    def encode(self, mol: Any) -> Optional[tuple[np.ndarray, np.ndarray]]:
        """``(A (m, m), X (m,))`` int64 of an RDKit molecule, or None if it is not encodable
        (too many atoms, another element, a charge or a radical, or no atoms)."""
        Chem = chem()
        if mol is None or not 0 < mol.GetNumAtoms() <= self.max_atoms:
            return None
        mol = Chem.Mol(mol)
        Chem.Kekulize(mol, clearAromaticFlags=True)
        x = np.zeros(self.max_atoms, dtype=np.int64)
        for atom in mol.GetAtoms():
            if atom.GetSymbol() not in self.atoms or atom.GetFormalCharge() or atom.GetNumRadicalElectrons():
                return None
            x[atom.GetIdx()] = self.atoms.index(atom.GetSymbol()) + 1
        a = np.zeros((self.max_atoms, self.max_atoms), dtype=np.int64)
        types = self._bond_types()
        for bond in mol.GetBonds():
            i, j = bond.GetBeginAtomIdx(), bond.GetEndAtomIdx()
            a[i, j] = a[j, i] = types.index(bond.GetBondType())
        return a, x

    def encode_smiles(self, smiles: Sequence[str]) -> tuple[tuple[torch.Tensor, torch.Tensor], list[str], list[int]]:
        """Encode SMILES strings: ``((A (N, m, m), X (N, m)), canonical SMILES of the N kept, kept positions)``.

        Unparsable or unencodable strings are skipped (their positions are missing from the last list).
        """
        Chem = chem()
        rows_a, rows_x, kept, canon = [], [], [], []
        for k, s in enumerate(smiles):
            mol = Chem.MolFromSmiles(s)
            enc = self.encode(mol)
            if enc is None:
                continue
            rows_a.append(enc[0])
            rows_x.append(enc[1])
            kept.append(k)
            canon.append(canonical_smiles(mol))
        m = self.max_atoms
        a = torch.as_tensor(np.stack(rows_a)) if rows_a else torch.zeros((0, m, m), dtype=torch.int64)
        x = torch.as_tensor(np.stack(rows_x)) if rows_x else torch.zeros((0, m), dtype=torch.int64)
        return (a, x), canon, kept

    def _build(self, a: np.ndarray, x: np.ndarray, dummies: bool) -> Any:
        Chem = chem()
        nodes = np.flatnonzero(x)
        bonded = {int(i) for i, j in zip(*np.nonzero(np.triu(a, 1))) for i in (i, j)}
        if dummies:
            nodes = np.array(sorted(set(nodes.tolist()) | bonded), dtype=np.int64)
        elif not bonded <= set(nodes.tolist()):
            return None
        if len(nodes) == 0:
            return None
        index = {int(n): k for k, n in enumerate(nodes)}
        mol = Chem.RWMol()
        for n in nodes:
            mol.AddAtom(Chem.Atom(self.atoms[x[n] - 1] if x[n] else 0))
        types = self._bond_types()
        for i, j in zip(*np.nonzero(np.triu(a, 1))):
            mol.AddBond(index[int(i)], index[int(j)], types[int(a[i, j])])
        try:
            with chem("rdkit.rdBase").BlockLogs():  # refused valences are expected here, not news
                Chem.SanitizeMol(mol)
        except Exception:  # RDKit raises several exception types for bad valences and kekulisation
            return None
        return mol.GetMol()

    def decode(self, a: np.ndarray, x: np.ndarray) -> Optional[Any]:
        """The sanitised RDKit molecule of one graph ``A (m, m)``, ``X (m,)``, or None: no atoms, a bond
        to a missing atom, or a structure RDKit refuses (valence). Fragments are kept (see ``is_valid``)."""
        return self._build(np.asarray(a), np.asarray(x), dummies=False)

    def decode_molgan(self, a: np.ndarray, x: np.ndarray) -> Optional[Any]:
        """MolGAN's lenient decoding: missing atoms that carry a bond become dummy atoms ``*``."""
        return self._build(np.asarray(a), np.asarray(x), dummies=True)

    def decode_batch(self, graphs: tuple[torch.Tensor, torch.Tensor], molgan: bool = False) -> list[Optional[Any]]:
        """Molecules (or None) of a batch of graphs ``(A (N, m, m), X (N, m))`` in the codec's space."""
        a, x = self.space.check(graphs, "graphs")
        fn = self.decode_molgan if molgan else self.decode
        a_np, x_np = a.cpu().numpy(), x.cpu().numpy()
        return [fn(a_np[k], x_np[k]) for k in range(len(x_np))]


def is_valid(mol: Any) -> bool:
    """A decoded molecule counts as valid: sanitised (decode gave a molecule) and one connected fragment."""
    return mol is not None and "." not in canonical_smiles(mol)


# ---------------------------------------------------------------------------- sources
def _qm9pack_folder() -> Path:
    spec = importlib.util.find_spec("qm9pack")
    if spec is None or not spec.submodule_search_locations:
        raise QGMError(f"QM9 data come from the package qm9pack, which is not installed; install the chem extra: {CHEM_EXTRA}")
    return Path(list(spec.submodule_search_locations)[0]) / "data"


def qm9pack_smiles() -> list[str]:
    """The 130,831 SMILES of QM9 as shipped by ``qm9pack`` (column ``SMILES`` of its CSV files, in index order)."""
    folder = _qm9pack_folder()
    smiles: list[str] = []
    for name in QM9PACK_FILES:
        smiles += read_smiles_file(folder / name)
    return smiles


@lru_cache(maxsize=4)
def _encoded(source: Optional[str], n: Optional[int], seed: int, codec: MoleculeCodec
             ) -> tuple[tuple[torch.Tensor, torch.Tensor], tuple[str, ...], int]:
    """:func:`_choose` of a source, kept for the process (runs of one study share their data)."""
    raw = qm9pack_smiles() if source is None else read_smiles_file(source)
    graphs, canon, skipped = _choose(raw, codec, n, seed)
    return graphs, tuple(canon), skipped


def read_smiles_file(path: Union[str, Path]) -> list[str]:
    """SMILES of a file: a CSV with a ``SMILES`` / ``smiles`` column, or a ``.smi`` / text file (first
    whitespace-separated field of every non-empty line not starting with ``#``)."""
    p = Path(path)
    if not os.path.isfile(p):
        raise DataError(f"source: no file {str(p)!r}; give a .smi or .csv file of SMILES")
    try:
        return _smiles_of(p)
    except UnicodeDecodeError as exc:
        raise DataError(f"source: {str(p)!r} is not UTF-8 text (offset {exc.start}); give a .smi or .csv file "
                        "of SMILES") from None


def _smiles_of(p: Path) -> list[str]:
    """The SMILES strings of file ``p`` (see :func:`read_smiles_file`)."""
    if p.suffix.lower() == ".csv":
        with p.open(newline="") as fh:
            reader = csv.DictReader(fh)
            column = next((c for c in reader.fieldnames or [] if c.lower() == "smiles"), None)
            if column is None:
                raise DataError(f"source: {p} has no SMILES column (columns: {reader.fieldnames})")
            return [row[column] for row in reader if row[column]]
    lines = (line.split() for line in p.read_text().splitlines())
    return [parts[0] for parts in lines if parts and not parts[0].startswith("#")]


def _choose(smiles: Sequence[str], codec: MoleculeCodec, n: Optional[int], seed: int
            ) -> tuple[tuple[torch.Tensor, torch.Tensor], list[str], int]:
    """Encode ``n`` molecules drawn without replacement (seeded order; None = all in file order);
    the graphs, their canonical SMILES and the number of skipped strings seen on the way."""
    order = np.arange(len(smiles)) if n is None else np.random.default_rng(seed).permutation(len(smiles))
    want = len(smiles) if n is None else n
    graphs_a, graphs_x, canon, skipped, start = [], [], [], 0, 0
    while len(canon) < want and start < len(order):
        chunk = order[start:start + max(2 * (want - len(canon)), 64)]
        (a, x), c, kept = codec.encode_smiles([smiles[i] for i in chunk])
        take = min(len(c), want - len(canon))
        seen = kept[take - 1] + 1 if take < len(c) else len(chunk)
        skipped += seen - take
        graphs_a.append(a[:take])
        graphs_x.append(x[:take])
        canon += c[:take]
        start += len(chunk)
    if n is not None and len(canon) < n:
        raise DataError(f"n_molecules: asked for {n} molecules, the source has only {len(canon)} encodable ones")
    if not canon:
        raise DataError("source: no encodable molecule (neutral, at most max_atoms heavy atoms of the listed atoms)")
    return (torch.cat(graphs_a), torch.cat(graphs_x)), canon, skipped


class QM9(Dataset):
    """Molecular graphs (space ``Graphs(max_atoms, 1 + len(atoms), 5)``) of QM9 or a SMILES file.

    Args:
        n_molecules: molecules to keep, drawn without replacement in a seeded order
            (None: every encodable molecule of the source, in file order).
        seed: seed of the draw.
        source: None (QM9 from ``qm9pack``) or a ``.smi`` / ``.csv`` file of SMILES.
        max_atoms: largest number of heavy atoms (nodes per graph).
        atoms: element symbols of the atom types ``1..len(atoms)``.

    Attributes:
        smiles: canonical SMILES (no stereo) of the training molecules, in row order.
        train_smiles: their set (novelty's reference).
        n_skipped: source strings passed over because they are not encodable.
        codec: the :class:`MoleculeCodec`.
    """

    def __init__(
        self,
        n_molecules: Optional[int] = 5000,
        seed: int = 0,
        source: Optional[Union[str, Path]] = None,
        max_atoms: int = QM9_MAX_ATOMS,
        atoms: Sequence[str] = QM9_ATOMS,
    ) -> None:
        if n_molecules is not None:
            n_molecules = check_positive_int("n_molecules", n_molecules)
        self.codec = MoleculeCodec(check_positive_int("max_atoms", max_atoms), tuple(atoms))
        check_samples(n_molecules or 1, self.codec.space, "n_molecules, max_atoms")
        chem()
        path = None if source is None else str(Path(source).resolve())
        graphs, smiles, self.n_skipped = _encoded(path, n_molecules, int(seed), self.codec)
        self.smiles = list(smiles)
        self.train_smiles = frozenset(self.smiles)
        self.source = "qm9pack" if source is None else str(source)
        super().__init__("qm9", self.codec.space, graphs)

    def molecules(self, graphs: tuple[torch.Tensor, torch.Tensor]) -> list[Optional[Any]]:
        """Decoded molecules (None = not decodable) of graphs in the dataset's space."""
        return self.codec.decode_batch(graphs)

    def plot_samples(self, samples: tuple[torch.Tensor, torch.Tensor], folder: Path) -> list[Path]:
        """Draw the valid molecules of ``samples`` as a grid image ``folder/molecules.png``; the paths written."""
        mols = [m for m in self.molecules(samples) if is_valid(m)]
        if not mols:
            return []
        folder.mkdir(parents=True, exist_ok=True)
        return [molecule_grid(mols, folder / "molecules.png")]


def molecule_grid(mols: Iterable[Any], path: Union[str, Path], n: int = 48, per_row: int = 8,
                  legends: Optional[Sequence[str]] = None) -> Path:
    """A PNG grid of the first ``n`` (≤ :data:`MAX_GRID`) molecules drawn by RDKit; the path."""
    draw = chem("rdkit.Chem.Draw")
    chosen = list(mols)[:min(int(n), MAX_GRID)]
    if not chosen:
        raise DataError("molecule_grid: no molecules to draw")
    labels = list(legends)[:len(chosen)] if legends is not None else [canonical_smiles(m) for m in chosen]
    image = draw.MolsToGridImage(chosen, molsPerRow=min(per_row, len(chosen)), subImgSize=(200, 160), legends=labels)
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    image.save(str(out))
    return out


@DATASETS.register("qm9")
def qm9(
    n_molecules: Optional[int] = 5000,
    seed: int = 0,
    source: Optional[str] = None,
    max_atoms: int = QM9_MAX_ATOMS,
    atoms: Sequence[str] = QM9_ATOMS,
) -> QM9:
    """Registered factory: :class:`QM9` (``n_molecules`` drawn with ``seed`` from qm9pack's QM9 or ``source``)."""
    return QM9(n_molecules, seed, source, max_atoms, atoms)
