"""The 8x8 handwritten digits shipped with scikit-learn (``load_digits``, UCI optdigits
test set), pixel values 0..16 scaled to ``[0, 1]``: the patch-QGAN data of Huang et
al. (arXiv:2010.06201) and PennyLane's ``tutorial_quantum_gans``.
"""
from __future__ import annotations

from typing import Optional, Sequence

import numpy as np

from qgm.data.base import ContinuousDataset
from qgm.errors import ConfigError
from qgm.registry import DATASETS
from qgm.spaces import Images

__all__ = ["Digits", "digits"]


class Digits(ContinuousDataset):
    """Images of the chosen digit ``classes``: space ``Images(8, 8)``, ``train (N, 64)`` float64 in [0, 1].

    :meth:`sample` resamples training images. ``labels (N,)`` holds the digit of each row.
    """

    shape = (8, 8)

    def __init__(self, classes: int | Sequence[int] = (0,), limit: Optional[int] = None) -> None:
        from sklearn.datasets import load_digits

        chosen = [classes] if isinstance(classes, int) else classes
        ok = isinstance(chosen, (list, tuple)) and chosen and all(isinstance(c, int) and 0 <= c <= 9 for c in chosen)
        if not ok:
            raise ConfigError(f"classes: expected a non-empty list of digits 0..9, got {classes!r}")
        data = load_digits()
        keep = np.isin(data.target, chosen)
        images, labels = data.data[keep] / 16.0, data.target[keep]
        if limit is not None:
            if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
                raise ConfigError(f"limit: expected a positive number of images, got {limit!r}")
            images, labels = images[:limit], labels[:limit]
        self.classes = sorted(set(chosen))
        self.labels = labels
        super().__init__("digits", images, space=Images(*self.shape))

    def images(self, x: np.ndarray) -> np.ndarray:
        """Rows ``(N, 64)`` as images ``(N, 8, 8)``."""
        return np.asarray(x, dtype=np.float64).reshape(-1, *self.shape)


@DATASETS.register("digits")
def digits(classes: int | Sequence[int] = (0,), limit: Optional[int] = None) -> Digits:
    """Registered factory: :class:`Digits` of the given classes (``limit`` keeps the first images)."""
    return Digits(classes, limit)
