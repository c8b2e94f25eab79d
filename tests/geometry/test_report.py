"""geometry_report / plot_geometry_report: contents, consistency, JSON-readiness, plot file."""
from __future__ import annotations

import json

import pytest
import torch

from qgm.circuits import Circuit, hardware_efficient
from qgm.geometry import entangling_capability, expressibility, geometry_report, metric_tensor, plot_geometry_report
from qgm.geometry.report import metric_spectrum


def test_report_matches_the_separate_functions(tmp_path):
    c = hardware_efficient(3, 1)
    theta = torch.linspace(0.1, 2.0, c.n_params, dtype=torch.float64)
    rep = geometry_report(c, theta, n_pairs=400, bins=30, generator=torch.Generator().manual_seed(3))
    json.dumps(rep)  # plain types only
    g = torch.Generator().manual_seed(3)
    assert rep["expressibility"] == pytest.approx(expressibility(c, 400, 30, g), abs=1e-12)
    assert rep["entangling_capability"] == pytest.approx(entangling_capability(c, 400, g), abs=1e-12)
    eig = torch.linalg.eigvalsh(metric_tensor(c, theta))
    assert rep["metric"]["eigenvalues"] == pytest.approx(eig.tolist(), abs=1e-12)
    assert rep["metric"]["params"] == pytest.approx(theta.tolist())
    assert sum(rep["fidelity_histogram"]) == pytest.approx(1.0) and sum(rep["haar_histogram"]) == pytest.approx(1.0)
    assert (rep["n_qubits"], rep["n_params"], rep["n_pairs"], rep["bins"]) == (3, c.n_params, 400, 30)
    out = plot_geometry_report(rep, tmp_path / "plots" / "geometry.png")
    assert out.exists() and out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_report_draws_a_point_when_params_is_none():
    c = Circuit(2).ry(0).ry(1).rz(1)
    rep = geometry_report(c, n_pairs=50, generator=torch.Generator().manual_seed(0))
    assert len(rep["metric"]["params"]) == 3 and all(0 <= t < 6.2832 for t in rep["metric"]["params"])


def test_metric_spectrum_rank_and_condition():
    s = metric_spectrum(torch.diag(torch.tensor([0.25, 0.0, 0.05], dtype=torch.float64)))
    assert s["rank"] == 2 and s["condition_number"] == pytest.approx(5.0) and s["trace"] == pytest.approx(0.3)
    assert metric_spectrum(torch.zeros(0, 0))["condition_number"] is None
