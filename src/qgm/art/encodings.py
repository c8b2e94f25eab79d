"""Images as quantum states: QuantumBlur height maps (linear, probability and log), FRQI and NEQR.

An image batch lives in :class:`~qgm.spaces.Images` ``(h, w, channels)``: float
``(N, h*w*c)`` in ``[0, 1]``, row-major, channel last. An :class:`Encoding`
turns it into an :class:`Encoded`: ``K`` states per image (one per tile and,
unless the channels sit on qubits, per channel), each a *branch ensemble*

    ``states (*batch, K, R, 2**n)`` complex, ``ρ = Σ_r |ψ̃_r⟩⟨ψ̃_r|``, ``Σ_r ‖ψ̃_r‖² = 1``,

with ``R = 1`` for a pure state; brushes that decohere or trace out a register
make ``R > 1`` (:mod:`qgm.art.decoherence`, :func:`qgm.art.brushes.partial_swap`).
``meta (*batch, K, m)`` holds what the state forgets (the pixel mass of a height
map, the range of a log map), so ``decode(encode(x)) == x``.

Address maps (wire 0 = most significant bit of a basis index, as everywhere in qgm):

* ``"gray"``: QuantumBlur's ``make_grid``: wires ``0..nx-1`` address the column
  ``x``, wires ``nx..nx+ny-1`` the row ``y``; wire ``j`` of a block carries bit ``j``
  (least significant first) of the reflected Gray code of the coordinate, so
  neighbouring pixels differ on one wire. Sides need not be powers of two (padded).
* ``"binary"``: row-major ``index = y * 2**nx + x`` (FRQI / NEQR papers).

Extra wires (channel qubits, the FRQI colour qubit, the NEQR colour register)
come first, before the address wires.
"""
from __future__ import annotations

import math
from abc import ABC, abstractmethod
from dataclasses import dataclass, replace
from typing import Optional

import torch

from qgm.errors import ConfigError, DataError, ResourceError
from qgm.spaces import Images

__all__ = [
    "MAX_QUBITS", "Grid", "Encoded", "Encoding", "HeightMap", "FRQI", "NEQR", "gray_line", "ADDRESS_MAPS",
]

#: Widest state an encoding produces (a 256x256 grey image on the Gray grid).
MAX_QUBITS = 16
ADDRESS_MAPS = ("gray", "binary")
_RTYPE = torch.float64
_CTYPE = torch.complex128


def _bits(length: int) -> int:
    """Address bits of a side of ``length`` pixels (QuantumBlur's ``make_line``: at least one)."""
    return max(1, (length - 1).bit_length())


def gray_line(length: int) -> torch.Tensor:
    """QuantumBlur's ``make_line(length)`` as integers ``(length,)``: position ``x`` -> the ``nb``-bit
    value whose wire ``j`` (``j = 0`` most significant) is bit ``j`` of ``gray(x) = x ^ (x >> 1)``."""
    nb = _bits(length)
    x = torch.arange(length)
    g = x ^ (x >> 1)
    out = torch.zeros(length, dtype=torch.long)
    for j in range(nb):
        out |= ((g >> j) & 1) << (nb - 1 - j)
    return out


@dataclass(frozen=True)
class Grid:
    """Pixel -> address map of one ``h x w`` tile on ``nx + ny`` address wires after ``offset`` other wires.

    Attributes:
        index: LongTensor ``(h*w,)``: address (``0 .. 2**(nx+ny) - 1``) of each row-major pixel.
        x_wires, y_wires: the wires of the column / row coordinate, finest scale first.
    """

    h: int
    w: int
    address: str
    offset: int

    def __post_init__(self) -> None:
        if self.address not in ADDRESS_MAPS:
            raise ConfigError(f"address: expected one of {ADDRESS_MAPS}, got {self.address!r}")
        if self.address == "binary" and (self.h & (self.h - 1) or self.w & (self.w - 1)):
            raise DataError(f"image: the binary address map needs power-of-two sides, got {self.h}x{self.w}; "
                            "resize or pad the image, or use address='gray'")

    @property
    def nx(self) -> int:
        return _bits(self.w)

    @property
    def ny(self) -> int:
        return _bits(self.h)

    @property
    def n(self) -> int:
        """Address wires ``nx + ny``."""
        return self.nx + self.ny

    @property
    def index(self) -> torch.Tensor:
        ys, xs = torch.meshgrid(torch.arange(self.h), torch.arange(self.w), indexing="ij")
        if self.address == "gray":
            return (gray_line(self.w)[xs] << self.ny | gray_line(self.h)[ys]).reshape(-1)
        return (ys << self.nx | xs).reshape(-1)

    @property
    def x_wires(self) -> tuple[int, ...]:
        if self.address == "gray":
            return tuple(self.offset + j for j in range(self.nx))
        return tuple(self.offset + self.n - 1 - j for j in range(self.nx))

    @property
    def y_wires(self) -> tuple[int, ...]:
        if self.address == "gray":
            return tuple(self.offset + self.nx + j for j in range(self.ny))
        return tuple(self.offset + self.ny - 1 - j for j in range(self.ny))


@dataclass(frozen=True)
class Encoded:
    """Encoded images: ``states (*batch, K, R, 2**n)`` branch ensembles, ``meta (*batch, K, m)``
    decoding data, and the :class:`Encoding` that made them (see the module docstring)."""

    states: torch.Tensor
    meta: torch.Tensor
    encoding: "Encoding"

    @property
    def batch(self) -> torch.Size:
        """Leading shape ``(*batch,)`` (frames and images)."""
        return self.states.shape[:-3]

    @property
    def n_qubits(self) -> int:
        return self.encoding.n_qubits

    def probs(self) -> torch.Tensor:
        """Born probabilities ``(*batch, K, 2**n)`` of the (mixed) states."""
        s = self.states
        return (s.real**2 + s.imag**2).sum(-2)

    def norms(self) -> torch.Tensor:
        """Traces ``Σ_r ‖ψ̃_r‖²`` ``(*batch, K)`` (1 for every valid state)."""
        return self.probs().sum(-1)

    def with_states(self, states: torch.Tensor, meta: Optional[torch.Tensor] = None) -> "Encoded":
        """The same encoding with new states (and meta), broadcasting meta over new leading dims."""
        m = self.meta if meta is None else meta
        m = m.expand(*states.shape[:-3], *m.shape[-2:])
        return replace(self, states=states, meta=m)

    def decode(self, clip: bool = True) -> torch.Tensor:
        """Images ``(*batch, h*w*c)`` (see :meth:`Encoding.decode`)."""
        return self.encoding.decode(self, clip=clip)


class Encoding(ABC):
    """Image <-> state map for images of ``space``, optionally cut into ``tile = (th, tw)`` tiles.

    Subclasses set ``prefix`` (wires before the address) and ``folds_channels``
    (channels on qubits inside one state, else one state per channel) and
    implement :meth:`_encode` / :meth:`_decode` on one tile's values.
    """

    prefix: int = 0
    folds_channels: bool = False

    def __init__(self, space: Images, tile: Optional[tuple[int, int]] = None, address: str = "gray") -> None:
        if not isinstance(space, Images):
            raise ConfigError(f"space: expected qgm.spaces.Images, got {space!r}")
        th, tw = (space.h, space.w) if tile is None else (int(tile[0]), int(tile[1]))
        if th < 1 or tw < 1 or space.h % th or space.w % tw:
            raise ConfigError(f"tile: {th}x{tw} must divide the image {space.h}x{space.w}; pick a divisor of each side")
        self.space, self.tile = space, (th, tw)
        self.grid = Grid(th, tw, address, self.prefix)
        self.n_qubits = self.prefix + self.grid.n
        if self.n_qubits > MAX_QUBITS:
            raise ResourceError(
                f"image: {type(self).__name__} of a {th}x{tw} tile needs {self.n_qubits} qubits, more than {MAX_QUBITS}; "
                "use a smaller image or tile=(th, tw)"
            )

    @property
    def n_tiles(self) -> int:
        return (self.space.h // self.tile[0]) * (self.space.w // self.tile[1])

    @property
    def states_per_image(self) -> int:
        """``K``: tiles times (1 if channels sit on qubits, else channels)."""
        return self.n_tiles * (1 if self.folds_channels else self.space.channels)

    @property
    def dim(self) -> int:
        return 1 << self.n_qubits

    # -- pixels <-> per-state values ----------------------------------------------------------
    def _split(self, images: torch.Tensor) -> torch.Tensor:
        """``(N, h*w*c)`` -> per-state values ``(N, K, th*tw, cs)`` (``cs`` = channels folded into a state)."""
        s, (th, tw) = self.space, self.tile
        x = images.reshape(-1, s.h // th, th, s.w // tw, tw, s.channels).permute(0, 1, 3, 5, 2, 4)
        x = x.reshape(x.shape[0], self.n_tiles, s.channels, th * tw)  # (N, T, C, P)
        if self.folds_channels:
            return x.transpose(2, 3)
        return x.reshape(x.shape[0], self.n_tiles * s.channels, th * tw, 1)

    def _merge(self, values: torch.Tensor) -> torch.Tensor:
        """Inverse of :meth:`_split` over any leading dims: ``(*b, K, th*tw, cs)`` -> ``(*b, h*w*c)``."""
        s, (th, tw) = self.space, self.tile
        lead = values.shape[:-3]
        x = values.reshape(-1, self.n_tiles, s.channels, th * tw) if not self.folds_channels else \
            values.reshape(-1, self.n_tiles, th * tw, s.channels).transpose(2, 3)
        x = x.reshape(-1, s.h // th, s.w // tw, s.channels, th, tw).permute(0, 1, 4, 2, 5, 3)
        return x.reshape(*lead, s.n_pixels)

    # -- public -------------------------------------------------------------------------------
    def check(self, images: torch.Tensor, field: str = "images") -> torch.Tensor:
        """``images`` as float64 ``(N, h*w*c)`` with finite values in ``[0, 1]``, else a one-line error."""
        x = self.space.check(images, field)
        if x.shape[0] == 0:
            raise DataError(f"{field}: empty batch; pass at least one image")
        x = x.detach().to(_RTYPE)
        if not bool(torch.isfinite(x).all()):
            raise DataError(f"{field}: NaN or infinite pixel values; clean the image first")
        lo, hi = float(x.min()), float(x.max())
        if lo < 0 or hi > 1:
            raise DataError(f"{field}: pixel values must lie in [0, 1], got [{lo:.3g}, {hi:.3g}]; rescale the image")
        return x

    def encode(self, images: torch.Tensor) -> Encoded:
        """Encode images ``(N, h*w*c)`` -> :class:`Encoded` with ``states (N, K, 1, 2**n)``."""
        values = self._split(self.check(images))
        states, meta = self._encode(values)
        return Encoded(states.unsqueeze(-2), meta, self)

    #: Whether :meth:`decode` restores stored scales (False: QuantumBlur's max normalisation).
    restores: bool = True

    def decode(self, encoded: Encoded, clip: bool = True) -> torch.Tensor:
        """Images ``(*batch, h*w*c)`` from the exact Born probabilities of ``encoded`` (clipped to [0, 1])."""
        out = self._merge(self._decode(encoded.probs(), encoded.meta, self.restores))
        return out.clamp(0.0, 1.0) if clip else out

    def picture(self, encoded: Encoded) -> torch.Tensor:
        """The pixel values ``(*batch, K, th*tw, cs)`` a state shows, stored scales restored (whatever
        ``normalise`` says): for a fresh encoding, exactly the encoded image's values."""
        return self._decode(encoded.probs(), encoded.meta, True)

    def positions(self, probs: torch.Tensor) -> torch.Tensor:
        """Probabilities ``(*b, 2**n)`` -> ``(*b, 2**prefix, th*tw)``: prefix value x pixel."""
        p = probs.reshape(*probs.shape[:-1], 1 << self.prefix, 1 << self.grid.n)
        return p[..., self.grid.index]

    def _scatter(self, amps: torch.Tensor) -> torch.Tensor:
        """Amplitudes ``(N, K, 2**prefix, th*tw)`` placed on the grid -> states ``(N, K, 2**n)`` complex."""
        out = torch.zeros(*amps.shape[:-1], 1 << self.grid.n, dtype=_RTYPE)
        out[..., self.grid.index] = amps
        return out.reshape(*amps.shape[:-2], self.dim).to(_CTYPE)

    @abstractmethod
    def _encode(self, values: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Values ``(N, K, P, cs)`` -> states ``(N, K, 2**n)`` and meta ``(N, K, m)``."""

    @abstractmethod
    def _decode(self, probs: torch.Tensor, meta: torch.Tensor, restore: bool) -> torch.Tensor:
        """Probabilities ``(*b, K, 2**n)`` and meta -> values ``(*b, K, P, cs)`` (``restore``: stored scales)."""


def _channel_bits(channels: int) -> int:
    return 0 if channels == 1 else (channels - 1).bit_length()


class HeightMap(Encoding):
    """QuantumBlur's height map: amplitudes ``√h`` (``convention="probability"``, ``p ∝ h``) or ``h``
    (``"linear"``, ``p ∝ h²``) on the address grid, or its ``log`` encoding.

    ``channel_qubits=True`` puts the colour channel on ``ceil(log2 c)`` leading wires
    (one state for all channels; missing channels of the padding hold zero),
    otherwise each channel is its own state, as QuantumBlur's ``image2circuits``.

    ``normalise`` picks the decoding: ``"mass"`` restores the stored pixel mass
    (exact round trips; unitary brushes conserve the image's total brightness),
    ``"max"`` is QuantumBlur's ``probs2height`` (brightest basis state -> 1).

    Log map (QuantumBlur ``height2circuit(log=True)``): heights ``h/max h``,
    ``m = min{h > eps}``, amplitudes ``√(base**(h/m))`` with ``base = 1/m``;
    decoded by ``probs2height(log=True)`` and rescaled to the stored ``[min, max]``
    (``normalise="mass"``), or left in ``[0, 1]`` (``"max"``).
    """

    def __init__(
        self,
        space: Images,
        *,
        convention: str = "probability",
        log: bool = False,
        eps: float = 1e-2,
        normalise: str = "mass",
        channel_qubits: bool = False,
        address: str = "gray",
        tile: Optional[tuple[int, int]] = None,
    ) -> None:
        if convention not in ("probability", "linear"):
            raise ConfigError(f"convention: expected 'probability' or 'linear', got {convention!r}")
        if normalise not in ("mass", "max"):
            raise ConfigError(f"normalise: expected 'mass' or 'max', got {normalise!r}")
        if not 1e-2 <= eps < 1:
            raise ConfigError(f"eps: expected a value in [0.01, 1) (the log map spans (1/eps)**(1/eps)), got {eps!r}")
        if log and convention != "probability":
            raise ConfigError("log: the log map is QuantumBlur's probability-convention encoding; use convention='probability'")
        self.convention, self.log, self.eps, self.normalise = convention, bool(log), float(eps), normalise
        self.restores = normalise == "mass"
        self.channel_qubits = bool(channel_qubits) and space.channels > 1
        self.folds_channels = self.channel_qubits
        self.prefix = _channel_bits(space.channels) if self.channel_qubits else 0
        super().__init__(space, tile, address)

    @property
    def channel_wires(self) -> tuple[int, ...]:
        return tuple(range(self.prefix))

    def _encode(self, values: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        v = values.transpose(-1, -2)  # (N, K, cs, P)
        flat = v.reshape(*v.shape[:2], -1)
        top = flat.amax(-1)
        if bool((top <= 0).any()):
            raise DataError("image: a black image (or tile/channel) has zero norm and no state; "
                            "add an offset or drop it")
        if self.log:
            h = flat / top[..., None]
            m = torch.where(h > self.eps, h, torch.inf).amin(-1, keepdim=True)
            log_amp = 0.5 * (h / m) * torch.log(1.0 / m)  # log √(base**(h/m)), shifted below: no overflow
            amps = torch.exp(log_amp - log_amp.amax(-1, keepdim=True))
            meta = torch.stack([flat.amin(-1), top], -1)
        elif self.convention == "probability":
            amps, meta = flat.sqrt(), flat.sum(-1, keepdim=True)
        else:
            amps, meta = flat, (flat**2).sum(-1, keepdim=True)
        amps = amps / torch.linalg.vector_norm(amps, dim=-1, keepdim=True)
        amps = self._pad_channels(amps.reshape(v.shape))
        return self._scatter(amps), meta

    def _pad_channels(self, amps: torch.Tensor) -> torch.Tensor:
        """``(N, K, cs, P)`` -> ``(N, K, 2**prefix, P)`` with zero rows for unused channel codes."""
        missing = (1 << self.prefix) - amps.shape[-2]
        return torch.cat([amps, amps.new_zeros(*amps.shape[:-2], missing, amps.shape[-1])], -2) if missing else amps

    def _decode(self, probs: torch.Tensor, meta: torch.Tensor, restore: bool) -> torch.Tensor:
        c = self.space.channels if self.channel_qubits else 1
        pos = self.positions(probs)[..., :c, :]  # (*b, K, cs, P)
        if self.log:
            return self._decode_log(probs, pos, meta, restore).transpose(-1, -2)
        if not restore:
            top = probs.amax(-1)[..., None, None]
            h = pos / top if self.convention == "probability" else (pos / top).sqrt()
        else:
            scale = meta[..., 0][..., None, None]
            h = pos * scale if self.convention == "probability" else (pos * scale).sqrt()
        return h.transpose(-1, -2)

    def _decode_log(self, probs: torch.Tensor, pos: torch.Tensor, meta: torch.Tensor, restore: bool) -> torch.Tensor:
        """QuantumBlur's ``probs2height(log=True)`` (heights below ``1e-100`` count as 0), then (``restore``)
        the stored ``[min, max]`` range, where every positive height counts: the map spans up to
        ``(1/eps)**(1/eps)`` (``1e200`` at QuantumBlur's ``eps = 0.01``)."""
        cut = 0.0 if restore else 1e-100
        h = pos / probs.amax(-1)[..., None, None]
        flat = h.reshape(*h.shape[:-2], -1)
        m = torch.where(flat > cut, flat, torch.inf).amin(-1)[..., None, None]
        safe = torch.where(h > cut, h, m)
        out = torch.where(h > cut, (torch.log(safe / m) / torch.log(1.0 / m)).clamp_min(0.0), 0.0)
        out = torch.where(m >= 1.0, torch.ones_like(out), out)  # a flat image: log(1)/log(1)
        if not restore:
            return out
        lo, hi = meta[..., 0][..., None, None], meta[..., 1][..., None, None]
        return lo + (hi - lo) * out


class FRQI(Encoding):
    """Flexible representation of quantum images (Le, Dong, Hirota 2011) on ``1 + nx + ny`` qubits:
    ``|I⟩ = 2**(-(nx+ny)/2) Σ_i (cos θ_i |0⟩ + sin θ_i |1⟩) |i⟩``, ``θ_i = (π/2) g_i``; colour qubit = wire 0,
    binary address; one state per channel. Decoded by ``θ_i = atan2(√P(1,i), √P(0,i))``."""

    prefix = 1

    def __init__(self, space: Images, tile: Optional[tuple[int, int]] = None) -> None:
        super().__init__(space, tile, "binary")

    @property
    def colour_wire(self) -> int:
        return 0

    def _encode(self, values: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        theta = (math.pi / 2) * values[..., 0]  # (N, K, P)
        amps = torch.stack([torch.cos(theta), torch.sin(theta)], -2) / math.sqrt(theta.shape[-1])
        return self._scatter(amps), values.new_zeros(*values.shape[:2], 0)

    def _decode(self, probs: torch.Tensor, meta: torch.Tensor, restore: bool) -> torch.Tensor:
        pos = self.positions(probs)  # (*b, K, 2, P)
        theta = torch.atan2(pos[..., 1, :].sqrt(), pos[..., 0, :].sqrt())
        return ((2 / math.pi) * theta).unsqueeze(-1)


class NEQR(Encoding):
    """Novel enhanced quantum representation (Zhang et al. 2013) on ``bits + nx + ny`` qubits:
    ``|I⟩ = 2**(-(nx+ny)/2) Σ_i |c_i⟩|i⟩`` with ``c_i = round(g_i (2**bits - 1))`` on the leading
    ``bits`` wires (most significant first), binary address; one state per channel. Decoded as the
    conditional mean ``E[c | i] / (2**bits - 1)`` (exact for an encoded image; a brush's superposed
    grey values average)."""

    def __init__(self, space: Images, bits: int = 8, tile: Optional[tuple[int, int]] = None) -> None:
        if isinstance(bits, bool) or not isinstance(bits, int) or not 1 <= bits <= MAX_QUBITS:
            raise ConfigError(f"bits: expected an integer number of grey-value qubits in 1..{MAX_QUBITS}, got {bits!r}")
        self.bits = self.prefix = bits
        super().__init__(space, tile, "binary")

    @property
    def colour_wires(self) -> tuple[int, ...]:
        return tuple(range(self.bits))

    @property
    def levels(self) -> int:
        return (1 << self.bits) - 1

    def quantise(self, images: torch.Tensor) -> torch.Tensor:
        """Images rounded to the ``bits``-bit grey levels this encoding represents exactly."""
        return torch.round(self.check(images) * self.levels) / self.levels

    def _encode(self, values: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        code = torch.round(values[..., 0] * self.levels).long()  # (N, K, P)
        amps = torch.zeros(*code.shape[:2], 1 << self.bits, code.shape[-1], dtype=_RTYPE)
        amps.scatter_(-2, code.unsqueeze(-2), 1.0 / math.sqrt(code.shape[-1]))
        return self._scatter(amps), values.new_zeros(*values.shape[:2], 0)

    def _decode(self, probs: torch.Tensor, meta: torch.Tensor, restore: bool) -> torch.Tensor:
        pos = self.positions(probs)  # (*b, K, 2**bits, P)
        codes = torch.arange(1 << self.bits, dtype=pos.dtype)[:, None]
        total = pos.sum(-2)
        mean = (pos * codes).sum(-2) / total.clamp_min(torch.finfo(pos.dtype).tiny)
        return (mean / self.levels).unsqueeze(-1)
