"""Quantum circuit Born machine: ``p_θ(x) = |⟨x|U(θ)|0…0⟩|²`` (Liu & Wang arXiv:1804.04168).

The circuit comes from an ansatz spec dict (:mod:`qgm.models.ansatz`) or is a
user :class:`~qgm.circuits.Circuit` without input slots. All angles live in one
float64 ``nn.Parameter`` ``theta`` ``(n_params,)``, initialised from a generator
seeded by ``seed`` with a named strategy from :data:`INITIALIZERS`
(:mod:`qgm.circuits.init`; ``register_init`` adds more).

Differentiation follows ``diff_method`` (``"backprop" | "adjoint" |
"parameter-shift"``) for exact probabilities; sampled frequencies
(``probs(shots=m)``) are always differentiated by parameter shift, with fresh
samples for every shifted circuit. ``shots`` is the default the losses use.

Conditional sampling (tag ``conditional``): ``sample(n, condition=..., method=...)``
returns ``n`` samples of ``p_θ(x | condition)``, by rejection (``"reject"``: about
``1/p`` state preparations per sample), by amplitude amplification of the model's
own circuit (``"amplify"``: about ``1/√p``; schedules of :mod:`qgm.sim.amplify`) or
from the simulated conditional (``"exact"``); :meth:`QCBM.sample_conditional` also
returns what the samples cost (:class:`~qgm.sim.amplify.ConditionalSamples`).
"""
from __future__ import annotations

from typing import Any, Optional, Union

import torch
from torch import nn

from qgm import sim
from qgm.circuits import Circuit
from qgm.circuits.conditions import ConditionLike
from qgm.circuits.init import INITIALIZERS, initialize, register_init
from qgm.errors import ConfigError
from qgm.models.ansatz import build_ansatz, resolve_ansatz_spec
from qgm.models.base import GenerativeModel, ModelTags, check_n_samples
from qgm.registry import MODELS
from qgm.sim.amplify import SAMPLE_OPTIONS, ConditionalSamples, sample_conditional, sample_exact_conditional
from qgm.sim.diff import DIFF_METHODS, canonical_diff_method
from qgm.spaces import Bits, PureStates

__all__ = ["QCBM", "INITIALIZERS", "register_init", "DEFAULT_ANSATZ", "DIFF_METHODS", "CONDITIONAL_METHODS"]

DEFAULT_ANSATZ: dict[str, Any] = {"name": "hardware_efficient", "depth": 4, "entangler": "ring"}
#: Ways to sample under a condition (module docstring).
CONDITIONAL_METHODS = ("reject", "amplify", "exact")


class QCBM(GenerativeModel):
    """Born machine of a circuit without inputs.

    Args:
        circuit_or_ansatz_spec: a resolved ansatz spec dict (with ``n_qubits``;
            stored as is) or a :class:`Circuit` (stored as OpenQASM 3 text).
        diff_method: gradient method of exact probabilities.
        shots: default measurement shots for the losses (None = exact).
        init: initial-angle strategy (key of :data:`INITIALIZERS`).
        seed: seed of the initial angles.
        init_options: options of the strategy, e.g. ``{"tie_break": "first_block"}`` for
            ``identity_blocks`` or ``{"std": 0.1}`` for ``small``.
    """

    tags = ModelTags(exact_probs=True, differentiable_shots=True, prepares_state=True, conditional=True)

    def __init__(
        self,
        circuit_or_ansatz_spec: Union[Circuit, dict[str, Any]],
        diff_method: str = "backprop",
        shots: Optional[int] = None,
        init: str = "uniform",
        seed: int = 0,
        init_options: Optional[dict[str, Any]] = None,
    ) -> None:
        super().__init__()
        if isinstance(circuit_or_ansatz_spec, Circuit):
            self.circuit, self.ansatz = circuit_or_ansatz_spec, None
        else:
            self.ansatz = dict(circuit_or_ansatz_spec)
            self.circuit = build_ansatz(self.ansatz)
        if self.circuit.n_inputs:
            raise ConfigError(
                f"QCBM circuit has input slots {list(self.circuit.input_names)}; bind them (circuit.bind) first"
            )
        diff_method = canonical_diff_method(diff_method)
        shots = sim.check_shots(shots, error=ConfigError)
        self.space = Bits(self.circuit.n_qubits)
        self.diff_method, self.shots, self.init, self.seed = diff_method, shots, init, int(seed)
        self.init_options = dict(init_options or {})
        gen = torch.Generator().manual_seed(self.seed)
        self.theta = nn.Parameter(initialize(init, self.circuit, gen, **self.init_options))

    @property
    def config(self) -> dict[str, Any]:
        source: dict[str, Any] = (
            {"ansatz": self.ansatz} if self.ansatz is not None else {"qasm": self.circuit.to_qasm()}
        )
        return {**source, "diff_method": self.diff_method, "shots": self.shots, "init": self.init, "seed": self.seed,
                "init_options": self.init_options}

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> "QCBM":
        options = dict(config)
        source = Circuit.from_qasm(options.pop("qasm")) if "qasm" in options else options.pop("ansatz")
        return cls(source, **options)

    def probs(self, *, shots: Optional[int] = None, generator: Optional[torch.Generator] = None) -> torch.Tensor:
        """Born probabilities ``(2**n,)``; with ``shots`` the frequencies of ``shots`` samples
        (differentiable by parameter shift, seeded by ``generator``)."""
        if shots is None:
            return sim.probs(self.circuit, self.theta, diff_method=self.diff_method)
        return sim.probs(self.circuit, self.theta, shots=shots, generator=generator, diff_method="parameter-shift")

    def state(self) -> torch.Tensor:
        """The prepared state ``U(θ)|0…0⟩`` ``(2**n,)`` complex128 (differentiable)."""
        method = "auto" if self.diff_method == "parameter-shift" else self.diff_method  # a state: no shift rule
        return sim.state(self.circuit, self.theta, diff_method=method)

    def sample(
        self,
        n: int,
        *,
        generator: Optional[torch.Generator] = None,
        condition: Optional[ConditionLike] = None,
        method: str = "reject",
        **options: Any,
    ) -> torch.Tensor:
        """``n`` measured basis indices ``(n,)`` (wire 0 = most significant bit).

        With ``condition`` (fixed bits ``{0: 1}`` or ``"x0=1,x4=0"``, allowed indices, a
        boolean mask or a predicate over bits) the samples follow ``p_θ(x | condition)``,
        drawn by ``method`` (:data:`CONDITIONAL_METHODS`); ``options`` go to
        :meth:`sample_conditional`.
        """
        check_n_samples(n)
        if condition is None:
            if options or method != "reject":
                given = sorted(options) + ([f"method={method!r}"] if method != "reject" else [])
                raise ConfigError(f"sample: {', '.join(given)} apply to conditional sampling; pass condition= too")
            return sim.sample(self.circuit, self.theta.detach(), n, generator=generator)
        return self.sample_conditional(n, condition, method=method, generator=generator, **options).samples

    def sample_conditional(
        self,
        n: int,
        condition: ConditionLike,
        *,
        method: str = "reject",
        schedule: Optional[str] = None,
        generator: Optional[torch.Generator] = None,
        **options: Any,
    ) -> ConditionalSamples:
        """``n`` samples of ``p_θ(x | condition)`` with their cost (queries, shots, acceptance).

        Args:
            n: number of accepted samples.
            condition: the accepted set (:func:`qgm.circuits.conditions.as_condition` forms).
            method: ``"reject"`` (measure the model until accepted), ``"amplify"``
                (amplitude amplification of the model's circuit) or ``"exact"`` (draws
                from the simulated conditional; no queries).
            schedule: the amplification schedule of ``"amplify"``: ``"bbht"`` (unknown
                ``p``; the default), ``"grover"`` / ``"zero_failure"`` (known ``p``), ``"fixed_point"``
                (a lower bound ``p_min``).
            generator: seeds the shots.
            options: ``p``, ``p_min``, ``delta``, ``growth``, ``max_queries`` of
                :func:`qgm.sim.amplify.sample_conditional`.
        """
        check_n_samples(n)
        if method not in CONDITIONAL_METHODS:
            raise ConfigError(f"method: expected one of {CONDITIONAL_METHODS}, got {method!r}")
        unknown = sorted(set(options) - set(SAMPLE_OPTIONS))
        if unknown:
            raise ConfigError(f"sample: unknown option(s) {unknown}; conditional sampling takes {list(SAMPLE_OPTIONS)}")
        unused = [] if method == "amplify" else sorted(set(options) - ({"max_queries"} if method == "reject" else set()))
        if schedule is not None and method != "amplify":
            unused.append(f"schedule={schedule!r}")
        if unused:
            raise ConfigError(f"sample: {', '.join(unused)} do not apply to method={method!r}; use method='amplify'")
        theta = self.theta.detach()
        if method == "exact":
            return sample_exact_conditional(self.circuit, theta, condition, n, generator=generator)
        plan = "reject" if method == "reject" else (schedule or "bbht")
        return sample_conditional(self.circuit, theta, condition, n, schedule=plan, generator=generator, **options)


@MODELS.register("qcbm", accepts=(Bits, PureStates))
def qcbm(
    dataset: Any,
    ansatz: Optional[dict[str, Any]] = None,
    diff_method: str = "backprop",
    shots: Optional[int] = None,
    init: str = "uniform",
    seed: int = 0,
    init_options: Optional[dict[str, Any]] = None,
) -> QCBM:
    """Registered factory: a QCBM on ``dataset.n_bits`` qubits (default ansatz :data:`DEFAULT_ANSATZ`;
    ``"chow-liu"`` pairs/entangler computed from the training bits)."""
    spec = resolve_ansatz_spec(DEFAULT_ANSATZ if ansatz is None else ansatz, dataset)
    return QCBM(spec, diff_method=diff_method, shots=shots, init=init, seed=seed, init_options=init_options)
