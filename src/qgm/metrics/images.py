"""Image metrics for 8x8 digits: a fixed digit classifier, its features and the Fréchet distance.

The reference network is scikit-learn's ``MLPClassifier`` (64 → 32 ReLU → 10)
trained once on 75% of ``load_digits`` (pixels / 16, ``random_state=0``); the
Fréchet distance is computed on its hidden ReLU features (less the units that
are silent on every digit, whose zero variance would make covariances singular),
in the spirit of FID with a network that fits the data.
"""
from __future__ import annotations

import functools
import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import linalg

__all__ = ["DigitReference", "digit_reference", "frechet_distance", "share_classified"]


@dataclass(frozen=True)
class DigitReference:
    """The fitted classifier, its held-out accuracy and the mask of live hidden units."""

    classifier: Any
    accuracy: float
    alive: np.ndarray

    def features(self, images: np.ndarray) -> np.ndarray:
        """Hidden ReLU features ``(N, k)`` of flat images ``(N, 64)`` in [0, 1]."""
        x = np.asarray(images, dtype=np.float64).reshape(len(images), -1)
        hidden = np.maximum(x @ self.classifier.coefs_[0] + self.classifier.intercepts_[0], 0.0)
        return hidden[:, self.alive]

    def predict(self, images: np.ndarray) -> np.ndarray:
        """Predicted digit ``(N,)`` of flat images ``(N, 64)``."""
        return self.classifier.predict(np.asarray(images, dtype=np.float64).reshape(len(images), -1))


@functools.lru_cache(maxsize=1)
def digit_reference() -> DigitReference:
    """The reference classifier (trained once per process; deterministic)."""
    from sklearn.datasets import load_digits
    from sklearn.neural_network import MLPClassifier

    d = load_digits()
    x, y = d.data / 16.0, d.target
    order = np.random.default_rng(0).permutation(len(x))
    cut = int(0.75 * len(x))
    clf = MLPClassifier(hidden_layer_sizes=(32,), max_iter=2000, random_state=0)
    clf.fit(x[order[:cut]], y[order[:cut]])
    alive = np.maximum(x @ clf.coefs_[0] + clf.intercepts_[0], 0.0).std(0) > 0
    return DigitReference(clf, float(clf.score(x[order[cut:]], y[order[cut:]])), alive)


def frechet_distance(a: np.ndarray, b: np.ndarray) -> float:
    """Fréchet distance between Gaussians fitted to feature rows ``a`` ``(N, k)`` and ``b`` ``(M, k)``."""
    mu_a, mu_b = a.mean(0), b.mean(0)
    ca, cb = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    with warnings.catch_warnings():  # rank-deficient covariances (units silent on a set) are expected
        warnings.simplefilter("ignore", linalg.LinAlgWarning)
        root = linalg.sqrtm(ca @ cb).real
    return float(((mu_a - mu_b) ** 2).sum() + np.trace(ca + cb - 2 * root))


def share_classified(images: np.ndarray, digit: int) -> float:
    """Share of flat images ``(N, 64)`` the reference classifier calls ``digit``."""
    return float((digit_reference().predict(images) == digit).mean())
