"""Chemistry metrics of generated molecules (RDKit; the ``chem`` extra).

Pure functions on lists of RDKit molecules (``None`` = a graph that does not decode)
and canonical SMILES, MolGAN's normalisations, and the registered metrics that
score a model's graph samples on a :class:`~qgm.data.qm9.QM9`-like dataset
(``dataset.codec``, ``dataset.train_smiles``).

Conventions (MolGAN, De Cao & Kipf arXiv:1805.11973, ``utils/molecular_metrics.py``):

* **validity**: share of samples that decode to a sanitised molecule with no bond to a
  missing atom and one connected fragment (MolGAN's reward check, which also rejects
  ``*`` and ``.``); ``validity_molgan`` is MolGAN's reported convention: sanitised,
  non-empty SMILES, fragments allowed, bonded empty nodes as dummy atoms ``*``;
* **uniqueness** = distinct canonical SMILES / valid; **novelty** = valid molecules whose
  canonical SMILES is not in the training set / valid (SMILES without stereochemistry);
* **qed** = ``QED.qed``; **logp** = ``Crippen.MolLogP``; **sa** = Ertl & Schuffenhauer's
  synthetic-accessibility score (1 easy … 10 hard) from RDKit's ``Contrib/SA_Score``;
  means over the valid molecules;
* normalised forms in [0, 1] (higher = better in MolGAN's reward):
  ``logp_norm = clip((logP + 2.12178879609) / 8.16469513849, 0, 1)``,
  ``sa_norm = clip((SA − 5) / (1.5 − 5), 0, 1)``; QED is already in [0, 1];
  an invalid molecule scores QED 0, logP −3, SA 10 (all normalise to 0);
* **diversity** = mean Tanimoto distance ``1 − sim`` over pairs of distinct valid
  molecules (Morgan fingerprints, radius 2, 2048 bits); 0 for fewer than two.

The registered adapters decode a sample batch once and reuse the decoded molecules
for every metric of the same :func:`qgm.metrics.evaluate` call.
"""
from __future__ import annotations

import importlib.util
import math
import os
from dataclasses import dataclass, field
from functools import lru_cache
from types import ModuleType
from typing import Any, Callable, Optional, Sequence

import numpy as np
import torch

from qgm.data.qm9 import canonical_smiles, chem, is_valid
from qgm.errors import ConfigError
from qgm.metrics.evaluate import require
from qgm.registry import METRICS
from qgm.spaces import Graphs

__all__ = [
    "qed", "logp", "sa_score", "normalise", "logp_norm", "sa_norm", "validity", "uniqueness", "novelty",
    "diversity", "property_scores", "MoleculeScores", "score_graphs", "reward_function", "REWARD_TERMS",
    "LOGP_RANGE", "SA_RANGE", "INVALID_SCORES", "CHEMISTRY_METRICS",
]

#: MolGAN's logP normalisation: ``(x − lo) / (hi − lo)`` clipped to [0, 1].
LOGP_RANGE = (-2.12178879609, 6.0429063424)
#: MolGAN's SA normalisation (reversed: SA 5 → 0, SA 1.5 → 1).
SA_RANGE = (5.0, 1.5)
#: Raw scores MolGAN gives a molecule that does not decode.
INVALID_SCORES = {"qed": 0.0, "logp": -3.0, "sa": 10.0}


def normalise(x: Any, lo: float, hi: float) -> np.ndarray:
    """``clip((x − lo) / (hi − lo), 0, 1)`` elementwise (``hi < lo`` reverses the scale)."""
    return np.clip((np.asarray(x, dtype=np.float64) - lo) / (hi - lo), 0.0, 1.0)


def logp_norm(x: Any) -> np.ndarray:
    """MolGAN-normalised logP of raw Crippen values."""
    return normalise(x, *LOGP_RANGE)


def sa_norm(x: Any) -> np.ndarray:
    """MolGAN-normalised synthetic accessibility of raw SA scores (1.5 → 1, 5 → 0)."""
    return normalise(x, *SA_RANGE)


@lru_cache(maxsize=1)
def _sascorer() -> ModuleType:
    """RDKit's ``Contrib/SA_Score/sascorer.py``, loaded from its file (the folder is not a package)."""
    config = chem("rdkit.RDConfig")
    path = os.path.join(config.RDContribDir, "SA_Score", "sascorer.py")
    spec = importlib.util.spec_from_file_location("qgm_sascorer", path)
    if spec is None or spec.loader is None or not os.path.isfile(path):
        raise ConfigError(f"sa: RDKit's Contrib/SA_Score/sascorer.py is missing at {path}; reinstall rdkit (chem extra)")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def qed(mol: Any) -> float:
    """RDKit's quantitative estimate of drug-likeness (0..1) of a molecule."""
    return float(chem("rdkit.Chem.QED").qed(mol))


def logp(mol: Any) -> float:
    """Crippen's octanol-water partition coefficient (``Crippen.MolLogP``)."""
    return float(chem("rdkit.Chem.Crippen").MolLogP(mol))


def sa_score(mol: Any) -> float:
    """Ertl & Schuffenhauer's synthetic-accessibility score (1 easy … 10 hard)."""
    return float(_sascorer().calculateScore(mol))


PROPERTIES: dict[str, Callable[[Any], float]] = {"qed": qed, "logp": logp, "sa": sa_score}


def validity(mols: Sequence[Any]) -> float:
    """Share of entries that are valid molecules (:func:`qgm.data.qm9.is_valid`)."""
    return float(np.mean([is_valid(m) for m in mols])) if len(mols) else 0.0


def uniqueness(smiles: Sequence[str]) -> float:
    """Distinct strings / strings, over the canonical SMILES of the valid molecules (0 if none)."""
    return len(set(smiles)) / len(smiles) if len(smiles) else 0.0


def novelty(smiles: Sequence[str], training: Any) -> float:
    """Share of the (valid) canonical SMILES not in ``training`` (a set of canonical SMILES)."""
    return float(np.mean([s not in training for s in smiles])) if len(smiles) else 0.0


def diversity(mols: Sequence[Any]) -> float:
    """Mean Tanimoto distance over pairs of the distinct molecules (Morgan r=2, 2048 bits); 0 below two."""
    unique = list({canonical_smiles(m): m for m in mols}.values())
    if len(unique) < 2:
        return 0.0
    gen = chem("rdkit.Chem.rdFingerprintGenerator").GetMorganGenerator(radius=2, fpSize=2048)
    data = chem("rdkit.DataStructs")
    fps = [gen.GetFingerprint(m) for m in unique]
    total = sum(sum(data.BulkTanimotoSimilarity(fps[i], fps[i + 1:])) for i in range(len(fps) - 1))
    n_pairs = len(fps) * (len(fps) - 1) / 2
    return 1.0 - total / n_pairs


def property_scores(mols: Sequence[Any], name: str) -> np.ndarray:
    """Raw property ``name`` (``qed``, ``logp``, ``sa``) per entry; :data:`INVALID_SCORES` for invalid ones."""
    fn = PROPERTIES[name]
    return np.array([fn(m) if is_valid(m) else INVALID_SCORES[name] for m in mols], dtype=np.float64)


@dataclass
class MoleculeScores:
    """Decoded samples with their scores computed on first use.

    Attributes:
        mols: decoded molecule per sample (None = does not decode).
        training: canonical SMILES of the training set (novelty).
        lenient_valid: per-sample validity in MolGAN's lenient convention.
    """

    mols: list[Any]
    training: Any
    lenient_valid: np.ndarray
    _cache: dict[str, Any] = field(default_factory=dict)

    @property
    def valid_mols(self) -> list[Any]:
        if "valid" not in self._cache:
            self._cache["valid"] = [m for m in self.mols if is_valid(m)]
        return self._cache["valid"]

    @property
    def valid_smiles(self) -> list[str]:
        if "smiles" not in self._cache:
            self._cache["smiles"] = [canonical_smiles(m) for m in self.valid_mols]
        return self._cache["smiles"]

    def raw(self, name: str) -> np.ndarray:
        """Property ``name`` of each valid molecule."""
        key = f"raw_{name}"
        if key not in self._cache:
            self._cache[key] = property_scores(self.valid_mols, name)
        return self._cache[key]

    def metric(self, name: str) -> float:
        """One of :data:`CHEMISTRY_METRICS` (means over the valid molecules; NaN where none is valid)."""
        if name == "validity":
            return len(self.valid_mols) / len(self.mols)
        if name == "validity_molgan":
            return float(self.lenient_valid.mean())
        if name == "uniqueness":
            return uniqueness(self.valid_smiles)
        if name == "novelty":
            return novelty(self.valid_smiles, self.training)
        if name == "diversity":
            return diversity(self.valid_mols)
        base = name.removesuffix("_norm")
        values = self.raw(base)
        if name.endswith("_norm"):
            values = {"logp": logp_norm, "sa": sa_norm}[base](values)
        return float(values.mean()) if values.size else math.nan


#: The registered chemistry metrics.
CHEMISTRY_METRICS = ("validity", "validity_molgan", "uniqueness", "novelty", "qed", "logp", "sa",
                     "logp_norm", "sa_norm", "diversity")


def score_graphs(graphs: tuple[torch.Tensor, torch.Tensor], codec: Any, training: Any = frozenset()) -> MoleculeScores:
    """Decode graphs ``(A (N, m, m), X (N, m))`` with ``codec`` into a :class:`MoleculeScores`."""
    mols = codec.decode_batch(graphs)
    lenient = codec.decode_batch(graphs, molgan=True)
    ok = np.array([m is not None and chem().MolToSmiles(m) != "" for m in lenient], dtype=bool)
    return MoleculeScores(mols, training, ok)


_last: dict[str, Any] = {}


def _scores(metric: str, dataset: Any, samples: Any) -> MoleculeScores:
    """The :class:`MoleculeScores` of ``samples`` (reused while the same sample tensors are scored)."""
    require(metric, dataset, isinstance(dataset.space, Graphs) and hasattr(dataset, "codec"),
            "it needs molecular graph data (a dataset with a codec, e.g. qm9)")
    key = tuple(samples) if isinstance(samples, tuple) else (samples,)
    if _last.get("key") is None or len(key) != len(_last["key"]) or any(a is not b for a, b in zip(key, _last["key"])):
        _last["key"] = key  # holding the tensors keeps their identities unique while cached
        _last["scores"] = score_graphs(samples, dataset.codec, getattr(dataset, "train_smiles", frozenset()))
    return _last["scores"]


def _register(name: str) -> None:
    def metric(*, model: Any, dataset: Any, samples: Any, probs: Optional[torch.Tensor]) -> float:
        return _scores(name, dataset, samples).metric(name)

    metric.__name__ = name
    metric.__doc__ = f"Chemistry metric '{name}' of the sampled molecules (see qgm.metrics.chemistry)."
    METRICS.register(name)(metric)


for _name in CHEMISTRY_METRICS:
    _register(_name)


# ---------------------------------------------------------------------------- rewards
def _valid_term(mols: Sequence[Any]) -> np.ndarray:
    return np.array([is_valid(m) for m in mols], dtype=np.float64)


#: Per-molecule reward factors in [0, 1] (MolGAN's normalised scores; 0 for invalid molecules).
REWARD_TERMS: dict[str, Callable[[Sequence[Any]], np.ndarray]] = {
    "validity": _valid_term,
    "qed": lambda mols: property_scores(mols, "qed"),
    "logp": lambda mols: logp_norm(property_scores(mols, "logp")),
    "sa": lambda mols: sa_norm(property_scores(mols, "sa")),
}


def reward_function(terms: Sequence[str], codec: Any) -> Callable[[tuple[torch.Tensor, torch.Tensor]], torch.Tensor]:
    """``reward(graphs) -> (N,)`` float64: the product of the :data:`REWARD_TERMS` ``terms`` of each decoded
    graph (MolGAN's reward; the reference QGAN-HG code uses ``["validity", "sa"]``)."""
    names = list(terms)
    unknown = [t for t in names if t not in REWARD_TERMS]
    if not names or unknown:
        raise ConfigError(f"reward: expected terms from {sorted(REWARD_TERMS)}, got {names!r}")

    def reward(graphs: tuple[torch.Tensor, torch.Tensor]) -> torch.Tensor:
        mols = codec.decode_batch(graphs)
        out = np.ones(len(mols))
        for t in names:
            out *= REWARD_TERMS[t](mols)
        return torch.as_tensor(out)

    return reward
