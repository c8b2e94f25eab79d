"""Animations and output: frame sweeps and PNG sequences (Pillow; no GIF/MP4 encoder needed).

A brush given a 1-D tensor of strengths renders all frames in one batched call
(:mod:`qgm.art.brushes`); :func:`stack_frames` joins brushes that run frame by
frame (decoherence strengths); :func:`save_frames` writes ``stem_000.png`` ….
"""
from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path
from typing import Sequence, Union

import torch

from qgm.art.encodings import Encoded
from qgm.art.render import save_image
from qgm.errors import ConfigError, ParameterError
from qgm.spaces import Images

__all__ = ["sweep", "stack_frames", "frame_paths", "save_frames"]

PathLike = Union[str, "os.PathLike[str]"]


def sweep(stop: float, frames: int, start: float = 0.0) -> torch.Tensor:
    """``frames`` evenly spaced strengths from ``start`` to ``stop`` (both included) ``(frames,)``."""
    if isinstance(frames, bool) or not isinstance(frames, int) or frames < 1:
        raise ConfigError(f"frames: expected a positive integer, got {frames!r}")
    return torch.linspace(float(start), float(stop), frames, dtype=torch.float64)


def stack_frames(frames: Sequence[Encoded]) -> Encoded:
    """Encoded frames with one batch shape and branch count -> one :class:`Encoded` with a leading frame dim."""
    if not frames:
        raise ParameterError("frames: nothing to stack; pass at least one Encoded frame")
    shapes = {tuple(f.states.shape) for f in frames}
    if len(shapes) != 1:
        raise ParameterError(f"frames: states of different shapes {sorted(shapes)} cannot share an animation")
    return replace(frames[0], states=torch.stack([f.states for f in frames]), meta=torch.stack([f.meta for f in frames]))


def frame_paths(out: PathLike, frames: int) -> list[Path]:
    """``out`` itself for one frame, else ``stem_000.png`` … beside it."""
    path = Path(out)
    if frames == 1:
        return [path]
    return [path.with_name(f"{path.stem}_{k:03d}{path.suffix or '.png'}") for k in range(frames)]


def save_frames(out: PathLike, images: torch.Tensor, space: Images, scale: int = 1) -> list[Path]:
    """Flat images ``(F, h*w*c)`` as PNGs named by :func:`frame_paths`; returns the paths."""
    x = images.reshape(-1, space.n_pixels)
    paths = frame_paths(out, x.shape[0])
    for img, p in zip(x, paths):
        save_image(p, img, space, scale)
    return paths
