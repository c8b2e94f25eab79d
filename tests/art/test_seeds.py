"""Latent seeds: the bits -> latent map, the study's metrics against closed forms, the short study."""
import math

import numpy as np
import pytest
import torch
from scipy import linalg, stats

from qgm import sim
from qgm.art.seeds import SOURCES, SeedKit, bits_to_latent, latent_to_bits, train_kit
from qgm.art.study import QUICK, frechet_distance, mean_pairwise_distance, nearest_distance, run_study, to_markdown
from qgm.circuits import Circuit
from qgm.errors import ConfigError


def test_bits_to_latent_known_values_and_inverse():
    z = bits_to_latent(torch.tensor([0b10, 0b01]), dim=2, bits_per_dim=1)  # chunk 0 = wire 0
    q = stats.norm.ppf(0.75)
    assert torch.allclose(z, torch.tensor([[q, -q], [-q, q]], dtype=torch.float64), atol=1e-12)
    idx = torch.arange(1 << 9)
    assert torch.equal(latent_to_bits(bits_to_latent(idx, 3, 3), 3), idx)


def test_uniform_bits_give_gaussian_latents():
    circuit = Circuit(16)
    for w in range(16):
        circuit = circuit.h(w)
    bits = sim.sample(circuit, None, 10_000, generator=torch.Generator().manual_seed(0))
    z = bits_to_latent(bits.reshape(-1), dim=2, bits_per_dim=8)
    for j in range(2):
        assert stats.kstest(z[:, j].numpy(), "norm").pvalue > 0.01


def test_frechet_distance_closed_forms():
    rng = np.random.default_rng(0)
    x, y = rng.normal(1.0, 2.0, (500, 1)), rng.normal(-0.5, 0.7, (400, 1))
    s1, s2 = x.std(ddof=1), y.std(ddof=1)
    assert math.isclose(frechet_distance(x, y), (x.mean() - y.mean()) ** 2 + (s1 - s2) ** 2, rel_tol=1e-10)
    a, b = rng.normal(size=(300, 5)) @ rng.normal(size=(5, 5)), rng.normal(size=(200, 5))
    ca, cb = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    want = ((a.mean(0) - b.mean(0)) ** 2).sum() + np.trace(ca + cb - 2 * np.real(linalg.sqrtm(ca @ cb)))
    assert math.isclose(frechet_distance(a, b), want, rel_tol=1e-8)
    assert abs(frechet_distance(a, a)) < 1e-9
    with pytest.raises(ConfigError, match="frechet"):
        frechet_distance(a[:1], b)


def test_distances_against_brute_force():
    pts = np.array([[0.0, 0.0], [3.0, 0.0], [0.0, 4.0]])
    assert math.isclose(mean_pairwise_distance(pts), (3 + 4 + 5) / 3)
    rng = np.random.default_rng(1)
    x, ref = rng.random((20, 6)), rng.random((30, 6))
    brute = np.array([min(np.linalg.norm(r - q) for q in ref) for r in x])
    assert np.allclose(nearest_distance(x, ref), brute, atol=1e-12)


def test_kit_sources_save_and_load(tmp_path):
    from qgm.data.digits import Digits

    images = Digits(classes=[0, 1], limit=60).train
    kit = train_kit(images, seed=0, latent_dim=2, bits_per_dim=2, vae_steps=20, qcbm_steps=5, qcbm_depth=1)
    loaded = SeedKit.load(kit.save(tmp_path / "kit"))
    for src in SOURCES:
        a = kit.generate(src, 9, torch.Generator().manual_seed(3))
        b = loaded.generate(src, 9, torch.Generator().manual_seed(3))
        assert a.shape == (9, 64) and torch.equal(a, b) and float(a.min()) >= 0 and float(a.max()) <= 1
    q = kit.latents("qcbm", 50, torch.Generator().manual_seed(0))
    assert len(torch.unique(q, dim=0)) <= 16  # 2 coordinates x 2 bits: at most 16 latent cells
    with pytest.raises(ConfigError, match="source"):
        kit.latents("quantum", 3)
    with pytest.raises(ConfigError, match="train-seeds"):
        SeedKit.load(tmp_path / "nothing")


def test_short_study_runs_and_reports():
    result = run_study(QUICK)
    summary = result["summary"]
    assert set(summary) == {*SOURCES, "real"}
    assert summary["real"]["coverage"]["median"] == 1.0 and summary["real"]["frechet"]["median"] < 0.5
    for src in SOURCES:
        m = summary[src]
        assert 0 < m["coverage"]["median"] <= 1 and m["frechet"]["median"] > summary["real"]["frechet"]["median"]
        assert all(math.isfinite(v["median"]) for v in m.values())
    assert set(result["verdict"]) == {"qcbm", "noise"}
    assert "| qcbm |" in to_markdown(result)
