"""Daily log-returns of market indices shipped with the ``arch`` package, and
their discretised empirical copula.

Assets: ``"sp500"`` and ``"nasdaq"`` (``arch.data.{sp500,nasdaq}``, adjusted close,
1999-2018) and ``"crude"`` (WTI spot, ``arch.data.wti``, daily; missing days
dropped). Prices are aligned on common dates, then ``r_t = log P_t - log P_{t-1}``.
The last ``test_fraction`` of the dates is held out (split by date, no shuffling).

Copula (:class:`MarketCopula`): each split's returns become pseudo-observations
``u = rank / (N + 1)`` per asset (each split ranked on its own, so both splits have
uniform marginals and the histograms compare dependence only); ``u`` falls into
bin ``floor(u * 2**bits)``; asset 0's bits come first, MSB first. ``decode`` maps a
bin back to returns by the empirical quantile of the TRAINING returns at the bin
centre ``(b + 1/2) / 2**bits`` or, given a ``generator``, at a uniform point within the
bin (``(b + U) / 2**bits``), which restores continuous marginals.
"""
from __future__ import annotations

from typing import Optional, Sequence

import numpy as np
import torch
from scipy import stats

from qgm.data.base import ContinuousDataset, GridDataset, check_fraction, check_n_bits, check_positive_int
from qgm.errors import ConfigError, DataError
from qgm.registry import DATASETS

__all__ = [
    "ASSETS", "load_returns", "split_by_date", "MarketCopula", "market_copula", "market_returns",
    "fit_gaussian_copula", "sample_gaussian_copula", "discretise_uniforms",
]

#: Asset name -> (arch.data module, price column).
ASSETS = {"sp500": ("sp500", "Adj Close"), "nasdaq": ("nasdaq", "Adj Close"), "crude": ("wti", "DCOILWTICO")}


def _prices(asset: str):
    if asset not in ASSETS:
        raise ConfigError(f"assets: unknown asset {asset!r}; choose from {sorted(ASSETS)}")
    try:
        import importlib

        module = importlib.import_module(f"arch.data.{ASSETS[asset][0]}")
    except ImportError:
        raise DataError("assets: market data needs the 'arch' package; pip install arch") from None
    series = module.load()[ASSETS[asset][1]].dropna()
    return series.rename(asset)


def load_returns(assets: Sequence[str] = ("sp500", "nasdaq")) -> tuple[np.ndarray, np.ndarray]:
    """Aligned daily log-returns ``(T, d)`` float64 and their dates ``(T,)`` (datetime64[D])."""
    if isinstance(assets, str) or len(assets) < 1 or len(set(assets)) != len(assets):
        raise ConfigError(f"assets: expected a list of distinct asset names, got {assets!r}")
    import pandas as pd

    prices = pd.concat([_prices(a) for a in assets], axis=1, join="inner").sort_index()
    if len(prices) < 3:
        raise DataError(f"assets: {list(assets)} share fewer than 3 dates; choose assets with overlapping history")
    returns = np.diff(np.log(prices.to_numpy(dtype=np.float64)), axis=0)
    return returns, prices.index.to_numpy()[1:].astype("datetime64[D]")


def split_by_date(n: int, test_fraction: float) -> int:
    """Number of leading (training) rows when the last ``test_fraction`` of ``n`` rows is held out."""
    n_test = int(round(check_fraction("test_fraction", test_fraction, closed=True) * n))
    n_train = n - n_test
    if n_train < 2 or (0 < n_test < 2):
        raise ConfigError(f"test_fraction: {test_fraction} leaves {n_train} training / {n_test} test days; "
                          "use 0 or a value in [0.01, 0.9]")
    return n_train


def discretise_uniforms(u: np.ndarray, bits: int) -> torch.Tensor:
    """Joint basis indices ``(N,)`` of points ``u (N, d)`` in ``[0, 1]^d``; variable 0 most significant."""
    a = np.asarray(u, dtype=np.float64)
    if a.ndim != 2 or np.any(a < 0) or np.any(a > 1):
        raise DataError(f"u: expected an (N, d) array in [0, 1], got shape {a.shape}")
    b = np.minimum((a * (1 << bits)).astype(np.int64), (1 << bits) - 1)
    weights = 1 << (bits * np.arange(a.shape[1] - 1, -1, -1, dtype=np.int64))
    return torch.as_tensor(b @ weights)


def _pseudo(x: np.ndarray) -> np.ndarray:
    return stats.rankdata(x, axis=0) / (len(x) + 1)


class MarketCopula(GridDataset):
    """The discretised empirical copula of aligned daily log-returns (see module docstring)."""

    def __init__(self, assets: Sequence[str] = ("sp500", "nasdaq"), bits: int = 4, test_fraction: float = 0.2) -> None:
        bits = check_positive_int("bits", bits)
        self.assets = list(assets)
        check_n_bits("market_copula", bits * len(self.assets))
        returns, dates = load_returns(self.assets)
        n_train = split_by_date(len(returns), test_fraction)
        self._returns = {"train": returns[:n_train], "test": returns[n_train:]}
        self.dates = {"train": dates[:n_train], "test": dates[n_train:]}
        train = discretise_uniforms(_pseudo(self._returns["train"]), bits)
        test = discretise_uniforms(_pseudo(self._returns["test"]), bits) if len(self._returns["test"]) else None
        mid = (np.arange(1 << bits) + 0.5) / (1 << bits)
        centres = [np.quantile(self._returns["train"][:, j], mid) for j in range(len(self.assets))]
        super().__init__("market_copula", bits, centres, train, test=test)

    def returns(self, split: str = "train") -> np.ndarray:
        """Raw log-returns ``(N, d)`` of ``split`` (``"train"`` or ``"test"``)."""
        self.split(split)
        return self._returns[split]

    def uniforms(self, split: str = "train") -> np.ndarray:
        """Pseudo-observations ``(N, d)`` in ``(0, 1)`` of ``split`` (its own ranks / (N + 1))."""
        return _pseudo(self.returns(split))

    def encode(self, u: np.ndarray) -> torch.Tensor:
        """Basis indices ``(N,)`` of copula points ``u (N, d)`` in ``[0, 1]^d`` (e.g. a baseline's samples)."""
        return discretise_uniforms(u, self.bits_per_variable)

    def decode(self, indices: torch.Tensor | np.ndarray, generator: Optional[torch.Generator] = None) -> np.ndarray:
        """Returns ``(len, d)``: training quantiles at the bin centres, or at uniform points within the bins."""
        if generator is None:
            return super().decode(indices)
        b = self.bin_indices(indices)
        jitter = torch.rand(b.shape, generator=generator, dtype=torch.float64).numpy()
        u = (b + jitter) / (1 << self.bits_per_variable)
        train = self._returns["train"]
        return np.stack([np.quantile(train[:, j], u[:, j]) for j in range(self.dim)], axis=1)


@DATASETS.register("market_copula")
def market_copula(assets: Sequence[str] = ("sp500", "nasdaq"), bits: int = 4, test_fraction: float = 0.2) -> MarketCopula:
    """Registered factory: :class:`MarketCopula` (``n_bits = bits * len(assets)``)."""
    return MarketCopula(assets, bits, test_fraction)


@DATASETS.register("market_returns")
def market_returns(assets: Sequence[str] = ("sp500", "nasdaq"), test_fraction: float = 0.2) -> ContinuousDataset:
    """Registered factory: the raw aligned log-returns as a :class:`ContinuousDataset` (split by date;
    ``sample`` resamples training days)."""
    returns, _ = load_returns(list(assets))
    n_train = split_by_date(len(returns), test_fraction)
    test = returns[n_train:] if n_train < len(returns) else None
    return ContinuousDataset("market_returns", returns[:n_train], test=test)


def fit_gaussian_copula(u: np.ndarray) -> np.ndarray:
    """Correlation matrix ``(d, d)`` of the normal scores ``Phi^{-1}(u)`` of copula points ``u (N, d)`` in (0, 1)."""
    a = np.asarray(u, dtype=np.float64)
    if a.ndim != 2 or a.shape[0] < 3 or a.shape[1] < 2 or np.any(a <= 0) or np.any(a >= 1):
        raise DataError(f"u: expected an (N >= 3, d >= 2) array strictly inside (0, 1), got shape {a.shape}")
    return np.corrcoef(stats.norm.ppf(a), rowvar=False)


def sample_gaussian_copula(corr: np.ndarray, n: int, generator: Optional[torch.Generator] = None) -> np.ndarray:
    """``n`` points ``(n, d)`` in (0, 1) of the Gaussian copula with correlation ``corr``."""
    c = np.asarray(corr, dtype=np.float64)
    try:
        chol = np.linalg.cholesky(c)
    except np.linalg.LinAlgError:
        raise DataError("corr: the correlation matrix is not positive definite") from None
    n = check_positive_int("n", n)
    z = torch.randn(n, c.shape[0], generator=generator, dtype=torch.float64).numpy()
    return stats.norm.cdf(z @ chol.T)
