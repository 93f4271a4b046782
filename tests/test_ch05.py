"""Chapter 5 (strong superposition): its metrics, sweep helpers, figures and exercise checks."""

import math

import pytest
import torch

from utils import checks, geometry, metrics, plotting, results
from utils.paths import DATA

SWEEP = DATA / "sweep-course"


# --------------------------------------------------------------------------- metrics

def test_phi_one_is_phi_half_with_threshold_one():
    """The paper's phi_1 (norm > 1) is the represented share with the threshold moved from 1/2 to 1."""
    W = torch.tensor([[0.5, 0.0], [1.2, 0.0], [0.0, 2.0], [0.9, 0.0]])
    assert metrics.phi_half(W, threshold=1.0).item() == pytest.approx(0.5)
    assert metrics.phi_half(W, threshold=0.6).item() == pytest.approx(0.75)
    assert metrics.phi_half(torch.stack([W, 2 * W]), threshold=1.0).tolist() == pytest.approx([0.5, 0.75])
    with pytest.raises(ValueError, match="threshold"):
        metrics.phi_half(W, -1)
    assert metrics.phi_one(W).item() == metrics.phi_half(W, threshold=1.0).item()
    assert results.norm_summary([0.5, 1.2, 2.0, 0.9])["phi_one"] == pytest.approx(0.5)


def test_norm_modes_finds_one_or_two_peaks():
    g = torch.Generator().manual_seed(0)
    low = 0.8 + 0.05 * torch.randn(600, generator=g)
    high = 1.2 + 0.04 * torch.randn(400, generator=g)
    two = metrics.norm_modes(torch.cat([low, high]))
    assert len(two) == 2 and abs(two[0] - 0.8) <= 0.05 and abs(two[1] - 1.2) <= 0.05
    one = metrics.norm_modes(0.9 + 0.1 * torch.randn(1000, generator=g).abs())
    assert len(one) == 1
    # a shoulder (no dip between the two groups) is one mode
    assert len(metrics.norm_modes(torch.cat([0.8 + 0.1 * torch.rand(500, generator=g),
                                             0.9 + 0.1 * torch.rand(300, generator=g)]))) == 1
    with pytest.raises(ValueError, match="norms"):
        metrics.norm_modes([float("nan"), 1.0])
    with pytest.raises(ValueError, match="width"):
        metrics.norm_modes([0.5, 1.0], width=0)


def test_single_feature_outputs_match_the_forward_pass():
    g = torch.Generator().manual_seed(1)
    W, b = torch.randn(30, 5, generator=g), torch.randn(30, generator=g)
    pre, post = metrics.single_feature_outputs(W, b, u=1.5)
    x = 1.5 * torch.eye(30)
    from utils.models import forward
    assert torch.allclose(post, forward(W, b, x), atol=1e-5)
    assert torch.allclose(pre[4], 1.5 * W @ W[4] + b, atol=1e-5)
    with pytest.raises(ValueError, match="b must"):
        metrics.single_feature_outputs(W, b[:-1])


def test_strongest_false_activation_is_the_largest_off_diagonal_output():
    W = torch.tensor([[1.0, 0.0], [0.9, 0.436], [0.0, 1.0], [-1.0, 0.0]])
    b = torch.tensor([-0.5, -0.1, -0.5, -0.5])
    best = metrics.strongest_false_activation(W, b, u=2.0)
    # feature 0 active: output 1 gets 2 * 0.9 - 0.1 = 1.7, the largest wrong output
    assert (best["active"], best["wrong"]) == (0, 1)
    assert best["output"] == pytest.approx(1.7, abs=1e-5)
    assert best["cosine"] == pytest.approx(0.9 / math.hypot(0.9, 0.436), abs=1e-5)
    assert best["target_output"] == pytest.approx(1.5, abs=1e-5)


def test_linear_interference_loss_is_about_E_over_m_for_random_rows():
    n, m = 1000, 20
    msq = geometry.mean_square_overlap(geometry.random_unit_vectors(n, m, torch.Generator().manual_seed(0)))
    assert metrics.linear_interference_loss(msq, n) == pytest.approx(4 / 3 / m, rel=0.1)
    assert metrics.linear_interference_loss(msq, n, E=2.0) == pytest.approx(2 * metrics.linear_interference_loss(msq, n))
    with pytest.raises(ValueError, match="n"):
        metrics.linear_interference_loss(0.1, 0)


# --------------------------------------------------------------------------- sweep helpers

def test_along_width_returns_one_curve_sorted_by_m():
    ms, msq = results.along_width(SWEEP, "msq_represented", part="long", alpha=0.0, gamma=-1.0)
    assert ms == [10, 15, 25, 39, 63, 100] and all(v > 0 for v in msq)
    with pytest.raises(ValueError, match="more than one"):
        results.along_width(SWEEP, "final_loss", alpha=1.0, gamma=-1.0)
    with pytest.raises(ValueError, match="no field"):
        results.along_width(SWEEP, "nonsense", part="long", alpha=0.0, gamma=-1.0)


def test_norm_summary_of_a_long_strong_model_shows_two_modes():
    rec = results.records(SWEEP, part="long", alpha=0.0, gamma=-1.0, m=63)[0]
    s = results.norm_summary(rec["row_norms"])
    assert s["phi_half"] == 1.0 and len(s["modes"]) == 2
    assert s["modes"][0] < 1 < s["modes"][1]
    assert s["phi_one"] == pytest.approx(rec["phi_one"], abs=0.01)


def test_strong_regime_loss_is_far_below_the_linear_interference():
    """The ReLU and the bias remove most of the interference a linear readout would pay (chapter 5's claim)."""
    for r in results.records(SWEEP, part="long", gamma=-1.0):
        lin = metrics.linear_interference_loss(r["msq_represented"], r["n"], r["E"])
        assert r["final_loss"] < 0.05 * lin


# --------------------------------------------------------------------------- figures

def test_figures_have_the_expected_axes():
    g = torch.Generator().manual_seed(0)
    W, b = torch.randn(50, 6, generator=g) / 2, -torch.rand(50, generator=g)
    norms = metrics.row_norms(W)
    fig = plotting.norm_distributions({"a": {"x": norms, "y": 1.1 * norms}, "b": {"x": norms}})
    assert len(fig.axes) == 2 and fig.axes[0].get_xlabel().startswith("row norm")
    pre, post = metrics.single_feature_outputs(W, b, 2.0)
    fig = plotting.single_feature_response(pre[3], post[3], 3, wrong=7, title="t")
    assert len(fig.axes) == 2 and fig.axes[0].get_xscale() == "log"
    fig = plotting.overlap_distributions({"trained": geometry.overlaps(W)}, m=6)
    assert fig.axes[0].get_yscale() == "log"
    fig = plotting.overlap_vs_width({"c": ([10, 20, 40], [0.1, 0.05, 0.025])}, n=100,
                                    random=([10, 20, 40], [0.1, 0.05, 0.025]))
    assert "slope -1.00" in fig.axes[0].get_legend_handles_labels()[1][-1]
    fig = plotting.strong_frame(W, [-1.0, 0.0], [0.1, 0.2], -1.0)
    assert len(fig.axes) == 4  # three panels and a colour bar


# --------------------------------------------------------------------------- exercise checks

def shares_ok(W):
    v = W.norm(dim=1)
    return (v > 0.5).float().mean().item(), (v > 1).float().mean().item()


def overlap_ok(W):
    V = W[W.norm(dim=1) > 1]
    U = V / V.norm(dim=1, keepdim=True)
    C = U @ U.T
    k = len(U)
    return ((C ** 2).sum() - k).item() / (k * (k - 1))


def single_ok(W, b, j, u):
    return torch.relu(u * W @ W[j] + b)


def worst_ok(W, b, u):
    Y = torch.relu(u * W @ W.T + b)
    Y.fill_diagonal_(-float("inf"))
    j, i = divmod(int(Y.argmax()), Y.shape[1])
    return j, i, Y[j, i].item()


@pytest.mark.parametrize("check, fn", [
    (checks.check_norm_shares, shares_ok),
    (checks.check_strong_overlap, overlap_ok),
    (checks.check_single_feature, single_ok),
    (checks.check_false_activation, worst_ok),
])
def test_reference_answers_pass(check, fn, capsys):
    check(fn)
    assert "\u2714" in capsys.readouterr().out


def _stub(*args):
    raise NotImplementedError()


def _worst_with_diagonal(W, b, u):
    Y = torch.relu(u * W @ W.T + b)
    j, i = divmod(int(Y.argmax()), Y.shape[1])
    return j, i, Y[j, i].item()


def _worst_without_bias(W, b, u):
    G = u * W @ W.T
    G.fill_diagonal_(-float("inf"))
    j, i = divmod(int(G.argmax()), G.shape[1])
    return j, i, torch.relu(G[j, i] + b[i]).item()


def _worst_swapped(W, b, u):
    j, i, y = worst_ok(W, b, u)
    return i, j, y


WRONG = [
    (checks.check_norm_shares, lambda W: tuple(v * W.shape[0] for v in shares_ok(W)), "counts"),
    (checks.check_norm_shares, lambda W: shares_ok(W.T), "column"),
    (checks.check_norm_shares, lambda W: ((W ** 2).sum(1) > 0.5).float().mean().item(), "two numbers"),
    (checks.check_norm_shares, lambda W: (((W ** 2).sum(1) > 0.5).float().mean(), shares_ok(W)[1]),
     "squared norms"),
    (checks.check_norm_shares, lambda W: (shares_ok(W)[0], ((W.norm(dim=1) - 1).abs() <= 0.1).float().mean()),
     "Eq. 15"),
    (checks.check_strong_overlap, lambda W: geometry.mean_square_overlap(W), "Fig. 17"),
    (checks.check_strong_overlap, lambda W: geometry.mean_square_overlap(W[W.norm(dim=1) > 0.5]), "above 1/2"),
    (checks.check_strong_overlap,
     lambda W: (lambda V: ((V @ V.T) ** 2).sum().sub((V.norm(dim=1) ** 4).sum()).item() / (len(V) * (len(V) - 1)))(
         W[W.norm(dim=1) > 1]), "normalised"),
    (checks.check_strong_overlap,
     lambda W: (lambda U: ((U @ U.T) ** 2).mean().item())(
         (lambda V: V / V.norm(dim=1, keepdim=True))(W[W.norm(dim=1) > 1])), "i = j"),
    (checks.check_single_feature, lambda W, b, j, u: u * W @ W[j] + b, "ReLU"),
    (checks.check_single_feature, lambda W, b, j, u: torch.relu(u * W @ W[j]), "bias"),
    (checks.check_single_feature, lambda W, b, j, u: torch.relu(W @ W[j] + b), "u ="),
    (checks.check_single_feature, lambda W, b, j, u: torch.relu(u * W @ W[j]) + b, "after the ReLU"),
    (checks.check_false_activation, _worst_with_diagonal, "diagonal"),
    (checks.check_false_activation, _worst_without_bias, "bias"),
    (checks.check_false_activation, _worst_swapped, "swapped"),
]


@pytest.mark.parametrize("check, fn, message", WRONG)
def test_wrong_answers_get_a_helpful_message(check, fn, message):
    with pytest.raises(AssertionError, match=message):
        check(fn)


@pytest.mark.parametrize("check", [checks.check_norm_shares, checks.check_strong_overlap,
                                   checks.check_single_feature, checks.check_false_activation])
def test_unsolved_exercise_says_not_implemented(check):
    with pytest.raises(AssertionError, match="not implemented yet"):
        check(_stub)


def test_interference_filtering_shrinks_at_every_stage():
    W = torch.tensor([[1.0, 0.0], [0.6, 0.8], [-0.6, 0.8]])
    b = torch.tensor([-0.5, -0.5, -0.5])
    f = metrics.interference_filtering(W, b, u=1.0)
    # overlaps: (0,1) 0.6, (0,2) -0.6, (1,2) 0.28; each counted from both sides, averaged over 3 active features
    assert f["linear"] == pytest.approx(2 * (0.36 + 0.36 + 0.0784) / 3, abs=1e-5)
    assert f["relu"] == pytest.approx(2 * (0.36 + 0.0784) / 3, abs=1e-5)
    assert f["relu_and_bias"] == pytest.approx(2 * 0.01 / 3, abs=1e-5)
    assert f["lit"] == pytest.approx(2 / 3)


def test_loss_parts_add_up_and_price_the_silent_features():
    W = torch.tensor([[1.0, 0.0], [0.0, 1.0], [0.7, 0.7], [0.1, 0.0]])
    b = torch.tensor([-0.1, -0.1, -0.2, -1.0])  # the last feature cannot reach its threshold: silent
    p = torch.tensor([0.3, 0.2, 0.1, 0.05])
    parts = metrics.loss_parts(W, b, p, batch=200_000, generator=torch.Generator().manual_seed(0))
    total = metrics.test_loss(W, b, p, batch=200_000, generator=torch.Generator().manual_seed(0)).item()
    assert parts["L_silent"] + parts["L_active"] + parts["L_wrong"] == pytest.approx(total, rel=1e-5)
    assert parts["silent"] == 1 and parts["silent_mass"] == pytest.approx(0.05)
    # a silent feature costs what answering 0 costs: p_i E[u^2] / n
    assert parts["L_silent"] == pytest.approx(0.05 * (4 / 3) / 4, rel=0.03)
    loud = metrics.loss_parts(W, torch.zeros(4), p, batch=1000)
    assert loud["silent"] == 0 and loud["L_silent"] == 0.0
    with pytest.raises(ValueError, match="p must have one frequency per feature"):
        metrics.loss_parts(W, b, p[:3])
