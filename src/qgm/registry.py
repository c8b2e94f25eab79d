"""Name -> factory registries: the one door through which configs and the CLI
reach datasets, models, losses, optimizers, metrics and callbacks.

Usage::

    from qgm.registry import DATASETS
    @DATASETS.register("bars_and_stripes")
    def make_bas(rows: int = 3, cols: int = 3): ...

    DATASETS.create("bars_and_stripes", rows=2, cols=2)
"""
from __future__ import annotations

import difflib
import inspect
from typing import Any, Callable, Generic, Iterable, Iterator, TypeVar

from qgm.errors import ConfigError

T = TypeVar("T", bound=Callable[..., Any])

__all__ = ["add_unique", "did_you_mean", "Registry", "DATASETS", "MODELS", "LOSSES", "OPTIMIZERS", "METRICS", "CALLBACKS"]


def did_you_mean(name: Any, known: Iterable[str]) -> str:
    """``" (did you mean 'x'?)"`` for the closest known name, or ``""`` when nothing is close."""
    close = difflib.get_close_matches(str(name), list(known), n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


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
        self._accepts: dict[str, tuple[type, ...]] = {}

    def register(self, name: str, *, accepts: tuple[type, ...] = ()) -> Callable[[T], T]:
        """Decorator registering ``factory`` under ``name`` (unique per kind).

        ``accepts``: for model factories, the :mod:`qgm.spaces` classes of the datasets the
        model trains on (checked before the model is built, and used by the conformance suite).
        """

        def deco(factory: T) -> T:
            self._accepts[name] = tuple(accepts)
            return add_unique(self._items, self.kind, name, factory)

        return deco

    def accepts(self, name: str) -> tuple[type, ...]:
        """The space classes ``name`` declared at registration (empty: not declared)."""
        self.get(name)
        return self._accepts.get(name, ())

    def get(self, name: str) -> T:
        """The factory named ``name``; a ConfigError listing the known names otherwise."""
        try:
            return self._items[name]
        except (KeyError, TypeError):
            known = ", ".join(sorted(self._items)) or "none"
            raise ConfigError(f"unknown {self.kind} {name!r}{did_you_mean(name, self._items)}; known {self.kind}s: "
                              f"{known}") from None

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
#: Trainer callbacks a config selects by name in ``train.callbacks`` (factories ``f(model, **options)``).
CALLBACKS: Registry[Callable[..., Any]] = Registry("callback")
