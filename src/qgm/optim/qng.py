"""Quantum natural gradient (Stokes et al., Quantum 4, 269) as a ``torch.optim.Optimizer``.

Update: ``θ ← θ − η (g + λI)^+ ∇L`` where ``g`` is the Fubini–Study metric of
the model's circuit at the current parameters and ``∇L`` is whatever gradient
autograd left in ``p.grad``, so the loss can be anything differentiable (MMD,
KL/NLL, a GAN generator loss, an expectation value). With momentum ``ρ`` the
step is the heavy-ball form ``θ_{t+1} = θ_t + ρ(θ_t − θ_{t−1}) − η (g+λI)^+ ∇L``.

The optimizer treats all its parameters as one vector (the concatenation of
the flattened tensors, in order), which must be the circuit's trainable-slot
vector when ``circuit=`` is given; give hybrid models' classical parameters to
a second optimizer. The metric is recomputed every ``recompute_every`` steps
and kept in the optimizer state (``state_dict`` round-trips it).

Solvers: ``"pinv"`` (Hermitian pseudo-inverse, singular values below
``rcond·σ_max`` dropped — PennyLane's default with λ = 0), ``"lstsq"``
(minimum-norm least squares, the same solution without forming the inverse),
``"solve"`` (dense LU solve; needs ``g + λI`` non-singular, i.e.
``λ > 0`` for a redundant circuit).
"""
from __future__ import annotations

import inspect
from typing import Any, Callable, Iterable, Optional

import torch
from torch.optim import Optimizer

from qgm.circuits.circuit import Circuit
from qgm.errors import ConfigError, ParameterError
from qgm.geometry.layers import LAYERINGS
from qgm.geometry.metric import APPROXIMATIONS, metric_tensor
from qgm.registry import OPTIMIZERS

__all__ = ["QNG", "SOLVERS", "precondition", "flat_params", "flat_grads", "qng_factory"]

SOLVERS = ("pinv", "lstsq", "solve")

MetricFn = Callable[[torch.Tensor], torch.Tensor]


def precondition(
    metric: torch.Tensor,
    grad: torch.Tensor,
    lam: float = 0.0,
    solver: str = "pinv",
    rcond: float = 1e-8,
) -> torch.Tensor:
    """``(metric + lam·I)^+ grad`` for a symmetric PSD ``metric`` ``(P, P)`` and ``grad`` ``(P,)``."""
    if solver not in SOLVERS:
        raise ParameterError(f"solver must be one of {SOLVERS}, got {solver!r}")
    a = metric + lam * torch.eye(metric.shape[-1], dtype=metric.dtype, device=metric.device)
    g = grad.to(metric.dtype)
    if solver == "pinv":
        return torch.linalg.pinv(a, rtol=rcond, hermitian=True) @ g
    if solver == "lstsq":
        # CUDA's lstsq only has the full-rank driver; this (P, P) solve is cheap on the CPU
        sol = torch.linalg.lstsq(a.cpu(), g.cpu().unsqueeze(-1), rcond=rcond, driver="gelsd").solution
        return sol.squeeze(-1).to(a.device)
    w = torch.linalg.eigvalsh(a)
    if w.numel() and w.min() <= w.max().abs() * w.numel() * torch.finfo(w.dtype).eps:
        raise ParameterError(
            f"solver='solve': metric + lam*I is singular (lam={lam}); use lam > 0 or solver='pinv'"
        )
    return torch.linalg.solve(a, g)


def _all_params(optimizer: Optimizer) -> list[torch.Tensor]:
    return [p for group in optimizer.param_groups for p in group["params"]]


def flat_params(params: list[torch.Tensor]) -> torch.Tensor:
    """The parameters as one detached vector (concatenated, flattened)."""
    return torch.cat([p.detach().reshape(-1) for p in params])


def flat_grads(params: list[torch.Tensor]) -> torch.Tensor:
    """The gradients as one vector (zeros where ``p.grad`` is None)."""
    return torch.cat([torch.zeros_like(p).reshape(-1) if p.grad is None else p.grad.reshape(-1) for p in params])


def circuit_metric_fn(
    circuit: Circuit, approx: Optional[str], layering: str, inputs: Optional[torch.Tensor]
) -> MetricFn:
    """``θ -> g(θ)`` of ``circuit`` (averaged over a batch of ``inputs`` if the circuit has input slots)."""
    if approx not in APPROXIMATIONS:
        raise ConfigError(f"approx must be one of {APPROXIMATIONS}, got {approx!r}")
    if layering not in LAYERINGS:
        raise ConfigError(f"layering must be one of {LAYERINGS}, got {layering!r}")

    def fn(theta: torch.Tensor) -> torch.Tensor:
        g = metric_tensor(circuit, theta, approx, inputs=inputs, layering=layering)
        return g.reshape(-1, circuit.n_params, circuit.n_params).mean(0)

    return fn


class QNG(Optimizer):
    """Quantum natural gradient descent for any differentiable loss of a circuit model.

    Args:
        params: the circuit's trainable parameters (e.g. ``model.parameters()``);
            concatenated and flattened they are the slot vector ``θ`` ``(P,)``.
        lr: step size ``η``.
        circuit: the model's circuit; the metric is ``metric_tensor(circuit, θ, approx)``.
        metric_fn: alternatively, any ``θ (P,) -> g (P, P)``.
        approx: ``None`` (full), ``"block-diag"`` (PennyLane's default) or ``"diag"``.
        layering: layers of the approximations, ``"pennylane"`` (as ``qml.metric_tensor``)
            or ``"depth"`` (fewest, largest layers; see :func:`qgm.geometry.parametrized_layers`).
        lam: Tikhonov regularisation ``λ >= 0`` added to the metric.
        recompute_every: recompute the metric every k steps (1 = every step).
        momentum: heavy-ball coefficient ``ρ`` in [0, 1) (0 = plain QNG).
        solver: ``"pinv"``, ``"lstsq"`` or ``"solve"`` (see the module docstring).
        rcond: relative cut-off of small singular values for pinv/lstsq.
        inputs: values ``(..., I)`` of the circuit's input slots, if any; a batch
            is averaged (the metric of the input mixture's pure components).
    """

    def __init__(
        self,
        params: Iterable[torch.Tensor],
        lr: float = 0.01,
        *,
        circuit: Optional[Circuit] = None,
        metric_fn: Optional[MetricFn] = None,
        approx: Optional[str] = "block-diag",
        layering: str = "pennylane",
        lam: float = 0.0,
        recompute_every: int = 1,
        momentum: float = 0.0,
        solver: str = "pinv",
        rcond: float = 1e-8,
        inputs: Optional[torch.Tensor] = None,
    ) -> None:
        if lr <= 0:
            raise ConfigError(f"lr must be > 0, got {lr}")
        if lam < 0:
            raise ConfigError(f"lam must be >= 0 (Tikhonov regularisation), got {lam}")
        if not 0 <= momentum < 1:
            raise ConfigError(f"momentum must lie in [0, 1), got {momentum}")
        if isinstance(recompute_every, bool) or not isinstance(recompute_every, int) or recompute_every < 1:
            raise ConfigError(f"recompute_every must be a positive integer, got {recompute_every!r}")
        if solver not in SOLVERS:
            raise ConfigError(f"solver must be one of {SOLVERS}, got {solver!r}")
        if (circuit is None) == (metric_fn is None):
            raise ConfigError("QNG needs exactly one of circuit= (the model's circuit) or metric_fn= (theta -> g)")
        defaults = dict(lr=lr, momentum=momentum)
        super().__init__(params, defaults)
        n = sum(p.numel() for p in _all_params(self))
        if circuit is not None:
            if n != circuit.n_params:
                raise ParameterError(
                    f"QNG: the optimizer's parameters have {n} entries but the circuit has {circuit.n_params} "
                    "trainable slots; give QNG only the circuit's parameters or pass metric_fn="
                )
            metric_fn = circuit_metric_fn(circuit, approx, layering, inputs)
        self.metric_fn: MetricFn = metric_fn  # type: ignore[assignment]
        self.lam, self.recompute_every, self.solver, self.rcond = float(lam), recompute_every, solver, float(rcond)

    def _global_state(self) -> dict[str, Any]:
        """Step counter and cached metric, stored with the first parameter (so state_dict carries them)."""
        return self.state[_all_params(self)[0]]

    def metric(self) -> torch.Tensor:
        """The metric ``(P, P)`` used by the latest step (recomputed now if none yet)."""
        st = self._global_state()
        if "metric" not in st:
            st["metric"] = self._compute_metric()
        return st["metric"]

    def _compute_metric(self) -> torch.Tensor:
        theta = flat_params(_all_params(self))
        g = self.metric_fn(theta)
        if g.shape != (theta.numel(), theta.numel()):
            raise ParameterError(f"metric_fn returned shape {tuple(g.shape)}, expected {(theta.numel(),) * 2}")
        return g.detach()

    def direction(self, grad: torch.Tensor) -> torch.Tensor:
        """Natural-gradient direction ``(g + λI)^+ grad`` (recomputing ``g`` when due)."""
        st = self._global_state()
        k = st.get("step", 0)
        if "metric" not in st or k % self.recompute_every == 0:
            st["metric"] = self._compute_metric()
        return precondition(st["metric"], grad, self.lam, self.solver, self.rcond)

    @torch.no_grad()
    def step(self, closure: Optional[Callable[[], torch.Tensor]] = None) -> Optional[torch.Tensor]:
        """One QNG step from the gradients in ``p.grad``; ``closure`` (optional) recomputes the loss."""
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        params = _all_params(self)
        d = self.direction(flat_grads(params))
        offset = 0
        for group in self.param_groups:
            for p in group["params"]:
                k = p.numel()
                dp = d[offset : offset + k].reshape(p.shape).to(p.dtype)
                offset += k
                if group["momentum"]:
                    st = self.state[p]
                    buf = st.get("momentum_buffer")
                    dp = dp.clone() if buf is None else buf.mul_(group["momentum"]).add_(dp)
                    st["momentum_buffer"] = dp
                p.add_(dp, alpha=-group["lr"])
        st = self._global_state()
        st["step"] = st.get("step", 0) + 1
        return loss


def checked_options(cls: type, name: str, options: dict[str, Any]) -> None:
    """ConfigError for option names ``cls.__init__`` does not take."""
    allowed = [p for p in inspect.signature(cls.__init__).parameters if p not in ("self", "params")]
    unknown = sorted(set(options) - set(allowed))
    if unknown:
        raise ConfigError(f"optimizer '{name}' got unknown option(s) {unknown}; allowed: {', '.join(allowed)}")


def model_circuit(name: str, model: Any, options: dict[str, Any]) -> None:
    """Fill ``options['circuit']`` from ``model.circuit`` unless a circuit or metric_fn is given."""
    if "circuit" in options or "metric_fn" in options:
        return
    circuit = getattr(model, "circuit", None)
    if not isinstance(circuit, Circuit):
        raise ConfigError(
            f"optimizer '{name}' needs the model's circuit: pass model= (with a .circuit attribute), "
            "circuit= or metric_fn="
        )
    options["circuit"] = circuit


@OPTIMIZERS.register("qng")
def qng_factory(params: Iterable[torch.Tensor], model: Any = None, **options: Any) -> QNG:
    """Registry factory: ``QNG(params, circuit=model.circuit, **options)``."""
    checked_options(QNG, "qng", options)
    model_circuit("qng", model, options)
    return QNG(params, **options)
