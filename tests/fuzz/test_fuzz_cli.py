"""Fuzzing the command line: the corpus of CLI cases (tests/corpus/cli/cases.yaml) and of plateau configs
(tests/corpus/plateau), hypothesis argument vectors, and two real processes (a closed pipe, a bad
config). Every run must exit 0, or 2 with one line on stderr, within the budget of :mod:`budget`."""
from __future__ import annotations

import contextlib
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from budget import bounded, examples, warm_up
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import qgm
from qgm.circuits import Circuit
from qgm.cli import main
from qgm.train import run_config

CORPUS = Path(__file__).parents[1] / "corpus"
CONFIG = {
    "name": "fuzz_run", "dataset": {"name": "bas", "rows": 2, "cols": 2},
    "model": {"name": "qcbm", "ansatz": {"name": "liu_wang", "depth": 1}}, "loss": {"name": "mmd"},
    "optimizer": {"name": "adam", "lr": 0.1},
    "train": {"steps": 3, "n_eval_samples": 50, "plots": False, "progress": False, "checkpoint_every": 1},
    "metrics": ["kl", "valid_fraction"],
}


@pytest.fixture(scope="module")
def places(tmp_path_factory):
    """The placeholders of the CLI corpus."""
    warm_up()
    root = tmp_path_factory.mktemp("cli")
    (root / "config.yaml").write_text(yaml.safe_dump(CONFIG))
    run_config(CONFIG, root / "run")
    (root / "c.qasm").write_text(Circuit(2).ry(0).cx(0, 1).ry(1).to_qasm())
    (root / "file.txt").write_text("not a run\n")
    return {"run": str(root / "run"), "qasm": str(root / "c.qasm"), "config": str(root / "config.yaml"),
            "file": str(root / "file.txt")}


def run_cli(argv: list[str], capsys, cwd: Path) -> tuple[int, str, str]:
    """``main(argv)`` in folder ``cwd`` under the budget: (exit code, stdout, stderr); argparse's own exits
    count as codes."""
    with contextlib.chdir(cwd), bounded():
        try:
            code = main(argv)
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else 2
    out, err = capsys.readouterr()
    return code, out, err


def check_answer(code: int, err: str) -> None:
    """Exit 0, or 2 with one error line (argparse usage errors end in their own one-line error)."""
    assert code in (0, 2), (code, err)
    assert "Traceback" not in err
    if code == 2:
        lines = [line for line in err.splitlines() if "error:" in line]
        assert len(lines) == 1 and len(lines[0]) < 1200, err


CASES = yaml.safe_load((CORPUS / "cli" / "cases.yaml").read_text())


@pytest.mark.parametrize("case", CASES, ids=[" ".join(c["args"])[:60] for c in CASES])
def test_cli_corpus(case, places, tmp_path, capsys):
    argv = [a.format(tmp=tmp_path, **places) for a in case["args"]]
    code, out, err = run_cli(argv, capsys, tmp_path)
    check_answer(code, err)
    assert code == case["code"], err
    if "out" in case:
        assert case["out"] in out
    if "err" in case:
        assert case["err"] in err and err.count("\n") == 1, err


PLATEAU = sorted((CORPUS / "plateau").glob("*.yaml"))


@pytest.mark.parametrize("path", PLATEAU, ids=lambda p: p.stem)
def test_plateau_corpus(path, tmp_path, capsys):
    want = path.read_text().split("\n", 1)[0].removeprefix("# expect: ")
    code, out, err = run_cli(["plateau", str(path), "--out", str(tmp_path / "p"), "--no-progress"], capsys, tmp_path)
    check_answer(code, err)
    if want == "ok":
        assert code == 0 and (tmp_path / "p" / "plateau.json").is_file()
    else:
        assert code == 2 and want in err, err
        assert not (tmp_path / "p").exists()  # refused before the output folder was made


#: Argument tokens (no --debug: it shows tracebacks by design).
TOKENS = st.sampled_from([
    "--n", "--out", "--seed", "--metrics", "--n-samples", "--bins", "--n-pairs", "--json", "--threads",
    "--plot", "--no-progress", "0", "1", "-1", "3", "10000000000", "99999999999999999999", "1e3", "nan", "kl",
    "kl,tv", ",,", "x" * 300, "{run}", "{qasm}", "{tmp}/o.npy", "{tmp}", "/proc/x/y", "", "models", "gates",
])


@settings(max_examples=examples(40), deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(command=st.sampled_from(["sample", "eval", "list", "geometry", "scenarios"]),
       rest=st.lists(TOKENS, max_size=7))
def test_random_argument_vectors(command, rest, places, tmp_path, capsys):
    argv = [command] + [t.format(tmp=tmp_path, **places) for t in rest]
    if command == "geometry" and "--n-pairs" not in argv:
        argv += ["--n-pairs", "20", "--bins", "5"]  # keep the default 5000 pairs out of the fuzz's time
    code, out, err = run_cli(argv, capsys, tmp_path)
    check_answer(code, err)


def _process(args: list[str], **kw) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(Path(qgm.__file__).parents[1])}
    return subprocess.run([sys.executable, "-m", "qgm.cli", *args], capture_output=True, text=True, env=env,
                          timeout=300, **kw)


@pytest.mark.slow
def test_closed_pipe_and_bad_config_in_real_processes(tmp_path):
    script = (f"{sys.executable} -m qgm.cli list --json | head -c 1 > /dev/null; "
              f"echo ${{PIPESTATUS[0]}} >&2")
    env = {**os.environ, "PYTHONPATH": str(Path(qgm.__file__).parents[1])}
    proc = subprocess.run(["bash", "-c", script], capture_output=True, text=True, env=env, timeout=300)
    assert proc.stderr.strip() in ("0", "141"), proc.stderr  # 141: the reader left first; no traceback either way
    bomb = CORPUS / "config" / "alias_bomb.yaml"
    proc = _process(["train", str(bomb), "--out", str(tmp_path / "r")])
    assert proc.returncode == 2 and proc.stderr.count("\n") == 1 and "MAX_YAML_NODES" in proc.stderr, proc.stderr
