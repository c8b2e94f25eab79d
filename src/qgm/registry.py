"""Name -> factory registries: the one door through which configs and the CLI
reach datasets, models, losses and optimizers.

Usage::

    from qgm.registry import DATASETS
    @DATASETS.register("bars_and_stripes")
    def make_bas(rows: int = 3, cols: int = 3): ...

    DATASETS.create("bars_and_stripes", rows=2, cols=2)
"""
from __future__ import annotations

import inspect
from typing import Any, Callable, Generic, Iterator, TypeVar

from qgm.errors import ConfigError

T = TypeVar("T", bound=Callable[..., Any])

__all__ = ["add_unique", "Registry", "DATASETS", "MODELS", "LOSSES", "OPTIMIZERS", "METRICS"]


def add_unique(table: dict[str, Any], kind: str, name: str, item: T) -> T:
    """Put ``item`` under ``name`` in ``table``; re-registering a different item is a programming error."""
    if name in table and table[name] is not item:
        raise ValueError(f"{kind} '{name}' is registered twice")
    table[name] = item
    return item


class Registry(Generic[T]):
    """A named collection of factories of one kind (e.g. datasets)."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self._items: dict[str, T] = {}

    def register(self, name: str) -> Callable[[T], T]:
        """Decorator registering ``factory`` under ``name`` (unique per kind)."""

        def deco(factory: T) -> T:
            return add_unique(self._items, self.kind, name, factory)

        return deco

    def get(self, name: str) -> T:
        """The factory named ``name``; a ConfigError listing the known names otherwise."""
        try:
            return self._items[name]
        except KeyError:
            known = ", ".join(sorted(self._items)) or "none"
            raise ConfigError(f"unknown {self.kind} '{name}'; known {self.kind}s: {known}") from None

    def create(self, name: str, **kwargs: Any) -> Any:
        """Call the factory ``name`` with ``kwargs``, turning bad keywords into ConfigErrors."""
        factory = self.get(name)
        sig = inspect.signature(factory)
        accepts_var_kw = any(p.kind is p.VAR_KEYWORD for p in sig.parameters.values())
        if not accepts_var_kw:
            unknown = sorted(set(kwargs) - set(sig.parameters))
            if unknown:
                allowed = ", ".join(p for p in sig.parameters if p != "self")
                raise ConfigError(
                    f"{self.kind} '{name}' got unknown option(s) {unknown}; allowed: {allowed}"
                )
        return factory(**kwargs)

    def names(self) -> list[str]:
        return sorted(self._items)

    def __contains__(self, name: object) -> bool:
        return name in self._items

    def __iter__(self) -> Iterator[str]:
        return iter(self.names())


DATASETS: Registry[Callable[..., Any]] = Registry("dataset")
MODELS: Registry[Callable[..., Any]] = Registry("model")
LOSSES: Registry[Callable[..., Any]] = Registry("loss")
OPTIMIZERS: Registry[Callable[..., Any]] = Registry("optimizer")
METRICS: Registry[Callable[..., Any]] = Registry("metric")
