"""Science at a small scale: the two regimes the course is about, measured, with tolerances a regression breaks."""

import pytest
import torch

from utils import data, metrics
from utils.train import TrainConfig, train


@pytest.fixture(scope="module")
def regimes():
    n, m = 200, 20
    p = data.power_law(n, 1.5)
    cfg = TrainConfig(n=n, m=m, batch=512, steps=1500, warmup=150, log_every=10, seed=0, progress=False)
    result = train(p, [-1.0, 1.0], cfg)
    eval_gen = torch.Generator().manual_seed(123)
    return p, result, eval_gen


def test_negative_gamma_represents_every_feature_positive_gamma_few(regimes):
    p, r, _ = regimes
    strong, weak = metrics.phi_half(r.W).tolist()
    assert strong > 0.95, f"gamma=-1 should store (almost) every feature, phi_1/2={strong}"
    assert weak < 0.2, f"gamma=+1 should store few features, phi_1/2={weak}"
    norms = metrics.row_norms(r.W[1])
    assert (norms > 0.5).sum().item() <= 1.5 * r.W.shape[2], "weak regime: at most about m features"


def test_weak_regime_loss_is_the_loss_of_the_features_left_out(regimes):
    p, r, _ = regimes
    measured = r.losses[1, -20:].mean().item()
    predicted = metrics.unrepresented_loss(r.W[1], p)
    assert 0.75 < measured / predicted < 1.3, (measured, predicted)


def test_strong_regime_wins_at_this_width(regimes):
    _, r, _ = regimes
    final = r.losses[:, -20:].mean(1)
    assert final[0] < final[1]
