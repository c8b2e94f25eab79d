"""Costs of a barren-plateau scan: batched functions of final states, built per qubit count.

A scan cost maps states ``(B, 2**n)`` to values ``(B,)``. Each is
``f(p)`` of the Born distribution ``p`` of a measured register: the circuit's
output state ``ψ`` (generative losses), or ``φ = V†ψ`` after un-preparing a
target state ``|π⟩ = V|0…0⟩`` (fidelity costs). With ``shots`` the
distribution is replaced by sample frequencies (fresh samples per call).

Names (:data:`COSTS`; options after the name):

* ``global``: ``1 − |⟨π|ψ⟩|² = 1 − p_φ(0…0)``; ``target`` (default ``"zero"``:
  the global cost ``C_G`` of Cerezo et al.).
* ``local``: ``1 − (1/n) Σ_j p_φ(wire j = 0)``; with ``target="zero"`` the local
  cost ``C_L`` of Cerezo et al., with another target the local quantum fidelity
  loss of Rudolph et al. (:mod:`qgm.losses.fidelity`).
* ``mmd``: ``(p − π)ᵀ K_σ (p − π)`` with the Hamming kernel ``exp(−d_H/(2σ))``
  (``sigma``: one bandwidth or a list; each a number or an expression of ``n``
  such as ``"n/4"``, :mod:`qgm.trainability.rules`; ``convention`` as in
  :mod:`qgm.losses.kernel`). Mean body-ness: :func:`qgm.losses.expected_bodyness`.
* ``kl``: ``Σ_x π(x) log(π(x)/p(x))``.
* ``parity``: ``⟨Z^⊗n⟩ = Σ_x (−1)^{|x|} p(x)``, a global Pauli cost (``Tr O² = 2**n``,
  McClean et al.: ``Var ~ 2**−n`` on 2-designs, where the fidelity costs, whose
  projector has ``Tr O² = 1``, decay like ``4**−n``).

``target`` names a state of :mod:`qgm.trainability.states` (``target_options``
are passed to it); distribution costs use its Born distribution ``|π|²``.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Optional, Union

import torch

from qgm.data.states import target_state
from qgm.errors import ConfigError
from qgm.losses.fidelity import Unpreparation, zero_marginals
from qgm.losses.kernel import GaussianMixtureKernel
from qgm.trainability.rules import eval_rule

__all__ = ["ScanCost", "CostSpec", "COSTS", "build_cost", "parse_cost", "frequencies"]

#: Floor of model probabilities inside the KL logarithm (keeps log finite; p < 1e-300 never matters).
KL_FLOOR = 1e-300


def frequencies(p: torch.Tensor, shots: int, generator: Optional[torch.Generator]) -> torch.Tensor:
    """Frequencies ``(B, K)`` of ``shots`` draws from each row of ``p`` ``(B, K)``."""
    idx = torch.multinomial(p.detach().clamp_min(0.0), shots, replacement=True, generator=generator)
    counts = torch.zeros_like(p).scatter_add_(1, idx, torch.ones_like(idx, dtype=p.dtype))
    return counts / shots


@dataclass
class ScanCost:
    """A cost on ``n_bits`` qubits: optional un-preparation, then ``of_probs(p) -> (B,)``."""

    n_bits: int
    of_probs: Callable[[torch.Tensor], torch.Tensor]
    unprepare: Optional[Unpreparation] = None

    def probs(self, psi: torch.Tensor) -> torch.Tensor:
        """Distribution ``(B, 2**n)`` of the measured register."""
        phi = psi if self.unprepare is None else self.unprepare(psi)
        return phi.real**2 + phi.imag**2

    def measured(
        self, psi: torch.Tensor, shots: Optional[int] = None, generator: Optional[torch.Generator] = None
    ) -> torch.Tensor:
        """:meth:`probs`, or the frequencies of ``shots`` samples from it."""
        p = self.probs(psi)
        return p if shots is None else frequencies(p, shots, generator)

    def __call__(
        self, psi: torch.Tensor, shots: Optional[int] = None, generator: Optional[torch.Generator] = None
    ) -> torch.Tensor:
        """Cost values ``(B,)`` of states ``psi`` ``(B, 2**n)`` (exact, or from ``shots`` samples)."""
        return self.of_probs(self.measured(psi, shots, generator))


@dataclass(frozen=True)
class CostSpec:
    """A named cost with options and a display label (key of results)."""

    name: str
    options: dict[str, Any] = field(default_factory=dict)
    label: str = ""

    def build(self, n: int) -> ScanCost:
        return build_cost(self.name, n, **self.options)


def _target(n: int, target: str, target_options: Optional[dict[str, Any]]) -> Any:
    return target_state(target, n, **(target_options or {}))


def _global(n: int, target: str = "zero", target_options: Optional[dict[str, Any]] = None,
            householder: bool = False) -> ScanCost:
    t = _target(n, target, target_options)
    return ScanCost(n, lambda p: 1.0 - p[..., 0], Unpreparation(t.state, None if householder else t.prep))


def _local(n: int, target: str = "zero", target_options: Optional[dict[str, Any]] = None,
           householder: bool = False) -> ScanCost:
    t = _target(n, target, target_options)
    return ScanCost(
        n, lambda p: 1.0 - zero_marginals(p, n).mean(-1), Unpreparation(t.state, None if householder else t.prep)
    )


def _mmd(n: int, sigma: Union[float, str, list[Union[float, str]]] = 1.0, convention: str = "liu-wang",
         target: str = "zero", target_options: Optional[dict[str, Any]] = None) -> ScanCost:
    sigmas = [eval_rule(s, n, "sigma") for s in (sigma if isinstance(sigma, (list, tuple)) else [sigma])]
    kernel = GaussianMixtureKernel.from_sigmas(n, sigmas, convention)
    pi = _target(n, target, target_options).target
    return ScanCost(n, lambda p: kernel.quadratic(p - pi.to(p.device)))


def _kl(n: int, target: str = "zero", target_options: Optional[dict[str, Any]] = None) -> ScanCost:
    pi = _target(n, target, target_options).target
    support = torch.nonzero(pi > 0).reshape(-1)
    w = pi[support]

    def kl(p: torch.Tensor) -> torch.Tensor:
        return (w * (w.log() - p[..., support].clamp_min(KL_FLOOR).log())).sum(-1)

    return ScanCost(n, kl)


def _parity(n: int) -> ScanCost:
    signs = 1.0 - 2.0 * (torch.tensor([bin(x).count("1") % 2 for x in range(1 << n)], dtype=torch.float64))
    return ScanCost(n, lambda p: p @ signs.to(p.device))


#: Cost builders ``(n, **options) -> ScanCost`` by name.
COSTS: dict[str, Callable[..., ScanCost]] = {
    "global": _global, "local": _local, "mmd": _mmd, "kl": _kl, "parity": _parity,
}


def build_cost(name: str, n: int, **options: Any) -> ScanCost:
    """The cost ``name`` on ``n`` qubits (ConfigError on unknown names/options)."""
    if name not in COSTS:
        raise ConfigError(f"cost {name!r} unknown; known: {sorted(COSTS)}")
    try:
        return COSTS[name](n, **options)
    except TypeError as err:
        raise ConfigError(f"cost {name!r}: bad options {sorted(options)} ({err})") from None


def _default_label(name: str, options: dict[str, Any]) -> str:
    shown = ",".join(f"{k}={v}" for k, v in sorted(options.items()) if k != "target_options")
    return f"{name}({shown})" if shown else name


def parse_cost(spec: Union[str, dict[str, Any], CostSpec]) -> CostSpec:
    """A :class:`CostSpec` from ``"global"`` or ``{"name": "mmd", "sigma": 4, "label": ...}``."""
    if isinstance(spec, CostSpec):
        return spec
    if isinstance(spec, str):
        spec = {"name": spec}
    if not isinstance(spec, dict) or "name" not in spec:
        raise ConfigError(f"cost: expected a name or a dict with 'name' (one of {sorted(COSTS)}), got {spec!r}")
    options = {k: v for k, v in spec.items() if k not in ("name", "label")}
    build_cost(spec["name"], 2, **options)  # validate name and options early, on a tiny instance
    return CostSpec(spec["name"], options, spec.get("label") or _default_label(spec["name"], options))
