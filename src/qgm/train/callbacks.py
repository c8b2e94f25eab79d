"""Trainer callbacks: progress bar, ``metrics.jsonl``, checkpoints, early stopping, layerwise training.

Checkpoints are ``checkpoints/step_<k>.pt`` files holding
:meth:`Trainer.state_dict`, written atomically (:mod:`qgm.atomic`), loadable
with ``torch.load(weights_only=True)``, and pruned to the newest ``keep``.
:func:`load_latest_checkpoint` falls back to the newest checkpoint that loads
when later ones are damaged (and says so). ``metrics.jsonl`` is appended one
line per record and fsync-ed whenever a checkpoint is due, so a checkpoint never
survives a crash that its metrics do not; :func:`read_records` drops a
truncated last line (and says so). Callbacks a config selects by name
(``train.callbacks``) are registered in :data:`qgm.registry.CALLBACKS`:
``layerwise``.
"""
from __future__ import annotations

import json
import logging
import os
import re
from pathlib import Path
from typing import IO, Any, Optional

import torch
from tqdm.auto import tqdm

from qgm.atomic import atomic_text, atomic_torch_save
from qgm.circuits.init import layerwise_phases
from qgm.errors import ConfigError, brief
from qgm.registry import CALLBACKS
from qgm.train.trainer import Callback, Record, Trainer

__all__ = [
    "ProgressBar", "MetricsLogger", "Checkpointer", "EarlyStopping", "LayerwiseTraining", "layerwise",
    "read_records", "checkpoints", "latest_checkpoint", "load_checkpoint", "load_latest_checkpoint", "checkpoint_due",
]

_CKPT = re.compile(r"^step_(\d+)\.pt$")
_log = logging.getLogger("qgm")


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


def _record(line: str) -> Record:
    record = json.loads(line)
    if not isinstance(record, dict) or not isinstance(record.get("step"), int):
        raise ValueError("not a record with an integer 'step'")
    return record


def read_records(path: Path) -> list[Record]:
    """The records of a ``metrics.jsonl`` file (empty list if absent).

    A last line that does not parse (a write cut short by a crash or a full disk) is
    dropped with a logged note; a damaged line before it is a ConfigError.
    """
    path = Path(path)
    if not path.exists():
        return []
    lines = [(i + 1, line) for i, line in enumerate(path.read_bytes().decode("utf-8", "replace").split("\n"))
             if line.strip()]
    records = []
    for k, (number, line) in enumerate(lines):
        try:
            records.append(_record(line))
        except ValueError as exc:
            if k < len(lines) - 1:
                raise ConfigError(f"{path}: line {number} is not a metrics record ({exc}); the file is damaged: "
                                  f"delete that line, or start a new run") from None
            _log.warning("%s: dropped line %d, a record cut short (%s)", path, number, brief(line, 60))
    return records


def checkpoint_due(trainer: Trainer, step: int, every: int) -> bool:
    """Whether step ``step`` is checkpointed: every ``every`` steps (0: never periodically), at the last step,
    and when the run stops early."""
    return step > 0 and ((every > 0 and step % every == 0) or step == trainer.steps or trainer.should_stop)


class MetricsLogger(Callback):
    """Appends logged records (see :meth:`Trainer.should_log`) to ``metrics.jsonl``, one JSON object a line.

    At the start of a resumed run the file is cut back to the checkpoint's step (atomically),
    so an interrupted run's extra lines do not repeat; the last record logged before the
    checkpoint travels in the checkpoint and is put back if the file lost it (a truncated last
    line). Lines are flushed as written and the file is fsync-ed at every step that
    :func:`checkpoint_due` with ``sync_every``.
    """

    def __init__(self, path: Path, sync_every: int = 0) -> None:
        self.path, self.sync_every = Path(path), int(sync_every)
        self._file: Optional[IO[str]] = None
        self._last: Optional[Record] = None

    def on_train_start(self, trainer: Trainer) -> None:
        keep = [r for r in read_records(self.path) if 0 < trainer.step and r["step"] <= trainer.step]
        last = self._last
        if last is not None and 0 < last["step"] <= trainer.step and all(r["step"] != last["step"] for r in keep):
            keep = sorted([*keep, last], key=lambda r: r["step"])
            _log.warning("%s: put back the record of step %d from the checkpoint", self.path, last["step"])
        atomic_text(self.path, "".join(json.dumps(r) + "\n" for r in keep))
        self._file = self.path.open("a")

    def on_step_end(self, trainer: Trainer, record: Record) -> None:
        step = record["step"]
        if self._file is None or not trainer.should_log(step):
            return
        self._file.write(json.dumps(record) + "\n")
        self._file.flush()
        self._last = dict(record)
        if checkpoint_due(trainer, step, self.sync_every):
            os.fsync(self._file.fileno())

    def on_train_end(self, trainer: Trainer) -> None:
        if self._file is not None:
            os.fsync(self._file.fileno())
            self._file.close()
            self._file = None

    def state_dict(self) -> dict[str, Any]:
        return {"last": self._last} if self._last is not None else {}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self._last = dict(state["last"]) if state.get("last") else None


def checkpoints(folder: Path) -> list[tuple[int, Path]]:
    """``(step, path)`` of the checkpoints in ``folder``, oldest first (empty if there is none)."""
    folder = Path(folder)
    if not folder.is_dir():
        return []
    return sorted((int(m.group(1)), folder / name) for name in os.listdir(folder) if (m := _CKPT.match(name)))


def latest_checkpoint(folder: Path) -> Optional[Path]:
    """The checkpoint with the highest step in ``folder`` (None if there is none)."""
    found = checkpoints(folder)
    return found[-1][1] if found else None


#: Keys every Trainer checkpoint holds (:meth:`Trainer.state_dict`).
CHECKPOINT_KEYS = ("step", "should_stop", "last_eval", "elapsed", "generator", "model", "optimizers", "schedulers",
                   "loss", "callbacks")


def load_checkpoint(path: Path) -> dict[str, Any]:
    """A checkpoint's state (``torch.load(weights_only=True)``); a ConfigError if it cannot be read."""
    try:
        state = torch.load(os.fspath(path), weights_only=True)
    except Exception as exc:  # damaged bytes raise anything from EOFError to KeyError inside the unpickler
        first = str(exc).splitlines()[0] if str(exc) else ""
        raise ConfigError(f"checkpoint {os.fspath(path)!r} cannot be read ({type(exc).__name__}: {first[:120]})") from None
    if not isinstance(state, dict) or any(k not in state for k in CHECKPOINT_KEYS):
        raise ConfigError(f"checkpoint {os.fspath(path)!r} is not a Trainer checkpoint (it holds {brief(state)})")
    return state


def load_latest_checkpoint(folder: Path) -> Optional[tuple[Path, dict[str, Any]]]:
    """``(path, state)`` of the newest checkpoint in ``folder`` that loads (None if there is no checkpoint).

    Damaged newer checkpoints are skipped with a logged note; a ConfigError if none loads.
    """
    found = checkpoints(folder)
    for _, path in reversed(found):
        try:
            return path, load_checkpoint(path)
        except ConfigError as exc:
            _log.warning("%s; trying the previous checkpoint", exc)
    if found:
        raise ConfigError(f"checkpoints: none of the {len(found)} checkpoints in {folder} can be read; start a new run")
    return None


class Checkpointer(Callback):
    """Saves :meth:`Trainer.state_dict` when :func:`checkpoint_due` and keeps the newest ``keep``
    checkpoints (None: all)."""

    def __init__(self, folder: Path, every: int = 0, keep: Optional[int] = 3) -> None:
        if keep is not None and keep < 1:
            raise ConfigError(f"train.keep_checkpoints: expected an integer >= 1 or null (keep all), got {keep}")
        self.folder, self.every, self.keep = Path(folder), int(every), keep

    def path(self, step: int) -> Path:
        return self.folder / f"step_{step:06d}.pt"

    def on_step_end(self, trainer: Trainer, record: Record) -> None:
        step = record["step"]
        if checkpoint_due(trainer, step, self.every):
            atomic_torch_save(trainer.state_dict(), self.path(step))
            self.prune()

    def prune(self) -> None:
        """Delete all but the newest ``keep`` checkpoints."""
        if self.keep is None:
            return
        for _, path in checkpoints(self.folder)[: -self.keep]:
            path.unlink(missing_ok=True)


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
