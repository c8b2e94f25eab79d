"""Optimizers and learning-rate schedules by name.

Importing this module registers ``adam``, ``sgd``, ``rmsprop`` and ``lbfgs`` in
:data:`qgm.registry.OPTIMIZERS` (factories ``(params, model=None, **options)``,
as ``qng`` / ``qnspsa`` from :mod:`qgm.optim`). L-BFGS re-evaluates the loss
inside ``step``; the Trainer always passes a closure, so every optimizer works
unchanged.
"""
from __future__ import annotations

import inspect
import math
from typing import Any, Callable, Iterable, Optional, Sequence, Union

import torch
from torch.optim import Optimizer
from torch.optim.lr_scheduler import CosineAnnealingLR, ExponentialLR, LRScheduler, StepLR

from qgm.errors import ConfigError, QGMError, brief, key_name
from qgm.registry import OPTIMIZERS, OPTION_ERRORS, did_you_mean

__all__ = ["build_optimizer", "build_scheduler", "schedule_options", "SCHEDULES"]

Params = Iterable[torch.Tensor]


@OPTIMIZERS.register("adam")
def adam(
    params: Params, model: Any = None, lr: float = 1e-3, betas: Sequence[float] = (0.9, 0.999),
    eps: float = 1e-8, weight_decay: float = 0.0, amsgrad: bool = False,
) -> Optimizer:
    """``torch.optim.Adam``."""
    return torch.optim.Adam(params, lr=lr, betas=tuple(betas), eps=eps, weight_decay=weight_decay, amsgrad=amsgrad)


@OPTIMIZERS.register("sgd")
def sgd(
    params: Params, model: Any = None, lr: float = 1e-2, momentum: float = 0.0,
    nesterov: bool = False, weight_decay: float = 0.0,
) -> Optimizer:
    """``torch.optim.SGD``."""
    return torch.optim.SGD(params, lr=lr, momentum=momentum, nesterov=nesterov, weight_decay=weight_decay)


@OPTIMIZERS.register("rmsprop")
def rmsprop(
    params: Params, model: Any = None, lr: float = 1e-2, alpha: float = 0.99, eps: float = 1e-8,
    momentum: float = 0.0, weight_decay: float = 0.0,
) -> Optimizer:
    """``torch.optim.RMSprop``."""
    return torch.optim.RMSprop(params, lr=lr, alpha=alpha, eps=eps, momentum=momentum, weight_decay=weight_decay)


@OPTIMIZERS.register("lbfgs")
def lbfgs(
    params: Params, model: Any = None, lr: float = 1.0, max_iter: int = 20, history_size: int = 100,
    tolerance_grad: float = 1e-10, tolerance_change: float = 1e-12, line_search_fn: Optional[str] = "strong_wolfe",
) -> Optimizer:
    """``torch.optim.LBFGS`` (one Trainer step = up to ``max_iter`` L-BFGS iterations)."""
    return torch.optim.LBFGS(
        params, lr=lr, max_iter=max_iter, history_size=history_size, tolerance_grad=tolerance_grad,
        tolerance_change=tolerance_change, line_search_fn=line_search_fn,
    )


def build_optimizer(params: Params, spec: Union[dict[str, Any], Any], model: Any = None) -> Optimizer:
    """The optimizer ``spec`` (``{"name": "adam", "lr": 0.01, ...}`` or a config Component) over ``params``.

    ``model`` is handed to factories that need it (QNG reads ``model.circuit``).
    Errors are ConfigErrors starting with ``optimizer`` (``optimizer.<option>: ...`` for a bad option).
    """
    data = spec.to_dict() if hasattr(spec, "to_dict") else dict(spec)
    if "name" not in data:
        raise ConfigError(f"optimizer.name: required key missing in {brief(data)}")
    name = data["name"]
    options = {k: v for k, v in data.items() if k != "name"}
    try:
        factory = OPTIMIZERS.check_options(name, options, fixed=("params", "model"))
    except ConfigError as exc:
        raise ConfigError(f"optimizer.{exc}" if name in OPTIMIZERS else f"optimizer.name: {exc}") from None
    try:
        return factory(params=list(params), model=model, **options)
    except QGMError as exc:
        raise type(exc)(exc if str(exc).startswith("optimizer") else f"optimizer: {exc}") from None
    except OPTION_ERRORS as exc:  # torch's optimizers check option values with errors of every kind
        raise ConfigError(f"optimizer '{name}': bad option value ({type(exc).__name__}: {str(exc)[:120]}); "
                          f"options given: {brief(options)}") from None


def _count(name: str, value: Any, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ConfigError(f"schedule.{name}: expected an integer >= {minimum}, got {brief(value)}")
    return value


def _number(name: str, value: Any, low: float, *, open_low: bool = False) -> float:
    ok = isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
    if not ok or value < low or (open_low and value == low):
        bound = f"> {low:g}" if open_low else f">= {low:g}"
        raise ConfigError(f"schedule.{name}: expected a finite number {bound}, got {brief(value)}")
    return float(value)


def _cosine(opt: Optimizer, steps: int, eta_min: float = 0.0) -> LRScheduler:
    return CosineAnnealingLR(opt, T_max=steps, eta_min=_number("eta_min", eta_min, 0.0))


def _step(opt: Optimizer, steps: int, step_size: int = 100, gamma: float = 0.1) -> LRScheduler:
    return StepLR(opt, step_size=_count("step_size", step_size, 1), gamma=_number("gamma", gamma, 0.0, open_low=True))


def _exponential(opt: Optimizer, steps: int, gamma: float = 0.99) -> LRScheduler:
    return ExponentialLR(opt, gamma=_number("gamma", gamma, 0.0, open_low=True))


#: Schedule name -> ``factory(optimizer, total_steps, **options)``; stepped once per training step.
SCHEDULES: dict[str, Callable[..., LRScheduler]] = {
    "cosine": _cosine, "step": _step, "exponential": _exponential,
}


def schedule_options(name: str) -> list[str]:
    """The options of schedule ``name`` (:data:`SCHEDULES`)."""
    return list(inspect.signature(SCHEDULES[name]).parameters)[2:]


def build_scheduler(optimizer: Optimizer, spec: Any, steps: int) -> Optional[LRScheduler]:
    """The schedule ``spec`` (config Component, ``{"name": ..., **options}`` or None) for ``optimizer``."""
    if spec is None:
        return None
    data = spec.to_dict() if hasattr(spec, "to_dict") else dict(spec)
    name = data.pop("name")
    if name == "none":
        return None
    if name not in SCHEDULES:
        raise ConfigError(f"schedule.name: {brief(name)} unknown{did_you_mean(name, SCHEDULES)}; "
                          f"use one of none, {', '.join(SCHEDULES)}")
    allowed = schedule_options(name)
    for key in data:
        if key not in allowed:
            raise ConfigError(f"schedule.{key_name(key)}: unknown option of schedule {name!r}{did_you_mean(key, allowed)}; "
                              f"allowed: {', '.join(allowed)}")
    return SCHEDULES[name](optimizer, steps, **data)
