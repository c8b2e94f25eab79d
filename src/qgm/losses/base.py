"""The loss protocol, and what every distribution loss shares: the target
distribution, batch histograms, and how a loss asks a model for its distribution.

A :class:`Loss` is a callable ``loss(model, batch) -> scalar tensor`` with its
own hyper-parameters and a ``state_dict`` for bit-exact resume. Two families:

* :class:`DistributionLoss` (MMD, KL/NLL, Sinkhorn, Stein): compares the
  distribution of a ``Bits(n)`` model with the data's. ``batch`` is a
  LongTensor ``(m,)`` of data basis indices (a minibatch of training samples)
  or ``None`` for the exact target (the dataset's ``target``, or its empirical
  training distribution when it has none).
* :class:`~qgm.losses.ensemble.StateEnsembleLoss`: compares ensembles of quantum
  states (fidelity MMD, Wasserstein on fidelities, global and local fidelity to
  a target state).

Shots. ``shots=None`` on the loss defers to the model's ``shots`` attribute
(``None`` there too means exact probabilities). With shots the model is asked
for ``model.probs(shots=m, generator=g)``: the frequencies of ``m`` samples,
differentiable by parameter shift, where every shifted evaluation draws fresh,
independent samples. The loss owns the generator ``g`` (seeded by ``seed``);
:meth:`Loss.state_dict` / :meth:`Loss.load_state_dict` carry its state so a
resumed run draws the same shots.
"""
from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any, ClassVar, Optional

import numpy as np
import torch

from qgm.errors import ConfigError, DataError, ParameterError
from qgm.sim.validate import check_shots as sim_check_shots

__all__ = ["Loss", "DistributionLoss", "target_distribution", "histogram", "check_shots", "u_minus_v"]

#: Tolerance on the normalisation of a target distribution.
NORM_TOL = 1e-8


def check_shots(shots: Optional[int], field: str = "shots") -> Optional[int]:
    """``shots`` of a loss's configuration: :func:`qgm.sim.check_shots` raising a ConfigError."""
    return sim_check_shots(shots, field, error=ConfigError)


def _as_distribution(values: Any, n_bits: int, field: str) -> torch.Tensor:
    p = torch.as_tensor(np.asarray(values, dtype=np.float64)).reshape(-1)
    if p.numel() != 1 << n_bits:
        raise DataError(f"{field}: expected {1 << n_bits} probabilities for {n_bits} bits, got {p.numel()}")
    if bool((p < 0).any()) or abs(float(p.sum()) - 1.0) > NORM_TOL:
        raise DataError(f"{field}: not a probability vector (min {float(p.min()):.3g}, sum {float(p.sum()):.12g})")
    return p


def target_distribution(dataset: Any) -> torch.Tensor:
    """The dataset's exact target ``(2**n,)`` float64, else its empirical training distribution."""
    target = getattr(dataset, "target", None)
    if target is None:
        return _as_distribution(dataset.empirical("train"), dataset.n_bits, "dataset.empirical('train')")
    return _as_distribution(target, dataset.n_bits, "dataset.target")


def histogram(batch: torch.Tensor, n_bits: int) -> torch.Tensor:
    """Empirical distribution ``(2**n,)`` float64 of basis indices ``batch`` ``(m,)``."""
    if not isinstance(batch, torch.Tensor) or batch.dtype != torch.int64 or batch.dim() != 1:
        raise ParameterError(
            f"batch: expected a 1-D LongTensor of basis indices, got "
            f"{getattr(batch, 'dtype', type(batch).__name__)} of shape {tuple(getattr(batch, 'shape', ()))}"
        )
    if batch.numel() == 0:
        raise ParameterError("batch: empty; give at least one data index or None for the exact target")
    lo, hi = int(batch.min()), int(batch.max())
    if lo < 0 or hi >= 1 << n_bits:
        raise ParameterError(f"batch: indices must lie in 0..{(1 << n_bits) - 1} for {n_bits} bits, got {lo}..{hi}")
    counts = torch.bincount(batch, minlength=1 << n_bits).to(torch.float64)
    return counts / batch.numel()


def u_minus_v(v_stat: torch.Tensor, diag_mean: torch.Tensor, m: int) -> torch.Tensor:
    """U-statistic minus V-statistic of a within-set kernel mean over ``m`` samples.

    With histogram ``h`` of the samples, ``V = hᵀKh`` (pairs i = j kept) and
    ``U = Σ_{i≠j} K(x_i, x_j) / (m(m−1)) = (m V − Σ_x K(x,x) h(x)) / (m − 1)``, so
    ``U − V = (V − diag_mean) / (m − 1)`` with ``diag_mean = Σ_x K(x,x) h(x)``.
    """
    return (v_stat - diag_mean) / (m - 1)


class Loss(ABC):
    """The loss protocol: ``loss(model, batch) -> scalar``, checked by :meth:`check_model`, computed by
    :meth:`forward`; ``state_dict`` / ``load_state_dict`` carry any random state for bit-exact resume."""

    name: ClassVar[str]

    def __call__(self, model: Any, batch: Any) -> torch.Tensor:
        """Scalar loss of ``model`` on a data ``batch`` (None: the whole data / exact target)."""
        self.check_model(model)
        return self.forward(model, batch)

    def check_model(self, model: Any) -> None:
        """Refuse a model this loss cannot score (ConfigError naming the mismatch)."""

    @abstractmethod
    def forward(self, model: Any, batch: Any) -> torch.Tensor:
        """The loss value (scalar tensor) after :meth:`check_model`."""

    def state_dict(self) -> dict[str, Any]:
        """Random state for bit-exact resume (tensors and plain types only)."""
        return {}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore :meth:`state_dict`."""


class DistributionLoss(Loss):
    """Base of the distribution losses: target, shot policy and generator.

    Args:
        n_bits: bits of a data point; the model must have the same ``n_bits``.
        target: exact target distribution ``(2**n,)`` used when ``batch`` is None.
        shots: measurement shots per model evaluation; None defers to ``model.shots``.
        seed: seed of the loss's generator for shots.
    """

    def __init__(self, n_bits: int, target: Any, shots: Optional[int] = None, seed: int = 0) -> None:
        self.n_bits = int(n_bits)
        self.target = _as_distribution(target, self.n_bits, "target")
        self.shots = check_shots(shots)
        self.seed = int(seed)
        self._generators: dict[str, torch.Generator] = {}

    def check_model(self, model: Any) -> None:
        """The model must generate ``Bits(n_bits)``."""
        if getattr(model, "n_bits", None) != self.n_bits:
            raise ConfigError(
                f"{self.name} loss built for {self.n_bits} bits, model has n_bits={getattr(model, 'n_bits', None)}"
            )

    # -- shots and randomness ----------------------------------------------------
    def resolved_shots(self, model: Any) -> Optional[int]:
        """The loss's ``shots``, else the model's ``shots`` attribute (None = exact)."""
        return self.shots if self.shots is not None else getattr(model, "shots", None)

    def generator(self, device: torch.device) -> torch.Generator:
        """The loss's generator on ``device`` (seeded by ``seed`` at first use)."""
        key = str(torch.device(device))
        if key not in self._generators:
            self._generators[key] = torch.Generator(device=device).manual_seed(self.seed)
        return self._generators[key]

    def model_distribution(self, model: Any, shots: Optional[int]) -> torch.Tensor:
        """``model.probs()`` (exact) or ``model.probs(shots=shots, generator=…)`` -> ``(2**n,)``."""
        if shots is not None and not model.tags.differentiable_shots:
            raise ParameterError(
                f"{self.name}: {type(model).__name__} cannot differentiate sampled frequencies (shots={shots}); "
                "use shots: null (exact) or a quantum model"
            )
        if shots is None:
            p = model.probs()
        else:
            p = model.probs(shots=shots, generator=self.generator(_device_of(model)))
        if p.shape != (1 << self.n_bits,):
            raise ParameterError(
                f"{self.name}: model.probs() must return shape ({1 << self.n_bits},), got {tuple(p.shape)}"
            )
        return p.to(torch.float64)

    def data_distribution(self, batch: Optional[torch.Tensor], device: torch.device) -> torch.Tensor:
        """The exact target (``batch`` None) or the histogram of ``batch``, on ``device``."""
        q = self.target if batch is None else histogram(batch.cpu(), self.n_bits)
        return q.to(device)

    def state_dict(self) -> dict[str, Any]:
        """Generator states, for bit-exact resume (tensors and plain types only)."""
        return {"generators": {k: g.get_state() for k, g in self._generators.items()}}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore generator states saved by :meth:`state_dict`."""
        for key, value in state.get("generators", {}).items():
            self.generator(torch.device(key)).set_state(value)


def _device_of(model: Any) -> torch.device:
    for p in model.parameters():
        return p.device
    return torch.device("cpu")
