"""Quantum denoising diffusion (QuDDPM; Zhang, Xu, Chen, Zhuang, PRL 132, 100602 (2024)) and
quantum direct transport, on ensembles of ``n``-qubit pure states (space ``PureStates(n)``).

**Forward (scrambling, no training).** Step ``s = 1..T`` applies to every state
its own random layer: ``RZ(φ₁) RY(φ₂) RZ(φ₃)`` on each qubit with
``φ ~ U[−π/8, π/8]·h_s``, then (``n >= 2``) ``RZZ(g_s/(2√n))`` on every pair with
``g_s ~ U[0.4, 0.6]·h_s`` (``RZ(a) = e^{−iaZ/2}``, ``RZZ(a) = e^{−iaZZ/2}``). The
diffused ensemble ``S_t`` is the data after ``t`` such layers
(:func:`forward_diffuse`, batched tensor contractions; the engine's circuit
form is checked against it in the tests); the
schedule ``h`` (:func:`diffusion_schedule`) is chosen so that ``S_T`` is
close to Haar-random.

**Backward (denoising).** Step ``t = T−1 … 0`` maps ``S̃_{t+1}`` to ``S̃_t``: the
data state enters ``n`` data qubits next to ``n_a`` ancillas in ``|0⟩`` (the
ancillas are the first, most significant wires), a circuit of ``L`` layers
``[RX on all; RY on all; CZ (0,1),(2,3)…; CZ (1,2),(3,4)…]`` (``2(n+n_a)L`` angles,
initialised ``N(0, init_scale²)``) acts on all of them, the ancillas are measured and
the renormalised data state is kept. Generation starts from Haar-random states.

**Training (greedy, one diffusion step at a time) on the one Trainer loop.**
The model owns its objective (one player ``"model"``, one optimizer over the
``T`` per-step angle tensors). Training step ``k`` (0-based, counted by a
step hook on the model's optimizer, saved in ``state_dict``) trains diffusion
step ``t = T − 1 − ⌊k / epochs_per_step⌋`` (held at 0 afterwards), so a run of
``train.steps = T · epochs_per_step`` reproduces the reference's schedule: the
``n_inputs`` fixed Haar training inputs are pushed through the already trained
steps ``T−1 … t+1`` (cached, each step's outcomes drawn from a generator seeded by
``(seed, step)``, so a resumed run recomputes the same inputs), step ``t``'s
outputs are scored against the data batch diffused to step ``t`` with fresh
noise (``batch=None``: the whole training ensemble), and only step ``t``'s
angles receive gradients (Adam keeps separate moments per step tensor).
``objective`` also returns ``diffusion_step`` for the logs.

Losses (``loss``):

* ``"mmd"`` (default): :func:`~qgm.losses.ensemble.branch_mixture_mmd`, the fidelity
  MMD averaged exactly over the ancilla outcomes (the reduced state of the data
  qubits after the circuit); its gradient is unbiased. The reference code instead
  differentiates one sampled, renormalised branch, dropping ``∂p_m/∂θ``:
* ``"mmd_sampled"``: that biased estimator, for comparison;
* ``"wasserstein"``: exact OT (POT) between sampled post-measurement states and the
  data (OT is not linear in the generated states, so the outcomes are sampled; the
  gradient flows through the renormalised branch, as in the reference).

``diff_method``: ``"backprop"`` / ``"adjoint"`` differentiate one batched engine call
over the ``2**n`` data basis states (the step's isometry ``V_t``; the ``N`` ensemble
states are then one matrix product ``Ψ V_t``); ``"parameter-shift"`` (``loss="mmd"``
only) evaluates the reduced states at all ``2P`` shifted angle sets in that one
call (``(2P+1) × 2**n`` circuits) and applies the two-term shift rule.

Direct transport (``quantum_direct_transport``) is the same model with ``T = 1``: one
circuit of the total depth trained to map Haar states straight to the data.
"""
from __future__ import annotations

import functools
import math
from typing import Any, Optional, Sequence, Union

import numpy as np
import torch
from torch import nn

from qgm import sim
from qgm.circuits import Circuit, hardware_efficient
from qgm.errors import ConfigError, ParameterError
from qgm.limits import check_ansatz_size, check_bytes, check_state
from qgm.losses.ensemble import (
    branch_mixture_mmd,
    fidelity_mmd,
    haar_states,
    measure_ancillas,
    reduced_density,
    state_wasserstein,
)
from qgm.models.base import DEFAULT_PLAYER, GenerativeModel, ModelTags, check_n_samples
from qgm.optim import build_optimizer
from qgm.registry import MODELS
from qgm.sim.diff import DIFF_METHODS, canonical_diff_method
from qgm.spaces import PureStates

__all__ = [
    "QuDDPM", "forward_diffuse", "scramble", "scramble_angles", "denoiser_circuit", "diffusion_schedule",
    "embed_ancillas", "ancilla_isometry", "stream_generator", "QDDPM_LOSSES", "QDDPM_DIFF_METHODS", "DEFAULT_OPTIMIZER",
    "reference_parameter_order",
]

QDDPM_LOSSES = ("mmd", "mmd_sampled", "wasserstein")
QDDPM_DIFF_METHODS = DIFF_METHODS  # the engine's list (qgm.sim.diff)
#: Optimizer when the config's ``optimizer`` section is empty.
DEFAULT_OPTIMIZER: dict[str, Any] = {"name": "adam", "lr": 0.005}
#: Tag of the random stream of the fixed Haar training inputs, and of the pushes through trained steps.
_STREAM_INPUTS, _STREAM_PUSH = 1, 2

ScheduleSpec = Union[Sequence[float], dict[str, Any], None]


def _positive(value: Any, field: str, minimum: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise ConfigError(f"{field}: expected an integer >= {minimum}, got {value!r}")
    return int(value)


def stream_generator(*tags: int) -> torch.Generator:
    """A generator seeded from the integers ``tags`` (e.g. ``(seed, stream, step)``): independent streams."""
    seed = int(np.random.SeedSequence([int(t) for t in tags]).generate_state(1, np.uint64)[0] >> np.uint64(1))
    return torch.Generator().manual_seed(seed)


# ---------------------------------------------------------------------------- forward process
def diffusion_schedule(spec: ScheduleSpec, steps: int) -> list[float]:
    """The ``T = steps`` noise amplitudes ``h_1 … h_T`` of ``spec``.

    ``spec``: a list of ``T`` numbers >= 0; ``{name: linspace, start, stop}``;
    ``{name: quadratic, scale}`` (``h_s = scale · s²``); ``{name: piecewise, pieces:
    [[start, stop, count], ...]}`` (concatenated linspaces, counts summing to ``T``);
    None: ``linspace(0.5, 4)``.
    """
    steps = _positive(steps, "steps")
    if spec is None:
        spec = {"name": "linspace", "start": 0.5, "stop": 4.0}
    if isinstance(spec, dict):
        opts = {k: v for k, v in spec.items() if k != "name"}
        name = spec.get("name")
        if name not in ("linspace", "quadratic", "piecewise"):
            raise ConfigError(f"schedule.name: expected linspace, quadratic or piecewise, got {name!r}")
        try:
            if name == "linspace":
                h = np.linspace(float(opts["start"]), float(opts["stop"]), steps)
            elif name == "quadratic":
                h = float(opts["scale"]) * np.arange(1, steps + 1) ** 2
            else:
                h = np.concatenate([np.linspace(float(a), float(b), int(c)) for a, b, c in opts["pieces"]])
        except (KeyError, TypeError, ValueError) as exc:
            raise ConfigError(f"schedule: bad options for {name!r} ({exc}); e.g. {{name: linspace, start: 1, "
                              "stop: 4}") from None
    else:
        h = np.asarray(spec, dtype=np.float64).reshape(-1)
    if h.shape != (steps,) or not np.all(np.isfinite(h)) or np.any(h < 0):
        raise ConfigError(f"schedule: expected {steps} finite amplitudes >= 0 (one per diffusion step), got "
                          f"{np.round(h, 4).tolist()}")
    return [float(v) for v in h]


def scramble_angles(n_qubits: int, schedule: torch.Tensor, m: int, generator: Optional[torch.Generator] = None
                    ) -> tuple[torch.Tensor, torch.Tensor]:
    """Random angles of ``m`` forward trajectories: ``φ`` ``(m, t, 3, n)`` (the RZ, RY, RZ angles of each qubit
    in step ``s``, ``U[−π/8, π/8]·h_s``) and the RZZ angles ``(m, t)`` (``g_s/(2√n)``, ``g_s ~ U[0.4, 0.6]·h_s``)."""
    t = schedule.shape[0]
    phi = (torch.rand(m, t, 3, n_qubits, generator=generator, dtype=torch.float64) - 0.5) * (math.pi / 4)
    g = (0.4 + 0.2 * torch.rand(m, t, generator=generator, dtype=torch.float64)) / (2 * math.sqrt(n_qubits))
    return phi * schedule[:, None, None], g * schedule


def _zyz(a: torch.Tensor, b: torch.Tensor, c: torch.Tensor) -> torch.Tensor:
    """``RZ(c) RY(b) RZ(a)`` ``(..., 2, 2)`` for angle tensors of equal shape."""
    cos, sin = torch.cos(b / 2), torch.sin(b / 2)
    plus, minus = torch.polar(torch.ones_like(a), (a + c) / 2), torch.polar(torch.ones_like(a), (a - c) / 2)
    return torch.stack([torch.stack([plus.conj() * cos, -minus * sin], -1),
                        torch.stack([minus.conj() * sin, plus * cos], -1)], -2)


@functools.lru_cache(maxsize=None)
def _pair_parities(n: int) -> torch.Tensor:
    """``Σ_{i<j} z_i z_j`` ``(2**n,)`` with ``z = ±1`` the Z eigenvalue of each wire."""
    z = 1.0 - 2.0 * ((torch.arange(1 << n)[:, None] >> torch.arange(n - 1, -1, -1)) & 1).to(torch.float64)
    return (z.sum(1) ** 2 - n) / 2


def scramble(states: torch.Tensor, phi: torch.Tensor, g: torch.Tensor) -> torch.Tensor:
    """Apply forward layers to ``states`` ``(m, 2**n)`` with angles ``phi`` ``(m, t, 3, n)`` and RZZ angles ``g``
    ``(m, t)`` (:func:`scramble_angles`): per layer, ``RZ RY RZ`` on each qubit, then ``RZZ(g)`` on every pair."""
    m, n = states.shape[0], phi.shape[-1]
    psi = states.to(torch.complex128)
    parities = _pair_parities(n).to(states.device)
    u = _zyz(phi[:, :, 0], phi[:, :, 1], phi[:, :, 2]).to(states.device)  # (m, t, n, 2, 2)
    for s in range(phi.shape[1]):
        for q in range(n):
            psi = (u[:, s, q, None] @ psi.reshape(m, 1 << q, 2, -1)).reshape(m, -1)
        if n > 1:
            psi = psi * torch.polar(torch.ones_like(parities), -0.5 * g[:, s, None].to(states.device) * parities)
    return psi


def forward_diffuse(states: torch.Tensor, schedule: Sequence[float], generator: Optional[torch.Generator] = None
                    ) -> torch.Tensor:
    """``states`` ``(N, 2**n)`` after ``len(schedule)`` forward steps with amplitudes ``schedule``, a fresh
    random layer per state and step (no steps: the states unchanged)."""
    n = int(states.shape[-1]).bit_length() - 1
    states = PureStates(n).check(states, "states").detach()
    if len(schedule) == 0:
        return states
    phi, g = scramble_angles(n, torch.as_tensor(list(schedule), dtype=torch.float64), states.shape[0], generator)
    return scramble(states, phi, g)


# ---------------------------------------------------------------------------- backward circuits
def _brick_pairs(n: int) -> list[tuple[int, int]]:
    return [(q, q + 1) for q in range(0, n - 1, 2)] + [(q, q + 1) for q in range(1, n - 1, 2)]


def denoiser_circuit(n_qubits: int, layers: int) -> Circuit:
    """``layers`` × [RX, RY on every wire; CZ on (0,1),(2,3)…; CZ on (1,2),(3,4)…]: ``2 n L`` angles, ordered
    ``rx q0, ry q0, rx q1, …`` per layer (:func:`reference_parameter_order` maps the reference's order)."""
    return hardware_efficient(n_qubits, layers, rotations=("rx", "ry"), entangler=_brick_pairs(n_qubits),
                              entangling_gate="cz", final_rotations=False)


def reference_parameter_order(n_qubits: int, layers: int) -> torch.Tensor:
    """Index map ``ours = reference[idx]`` from the reference code's angle order (per layer: RX of all wires,
    then RY of all wires) to :func:`denoiser_circuit`'s (RX, RY per wire)."""
    idx = [2 * n_qubits * layer + k * n_qubits + q for layer in range(layers) for q in range(n_qubits)
           for k in range(2)]
    return torch.as_tensor(idx)


def ancilla_isometry(circuit: Circuit, theta: torch.Tensor, n_ancilla: int, diff_method: str = "backprop"
                     ) -> torch.Tensor:
    """``V = U(θ) (|0…0⟩_a ⊗ ·)`` as rows ``V|j⟩`` ``(2**n, 2**(n_a+n))`` for the ``2**n`` data basis states:
    one engine call over the basis; an ensemble ``Ψ`` ``(N, 2**n)`` then maps to ``Ψ V``."""
    dim = 1 << (circuit.n_qubits - n_ancilla)
    basis = torch.eye(dim, dtype=torch.complex128, device=theta.device)
    return sim.state(circuit, theta, initial_state=embed_ancillas(basis, n_ancilla), diff_method=diff_method)


def embed_ancillas(states: torch.Tensor, n_ancilla: int) -> torch.Tensor:
    """Data states ``(N, 2**n)`` as ``|0…0⟩_a ⊗ |ψ⟩`` ``(N, 2**(n_a+n))`` (ancillas = most significant wires)."""
    out = torch.zeros(states.shape[0], states.shape[1] << n_ancilla, dtype=states.dtype, device=states.device)
    out[:, : states.shape[1]] = states
    return out


# ---------------------------------------------------------------------------- the model
class QuDDPM(GenerativeModel):
    """Quantum denoising diffusion on ``n_qubits`` data qubits (see the module docstring).

    Args:
        n_qubits: data qubits ``n``.
        n_ancilla: ancilla qubits ``n_a`` measured after each backward step.
        steps: diffusion steps ``T`` (1: direct transport).
        layers: layers ``L`` of each backward circuit.
        schedule: forward amplitudes (:func:`diffusion_schedule`).
        loss: one of :data:`QDDPM_LOSSES`.
        n_inputs: fixed Haar training inputs (the reference uses the batch size, 100).
        epochs_per_step: training steps spent on each diffusion step.
        diff_method: one of :data:`QDDPM_DIFF_METHODS`.
        init_scale: standard deviation of the initial angles.
        data: the training ensemble ``(N, 2**n)`` used for ``batch=None`` (kept in ``state_dict``).
        seed: seed of the initial angles, the training inputs and the model's random stream.
    """

    tags = ModelTags(owns_objective=True)

    def __init__(
        self,
        n_qubits: int,
        n_ancilla: int = 1,
        steps: int = 20,
        layers: int = 4,
        schedule: ScheduleSpec = None,
        loss: str = "mmd",
        n_inputs: int = 100,
        epochs_per_step: int = 2000,
        diff_method: str = "backprop",
        init_scale: float = 1.0,
        data: Optional[torch.Tensor] = None,
        seed: int = 0,
    ) -> None:
        super().__init__()
        self.space = PureStates(_positive(n_qubits, "n_qubits"))
        self.n_ancilla = _positive(n_ancilla, "n_ancilla", 0)
        self.steps = _positive(steps, "steps")
        self.layers = _positive(layers, "layers")
        self.n_inputs = _positive(n_inputs, "n_inputs")
        self._check_sizes()
        self.schedule = diffusion_schedule(schedule, self.steps)
        if loss not in QDDPM_LOSSES:
            raise ConfigError(f"loss: expected one of {QDDPM_LOSSES}, got {loss!r}")
        diff_method = canonical_diff_method(diff_method)
        if diff_method == "parameter-shift" and loss != "mmd":
            raise ConfigError(f"diff_method: 'parameter-shift' differentiates measured reduced states (loss 'mmd'); "
                              f"loss {loss!r} needs sampled post-measurement states, use 'backprop'")
        if not (isinstance(init_scale, (int, float)) and math.isfinite(init_scale) and init_scale >= 0):
            raise ConfigError(f"init_scale: expected a finite number >= 0, got {init_scale!r}")
        self.loss_name, self.diff_method, self.init_scale = loss, diff_method, float(init_scale)
        self.epochs_per_step = _positive(epochs_per_step, "epochs_per_step")
        self.seed = int(seed)
        self.circuit = denoiser_circuit(self.n_total, self.layers)
        gen = torch.Generator().manual_seed(self.seed)
        self.theta = nn.ParameterList(
            [nn.Parameter(self.init_scale * torch.randn(self.circuit.n_params, generator=gen, dtype=torch.float64))
             for _ in range(self.steps)])
        self.register_buffer("updates", torch.zeros((), dtype=torch.int64))
        self.data = None if data is None else self.space.check(torch.as_tensor(data).to(torch.complex128), "data")
        self.rng = torch.Generator().manual_seed(self.seed + 0x9E3779B9)
        self._cache: Optional[tuple[int, torch.Tensor]] = None

    def _check_sizes(self) -> None:
        """Refuse, before building anything, backward circuits beyond :data:`~qgm.limits.MAX_ANSATZ_CELLS`, states
        of ``n + n_a`` qubits for ``max(n_inputs, 2**n)`` inputs beyond the memory budget, and ``steps`` parameter
        vectors that cannot fit."""
        n = self.space.n  # type: ignore[attr-defined]
        check_ansatz_size(self.layers, self.n_total, "layers")
        check_state(self.n_total, "n_qubits + n_ancilla", batch=max(self.n_inputs, 2 ** min(n, 62)))
        check_bytes(self.steps * (16 * self.layers * self.n_total + 512), "steps",
                    f"{self.steps} backward steps of {2 * self.layers * self.n_total} angles", "use fewer steps")

    # -- configuration and persistence --------------------------------------------------------
    @property
    def n_total(self) -> int:
        """Qubits of a backward circuit ``n + n_a``."""
        return self.space.n + self.n_ancilla  # type: ignore[attr-defined]

    @property
    def config(self) -> dict[str, Any]:
        return {"n_qubits": self.space.n, "n_ancilla": self.n_ancilla, "steps": self.steps,  # type: ignore[attr-defined]
                "layers": self.layers, "schedule": list(self.schedule), "loss": self.loss_name,
                "n_inputs": self.n_inputs, "epochs_per_step": self.epochs_per_step, "diff_method": self.diff_method,
                "init_scale": self.init_scale, "seed": self.seed}

    def get_extra_state(self) -> dict[str, Any]:
        state: dict[str, Any] = {"rng": self.rng.get_state()}
        if self.data is not None:
            state["data"] = self.data
        return state

    def set_extra_state(self, state: dict[str, Any]) -> None:
        self.rng.set_state(state["rng"])
        self.data = state.get("data")
        self._cache = None

    def configure_optimizers(self, spec: Any = None) -> dict[str, torch.optim.Optimizer]:
        """One optimizer (default :data:`DEFAULT_OPTIMIZER`) over every step's angles, with a step hook that
        counts updates (which diffusion step trains; see the module docstring)."""
        spec = dict(spec or DEFAULT_OPTIMIZER)
        if "name" not in spec:
            raise ConfigError(f"optimizer: QuDDPM takes one optimizer {{name, lr, ...}}, got {spec!r}")
        opt = build_optimizer(list(self.theta), spec, model=self)
        opt.register_step_post_hook(lambda *_: self.updates.add_(1))
        return {DEFAULT_PLAYER: opt}

    # -- the backward process ------------------------------------------------------------------
    @property
    def training_step(self) -> int:
        """The diffusion step ``t`` the next update trains (``T − 1`` first, 0 last)."""
        done = int(self.updates) // self.epochs_per_step
        return max(self.steps - 1 - done, 0)

    def isometry(self, t: int) -> torch.Tensor:
        """Backward step ``t``'s :func:`ancilla_isometry` ``(2**n, 2**(n_a+n))``, differentiable by ``diff_method``."""
        if not 0 <= t < self.steps:
            raise ParameterError(f"t: expected a diffusion step in 0..{self.steps - 1}, got {t}")
        method = "backprop" if self.diff_method == "parameter-shift" else self.diff_method
        return ancilla_isometry(self.circuit, self.theta[t], self.n_ancilla, method)

    def denoise(self, states: torch.Tensor, t: int) -> torch.Tensor:
        """Backward step ``t`` before the measurement: ``U_t (|0⟩_a ⊗ |ψ⟩)`` ``(N, 2**(n_a+n))`` for states
        ``(N, 2**n)`` (the whole ensemble as one product with :meth:`isometry`)."""
        iso = self.isometry(t)
        return states.to(device=iso.device, dtype=iso.dtype) @ iso

    def step_states(self, states: torch.Tensor, t: int, generator: Optional[torch.Generator] = None
                    ) -> torch.Tensor:
        """``S̃_t`` from ``S̃_{t+1}`` ``(N, 2**n)``: backward step ``t`` and one sampled ancilla outcome per state."""
        return measure_ancillas(self.denoise(states, t), self.n_ancilla, generator)

    def trajectory(self, inputs: torch.Tensor, generator: Optional[torch.Generator] = None) -> torch.Tensor:
        """The backward trajectory ``(T+1, N, 2**n)`` from ``inputs`` ``(N, 2**n)`` (index ``t`` = ``S̃_t``,
        index ``T`` = the inputs), without gradients."""
        inputs = self.space.check(inputs, "inputs")
        out = [inputs.to(torch.complex128)]
        with torch.no_grad():
            for t in range(self.steps - 1, -1, -1):
                out.append(self.step_states(out[-1], t, generator))
        return torch.stack(out[::-1])

    def sample(self, n: int, *, generator: Optional[torch.Generator] = None) -> torch.Tensor:
        """``n`` generated states ``(n, 2**n)``: Haar inputs through all backward steps."""
        check_n_samples(n)
        inputs = haar_states(self.space.n, n, generator=generator)  # type: ignore[attr-defined]
        return self.trajectory(inputs.to(self.theta[0].device), generator)[0]

    def training_inputs(self) -> torch.Tensor:
        """The fixed Haar training inputs ``(n_inputs, 2**n)`` (seeded by ``seed``)."""
        return haar_states(self.space.n, self.n_inputs, generator=stream_generator(self.seed, _STREAM_INPUTS)  # type: ignore
                           ).to(self.theta[0].device)

    def stage_inputs(self, t: int) -> torch.Tensor:
        """Inputs ``S̃_{t+1}`` ``(n_inputs, 2**n)`` of backward step ``t``: the training inputs pushed through the
        steps ``T−1 … t+1`` (the outcomes of step ``s`` drawn from a generator seeded by ``(seed, s)``)."""
        if self._cache is not None and self._cache[0] >= t + 1:
            s, states = self._cache
        else:
            s, states = self.steps, self.training_inputs()
        with torch.no_grad():
            while s > t + 1:
                s -= 1
                states = self.step_states(states, s, stream_generator(self.seed, _STREAM_PUSH, s))
        self._cache = (s, states)
        return states

    # -- the objective ---------------------------------------------------------------------------
    def target_batch(self, batch: Optional[torch.Tensor], t: int) -> torch.Tensor:
        """The data ``batch`` (None: the stored training ensemble) diffused to step ``t`` with fresh noise."""
        if batch is None:
            if self.data is None:
                raise ConfigError("train.batch_size: this QuDDPM holds no training ensemble; set a batch size")
            batch = self.data
        batch = self.space.check(batch, "batch").to(torch.complex128)
        return forward_diffuse(batch, self.schedule[:t], self.rng).to(self.theta[0].device)

    def reduced_states(self, states: torch.Tensor, t: int) -> torch.Tensor:
        """Reduced states of the data qubits after backward step ``t`` ``(N, 2**n, 2**n)`` (the exact mixture
        over ancilla outcomes), differentiable by ``diff_method`` (:meth:`shifted_reduced_states` for
        ``"parameter-shift"``)."""
        if self.diff_method == "parameter-shift":
            return self.shifted_reduced_states(states, t)
        return reduced_density(self.denoise(states, t), self.n_ancilla)

    def shifted_reduced_states(self, states: torch.Tensor, t: int) -> torch.Tensor:
        """Reduced states whose gradient comes from the parameter-shift rule: ``ρ`` is a trigonometric polynomial
        of degree one in each angle, so ``∂ρ/∂θ_k = [ρ(θ + π/2 e_k) − ρ(θ − π/2 e_k)]/2`` exactly. The ``2P + 1``
        angle sets × the ``2**n`` data basis states run as one engine call; the returned tensor has the value
        ``ρ(θ)`` and the gradient ``Σ_k ∂ρ/∂θ_k dθ_k``."""
        theta = self.theta[t]
        p = theta.numel()
        base = theta.detach()
        shifts = (math.pi / 2) * torch.eye(p, dtype=base.dtype, device=base.device)
        params = torch.cat([base[None], base + shifts, base - shifts])[:, None, :]  # (2P+1, 1, P)
        dim = self.space.dim  # type: ignore[attr-defined]
        basis = torch.eye(dim, dtype=torch.complex128, device=base.device)
        with torch.no_grad():
            iso = sim.state(self.circuit, params, initial_state=embed_ancillas(basis, self.n_ancilla))
            pre = states.to(device=iso.device, dtype=iso.dtype) @ iso  # (2P+1, N, 2**(n_a+n))
            rho = reduced_density(pre.reshape(-1, pre.shape[-1]), self.n_ancilla).reshape(2 * p + 1, -1, dim, dim)
        derivative = (rho[1 : p + 1] - rho[p + 1 :]) / 2
        return rho[0] + torch.einsum("k,knij->nij", (theta - base).to(rho.dtype), derivative)

    def objective(self, batch: Optional[torch.Tensor], player: str) -> dict[str, torch.Tensor]:
        """``{"loss", "diffusion_step"}`` of the diffusion step being trained (see the module docstring)."""
        if player != DEFAULT_PLAYER:
            raise ConfigError(f"player: QuDDPM has the single player {DEFAULT_PLAYER!r}, got {player!r}")
        t = self.training_step
        inputs = self.stage_inputs(t)
        target = self.target_batch(batch, t)
        if self.loss_name == "mmd":
            loss = branch_mixture_mmd(self.reduced_states(inputs, t), target)
        else:
            out = measure_ancillas(self.denoise(inputs, t), self.n_ancilla, self.rng)
            loss = fidelity_mmd(out, target) if self.loss_name == "mmd_sampled" else state_wasserstein(out, target)
        return {"loss": loss, "diffusion_step": torch.tensor(float(t))}


def _model(dataset: Any, **options: Any) -> QuDDPM:
    if not isinstance(getattr(dataset, "space", None), PureStates):
        raise ConfigError("dataset: QuDDPM trains on pure-state ensembles (PureStates); got "
                          f"{getattr(getattr(dataset, 'space', None), 'describe', lambda: '?')()}")
    return QuDDPM(dataset.space.n, data=dataset.train, **options)


@MODELS.register("quddpm", accepts=(PureStates,))
def quddpm(dataset: Any, n_ancilla: int = 1, steps: int = 20, layers: int = 4, schedule: ScheduleSpec = None,
           loss: str = "mmd", n_inputs: int = 100, epochs_per_step: int = 2000, diff_method: str = "backprop",
           init_scale: float = 1.0, seed: int = 0) -> QuDDPM:
    """Registered factory: :class:`QuDDPM` on the dataset's qubits (set ``train.steps`` to
    ``steps · epochs_per_step``)."""
    return _model(dataset, n_ancilla=n_ancilla, steps=steps, layers=layers, schedule=schedule, loss=loss,
                  n_inputs=n_inputs, epochs_per_step=epochs_per_step, diff_method=diff_method,
                  init_scale=init_scale, seed=seed)


@MODELS.register("quantum_direct_transport", accepts=(PureStates,))
def quantum_direct_transport(dataset: Any, n_ancilla: int = 1, layers: int = 120, loss: str = "mmd",
                             n_inputs: int = 100, diff_method: str = "backprop", init_scale: float = 1.0,
                             seed: int = 0) -> QuDDPM:
    """Registered factory: one backward circuit of ``layers`` layers from Haar states to the data (QuDDPM with
    ``T = 1`` and no diffusion; the reference's baseline uses ``T · L`` = 120 layers for the 2-qubit cluster)."""
    return _model(dataset, n_ancilla=n_ancilla, steps=1, layers=layers, schedule=[0.0], loss=loss,
                  n_inputs=n_inputs, epochs_per_step=1, diff_method=diff_method, init_scale=init_scale, seed=seed)
