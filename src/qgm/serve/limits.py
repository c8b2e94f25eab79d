"""Per-request limits of the MCP server, and the checks that apply them before anything is built.

Every check here reads plain data (a parsed config, a count) and allocates
nothing that grows with the request: a config that declares 40 qubits is
refused from its numbers, before a dataset or a circuit exists. What a
config's numbers cannot tell (a Gaussian's dimension times its bits, a
model's own register) is checked again inside the job's process, on the
built dataset and model, under the job's memory limit
(:class:`qgm.serve.worker.WidthGuard`).

Refusals are :class:`~qgm.errors.ResourceError` (a limit) or
:class:`~qgm.errors.ConfigError` (a request the server never serves, such as
a file path); the message starts with the limit's name (``limits.max_qubits:``)
or the config key, and says what to do.
"""
from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass
from typing import Any, Iterable, Iterator, Mapping

from qgm.errors import ConfigError, ResourceError
from qgm.train.config import RunConfig

__all__ = [
    "Limits", "default_running_jobs", "check_count", "declared_width", "check_width", "check_no_paths", "path_like",
    "check_train_config", "check_plateau_config", "WIDTH_KEYS",
]

#: Option names whose integer value is a register width (bits or qubits) in datasets and models.
WIDTH_KEYS = ("n", "n_bits", "n_qubits", "bits", "n_ancilla")
#: Option names (or suffixes after ``_``) that name files, folders or remote places.
_PATH_WORDS = ("path", "dir", "file", "folder", "url", "uri")
#: Option names that name a file when their value is text (``qm9``'s ``source: data.smi``; a mapping is a
#: dataset section).
_TEXT_PATH_WORDS = ("source",)


def default_running_jobs() -> int:
    """One running job per two cores (at least one)."""
    return max(1, (os.cpu_count() or 1) // 2)


@dataclass(frozen=True)
class Limits:
    """What one request (and one client) may ask of the server.

    Attributes:
        max_running_jobs: jobs running at once (each in its own process); the rest wait in the queue.
        max_active_jobs: queued plus running jobs of all clients together.
        max_jobs_per_client: queued plus running jobs of one client.
        max_qubits: widest register (qubits, or bits of a bit dataset) a job may build.
        max_steps: training steps of one job.
        max_samples: samples of one ``sample``/``evaluate`` call, ``train.n_eval_samples``,
            ``train.batch_size`` and a plateau scan's ``n_inits``/``shots``.
        max_wall_s: wall time of one job in seconds (a request may ask for less).
        max_call_s: wall time of one ``sample``/``evaluate`` call in seconds.
        max_memory_mb: memory of one job or call process beyond the loaded library, in MiB.
        max_config_chars: characters of a config's text.
    """

    max_running_jobs: int = dataclasses.field(default_factory=default_running_jobs)
    max_active_jobs: int = 128
    max_jobs_per_client: int = 32
    max_qubits: int = 16
    max_steps: int = 5000
    max_samples: int = 20000
    max_wall_s: float = 1800.0
    max_call_s: float = 120.0
    max_memory_mb: int = 4096
    max_config_chars: int = 65536

    def __post_init__(self) -> None:
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
                raise ConfigError(f"limits.{f.name}: expected a positive number, got {value!r}")

    @classmethod
    def from_pairs(cls, pairs: Iterable[str], base: "Limits | None" = None) -> "Limits":
        """``base`` (default: the defaults) with ``name=value`` pairs applied, e.g. ``["max_qubits=12"]``."""
        base = base if base is not None else cls()
        types = {f.name: f.type for f in dataclasses.fields(cls)}
        changes: dict[str, Any] = {}
        for pair in pairs:
            name, sep, text = pair.partition("=")
            name = name.strip()
            if not sep or name not in types:
                raise ConfigError(f"--limit {pair!r}: expected NAME=VALUE with NAME one of {', '.join(types)}")
            try:
                changes[name] = int(text) if types[name] in (int, "int") else float(text)
            except ValueError:
                raise ConfigError(f"--limit {name}: expected a number, got {text!r}") from None
        return dataclasses.replace(base, **changes)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def check_count(field: str, value: Any, limit: int, *, name: str = "max_samples") -> int:
    """``value`` as a positive int no larger than ``limit`` (the limit ``limits.<name>``)."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ConfigError(f"{field}: expected a positive integer, got {value!r}")
    if value > limit:
        raise ResourceError(f"limits.{name}: {field}={value} is more than this server's {limit}; ask for fewer")
    return value


# ---------------------------------------------------------------------------- config contents
def _walk(data: Any, path: str) -> Iterator[tuple[str, str, Any]]:
    """``(path, key, value)`` of every mapping entry in ``data``, depth first (lists included)."""
    if isinstance(data, Mapping):
        for key, value in data.items():
            here = f"{path}.{key}"
            yield here, str(key), value
            yield from _walk(value, here)
    elif isinstance(data, (list, tuple)):
        for i, value in enumerate(data):
            yield from _walk(value, f"{path}[{i}]")


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def declared_width(section: Mapping[str, Any], path: str) -> tuple[int, str]:
    """The widest register a config section declares by its numbers, and the key that declares it.

    Widths are the integers under :data:`WIDTH_KEYS` and ``rows * cols`` of a grid, at any depth
    (``{name: bas, rows: 6, cols: 7}`` declares 42). ``(0, "")`` when the section declares none.
    """
    best = (0, "")
    for here, key, value in _walk(section, path):
        if key in WIDTH_KEYS and _is_int(value) and value > best[0]:
            best = (value, here)
        if isinstance(value, Mapping) and _is_int(value.get("rows")) and _is_int(value.get("cols")):
            best = max(best, (value["rows"] * value["cols"], f"{here}.rows*cols"))
    if _is_int(section.get("rows")) and _is_int(section.get("cols")):
        best = max(best, (section["rows"] * section["cols"], f"{path}.rows*cols"))
    return best


def check_width(width: int, where: str, max_qubits: int) -> None:
    """Refuse a register of ``width`` qubits (or bits) wider than ``max_qubits`` (``limits.max_qubits``)."""
    if width > max_qubits:
        raise ResourceError(
            f"limits.max_qubits: {where} = {width} qubits is more than this server's {max_qubits}; "
            "use a smaller register"
        )


def path_like(key: str) -> bool:
    """Does option ``key`` name a file, folder or remote place (``path``, ``test_path``, ``out_dir``, ``url``)?"""
    return any(key == w or key.endswith("_" + w) for w in _PATH_WORDS)


def check_no_paths(section: Any, path: str) -> None:
    """Refuse options that name files or places (``path``, ``*_dir``, ``url``, ...): clients never choose paths."""
    for here, key, value in _walk(section, path):
        if path_like(key.lower()) or (key.lower() in _TEXT_PATH_WORDS and isinstance(value, str)):
            raise ConfigError(
                f"{here}: this server does not read or write places named by a client; "
                "use a registered dataset and let the server choose the run directory"
            )


def check_train_config(cfg: RunConfig, limits: Limits) -> None:
    """Refuse a training config (validated by the CLI's schema) beyond ``limits``."""
    t = cfg.train
    check_count("train.steps", t.steps, limits.max_steps, name="max_steps")
    check_count("train.n_eval_samples", t.n_eval_samples, limits.max_samples)
    if t.batch_size is not None:
        check_count("train.batch_size", t.batch_size, limits.max_samples)
    if list(t.loggers) != ["jsonl"]:
        raise ConfigError(f"train.loggers: {t.loggers!r}; this server writes metrics.jsonl only, set train.loggers: [jsonl]")
    raw = cfg.to_dict()
    for key, section in raw.items():
        check_no_paths(section, key)
    for key in ("dataset", "model", "loss"):
        if isinstance(raw.get(key), Mapping):
            width, where = declared_width(raw[key], key)
            check_width(width, where, limits.max_qubits)


def _plateau_widths(entry: Mapping[str, Any]) -> list[int]:
    value = entry.get("n_qubits")
    if isinstance(value, Mapping):
        return [v for v in (value.get("start"), value.get("stop")) if _is_int(v)]
    if isinstance(value, list):
        return [v for v in value if _is_int(v)]
    return []


def check_plateau_config(raw: Mapping[str, Any], limits: Limits) -> None:
    """Refuse a plateau-scan config (:func:`qgm.trainability.run_plateau`) beyond ``limits``."""
    check_no_paths(raw, "plateau")
    entries = [raw, *[e for e in raw.get("scans") or [] if isinstance(e, Mapping)]]
    for i, entry in enumerate(entries):
        where = "n_qubits" if i == 0 else f"scans[{i - 1}].n_qubits"
        for width in _plateau_widths(entry):
            check_width(width, where, limits.max_qubits)
        for key in ("n_inits", "shots"):
            if entry.get(key) is not None:
                check_count(key if i == 0 else f"scans[{i - 1}].{key}", entry[key], limits.max_samples)
