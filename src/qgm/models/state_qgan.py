"""A quantum GAN on ensembles of pure states: the QuDDPM paper's QGAN baseline.

The generator player applies one circuit (QuDDPM's backward-step ansatz,
:func:`~qgm.models.qddpm.denoiser_circuit`, on ``n`` data + ``n_a`` ancilla
qubits) to fixed Haar-random inputs and measures the ancillas. Its fakes are
**all** post-measurement branches, weighted by their probabilities over the
``n_inputs`` inputs, so every adversarial loss is the exact expectation over
the ancilla outcomes (differentiable, unbiased). The critic is a quantum
classifier on the ``n`` data qubits (``critic_layers`` layers of the same ansatz)
reading ``P(real) = (1 + ⟨Z_0⟩)/2``.

With ``loss="wgan-gp"`` and ``gp_weight=0`` (the default) the losses are the
reference's linear ones: critic ``E P(real|fake) − E P(real|data)``, generator
``−E P(real|fake)``. With ``loss="bce"`` the critic's logit is
``log(P/(1−P)) = 2 atanh⟨Z_0⟩``. The players, their order and optimizers
are :class:`~qgm.models.adversarial.AdversarialModel`'s.
"""
from __future__ import annotations

import math
from typing import Any, Optional

import torch
from torch import nn

from qgm.errors import ConfigError
from qgm.losses.ensemble import branch_decomposition, haar_states, measure_ancillas
from qgm.models.adversarial import AdversarialModel, positive_int
from qgm.models.base import check_n_samples
from qgm.models.qddpm import ancilla_isometry, denoiser_circuit, stream_generator
from qgm.registry import MODELS
from qgm.spaces import PureStates

__all__ = ["StateQGAN", "StateGeneratorPlayer", "QuantumStateCritic"]

#: Tags of the random streams of the initial angles (generator, critic) and of the fixed Haar training inputs.
_STREAM_GENERATOR, _STREAM_CRITIC, _STREAM_INPUTS = 0, 1, 2
#: Largest |⟨Z_0⟩| turned into a logit (keeps 2 atanh finite).
_Z_CLIP = 1 - 1e-12


def _initial_angles(n: int, scale: float, seed: int, stream: int) -> torch.Tensor:
    return scale * torch.randn(n, generator=stream_generator(seed, stream), dtype=torch.float64)


class StateGeneratorPlayer(nn.Module):
    """Haar inputs → circuit on data + ancillas → ancilla measurement (see the module docstring)."""

    def __init__(self, n_qubits: int, n_ancilla: int, layers: int, n_inputs: int, init_scale: float, seed: int,
                 data: Optional[torch.Tensor] = None) -> None:
        super().__init__()
        self.space = PureStates(n_qubits)
        self.n_ancilla, self.n_inputs, self.seed = n_ancilla, n_inputs, seed
        self.circuit = denoiser_circuit(n_qubits + n_ancilla, layers)
        self.theta = nn.Parameter(_initial_angles(self.circuit.n_params, init_scale, seed, _STREAM_GENERATOR))
        self.data = data

    def get_extra_state(self) -> dict[str, Any]:
        return {} if self.data is None else {"data": self.data}

    def set_extra_state(self, state: dict[str, Any]) -> None:
        self.data = state.get("data")

    def inputs(self) -> torch.Tensor:
        """The fixed Haar training inputs ``(n_inputs, 2**n)``."""
        g = stream_generator(self.seed, _STREAM_INPUTS)
        return haar_states(self.space.n, self.n_inputs, generator=g).to(self.theta.device)

    def outputs(self, inputs: torch.Tensor) -> torch.Tensor:
        """Pre-measurement states ``(N, 2**(n_a+n))`` of ``inputs`` ``(N, 2**n)``."""
        return inputs.to(self.theta.device) @ ancilla_isometry(self.circuit, self.theta, self.n_ancilla)

    def fake(self, m: int, rng: Optional[torch.Generator]) -> tuple[torch.Tensor, torch.Tensor]:
        """Every branch of every training input ``(n_inputs · 2**n_a, 2**n)`` and its weight ``p_im / n_inputs``."""
        p, branches = branch_decomposition(self.outputs(self.inputs()), self.n_ancilla)
        return branches.reshape(-1, branches.shape[-1]), p.reshape(-1) / p.shape[0]

    def real(self, batch: Optional[torch.Tensor]) -> tuple[torch.Tensor, None]:
        """The data batch (None: the stored training ensemble), unweighted."""
        if batch is None:
            if self.data is None:
                raise ConfigError("train.batch_size: this state QGAN holds no training ensemble; set a batch size")
            batch = self.data
        return self.space.check(batch, "batch").to(self.theta.device), None

    def draw(self, n: int, rng: Optional[torch.Generator]) -> torch.Tensor:
        """``n`` generated states: fresh Haar inputs, one sampled ancilla outcome each."""
        check_n_samples(n)
        inputs = haar_states(self.space.n, n, generator=rng)
        return measure_ancillas(self.outputs(inputs), self.n_ancilla, rng)


class QuantumStateCritic(nn.Module):
    """``P(real|ψ) = (1 + ⟨ψ|U†Z_0U|ψ⟩)/2`` of states ``(k, 2**n)`` -> ``(k, 1)`` (or its logit)."""

    def __init__(self, n_qubits: int, layers: int, logit: bool, init_scale: float, seed: int) -> None:
        super().__init__()
        self.circuit, self.logit = denoiser_circuit(n_qubits, layers), logit
        self.theta = nn.Parameter(_initial_angles(self.circuit.n_params, init_scale, seed, _STREAM_CRITIC))
        bits = torch.arange(1 << n_qubits) >> (n_qubits - 1)
        self.register_buffer("z0", 1.0 - 2.0 * bits.to(torch.float64), persistent=False)

    def forward(self, states: torch.Tensor) -> torch.Tensor:
        out = states.to(self.theta.device) @ ancilla_isometry(self.circuit, self.theta, 0)
        z = ((out.real**2 + out.imag**2) * self.z0).sum(-1, keepdim=True)
        return 2 * torch.atanh(z.clamp(-_Z_CLIP, _Z_CLIP)) if self.logit else (1 + z) / 2


class StateQGAN(AdversarialModel):
    """Quantum generator vs quantum critic on ``n_qubits``-qubit pure-state ensembles."""

    def __init__(self, n_qubits: int, n_ancilla: int = 1, layers: int = 120, critic_layers: int = 16,
                 n_inputs: int = 100, loss: str = "wgan-gp", gp_weight: float = 0.0, d_steps: int = 1,
                 g_steps: int = 1, init_scale: float = 1.0, data: Optional[torch.Tensor] = None,
                 seed: int = 0) -> None:
        n, na = positive_int(n_qubits, "n_qubits"), int(n_ancilla)
        if isinstance(n_ancilla, bool) or not isinstance(n_ancilla, int) or na < 0:
            raise ConfigError(f"n_ancilla: expected an integer >= 0, got {n_ancilla!r}")
        if gp_weight != 0:
            raise ConfigError(f"gp_weight: must be 0 for state GANs (interpolated states are not states), "
                              f"got {gp_weight!r}")
        if not (isinstance(init_scale, (int, float)) and math.isfinite(init_scale) and init_scale >= 0):
            raise ConfigError(f"init_scale: expected a finite number >= 0, got {init_scale!r}")
        space = PureStates(n)
        data = None if data is None else space.check(torch.as_tensor(data).to(torch.complex128), "data")
        generator = StateGeneratorPlayer(n, na, positive_int(layers, "layers"), positive_int(n_inputs, "n_inputs"),
                                         float(init_scale), int(seed), data)
        critic = QuantumStateCritic(n, positive_int(critic_layers, "critic_layers"), loss == "bce",
                                    float(init_scale), int(seed))
        super().__init__(generator, critic, loss=loss, d_steps=d_steps, g_steps=g_steps, gp_weight=0.0, seed=seed)
        self.space = space
        self._config = {"n_qubits": n, "n_ancilla": na, "layers": layers, "critic_layers": critic_layers,
                        "n_inputs": n_inputs, "loss": loss, "gp_weight": 0.0, "d_steps": d_steps, "g_steps": g_steps,
                        "init_scale": float(init_scale), "seed": int(seed)}


@MODELS.register("state_qgan", accepts=(PureStates,))
def state_qgan(dataset: Any, n_ancilla: int = 1, layers: int = 120, critic_layers: int = 16, n_inputs: int = 100,
               loss: str = "wgan-gp", gp_weight: float = 0.0, d_steps: int = 1, g_steps: int = 1,
               init_scale: float = 1.0, seed: int = 0) -> StateQGAN:
    """Registered factory: :class:`StateQGAN` on the dataset's qubits (the QuDDPM paper's baseline uses
    ``layers=120``, ``critic_layers=16`` for the 2-qubit cluster)."""
    if not isinstance(getattr(dataset, "space", None), PureStates):
        raise ConfigError("dataset: state_qgan trains on pure-state ensembles (PureStates)")
    return StateQGAN(dataset.space.n, n_ancilla, layers, critic_layers, n_inputs, loss, gp_weight, d_steps, g_steps,
                     init_scale, dataset.train, seed)
