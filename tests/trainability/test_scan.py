"""Barren-plateau scan: analytic variances, gradient routes, shots, fits, cache, plateau.json."""
import json
import math
import os

import numpy as np
import pytest
import torch

from qgm.circuits import Circuit, hardware_efficient
from qgm.errors import ConfigError
from qgm.trainability import build_cost, depth_of, fit_decay, run_plateau, scan, values_and_gradients, variance_stats


def product_ry(n, depth):
    c = Circuit(n)
    for q in range(n):
        c = c.ry(q)
    return c


def ry_cx(n, depth):
    """RY(a) ⊗ RY(b) then CX(0, 1)."""
    return Circuit(2).ry(0).ry(1).cx(0, 1)


def close(row, expected, sigmas=4.0):
    assert abs(row["var"] - expected) < sigmas * row["stderr"], (row, expected)
    assert row["var"] == pytest.approx(expected, rel=0.12)


def test_product_ansatz_matches_analytic_variances():
    # spec §1: Var[∂1 C_G] = (1/8)(3/8)^(n-1), Var[∂1 C_L] = 1/(8 n^2); parity Π cos θ_j: (1/2)^n
    r = scan(product_ry, [1, 2, 3], 1, ["global", "local", "parity"], n_inits=6000, n_boot=100)
    expected = {"global": lambda n: 0.125 * 0.375 ** (n - 1), "local": lambda n: 1 / (8 * n * n),
                "parity": lambda n: 0.5**n}
    for row in r.rows:
        close(row, expected[row["cost"]](row["n"]))
        assert row["n_inits"] == 6000 and row["method"] == "shift"
    parity = next(f for f in r.fits if f["cost"] == "parity")
    assert parity["ci"][0] < -1 < parity["ci"][1]


def test_two_qubit_entangled_local_cost_variance():
    # C_L = 1/2 − (cos a + cos a cos b)/4  ⇒  ∂a C_L = sin a (1 + cos b)/4, Var = (1/2)(3/2)/16 = 3/64
    r = scan(ry_cx, [2], 1, "local", n_inits=6000, n_boot=100)
    close(r.rows[0], 3 / 64)


def test_gradient_routes_agree_and_match_finite_differences():
    c = hardware_efficient(3, 2)
    theta = torch.rand(5, c.n_params, dtype=torch.float64, generator=torch.Generator().manual_seed(1)) * 6.0
    costs = [build_cost("global", 3), build_cost("local", 3, target="ghz"), build_cost("mmd", 3, sigma=1.0),
             build_cost("kl", 3, target="w")]
    ref_v, ref_g = values_and_gradients(c, theta, costs, [0, 4], method="shift")
    for method in ("backprop", "adjoint"):
        v, g = values_and_gradients(c, theta, costs, [0, 4], method=method)
        assert torch.allclose(v, ref_v, atol=1e-12) and torch.allclose(g, ref_g, atol=1e-9)
    from qgm import sim

    eps, k = 1e-6, 4
    plus, minus = theta.clone(), theta.clone()
    plus[:, k] += eps
    minus[:, k] -= eps
    fd = (costs[1](sim.state(c, plus)) - costs[1](sim.state(c, minus))) / (2 * eps)
    assert torch.allclose(fd, ref_g[1, :, 1], atol=1e-6)


def test_shot_noise_adds_the_expected_variance():
    # 1 qubit, C = 1 − p0 from one shot: Var = 1/8 + 2·E[p(1−p)]/4 = 1/8 + 1/16
    r = scan(product_ry, [1], 1, "global", n_inits=8000, shots=1, n_boot=100)
    close(r.rows[0], 0.1875)


def test_variance_stats_and_fit_recover_a_synthetic_slope():
    rng = np.random.default_rng(0)
    ns = [2, 4, 6, 8, 10]
    stats = [variance_stats(rng.normal(0.0, 2.0 ** ((1.0 - 0.7 * n) / 2), size=2000), 200, seed=n) for n in ns]
    for var, se, boot in stats:
        assert se == pytest.approx(var * math.sqrt(2 / 1999), rel=0.25) and len(boot) == 200
    fit = fit_decay(ns, [s[0] for s in stats], [s[2] for s in stats])
    assert fit["ci"][0] < -0.7 < fit["ci"][1] and fit["slope"] == pytest.approx(-0.7, abs=0.05)
    assert fit["ci_method"] == "bootstrap" and fit["barren_plateau"]
    exact = fit_decay(ns, [2.0 ** (3 - 1.25 * n) for n in ns])
    assert exact["slope"] == pytest.approx(-1.25) and exact["intercept"] == pytest.approx(3.0)
    assert exact["r2"] == pytest.approx(1.0) and exact["ci_method"] == "ols-t"
    poly = fit_decay(ns, [float(n) ** -2.0 for n in ns])
    assert poly["power_slope"] == pytest.approx(-2.0) and not poly["barren_plateau"]


def test_depth_rules():
    assert [depth_of("n", 5), depth_of("ceil(log2(n))", 5), depth_of("2*n", 3), depth_of(4, 9)] == [5, 3, 6, 4]
    assert depth_of("log2(n)", 1) == 1
    for bad in ("__import__('os')", "n.real", "open(n)", 2.5):
        with pytest.raises(ConfigError):
            depth_of(bad, 3)


def test_cache_resumes_and_points_are_independent(tmp_path):
    kw = dict(ansatz={"name": "hardware_efficient"}, depth="n", cost=["global", {"name": "mmd", "sigma": 2}],
              n_inits=50, cache_dir=str(tmp_path))
    first = scan(n_qubits=[2, 3], **kw)
    again = scan(n_qubits=[2, 3, 4], **kw)
    assert all(not r["cached"] for r in first.rows)
    assert [r["cached"] for r in again.rows] == [True] * 4 + [False] * 2
    assert [r["var"] for r in first.rows] == [r["var"] for r in again.rows[:4]]
    assert len(os.listdir(tmp_path)) == 6


def test_run_plateau_writes_json_and_plot(tmp_path):
    config = {"ansatz": {"name": "hardware_efficient"}, "n_qubits": {"start": 2, "stop": 4}, "n_inits": 40,
              "scans": [{"cost": "global", "depth": "n"}, {"cost": "local", "depth": 1}]}
    out = run_plateau(config, tmp_path, log=None)
    with open(tmp_path / "plateau.json") as f:
        saved = json.load(f)
    assert saved["points"] == json.loads(json.dumps(out["points"]))
    assert {(p["cost"], p["depth_rule"], p["n"]) for p in saved["points"]} == {
        (c, d, n) for c, d in (("global", "n"), ("local", "1")) for n in (2, 3, 4)}
    for p in saved["points"]:
        assert p["n_inits"] == 40 and p["var"] > 0 and p["stderr"] > 0
    assert [(f["cost"], f["depth_rule"]) for f in saved["fits"]] == [("global", "n"), ("local", "1")]
    assert all(f["ci"][0] <= f["slope"] <= f["ci"][1] for f in saved["fits"])
    assert (tmp_path / "plateau.png").stat().st_size > 0
    with pytest.raises(ConfigError):
        run_plateau({**config, "bogus": 1}, tmp_path, log=None)


def test_slot_selection_generator_seeding_and_errors():
    kw = dict(ansatz={"name": "hardware_efficient"}, n_qubits=[3], depth=2, cost="local", n_inits=30, n_boot=10)
    shift = scan(params_index=[0, -1], grad_method="shift", **kw).rows[0]
    adjoint = scan(params_index=[0, -1], grad_method="adjoint", **kw).rows[0]
    assert shift["var"] == pytest.approx(adjoint["var"], rel=1e-9) and shift["slots"] == [0, 17]
    assert scan(params_index="all", **kw).rows[0]["slots"] == "all 18"
    a = scan(generator=torch.Generator().manual_seed(7), **kw).rows[0]["var"]
    assert a == scan(generator=torch.Generator().manual_seed(7), **kw).rows[0]["var"] != scan(**kw).rows[0]["var"]
    with pytest.raises(ConfigError):
        scan(params_index=99, **kw)
    with pytest.raises(ConfigError):
        scan(cost={"name": "mmd", "bandwidth": 1}, **{k: v for k, v in kw.items() if k != "cost"})
    with pytest.raises(ConfigError):
        scan(shots=10, grad_method="adjoint", **kw)


@pytest.mark.slow
def test_two_design_slopes_of_global_costs():
    r = scan({"name": "hardware_efficient"}, [2, 4, 6, 8, 10], "n", ["parity", "global"], n_inits=500)
    slopes = {f["cost"]: f for f in r.fits}
    assert -1.2 < slopes["parity"]["slope"] < -0.8  # Tr O² = 2^n: Var ~ 2^-n
    assert -2.4 < slopes["global"]["slope"] < -1.6  # rank-1 projector: Var ~ 4^-n
