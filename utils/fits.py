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
    #: standard error of the slope from the scatter about the line (NaN with two points: a line through
    #: two points has no scatter to measure)
    slope_se: float = float("nan")

    @property
    def exponent(self) -> float:
        """The decay exponent: y ~ x^(-exponent) (the paper's alpha_m when y is the loss and x is m)."""
        return -self.slope

    def __call__(self, x) -> np.ndarray:
        """The fitted curve at x."""
        return self.prefactor * np.asarray(x, dtype=float) ** self.slope


def _positive_pairs(x, y, points: int, distinct: int) -> tuple[np.ndarray, np.ndarray]:
    """x and y as flat float arrays of equal length, finite and positive, with enough (distinct) points."""
    x = np.asarray(x, dtype=float).ravel()
    y = np.asarray(y, dtype=float).ravel()
    if x.shape != y.shape:
        raise ValueError(f"x and y must have the same length, got {x.size} and {y.size}")
    if x.size < points or np.unique(x).size < distinct:
        raise ValueError(f"the fit needs at least {points} points at {distinct} or more distinct x, "
                         f"got {x.size} points at {np.unique(x).size}")
    for name, v in (("x", x), ("y", y)):
        if not np.all(np.isfinite(v)) or np.any(v <= 0):
            raise ValueError(f"{name} must be finite and positive for a log-log fit")
    return x, y


def fit_power_law(x, y) -> PowerLawFit:
    """Least-squares line through (log x, log y); needs >= 2 distinct positive x and positive y."""
    x, y = _positive_pairs(x, y, points=2, distinct=2)
    lx, ly = np.log(x), np.log(y)
    slope, intercept = np.polyfit(lx, ly, 1)
    resid = ly - (slope * lx + intercept)
    total = np.sum((ly - ly.mean()) ** 2)
    r2 = 1.0 - np.sum(resid ** 2) / total if total > 0 else 1.0
    k = len(lx)
    se = float(np.sqrt(np.sum(resid ** 2) / (k - 2) / np.sum((lx - lx.mean()) ** 2))) if k > 2 else float("nan")
    return PowerLawFit(slope=float(slope), prefactor=float(np.exp(intercept)), r2=float(r2), slope_se=se)


@dataclass(frozen=True)
class OffsetPowerLawFit:
    """y = offset + prefactor * x^(-exponent): a power law that levels off at an irreducible offset.

    `exponent_se` and `offset_se` are standard errors from the curvature of the squared error at the
    optimum (linearised, so only a guide when the data barely constrain the fit).
    """

    offset: float
    prefactor: float
    exponent: float
    exponent_se: float
    offset_se: float
    rss: float

    def __call__(self, x) -> np.ndarray:
        return self.offset + self.prefactor * np.asarray(x, dtype=float) ** (-self.exponent)


def _best_prefactor(x, y, offsets, exponents):
    """For every (offset, exponent) on a grid, the least-squares prefactor and the squared error."""
    f = x[None, None, :] ** (-exponents[None, :, None])          # (1, E, N)
    r = y[None, None, :] - offsets[:, None, None]                 # (O, 1, N)
    A = (f * r).sum(-1) / (f * f).sum(-1)                         # (O, E)
    rss = ((r - A[..., None] * f) ** 2).sum(-1)
    return A, rss


def fit_offset_power_law(x, y, max_exponent: float = 3.0) -> OffsetPowerLawFit:
    """Least-squares fit of y = L0 + A x^(-a) with 0 <= L0 < min(y), A > 0, 0 < a <= max_exponent.

    Needs at least 4 points (3 parameters plus one degree of freedom for the error bars). The optimum
    is found on a grid over (L0, a), refined twice around the best cell; A is solved exactly for each.
    """
    x, y = _positive_pairs(x, y, points=4, distinct=3)
    lo_o, hi_o, lo_a, hi_a = 0.0, y.min() * (1 - 1e-9), 1e-3, float(max_exponent)
    for _ in range(3):
        offsets, exponents = np.linspace(lo_o, hi_o, 201), np.linspace(lo_a, hi_a, 301)
        A, rss = _best_prefactor(x, y, offsets, exponents)
        rss = np.where(A > 0, rss, np.inf)
        i, j = np.unravel_index(np.argmin(rss), rss.shape)
        do, da = offsets[1] - offsets[0], exponents[1] - exponents[0]
        lo_o, hi_o = max(0.0, offsets[i] - 2 * do), min(y.min() * (1 - 1e-9), offsets[i] + 2 * do)
        lo_a, hi_a = max(1e-3, exponents[j] - 2 * da), min(max_exponent, exponents[j] + 2 * da)
    L0, a, Af = float(offsets[i]), float(exponents[j]), float(A[i, j])
    # standard errors from the Jacobian of the residuals with respect to (L0, A, a)
    J = np.stack([np.ones_like(x), x ** -a, -Af * x ** -a * np.log(x)], axis=1)
    dof = x.size - 3
    s2 = float(rss[i, j]) / dof if dof > 0 else np.nan
    try:
        cov = s2 * np.linalg.inv(J.T @ J)
        se_o, se_a = float(np.sqrt(max(cov[0, 0], 0))), float(np.sqrt(max(cov[2, 2], 0)))
    except np.linalg.LinAlgError:
        se_o = se_a = float("inf")
    return OffsetPowerLawFit(offset=L0, prefactor=Af, exponent=a, exponent_se=se_a, offset_se=se_o,
                             rss=float(rss[i, j]))
