"""MolGAN (De Cao & Kipf, arXiv:1805.11973): an MLP graph generator against a relational-GCN critic.

The generator player (:class:`GraphPlayer`) maps a latent vector to a molecular graph of
the space ``Graphs(m, A, B)`` (``m`` nodes, ``A`` atom types, ``B`` bond types, type 0 =
none):

    h = tanh(W_k … tanh(W_1 z))                   hidden widths ``hidden`` (MolGAN: [128, 256, 512])
    E = (L_E h + (L_E h)ᵀ) / 2   (m, m, B)        symmetric edge logits
    N = L_N h                    (m, A)           node logits

The critic sees the softmax relaxation ``(softmax E, softmax N)`` of fakes and the one-hot
tensors of data; samples are decoded with hard Gumbel-max (MolGAN's and the reference
code's sampling, symmetric in the edges) or argmax. Self-bonds are always "none": the
diagonal of every fake adjacency is the one-hot of type 0, as in the data.

The critic (:class:`RelationalGCN`) is MolGAN's encoder: relational graph convolutions
with one weight matrix per bond type (the "none" channel excluded) plus a self-connection,
node features concatenated to every layer's input, tanh; a gated sum over nodes
(``tanh Σ_i σ(W_g a_i) ⊙ tanh(W_f a_i)``); a tanh MLP; one output. The optional reward
network ``V`` has the same architecture with a sigmoid output and is trained, with the
generator's optimizer as in the reference code, on the value loss
``E[(V(x) − R(x))² + (V(x̃) − R(x̃))²]`` for the reward ``R`` = product of MolGAN-normalised
scores (:func:`qgm.metrics.chemistry.reward_function`, e.g. ``["validity", "sa"]``).
The generator loss is ``(1 − rl_weight) · L_WGAN + rl_weight · (−E V(x̃)) + value loss``
(``rl_weight`` = MolGAN's 1 − λ; 0 = the reference QGAN-HG code, whose RL term is commented out).

Differences from the reference PyTorch code (jundeli/quantum-gan, itself from
yongqyu/MolGAN-pytorch), kept on purpose and matching MolGAN's TensorFlow original:
the critic's graph convolutions have separate weights per bond type (the PyTorch port
reuses one matrix for all bond types), tanh activations in the convolutions and dense
layers (the port has none), and the gradient penalty takes one norm over both tensors
(:func:`qgm.losses.adversarial.gradient_penalty`; the port sums two penalties).

Training (the reference): WGAN-GP with λ = 10, 5 critic updates per generator update
(``d_steps=5``), Adam lr 1e-4, β = (0.5, 0.999) for both players, batch 16. The
reference counts every critic update as one iteration (its 5000 iterations = 1000 of our
training steps).
"""
from __future__ import annotations

from typing import Any, Optional, Sequence

import torch
import torch.nn.functional as F
from torch import nn

from qgm.errors import ConfigError, ParameterError
from qgm.limits import check_bytes
from qgm.models.adversarial import AdversarialModel, frozen, positive_int
from qgm.models.base import check_n_samples
from qgm.models.discriminators import init_linear, mlp
from qgm.registry import MODELS
from qgm.spaces import Graphs

__all__ = [
    "MolGAN", "MolecularGAN", "GraphPlayer", "GraphHead", "GaussianLatent", "RelationalGCN",
    "one_hot_graphs", "relax", "harden", "COMPLEXITY", "DEFAULT_CRITIC", "DEFAULT_OPTIMIZERS", "DECODERS", "DTYPES",
]

#: Generator hidden widths of the reference code's complexities: no / moderate / high reduction.
COMPLEXITY: dict[str, tuple[int, ...]] = {"nr": (128, 256, 512), "mr": (128,), "hr": (16,)}
#: MolGAN's critic: graph convolutions [128, 64], aggregation 128, dense [128, 64].
DEFAULT_CRITIC: dict[str, Any] = {"conv": [128, 64], "aggregate": 128, "dense": [128, 64]}
#: The reference's optimizers: Adam lr 1e-4, β = (0.5, 0.999), for both players.
DEFAULT_OPTIMIZERS: dict[str, dict[str, Any]] = {
    "generator": {"name": "adam", "lr": 1e-4, "betas": [0.5, 0.999]},
    "discriminator": {"name": "adam", "lr": 1e-4, "betas": [0.5, 0.999]},
}
DECODERS = ("gumbel", "argmax")
DTYPES = {"float32": torch.float32, "float64": torch.float64}


def _dtype(name: str) -> torch.dtype:
    if name not in DTYPES:
        raise ConfigError(f"dtype: expected one of {sorted(DTYPES)}, got {name!r}")
    return DTYPES[name]


def _linear(n_in: int, n_out: int, gen: torch.Generator, dtype: torch.dtype) -> nn.Linear:
    layer = nn.Linear(n_in, n_out, dtype=torch.float64)
    init_linear(layer, gen)
    return layer.to(dtype)


def one_hot_graphs(graphs: tuple[torch.Tensor, torch.Tensor], space: Graphs, dtype: torch.dtype
                   ) -> tuple[torch.Tensor, torch.Tensor]:
    """One-hot tensors ``(A (N, m, m, B), X (N, m, A))`` of graphs in ``space``'s tensor form."""
    a, x = space.check(graphs, "batch")
    return F.one_hot(a, space.bond_types).to(dtype), F.one_hot(x, space.atom_types).to(dtype)


def _offdiagonal(m: int, device: torch.device) -> torch.Tensor:
    return ~torch.eye(m, dtype=torch.bool, device=device)


def relax(edges: torch.Tensor, nodes: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Softmax relaxations of edge logits ``(N, m, m, B)`` and node logits ``(N, m, A)``; the diagonal
    of the adjacency is the one-hot of type 0 (no self-bonds)."""
    m = edges.shape[1]
    none = F.one_hot(torch.zeros((), dtype=torch.long, device=edges.device), edges.shape[-1]).to(edges.dtype)
    a = torch.where(_offdiagonal(m, edges.device)[:, :, None], torch.softmax(edges, -1), none)
    return a, torch.softmax(nodes, -1)


def harden(edges: torch.Tensor, nodes: torch.Tensor, method: str, rng: Optional[torch.Generator]
           ) -> tuple[torch.Tensor, torch.Tensor]:
    """Graphs ``(A (N, m, m), X (N, m))`` LongTensors decoded from logits: ``"argmax"``, or ``"gumbel"``
    (Gumbel-max sampling from the softmax of each node and each unordered pair; symmetric ``A``)."""
    if method == "gumbel":
        ge = -torch.log(-torch.log(torch.rand(edges.shape, generator=rng, dtype=torch.float64).clamp_min(1e-300)))
        upper = torch.triu(torch.ones(edges.shape[1], edges.shape[1], dtype=torch.bool), 1)[:, :, None]
        ge = torch.where(upper, ge, ge.transpose(1, 2))
        gn = -torch.log(-torch.log(torch.rand(nodes.shape, generator=rng, dtype=torch.float64).clamp_min(1e-300)))
        edges = edges.detach().double() + ge.to(edges.device)
        nodes = nodes.detach().double() + gn.to(nodes.device)
    elif method != "argmax":
        raise ConfigError(f"decode: expected one of {DECODERS}, got {method!r}")
    a = edges.argmax(-1) * _offdiagonal(edges.shape[1], edges.device)
    return a, nodes.argmax(-1)


class GraphHead(nn.Module):
    """MolGAN's generator network: latent ``(N, k)`` → edge logits ``(N, m, m, B)`` (symmetric) and
    node logits ``(N, m, A)`` through tanh layers of widths ``hidden``."""

    def __init__(self, latent_dim: int, hidden: Sequence[int], space: Graphs, gen: torch.Generator,
                 dtype: torch.dtype) -> None:
        super().__init__()
        self.space, self.dtype = space, dtype
        sizes = [int(latent_dim), *[int(h) for h in hidden]]
        m = space.max_atoms
        weights = sum(a * b for a, b in zip(sizes, [*sizes[1:], m * m * space.bond_types + m * space.atom_types]))
        check_bytes(4 * 8 * weights, "hidden, latent_dim", f"a generator of {weights:,} weights (with gradients and "
                    "Adam moments)", "use smaller widths")
        self.body = nn.Sequential(mlp(sizes, "tanh", gen).to(dtype), nn.Tanh())
        m, width = space.max_atoms, sizes[-1]
        self.edges = _linear(width, m * m * space.bond_types, gen, dtype)
        self.nodes = _linear(width, m * space.atom_types, gen, dtype)

    def forward(self, z: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        h = self.body(z.to(self.dtype))
        m = self.space.max_atoms
        e = self.edges(h).view(-1, m, m, self.space.bond_types)
        return (e + e.transpose(1, 2)) / 2, self.nodes(h).view(-1, m, self.space.atom_types)


class RelationalGCN(nn.Module):
    """MolGAN's relational-GCN encoder with one output (critic logit, or reward with ``sigmoid``).

    Args:
        space: the graphs' space (``A`` atom types and ``B`` bond types set the input sizes).
        conv: widths of the graph convolutions (MolGAN: [128, 64]).
        aggregate: width of the gated node aggregation (128).
        dense: widths of the tanh MLP after it ([128, 64]).
        sigmoid: squash the output into (0, 1) (the reward network).
        seed, dtype: initial weights (PyTorch's default U(±1/√fan_in), seeded) and float type.
    """

    def __init__(self, space: Graphs, conv: Sequence[int] = (128, 64), aggregate: int = 128,
                 dense: Sequence[int] = (128, 64), sigmoid: bool = False, seed: int = 0,
                 dtype: torch.dtype = torch.float32) -> None:
        super().__init__()
        if not conv or any(int(u) < 1 for u in [*conv, aggregate, *dense]):
            raise ConfigError(f"critic: widths must be >= 1 with at least one convolution, got conv={list(conv)}, "
                              f"aggregate={aggregate}, dense={list(dense)}")
        gen = torch.Generator().manual_seed(int(seed))
        self.space, self.sigmoid, self.dtype = space, bool(sigmoid), dtype
        n_atom = space.atom_types
        # one linear map per layer holds the B − 1 relation matrices and the self-connection (last block)
        self.convs = nn.ModuleList()
        width_in = n_atom
        for units in conv:
            self.convs.append(_linear(width_in, space.bond_types * int(units), gen, dtype))
            width_in = int(units) + n_atom
        self.aggregate = _linear(width_in, 2 * int(aggregate), gen, dtype)  # gate and feature halves
        self.head = mlp([int(aggregate), *[int(d) for d in dense], 1], "tanh", gen).to(dtype)

    def forward(self, graphs: tuple[torch.Tensor, torch.Tensor]) -> torch.Tensor:
        """Outputs ``(N, 1)`` of relaxed or one-hot graphs ``(A (N, m, m, B), X (N, m, A))``."""
        a, x = graphs
        a, x = a.to(self.dtype), x.to(self.dtype)
        n, m, n_bond = a.shape[0], a.shape[1], a.shape[-1]
        # adjacency with the identity in the "none" slot: Σ_b A_b H W_b + H W_self in one product
        eye = torch.eye(m, dtype=a.dtype, device=a.device)[None, :, :, None].expand(n, m, m, 1)
        adj = torch.cat([a[..., 1:], eye], -1).reshape(n, m, m * n_bond)  # column j * B + b
        h = x
        for conv in self.convs:
            h = torch.cat([torch.tanh(torch.bmm(adj, conv(h).reshape(n, m * n_bond, -1))), x], -1)
        gate, feature = self.aggregate(h).chunk(2, -1)
        pooled = torch.tanh((torch.sigmoid(gate) * torch.tanh(feature)).sum(1))
        out = self.head(pooled)
        return torch.sigmoid(out) if self.sigmoid else out


class GaussianLatent(nn.Module):
    """The classical latent ``z ~ N(0, I_dim)`` (no parameters)."""

    def __init__(self, dim: int) -> None:
        super().__init__()
        self.dim = positive_int(dim, "latent_dim")

    def sample(self, m: int, rng: Optional[torch.Generator]) -> torch.Tensor:
        """``m`` latent vectors ``(m, dim)`` float64."""
        return torch.randn(m, self.dim, dtype=torch.float64, generator=rng)


class GraphPlayer(nn.Module):
    """The generator player: ``latent`` (a module with ``dim`` and ``sample(m, rng)``) then a :class:`GraphHead`."""

    def __init__(self, latent: nn.Module, head: GraphHead, decode: str) -> None:
        super().__init__()
        if decode not in DECODERS:
            raise ConfigError(f"decode: expected one of {DECODERS}, got {decode!r}")
        self.latent, self.head, self.decode = latent, head, decode
        self.space = head.space

    def logits(self, m: int, rng: Optional[torch.Generator]) -> tuple[torch.Tensor, torch.Tensor]:
        """Edge and node logits of ``m`` fresh latents."""
        return self.head(self.latent.sample(check_n_samples(m), rng))

    def fake(self, m: int, rng: torch.Generator) -> tuple[tuple[torch.Tensor, torch.Tensor], None]:
        return relax(*self.logits(m, rng)), None

    def real(self, batch: Any) -> tuple[tuple[torch.Tensor, torch.Tensor], None]:
        if batch is None:
            raise ConfigError("train.batch_size: molecular graphs have no exact target; set a batch size")
        return one_hot_graphs(batch, self.space, self.head.dtype), None

    def draw(self, n: int, rng: Optional[torch.Generator]) -> tuple[torch.Tensor, torch.Tensor]:
        """``n`` graphs ``(A (n, m, m), X (n, m))`` decoded with :attr:`decode`."""
        return harden(*self.logits(n, rng), self.decode, rng)


class MolecularGAN(AdversarialModel):
    """A :class:`GraphPlayer` with a given latent against :class:`RelationalGCN` (module docstring).

    Subclasses (:class:`MolGAN`, :class:`qgm.models.qgan_hg.QGANHG`) build the latent and record
    ``_config``; the other arguments are shared:

    Args:
        latent: the latent module (``dim``, ``sample(m, rng)``).
        hidden: generator hidden widths.
        max_atoms, atom_types, bond_types: the space ``Graphs(max_atoms, atom_types, bond_types)``.
        critic: ``{conv, aggregate, dense}`` of the critic and the reward network (default MolGAN's).
        reward: reward terms (``validity``, ``qed``, ``logp``, ``sa``) of the optional reward network,
            or None (no reward network). Needs ``atoms``.
        atoms: element symbols of the atom types ``1..atom_types-1`` (decoding for rewards).
        rl_weight: weight of ``−E V(x̃)`` in the generator loss (MolGAN's 1 − λ).
        decode: ``"gumbel"`` or ``"argmax"`` decoding of samples.
        loss, d_steps, g_steps, gp_weight: see :class:`~qgm.models.adversarial.AdversarialModel`
            (default WGAN-GP, 5 critic updates per generator update, λ = 10).
        dtype: ``"float32"`` (the reference) or ``"float64"`` for the networks.
        seed: initial weights and the model's random stream.
    """

    def __init__(
        self,
        latent: nn.Module,
        hidden: Sequence[int],
        max_atoms: int = 9,
        atom_types: int = 5,
        bond_types: int = 5,
        critic: Optional[dict[str, Any]] = None,
        reward: Optional[Sequence[str]] = None,
        atoms: Optional[Sequence[str]] = None,
        rl_weight: float = 0.0,
        decode: str = "gumbel",
        loss: str = "wgan-gp",
        d_steps: int = 5,
        g_steps: int = 1,
        gp_weight: float = 10.0,
        dtype: str = "float32",
        seed: int = 0,
    ) -> None:
        space = Graphs(max_atoms, atom_types, bond_types)
        if not hidden or any(int(h) < 1 for h in hidden):
            raise ConfigError(f"hidden: expected positive generator widths, got {list(hidden)!r}")
        if not 0.0 <= float(rl_weight) <= 1.0:
            raise ConfigError(f"rl_weight: expected a number in [0, 1], got {rl_weight!r}")
        torch_dtype = _dtype(dtype)
        critic_spec = {**DEFAULT_CRITIC, **dict(critic or {})}
        unknown = sorted(set(critic_spec) - set(DEFAULT_CRITIC))
        if unknown:
            raise ConfigError(f"critic: unknown keys {unknown}; known: {sorted(DEFAULT_CRITIC)}")
        gen = torch.Generator().manual_seed(int(seed))
        head = GraphHead(latent.dim, hidden, space, gen, torch_dtype)
        player = GraphPlayer(latent, head, decode)
        discriminator = RelationalGCN(space, seed=int(seed) + 1, dtype=torch_dtype, **critic_spec)
        super().__init__(player, discriminator, loss, d_steps, g_steps, gp_weight, seed=int(seed))
        self.space = space
        self.rl_weight = float(rl_weight)
        self.reward_terms = None if reward is None else [str(t) for t in reward]
        self.atoms = None if atoms is None else [str(a) for a in atoms]
        if self.reward_terms is not None and (self.atoms is None or len(self.atoms) != atom_types - 1):
            raise ConfigError(f"atoms: a reward network decodes molecules and needs {atom_types - 1} element "
                              f"symbols, got {atoms!r}")
        self.value = None if reward is None else RelationalGCN(space, sigmoid=True, seed=int(seed) + 2,
                                                                 dtype=torch_dtype, **critic_spec)
        if self.value is None and self.rl_weight > 0:
            raise ConfigError("rl_weight: the RL term needs a reward network; set reward, e.g. [validity, sa]")
        self._reward: Any = None
        self._shared = {
            "hidden": [int(h) for h in hidden], "max_atoms": int(max_atoms), "atom_types": int(atom_types),
            "bond_types": int(bond_types), "critic": critic_spec, "reward": self.reward_terms, "atoms": self.atoms,
            "rl_weight": self.rl_weight, "decode": decode, "loss": loss, "d_steps": self.d_steps,
            "g_steps": self.g_steps, "gp_weight": self.gp_weight, "dtype": dtype, "seed": int(seed),
        }

    def default_optimizers(self) -> dict[str, dict[str, Any]]:
        """The reference's Adam (lr 1e-4, β = (0.5, 0.999)) for players the config leaves out."""
        return DEFAULT_OPTIMIZERS

    def player_parameters(self, player: str) -> list[nn.Parameter]:
        """As the reference: the reward network trains with the generator's optimizer."""
        params = super().player_parameters(player)
        if player == "generator" and self.value is not None:
            params += [p for p in self.value.parameters() if p.requires_grad]
        return params

    def parameter_counts(self) -> dict[str, int]:
        """Exact trainable parameters: ``generator_n_params`` (latent circuit + network),
        ``discriminator_n_params`` and, with a reward network, ``value_n_params``."""
        def count(module: nn.Module) -> int:
            return sum(p.numel() for p in module.parameters() if p.requires_grad)

        out = {"generator_n_params": count(self.generator), "discriminator_n_params": count(self.discriminator)}
        if self.value is not None:
            out["value_n_params"] = count(self.value)
        return out

    def generate(self, z: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Edge and node logits of latents ``z`` ``(N, latent_dim)`` (differentiable)."""
        if not isinstance(z, torch.Tensor) or z.dim() != 2 or z.shape[1] != self.generator.latent.dim:
            raise ParameterError(f"z: expected latents (N, {self.generator.latent.dim}), got "
                                 f"{tuple(getattr(z, 'shape', ()))}")
        return self.generator.head(z)

    def objective(self, batch: Any, player: str) -> dict[str, torch.Tensor]:
        """As :meth:`AdversarialModel.objective`; with a reward network the generator's loss adds the
        value loss and the RL term (module docstring)."""
        if player != "generator" or self.value is None:
            return super().objective(batch, player)
        real, _ = self.generator.real(batch)
        edges, nodes = self.generator.logits(real[0].shape[0], self.rng)
        fake = relax(edges, nodes)
        with frozen(self.discriminator):
            loss_g = self.adversarial.g_loss(self.discriminator(fake))
        hard = harden(edges, nodes, "gumbel", self.rng)
        reward = self.reward_fn()
        r_real, r_fake = (reward(g).to(real[0].dtype).reshape(-1, 1) for g in (batch, hard))
        value_loss = ((self.value(real) - r_real) ** 2 + (self.value(fake) - r_fake) ** 2).mean()
        loss = (1.0 - self.rl_weight) * loss_g + value_loss
        out = {"loss_g": loss_g.detach(), "loss_value": value_loss.detach(), "reward_fake": r_fake.mean().detach()}
        if self.rl_weight > 0:
            with frozen(self.value):
                loss = loss - self.rl_weight * self.value(fake).mean()
        return {"loss": loss, **out}

    def reward_fn(self) -> Any:
        """The reward ``R(graphs) -> (N,)`` of :attr:`reward_terms` (RDKit; built on first use)."""
        if self._reward is None:
            # decoding and scoring molecules lives in data/metrics; imported only when a reward is used
            from qgm.data.qm9 import MoleculeCodec
            from qgm.metrics.chemistry import reward_function

            codec = MoleculeCodec(self.space.max_atoms, tuple(self.atoms or ()))
            self._reward = reward_function(self.reward_terms or [], codec)
        return self._reward


class MolGAN(MolecularGAN):
    """MolGAN with a Gaussian latent ``z ~ N(0, I_latent_dim)``; ``hidden`` [128, 256, 512] is MolGAN
    (396,610 generator parameters on QM9), ``[128]`` the reference's "mr" classical ablation.
    Other keyword arguments: :class:`MolecularGAN` (space, critic, reward, loss, steps, dtype, seed)."""

    def __init__(self, hidden: Sequence[int] = COMPLEXITY["nr"], latent_dim: int = 8, **options: Any) -> None:
        super().__init__(GaussianLatent(latent_dim), hidden, **options)
        self._config = {"latent_dim": int(latent_dim), **self._shared}


def resolve_hidden(complexity: Optional[str], hidden: Optional[Sequence[int]], default: str) -> list[int]:
    """Generator widths from ``hidden`` or a named ``complexity`` of :data:`COMPLEXITY` (not both)."""
    if hidden is not None and complexity is not None:
        raise ConfigError("hidden / complexity: give one of them, not both")
    if hidden is not None:
        return [int(h) for h in hidden]
    name = default if complexity is None else complexity
    if name not in COMPLEXITY:
        raise ConfigError(f"complexity: expected one of {sorted(COMPLEXITY)}, got {name!r}")
    return list(COMPLEXITY[name])


def graph_options(dataset: Any) -> dict[str, Any]:
    """The space sizes (and atom symbols, when the dataset has a codec) a molecular model takes from its data."""
    space = dataset.space
    if not isinstance(space, Graphs):
        raise ConfigError(f"molecular GANs need Graphs data, got {space.describe()}")
    codec = getattr(dataset, "codec", None)
    return {"max_atoms": space.max_atoms, "atom_types": space.atom_types, "bond_types": space.bond_types,
            "atoms": None if codec is None else list(codec.atoms)}


@MODELS.register("molgan", accepts=(Graphs,))
def molgan(dataset: Any, complexity: Optional[str] = None, hidden: Optional[Sequence[int]] = None,
           latent_dim: int = 8, seed: int = 0, **options: Any) -> MolGAN:
    """Registered factory: :class:`MolGAN` on the dataset's graphs (``complexity`` ``nr`` = MolGAN,
    ``mr`` / ``hr`` = the reference's reduced classical generators; or explicit ``hidden``); other
    options as :class:`MolecularGAN` (``critic``, ``reward``, ``rl_weight``, ``decode``, ``loss``, …)."""
    return MolGAN(resolve_hidden(complexity, hidden, "nr"), latent_dim, seed=seed, **options, **graph_options(dataset))
