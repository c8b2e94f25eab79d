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
"""
from __future__ import annotations

import json
import os
from typing import Any, Callable, Optional, Union

from qgm.atomic import atomic_json
from qgm.errors import ConfigError
from qgm.trainability.scan import ScanResult, scan

__all__ = ["run_plateau", "load_plateau_config", "SCAN_KEYS"]

#: Keys of a scan entry (and of the top level, as defaults).
SCAN_KEYS = (
    "ansatz", "n_qubits", "depth", "cost", "n_inits", "params_index", "shots", "seed", "grad_method", "n_boot",
    "init", "init_options",
)
_TOP_ONLY = ("name", "scans", "plot")


def load_plateau_config(config: Union[str, os.PathLike, dict]) -> dict:
    """The config dict from a YAML path or a dict (validated keys)."""
    if isinstance(config, (str, os.PathLike)):
        import yaml

        with open(config) as f:
            config = yaml.safe_load(f)
    if not isinstance(config, dict):
        raise ConfigError(f"plateau config: expected a mapping, got {type(config).__name__}")
    unknown = sorted(set(config) - set(SCAN_KEYS) - set(_TOP_ONLY))
    if unknown:
        raise ConfigError(f"plateau config: unknown key(s) {unknown}; allowed: {sorted(SCAN_KEYS + _TOP_ONLY)}")
    if not isinstance(config.get("scans", [{}]), list):
        raise ConfigError("plateau config: 'scans' must be a list of scan entries")
    return config


def _n_qubits(value: Any) -> list[int]:
    if isinstance(value, dict):
        try:
            return list(range(int(value["start"]), int(value["stop"]) + 1, int(value.get("step", 1))))
        except KeyError as err:
            raise ConfigError(f"n_qubits: range needs 'start' and 'stop', missing {err}") from None
    if isinstance(value, list) and value and all(isinstance(v, int) and v >= 1 for v in value):
        return value
    raise ConfigError(f"n_qubits: expected a list of positive ints or {{start, stop, step}}, got {value!r}")


def _entry_options(config: dict, entry: dict) -> dict:
    unknown = sorted(set(entry) - set(SCAN_KEYS))
    if unknown:
        raise ConfigError(f"plateau scans entry: unknown key(s) {unknown}; allowed: {list(SCAN_KEYS)}")
    merged = {k: config[k] for k in SCAN_KEYS if k in config}
    merged.update(entry)
    for key in ("ansatz", "n_qubits", "depth", "cost"):
        if key not in merged:
            raise ConfigError(f"plateau config: '{key}' missing (top level or scans entry)")
    merged["n_qubits"] = _n_qubits(merged["n_qubits"])
    return merged


def run_plateau(
    config: Union[str, os.PathLike, dict], out_dir: Union[str, os.PathLike],
    log: Optional[Callable[[str], None]] = print,
) -> dict:
    """Run every scan of ``config``, write ``plateau.json`` and ``plateau.png`` into ``out_dir``,
    print the table (through ``log``), and return the JSON dict (module docstring)."""
    config = load_plateau_config(config)
    out = os.fspath(out_dir)
    os.makedirs(out, exist_ok=True)
    merged = ScanResult()
    for entry in config.get("scans") or [{}]:
        options = _entry_options(config, entry)
        part = scan(cache_dir=os.path.join(out, "cache"), log=log, **options)
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
