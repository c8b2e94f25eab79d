"""Quantum GANs: a quantum generator against a classical discriminator.

The two-player machinery (objective, players, optimizers, data side) lives in
:mod:`qgm.models.adversarial`; this module holds the two quantum generator
players and the :class:`QGAN`:

* :class:`BornPlayer` (**discrete**): a QCBM over the dataset's ``n`` bits. Its
  fake data are *all* ``2**n`` basis points (decoded values or bits) weighted by
  the Born vector ``p_θ``, so ``L_G = Σ_x p_θ(x) l(D(x))`` is exact and
  differentiable (backprop/adjoint; with ``shots`` the frequencies of fresh
  samples, differentiated by parameter shift). Data batches enter as their
  histogram over the same points (Zoufal et al. arXiv:1904.00043).
* :class:`LatentPlayer` (**continuous**): latent noise ``z ~ U[0, π)^k`` fed into
  the circuit's input slots ``In("z_j")`` (``RY(z_j)``, optionally re-uploaded
  every layer); outputs ``x_i = shift_i + scale_i ⟨Z_i⟩`` for ``i < d``, exact
  or, with ``shots``, the measured marginal ``1 − 2 P̂(q_i = 1)`` of ``shots``
  measurements (parameter-shift gradients).
"""
from __future__ import annotations

import math
from typing import Any, Optional, Sequence

import numpy as np
import torch
from torch import nn

from qgm import sim
from qgm.circuits import Circuit, In, entangler_pairs
from qgm.errors import ConfigError
from qgm.models.adversarial import (
    DEFAULT_DISCRIMINATOR,
    AdversarialModel,
    PointsMixin,
    bit_data_discriminator,
    continuous_batch,
    data_standardisation,
    discrete_points,
    discriminator_spec,
    output_box,
    positive_int,
)
from qgm.models.ansatz import build_ansatz
from qgm.models.discriminators import build_discriminator
from qgm.models.qcbm import INITIALIZERS, QCBM
from qgm.registry import MODELS
from qgm.sim.diff import canonical_diff_method
from qgm.spaces import Bits, Reals

__all__ = [
    "BornPlayer", "LatentPlayer", "QGAN", "latent_circuit", "DEFAULT_DISCRETE_ANSATZ", "DEFAULT_LATENT_ANSATZ",
]

#: Discrete generator of Zoufal et al.: H on every qubit, then TwoLocal('ry', 'cz', reps=depth).
DEFAULT_DISCRETE_ANSATZ: dict[str, Any] = {
    "name": "hardware_efficient", "depth": 2, "rotations": ["ry"], "entangler": "ring", "entangling_gate": "cz",
}
DEFAULT_LATENT_ANSATZ: dict[str, Any] = {"depth": 3, "reupload": True, "entangler": "ring"}
INITIAL_STATES = ("uniform", "zero")
MODES = ("discrete", "continuous")


class BornPlayer(PointsMixin):
    """Discrete quantum player: a :class:`QCBM` whose fakes are all points weighted by ``p_θ``."""

    def __init__(self, qcbm: QCBM, points: torch.Tensor, target: torch.Tensor) -> None:
        super().__init__()
        self.qcbm = qcbm
        self.set_points(points, target)

    @property
    def circuit(self) -> Circuit:
        return self.qcbm.circuit

    def probs(self, *, shots: Optional[int] = None, generator: Optional[torch.Generator] = None) -> torch.Tensor:
        """Exact Born vector, or frequencies of ``shots`` samples (parameter-shift differentiable)."""
        return self.qcbm.probs(shots=shots, generator=generator)

    def fake(self, m: int, rng: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
        return self.points, self.qcbm.probs(shots=self.qcbm.shots, generator=rng)


def latent_circuit(n_qubits: int, latent_dim: int, depth: int, reupload: bool = True, entangler: Any = "ring"
                   ) -> Circuit:
    """Continuous generator circuit: per layer ``RY(z_j)`` encodings (first layer, or every layer
    with ``reupload``; latent ``j`` on qubit ``j mod n``), trainable ``RY RZ`` on every qubit and
    a CZ entangler; a final trainable ``RY`` layer. Slots ``theta_k``; inputs ``z0 … z{k−1}``."""
    pairs = entangler_pairs(n_qubits, entangler) if n_qubits > 1 else []
    c = Circuit(n_qubits)
    for layer in range(depth):
        if layer == 0 or reupload:
            for j in range(latent_dim):
                c = c.ry(j % n_qubits, In(f"z{j}"))
        for q in range(n_qubits):
            c = c.ry(q).rz(q)
        for a, b in pairs:
            c = c.cz(a, b)
    for q in range(n_qubits):
        c = c.ry(q)
    return c


class LatentPlayer(nn.Module):
    """Continuous quantum player ``x = shift + scale ⊙ ⟨Z_0 … Z_{d−1}⟩(z; θ)``, ``z ~ U[0, π)^k``."""

    def __init__(
        self, circuit: Circuit, out_dim: int, shift: Sequence[float], scale: Sequence[float],
        theta: torch.Tensor, shots: Optional[int] = None, diff_method: str = "backprop",
    ) -> None:
        super().__init__()
        self.circuit, self.out_dim, self.shots, self.diff_method = circuit, out_dim, shots, diff_method
        n = circuit.n_qubits
        self.observables = ["I" * i + "Z" + "I" * (n - i - 1) for i in range(out_dim)]
        self.theta = nn.Parameter(theta.to(torch.float64))
        self.register_buffer("shift", torch.as_tensor(shift, dtype=torch.float64))
        self.register_buffer("scale", torch.as_tensor(scale, dtype=torch.float64))

    def latent(self, m: int, rng: Optional[torch.Generator]) -> torch.Tensor:
        """``m`` latent vectors ``(m, k)`` uniform in ``[0, π)``."""
        return torch.rand(m, self.circuit.n_inputs, dtype=torch.float64, generator=rng) * math.pi

    def outputs(self, z: torch.Tensor, rng: Optional[torch.Generator] = None) -> torch.Tensor:
        """Generated values ``(m, d)`` of latents ``z`` ``(m, k)``."""
        method = "parameter-shift" if self.shots is not None else self.diff_method
        e = sim.expval(self.circuit, self.theta, self.observables, inputs=z.to(self.theta.device),
                       shots=self.shots, generator=rng, diff_method=method)
        return self.shift + self.scale * e

    def fake(self, m: int, rng: torch.Generator) -> tuple[torch.Tensor, None]:
        return self.outputs(self.latent(m, rng), rng), None

    def draw(self, n: int, rng: Optional[torch.Generator]) -> torch.Tensor:
        return self.outputs(self.latent(n, rng), rng)

    def real(self, batch: Optional[torch.Tensor]) -> tuple[torch.Tensor, None]:
        return continuous_batch(batch, self.out_dim)


# -- the QGAN ------------------------------------------------------------------------------
class QGAN(AdversarialModel):
    """Quantum generator (discrete Born machine or continuous latent circuit) vs a classical discriminator.

    Args:
        n_qubits: generator qubits (discrete: the data's bits, ``2**n`` bins).
        mode: ``"discrete"`` or ``"continuous"``.
        ansatz: discrete: an ansatz spec of :mod:`qgm.models.ansatz` without ``n_qubits``
            (default: Zoufal's ``TwoLocal('ry', 'cz')``, depth 2); continuous: ``{"depth",
            "reupload", "entangler"}`` of :func:`latent_circuit`.
        initial: discrete start state before the ansatz, ``"uniform"`` (H on every qubit) or ``"zero"``.
        points: discrete: discriminator inputs of the ``2**n`` basis states ``(2**n, d)``
            (decoded values); None = the bits.
        target: discrete: the exact target ``(2**n,)`` used for ``batch=None``.
        out_shift, out_scale: continuous: affine map of ``⟨Z_i⟩`` to ``R^d`` (``d = len(out_shift)``).
        latent_dim: continuous: latent inputs ``k`` (default ``n_qubits``).
        discriminator: discriminator spec (:func:`~qgm.models.discriminators.build_discriminator`).
        loss, d_steps, g_steps, gp_weight, gp_samples, seed: see :class:`AdversarialModel`.
        shots: generator measurement shots per evaluation (None = exact).
        diff_method: exact-gradient method of the circuit.
        init: initial-angle strategy (``"small"``: near the initial state, as Qiskit's U[0, 0.02)).
    """

    def __init__(
        self,
        n_qubits: int,
        mode: str = "discrete",
        ansatz: Optional[dict[str, Any]] = None,
        initial: str = "uniform",
        points: Optional[Sequence[Sequence[float]]] = None,
        target: Optional[Sequence[float]] = None,
        out_shift: Optional[Sequence[float]] = None,
        out_scale: Optional[Sequence[float]] = None,
        latent_dim: Optional[int] = None,
        discriminator: Optional[dict[str, Any]] = None,
        loss: str = "bce",
        d_steps: int = 1,
        g_steps: int = 1,
        gp_weight: float = 10.0,
        gp_samples: int = 256,
        shots: Optional[int] = None,
        diff_method: str = "backprop",
        init: str = "small",
        seed: int = 0,
    ) -> None:
        n = positive_int(n_qubits, "n_qubits")
        if mode not in MODES:
            raise ConfigError(f"mode must be one of {MODES}, got {mode!r}")
        diff_method = canonical_diff_method(diff_method)
        if init not in INITIALIZERS:
            raise ConfigError(f"init {init!r} unknown; known: {sorted(INITIALIZERS)}")
        shots = sim.check_shots(shots, error=ConfigError)
        disc_spec = dict(DEFAULT_DISCRIMINATOR if discriminator is None else discriminator)
        if mode == "discrete":
            ansatz = dict(DEFAULT_DISCRETE_ANSATZ if ansatz is None else ansatz)
            player: nn.Module = _born_player(n, ansatz, initial, points, target, shots, diff_method, init, seed)
            space: Any = Bits(n)
        else:
            ansatz = dict(DEFAULT_LATENT_ANSATZ if ansatz is None else ansatz)
            player = _latent_player(n, ansatz, out_shift, out_scale, latent_dim, shots, diff_method, init, seed)
            space = Reals(player.out_dim)
        in_dim = player.points.shape[1] if mode == "discrete" else player.out_dim
        super().__init__(player, build_discriminator(disc_spec, in_dim, seed=seed),
                         loss, d_steps, g_steps, gp_weight, gp_samples, seed)
        self.space, self.shots, self.mode = space, shots, mode
        self._config = {
            "n_qubits": n, "mode": mode, "ansatz": ansatz, "initial": initial, "points": points, "target": target,
            "out_shift": out_shift, "out_scale": out_scale, "latent_dim": latent_dim, "discriminator": disc_spec,
            "loss": loss, "d_steps": self.d_steps, "g_steps": self.g_steps, "gp_weight": self.gp_weight,
            "gp_samples": self.gp_samples, "shots": shots, "diff_method": diff_method, "init": init,
            "seed": int(seed),
        }

    @property
    def circuit(self) -> Circuit:
        """The generator circuit (what ``qng`` preconditions)."""
        return self.generator.circuit


def _born_player(
    n: int, ansatz: dict[str, Any], initial: str, points: Any, target: Any, shots: Optional[int],
    diff_method: str, init: str, seed: int,
) -> BornPlayer:
    if "n_qubits" in ansatz and ansatz["n_qubits"] != n:
        raise ConfigError(
            f"ansatz n_qubits={ansatz['n_qubits']}: the data have 2**{n} bins and need n_qubits={n}; drop the key"
        )
    if initial not in INITIAL_STATES:
        raise ConfigError(f"initial must be one of {INITIAL_STATES}, got {initial!r}")
    circuit = build_ansatz({**ansatz, "n_qubits": n})
    if initial == "uniform":
        start = Circuit(n)
        for q in range(n):
            start = start.h(q)
        circuit = start.compose(circuit)
    qcbm = QCBM(circuit, diff_method=diff_method, shots=shots, init=init, seed=seed)
    pts, tgt = discrete_points(n, points, target)
    return BornPlayer(qcbm, pts, tgt)


def _latent_player(
    n: int, ansatz: dict[str, Any], out_shift: Any, out_scale: Any, latent_dim: Optional[int],
    shots: Optional[int], diff_method: str, init: str, seed: int,
) -> LatentPlayer:
    unknown = sorted(set(ansatz) - set(DEFAULT_LATENT_ANSATZ))
    if unknown:
        raise ConfigError(f"ansatz: continuous QGANs take {sorted(DEFAULT_LATENT_ANSATZ)}, got unknown {unknown}")
    if out_shift is None or out_scale is None or len(out_shift) != len(out_scale):
        raise ConfigError("out_shift/out_scale: continuous mode needs both, one value per output dimension")
    d = len(out_shift)
    if d > n:
        raise ConfigError(f"n_qubits={n}: too few qubits for {d} output dimensions (one <Z> per dimension); "
                          f"use n_qubits >= {d}")
    spec = {**DEFAULT_LATENT_ANSATZ, **ansatz}
    k = n if latent_dim is None else positive_int(latent_dim, "latent_dim")
    circuit = latent_circuit(n, k, positive_int(spec["depth"], "ansatz.depth"), bool(spec["reupload"]),
                             spec["entangler"])
    theta = INITIALIZERS[init](circuit, torch.Generator().manual_seed(int(seed)))
    return LatentPlayer(circuit, d, out_shift, out_scale, theta, shots, diff_method)


@MODELS.register("qgan", accepts=(Bits, Reals))
def qgan(
    dataset: Any,
    mode: str = "auto",
    n_qubits: Optional[int] = None,
    ansatz: Optional[dict[str, Any]] = None,
    initial: str = "uniform",
    disc_input: str = "values",
    latent_dim: Optional[int] = None,
    discriminator: Optional[dict[str, Any]] = None,
    loss: str = "bce",
    d_steps: int = 1,
    g_steps: int = 1,
    gp_weight: float = 10.0,
    gp_samples: int = 256,
    shots: Optional[int] = None,
    diff_method: str = "backprop",
    init: str = "small",
    seed: int = 0,
) -> QGAN:
    """Registered factory: a QGAN for ``dataset``.

    ``mode="auto"`` is ``"continuous"`` for datasets of ``Reals(dim)``, else
    ``"discrete"`` on the ``Bits(n)`` of the dataset: ``dataset.n_bits``
    qubits (``n_qubits`` must then equal it). The discriminator standardises its
    input with the data's mean/std; continuous outputs span the data's bounding
    box (+10%); continuous ``n_qubits`` defaults to ``dim + 2``.
    """
    continuous = isinstance(dataset.space, Reals)
    if mode == "auto":
        mode = "continuous" if continuous else "discrete"
    if mode not in MODES:
        raise ConfigError(f"mode must be 'auto' or one of {MODES}, got {mode!r}")
    common = dict(ansatz=ansatz, discriminator=None, loss=loss, d_steps=d_steps, g_steps=g_steps,
                  gp_weight=gp_weight, gp_samples=gp_samples, shots=shots, diff_method=diff_method, init=init,
                  seed=seed)
    if mode == "continuous":
        if not continuous:
            raise ConfigError(f"mode='continuous' needs a dataset of Reals, got {dataset.space.describe()}")
        train = np.asarray(dataset.train, dtype=np.float64)
        shift, scale = output_box(train)
        common["discriminator"] = discriminator_spec(discriminator, data_standardisation(train))
        n = int(dataset.dim) + 2 if n_qubits is None else n_qubits
        return QGAN(n, "continuous", out_shift=shift, out_scale=scale, latent_dim=latent_dim, **common)
    if continuous:
        raise ConfigError(f"mode='discrete' needs a dataset of Bits, got {dataset.space.describe()}")
    if n_qubits is not None and n_qubits != dataset.n_bits:
        raise ConfigError(f"n_qubits={n_qubits}: the dataset has 2**{dataset.n_bits} bins and needs "
                          f"n_qubits={dataset.n_bits} (one qubit per bit); drop n_qubits or change the bins")
    points, target, common["discriminator"] = bit_data_discriminator(dataset, disc_input, discriminator)
    return QGAN(dataset.n_bits, "discrete", initial=initial, points=points, target=target.tolist(), **common)
