"""Chapter 4 (weak superposition): its metrics, sweep helper, figures and exercise checks."""

import json
import math
import re

import numpy as np
import pytest
import torch

from utils import checks, data, metrics, plotting, results
from utils.paths import DATA

SWEEP = DATA / "sweep-course"
WIDTHS = [10, 15, 25, 39, 63, 100]


# --------------------------------------------------------------------------- metrics

def test_represented_ranks_count_from_one_and_follow_the_threshold():
    W = torch.tensor([[1.0, 0.0], [0.2, 0.0], [0.0, 0.6], [0.5, 0.0], [0.0, 0.0]])
    assert metrics.represented_ranks(W).tolist() == [1, 3]  # 0.5 itself is not above 1/2
    assert metrics.represented_ranks(W, threshold=0.1).tolist() == [1, 2, 3, 4]
    with pytest.raises(ValueError, match="one model"):
        metrics.represented_ranks(torch.stack([W, W]))


def test_suitcase_loss_is_the_tail_sum_in_loss_units():
    p = data.power_law(50, 1.2)
    assert metrics.suitcase_loss(p, 0) == pytest.approx(float(p.sum()) * 4 / 3 / 50, rel=1e-6)
    assert metrics.suitcase_loss(p, 50) == 0.0
    assert metrics.suitcase_loss(p, 7) == pytest.approx(float(p[7:].sum()) * 4 / 3 / 50, rel=1e-6)
    # a model that stores exactly the top k perfectly has this loss: rows e_1..e_k, bias 0
    W = torch.zeros(50, 8)
    W[:8] = torch.eye(8)
    assert metrics.unrepresented_loss(W, p) == pytest.approx(metrics.suitcase_loss(p, 8), rel=1e-5)
    # unsorted p: the most frequent are stored first
    assert metrics.suitcase_loss(p.flip(0), 7) == pytest.approx(metrics.suitcase_loss(p, 7), rel=1e-6)
    for bad in (-1, 51, 2.0, True):
        with pytest.raises(ValueError, match="k must"):
            metrics.suitcase_loss(p, bad)


def test_packed_count_fills_the_slots_then_stops_at_the_fee():
    p = data.power_law(400, 1.5)
    saving = p.double() * 4 / 3 / 400
    fee = float(saving[11] + saving[12]) / 2  # the top 12 are worth it
    assert metrics.packed_count(p, 30, 0.0) == 30
    assert metrics.packed_count(p, 30, fee) == 12
    assert metrics.packed_count(p, 5, fee) == 5
    assert metrics.packed_count(p, 30, 1.0) == 0
    with pytest.raises(ValueError, match="fee"):
        metrics.packed_count(p, 30, -1e-6)
    with pytest.raises(ValueError, match="m must"):
        metrics.packed_count(p, 0, fee)


def test_suitcase_exponent_tends_to_max_alpha_minus_one():
    for alpha in (1.5, 2.0):
        assert metrics.suitcase_exponent(alpha, 1_000_000, WIDTHS) == pytest.approx(alpha - 1, abs=0.03)
    assert metrics.suitcase_exponent(0.5, 1_000_000, WIDTHS) < 0.01
    # at n = 1000 the finite tail pushes every exponent up
    for alpha in (0.5, 1.0, 1.5, 2.0):
        assert metrics.suitcase_exponent(alpha, 1000, WIDTHS) > max(alpha - 1, 0) + 0.01
    # the same as fitting the suitcase's tail sums by hand, in numpy (no utils)
    p = np.arange(1, 601, dtype=float) ** -1.3
    p /= p.sum()
    tails = [p[m:].sum() * 4 / 3 / 600 for m in WIDTHS]
    by_hand = -np.polyfit(np.log(WIDTHS), np.log(tails), 1)[0]
    assert metrics.suitcase_exponent(1.3, 600, WIDTHS) == pytest.approx(by_hand, rel=1e-4)
    with pytest.raises(ValueError, match="smaller than n"):
        metrics.suitcase_exponent(1.0, 100, WIDTHS)


def test_dropped_loss_matches_unrepresented_loss_and_the_best_constant_helps_frequent_features():
    g = torch.Generator().manual_seed(0)
    W = torch.randn(80, 6, generator=g) * torch.rand(80, 1, generator=g)
    p = data.power_law(80, 2.0)
    norms = metrics.row_norms(W)
    assert metrics.dropped_loss(norms, p) == pytest.approx(metrics.unrepresented_loss(W, p), rel=1e-5)
    # feature 1 dropped alone: its variance p E[u^2] - p^2 E[u]^2 instead of p E[u^2]
    only_first = torch.ones(80)
    only_first[0] = 0.0
    p1 = float(p[0])
    assert metrics.dropped_loss(only_first, p) == pytest.approx(p1 * 4 / 3 / 80, rel=1e-6)
    assert metrics.dropped_loss(only_first, p, best_constant=True) == pytest.approx((p1 * 4 / 3 - p1 ** 2) / 80,
                                                                                   rel=1e-6)
    with pytest.raises(ValueError, match="one entry per feature"):
        metrics.dropped_loss(norms[:-1], p)


def test_silent_features_output_zero_even_at_full_strength():
    W = torch.tensor([[1.0, 0.0], [0.1, 0.0], [0.1, 0.0], [0.0, 0.6]])
    b = torch.tensor([-0.5, -0.1, 0.05, -0.8])
    # 2 * norm^2 + b: 1.5, -0.08, 0.07, -0.08
    assert metrics.silent_features(W, b).tolist() == [False, True, False, True]
    assert metrics.silent_features(W, b, u=1.0).tolist() == [False, True, False, True]
    with pytest.raises(ValueError, match="b must"):
        metrics.silent_features(W, b[:3])


def test_a_silent_feature_gets_no_gradient_from_its_own_samples():
    """The reason a silent feature stays dropped: its row and bias receive zero gradient."""
    from utils.models import forward
    W = torch.tensor([[0.3, 0.0], [0.0, 1.0]], requires_grad=True)
    b = torch.tensor([-0.5, 0.0], requires_grad=True)
    assert metrics.silent_features(W.detach(), b.detach()).tolist() == [True, False]
    x = torch.tensor([[2.0, 0.0], [1.0, 0.0]])  # feature 1 active alone
    ((forward(W, b, x) - x) ** 2).mean().backward()
    assert W.grad[0].abs().sum() == 0 and b.grad[0] == 0


# --------------------------------------------------------------------------- the sweep

def _weak_exponents_by_hand(path):
    """What results.weak_exponents should find, from the sweep file's raw records with json and numpy alone:
    least-squares slopes of log loss against log m of the measured loss, of the loss of the rows with norm
    <= 1/2 (recomputed from the stored row norms and p_i ~ i^-alpha with E = 1), and of the suitcase's
    loss, the tail sum of p_i beyond the top m (both in MSELoss units: p_i E[u^2] / n, E[u^2] = 4/3)."""
    recs = [r for r in json.loads(path.read_text())["records"]
            if r["part"] == "grid" and r["distribution"] == "power" and r["s"] == 0.0 and r["gamma"] >= 0.5]
    out = {}
    for key in {(r["gamma"], r["alpha"]) for r in recs}:
        curve = sorted((r for r in recs if (r["gamma"], r["alpha"]) == key), key=lambda r: r["m"])
        n, m = curve[0]["n"], np.array([r["m"] for r in curve], dtype=float)
        p = np.arange(1, n + 1, dtype=float) ** -key[1]
        p /= p.sum()
        norms = [np.asarray(r["row_norms"], dtype=float) for r in curve]

        def exponent(y):
            return -np.polyfit(np.log(m), np.log(y), 1)[0]

        out[key] = dict(widths=[int(k) for k in m], alpha_m=exponent([r["final_loss"] for r in curve]),
                        left_out=exponent([p[w <= 0.5].sum() * 4 / 3 / n for w in norms]),
                        ideal=exponent([p[int(k):].sum() * 4 / 3 / n for k in m]),
                        represented=[int((w > 0.5).sum()) for w in norms])
    return out


def test_weak_exponents_on_the_course_sweep():
    rows = results.weak_exponents(SWEEP)
    assert {(r["gamma"], r["alpha"]) for r in rows} == {(g, a) for g in (0.5, 1.0) for a in (0.0, 0.5, 1.0, 1.5, 2.0)}
    by_hand = _weak_exponents_by_hand(SWEEP / "sweep.json")
    assert len(by_hand) == len(rows)  # one grid curve per (gamma, alpha)
    for r in rows:
        want = by_hand[(r["gamma"], r["alpha"])]
        assert r["widths"] == want["widths"] == WIDTHS and r["represented"] == want["represented"]
        for k in ("alpha_m", "left_out", "ideal"):
            assert r[k] == pytest.approx(want[k], abs=2e-3), (k, r["gamma"], r["alpha"])
        assert r["asymptotic"] == max(r["alpha"] - 1, 0)  # the theory's tail exponent, not a fit
        # the chapter's claim: the loss scales like the loss of what is left out
        tol = 0.25 if r["alpha"] == 2.0 else 0.06
        assert abs(r["alpha_m"] - r["left_out"]) <= tol
        # flat data barely scale; steep data scale, but below alpha - 1
        if r["alpha"] <= 1:
            assert r["alpha_m"] < 0.25
        else:
            assert 0.2 < r["alpha_m"] < r["alpha"] - 1
    assert all(math.isnan(r["count_slope"]) or r["count_slope"] > 0 for r in rows)


def test_weak_regime_prediction_on_the_course_sweep():
    """Every weak model with p_1 <= 1/2 has loss within 20% of its left-out loss; alpha = 2 is the exception."""
    for r in results.records(SWEEP):
        if r["gamma"] < 0.5:
            continue
        ratio = r["final_loss"] / r["unrepresented_loss"]
        if r["part"] == "grid" and r["alpha"] == 2.0:
            continue
        assert 0.8 <= ratio <= 1.2, (r["key"], ratio)
    # alpha = 2, gamma = 1, m = 10: feature 1 dropped; answering its mean explains the loss
    r = results.records(SWEEP, part="grid", alpha=2.0, gamma=1.0, m=10)[0]
    p = data.power_law(1000, 2.0)
    assert r["final_loss"] / r["unrepresented_loss"] < 0.8
    assert r["final_loss"] / metrics.dropped_loss(r["row_norms"], p, best_constant=True) == pytest.approx(1, abs=0.1)


# --------------------------------------------------------------------------- figures

def test_figures_have_the_expected_axes():
    norms = {"m = 5": torch.rand(50), "m = 10": torch.rand(50)}
    fig = plotting.row_norms_panels({"γ = 0.5": norms, "γ = 1": norms})
    assert len(fig.axes) == 2 and fig.axes[0].get_xscale() == "log" and len(fig.axes[1].get_lines()) == 3
    fig = plotting.count_vs_width([5, 10, 20], {"a": [3, 7, 12], "b": [2, 4, 5]})
    assert len(fig.axes[0].get_lines()) == 3
    fig = plotting.loss_vs_prediction({"live": {"x": ([1e-3, 2e-3], [1.1e-3, 2.1e-3])},
                                       "sweep": {"y": ([1e-4], [1e-4]), "z": ([1e-3], [1e-3])}})
    assert len(fig.axes) == 2 and fig.axes[1].get_yscale() == "log" and len(fig.axes[1].get_lines()) == 3
    W = torch.randn(60, 8)
    fig = plotting.weak_frame(W, [0.5, 1.0], [1e-3, 2e-3], [0.9e-3, 1.9e-3], 1.0)
    assert len(fig.axes) == 4  # three panels and the colour bar
    assert fig._suptitle.get_text() == "γ = +1"


# --------------------------------------------------------------------------- exercise checks

def left_out_ok(W, p):
    return (p[W.norm(dim=1) <= 0.5].sum() * 4 / 3 / W.shape[0]).item()


def ranks_ok(W):
    return (torch.nonzero(W.norm(dim=1) > 0.5).flatten() + 1).tolist()


def suitcase_ok(p, k):
    return (p[k:].sum() * 4 / 3 / len(p)).item()


def exponent_ok(alpha, n, widths):
    w = torch.arange(1, n + 1, dtype=torch.float64) ** (-alpha)
    p = w / w.sum()
    return float(-np.polyfit(np.log(widths), np.log([suitcase_ok(p, m) for m in widths]), 1)[0])


def packed_ok(p, m, fee):
    return min(m, int((p * 4 / 3 / len(p) > fee).sum()))


CHECKS = [
    (checks.check_left_out_loss, left_out_ok),
    (checks.check_represented_ranks, ranks_ok),
    (checks.check_suitcase_loss, suitcase_ok),
    (checks.check_suitcase_exponent, exponent_ok),
    (checks.check_packed_count, packed_ok),
]


@pytest.mark.parametrize("check, fn", CHECKS)
def test_reference_answers_pass(check, fn, capsys):
    check(fn)
    assert "\u2714" in capsys.readouterr().out


@pytest.mark.parametrize("check, fn", CHECKS)
def test_reference_answers_pass_for_another_learner(check, fn, capsys):
    check(fn, seed=12345)
    assert "\u2714" in capsys.readouterr().out


def _stub(*args):
    raise NotImplementedError()


@pytest.mark.parametrize("check", [c for c, _ in CHECKS])
def test_unsolved_stub_says_not_implemented(check):
    with pytest.raises(AssertionError, match="not implemented yet"):
        check(_stub)


def _exponent_variant(loss=lambda p, m: suitcase_ok(p, m), logs=True, sign=-1):
    def fn(alpha, n, widths):
        w = torch.arange(1, n + 1, dtype=torch.float64) ** (-alpha)
        p = w / w.sum()
        y = [loss(p, m) for m in widths]
        x = np.log(widths) if logs else np.asarray(widths, float)
        y = np.log(y) if logs else np.asarray(y)
        return float(sign * np.polyfit(x, y, 1)[0])
    return fn


WRONG = [
    (checks.check_left_out_loss, lambda W, p: (p[W.norm(dim=1) <= 0.5].sum() * 4 / 3).item(), "n times too large"),
    (checks.check_left_out_loss, lambda W, p: (p[W.norm(dim=1) <= 0.5].sum() / W.shape[0]).item(), "4/3"),
    (checks.check_left_out_loss, lambda W, p: (p[W.norm(dim=1) > 0.5].sum() * 4 / 3 / W.shape[0]).item(), "left OUT"),
    (checks.check_left_out_loss, lambda W, p: (p[W.norm(dim=1) ** 2 <= 0.5].sum() * 4 / 3 / W.shape[0]).item(),
     "squared norm"),
    (checks.check_represented_ranks, lambda W: torch.nonzero(W.norm(dim=1) > 0.5).flatten().tolist(), "0-based"),
    (checks.check_represented_ranks, lambda W: int((W.norm(dim=1) > 0.5).sum()), "one number"),
    (checks.check_represented_ranks, lambda W: W.norm(dim=1) > 0.5, "mask"),
    (checks.check_represented_ranks, lambda W: ranks_ok(W)[::-1], "increasing order"),
    (checks.check_represented_ranks, lambda W: (torch.nonzero(W.norm(dim=1) <= 0.5).flatten() + 1).tolist(), "left out"),
    (checks.check_suitcase_loss, lambda p, k: (p[k + 1:].sum() * 4 / 3 / len(p)).item(), "off by one"),
    (checks.check_suitcase_loss, lambda p, k: (p[:k].sum() * 4 / 3 / len(p)).item(), "stored features"),
    (checks.check_suitcase_loss, lambda p, k: (p[k:].sum() * 4 / 3).item(), "n times too large"),
    (checks.check_suitcase_loss, lambda p, k: (p[k:].sum() / len(p)).item(), "4/3"),
    (checks.check_suitcase_exponent, lambda a, n, w: max(a - 1, 0), "n -> infinity"),
    (checks.check_suitcase_exponent, _exponent_variant(sign=1), "sign is flipped"),
    (checks.check_suitcase_exponent, _exponent_variant(logs=False), "BOTH axes"),
    (checks.check_suitcase_exponent, _exponent_variant(loss=lambda p, m: suitcase_ok(p, m - 1)), "p[m - 1:]"),
    (checks.check_packed_count, lambda p, m, fee: int((p * 4 / 3 / len(p) > fee).sum()), "at most"),
    (checks.check_packed_count, lambda p, m, fee: m, "save more than the fee"),
    (checks.check_packed_count, lambda p, m, fee: min(m, int((p > fee).sum())), "not p_i itself"),
]


@pytest.mark.parametrize("check, fn, message", WRONG)
def test_typical_mistakes_get_targeted_messages(check, fn, message):
    with pytest.raises(AssertionError, match=re.escape(message)):
        check(fn)
