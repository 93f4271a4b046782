"""Power-law fits y = A x^slope on log-log axes, with the quality of the fit."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class PowerLawFit:
    """y = prefactor * x^slope, fitted by least squares on log y against log x."""

    slope: float
    prefactor: float
    r2: float

    @property
    def exponent(self) -> float:
        """The decay exponent: y ~ x^(-exponent) (the paper's alpha_m when y is the loss and x is m)."""
        return -self.slope

    def __call__(self, x) -> np.ndarray:
        """The fitted curve at x."""
        return self.prefactor * np.asarray(x, dtype=float) ** self.slope


def fit_power_law(x, y) -> PowerLawFit:
    """Least-squares line through (log x, log y); needs >= 2 distinct positive x and positive y."""
    x = np.asarray(x, dtype=float).ravel()
    y = np.asarray(y, dtype=float).ravel()
    if x.shape != y.shape:
        raise ValueError(f"x and y must have the same length, got {x.size} and {y.size}")
    if x.size < 2 or np.unique(x).size < 2:
        raise ValueError("x must hold at least two distinct values to fit a power law")
    for name, v in (("x", x), ("y", y)):
        if not np.all(np.isfinite(v)) or np.any(v <= 0):
            raise ValueError(f"{name} must be finite and positive for a log-log fit")
    lx, ly = np.log(x), np.log(y)
    slope, intercept = np.polyfit(lx, ly, 1)
    resid = ly - (slope * lx + intercept)
    total = np.sum((ly - ly.mean()) ** 2)
    r2 = 1.0 - np.sum(resid ** 2) / total if total > 0 else 1.0
    return PowerLawFit(slope=float(slope), prefactor=float(np.exp(intercept)), r2=float(r2))
