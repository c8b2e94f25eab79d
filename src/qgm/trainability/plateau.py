"""``run_plateau(config, out_dir)``: the library entry of ``qgm plateau CONFIG --out DIR``.

Config (YAML file or dict)::

    name: plateau_global_vs_local
    ansatz: {name: hardware_efficient, rotations: [ry, rz], entangler: ring}
    n_qubits: [2, 4, 6]            # or {start: 2, stop: 16, step: 2} (stop included)
    n_inits: 500
    params_index: 0                # int, list of ints, or "all"
    shots: null
    seed: 0
    grad_method: auto
    scans:                         # one entry per (cost(s), depth rule); keys override the top level
      - {cost: global, depth: n}
      - {cost: local, depth: "ceil(log2(n))"}

Writes ``DIR/plateau.json`` = ``{"config", "points": [{cost, depth_rule, n,
depth, var, stderr, n_inits, ...}], "fits": [{cost, depth_rule, slope, ci,
ci_level, ...}]}`` (slope of ``log2 Var`` per qubit), ``DIR/plateau.png`` and
``DIR/cache/`` (per-point results; rerunning resumes), prints the table, and
returns the JSON dict.

Before any point is computed every scan entry is checked: unknown keys, the
depth rules at every ``n`` (:mod:`qgm.trainability.rules`), the ansatz size
(:data:`~qgm.limits.MAX_ANSATZ_CELLS`), the state vectors of the largest ``n``
and the angle draws against the memory budget (:mod:`qgm.limits`). ``DIR`` is
locked while the scan runs (:class:`qgm.lock.RunLock`).
"""
from __future__ import annotations

import json
import os
from typing import Any, Callable, Optional, Union

from qgm.atomic import atomic_json
from qgm.errors import ConfigError, brief
from qgm.limits import check_ansatz_size, check_bytes, check_state
from qgm.lock import RunLock
from qgm.registry import did_you_mean
from qgm.trainability.scan import Progress, ScanResult, build_scan_ansatz, depth_of, scan
from qgm.yaml_io import read_yaml

__all__ = ["run_plateau", "load_plateau_config", "check_plateau_entry", "SCAN_KEYS"]

#: Keys of a scan entry (and of the top level, as defaults).
SCAN_KEYS = (
    "ansatz", "n_qubits", "depth", "cost", "n_inits", "params_index", "shots", "seed", "grad_method", "n_boot",
    "init", "init_options",
)
_TOP_ONLY = ("name", "scans", "plot")


def load_plateau_config(config: Union[str, os.PathLike, dict]) -> dict:
    """The config dict from a YAML path or a dict (validated keys)."""
    if isinstance(config, (str, os.PathLike)):
        config = read_yaml(config, "CONFIG")
    if not isinstance(config, dict):
        raise ConfigError(f"plateau config: expected a mapping, got {type(config).__name__}")
    allowed = SCAN_KEYS + _TOP_ONLY
    unknown = sorted((k for k in config if k not in allowed), key=str)
    if unknown:
        raise ConfigError(f"plateau config: unknown key(s) {brief(unknown)}{did_you_mean(unknown[0], allowed)}; "
                          f"allowed: {sorted(allowed)}")
    if not isinstance(config.get("scans", [{}]), list):
        raise ConfigError("plateau config: 'scans' must be a list of scan entries")
    return config


def _is_count(v: Any, minimum: int = 1) -> bool:
    return isinstance(v, int) and not isinstance(v, bool) and v >= minimum


def _n_qubits(value: Any) -> list[int]:
    """The qubit counts of a list or a ``{start, stop, step}`` range (stop included), sizes checked first."""
    if isinstance(value, dict):
        missing = [k for k in ("start", "stop") if k not in value]
        if missing:
            raise ConfigError(f"n_qubits: range needs 'start' and 'stop', missing {missing[0]!r}")
        start, stop, step = value["start"], value["stop"], value.get("step", 1)
        if not (_is_count(start) and _is_count(stop) and _is_count(step)) or set(value) - {"start", "stop", "step"}:
            raise ConfigError(f"n_qubits: expected {{start, stop, step}} with positive integers, got {brief(value)}")
        check_state(stop, "n_qubits")
        return list(range(start, stop + 1, step))
    if isinstance(value, list) and value and all(_is_count(v) for v in value):
        check_state(max(value), "n_qubits")
        return value
    raise ConfigError(f"n_qubits: expected a list of positive ints or {{start, stop, step}}, got {brief(value)}")


def check_plateau_entry(options: dict) -> None:
    """Refuse a merged scan entry whose depths, circuits or angle draws do not fit (module docstring)."""
    rules = options["depth"] if isinstance(options["depth"], list) else [options["depth"]]
    n_inits = options.get("n_inits", 500)
    if not _is_count(n_inits, 2):
        raise ConfigError(f"n_inits: expected an integer >= 2, got {brief(n_inits)}")
    for rule in rules:
        for n in options["n_qubits"]:
            check_ansatz_size(depth_of(rule, n), n, f"depth {brief(rule, 30)} at n={n}")
        n = max(options["n_qubits"])
        if callable(options["ansatz"]):
            continue
        circuit = build_scan_ansatz(options["ansatz"], n, depth_of(rule, n))
        check_bytes(4 * 8 * n_inits * circuit.n_params, "n_inits",
                    f"{n_inits} angle draws of {circuit.n_params} parameters (n={n})", "use fewer n_inits")


def _entry_options(config: dict, entry: dict) -> dict:
    if not isinstance(entry, dict):
        raise ConfigError(f"plateau scans entry: expected a mapping, got {brief(entry)}")
    unknown = sorted((k for k in entry if k not in SCAN_KEYS), key=str)
    if unknown:
        raise ConfigError(f"plateau scans entry: unknown key(s) {brief(unknown)}{did_you_mean(unknown[0], SCAN_KEYS)}; "
                          f"allowed: {list(SCAN_KEYS)}")
    merged = {k: config[k] for k in SCAN_KEYS if k in config}
    merged.update(entry)
    for key in ("ansatz", "n_qubits", "depth", "cost"):
        if key not in merged:
            raise ConfigError(f"plateau config: '{key}' missing (top level or scans entry)")
    merged["n_qubits"] = _n_qubits(merged["n_qubits"])
    check_plateau_entry(merged)
    return merged


def run_plateau(
    config: Union[str, os.PathLike, dict], out_dir: Union[str, os.PathLike],
    log: Optional[Callable[[str], None]] = print, progress: Optional[Progress] = None,
) -> dict:
    """Run every scan of ``config``, write ``plateau.json`` and ``plateau.png`` into ``out_dir``,
    print the table (through ``log``), and return the JSON dict (module docstring).

    ``progress`` (e.g. ``tqdm``) makes a bar per computed point: ``progress(desc=..., total=n_inits)``.
    """
    config = load_plateau_config(config)
    entries = [_entry_options(config, entry) for entry in config.get("scans") or [{}]]
    out = os.fspath(out_dir)
    merged = ScanResult()
    with RunLock(out, "--out"):
        for options in entries:
            part = scan(cache_dir=os.path.join(out, "cache"), log=log, progress=progress, **options)
            merged.rows += part.rows
            merged.fits += [f for f in part.fits if (f["cost"], f["depth_rule"]) not in
                            {(g["cost"], g["depth_rule"]) for g in merged.fits}]
        result = {"config": config, **merged.to_dict()}
        atomic_json(os.path.join(out, "plateau.json"), json.loads(json.dumps(result, default=str)))
        if config.get("plot", True) and merged.fits:
            import matplotlib.pyplot as plt

            plt.close(merged.plot(os.path.join(out, "plateau.png")))
    if log is not None:
        log(merged.table())
    return result
