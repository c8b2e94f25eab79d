"""Trainer callbacks: progress bar, ``metrics.jsonl``, checkpoints, early stopping, layerwise training.

Checkpoints are ``checkpoints/step_<k>.pt`` files holding
:meth:`Trainer.state_dict`, written atomically (:mod:`qgm.atomic`) and
loadable with ``torch.load(weights_only=True)``. Callbacks a config selects by
name (``train.callbacks``) are registered in :data:`qgm.registry.CALLBACKS`:
``layerwise``.
"""
from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any, Optional

import torch
from tqdm.auto import tqdm

from qgm.atomic import atomic_text, atomic_torch_save
from qgm.circuits.init import layerwise_phases
from qgm.errors import ConfigError
from qgm.registry import CALLBACKS
from qgm.train.trainer import Callback, Record, Trainer

__all__ = [
    "ProgressBar", "MetricsLogger", "Checkpointer", "EarlyStopping", "LayerwiseTraining", "layerwise",
    "read_records", "latest_checkpoint", "load_checkpoint",
]

_CKPT = re.compile(r"^step_(\d+)\.pt$")


class ProgressBar(Callback):
    """A tqdm bar over the steps showing the loss and ``key_metric`` (from the latest evaluation)."""

    def __init__(self, key_metric: Optional[str] = None, desc: Optional[str] = None, enabled: bool = True) -> None:
        self.key_metric, self.desc, self.enabled = key_metric, desc, enabled
        self._bar: Optional[tqdm] = None
        self._postfix: dict[str, str] = {}

    def on_train_start(self, trainer: Trainer) -> None:
        self._bar = tqdm(total=trainer.steps, initial=trainer.step, desc=self.desc, disable=not self.enabled,
                         dynamic_ncols=True, leave=True)

    def on_step_end(self, trainer: Trainer, record: Record) -> None:
        if self._bar is None:
            return
        if "loss" in record:
            self._postfix["loss"] = f"{record['loss']:.4g}"
        if self.key_metric is not None and self.key_metric in record:
            self._postfix[self.key_metric] = f"{record[self.key_metric]:.4g}"
        self._bar.set_postfix(self._postfix, refresh=False)
        if record["step"] > 0:
            self._bar.update(1)

    def on_train_end(self, trainer: Trainer) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None


def read_records(path: Path) -> list[Record]:
    """The records of a ``metrics.jsonl`` file (empty list if absent)."""
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


class MetricsLogger(Callback):
    """Appends logged records (see :meth:`Trainer.should_log`) to ``metrics.jsonl``, one JSON object a line.

    At the start of a resumed run the file is cut back to the checkpoint's step,
    so an interrupted run's extra lines do not repeat.
    """

    def __init__(self, path: Path) -> None:
        self.path = Path(path)

    def on_train_start(self, trainer: Trainer) -> None:
        keep = [r for r in read_records(self.path) if 0 < trainer.step and r["step"] <= trainer.step]
        atomic_text(self.path, "".join(json.dumps(r) + "\n" for r in keep))

    def on_step_end(self, trainer: Trainer, record: Record) -> None:
        if trainer.should_log(record["step"]):
            with self.path.open("a") as f:
                f.write(json.dumps(record) + "\n")


def latest_checkpoint(folder: Path) -> Optional[Path]:
    """The checkpoint with the highest step in ``folder`` (None if there is none)."""
    folder = Path(folder)
    if not folder.is_dir():
        return None
    found = [(int(m.group(1)), folder / name) for name in os.listdir(folder) if (m := _CKPT.match(name))]
    return max(found)[1] if found else None


def load_checkpoint(path: Path) -> dict[str, Any]:
    """A checkpoint's state (``torch.load(weights_only=True)``)."""
    try:
        return torch.load(os.fspath(path), weights_only=True)
    except (OSError, RuntimeError, EOFError) as exc:
        raise ConfigError(f"checkpoint {os.fspath(path)!r} cannot be read ({exc})") from None


class Checkpointer(Callback):
    """Saves :meth:`Trainer.state_dict` every ``every`` steps (0: never periodically), at the last step
    and when the run stops early."""

    def __init__(self, folder: Path, every: int = 0) -> None:
        self.folder, self.every = Path(folder), int(every)

    def path(self, step: int) -> Path:
        return self.folder / f"step_{step:06d}.pt"

    def on_step_end(self, trainer: Trainer, record: Record) -> None:
        step = record["step"]
        due = self.every > 0 and step % self.every == 0
        if step > 0 and (due or step == trainer.steps or trainer.should_stop):
            atomic_torch_save(trainer.state_dict(), self.path(step))


class EarlyStopping(Callback):
    """Stops once ``metric`` (a metric name or ``"loss"``) is below (or above) ``threshold`` at
    ``patience`` consecutive evaluations."""

    def __init__(self, metric: str, *, below: Optional[float] = None, above: Optional[float] = None,
                 patience: int = 1) -> None:
        if (below is None) == (above is None):
            raise ConfigError("early_stop: give exactly one of 'below' or 'above'")
        self.metric, self.below, self.above, self.patience = metric, below, above, int(patience)
        self.count = 0

    def reached(self, value: float) -> bool:
        return value < self.below if self.below is not None else value > self.above  # type: ignore[operator]

    def on_step_end(self, trainer: Trainer, record: Record) -> None:
        if record["step"] == 0 or not trainer.is_eval_step(record["step"]) or self.metric not in record:
            return
        self.count = self.count + 1 if self.reached(float(record[self.metric])) else 0
        if self.count >= self.patience:
            trainer.should_stop = True

    def state_dict(self) -> dict[str, Any]:
        return {"count": self.count}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.count = int(state.get("count", 0))


class LayerwiseTraining(Callback):
    """Layerwise learning (Skolik et al. 2021) on a model with one angle vector ``theta``.

    ``masks`` ``[(P,) bool, ...]`` (from :func:`qgm.circuits.layerwise_phases`) say
    which slots train in each phase of ``steps_per_phase`` steps; every other slot is held
    at its value from the start of the phase (restored after each update, so any optimizer
    works; its moments still see the frozen slots' gradients). After the last phase every
    slot trains. Pair it with ``init: layerwise`` so that new layers start at zero.
    """

    def __init__(self, theta: torch.nn.Parameter, masks: list[torch.Tensor], steps_per_phase: int) -> None:
        if steps_per_phase < 1:
            raise ConfigError(f"steps_per_phase: must be >= 1, got {steps_per_phase}")
        if any(m.shape != theta.shape for m in masks):
            raise ConfigError(f"layerwise: masks must have the angles' shape {tuple(theta.shape)}")
        self.theta, self.masks, self.steps_per_phase = theta, masks, steps_per_phase
        self.phase = -1
        self.anchor = theta.detach().clone()

    def on_update(self, trainer: Trainer) -> None:
        phase = trainer.step // self.steps_per_phase
        if phase >= len(self.masks):
            return
        if phase != self.phase:  # a new phase freezes the slots at their values before this update
            self.phase = phase
            self.anchor = self._previous
        frozen = ~self.masks[phase]
        with torch.no_grad():
            self.theta[frozen] = self.anchor[frozen]

    def on_train_start(self, trainer: Trainer) -> None:
        self._previous = self.theta.detach().clone()

    def on_step_end(self, trainer: Trainer, record: Record) -> None:
        self._previous = self.theta.detach().clone()

    def state_dict(self) -> dict[str, Any]:
        return {"phase": self.phase, "anchor": self.anchor}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        if state:
            self.phase, self.anchor = int(state["phase"]), state["anchor"]


@CALLBACKS.register("layerwise")
def layerwise(model: Any, steps_per_phase: int, start_layers: int = 1, add_layers: int = 1,
              partitions: int = 2) -> LayerwiseTraining:
    """Registered callback: :class:`LayerwiseTraining` over the layers of a single-circuit model's
    angle vector ``theta`` (a QCBM), with the schedule of :func:`qgm.circuits.layerwise_phases`."""
    for key, value in (("steps_per_phase", steps_per_phase), ("start_layers", start_layers),
                       ("add_layers", add_layers), ("partitions", partitions)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ConfigError(f"{key}: expected an integer >= 1, got {value!r}")
    theta, circuit = getattr(model, "theta", None), getattr(model, "circuit", None)
    if not isinstance(theta, torch.nn.Parameter) or circuit is None:
        raise ConfigError(f"model '{type(model).__name__}' has no single circuit and angle vector; "
                          "use layerwise with a qcbm")
    return LayerwiseTraining(theta, layerwise_phases(circuit, start_layers, add_layers, partitions), steps_per_phase)
