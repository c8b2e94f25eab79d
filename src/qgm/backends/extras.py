"""Optional dependencies of the interop backends, imported only when used."""
from __future__ import annotations

import importlib
from types import ModuleType

from qgm.errors import QGMError

__all__ = ["require"]


def require(module: str) -> ModuleType:
    """Import ``module`` (e.g. ``"qiskit.circuit.library"``) or raise a :class:`QGMError`.

    The top-level package is imported first so that a missing (or blocked)
    package is reported even when one of its submodules is already loaded.
    """
    try:
        importlib.import_module(module.split(".")[0])
        return importlib.import_module(module)
    except ImportError as exc:
        raise QGMError(
            f"optional dependency '{module.split('.')[0]}' is unavailable ({exc}); "
            "install the interop extra: pip install 'qgm[interop]'"
        ) from None
