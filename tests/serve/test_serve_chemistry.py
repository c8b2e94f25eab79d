"""``sample`` of a run trained on molecules: SMILES with QED, logP and SA, and the chemistry metrics."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

pytest.importorskip("rdkit")

from qgm.data.qm9 import QM9, chem  # noqa: E402
from qgm.serve.worker import molecules_json  # noqa: E402

SAMPLE = Path(__file__).resolve().parents[1] / "data" / "qm9_sample.smi"


def test_molecules_json_of_training_graphs_matches_rdkit():
    data = QM9(n_molecules=12, seed=0, source=str(SAMPLE))
    graphs, kept, _ = data.codec.encode_smiles(data.smiles)
    assert kept == data.smiles
    out = molecules_json(graphs, data)
    json.dumps(out, allow_nan=False)  # valid JSON: no NaN anywhere
    assert out["n"] == out["n_valid"] == 12
    assert [m["smiles"] for m in out["molecules"]] == data.smiles
    qed, crippen = chem("rdkit.Chem.QED"), chem("rdkit.Chem.Crippen")
    for row in out["molecules"]:  # independent: RDKit on the SMILES text, not on the decoded graph
        mol = chem().MolFromSmiles(row["smiles"])
        assert row["qed"] == pytest.approx(qed.qed(mol), abs=1e-4)
        assert row["logp"] == pytest.approx(crippen.MolLogP(mol), abs=1e-4)
        assert 1.0 <= row["sa"] <= 10.0
    metrics = out["metrics"]
    assert metrics["validity"] == 1.0 and metrics["uniqueness"] == 1.0 and metrics["novelty"] == 0.0
    assert metrics["qed"] == pytest.approx(sum(r["qed"] for r in out["molecules"]) / 12, abs=1e-4)


def test_molecules_json_without_valid_molecules_has_null_means():
    data = QM9(n_molecules=4, seed=0, source=str(SAMPLE))
    graphs, _, _ = data.codec.encode_smiles(data.smiles)
    empty = (graphs[0].zero_(), graphs[1].zero_())  # no atoms: nothing decodes to a molecule
    out = molecules_json(empty, data)
    json.dumps(out, allow_nan=False)
    assert out["n"] == 4 and out["n_valid"] == 0 and out["molecules"] == []
    assert out["metrics"]["validity"] == 0.0 and out["metrics"]["qed"] is None


#: A molecular run of a few seconds: a MolGAN on 32 QM9 molecules (qm9pack), two steps.
MOLGAN = """
name: tiny_molgan
dataset: {name: qm9, n_molecules: 32}
model: {name: molgan, complexity: mr, latent_dim: 4}
optimizer:
  generator: {name: adam, lr: 1.0e-3}
  discriminator: {name: adam, lr: 1.0e-3}
train: {steps: 2, batch_size: 8, n_eval_samples: 16, plots: false}
metrics: [validity]
"""


@pytest.mark.slow
def test_sample_of_a_molecular_run_over_http(http):
    from conftest import TOKENS, run, tool, train_and_wait

    status = run(train_and_wait, http, MOLGAN)
    assert status["state"] == "done", status
    answer = run(tool, http, "sample", run_id=status["job_id"], n=30, seed=1)
    assert not answer.is_error, answer
    out = json.loads(answer.content[0].text)
    assert out["n"] == 30 and out["n_valid"] == len(out["molecules"]) and "samples" not in out
    assert set(out["metrics"]) >= {"validity", "uniqueness", "novelty", "qed", "logp", "sa", "diversity"}
    assert out["metrics"]["validity"] == out["n_valid"] / 30
    refused = run(tool, http, "train", TOKENS["agent"], config=MOLGAN.replace("n_molecules: 32",
                                                                             "n_molecules: 32, source: /etc/passwd"))
    assert refused.is_error and "dataset.source: this server does not read" in refused.content[0].text
