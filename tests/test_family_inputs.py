"""Bad inputs of the newer families (state datasets, QuDDPM, molecules, art, sweep, reproduce) end in one-line
errors naming the field, refused before anything large is allocated or run."""
from __future__ import annotations

import pytest
import torch

import qgm.data  # noqa: F401  (registers the datasets)
import qgm.models  # noqa: F401  (registers the models)
from qgm.atomic import make_folder
from qgm.cli import _out_of_memory, main
from qgm.errors import ConfigError, DataError, ResourceError
from qgm.registry import DATASETS

MEMORY = {"QGM_MEMORY_LIMIT": "1GiB"}


@pytest.fixture(autouse=True)
def small_budget(monkeypatch):
    """A fixed 1 GiB budget, so the refusals do not depend on this machine's memory."""
    for key, value in MEMORY.items():
        monkeypatch.setenv(key, value)


def one_line_error(argv: list[str], capsys) -> str:
    """The stderr line of ``qgm ARGV``, which must exit 2 with exactly one line."""
    code = main(argv)
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1 and "Traceback" not in err, (code, err)
    return err


@pytest.mark.parametrize("name", ["ghz", "haar_states", "clustered_states"])
def test_state_datasets_refuse_qubits_beyond_memory(name):
    with pytest.raises(ResourceError, match=r"^n_qubits: 60 qubits need .* at most \d+ qubits fit"):
        DATASETS.create(name, n_qubits=60)


@pytest.mark.parametrize(("options", "field"), [({"layers": 10**9}, "layers: 1000000000 layers"),
                                                ({"n_ancilla": 40}, "n_qubits [+] n_ancilla: 42 qubits"),
                                                ({"n_inputs": 10**12}, "n_qubits [+] n_ancilla: 3 qubits"),
                                                ({"steps": 10**12}, "steps: 1000000000000 backward steps")])
def test_quddpm_sizes_are_refused_before_building(options, field):
    from qgm.models.qddpm import QuDDPM

    with pytest.raises(ResourceError, match=f"^{field}"):
        QuDDPM(2, **{"n_ancilla": 1, "steps": 2, "layers": 2, "n_inputs": 4, **options})


def test_molecule_inputs_are_checked_before_encoding(tmp_path):
    from qgm.data.qm9 import QM9, read_smiles_file
    from qgm.models.molgan import MolGAN

    binary = tmp_path / "x.smi"
    binary.write_bytes(bytes(range(256)))
    with pytest.raises(DataError, match="^source: .* is not UTF-8 text [(]offset 128[)]"):
        read_smiles_file(binary)
    with pytest.raises(ResourceError, match=r"^n_molecules, max_atoms: 10 samples of Graphs\(1000000, 5, 5\)"):
        QM9(10, max_atoms=10**6, source=binary)
    with pytest.raises(ResourceError, match="^hidden, latent_dim: a generator of 458,000,000,000 weights"):
        MolGAN(hidden=[10**9], seed=0)


def test_molecules_cli_checks_seed_and_output_before_loading_the_run(tmp_path, capsys):
    run = str(tmp_path / "no_run")
    assert "--seed: expected an integer seed" in one_line_error(
        ["molecules", run, "--n", "3", "--seed", "-1", "--out", str(tmp_path / "m.smi")], capsys)
    assert "--out: " in one_line_error(["molecules", run, "--n", "3", "--out", str(tmp_path)], capsys)
    assert "--out: cannot write /proc/x/m.smi" in one_line_error(
        ["molecules", run, "--n", "3", "--out", "/proc/x/m.smi"], capsys)


@pytest.mark.parametrize(("extra", "message"), [
    (["--size", "100000"], "--size/--frames: 1 frame(s) x 1 trajectory(ies) of a 100000x100000 image"),
    (["--size", "8", "--frames", "1000000000"], "--size/--frames: 1000000000 frame(s)"),
    (["--size", "8", "--scale", "1000000"], "--scale: 1 PNG frame(s) of 8000000x8000000 pixels"),
    (["--size", "8", "--out", "/proc/x/a.png"], "--out: cannot write /proc/x/a.png"),
])
def test_art_sizes_and_outputs_are_refused_before_any_state(extra, message, tmp_path, capsys):
    argv = ["art", "blur", "builtin:china", "--theta", "1", "--out", str(tmp_path / "a.png"), *extra]
    assert message in one_line_error(argv, capsys)


def test_art_trajectories_are_counted_in_the_budget(tmp_path, capsys):
    argv = ["art", "decohere", "builtin:china", "--size", "8", "--gamma", "0.5", "--wires", "y0",
            "--trajectories", "1000000000", "--out", str(tmp_path / "a.png")]
    assert "1000000000 trajectory(ies)" in one_line_error(argv, capsys)


def test_sweep_refuses_bad_configs_grids_claims_and_folders(tmp_path, capsys):
    latin1 = tmp_path / "latin1.yaml"
    latin1.write_bytes("name: caf\xe9\n".encode("latin-1"))
    out = ["--out", str(tmp_path / "sweep")]
    assert "is not UTF-8 text" in one_line_error(["sweep", str(latin1), *out], capsys)
    config = tmp_path / "c.yaml"
    config.write_text("name: c\n")
    grid = [a for i in range(6) for a in ("--grid", f"k{i}=" + ",".join(map(str, range(100))))]
    assert "1000000000000 trials exceed the limit" in one_line_error(["sweep", str(config), *grid, *out], capsys)
    assert "unknown claim 'nosuch'" in one_line_error(["sweep", "--claim", "nosuch", *out], capsys)
    assert f"--out: {config} is a file, not a folder" in one_line_error(["sweep", str(config), "--out", str(config)],
                                                                      capsys)
    assert "CONFIG: file " in one_line_error(["sweep", "x" * 5000 + ".yaml", *out], capsys)


def test_reproduce_refuses_unknown_claims_and_unwritable_tables_before_running(tmp_path, capsys):
    assert "--write-table: cannot write /proc/x/t.md" in one_line_error(
        ["reproduce", "--write-table", "/proc/x/t.md", "--out", str(tmp_path)], capsys)
    err = one_line_error(["reproduce", "liu_wang_bas_exact", "nosuch", "--quick", "--out", str(tmp_path)], capsys)
    assert "unknown claim 'nosuch'" in err and not any(tmp_path.iterdir())


def test_make_folder_names_the_field():
    with pytest.raises(ConfigError, match="^--out: /proc/x/y: cannot create|^--out: cannot create the folder /proc/x"):
        make_folder("/proc/x/y", "--out")


def test_failed_allocations_are_recognised_as_out_of_memory():
    assert _out_of_memory(MemoryError())
    try:
        torch.empty(2**62, dtype=torch.uint8)
    except RuntimeError as exc:
        assert _out_of_memory(exc)
    assert not _out_of_memory(RuntimeError("element 0 of tensors does not require grad"))


def test_qbm_sizes_are_refused_without_overflow():
    from qgm.models.qbm import QBM

    with pytest.raises(ResourceError, match=r"^n_visible [+] n_hidden: 1000010 qubits need a dense 2\*\*1000010 x "):
        QBM(10, n_hidden=10**6)
    with pytest.raises(ResourceError, match=r"^n_modes: the \(2\*\*10, 1000000000000, 10\) mode distances need"):
        DATASETS.create("bernoulli_mixture", n_bits=10, n_modes=10**12)
