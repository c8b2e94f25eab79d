"""Experiment trackers beside ``metrics.jsonl``: TensorBoard and MLflow (``train.loggers``).

``train.loggers: [jsonl, tensorboard, mlflow]``. ``jsonl`` (the run directory's own
``metrics.jsonl``, :class:`~qgm.train.callbacks.MetricsLogger`) is always written; the others
receive exactly the same records at the same steps:

* ``tensorboard`` writes event files to ``<run>/tensorboard/`` (``tensorboard --logdir runs``);
  a resumed run purges the events after its checkpoint's step;
* ``mlflow`` logs the flattened config as parameters and every record as metrics to the
  tracking server in ``$MLFLOW_TRACKING_URI``, else to a file store ``<run>/mlruns``; a
  resumed run continues the same MLflow run (its id travels in the checkpoint).
"""
from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any, Callable, Optional

from qgm.errors import ConfigError
from qgm.train.trainer import Callback, Record, Trainer

__all__ = ["LOGGERS", "TensorBoardLogger", "MLflowLogger", "build_loggers", "check_logger_names", "flatten"]


def flatten(data: Any, prefix: str = "") -> dict[str, str]:
    """``{"a": {"b": 1}}`` -> ``{"a.b": "1"}`` (values as strings, for tracker parameters)."""
    if isinstance(data, dict):
        out: dict[str, str] = {}
        for k, v in data.items():
            out.update(flatten(v, f"{prefix}{k}."))
        return out
    return {prefix.rstrip("."): str(data)}


def _scalars(record: Record) -> dict[str, float]:
    return {k: float(v) for k, v in record.items() if k != "step" and isinstance(v, (int, float))}


class TensorBoardLogger(Callback):
    """Scalars of every logged record to ``folder`` (TensorBoard event files)."""

    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder)
        self._writer: Any = None

    def on_train_start(self, trainer: Trainer) -> None:
        try:
            from torch.utils.tensorboard import SummaryWriter
        except ImportError:
            raise ConfigError("train.loggers: tensorboard is not installed; pip install 'qgm[track]'") from None
        self._writer = SummaryWriter(str(self.folder), purge_step=trainer.step + 1 if trainer.step else None)

    def on_step_end(self, trainer: Trainer, record: Record) -> None:
        if self._writer is not None and trainer.should_log(record["step"]):
            for key, value in _scalars(record).items():
                self._writer.add_scalar(key, value, record["step"])

    def on_train_end(self, trainer: Trainer) -> None:
        if self._writer is not None:
            self._writer.close()
            self._writer = None


class MLflowLogger(Callback):
    """Parameters and metrics to MLflow through its client API (no global active run; see the module docstring)."""

    def __init__(self, folder: Path, experiment: str, params: dict[str, Any]) -> None:
        self.folder, self.experiment, self.params = Path(folder), experiment, params
        self.run_id: Optional[str] = None
        self._client: Any = None

    def on_train_start(self, trainer: Trainer) -> None:
        try:
            from mlflow.tracking import MlflowClient
        except ImportError:
            raise ConfigError("train.loggers: mlflow is not installed; pip install 'qgm[track]'") from None
        uri = os.environ.get("MLFLOW_TRACKING_URI")
        if not uri:
            os.environ.setdefault("MLFLOW_ALLOW_FILE_STORE", "true")  # a local file store per run directory
            uri = self.folder.resolve().as_uri()
        self._client = MlflowClient(tracking_uri=uri)
        if self.run_id is None:
            found = self._client.get_experiment_by_name(self.experiment)
            experiment_id = found.experiment_id if found else self._client.create_experiment(self.experiment)
            self.run_id = self._client.create_run(experiment_id).info.run_id
            from mlflow.entities import Param

            params = [Param(k, v[:6000]) for k, v in flatten(self.params).items()]
            for i in range(0, len(params), 100):  # MLflow takes at most 100 parameters per batch
                self._client.log_batch(self.run_id, params=params[i:i + 100])

    def on_step_end(self, trainer: Trainer, record: Record) -> None:
        if self._client is not None and trainer.should_log(record["step"]):
            from mlflow.entities import Metric

            stamp = int(time.time() * 1000)
            metrics = [Metric(k, v, stamp, int(record["step"])) for k, v in _scalars(record).items()]
            self._client.log_batch(self.run_id, metrics=metrics)

    def on_train_end(self, trainer: Trainer) -> None:
        if self._client is not None:
            self._client.set_terminated(self.run_id)
            self._client = None

    def state_dict(self) -> dict[str, Any]:
        return {"run_id": self.run_id or ""}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.run_id = state.get("run_id") or None


#: Tracker factories ``f(run_dir, run_name, config_dict)``; ``jsonl`` is the run directory's own log.
LOGGERS: dict[str, Optional[Callable[[Path, str, dict[str, Any]], Callback]]] = {
    "jsonl": None,
    "tensorboard": lambda run, name, cfg: TensorBoardLogger(run / "tensorboard"),
    "mlflow": lambda run, name, cfg: MLflowLogger(run / "mlruns", name, cfg),
}


def check_logger_names(names: list[str]) -> None:
    """Refuse unknown ``train.loggers`` entries (before any run file is written)."""
    for i, name in enumerate(names):
        if name not in LOGGERS:
            raise ConfigError(f"train.loggers[{i}]: unknown logger {name!r}; known: {', '.join(LOGGERS)}")


def build_loggers(names: list[str], run_dir: Path, run_name: str, config: dict[str, Any]) -> list[Callback]:
    """The tracker callbacks of ``train.loggers`` (``jsonl`` needs none: it is always written)."""
    check_logger_names(names)
    out = []
    for name in names:
        factory = LOGGERS[name]
        if factory is not None:
            out.append(factory(Path(run_dir), run_name, config))
    return out
