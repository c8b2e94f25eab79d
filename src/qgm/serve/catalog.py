"""What the server offers: registered components with their options, example configs, claims.

:func:`components` is the ``list_components`` tool's answer: every registered
dataset, model, loss, optimizer, metric and callback with a one-line purpose
(the first line of its docstring, markup removed) and its options with their
defaults, the example configs an agent can train by name, and the
reproducible claims. :class:`Examples` reads the example folder once.
"""
from __future__ import annotations

import inspect
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Mapping, Optional

from qgm.errors import ConfigError, QGMError
from qgm.registry import CALLBACKS, DATASETS, LOSSES, METRICS, MODELS, OPTIMIZERS, Registry, did_you_mean
from qgm.serve.limits import path_like
from qgm.train.config import parse_config, yaml_load
from qgm.trainability.plateau import load_plateau_config

__all__ = ["Example", "Examples", "default_examples_dir", "purpose", "components", "EXAMPLE_KINDS"]

#: Kinds of example configs: a training run or a plateau scan.
EXAMPLE_KINDS = ("train", "plateau")
#: Factory arguments the library fills in itself (never options of a config).
_FIXED = ("dataset", "model", "params")


def default_examples_dir() -> Optional[Path]:
    """``examples/`` of the source tree qgm runs from, if there is one."""
    import qgm

    folder = Path(qgm.__file__).resolve().parents[2] / "examples"
    return folder if folder.is_dir() else None


def purpose(obj: Any) -> str:
    """The first line of ``obj``'s docstring without reST markup (``:class:`X``` -> ``X``)."""
    line = (inspect.getdoc(obj) or "").strip().splitlines()[:1]
    text = re.sub(r":\w+:`~?([^`]+)`", r"\1", line[0] if line else "")
    text = text.replace("``", "").removeprefix("Registered factory: ").removeprefix("Registry factory: ")
    return text.strip()


@dataclass(frozen=True)
class Example:
    """One example config: its ``name`` (file stem), ``kind`` (:data:`EXAMPLE_KINDS`), ``purpose``
    (the file's first comment line) and parsed ``data``."""

    name: str
    kind: str
    purpose: str
    data: dict[str, Any]


def _kind(data: Any) -> Optional[str]:
    for kind, check in (("train", parse_config), ("plateau", load_plateau_config)):
        try:
            check(data)
            return kind
        except QGMError:
            continue
    return None


def _comment(text: str) -> str:
    for line in text.splitlines():
        if line.startswith("#"):
            return line.lstrip("#").strip()
    return ""


class Examples:
    """The example configs of a folder (``*.yaml`` files that parse as a run or a plateau scan)."""

    def __init__(self, folder: Optional[Path]) -> None:
        self.items: dict[str, Example] = {}
        for path in sorted(folder.glob("*.yaml")) if folder is not None else []:
            text = path.read_text()
            data = yaml_load(text, path.name)
            kind = _kind(data)
            if kind is not None:
                self.items[path.stem] = Example(path.stem, kind, _comment(text), data)

    def get(self, name: Any, kind: str) -> Example:
        """The example ``name`` of ``kind``; a ConfigError naming the known ones otherwise."""
        known = [e.name for e in self.items.values() if e.kind == kind]
        if not isinstance(name, str) or name not in known:
            raise ConfigError(f"example: {name!r} is not a {kind} example of this server{did_you_mean(name, known)}; "
                              f"known: {', '.join(known) or 'none'} (list_components shows them)")
        return self.items[name]

    def listing(self) -> list[dict[str, str]]:
        return [{"name": e.name, "kind": e.kind, "purpose": e.purpose} for e in self.items.values()]


def _jsonable(value: Any) -> Any:
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    return repr(value)


def _options(factory: Callable[..., Any]) -> dict[str, Any]:
    """``{option: default}`` of a registered factory (``"required"`` where there is no default)."""
    out: dict[str, Any] = {}
    for name, p in inspect.signature(factory).parameters.items():
        if name in _FIXED or p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD):
            continue
        out[name] = "required" if p.default is p.empty else _jsonable(p.default)
    return out


def _entries(registry: Registry[Any], with_options: bool = True) -> list[dict[str, Any]]:
    out = []
    for name in registry.names():
        factory = registry.get(name)
        entry: dict[str, Any] = {"name": name, "purpose": purpose(factory)}
        accepts = registry.accepts(name)
        if accepts:
            entry["trains_on"] = [a.__name__ for a in accepts]
        if with_options:
            entry["options"] = _options(factory)
        out.append(entry)
    return out


def components(examples: Examples, limits: Mapping[str, Any]) -> dict[str, Any]:
    """The ``list_components`` answer (registries filled by :func:`qgm.train.run.load_plugins`); datasets
    that read a file named in the config are left out (a client never names a path)."""
    from qgm.reproduce import CLAIMS

    return {
        "datasets": [e for e in _entries(DATASETS) if not any(map(path_like, e["options"]))],
        "models": _entries(MODELS),
        "losses": _entries(LOSSES),
        "optimizers": _entries(OPTIMIZERS),
        "metrics": _entries(METRICS, with_options=False),
        "callbacks": _entries(CALLBACKS),
        "examples": examples.listing(),
        "claims": [{"name": n, "purpose": CLAIMS.get(n).title} for n in CLAIMS.names()],
        "limits": dict(limits),
    }
