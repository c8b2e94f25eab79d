"""Training: the config schema, the Trainer loop, callbacks, optimizers by name and run directories.

Importing this package registers ``adam``, ``sgd``, ``rmsprop`` and ``lbfgs`` in
:data:`qgm.registry.OPTIMIZERS`. :func:`run_config` is the library entry of
``qgm train``.
"""
from qgm.optim.factory import SCHEDULES, build_optimizer, build_scheduler
from qgm.train.callbacks import (
    Checkpointer,
    EarlyStopping,
    LayerwiseTraining,
    MetricsLogger,
    ProgressBar,
    latest_checkpoint,
    load_checkpoint,
    read_records,
)
from qgm.train.config import Component, EarlyStopConfig, RunConfig, TrainConfig, apply_overrides, load_config, parse_config
from qgm.train.run import build_run, eval_run, load_plugins, load_run, run_config, sample_run
from qgm.train.trainer import Callback, Trainer, update

__all__ = [
    "Trainer", "Callback", "update", "ProgressBar", "MetricsLogger", "Checkpointer", "EarlyStopping", "LayerwiseTraining",
    "read_records", "latest_checkpoint", "load_checkpoint",
    "RunConfig", "TrainConfig", "EarlyStopConfig", "Component", "parse_config", "load_config", "apply_overrides",
    "build_optimizer", "build_scheduler", "SCHEDULES",
    "run_config", "build_run", "load_run", "sample_run", "eval_run", "load_plugins",
]
