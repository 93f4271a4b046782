"""Chapter 8 (what superposition implies): utils.implications, its figures and the exercise checks."""

import math

import matplotlib
import numpy as np
import pytest
import torch

from utils import checks, data, implications, metrics, plotting
from utils.train import TrainConfig, train

matplotlib.use("Agg")


# --------------------------------------------------------------------------- the trainer for any width

def test_train_widths_reproduces_the_course_trainer():
    n, p = 50, data.power_law(50, 1.0)
    ref = train(p, [-1.0, 0.5], TrainConfig(n=n, m=8, batch=256, steps=60, warmup=10, seed=3, log_every=1,
                                            progress=False))
    got = implications.train_widths(p, [8, 8], [-1.0, 0.5], steps=60, batch=256, warmup=10, seed=3, log_every=1)
    assert torch.allclose(ref.W, torch.stack(got.W), atol=1e-5)
    assert torch.allclose(ref.b, got.b, atol=1e-5)
    assert torch.allclose(ref.losses, got.losses, rtol=1e-4, atol=1e-7)


def test_a_model_trains_the_same_whatever_else_is_in_the_stack():
    p = data.power_law(40, 1.0)
    alone = implications.train_widths(p, [6], steps=40, batch=128, seeds=[5])
    mixed = implications.train_widths(p, [6, 30, 55], steps=40, batch=128, seeds=[5, 6, 7])
    assert torch.allclose(alone.W[0], mixed.W[0], atol=1e-5)
    assert [tuple(W.shape) for W in mixed.W] == [(40, 6), (40, 30), (40, 55)]


def test_widths_at_and_beyond_n_leave_the_one_over_m_line():
    """Science: with m >= n every feature can have its own direction, so the loss falls far below 1/m."""
    n, p = 16, data.power_law(16, 1.0)
    res = implications.train_widths(p, [2, 4, 16, 24], steps=800, batch=256, lr=0.02, seed=0)
    L = implications.fresh_losses(res, p, batch=5000)
    one_over_m = [L[0] * 2 / m for m in (2, 4, 16, 24)]
    assert L[1] < L[0]
    assert L[2] < one_over_m[2] / 10 and L[3] < one_over_m[3] / 10


def test_pool_batches_are_drawn_from_the_pool_only():
    p = data.power_law(30, 0.8, E=2.0)
    gens = [torch.Generator().manual_seed(1), torch.Generator().manual_seed(2)]
    pools = implications._PoolData(p, [None, 7], 64)
    batches = pools(0, range(2), gens)
    pool = pools.drawn[1]  # model 1's 7 samples, drawn at its first batch
    assert pool.shape == (7, 30) and 0 not in pools.drawn
    x = batches[1].to_dense()
    assert all(any(torch.equal(row, r) for r in pool) for row in x)
    assert batches[0].batch == 64 and batches[0].n == 30
    again = pools(1, range(2), gens)[1].to_dense()  # the next step picks from the same pool
    assert all(any(torch.equal(row, r) for r in pool) for row in again)


def test_training_on_a_small_pool_memorises_it():
    p = data.power_law(40, 1.0)
    res = implications.train_widths(p, [20, 20], pool=[16, None], steps=400, batch=64, seed=0)
    test = implications.fresh_losses(res, p, batch=5000)
    train_end = res.losses[:, -5:].mean(1)
    assert train_end[0] < test[0] / 3  # the pool model fits its 16 samples, not the distribution
    assert test[1] < test[0]


def test_fresh_losses_with_noise_add_sigma_squared():
    p = data.power_law(30, 1.0)
    res = implications.train_widths(p, [5], steps=20, batch=64)
    clean = implications.fresh_losses(res, p, batch=20_000)[0]
    noisy = implications.fresh_losses(res, p, batch=20_000, noise=0.05)[0]
    assert noisy - clean == pytest.approx(0.05 ** 2, rel=0.05)


@pytest.mark.parametrize("kwargs, match", [
    (dict(widths=[]), "widths"), (dict(widths=[0]), "width"), (dict(gamma=[-1.0, 1.0]), "gamma"),
    (dict(pool=0), "pool"), (dict(warmup=-1), "warmup"), (dict(seeds=[1, 2]), "seeds"),
    (dict(p=torch.ones(2, 5) * 0.1), "vector"), (dict(lr=0.0), "lr")])
def test_train_widths_rejects_bad_input(kwargs, match):
    args = dict(p=data.power_law(10, 1.0), widths=[3], steps=2, batch=4)
    args.update(kwargs)
    with pytest.raises(ValueError, match=match):
        implications.train_widths(**args)


# --------------------------------------------------------------------------- small calculations

def test_local_exponents_are_constant_along_a_power_law():
    ms = [4, 8, 16, 32]
    assert implications.local_exponents(ms, [3.0 * m ** -1.2 for m in ms]) == pytest.approx([1.2] * 3)
    with pytest.raises(ValueError, match="positive"):
        implications.local_exponents([1, 2], [1.0, 0.0])
    with pytest.raises(ValueError, match="differ"):
        implications.local_exponents([2, 2], [1.0, 0.5])


def test_unseen_loss_matches_a_simulation():
    p = data.power_law(30, 1.0)
    D = 20
    g = torch.Generator().manual_seed(0)
    missing = (torch.rand(4000, D, 30, generator=g) < p).sum(1) == 0  # (repeats, features)
    simulated = float((missing.float() * p).sum(1).mean() * data.U_SQUARE_MEAN / 30)
    assert implications.unseen_loss(p, D) == pytest.approx(simulated, rel=0.03)
    assert implications.seen_share(p, D) == pytest.approx(1 - missing.float().mean().item(), abs=0.01)
    assert implications.unseen_loss(p, 10 ** 7) < 1e-12
    with pytest.raises(ValueError, match="pool"):
        implications.unseen_loss(p, 0)


def test_crossover_interpolates_on_log_loss():
    xs = [0.0, 1.0, 2.0]
    assert implications.crossover(xs, [4.0, 2.0, 0.5], [1.0, 1.0, 1.0]) == pytest.approx(1.5)
    assert implications.crossover(xs, [0.5, 2.0, 4.0], [1.0, 1.0, 1.0]) == 0.0
    assert math.isnan(implications.crossover(xs, [2.0, 2.0, 2.0], [1.0, 1.0, 1.0]))


@pytest.mark.parametrize("xs, weak, strong, message", [
    ([0.0, 1.0, 2.0], [4.0, 0.0, 0.5], [1.0, 1.0, 1.0], r"weak\[1\] must be in \(0"),  # log of 0
    ([0.0, 1.0, 2.0], [4.0, 2.0, 0.5], [1.0, -1.0, 1.0], r"strong\[1\] must be in \(0"),
    ([0.0, 1.0, 2.0], [4.0, 2.0], [1.0, 1.0, 1.0], "xs, weak and strong must have the same length"),
    ([0.0, float("nan")], [4.0, 2.0], [1.0, 1.0], r"xs\[1\] must be a finite number"),
    ([0.0], [4.0], [1.0], "at least 2"),
])
def test_crossover_rejects_what_it_cannot_interpolate(xs, weak, strong, message):
    with pytest.raises(ValueError, match=message):
        implications.crossover(xs, weak, strong)


def test_participation_ratio_counts_entries():
    assert float(implications.participation_ratio(torch.tensor([0.0, 3.0, 0.0]))) == pytest.approx(1.0)
    assert float(implications.participation_ratio(torch.tensor([1.0, -1.0, 1.0, -1.0]))) == pytest.approx(4.0)
    pr = implications.unit_polysemanticity(torch.eye(5)[:, :3])
    assert pr.tolist() == pytest.approx([1.0, 1.0, 1.0])
    assert implications.unit_polysemanticity(torch.ones(8, 2)).tolist() == pytest.approx([8.0, 8.0])
    with pytest.raises(ValueError, match="zeros"):
        implications.participation_ratio(torch.zeros(3))


def test_cosines_to_and_best_match():
    W = torch.tensor([[1.0, 0.0], [0.0, 2.0], [1.0, 1.0]])
    cos = implications.cosines_to(W, 0)
    assert cos.tolist() == pytest.approx([1.0, 0.0, 1 / math.sqrt(2)], abs=1e-6)
    assert implications.best_match(W, torch.eye(2)).tolist() == pytest.approx([1.0, 1.0, 1 / math.sqrt(2)], abs=1e-6)
    with pytest.raises(ValueError, match="j must"):
        implications.cosines_to(W, 3)
    with pytest.raises(ValueError, match="same m"):
        implications.best_match(W, torch.eye(3))


def test_sparse_dictionary_recovers_frequent_directions():
    g = torch.Generator().manual_seed(0)
    n, m = 12, 6
    W = torch.randn(n, m, generator=g)
    W = W / W.norm(dim=1, keepdim=True)
    p = data.power_law(n, 0.5)
    h = data.sample_dense(p, 4000, g) @ W
    sae = implications.sparse_dictionary(h, atoms=n, steps=600, seed=0)
    match = implications.best_match(W, sae.atoms)
    assert (match[:6] > 0.9).all()
    assert (implications.best_match(W, torch.eye(m)) < 0.99).any()
    assert sae.codes(h).shape == (4000, n)


def test_the_trilogy_exponents():
    shape = implications.shape_exponents(1.0, 1.0)
    assert (shape["m"], shape["l"], shape["loss"]) == pytest.approx((1 / 3, 1 / 3, 1 / 3))
    comp = implications.compute_exponents(1.0, 1.0, 1 / 3)
    assert (comp["N"], comp["D"], comp["loss"]) == pytest.approx((0.5, 0.5, 1 / 6))
    N = [10.0 ** e for e in range(5, 12)]
    L = [implications.best_shape_loss(x, 1.0, 0.5)[0] for x in N]
    slope = np.polyfit(np.log(N), np.log(L), 1)[0]
    assert -slope == pytest.approx(implications.shape_exponents(1.0, 0.5)["loss"], abs=0.01)
    with pytest.raises(ValueError, match="time"):
        implications.compute_exponents(1.0, 1.0, 0.0)


# --------------------------------------------------------------------------- figures

def test_chapter_8_figures_draw():
    fig = plotting.width_limit([4, 8, 64, 96], [1e-2, 5e-3, 1e-4, 1e-5], [0.25, 0.12, 0.003, 0.0005], 64)
    assert len(fig.axes) == 2 and len(fig.axes[0].get_lines()) == 4
    fig = plotting.irreducible_floor([10, 20, 40, 80], [1e-3, 5e-4, 2.5e-4, 1.2e-4], 1e-4)
    assert len(fig.axes[0].get_lines()) == 5
    fig = plotting.data_limited({"fresh": ([4, 8], [1e-2, 5e-3]), "pool": ([4, 8], [2e-2, 1e-2])},
                                {"pool": ([4, 8], [1e-3, 1e-4])})
    assert len(fig.axes[0].get_lines()) == 3
    series = {"a": [1e-2, 1e-3], "b": [2e-2, 1e-4]}
    assert len(plotting.packing([1.0, 2.0], series, 10, mark=1.5).axes[0].get_lines()) == 3
    frame = plotting.packing_frame({"a": torch.rand(20), "b": torch.rand(20)}, [1.0, 2.0], series, 2.0, 10)
    assert len(frame.axes) == 2
    fig = plotting.polysemantic({"a": torch.randn(20)}, {"a": torch.rand(20)}, 0, 0)
    assert len(fig.axes) == 2
    assert len(plotting.dictionary_match({"a": torch.rand(20)}).axes[0].get_lines()) == 2
    fig = plotting.shape_frontier([1e4, 1e5, 1e6], {"l = 2": [1.0, 0.9, 0.8]}, [0.5, 0.2, 0.1], -0.33)
    assert len(fig.axes[0].get_lines()) == 2


# --------------------------------------------------------------------------- exercise checks

def _fails(check, fn, words):
    with pytest.raises(AssertionError) as err:
        check(fn)
    assert words in str(err.value), str(err.value)


def _local(widths, losses):
    return [-(math.log(b) - math.log(a)) / (math.log(m2) - math.log(m1))
            for (m1, a), (m2, b) in zip(zip(widths, losses), zip(widths[1:], losses[1:]))]


def test_check_local_exponents():
    checks.check_local_exponents(_local)
    checks.check_local_exponents(_local, seed=3)
    _fails(checks.check_local_exponents, lambda w, L: [-v for v in _local(w, L)], "sign")
    _fails(checks.check_local_exponents,
           lambda w, L: [-(b - a) / (m2 - m1) for (m1, a), (m2, b) in zip(zip(w, L), zip(w[1:], L[1:]))],
           "logarithms")
    _fails(checks.check_local_exponents, lambda w, L: 1.0, "one number")
    _fails(checks.check_local_exponents, lambda w, L: _local(w, L)[:-1], "expected 4 exponents")


def _unseen(p, pool):
    return float((p * (1 - p) ** pool).sum() * 4 / 3 / p.shape[0])


def test_check_unseen_loss():
    checks.check_unseen_loss(_unseen)
    _fails(checks.check_unseen_loss, lambda p, D: _unseen(p, D) * p.shape[0], "n times")
    _fails(checks.check_unseen_loss, lambda p, D: _unseen(p, D) * 3 / 4, "4/3")
    _fails(checks.check_unseen_loss, lambda p, D: float((p * (1 - (1 - p) ** D)).sum() * 4 / 3 / p.shape[0]),
           "IS in the pool")
    _fails(checks.check_unseen_loss, lambda p, D: float(((1 - p) ** D).sum() * 4 / 3 / p.shape[0]), "weight")


def _pr(v):
    return float((v ** 2).sum() ** 2 / (v ** 4).sum())


def test_check_participation_ratio():
    checks.check_participation_ratio(_pr)
    _fails(checks.check_participation_ratio, lambda v: 1 / _pr(v), "inverse")
    _fails(checks.check_participation_ratio, lambda v: float((v ** 2).sum() / (v ** 4).sum()), "square the numerator")
    _fails(checks.check_participation_ratio, lambda v: float(v.abs().sum() ** 2 / (v ** 2).sum()), "fourth powers")


def _co(a, d, t):
    beta = a * d / (a + 2 * d)
    return beta, beta * t / (beta + t)


def test_check_compute_optimal():
    checks.check_compute_optimal(_co)
    _fails(checks.check_compute_optimal, lambda a, d, t: (a * d / (a + d), 0.1), "m^2 l")
    _fails(checks.check_compute_optimal, lambda a, d, t: (_co(a, d, t)[0], _co(a, d, t)[0] / 2), "balance")
    _fails(checks.check_compute_optimal, lambda a, d, t: (_co(a, d, t)[0], _co(a, d, t)[0]), "shared")
    _fails(checks.check_compute_optimal, lambda a, d, t: (-_co(a, d, t)[0], -_co(a, d, t)[1]), "positive")

    def stub(a, d, t):
        raise NotImplementedError()

    _fails(checks.check_compute_optimal, stub, "not implemented yet")


def test_weak_suitcase_beats_strong_interference_only_for_steep_laws():
    """The packing argument of section 2 in numbers: the suitcase loss at m = 10 against a 1/m-sized interference."""
    n, m = 100, 10
    interference = data.U_SQUARE_MEAN / (n * m)  # E E[u^2] / (n m): the scale of strong superposition's loss
    suitcase = {a: metrics.suitcase_loss(data.power_law(n, a), m) for a in (0.5, 1.0, 3.0)}
    assert suitcase[0.5] > interference and suitcase[1.0] > interference / 2
    assert suitcase[3.0] < interference / 10
