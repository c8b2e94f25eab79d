"""Chemistry metrics against RDKit's own values, hand-made lists and MolGAN's normalisations."""
from pathlib import Path

import numpy as np
import pytest
import torch

pytest.importorskip("rdkit")
from rdkit import Chem  # noqa: E402
from rdkit.Chem import QED, Crippen  # noqa: E402

from qgm.data.qm9 import QM9, MoleculeCodec  # noqa: E402
from qgm.errors import ConfigError  # noqa: E402
from qgm.metrics import chemistry as chem  # noqa: E402
from qgm.metrics import evaluate  # noqa: E402

SAMPLE = Path(__file__).parents[1] / "data" / "qm9_sample.smi"
ASPIRIN = "CC(=O)Oc1ccccc1C(=O)O"


def mol(s):
    return Chem.MolFromSmiles(s)


def test_properties_equal_rdkit_and_published_values():
    m = mol(ASPIRIN)
    assert chem.qed(m) == pytest.approx(QED.qed(m)) and chem.qed(m) == pytest.approx(0.550, abs=5e-4)
    assert chem.logp(m) == pytest.approx(Crippen.MolLogP(m)) == pytest.approx(1.3101, abs=1e-4)
    assert chem.sa_score(m) == pytest.approx(1.580, abs=1e-3)  # Ertl & Schuffenhauer's score of aspirin
    assert 1.0 <= chem.sa_score(mol("C1CC2CC1C1CC21")) <= 10.0


def test_molgan_normalisations_on_raw_numbers():
    assert chem.sa_norm([1.5, 5.0, 3.25, 10.0, 1.0]).tolist() == [1.0, 0.0, 0.5, 0.0, 1.0]
    lo, hi = chem.LOGP_RANGE
    assert chem.logp_norm([lo, hi, (lo + hi) / 2, -3.0]).tolist() == pytest.approx([0.0, 1.0, 0.5, 0.0])
    assert (hi - lo) == pytest.approx(8.16469513849)


def test_validity_uniqueness_novelty_on_hand_made_lists():
    mols = [mol("CCO"), mol("OCC"), None]
    assert chem.validity(mols) == pytest.approx(2 / 3)
    smiles = ["CCO", "CCO"]
    assert chem.uniqueness(smiles) == 0.5
    assert chem.novelty(["CCO", "CCN", "CCC", "CCN"], {"CCO", "CCC"}) == 0.5
    assert chem.uniqueness([]) == 0.0 and chem.novelty([], set()) == 0.0
    assert chem.validity([mol("CC.O")]) == 0.0  # fragments are not valid molecules


def test_diversity_is_the_mean_pairwise_tanimoto_distance():
    assert chem.diversity([mol("CCO"), mol("OCC")]) == 0.0  # one distinct molecule
    from rdkit import DataStructs
    from rdkit.Chem import rdFingerprintGenerator
    gen = rdFingerprintGenerator.GetMorganGenerator(radius=2, fpSize=2048)
    ms = [mol(s) for s in ("CCO", "c1ccccc1", "CC(=O)O")]
    fps = [gen.GetFingerprint(m) for m in ms]
    sims = [DataStructs.TanimotoSimilarity(fps[i], fps[j]) for i in range(3) for j in range(i + 1, 3)]
    assert chem.diversity(ms) == pytest.approx(1 - np.mean(sims))


def test_registered_metrics_score_graph_samples():
    data = QM9(None, source=SAMPLE)
    (a, x) = data.train
    k = 20
    # the first k training molecules, the first one twice and one empty graph
    samples = (torch.cat([a[:k], a[:1], torch.zeros_like(a[:1])]), torch.cat([x[:k], x[:1], torch.zeros_like(x[:1])]))

    class Fixed:
        tags = type("T", (), {"exact_probs": False})()

        def sample(self, n, generator=None):
            return samples

    names = list(chem.CHEMISTRY_METRICS)
    out = evaluate(Fixed(), data, names, n_samples=k + 2)
    mols = [mol(s) for s in data.smiles[:k]]
    assert out["validity"] == pytest.approx((k + 1) / (k + 2)) and out["validity_molgan"] == out["validity"]
    assert out["uniqueness"] == pytest.approx(k / (k + 1)) and out["novelty"] == 0.0
    qeds = [QED.qed(m) for m in mols] + [QED.qed(mols[0])]
    assert out["qed"] == pytest.approx(np.mean(qeds))
    sas = np.array([chem.sa_score(m) for m in mols] + [chem.sa_score(mols[0])])
    assert out["sa"] == pytest.approx(sas.mean()) and out["sa_norm"] == pytest.approx(chem.sa_norm(sas).mean())
    assert out["logp_norm"] == pytest.approx(chem.logp_norm([Crippen.MolLogP(m) for m in mols + mols[:1]]).mean())
    assert 0.0 < out["diversity"] < 1.0


def test_reward_is_the_product_of_normalised_terms():
    codec = MoleculeCodec()
    enc = [codec.encode(mol(s)) for s in ("CCO", "C1CC1")]
    a = torch.as_tensor(np.stack([e[0] for e in enc] + [np.zeros((9, 9), dtype=np.int64)]))
    x = torch.as_tensor(np.stack([e[1] for e in enc] + [np.zeros(9, dtype=np.int64)]))
    r = chem.reward_function(["validity", "sa"], codec)((a, x))
    expected = chem.sa_norm([chem.sa_score(mol("CCO")), chem.sa_score(mol("C1CC1"))])
    assert r.tolist() == pytest.approx([*expected, 0.0])
    with pytest.raises(ConfigError, match="reward"):
        chem.reward_function(["sas"], codec)


def test_metrics_refuse_non_graph_data():
    from qgm.registry import DATASETS

    data = DATASETS.create("ring", n_train=8, seed=0)

    class Fixed:
        tags = type("T", (), {"exact_probs": False})()

        def sample(self, n, generator=None):
            return torch.zeros(n, 2, dtype=torch.float64)

    with pytest.raises(ConfigError, match="molecular graph data"):
        evaluate(Fixed(), data, ["validity"], n_samples=4)
