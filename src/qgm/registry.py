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
from typing import Any, Callable, Generic, Iterable, Iterator, Optional, TypeVar

from qgm.errors import ConfigError, QGMError, brief, key_name

T = TypeVar("T", bound=Callable[..., Any])

__all__ = [
    "add_unique", "did_you_mean", "plural", "OPTION_ERRORS", "Registry", "DATASETS", "MODELS", "LOSSES", "OPTIMIZERS",
    "METRICS", "CALLBACKS",
]


#: What a factory raises when it is handed option values of the wrong kind (it fails in whatever it calls
#: first); :meth:`Registry.create` and the config resolver turn these into one-line ConfigErrors.
OPTION_ERRORS = (TypeError, ValueError, OverflowError, IndexError, KeyError, AttributeError)


def did_you_mean(name: Any, known: Iterable[str]) -> str:
    """``" (did you mean 'x'?)"`` for the closest known name, or ``""`` when nothing is close."""
    if not isinstance(name, str) or len(name) > 100:
        return ""
    close = difflib.get_close_matches(name, [str(k) for k in known], n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


def plural(kind: str) -> str:
    """``"loss"`` -> ``"losses"``, ``"model"`` -> ``"models"``."""
    return kind + ("es" if kind.endswith(("s", "x", "ch", "sh")) else "s")


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
            raise ConfigError(f"unknown {self.kind} {brief(name)}{did_you_mean(name, self._items)}; known "
                              f"{plural(self.kind)}: {known}") from None

    def options(self, name: str, fixed: Iterable[str] = ()) -> Optional[list[str]]:
        """The option names factory ``name`` takes besides the ``fixed`` ones the caller passes
        (None when it takes any keyword)."""
        params = inspect.signature(self.get(name)).parameters
        if any(p.kind is p.VAR_KEYWORD for p in params.values()):
            return None
        skip = {"self", *fixed}
        return [p for p, v in params.items() if p not in skip and v.kind is not v.VAR_POSITIONAL]

    def check_options(self, name: str, options: Iterable[str], fixed: Iterable[str] = ()) -> T:
        """The factory ``name``; a ConfigError ``"<option>: unknown option of <kind> '<name>' (did you mean
        ...?); allowed: ..."`` for an option it does not take (``fixed`` ones are the caller's, not listed)."""
        factory = self.get(name)
        allowed = self.options(name, fixed)
        if allowed is not None:
            for key in options:
                if key not in allowed:
                    raise ConfigError(
                        f"{key_name(key)}: unknown option of {self.kind} '{name}'{did_you_mean(key, allowed)}; "
                        f"allowed: {', '.join(allowed) or 'none'}"
                    )
        return factory

    def create(self, name: str, **kwargs: Any) -> Any:
        """Call the factory ``name`` with ``kwargs``, turning unknown or missing keywords into ConfigErrors."""
        factory = self.check_options(name, kwargs)
        params = inspect.signature(factory).parameters.values()
        missing = [p.name for p in params if p.default is p.empty and p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)
                   and p.name not in kwargs]
        if missing:
            raise ConfigError(f"{missing[0]}: required option of {self.kind} '{name}' missing")
        try:
            return factory(**kwargs)
        except QGMError:
            raise
        except OPTION_ERRORS as exc:
            raise ConfigError(f"{self.kind} '{name}': bad option value ({type(exc).__name__}: "
                              f"{str(exc)[:160]}); options given: {brief(kwargs)}") from None

    def names(self) -> list[str]:
        return sorted(self._items)

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and name in self._items

    def __iter__(self) -> Iterator[str]:
        return iter(self.names())


DATASETS: Registry[Callable[..., Any]] = Registry("dataset")
MODELS: Registry[Callable[..., Any]] = Registry("model")
LOSSES: Registry[Callable[..., Any]] = Registry("loss")
OPTIMIZERS: Registry[Callable[..., Any]] = Registry("optimizer")
METRICS: Registry[Callable[..., Any]] = Registry("metric")
#: Trainer callbacks a config selects by name in ``train.callbacks`` (factories ``f(model, **options)``).
CALLBACKS: Registry[Callable[..., Any]] = Registry("callback")
