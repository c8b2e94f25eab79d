import numpy as np
import pytest
import torch

import qgm.data  # noqa: F401
from qgm.errors import ConfigError
from qgm.metrics import evaluate
from qgm.models import ModelTags
from qgm.registry import DATASETS, METRICS


class TableModel:
    """A model over basis states given by an explicit probability table."""

    def __init__(self, p, has_probs=True):
        self.p = torch.as_tensor(p, dtype=torch.float64)
        self.tags = ModelTags(exact_probs=has_probs)

    def sample(self, n, *, generator=None):
        return torch.multinomial(self.p, n, replacement=True, generator=generator)

    def probs(self):
        return self.p


def test_perfect_bas_model():
    d = DATASETS.create("bas", rows=2, cols=2)
    out = evaluate(TableModel(d.target), d, ["kl", "tv", "valid_fraction", "qbas"], generator=torch.Generator().manual_seed(0))
    assert out["kl"] == pytest.approx(0.0, abs=1e-12)
    assert out["tv"] == pytest.approx(0.0, abs=1e-12)
    assert out["valid_fraction"] == 1.0
    assert out["qbas"] == 1.0


def test_half_valid_model_exact_and_sampled():
    d = DATASETS.create("bas", rows=2, cols=2)
    p = np.zeros(16)
    p[d.train.numpy()] = 0.5 / 6
    invalid = np.flatnonzero(~d.valid_mask)
    p[invalid] = 0.5 / len(invalid)
    out = evaluate(TableModel(p), d, ["tv", "kl"])
    assert out["tv"] == pytest.approx(0.5)
    assert out["kl"] == pytest.approx(np.log(2))
    g = torch.Generator().manual_seed(1)
    sampled = evaluate(TableModel(p, has_probs=False), d, ["valid_fraction", "tv"], n_samples=20000, generator=g)
    assert sampled["valid_fraction"] == pytest.approx(0.5, abs=0.02)
    assert sampled["tv"] == pytest.approx(0.5, abs=0.03)


def test_unknown_or_inapplicable_metric():
    d = DATASETS.create("bas", rows=2, cols=2)
    with pytest.raises(ConfigError, match="unknown metric 'nope'"):
        evaluate(TableModel(d.target), d, ["nope"])
    with pytest.raises(ConfigError, match="generalisation_rate.*bas"):
        evaluate(TableModel(d.target), d, ["generalisation_rate"])


def test_registered_names():
    for name in ["kl", "tv", "js", "hellinger_fidelity", "valid_fraction", "qbas"]:
        assert name in METRICS


class ContinuousModel:
    tags = ModelTags()

    def __init__(self, dataset):
        self.dataset = dataset

    def sample(self, n, *, generator=None):
        return self.dataset.sample(n, generator)


def test_generalisation_metrics_on_cardinality():
    d = DATASETS.create("cardinality", n=6, k=3, train_fraction=0.5, seed=0)
    uniform_valid = d.valid_mask / d.valid_mask.sum()
    out = evaluate(
        TableModel(uniform_valid, has_probs=False), d,
        ["generalisation_fidelity", "generalisation_rate", "generalisation_coverage", "valid_fraction"],
        n_samples=2000, generator=torch.Generator().manual_seed(0),
    )
    assert out["generalisation_fidelity"] == 1.0 and out["valid_fraction"] == 1.0
    assert out["generalisation_rate"] == pytest.approx(0.5, abs=0.04)
    assert out["generalisation_coverage"] == 1.0


def test_values_metrics_on_lognormal():
    d = DATASETS.create("lognormal_zoufal")
    out = evaluate(TableModel(d.target), d, ["kl", "ks", "mmd", "js", "hellinger_fidelity"])
    assert out["kl"] == pytest.approx(0.0, abs=1e-12) and out["ks"] == pytest.approx(0.0, abs=1e-12)
    assert out["mmd"] == pytest.approx(0.0, abs=1e-12) and out["hellinger_fidelity"] == pytest.approx(1.0)
    uniform = evaluate(TableModel(np.full(8, 1 / 8)), d, ["ks", "mmd"])
    cdf = np.cumsum(d.target.numpy())
    assert uniform["ks"] == pytest.approx(np.abs(cdf - np.arange(1, 9) / 8).max())
    assert uniform["mmd"] > 0.01
    with pytest.raises(ConfigError, match="valid_fraction.*lognormal_zoufal"):
        evaluate(TableModel(d.target), d, ["valid_fraction"])


def test_mode_coverage_metrics_continuous_and_discretised():
    ring = DATASETS.create("ring")
    names = ["modes_covered", "high_quality_fraction", "mode_kl", "ks", "mmd"]
    out = evaluate(ContinuousModel(ring), ring, names, n_samples=4000, generator=torch.Generator().manual_seed(0))
    assert out["modes_covered"] == 8 and out["high_quality_fraction"] > 0.98 and out["mode_kl"] < 0.01
    assert out["ks"] < 0.05 and out["mmd"] < 0.01
    disc = DATASETS.create("ring", bits=5)
    out = evaluate(TableModel(disc.target), disc, ["modes_covered", "high_quality_fraction"])
    assert out["modes_covered"] == 8 and out["high_quality_fraction"] > 0.95
    with pytest.raises(ConfigError, match="modes_covered.*bas"):
        bas = DATASETS.create("bas", rows=2, cols=2)
        evaluate(TableModel(bas.target), bas, ["modes_covered"])


def test_finance_metrics_on_market_copula():
    d = DATASETS.create("market_copula", bits=4)
    model = TableModel(d.empirical("train"))
    out = evaluate(model, d, ["kl", "kendall_tau", "tail_lower", "tail_upper", "joint_crash_frequency", "ks"],
                   n_samples=5000, generator=torch.Generator().manual_seed(0))
    from qgm.metrics import kendall_tau

    assert out["kendall_tau"] == pytest.approx(kendall_tau(d.returns("train")), abs=0.05)
    assert 0.2 < out["tail_lower"] <= 1.0 and 0.0 <= out["joint_crash_frequency"] <= 0.01
    assert out["kl"] < 0.5 and out["ks"] < 0.01
    with pytest.raises(ConfigError, match="kendall_tau.*bas"):
        b = DATASETS.create("bas", rows=2, cols=2)
        evaluate(TableModel(b.target), b, ["kendall_tau"])


def test_real_qcbm_through_evaluate():
    import qgm.models  # noqa: F401
    from qgm.registry import MODELS

    d = DATASETS.create("bas", rows=2, cols=2)
    model = MODELS.create("qcbm", dataset=d)
    out = evaluate(model, d, ["kl", "tv", "valid_fraction", "qbas", "mmd"], n_samples=500,
                   generator=torch.Generator().manual_seed(0))
    assert set(out) == {"kl", "tv", "valid_fraction", "qbas", "mmd"}
    assert all(np.isfinite(v) for v in out.values())
