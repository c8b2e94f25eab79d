"""Rendering: images in and out of the :class:`~qgm.spaces.Images` tensor form, with Pillow.

* :func:`load_image`: a PNG/JPEG path or a built-in picture (``builtin:china``,
  ``builtin:flower`` from scikit-learn's sample images, ``builtin:digit3`` an 8x8
  digit from ``load_digits``; no downloads) -> ``(1, h*w*c)`` float64 in ``[0, 1]``;
* :func:`to_pixels` / :func:`save_image`: flat images -> 8-bit arrays / PNG files
  (atomic writes), optionally enlarged with nearest-neighbour pixels so 8x8 art is visible;
* :func:`tile_grid`: a batch of images as one contact sheet.
"""
from __future__ import annotations

import io
import os
from pathlib import Path
from typing import Optional, Union

import numpy as np
import torch

from qgm.atomic import atomic_write
from qgm.errors import ConfigError, DataError
from qgm.spaces import Images

__all__ = ["BUILTINS", "load_image", "to_pixels", "save_image", "tile_grid", "parse_size"]

PathLike = Union[str, "os.PathLike[str]"]
#: Built-in pictures: scikit-learn's sample photographs and its 8x8 digits (``digit0`` .. ``digit9``).
BUILTINS = ("china", "flower", *(f"digit{k}" for k in range(10)))


def parse_size(size: Union[None, int, str, tuple[int, int]]) -> Optional[tuple[int, int]]:
    """``None``, ``64``, ``"64"``, ``"48x64"`` (height x width) or ``(h, w)`` -> ``(h, w)`` or None."""
    if size is None:
        return None
    if isinstance(size, tuple):
        h, w = size
    else:
        text = str(size).lower()
        try:
            h, w = (int(v) for v in text.split("x")) if "x" in text else (int(text), int(text))
        except ValueError:
            raise ConfigError(f"size: expected N or HxW (e.g. 64 or 48x64), got {size!r}") from None
    if h < 1 or w < 1:
        raise ConfigError(f"size: sides must be positive, got {h}x{w}")
    return int(h), int(w)


def _builtin(name: str) -> np.ndarray:
    """A built-in picture as a float array ``(h, w)`` or ``(h, w, 3)`` in [0, 1]."""
    if name not in BUILTINS:
        raise ConfigError(f"image: unknown built-in {name!r}; known: {', '.join(BUILTINS)}")
    if name.startswith("digit"):
        from qgm.data.digits import Digits

        digit = Digits(classes=[int(name[5:])], limit=1)
        return digit.images(digit.train)[0]
    from sklearn.datasets import load_sample_image

    return load_sample_image(f"{name}.jpg").astype(np.float64) / 255.0


def _pil(array: np.ndarray):
    from PIL import Image

    a = np.clip(np.rint(np.asarray(array) * 255.0), 0, 255).astype(np.uint8)
    return Image.fromarray(a, mode="L" if a.ndim == 2 else "RGB")


def load_image(source: PathLike, *, size=None, grey: bool = False) -> tuple[torch.Tensor, Images]:
    """Picture ``source`` (a file or ``builtin:NAME``) resized to ``size`` (``(h, w)``, ``"HxW"`` or N;
    Lanczos), optionally converted to grey -> ``(image (1, h*w*c) float64, Images(h, w, c))``."""
    from PIL import Image, UnidentifiedImageError

    text = os.fspath(source)
    if text.startswith("builtin:"):
        pic = _pil(_builtin(text[len("builtin:"):]))
    else:
        if not os.path.isfile(text):
            raise DataError(f"IMG: no file {text!r}; give a PNG/JPEG path or builtin:NAME ({', '.join(BUILTINS)})")
        try:
            pic = Image.open(text)
            pic.load()
        except (UnidentifiedImageError, OSError, Image.DecompressionBombError) as exc:
            raise DataError(f"IMG: {text!r} is not a readable image ({exc}); give a PNG or JPEG") from None
    pic = pic.convert("L" if grey or pic.mode in ("L", "1", "I", "F", "LA") else "RGB")
    hw = parse_size(size)
    if hw is not None:
        pic = pic.resize((hw[1], hw[0]), Image.LANCZOS)
    a = np.asarray(pic, dtype=np.float64) / 255.0
    space = Images(a.shape[0], a.shape[1], 1 if a.ndim == 2 else a.shape[2])
    return torch.as_tensor(a.reshape(1, -1)), space


def to_pixels(image: torch.Tensor | np.ndarray, space: Images, scale: int = 1) -> np.ndarray:
    """One flat image ``(h*w*c,)`` -> ``(h*scale, w*scale[, c])`` floats in [0, 1] (nearest-neighbour)."""
    a = np.clip(np.asarray(torch.as_tensor(image).detach().cpu(), dtype=np.float64), 0.0, 1.0)
    a = a.reshape((space.h, space.w) if space.channels == 1 else (space.h, space.w, space.channels))
    if space.channels not in (1, 3):
        raise DataError(f"image: {space.channels} channels cannot be saved as PNG; use 1 (grey) or 3 (RGB)")
    return a.repeat(scale, 0).repeat(scale, 1) if scale > 1 else a


def save_image(path: PathLike, image: torch.Tensor | np.ndarray, space: Images, scale: int = 1) -> Path:
    """Write one flat image as an 8-bit PNG (atomically); returns the path."""
    buf = io.BytesIO()
    _pil(to_pixels(image, space, scale)).save(buf, format="PNG")
    atomic_write(path, lambda f: f.write(buf.getvalue()))
    return Path(path)


def tile_grid(images: torch.Tensor | np.ndarray, space: Images, cols: Optional[int] = None, pad: int = 1) -> np.ndarray:
    """Images ``(N, h*w*c)`` as one sheet ``(rows*(h+pad)+pad, cols*(w+pad)+pad[, c])`` on a black ground."""
    x = np.asarray(torch.as_tensor(images).detach().cpu(), dtype=np.float64).reshape(-1, space.n_pixels)
    n = x.shape[0]
    cols = int(cols or int(np.ceil(np.sqrt(n))))
    rows = int(np.ceil(n / cols))
    tail = () if space.channels == 1 else (space.channels,)
    sheet = np.zeros((rows * (space.h + pad) + pad, cols * (space.w + pad) + pad, *tail))
    for k in range(n):
        r, c = divmod(k, cols)
        y0, x0 = pad + r * (space.h + pad), pad + c * (space.w + pad)
        sheet[y0:y0 + space.h, x0:x0 + space.w] = to_pixels(x[k], space)
    return sheet
