"""QN-SPSA (Gacon, Zoufal, Carleo, Woerner, Quantum 5, 567, 2021): quantum natural
gradient with a stochastic, shot-friendly estimate of the Fubini–Study metric.

Per step and resampling, draw Rademacher directions ``h1, h2 ∈ {±1}^P`` and
measure four fidelities with the current state (the compute–uncompute test
``|⟨ψ(x)|ψ(y)⟩|²``, estimated from ``shots`` or exact)::

    δF = F(x, x+εh1+εh2) − F(x, x+εh1) − F(x, x−εh1+εh2) + F(x, x−εh1)
    ĝ  = −δF / (8ε²) · (h1 h2ᵀ + h2 h1ᵀ)

(an unbiased estimate of ``g`` up to O(ε²), as in PennyLane's ``QNSPSAOptimizer``).
Estimates are averaged over all steps so far, made positive definite as
``|Ḡ| + λI`` (``|·|`` = matrix absolute value, ``sqrtm(Ḡ²)``), and the update
is ``θ ← θ − η (|Ḡ| + λI)^{-1} ∇L``.

The gradient ``∇L`` is either autograd's ``p.grad`` (``gradient="autograd"``:
any differentiable loss, exact or parameter-shift with shots) or the SPSA
estimate ``(L(x+εh) − L(x−εh))/(2ε) · h`` from two loss evaluations
(``gradient="spsa"``: gradient-free, the closure must return the loss and
must not call ``backward``).
"""
from __future__ import annotations

from typing import Any, Callable, Iterable, Optional

import torch
from torch.optim import Optimizer

from qgm.circuits.circuit import Circuit
from qgm.errors import ConfigError, ParameterError
from qgm.optim.qng import SOLVERS, checked_options, flat_grads, flat_params, model_circuit, precondition
from qgm.registry import OPTIMIZERS
from qgm.sim.engine import state

__all__ = ["QNSPSA", "GRADIENTS", "qnspsa_metric_sample", "qnspsa_factory"]

GRADIENTS = ("autograd", "spsa")


def _rademacher(shape: tuple[int, ...], generator: Optional[torch.Generator], like: torch.Tensor) -> torch.Tensor:
    r = torch.randint(0, 2, shape, generator=generator, device=like.device)
    return (2 * r - 1).to(like.dtype)


def qnspsa_metric_sample(
    circuit: Circuit,
    theta: torch.Tensor,
    eps: float = 1e-2,
    resamplings: int = 1,
    shots: Optional[int] = None,
    generator: Optional[torch.Generator] = None,
    inputs: Optional[torch.Tensor] = None,
) -> torch.Tensor:
    """The mean of ``resamplings`` QN-SPSA metric estimates ``(P, P)`` at ``theta`` ``(P,)``.

    With ``shots`` each fidelity is a Binomial(shots, F)/shots draw (the
    all-zero frequency of the compute–uncompute circuit). A batch of ``inputs``
    averages the fidelities over it.
    """
    p = theta.numel()
    h1 = _rademacher((resamplings, p), generator, theta)
    h2 = _rademacher((resamplings, p), generator, theta)
    x = theta.reshape(1, p)
    points = torch.stack([x + eps * (h1 + h2), x + eps * h1, x + eps * (h2 - h1), x - eps * h1], 1)  # (R, 4, P)
    pts = torch.cat([x, points.reshape(-1, p)]).reshape(-1, *([1] * (0 if inputs is None else inputs.dim() - 1)), p)
    with torch.no_grad():
        psi = state(circuit, pts, inputs)  # (1 + 4R, *b, D)
    overlap = (psi[:1].conj() * psi[1:]).sum(-1)
    fid = (overlap.real**2 + overlap.imag**2).clamp(0.0, 1.0)
    if shots is not None:
        fid = torch.binomial(torch.full_like(fid, float(shots)), fid, generator=generator) / shots
    fid = fid.reshape(resamplings, 4, -1).mean(-1)
    delta = fid[:, 0] - fid[:, 1] - fid[:, 2] + fid[:, 3]  # (R,)
    outer = h1.unsqueeze(-1) * h2.unsqueeze(-2)
    est = -(delta / (8 * eps**2))[:, None, None] * (outer + outer.transpose(-1, -2))
    return est.mean(0)


def _abs_psd(m: torch.Tensor) -> torch.Tensor:
    """Matrix absolute value ``sqrtm(m²)`` of a symmetric matrix."""
    w, v = torch.linalg.eigh((m + m.T) / 2)
    return (v * w.abs()) @ v.T


class QNSPSA(Optimizer):
    """Quantum natural SPSA: QNG with a stochastic fidelity-based metric.

    Args:
        params: the circuit's trainable parameters (concatenated: the slot vector ``(P,)``).
        lr: step size ``η``.
        circuit: the model's circuit (its fidelities define the metric).
        eps: finite-difference step ``ε`` of the perturbations.
        lam: regularisation ``λ > 0`` added to ``|Ḡ|``.
        shots: shots per fidelity estimate (None = exact fidelities).
        resamplings: metric estimates per step (averaged).
        gradient: ``"autograd"`` (``p.grad``) or ``"spsa"`` (needs a closure returning the loss).
        solver: ``"solve"`` (default; ``|Ḡ| + λI`` is positive definite), ``"pinv"`` or ``"lstsq"``.
        generator: seeds the directions and shot draws (its state travels in ``state_dict``).
        inputs: values of the circuit's input slots, if any.
    """

    def __init__(
        self,
        params: Iterable[torch.Tensor],
        lr: float = 1e-3,
        *,
        circuit: Circuit,
        eps: float = 1e-2,
        lam: float = 1e-3,
        shots: Optional[int] = None,
        resamplings: int = 1,
        gradient: str = "autograd",
        solver: str = "solve",
        generator: Optional[torch.Generator] = None,
        inputs: Optional[torch.Tensor] = None,
    ) -> None:
        if lr <= 0 or eps <= 0 or lam <= 0:
            raise ConfigError(f"lr, eps and lam must be > 0, got lr={lr}, eps={eps}, lam={lam}")
        if gradient not in GRADIENTS:
            raise ConfigError(f"gradient must be one of {GRADIENTS}, got {gradient!r}")
        if solver not in SOLVERS:
            raise ConfigError(f"solver must be one of {SOLVERS}, got {solver!r}")
        for field, v in (("resamplings", resamplings), ("shots", 1 if shots is None else shots)):
            if isinstance(v, bool) or not isinstance(v, int) or v < 1:
                raise ConfigError(f"{field} must be a positive integer, got {v!r}")
        if not isinstance(circuit, Circuit):
            raise ConfigError(f"circuit: expected a qgm.Circuit, got {type(circuit).__name__}")
        super().__init__(params, dict(lr=lr))
        n = sum(p.numel() for g in self.param_groups for p in g["params"])
        if n != circuit.n_params:
            raise ParameterError(
                f"QNSPSA: the optimizer's parameters have {n} entries but the circuit has {circuit.n_params} slots"
            )
        self.circuit, self.eps, self.lam, self.shots = circuit, float(eps), float(lam), shots
        self.resamplings, self.gradient, self.solver = resamplings, gradient, solver
        self.generator, self.inputs = generator, inputs

    def _params(self) -> list[torch.Tensor]:
        return [p for g in self.param_groups for p in g["params"]]

    def _write(self, vec: torch.Tensor, scale_by_lr: bool) -> None:
        """Add ``vec`` (times ``-lr`` per group if ``scale_by_lr``) to the parameters."""
        offset = 0
        for group in self.param_groups:
            for p in group["params"]:
                k = p.numel()
                d = vec[offset : offset + k].reshape(p.shape).to(p.dtype)
                p.add_(d, alpha=-group["lr"] if scale_by_lr else 1.0)
                offset += k

    def _spsa_gradient(self, closure: Callable[[], torch.Tensor], theta: torch.Tensor) -> torch.Tensor:
        h = _rademacher((theta.numel(),), self.generator, theta)
        self._write(self.eps * h, scale_by_lr=False)
        plus = float(closure())
        self._write(-2 * self.eps * h, scale_by_lr=False)
        minus = float(closure())
        self._write(self.eps * h, scale_by_lr=False)
        return (plus - minus) / (2 * self.eps) * h

    @torch.no_grad()
    def step(self, closure: Optional[Callable[[], torch.Tensor]] = None) -> Optional[torch.Tensor]:
        """One QN-SPSA step; ``closure`` is required with ``gradient="spsa"``."""
        params = self._params()
        theta = flat_params(params).to(torch.float64)
        loss = None
        if self.gradient == "spsa":
            if closure is None:
                raise ConfigError("QNSPSA with gradient='spsa' needs step(closure) with a closure returning the loss")
            grad = self._spsa_gradient(closure, theta)
        else:
            if closure is not None:
                with torch.enable_grad():
                    loss = closure()
            grad = flat_grads(params).to(torch.float64)
        st = self.state[params[0]]
        k = st.get("step", 0)
        est = qnspsa_metric_sample(self.circuit, theta, self.eps, self.resamplings, self.shots, self.generator, self.inputs)
        st["metric_avg"] = est if k == 0 else (k * st["metric_avg"].to(est.dtype) + est) / (k + 1)
        d = precondition(_abs_psd(st["metric_avg"]), grad, self.lam, self.solver)
        self._write(d, scale_by_lr=True)
        st["step"] = k + 1
        return loss

    def metric(self) -> torch.Tensor:
        """The regularised metric ``|Ḡ| + λI`` ``(P, P)`` of the latest step."""
        st = self.state[self._params()[0]]
        if "metric_avg" not in st:
            raise ParameterError("QNSPSA.metric(): no step taken yet")
        g = _abs_psd(st["metric_avg"].to(torch.float64))
        return g + self.lam * torch.eye(g.shape[0], dtype=g.dtype, device=g.device)

    def state_dict(self) -> dict[str, Any]:
        sd = super().state_dict()
        if self.generator is not None:
            sd["generator_state"] = self.generator.get_state()
        return sd

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        sd = dict(state_dict)
        gen_state = sd.pop("generator_state", None)
        super().load_state_dict(sd)
        if gen_state is not None and self.generator is not None:
            self.generator.set_state(gen_state)


@OPTIMIZERS.register("qnspsa")
def qnspsa_factory(params: Iterable[torch.Tensor], model: Any = None, **options: Any) -> QNSPSA:
    """Registry factory: ``QNSPSA(params, circuit=model.circuit, **options)``."""
    checked_options(QNSPSA, "qnspsa", options)
    model_circuit("qnspsa", model, options)
    return QNSPSA(params, **options)
