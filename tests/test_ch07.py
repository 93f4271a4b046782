"""Chapter 7's helpers: the offset power-law fit, the scaling-law arithmetic, and the exercise self-checks."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from utils import checks, fits, lm


def test_offset_fit_recovers_known_parameters_and_reports_uncertainty():
    x = np.array([16, 32, 64, 128, 256, 512], dtype=float)
    y = 2.0 + 5.0 * x ** -0.7
    fit = fits.fit_offset_power_law(x, y)
    assert fit.offset == pytest.approx(2.0, abs=1e-3) and fit.exponent == pytest.approx(0.7, abs=1e-3)
    assert fit(64.0) == pytest.approx(2.0 + 5.0 * 64 ** -0.7, rel=1e-4)
    noisy = y + np.random.default_rng(0).normal(0, 0.02, x.size)
    loose = fits.fit_offset_power_law(x, noisy)
    assert abs(loose.exponent - 0.7) < 3 * loose.exponent_se + 0.05 and loose.exponent_se > 0.01
    with pytest.raises(ValueError, match="at least 4 points"):
        fits.fit_offset_power_law([1, 2, 3], [3, 2, 1])
    with pytest.raises(ValueError, match="finite and positive"):
        fits.fit_offset_power_law([1, 2, 3, 4], [3, 2, 1, -1])


def test_width_exponents_from_chinchilla():
    m = np.array([256, 512, 1024, 2048, 4096], dtype=float)
    fixed_aspect = lm.CHINCHILLA["A"] / lm.transformer_params(m, m / 64) ** lm.CHINCHILLA["alpha"]
    fixed_depth = lm.CHINCHILLA["A"] / lm.transformer_params(m, 12) ** lm.CHINCHILLA["alpha"]
    assert fits.fit_power_law(m, fixed_aspect).exponent == pytest.approx(3 * 0.34)
    assert fits.fit_power_law(m, fixed_depth).exponent == pytest.approx(2 * 0.34)
    assert lm.width_exponent(0.34, 3) == pytest.approx(1.02)
    assert lm.transformer_params(768, 12) == pytest.approx(84.9e6, rel=0.01)  # GPT-2 small without embeddings
    assert lm.chinchilla_loss(70e9, 1.4e12) == pytest.approx(1.94, abs=0.02)  # Chinchilla itself


# ---------------------------------------------------------------- self-checks: pass the reference, fail wrong answers

def _token_matrix(model):
    return model.get_output_embeddings().weight.detach().float()


def _overlap_ratio(U):
    U = U.double()
    V, m = U.shape
    Uh = U / U.norm(dim=1, keepdim=True)
    return float(m * ((Uh.T @ Uh).pow(2).sum() - V) / (V * (V - 1)))


def test_token_matrix_check():
    checks.check_token_matrix(_token_matrix)
    with pytest.raises(AssertionError, match="transpose"):
        checks.check_token_matrix(lambda model: _token_matrix(model).T)
    with pytest.raises(AssertionError, match="position embeddings"):
        checks.check_token_matrix(lambda model: model.transformer.wpe.weight.detach())
    with pytest.raises(AssertionError, match="not implemented"):
        checks.check_token_matrix(lambda model: (_ for _ in ()).throw(NotImplementedError()))


def test_overlap_ratio_check():
    checks.check_overlap_ratio(_overlap_ratio)
    with pytest.raises(AssertionError, match="multiply by the width"):
        checks.check_overlap_ratio(lambda U: _overlap_ratio(U) / U.shape[1])
    with pytest.raises(AssertionError, match="not normalised"):
        def raw(U):
            U = U.double()
            V, m = U.shape
            return float(m * ((U.T @ U).pow(2).sum() - (U.norm(dim=1) ** 4).sum()) / (V * (V - 1)))
        checks.check_overlap_ratio(raw)
    with pytest.raises(AssertionError, match="i = j"):
        def with_diagonal(U):
            Uh = U.double() / U.double().norm(dim=1, keepdim=True)
            return float(U.shape[1] * (Uh.T @ Uh).pow(2).sum() / U.shape[0] ** 2)
        checks.check_overlap_ratio(with_diagonal)


def test_offset_fit_check():
    def good(w, L):
        f = fits.fit_offset_power_law(w, L)
        return f.offset, f.prefactor, f.exponent

    checks.check_offset_fit(good)
    for seed in (1, 2):
        checks.check_offset_fit(good, seed=seed)
    with pytest.raises(AssertionError, match="plain power law"):
        checks.check_offset_fit(lambda w, L: (0.0, 1.0, fits.fit_power_law(w, L).exponent))
    with pytest.raises(AssertionError, match="three numbers"):
        checks.check_offset_fit(lambda w, L: 1.0)


def test_implied_exponent_check():
    def good(widths, layers, alpha_N):
        N = 12 * np.asarray(widths) ** 2 * np.asarray(layers)
        return -np.polyfit(np.log(widths), np.log(N ** -alpha_N), 1)[0]

    checks.check_implied_exponent(good)
    with pytest.raises(AssertionError, match="sign is flipped"):
        checks.check_implied_exponent(lambda w, l, a: -good(w, l, a))
    with pytest.raises(AssertionError, match="fixed depth"):
        checks.check_implied_exponent(lambda w, l, a: 3 * a)  # ignores the layers
