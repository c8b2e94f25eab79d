"""QGAN-HG: MolGAN with a quantum circuit as the latent source (Li, Topaloglu, Ghosh, arXiv:2101.03438;
reference code jundeli/quantum-gan).

The latent vector of each sample is the vector of ``⟨Z_i⟩`` of a parametrised circuit on
``q`` qubits (:func:`hg_circuit`):

    every qubit:  RY(arcsin u₁) RZ(arcsin u₂)        u₁, u₂ ~ U(−1, 1)
    per layer:    RY(w_i) on every qubit i;
                  for i = 0 … q−2:  CNOT(i, i+1) · RZ(w_{q+i}) on i+1 · CNOT(i, i+1)

(``2q − 1`` parameters per layer), followed by MolGAN's generator network with a reduced
width: "mr" ``[128]`` (59,202 + 15 = 59,217 parameters = 14.93% of MolGAN's 396,610 for
q = 8, one layer) or "hr" ``[16]`` (7,794 + 15 = 7,809 = 1.97%). The saving is the smaller
network; the circuit adds 15 parameters. The critic, loss and schedule are MolGAN's
(:mod:`qgm.models.molgan`).

* **Noise encoding** (``encoding``): ``"shared"`` (the reference: two numbers ``u₁, u₂`` per
  sample for all qubits, so the latent lies on a 2-D manifold of ``[−1, 1]^q``) or
  ``"per_qubit"`` (two numbers per qubit).
* **Patches** (``n_patches``; P2QGAN-HG = 2 patches of 4 qubits): independent circuits with
  their own weights and their own noise, whose ``⟨Z⟩`` vectors are concatenated.
* **Layers**: each layer has its own weights. The reference code indexes ``w[i]`` and
  ``w[i + q]`` in every layer, i.e. all layers share the first layer's weights while
  ``layer · (2q − 1)`` parameters are allocated; with one layer (the paper's setting) the two agree.
* **Engine**: all patches and the whole batch run as one call of :func:`qgm.sim.probs`
  (parameters ``(P, 1, n_params)`` against inputs ``(P, batch, n_inputs)``), differentiated by
  backprop; ``⟨Z_i⟩ = Σ_x p(x) (1 − 2 x_i)``. Weights start uniform in ``[−init_scale, init_scale)``
  (reference: ``[−π, π)``).
"""
from __future__ import annotations

import math
from typing import Any, Optional, Sequence

import torch
from torch import nn

from qgm import sim
from qgm.circuits import Circuit, In, P
from qgm.errors import ConfigError, ParameterError
from qgm.models.adversarial import positive_int
from qgm.models.base import basis_bits, check_n_samples
from qgm.models.molgan import COMPLEXITY, MolecularGAN, graph_options, resolve_hidden
from qgm.registry import MODELS
from qgm.sim.diff import canonical_diff_method
from qgm.spaces import Graphs

__all__ = ["QGANHG", "QuantumLatent", "hg_circuit", "ENCODINGS", "COMPLEXITY"]

ENCODINGS = ("shared", "per_qubit")


def hg_circuit(n_qubits: int, n_layers: int, encoding: str = "shared") -> Circuit:
    """The QGAN-HG latent circuit (module docstring) on ``n_qubits`` wires with ``n_layers`` layers.

    Inputs: ``a``, ``b`` (shared) or ``a{i}``, ``b{i}`` (per qubit) are the angles ``arcsin u``;
    parameters ``w{l}_{k}``, ``k < 2 n_qubits − 1``, layer-major (RY weights first, then the RZ's).
    """
    if encoding not in ENCODINGS:
        raise ConfigError(f"encoding: expected one of {ENCODINGS}, got {encoding!r}")
    q = positive_int(n_qubits, "n_qubits")
    c = Circuit(q)
    for i in range(q):
        suffix = "" if encoding == "shared" else str(i)
        c = c.ry(i, In(f"a{suffix}")).rz(i, In(f"b{suffix}"))
    for layer in range(positive_int(n_layers, "n_layers")):
        for i in range(q):
            c = c.ry(i, P(f"w{layer}_{i}"))
        for i in range(q - 1):
            c = c.cx(i, i + 1).rz(i + 1, P(f"w{layer}_{q + i}")).cx(i, i + 1)
    return c


class QuantumLatent(nn.Module):
    """``n_patches`` circuits of ``n_qubits / n_patches`` qubits giving latents ``(m, n_qubits)`` in [−1, 1].

    Attributes:
        circuit: one patch's circuit (:func:`hg_circuit`).
        weights: ``(n_patches, circuit.n_params)`` trainable angles.
        dim: latent dimension ``n_qubits``.
    """

    def __init__(self, n_qubits: int = 8, n_layers: int = 1, n_patches: int = 1, encoding: str = "shared",
                 init_scale: float = math.pi, diff_method: str = "backprop", seed: int = 0) -> None:
        super().__init__()
        n_qubits, n_patches = positive_int(n_qubits, "n_qubits"), positive_int(n_patches, "n_patches")
        if n_qubits % n_patches:
            raise ConfigError(f"n_patches: {n_patches} patches do not split n_qubits={n_qubits} evenly")
        diff_method = canonical_diff_method(diff_method)
        if not init_scale >= 0:
            raise ConfigError(f"init_scale: expected a number >= 0, got {init_scale!r}")
        self.dim, self.n_patches, self.diff_method = n_qubits, n_patches, diff_method
        self.circuit = hg_circuit(n_qubits // n_patches, n_layers, encoding)
        gen = torch.Generator().manual_seed(int(seed))
        u = torch.rand(n_patches, self.circuit.n_params, dtype=torch.float64, generator=gen)
        self.weights = nn.Parameter(float(init_scale) * (2 * u - 1))
        k = self.circuit.n_qubits
        self.register_buffer("z_signs", 1 - 2 * basis_bits(k), persistent=False)

    def noise(self, m: int, rng: Optional[torch.Generator]) -> torch.Tensor:
        """Uniform noise ``u`` ``(n_patches, m, n_inputs)`` in [−1, 1) (two numbers per patch, or per qubit)."""
        check_n_samples(m)
        return 2 * torch.rand(self.n_patches, m, self.circuit.n_inputs, dtype=torch.float64, generator=rng) - 1

    def forward(self, u: torch.Tensor) -> torch.Tensor:
        """Latents ``(m, n_qubits)``: ``⟨Z_i⟩`` of every patch for noise ``u`` ``(n_patches, m, n_inputs)``,
        patches concatenated in order (one engine call; differentiable in :attr:`weights`)."""
        shape = (self.n_patches, self.circuit.n_inputs)
        if not isinstance(u, torch.Tensor) or u.dim() != 3 or (u.shape[0], u.shape[2]) != shape:
            raise ParameterError(f"u: expected noise of shape ({shape[0]}, m, {shape[1]}) in [-1, 1], "
                                 f"got {tuple(getattr(u, 'shape', ()))}")
        angles = torch.asin(u.to(self.weights))
        p = sim.probs(self.circuit, self.weights[:, None, :], angles, diff_method=self.diff_method)
        z = p @ self.z_signs.to(p.dtype)
        return z.permute(1, 0, 2).reshape(u.shape[1], self.dim)

    def sample(self, m: int, rng: Optional[torch.Generator]) -> torch.Tensor:
        """``m`` quantum latents ``(m, n_qubits)`` from fresh noise."""
        return self(self.noise(m, rng))


class QGANHG(MolecularGAN):
    """QGAN-HG / P2QGAN-HG: :class:`QuantumLatent` + MolGAN's generator network of widths ``hidden``
    ("mr" ``[128]`` by default) against MolGAN's critic.

    Args:
        hidden: generator widths (``qgm.models.molgan.COMPLEXITY``: mr [128], hr [16], nr [128, 256, 512]).
        n_qubits, n_layers, n_patches, encoding, init_scale, diff_method: the latent circuit
            (:class:`QuantumLatent`; reference: 8 qubits, 1 layer, 1 patch, shared noise, U[−π, π)).
        options: the other keyword arguments of :class:`qgm.models.molgan.MolecularGAN`.
    """

    def __init__(
        self,
        hidden: Sequence[int] = COMPLEXITY["mr"],
        n_qubits: int = 8,
        n_layers: int = 1,
        n_patches: int = 1,
        encoding: str = "shared",
        init_scale: float = math.pi,
        diff_method: str = "backprop",
        **options: Any,
    ) -> None:
        seed = int(options.get("seed", 0))
        latent = QuantumLatent(n_qubits, n_layers, n_patches, encoding, init_scale, diff_method, seed + 3)
        super().__init__(latent, hidden, **options)
        self._config = {
            "n_qubits": int(n_qubits), "n_layers": int(n_layers), "n_patches": int(n_patches), "encoding": encoding,
            "init_scale": float(init_scale), "diff_method": diff_method, **self._shared,
        }

    @property
    def circuit(self) -> Circuit:
        """One patch's latent circuit."""
        return self.generator.latent.circuit


@MODELS.register("qgan_hg", accepts=(Graphs,))
def qgan_hg(dataset: Any, complexity: Optional[str] = None, hidden: Optional[Sequence[int]] = None, seed: int = 0,
            **options: Any) -> QGANHG:
    """Registered factory: :class:`QGANHG` on the dataset's graphs (``complexity`` mr (default) / hr / nr,
    or explicit ``hidden``; ``n_patches: 2, n_qubits: 8`` is P2QGAN-HG); other options as :class:`QGANHG`
    (circuit) and :class:`qgm.models.molgan.MolecularGAN` (critic, reward, loss, …)."""
    return QGANHG(resolve_hidden(complexity, hidden, "mr"), seed=seed, **options, **graph_options(dataset))
