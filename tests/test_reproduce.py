"""The reproduction protocol: median pass rule, seed counts, stored JSON and the CLI."""
import json

import pytest

from qgm.cli import main
from qgm.errors import ConfigError
from qgm.reproduce import CLAIMS, Claim, run_claim


def _claim(values, **kw):
    fields = dict(name="toy", title="toy claim", paper="nobody 2026", metric="err", paper_value=0.1, threshold=0.2,
                  direction="below", setting="none", convention="plain", measure=lambda seed, quick: {"err": values[seed]})
    return Claim(**{**fields, **kw})


def test_median_decides_and_seeds_passing_are_counted(tmp_path):
    result = run_claim(_claim([0.1, 0.5, 0.15, 0.3, 0.19], name="toy_pass"), tmp_path)
    assert result.median == pytest.approx(0.19) and result.passed and result.n_pass == 3
    assert (result.min, result.max) == (0.1, 0.5)
    stored = json.loads((tmp_path / "toy_pass.json").read_text())
    assert stored["values"]["1"] == {"err": 0.5} and stored["versions"]["torch"]
    failing = run_claim(_claim([0.3, 0.5, 0.15, 0.3, 0.19], name="toy_fail"), tmp_path, quick=True,
                        seeds=[0, 1, 2])
    assert not failing.passed and failing.n_pass == 1 and (tmp_path / "toy_fail.quick.json").is_file()


def test_claims_sharing_a_measurement_measure_once_per_seed_and_failures_stay_local(tmp_path):
    from qgm.reproduce import run_claims
    from qgm.reproduce.table import verdict_agreement

    calls = []

    def shared(seed, quick):
        calls.append(seed)
        return {"a": 0.1 * seed, "b": 1.0}

    def broken(seed, quick):
        raise ValueError("no data")

    first = _claim([], name="toy_shared_a", metric="a", measure=shared)
    second = _claim([], name="toy_shared_b", metric="b", measure=shared, threshold=0.5, direction="above")
    bad = _claim([], name="toy_broken", measure=broken)
    results, failures = run_claims([first, second, bad], tmp_path, quick=True, seeds=[0, 1, 2])
    assert sorted(calls) == [0, 1, 2]  # one measurement per seed for both claims
    assert [r.name for r in results] == ["toy_shared_a", "toy_shared_b"] and all(r.passed for r in results)
    assert list(failures) == ["toy_broken"] and "seeds 0, 1, 2: ValueError: no data" in failures["toy_broken"]
    assert not (tmp_path / "toy_broken.quick.json").exists()
    run_claims([first], tmp_path, seeds=[3, 4, 5])  # full run: median 0.4 > 0.2, the quick verdict (pass) differs
    assert verdict_agreement(tmp_path) == ([], ["toy_shared_a"])


def test_fewer_than_five_seeds_need_a_reason():
    with pytest.raises(ConfigError, match="why_fewer"):
        _claim([0.1], seeds=(0, 1))
    assert _claim([0.1, 0.1], seeds=(0, 1), why_fewer="each seed takes an hour").seeds == (0, 1)
    with pytest.raises(ConfigError, match="direction"):
        _claim([0.1], direction="sideways")


def test_cli_runs_a_registered_claim(tmp_path, capsys):
    if "toy_cli" not in CLAIMS:
        CLAIMS.register("toy_cli")(Claim(
            name="toy_cli", title="t", paper="p", metric="v", paper_value=None, threshold=0.5, direction="above",
            setting="s", convention="c", measure=lambda seed, quick: {"v": 1.0 if quick else 0.0}))
    assert main(["reproduce", "toy_cli", "--quick", "--out", str(tmp_path)]) == 0
    first, agreement = capsys.readouterr().out.strip().splitlines()
    assert json.loads(first)["passed"] is True and agreement.startswith("quick verdicts agree")
    assert main(["reproduce", "--out", str(tmp_path)]) == 2


def test_every_registered_claim_is_complete():
    import qgm.reproduce  # noqa: F401  (registers the claims)

    names = CLAIMS.names()
    assert {"liu_wang_bas_exact", "zoufal_lognormal", "patch_qgan_digits", "plateau_global_parity"} <= set(names)
    for name in names:
        claim = CLAIMS.get(name)
        assert claim.name == name and claim.paper and claim.convention and claim.setting
        assert len(claim.seeds) >= 5 or claim.why_fewer


def test_a_cheap_claim_measures_through_the_trainer(tmp_path, monkeypatch):
    import qgm.reproduce.liu_wang as lw

    original = lw.double_gaussian_config
    monkeypatch.setattr(lw, "double_gaussian_config",
                        lambda steps: {**original(30), "dataset": {"name": "double_gaussian", "bits": 6}})
    monkeypatch.chdir(tmp_path)
    values = lw.measure_double_gaussian(0, quick=True)
    assert values["uniform_mmd_paper"] > 0 and values["kl"] >= 0 and values["mmd_paper"] < values["uniform_mmd_paper"]
    assert (tmp_path / "reproductions" / "runs" / "liu_wang_double_gaussian" / "seed0-quick" / "model.pt").is_file()


def test_reproductions_md_is_generated_from_the_stored_results():
    from pathlib import Path

    from qgm.reproduce.table import render_markdown

    root = Path(__file__).resolve().parents[1]
    assert (root / "REPRODUCTIONS.md").read_text() == render_markdown(root / "reproductions" / "results")
