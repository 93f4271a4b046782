"""Chapter 6 (the 1/m law): its figure functions, sweep helpers and self-checks."""

import math
import re

import numpy as np
import pytest

from utils import checks, figures, plotting, results, sweep
from utils.paths import DATA

COURSE = DATA / "sweep-course"


@pytest.fixture(scope="module")
def doc():
    return sweep.load(COURSE)


# --- figures and helpers on the course sweep

def test_represented_vs_gamma_has_one_line_per_width(doc):
    fig = figures.represented_vs_gamma(doc, alpha=1.0)
    ax = fig.axes[0]
    assert len(ax.get_lines()) == 6 and ax.get_xlabel().startswith("weight decay")
    first = ax.get_lines()[0].get_ydata()
    assert first[0] == pytest.approx(1.0) and first[-1] < 0.1  # strong on the left, weak on the right


def test_training_length_shows_steeper_loss_after_longer_training(doc):
    fig = figures.training_length(doc)
    assert len(fig.axes) == 2
    for ax in fig.axes:
        labels = [t.get_text() for t in ax.get_legend().get_texts()]
        short, long_ = (float(re.search(r"= (\d\.\d\d)", s).group(1)) for s in labels)
        assert long_ > short + 0.15


def test_exponents_by_steps_covers_strong_regime_only(doc):
    fig = figures.exponents_by_steps(doc)
    labels = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    assert any("12,000 steps" in s for s in labels) and any("3,000 steps" in s for s in labels)
    assert not any("= 1," in s or "= 0.5," in s for s in labels)  # no weak gammas


def test_cell_draws_loss_fit_and_row_norms(doc):
    fig = figures.cell(doc, -1.0, 1.0)
    left, right = fig.axes[:2]
    assert left.get_xscale() == "log" and left.get_yscale() == "log"
    assert len(right.get_lines()) == 6 + 2  # six widths, two reference levels
    assert "12,000 steps" in fig._suptitle.get_text()  # the longest-trained curve
    assert len(figures.cell(doc, 1.0, 2.0).axes[1].get_lines()) == 8


def test_cell_on_a_missing_pair_names_what_is_missing(doc):
    with pytest.raises(figures.MissingData, match="alpha = 0.7"):
        figures.cell(doc, -1.0, 0.7)


def test_sweep_cell_rejects_mismatched_inputs():
    with pytest.raises(ValueError, match="same length"):
        plotting.sweep_cell([10, 20, 40], [1.0, 0.5], {"m = 10": np.ones(5)})


def test_interference_floor_parts_from_one_over_m_near_n():
    fig = plotting.interference_floor(1000, [10, 100])
    one_over_m, welch = fig.axes[0].get_lines()[:2]
    ratio = np.asarray(welch.get_ydata()) * np.asarray(one_over_m.get_xdata())
    assert ratio[0] == pytest.approx(1 - 9 / 999) and ratio[-1] < 0.1


def test_crossing_interpolates_and_reports_none():
    assert results.crossing([-1, 0, 1], [1.0, 0.75, 0.25]) == pytest.approx(0.5)
    assert results.crossing([1, 0, -1], [0.25, 0.75, 1.0]) == pytest.approx(0.5)  # any order of x
    assert math.isnan(results.crossing([-1, 0, 1], [1.0, 0.9, 0.6]))
    with pytest.raises(ValueError, match="x and y must have the same length"):
        results.crossing([-1, 0, 1], [1.0, 0.75])  # not silently cut to two points
    with pytest.raises(ValueError, match=r"y\[1\] must be a finite number"):
        results.crossing([-1, 0, 1], [1.0, float("nan"), 0.25])
    with pytest.raises(ValueError, match="level must be a finite number"):
        results.crossing([-1, 0, 1], [1.0, 0.75, 0.25], level=float("inf"))


def test_training_gain_grows_with_width(doc):
    gain = [a / b for _, a, b in results.training_gain(doc, -1.0, 1.0)]
    assert len(gain) == 6 and gain[-1] > gain[0] > 1
    with pytest.raises(ValueError, match="alpha=0.7"):
        results.training_gain(doc, -1.0, 0.7)


def test_paper_comparison_rows(doc):
    rows = results.ComparisonTable(results.paper_comparison(doc))
    assert len(rows) >= 10 and list(rows[0]) == ["quantity", "paper", "course", "difference"]
    assert "<table>" in rows._repr_html_() and "fig. 4a" in repr(rows)
    strong = rows[0]["course"]
    # the shapes at gamma = -1 in the course sweep: exponential over all widths, power law and linear from
    # the third width on (the paper's App. D.1), then all three over all widths
    assert strong.startswith("0.88, 1.06, 0.83 (fit errors ± ")
    assert strong.endswith("3,000 steps); over all widths 0.88, 0.93, 0.65")
    assert rows[0]["difference"] == "-0.13, +0.06, -0.06"  # against the paper's 1.01, 1.0, 0.89


def test_fit_curve_fits_from_the_third_width_and_flags_the_zero_loss():
    curve = [dict(part="grid", distribution="power", alpha=1.0, scale=None, s=0.0, gamma=-1.0, steps=10, E=1.0,
                  n=100, m=m, final_loss=L, msq_represented=None, unrepresented_loss=0.0, phi_half=1.0)
             for m, L in zip((10, 15, 25, 39, 63, 100), (0.02, 0.013, 4e-3, 2.6e-3, 1.6e-3, 1e-3))]
    row = results.fit_curve(curve)
    assert row["alpha_m_third"] == pytest.approx(1.0, abs=0.01)  # 4e-3 * (25 / m) from m = 25 on
    assert row["alpha_m"] > 1.2  # the first two points pull the all-width fit
    assert row["at_zero"] == [True, False, False, False, False, False]  # L_zero = 4/3 / 100 = 0.0133


def test_paper_comparison_diff_signs():
    assert results._diff([0.9, 1.2], 1.0) == "-0.10 to +0.20"
    assert results._diff([0.9, 1.2], (1.0, 1.0)) == "-0.10, +0.20"


# --- self-checks: the reference passes, typical mistakes get a targeted message

def fit_ok(records):
    m = np.array([r["m"] for r in records], float)
    L = np.array([r["final_loss"] for r in records])
    slope, icept = np.polyfit(np.log(m), np.log(L), 1)
    resid = np.log(L) - (slope * np.log(m) + icept)
    r2 = 1 - np.sum(resid ** 2) / np.sum((np.log(L) - np.log(L).mean()) ** 2)
    return -slope, r2


def flip_ok(gammas, phis):
    for g0, g1, p0, p1 in zip(gammas, gammas[1:], phis, phis[1:]):
        if p0 >= 0.5 > p1:
            return g0 + (p0 - 0.5) * (g1 - g0) / (p0 - p1)
    return float("nan")


def widen_ok(loss, m_old, m_new, alpha_m=1.0):
    return loss * (m_old / m_new) ** alpha_m


def gap_ok(n, m):
    return min((m - 1) / (n - 1), 1.0)


@pytest.mark.parametrize("check, fn", [
    (checks.check_fit_exponent, fit_ok),
    (checks.check_flip_gamma, flip_ok),
    (checks.check_widening, widen_ok),
    (checks.check_floor_gap, gap_ok),
])
def test_reference_answers_pass(check, fn, capsys):
    check(fn)
    assert "\u2714" in capsys.readouterr().out


def _raw_fit(records):
    m = np.array([r["m"] for r in records], float)
    return -np.polyfit(m, [r["final_loss"] for r in records], 1)[0], 0.9


def _train_fit(records):
    return fit_ok([dict(r, final_loss=r["train_loss"]) for r in records])


def _stub(*args):
    raise NotImplementedError()


WRONG = [
    (checks.check_fit_exponent, lambda recs: (-fit_ok(recs)[0], fit_ok(recs)[1]), "minus the slope"),
    (checks.check_fit_exponent, _raw_fit, "logarithms"),
    (checks.check_fit_exponent, _train_fit, "final_loss"),
    (checks.check_fit_exponent, lambda recs: (fit_ok(recs)[0], math.sqrt(fit_ok(recs)[1])), "square it"),
    (checks.check_fit_exponent, lambda recs: fit_ok(recs)[0], "two numbers"),
    (checks.check_flip_gamma, lambda g, p: next(a for a, b, c in zip(g, p, p[1:]) if b >= 0.5 > c), "interpolate"),
    (checks.check_flip_gamma, lambda g, p: next((a + g[i + 1]) / 2 for i, (a, b, c) in enumerate(zip(g, p, p[1:]))
                                                if b >= 0.5 > c), "midpoint"),
    (checks.check_flip_gamma, lambda g, p: flip_ok(g, p) if not math.isnan(flip_ok(g, p)) else g[-1], "nan"),
    (checks.check_widening, lambda L, m0, m1, a=1.0: L * (m1 / m0) ** a, "grows"),
    (checks.check_widening, lambda L, m0, m1, a=1.0: L * m0 / m1, "power"),
    (checks.check_widening, lambda L, m0, m1, a=1.0: L * (m0 / m1) * a, "not a factor"),
    (checks.check_floor_gap, lambda n, m: (m - 1) / (n - 1), "perpendicular"),
    (checks.check_floor_gap, lambda n, m: min(m / n, 1.0), "n - 1"),
    (checks.check_floor_gap, lambda n, m: 1 - min((m - 1) / (n - 1), 1.0), "1 minus"),
]


@pytest.mark.parametrize("check, fn, hint", WRONG, ids=[f"{c.__name__}-{h}" for c, _, h in WRONG])
def test_typical_mistakes_get_a_targeted_message(check, fn, hint):
    with pytest.raises(AssertionError) as err:
        check(fn)
    assert hint in str(err.value)


@pytest.mark.parametrize("check", [checks.check_fit_exponent, checks.check_flip_gamma,
                                   checks.check_widening, checks.check_floor_gap])
def test_unsolved_stub_says_not_implemented(check):
    with pytest.raises(AssertionError, match="not implemented yet"):
        check(_stub)


def test_flips_move_to_larger_gamma_with_width(doc):
    f = results.flips(doc)
    assert len(f) == 30
    for alpha in (0.0, 0.5, 1.0, 1.5, 2.0):
        assert -0.5 < f[(10, alpha)] < f[(100, alpha)] < 0.5


def test_figures_command_draws_the_chapter_figures(doc, tmp_path):
    names = {p.name for p in figures.draw_all(doc, tmp_path)}
    assert {"shapes.png", "phase.png", "exponents.png", "exponent_map.png", "density.png",
            "represented_vs_gamma.png", "training_length.png", "exponents_by_steps.png"} <= names
