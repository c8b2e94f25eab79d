"""The one training loop of every model.

Every step draws a batch (``dataset.batch(indices)``, indices drawn with the
Trainer's generator; ``batch_size=None`` passes ``None``, the exact target) and
then updates each *player* of the model in order (:func:`update`):

* a model tagged ``owns_objective`` (adversarial, diffusion, energy-based)
  names its players and their updates per step (``model.players()``, e.g.
  ``{"discriminator": 5, "generator": 1}``) and returns the losses of one
  player with ``model.objective(batch, player)``;
* every other model has the single player ``"model"`` whose objective is
  ``{"loss": loss(model, batch)}`` for the configured loss.

Each update steps ``optimizers[player]`` with a closure that zeroes the
gradients, evaluates the objective and back-propagates its ``"loss"`` (so
L-BFGS, QNG and SPSA-type optimizers work unchanged). Steps count completed
updates, 1..``steps``; a record ``{"step", "loss", ..., "lr"}`` goes to the
callbacks after every step (``loss`` is the last player's loss before its
update), with the metrics of :func:`qgm.metrics.evaluate` merged in at
evaluation steps (step 0, every ``eval_every`` steps, and the last step).
Evaluation step ``k`` draws its samples from a generator seeded by
``(seed, k)``, so evaluations do not disturb the training stream and a
resumed run evaluates identically.

:meth:`Trainer.state_dict` holds everything needed to continue bit-exactly.
"""
from __future__ import annotations

import time
from typing import Any, Callable, Iterable, Mapping, Optional, Sequence, Union

import numpy as np
import torch
from torch.optim import Optimizer
from torch.optim.lr_scheduler import LRScheduler

from qgm.errors import ConfigError, ParameterError

__all__ = ["Trainer", "Callback", "derived_seed", "update", "Objective"]

Record = dict[str, Any]
EvaluateFn = Callable[..., Mapping[str, float]]
#: ``objective(batch, player) -> {"loss": scalar, ...}``.
Objective = Callable[[Any, str], Mapping[str, torch.Tensor]]

#: Tags separating the random streams derived from one run seed.
STREAM_EVAL, STREAM_SAMPLES = 1, 2


def derived_seed(seed: int, *tags: int) -> int:
    """A 63-bit seed for the stream ``tags`` of run seed ``seed`` (independent streams per tag tuple)."""
    return int(np.random.SeedSequence([int(seed), *map(int, tags)]).generate_state(2, np.uint64)[0] >> np.uint64(1))


def update(
    objective: Objective, batch: Any, optimizers: Mapping[str, Optimizer], players: Mapping[str, int]
) -> dict[str, float]:
    """One training step: ``players[p]`` updates of ``optimizers[p]`` for each player ``p`` in order.

    Each update steps the optimizer with a closure that zeroes its gradients, evaluates
    ``objective(batch, p)`` and back-propagates its ``"loss"``. Returns the scalars of the first
    closure evaluation of each player's last update, ``"loss"`` being the last player's.
    """
    missing = [p for p in players if p not in optimizers]
    if missing:
        raise ConfigError(f"optimizer: no optimizer for player(s) {missing}; the model's players are {list(players)}")
    logs: dict[str, float] = {}
    for player, repeats in players.items():
        opt = optimizers[player]
        for _ in range(repeats):
            logs.update(_step_once(objective, batch, player, opt))
    return logs


def _step_once(objective: Objective, batch: Any, player: str, opt: Optimizer) -> dict[str, float]:
    outputs: list[Mapping[str, torch.Tensor]] = []

    def closure() -> torch.Tensor:
        opt.zero_grad()
        out = objective(batch, player)
        if not isinstance(out, Mapping) or "loss" not in out:
            raise ParameterError(f"objective for player {player!r} must return a dict with 'loss'")
        out["loss"].backward()
        outputs.append(out)
        return out["loss"]

    opt.step(closure)
    return {k: float(v.detach()) if isinstance(v, torch.Tensor) else float(v) for k, v in outputs[0].items()}


class Callback:
    """Hooks the Trainer calls; override what you need (the defaults do nothing)."""

    def on_train_start(self, trainer: "Trainer") -> None:
        """Before the first step of this session (after a resume: of the continued run)."""

    def on_update(self, trainer: "Trainer") -> None:
        """Right after the optimizer update of step ``trainer.step`` (0-based, before evaluation)."""

    def on_step_end(self, trainer: "Trainer", record: Record) -> None:
        """After step ``record["step"]`` (also once for step 0 when the run evaluates its start)."""

    def on_train_end(self, trainer: "Trainer") -> None:
        """After the last step (or an early stop)."""

    def state_dict(self) -> dict[str, Any]:
        """State to checkpoint (plain types and tensors)."""
        return {}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore :meth:`state_dict`."""


def _default_evaluate(*args: Any, **kwargs: Any) -> Mapping[str, float]:
    from qgm.metrics import evaluate

    return evaluate(*args, **kwargs)


class Trainer:
    """Train ``model`` on ``dataset`` for ``steps`` steps.

    Args:
        model: a :class:`~qgm.models.GenerativeModel`.
        dataset: a :class:`~qgm.data.Dataset` (``len(dataset)`` and ``dataset.batch(indices)``).
        loss: ``loss(model, batch) -> scalar`` (models that do not own their objective).
        optimizers: one optimizer, or a dict player -> optimizer (``model.players()``).
        steps: total number of steps (a resumed run continues up to it).
        batch_size: samples per batch; None = exact target (``batch=None``).
        seed: seed of the batch generator and of the evaluation streams.
        callbacks: hooks, called in order.
        eval_every: evaluate every this many steps (0: only at the start and the end).
        metrics: names of registered metrics to evaluate.
        n_eval_samples: samples drawn per evaluation.
        log_every: steps between logged records (evaluation steps are always logged).
        schedulers: learning-rate schedulers, a dict with keys of ``optimizers`` (or one).
        evaluate: ``evaluate(model, dataset, names, n_samples=, generator=) -> dict``
            (default :func:`qgm.metrics.evaluate`).
    """

    def __init__(
        self,
        model: torch.nn.Module,
        dataset: Any,
        loss: Optional[Callable[[Any, Optional[torch.Tensor]], torch.Tensor]] = None,
        optimizers: Union[Optimizer, Mapping[str, Optimizer], None] = None,
        *,
        steps: int,
        batch_size: Optional[int] = None,
        seed: int = 0,
        callbacks: Iterable[Callback] = (),
        eval_every: int = 0,
        metrics: Sequence[str] = (),
        n_eval_samples: int = 10000,
        log_every: int = 1,
        schedulers: Union[LRScheduler, Mapping[str, LRScheduler], None] = None,
        evaluate: Optional[EvaluateFn] = None,
    ) -> None:
        self.model, self.dataset, self.loss = model, dataset, loss
        self.optimizers = _as_dict(optimizers)
        self.schedulers = _as_dict(schedulers)
        self.owns_objective = bool(getattr(getattr(model, "tags", None), "owns_objective", False))
        self.players = dict(model.players()) if self.owns_objective else {"model": 1}
        self._check_path()
        self.steps, self.batch_size, self.seed = int(steps), batch_size, int(seed)
        self.callbacks = list(callbacks)
        self.eval_every, self.metrics = int(eval_every), list(metrics)
        self.n_eval_samples, self.log_every = int(n_eval_samples), int(log_every)
        self.evaluate_fn: EvaluateFn = evaluate or _default_evaluate
        self.generator = torch.Generator().manual_seed(self.seed)
        self.step = 0
        self.should_stop = False
        self.last_eval: Record = {}
        self.elapsed = 0.0

    def _check_path(self) -> None:
        name = type(self.model).__name__
        if self.owns_objective and self.loss is not None:
            raise ConfigError(f"loss: {name} defines its own objective; remove the loss section")
        if not self.owns_objective and self.loss is None:
            raise ConfigError(f"loss: required to train {name}; add a loss section, e.g. {{name: mmd}}")
        missing = sorted(set(self.players) - set(self.optimizers))
        extra = sorted(set(self.optimizers) - set(self.players))
        if missing or extra:
            raise ConfigError(
                f"optimizer: {name} has players {list(self.players)}, got optimizers {sorted(self.optimizers)}"
            )

    # ------------------------------------------------------------------ steps
    def next_batch(self) -> Any:
        """The next training batch (``None`` when training on the exact target)."""
        if self.batch_size is None:
            return None
        idx = torch.randint(len(self.dataset), (self.batch_size,), generator=self.generator)
        return self.dataset.batch(idx)

    def objective(self, batch: Any, player: str) -> Mapping[str, torch.Tensor]:
        """The model's objective, or ``{"loss": loss(model, batch)}`` on the loss path."""
        if self.owns_objective:
            return self.model.objective(batch, player)
        return {"loss": self.loss(self.model, batch)}  # type: ignore[misc]

    def train_step(self, batch: Any) -> dict[str, float]:
        """One step (:func:`update`); the scalars to log (always with ``"loss"``)."""
        self.model.train()
        return update(self.objective, batch, self.optimizers, self.players)

    def is_eval_step(self, step: int) -> bool:
        """Evaluate at step 0, every ``eval_every`` steps and at the last step."""
        return step == 0 or step == self.steps or (self.eval_every > 0 and step % self.eval_every == 0)

    def should_log(self, step: int) -> bool:
        """Log every ``log_every`` steps, at evaluation steps and at the last step."""
        return step % self.log_every == 0 or self.is_eval_step(step)

    def evaluate(self, step: Optional[int] = None) -> dict[str, float]:
        """The configured metrics of the current model (samples seeded by ``(seed, step)``)."""
        if not self.metrics:
            return {}
        step = self.step if step is None else step
        gen = torch.Generator().manual_seed(derived_seed(self.seed, STREAM_EVAL, step))
        self.model.eval()
        with torch.no_grad():
            values = self.evaluate_fn(self.model, self.dataset, self.metrics, n_samples=self.n_eval_samples, generator=gen)
        return {k: float(v) for k, v in values.items()}

    def lrs(self) -> dict[str, float]:
        """Current learning rate of each optimizer (key ``lr``, or ``lr_<player>``)."""
        if len(self.optimizers) == 1:
            (opt,) = self.optimizers.values()
            return {"lr": float(opt.param_groups[0]["lr"])}
        return {f"lr_{k}": float(o.param_groups[0]["lr"]) for k, o in self.optimizers.items()}

    def fit(self) -> Record:
        """Run up to ``steps`` (or an early stop); the last evaluation record."""
        for cb in self.callbacks:
            cb.on_train_start(self)
        if self.step == 0 and self.metrics and not self.last_eval:
            self._emit({"step": 0, **self.evaluate(0)}, evaluated=True)
        while self.step < self.steps and not self.should_stop:
            start = time.perf_counter()
            scalars = self.train_step(self.next_batch())
            for cb in self.callbacks:
                cb.on_update(self)
            for sched in self.schedulers.values():
                sched.step()
            self.step += 1
            record: Record = {"step": self.step, **scalars, **self.lrs()}
            evaluated = self.is_eval_step(self.step)
            if evaluated:
                record.update(self.evaluate())
            self.elapsed += time.perf_counter() - start
            self._emit(record, evaluated)
        for cb in self.callbacks:
            cb.on_train_end(self)
        return self.last_eval

    def _emit(self, record: Record, evaluated: bool) -> None:
        if evaluated:
            self.last_eval = dict(record)
        for cb in self.callbacks:
            cb.on_step_end(self, record)

    # ------------------------------------------------------------------ state
    def state_dict(self) -> dict[str, Any]:
        """Everything a bit-exact resume needs (tensors and plain types; ``torch.load(weights_only=True)``)."""
        loss_state = getattr(self.loss, "state_dict", None)
        return {
            "step": self.step,
            "should_stop": self.should_stop,
            "last_eval": dict(self.last_eval),
            "elapsed": self.elapsed,
            "generator": self.generator.get_state(),
            "model": self.model.state_dict(),
            "optimizers": {k: o.state_dict() for k, o in self.optimizers.items()},
            "schedulers": {k: s.state_dict() for k, s in self.schedulers.items()},
            "loss": loss_state() if callable(loss_state) else {},
            "callbacks": {type(cb).__name__: cb.state_dict() for cb in self.callbacks},
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore :meth:`state_dict` (the same model, optimizers, schedulers, loss and callbacks)."""
        self.step, self.should_stop = int(state["step"]), bool(state["should_stop"])
        self.last_eval, self.elapsed = dict(state["last_eval"]), float(state["elapsed"])
        self.generator.set_state(state["generator"])
        self.model.load_state_dict(state["model"])
        for key, group in (("optimizers", self.optimizers), ("schedulers", self.schedulers)):
            if set(state[key]) != set(group):
                raise ConfigError(f"checkpoint holds {key} {sorted(state[key])}, this run has {sorted(group)}")
            for name, obj in group.items():
                obj.load_state_dict(state[key][name])
        if state["loss"]:
            self.loss.load_state_dict(state["loss"])  # type: ignore[union-attr]
        for cb in self.callbacks:
            cb.load_state_dict(state["callbacks"].get(type(cb).__name__, {}))


def _as_dict(obj: Any) -> dict[str, Any]:
    if obj is None:
        return {}
    if isinstance(obj, Mapping):
        return dict(obj)
    return {"model": obj}
