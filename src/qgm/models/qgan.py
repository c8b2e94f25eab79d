"""Quantum GANs: a quantum generator against a classical discriminator.

:class:`AdversarialModel` is the two-player machinery every GAN here shares
(the QGAN, the classical baseline :mod:`qgm.baselines.gan`, patch QGANs): a
*generator player* and a discriminator ``nn.Module`` (logits ``(m, 1)``),
trained with one of :data:`~qgm.losses.adversarial.ADVERSARIAL_LOSSES` through
the Trainer's adversarial contract (``configure_optimizers`` /
``training_step``; see ``docs/notes/CONTRACTS.md``).

A generator player is an ``nn.Module`` with

* ``fake(m, generator) -> (x (k, d), weights (k,) | None)``: discriminator inputs
  of generated data, differentiable in the player's parameters; ``weights`` is
  the distribution over the ``k`` rows (None = ``k = m`` i.i.d. samples);
* ``draw(n, generator)``: ``n`` samples as the model returns them;
* ``probs(shots, generator)`` (discrete players only).

Two quantum players:

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

import contextlib
import math
from typing import Any, Iterator, Optional, Sequence

import numpy as np
import torch
from torch import nn

from qgm import sim
from qgm.circuits import Circuit, In, entangler_pairs
from qgm.errors import ConfigError, ParameterError
from qgm.losses.adversarial import get_adversarial_loss, gradient_penalty
from qgm.losses.base import check_shots, histogram, target_distribution
from qgm.models.ansatz import build_ansatz
from qgm.models.base import GenerativeModel, basis_bits, sample_from_probs
from qgm.models.discriminators import build_discriminator
from qgm.models.qcbm import DIFF_METHODS, INITIALIZERS, QCBM
from qgm.optim import build_optimizer
from qgm.registry import MODELS

__all__ = [
    "AdversarialModel", "BornPlayer", "LatentPlayer", "QGAN", "latent_circuit", "DEFAULT_OPTIMIZERS",
    "DEFAULT_DISCRIMINATOR", "bit_data_discriminator", "data_points", "discrete_points", "discriminator_spec",
    "data_standardisation", "output_box",
]

#: Optimizers used for a player the config's ``optimizer`` section leaves out.
DEFAULT_OPTIMIZERS: dict[str, dict[str, Any]] = {
    "generator": {"name": "adam", "lr": 0.01},
    "discriminator": {"name": "adam", "lr": 0.01},
}
DEFAULT_DISCRIMINATOR: dict[str, Any] = {"name": "mlp", "hidden": [50, 20], "activation": "leaky_relu"}
#: Discrete generator of Zoufal et al.: H on every qubit, then TwoLocal('ry', 'cz', reps=depth).
DEFAULT_DISCRETE_ANSATZ: dict[str, Any] = {
    "name": "hardware_efficient", "depth": 2, "rotations": ["ry"], "entangler": "ring", "entangling_gate": "cz",
}
DEFAULT_LATENT_ANSATZ: dict[str, Any] = {"depth": 3, "reupload": True, "entangler": "ring"}
INITIAL_STATES = ("uniform", "zero")
MODES = ("discrete", "continuous")


def _positive_int(value: Any, field: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ConfigError(f"{field}: expected a positive integer, got {value!r}")
    return int(value)


@contextlib.contextmanager
def frozen(module: nn.Module) -> Iterator[None]:
    """Temporarily stop gradients into ``module``'s parameters (inputs still get theirs)."""
    flags = [p.requires_grad for p in module.parameters()]
    for p in module.parameters():
        p.requires_grad_(False)
    try:
        yield
    finally:
        for p, flag in zip(module.parameters(), flags):
            p.requires_grad_(flag)


def _paired_draws(x: torch.Tensor, w: Optional[torch.Tensor], m: int, generator: torch.Generator) -> torch.Tensor:
    """``m`` rows of ``x``: i.i.d. draws from ``w`` if given, else the first ``m`` rows."""
    if w is None:
        return x[:m]
    return x[sample_from_probs(w.detach().cpu(), m, generator).to(x.device)]


class AdversarialModel(GenerativeModel):
    """Generator player + discriminator, stepped by :meth:`training_step`.

    Args:
        player: the generator player (see the module docstring).
        discriminator: logits ``(m, 1)`` of inputs ``(m, d)``.
        loss: ``"bce"`` (non-saturating), ``"wgan-gp"`` or ``"hinge"``.
        d_steps, g_steps: discriminator and generator updates per training step
            (the step ratio; e.g. ``d_steps=5`` for WGAN-GP's n_critic). Every
            discriminator update in a step sees the same data batch and fresh fakes.
        gp_weight: gradient-penalty weight λ (WGAN-GP only).
        gp_samples: interpolation pairs of the penalty when a side is weighted (discrete).
        seed: seed of the model's own generator (fresh fakes, penalty ε, shots);
            its state travels in ``state_dict`` so a resumed run continues bit-exactly.
    """

    def __init__(
        self,
        player: nn.Module,
        discriminator: nn.Module,
        loss: str = "bce",
        d_steps: int = 1,
        g_steps: int = 1,
        gp_weight: float = 10.0,
        gp_samples: int = 256,
        seed: int = 0,
    ) -> None:
        super().__init__()
        self.adversarial = get_adversarial_loss(loss)
        self.d_steps = _positive_int(d_steps, "d_steps")
        self.g_steps = _positive_int(g_steps, "g_steps")
        self.gp_samples = _positive_int(gp_samples, "gp_samples")
        if not gp_weight >= 0:
            raise ConfigError(f"gp_weight: expected a number >= 0, got {gp_weight!r}")
        self.gp_weight = float(gp_weight)
        self.player = player
        self.discriminator = discriminator
        # offset: the training stream must not replay the initial-weight draws seeded by ``seed``
        self.rng = torch.Generator().manual_seed(int(seed) + 0x9E3779B9)

    @property
    def config(self) -> dict[str, Any]:
        """A copy of the hyper-parameters the subclass's constructor recorded in ``_config``."""
        return dict(self._config)

    # -- the contract's optional parts -----------------------------------------------
    @property
    def has_probs(self) -> bool:  # type: ignore[override]
        return hasattr(self.player, "probs")

    def probs(self, shots: Optional[int] = None, generator: Optional[torch.Generator] = None) -> torch.Tensor:
        """Generator distribution ``(2**n,)`` (discrete players); see :meth:`BornPlayer.probs`."""
        if not self.has_probs:
            return super().probs(shots, generator)
        return self.player.probs(shots, generator)

    def sample(self, n: int, generator: Optional[torch.Generator] = None) -> torch.Tensor:
        """``n`` samples: basis indices ``(n,)`` (discrete) or values ``(n, d)`` float64 (continuous)."""
        _positive_int(n, "n")
        with torch.no_grad():
            return self.player.draw(n, generator)

    def get_extra_state(self) -> torch.Tensor:
        return self.rng.get_state()

    def set_extra_state(self, state: torch.Tensor) -> None:
        self.rng.set_state(state)

    # -- players' parameters ----------------------------------------------------------
    def generator_parameters(self) -> list[nn.Parameter]:
        return [p for p in self.player.parameters() if p.requires_grad]

    def discriminator_parameters(self) -> list[nn.Parameter]:
        return [p for p in self.discriminator.parameters() if p.requires_grad]

    def configure_optimizers(self, spec: Optional[dict[str, Any]] = None) -> dict[str, torch.optim.Optimizer]:
        """``{"generator": opt, "discriminator": opt}`` from the config's ``optimizer`` section
        (missing players get :data:`DEFAULT_OPTIMIZERS`), built by ``qgm.optim.build_optimizer``."""
        spec = dict(spec or {})
        unknown = sorted(set(spec) - set(DEFAULT_OPTIMIZERS))
        if unknown:
            raise ConfigError(
                f"optimizer: adversarial models take sections {sorted(DEFAULT_OPTIMIZERS)}, got unknown {unknown}"
            )
        params = {"generator": self.generator_parameters(), "discriminator": self.discriminator_parameters()}
        specs = {role: dict(spec.get(role, DEFAULT_OPTIMIZERS[role])) for role in DEFAULT_OPTIMIZERS}
        circuit = getattr(self.player, "circuit", None)
        if specs["generator"].get("name") == "qng" and circuit is not None and circuit.n_inputs:
            # the metric of a circuit with latent inputs is averaged over a fixed latent batch
            specs["generator"].setdefault("inputs", self.player.latent(16, torch.Generator().manual_seed(0)))
        return {role: build_optimizer(params[role], specs[role], model=self.player) for role in DEFAULT_OPTIMIZERS}

    # -- one adversarial step -------------------------------------------------------
    def real(self, batch: Optional[torch.Tensor]) -> tuple[torch.Tensor, Optional[torch.Tensor]]:
        """Discriminator inputs of a data batch: ``player.real(batch)``."""
        return self.player.real(batch)

    def penalty(self, real: tuple, fake: tuple) -> torch.Tensor:
        """Gradient penalty on ``m`` paired draws from the real and fake sides."""
        m = self.gp_samples if real[1] is not None or fake[1] is not None else min(len(real[0]), len(fake[0]))
        x_r = _paired_draws(*real, m, self.rng)
        x_f = _paired_draws(*fake, m, self.rng)
        return gradient_penalty(self.discriminator, x_r, x_f, generator=self.rng)

    def discriminator_step(self, real: tuple, optimizer: torch.optim.Optimizer) -> dict[str, float]:
        """One discriminator update against fresh fakes (generator frozen)."""
        optimizer.zero_grad(set_to_none=True)
        with torch.no_grad():
            fake = self.player.fake(len(real[0]), self.rng)
        r_logits, f_logits = self.discriminator(real[0]), self.discriminator(fake[0])
        loss = self.adversarial.d_loss(r_logits, f_logits, real[1], fake[1])
        logs = {"loss_d": float(loss.detach())}
        if self.adversarial.penalty and self.gp_weight > 0:
            gp = self.penalty(real, fake)
            loss = loss + self.gp_weight * gp
            logs["gradient_penalty"] = float(gp.detach())
        loss.backward()
        optimizer.step()
        logs["d_real"] = float(_mean(r_logits.detach(), real[1]))
        logs["d_fake"] = float(_mean(f_logits.detach(), fake[1]))
        return logs

    def generator_step(self, m: int, optimizer: torch.optim.Optimizer) -> dict[str, float]:
        """One generator update against the current (frozen) discriminator."""
        optimizer.zero_grad(set_to_none=True)
        x, w = self.player.fake(m, self.rng)
        with frozen(self.discriminator):
            loss = self.adversarial.g_loss(self.discriminator(x), w)
        loss.backward()
        optimizer.step()
        return {"loss_g": float(loss.detach())}

    def training_step(
        self, batch: Optional[torch.Tensor], optimizers: dict[str, torch.optim.Optimizer], step: int
    ) -> dict[str, float]:
        """``d_steps`` discriminator then ``g_steps`` generator updates; logs the last of each.

        Returns ``loss`` (= the generator loss), ``loss_g``, ``loss_d``, ``d_real`` /
        ``d_fake`` (mean logits on real and fake data) and, for WGAN-GP, ``gradient_penalty``.
        """
        missing = sorted(set(DEFAULT_OPTIMIZERS) - set(optimizers))
        if missing:
            raise ConfigError(f"training_step: optimizers {missing} missing; use configure_optimizers()")
        real = self.real(batch)
        logs: dict[str, float] = {}
        for _ in range(self.d_steps):
            logs.update(self.discriminator_step(real, optimizers["discriminator"]))
        for _ in range(self.g_steps):
            logs.update(self.generator_step(len(real[0]), optimizers["generator"]))
        logs["loss"] = logs["loss_g"]
        return logs


def _mean(logits: torch.Tensor, weights: Optional[torch.Tensor]) -> torch.Tensor:
    v = logits.reshape(-1)
    return v.mean() if weights is None else (weights.reshape(-1).to(v.dtype) * v).sum()


# -- generator players ---------------------------------------------------------------------
class PointsMixin(nn.Module):
    """Discrete data side: ``points`` ``(2**n, d)`` and the exact ``target`` ``(2**n,)`` as buffers."""

    points: torch.Tensor
    target: torch.Tensor

    def set_points(self, points: torch.Tensor, target: torch.Tensor) -> None:
        self.register_buffer("points", points.to(torch.float64))
        self.register_buffer("target", target.to(torch.float64))

    def real(self, batch: Optional[torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor]:
        """All points, weighted by the batch histogram (or the exact target for ``batch=None``)."""
        n_bits = int(round(math.log2(self.points.shape[0])))
        w = self.target if batch is None else histogram(batch.cpu(), n_bits).to(self.points.device)
        return self.points, w

    def draw(self, n: int, generator: Optional[torch.Generator]) -> torch.Tensor:
        return sample_from_probs(self.probs(None, None), n, generator)


class BornPlayer(PointsMixin):
    """Discrete quantum player: a :class:`QCBM` whose fakes are all points weighted by ``p_θ``."""

    def __init__(self, qcbm: QCBM, points: torch.Tensor, target: torch.Tensor) -> None:
        super().__init__()
        self.qcbm = qcbm
        self.set_points(points, target)

    @property
    def circuit(self) -> Circuit:
        return self.qcbm.circuit

    def probs(self, shots: Optional[int] = None, generator: Optional[torch.Generator] = None) -> torch.Tensor:
        """Exact Born vector, or frequencies of ``shots`` samples (parameter-shift differentiable)."""
        return self.qcbm.probs(shots, generator)

    def fake(self, m: int, generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
        return self.points, self.qcbm.probs(self.qcbm.shots, generator)


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

    def latent(self, m: int, generator: Optional[torch.Generator]) -> torch.Tensor:
        """``m`` latent vectors ``(m, k)`` uniform in ``[0, π)``."""
        return torch.rand(m, self.circuit.n_inputs, dtype=torch.float64, generator=generator) * math.pi

    def outputs(self, z: torch.Tensor, generator: Optional[torch.Generator] = None) -> torch.Tensor:
        """Generated values ``(m, d)`` of latents ``z`` ``(m, k)``."""
        method = "parameter-shift" if self.shots is not None else self.diff_method
        e = sim.expval(self.circuit, self.theta, self.observables, inputs=z.to(self.theta.device),
                       shots=self.shots, generator=generator, diff_method=method)
        return self.shift + self.scale * e

    def fake(self, m: int, generator: torch.Generator) -> tuple[torch.Tensor, None]:
        return self.outputs(self.latent(m, generator), generator), None

    def draw(self, n: int, generator: Optional[torch.Generator]) -> torch.Tensor:
        return self.outputs(self.latent(n, generator), generator)

    def real(self, batch: Optional[torch.Tensor]) -> tuple[torch.Tensor, None]:
        return continuous_batch(batch, self.out_dim)


def continuous_batch(batch: Optional[torch.Tensor], dim: int) -> tuple[torch.Tensor, None]:
    """A float data batch ``(m, dim)`` validated (continuous data have no exact target)."""
    if batch is None:
        raise ConfigError("batch_size: continuous data have no exact target; set a batch_size in the config")
    if not isinstance(batch, torch.Tensor) or batch.dim() != 2 or batch.shape[1] != dim:
        raise ParameterError(f"batch: expected a float tensor (m, {dim}), got {tuple(getattr(batch, 'shape', ()))}")
    return batch.to(torch.float64), None


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
        n = _positive_int(n_qubits, "n_qubits")
        if mode not in MODES:
            raise ConfigError(f"mode must be one of {MODES}, got {mode!r}")
        if diff_method not in DIFF_METHODS:
            raise ConfigError(f"diff_method must be one of {DIFF_METHODS}, got {diff_method!r}")
        if init not in INITIALIZERS:
            raise ConfigError(f"init {init!r} unknown; known: {sorted(INITIALIZERS)}")
        shots = check_shots(shots)
        disc_spec = dict(DEFAULT_DISCRIMINATOR if discriminator is None else discriminator)
        if mode == "discrete":
            ansatz = dict(DEFAULT_DISCRETE_ANSATZ if ansatz is None else ansatz)
            player: nn.Module = _born_player(n, ansatz, initial, points, target, shots, diff_method, init, seed)
        else:
            ansatz = dict(DEFAULT_LATENT_ANSATZ if ansatz is None else ansatz)
            player = _latent_player(n, ansatz, out_shift, out_scale, latent_dim, shots, diff_method, init, seed)
        in_dim = player.points.shape[1] if mode == "discrete" else player.out_dim
        super().__init__(player, build_discriminator(disc_spec, in_dim, seed=seed),
                         loss, d_steps, g_steps, gp_weight, gp_samples, seed)
        self.n_bits, self.shots, self.mode = n, shots, mode
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
        return self.player.circuit


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


def discrete_points(n: int, points: Any, target: Any) -> tuple[torch.Tensor, torch.Tensor]:
    """Validated points ``(2**n, d)`` (None = the bits) and target ``(2**n,)`` (None = uniform) of ``n`` bits."""
    pts = basis_bits(n) if points is None else torch.as_tensor(np.asarray(points, dtype=np.float64))
    if pts.dim() == 1:
        pts = pts[:, None]
    if pts.dim() != 2 or pts.shape[0] != 1 << n:
        raise ConfigError(
            f"points: expected one row per basis state, shape ({1 << n}, d) for {n} qubits, got {tuple(pts.shape)}"
        )
    if target is None:
        return pts, torch.full((1 << n,), 1.0 / (1 << n), dtype=torch.float64)
    tgt = torch.as_tensor(np.asarray(target, dtype=np.float64))
    if tgt.shape != (1 << n,):
        raise ConfigError(f"target: expected {1 << n} probabilities for {n} qubits, got {tuple(tgt.shape)}")
    return pts, tgt


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
    k = n if latent_dim is None else _positive_int(latent_dim, "latent_dim")
    circuit = latent_circuit(n, k, _positive_int(spec["depth"], "ansatz.depth"), bool(spec["reupload"]),
                             spec["entangler"])
    theta = INITIALIZERS[init](circuit, torch.Generator().manual_seed(int(seed)))
    return LatentPlayer(circuit, d, out_shift, out_scale, theta, shots, diff_method)


# -- data-derived settings shared by the QGAN and the classical GAN factories -------------
def data_points(dataset: Any, disc_input: str) -> Optional[list[list[float]]]:
    """Discriminator inputs of all basis states: decoded values (``"values"``) or None (bits)."""
    if disc_input == "bits":
        return None
    if disc_input != "values":
        raise ConfigError(f"disc_input must be 'values' or 'bits', got {disc_input!r}")
    values = np.asarray(dataset.decode(torch.arange(1 << dataset.n_bits)), dtype=np.float64)
    return values.reshape(1 << dataset.n_bits, -1).tolist()


def data_standardisation(x: np.ndarray, weights: Optional[np.ndarray] = None) -> dict[str, list[float]]:
    """``{"shift": mean, "scale": std}`` per feature of rows ``x`` ``(m, d)`` (optionally weighted)."""
    w = np.full(len(x), 1.0 / len(x)) if weights is None else np.asarray(weights, dtype=np.float64)
    mean = w @ x
    std = np.sqrt(np.maximum(w @ (x - mean) ** 2, 0.0))
    return {"shift": mean.tolist(), "scale": np.where(std > 1e-12, std, 1.0).tolist()}


def output_box(train: np.ndarray, margin: float = 0.1) -> tuple[list[float], list[float]]:
    """Centre and half-width (widened by ``margin``) of the data's bounding box, per feature."""
    lo, hi = train.min(0), train.max(0)
    half = np.maximum((hi - lo) / 2 * (1 + margin), 1e-6)
    return ((lo + hi) / 2).tolist(), half.tolist()


def discriminator_spec(spec: Optional[dict[str, Any]], standardisation: dict[str, list[float]]) -> dict[str, Any]:
    """The spec (default :data:`DEFAULT_DISCRIMINATOR`) with the data's shift/scale filled in for ``mlp``."""
    out = dict(DEFAULT_DISCRIMINATOR if spec is None else spec)
    if out.get("name") == "mlp":
        for key, value in standardisation.items():
            out.setdefault(key, value)
    return out


def bit_data_discriminator(
    dataset: Any, disc_input: str, discriminator: Optional[dict[str, Any]]
) -> tuple[Optional[list[list[float]]], torch.Tensor, dict[str, Any]]:
    """A bit dataset's discriminator inputs ``points`` (:func:`data_points`), its target ``(2**n,)``
    and the discriminator spec standardised on the target-weighted points (basis bits if ``points`` is None)."""
    points = data_points(dataset, disc_input)
    target = target_distribution(dataset)
    x = np.asarray(points) if points is not None else basis_bits(dataset.n_bits).numpy()
    return points, target, discriminator_spec(discriminator, data_standardisation(x, target.numpy()))


@MODELS.register("qgan")
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

    ``mode="auto"`` is ``"continuous"`` for continuous datasets (``kind ==
    "continuous"``, ``dim`` features), else ``"discrete"`` on ``dataset.n_bits``
    qubits (``n_qubits`` must then equal it). The discriminator standardises its
    input with the data's mean/std; continuous outputs span the data's bounding
    box (+10%); continuous ``n_qubits`` defaults to ``dim + 2``.
    """
    continuous = getattr(dataset, "kind", None) == "continuous"
    if mode == "auto":
        mode = "continuous" if continuous else "discrete"
    if mode not in MODES:
        raise ConfigError(f"mode must be 'auto' or one of {MODES}, got {mode!r}")
    common = dict(ansatz=ansatz, discriminator=None, loss=loss, d_steps=d_steps, g_steps=g_steps,
                  gp_weight=gp_weight, gp_samples=gp_samples, shots=shots, diff_method=diff_method, init=init,
                  seed=seed)
    if mode == "continuous":
        if not continuous:
            raise ConfigError(f"mode='continuous' needs a continuous dataset (kind 'continuous'), "
                              f"got kind {getattr(dataset, 'kind', None)!r}")
        train = np.asarray(dataset.train, dtype=np.float64)
        shift, scale = output_box(train)
        common["discriminator"] = discriminator_spec(discriminator, data_standardisation(train))
        n = int(dataset.dim) + 2 if n_qubits is None else n_qubits
        return QGAN(n, "continuous", out_shift=shift, out_scale=scale, latent_dim=latent_dim, **common)
    if continuous:
        raise ConfigError("mode='discrete' needs a bit dataset (with n_bits); this dataset is continuous")
    if n_qubits is not None and n_qubits != dataset.n_bits:
        raise ConfigError(f"n_qubits={n_qubits}: the dataset has 2**{dataset.n_bits} bins and needs "
                          f"n_qubits={dataset.n_bits} (one qubit per bit); drop n_qubits or change the bins")
    points, target, common["discriminator"] = bit_data_discriminator(dataset, disc_input, discriminator)
    return QGAN(dataset.n_bits, "discrete", initial=initial, points=points, target=target.tolist(), **common)
