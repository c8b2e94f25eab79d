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
    result = run_claim(_claim([0.1, 0.5, 0.15, 0.3, 0.19]), tmp_path)
    assert result.median == pytest.approx(0.19) and result.passed and result.n_pass == 3
    assert (result.min, result.max) == (0.1, 0.5)
    stored = json.loads((tmp_path / "toy.json").read_text())
    assert stored["values"]["1"] == {"err": 0.5} and stored["versions"]["torch"]
    failing = run_claim(_claim([0.3, 0.5, 0.15, 0.3, 0.19]), tmp_path, quick=True, seeds=[0, 1, 2])
    assert not failing.passed and failing.n_pass == 1 and (tmp_path / "toy.quick.json").is_file()


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
    assert json.loads(capsys.readouterr().out.strip())["passed"] is True
    assert main(["reproduce", "--out", str(tmp_path)]) == 2
