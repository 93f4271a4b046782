"""Metrics on matrices whose answers are known, and power-law fits."""

import math

import numpy as np
import pytest
import torch

from utils import fits, metrics


def test_row_norms_and_represented_fractions():
    W = torch.zeros(4, 3)
    W[0, 0], W[1, 1], W[2, 2], W[3, 0] = 1.0, 0.95, 0.4, 1.3
    assert torch.allclose(metrics.row_norms(W), torch.tensor([1.0, 0.95, 0.4, 1.3]))
    assert metrics.phi_half(W).item() == pytest.approx(0.75)
    assert metrics.phi_one(W).item() == pytest.approx(0.25)  # norm > 1 (Eq. 15): 1.3 only, not 1.0
    assert metrics.phi_band(W).item() == pytest.approx(0.5)  # within 0.1 of 1: 1.0 and 0.95
    assert torch.allclose(metrics.phi_half(torch.stack([W, W * 0])), torch.tensor([0.75, 0.0]))


def test_mean_square_overlap_of_random_unit_vectors_is_one_over_m():
    g = torch.Generator().manual_seed(0)
    for m in (10, 40):
        W = torch.randn(600, m, generator=g)
        W = W / W.norm(dim=1, keepdim=True)
        assert metrics.mean_square_overlap(W) == pytest.approx(1 / m, rel=0.06)


def test_mean_square_overlap_known_cases():
    assert metrics.mean_square_overlap(torch.eye(5)[:, :5]) == 0.0
    v = torch.tensor([[1.0, 0.0], [1.0, 1.0]])  # cos^2 = 1/2
    assert metrics.mean_square_overlap(v) == pytest.approx(0.5)
    W = torch.tensor([[1.0, 0.0], [0.0, 1.0], [0.1, 0.1]])  # third row not represented
    assert metrics.mean_square_overlap(W) == 0.0
    assert math.isnan(metrics.mean_square_overlap(torch.tensor([[1.0, 0.0], [0.0, 0.1]])))


def test_unrepresented_loss_counts_only_small_rows():
    W = torch.zeros(4, 2)
    W[0, 0] = 1.0
    p = torch.tensor([0.4, 0.3, 0.2, 0.1])
    assert metrics.unrepresented_loss(W, p) == pytest.approx((0.3 + 0.2 + 0.1) * (4 / 3) / 4)


@pytest.mark.parametrize("call, name", [
    (lambda: metrics.row_norms(torch.zeros(3)), "W"),
    (lambda: metrics.phi_half(torch.full((3, 2), float("nan"))), "W"),
    (lambda: metrics.phi_band(torch.zeros(3, 2), tol=0), "tol"),
    (lambda: metrics.overlaps(torch.zeros(2, 3, 2)), "W"),
    (lambda: metrics.unrepresented_loss(torch.zeros(3, 2), torch.zeros(4)), "p"),
    (lambda: metrics.crowding(torch.randn(50, 5), top=0, rare_from=10), "top"),
    (lambda: metrics.crowding(torch.randn(50, 5), top=60, rare_from=10), "top"),
    (lambda: metrics.crowding(torch.randn(50, 5), top=5), "rare_from"),  # the default 300 is past n = 50
    (lambda: metrics.crowding(torch.randn(50, 5), top=5, rare_from=49), "rare_from"),  # one rare row
    (lambda: metrics.crowding(torch.randn(2, 50, 5), top=5, rare_from=10), "W"),
])
def test_metric_bad_input(call, name):
    with pytest.raises(ValueError, match=rf"\b{name}\b"):
        call()


def test_power_law_fit_recovers_exponent_prefactor_and_r2():
    m = np.array([10, 15, 25, 39, 63, 100])
    fit = fits.fit_power_law(m, 3.0 * m ** -1.0)
    assert fit.slope == pytest.approx(-1.0) and fit.exponent == pytest.approx(1.0)
    assert fit.prefactor == pytest.approx(3.0) and fit.r2 == pytest.approx(1.0)
    rng = np.random.default_rng(0)
    noisy = fits.fit_power_law(m, 3.0 * m ** -1.0 * np.exp(rng.normal(0, 0.05, m.size)))
    assert 0.85 < noisy.exponent < 1.15 and 0.95 < noisy.r2 < 1.0
    assert np.allclose(fit(m), 3.0 / m)


@pytest.mark.parametrize("x, y, name", [
    ([1, 2, 3], [1, 2], "x"),
    ([2, 2], [1, 2], "x"),
    ([1, 2], [1, -2], "y"),
    ([0, 2], [1, 2], "x"),
    ([1, 2], [1, float("nan")], "y"),
])
def test_fit_bad_input(x, y, name):
    with pytest.raises(ValueError, match=rf"\b{name}\b"):
        fits.fit_power_law(x, y)


def test_power_law_fit_reports_the_standard_error_of_its_slope():
    x = np.array([10, 15, 25, 39, 63, 100], float)
    y = 0.5 * x ** -1.0 * np.exp(np.array([0.05, -0.03, 0.02, -0.06, 0.04, -0.01]))
    fit = fits.fit_power_law(x, y)
    _, cov = np.polyfit(np.log(x), np.log(y), 1, cov="unscaled")
    resid = np.log(y) - np.polyval(np.polyfit(np.log(x), np.log(y), 1), np.log(x))
    assert fit.slope_se == pytest.approx(np.sqrt(cov[0, 0] * np.sum(resid ** 2) / (len(x) - 2)))
    assert 0 < fit.slope_se < 0.1
    assert math.isnan(fits.fit_power_law([1, 2], [1, 0.5]).slope_se)  # two points: no scatter to measure
    assert fits.fit_power_law(x, 3 * x ** -1.0).slope_se == pytest.approx(0, abs=1e-12)
