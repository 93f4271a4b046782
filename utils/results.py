"""Reading a sweep's records: loss against width per group, fitted exponents, the science checks.

A *curve* is the set of models that differ only in width m (same frequency
law, density, gamma and step count). Along a curve we fit
    final_loss ~ m^(-alpha_m)   and   mean_square_overlap ~ m^slope
over all widths (fits over the top few widths swing a lot), and compare the
weak-regime loss with its prediction, the loss of the unrepresented features.
"""

from __future__ import annotations

import math
from collections import defaultdict
from pathlib import Path
from typing import NamedTuple

from .data import U_SQUARE_MEAN, power_law
from .fits import fit_power_law
from .paths import DATA
from .sweep import load

#: what identifies a curve (everything but m)
CURVE = ("part", "distribution", "alpha", "scale", "s", "gamma", "steps")
#: the settling experiment (python -m utils sweep --preset settle): paper-length models, weights kept
SETTLE = DATA / "sweep-settle"


def records(source, **where) -> list[dict]:
    """The records of a sweep (a path, a directory or a loaded dict) whose fields equal `where`."""
    doc = source if isinstance(source, dict) else load(Path(source))
    recs = doc["records"]
    for k in where:
        if recs and k not in recs[0]:
            raise ValueError(f"records have no field {k!r}; fields are {sorted(recs[0])}")
    return [r for r in recs if all(r[k] == v for k, v in where.items())]


def curves(recs: list[dict]) -> dict[tuple, list[dict]]:
    """Records grouped by CURVE, each list sorted by m."""
    out = defaultdict(list)
    for r in recs:
        out[tuple(r[k] for k in CURVE)].append(r)
    return {k: sorted(v, key=lambda r: r["m"]) for k, v in sorted(out.items(), key=lambda kv: str(kv[0]))}


def fit_curve(curve: list[dict]) -> dict:
    """alpha_m and R^2 of loss against m, the overlap slope, and the weak-regime ratios of one curve."""
    ms = [r["m"] for r in curve]
    loss = fit_power_law(ms, [r["final_loss"] for r in curve])
    # the paper fits its strong power-law curves from the third width on (App. D.1)
    third = fit_power_law(ms[2:], [r["final_loss"] for r in curve][2:]) if len(ms) >= 4 else None
    # a loss at or above the answer-zero loss E E[u^2] / n cannot be the model's optimum
    at_zero = [r["final_loss"] >= zero_loss(r) for r in curve]
    msq = [r["msq_represented"] for r in curve]
    ov = fit_power_law(ms, msq) if all(v is not None and v > 0 for v in msq) else None
    ratios = [r["final_loss"] / r["unrepresented_loss"] if r["unrepresented_loss"] > 0 else math.nan for r in curve]
    represented = [round(r["phi_half"] * r["n"]) for r in curve]
    return dict({k: curve[0][k] for k in CURVE}, E=curve[0]["E"], widths=ms, alpha_m=loss.exponent, r2=loss.r2,
                alpha_m_se=loss.slope_se, alpha_m_third=None if third is None else third.exponent,
                alpha_m_third_se=None if third is None else third.slope_se, at_zero=at_zero,
                overlap_slope=None if ov is None else ov.slope, phi_half=[r["phi_half"] for r in curve],
                represented=represented, weak_ratio=ratios, losses=[r["final_loss"] for r in curve])


def zero_loss(record: dict) -> float:
    """The loss of answering 0 to every input, E E[u^2] / n, in the records' units."""
    return record["E"] * U_SQUARE_MEAN / record["n"]


def table(source, **where) -> list[dict]:
    """fit_curve for every curve of a sweep (optionally filtered as in `records`)."""
    return [fit_curve(c) for c in curves(records(source, **where)).values() if len(c) >= 2]


def weak_prediction(row: dict, tol: float = 0.25) -> dict:
    """Does the weak-regime exponent hold on this curve? It needs the represented count to grow with m.

    If the m most frequent features are kept, the loss is the tail sum over i > m
    of p_i ~ i^-alpha, which falls as m^(1 - alpha) for alpha > 1. For alpha <= 1
    the tail is dominated by the features near n and barely moves while m << n,
    so the prediction is max(alpha - 1, 0).
    """
    grows = all(b > a for a, b in zip(row["represented"], row["represented"][1:]))
    predicted = max(row["alpha"] - 1, 0.0)
    return dict(alpha=row["alpha"], gamma=row["gamma"], alpha_m=row["alpha_m"], predicted=predicted,
                holds=abs(row["alpha_m"] - predicted) <= tol, represented=row["represented"],
                count_grows=grows)


def longest(rows: list[dict]) -> dict[tuple, dict]:
    """For each (gamma, alpha) of the E = 1 power law, its curve with the most training steps."""
    best = {}
    for r in rows:
        if r["distribution"] == "power" and r["s"] == 0 and r["part"] in ("grid", "steps", "long"):
            key = (r["gamma"], r["alpha"])
            if key not in best or r["steps"] > best[key]["steps"]:
                best[key] = r
    return best


#: the weak-regime prediction is checked where no single feature is active in more than half
#: the samples: beyond that (alpha = 2 here, p_1 = 0.61) the loss hinges on whether that one
#: row's norm lies just above or just below the threshold 1/2
WEAK_CHECK_MAX_P1 = 0.5


def science_checks(source) -> list[tuple[str, bool, str]]:
    """The course's claims about the `course` sweep, each as (claim, passed, what was measured).

    Exponents in the strong regime come from each (gamma, alpha)'s longest-trained curve
    (3,000 steps leave them low); phi_1/2 and the weak-regime prediction from the grid.
    """
    doc = source if isinstance(source, dict) else load(Path(source))
    rows = table(doc)
    grid = [r for r in rows if r["part"] == "grid"]
    out = []
    for (gamma, alpha), r in sorted(longest(rows).items()):
        if gamma > -0.5:
            continue
        tag = f"gamma={gamma:g}, alpha={alpha:g}, {r['steps']} steps"
        if alpha <= 1:
            out.append((f"strong ({tag}): alpha_m in [0.8, 1.3]", 0.8 <= r["alpha_m"] <= 1.3,
                        f"alpha_m = {r['alpha_m']:.2f}"))
        s = r["overlap_slope"]
        out.append((f"strong ({tag}): all-row mean square overlap (Fig. 17) ~ m^slope, slope in [-1.3, -0.7]",
                    s is not None and -1.3 <= s <= -0.7, f"slope = {s if s is None else round(s, 2)}"))
    for r in grid:
        if r["alpha"] >= 1 and r["gamma"] in (-1.0, 1.0):
            lo, hi = min(r["phi_half"]), max(r["phi_half"])
            if r["gamma"] == -1.0:
                out.append((f"phi_1/2 > 0.9 at gamma=-1, alpha={r['alpha']:g}", lo > 0.9, f"min {lo:.2f}"))
            else:
                out.append((f"phi_1/2 < 0.5 at gamma=+1, alpha={r['alpha']:g}", hi < 0.5, f"max {hi:.2f}"))
    for r in grid:
        if r["gamma"] >= 0.5 and float(power_law(doc["settings"]["n"], r["alpha"])[0]) <= WEAK_CHECK_MAX_P1:
            ratios = [v for v in r["weak_ratio"] if not math.isnan(v)]
            ok = bool(ratios) and all(0.75 <= v <= 1.3 for v in ratios)
            out.append((f"weak (gamma={r['gamma']:g}, alpha={r['alpha']:g}): loss / unrepresented loss in "
                        f"[0.75, 1.3]", ok, "ratios " + ", ".join(f"{v:.2f}" for v in ratios)))
    return out


def paper_checks(source) -> list[tuple[str, bool, str]]:
    """The course's claims about the paper grid (data/sweep-paper), on every curve complete so far.

    Strong (gamma < 0): the strong set's overlap at most 10% above Welch's bound for a set of that
    size at every width for alpha <= 1, 5-25% above it for steeper data (the paper's Fig. 5d: every
    gamma < 0); alpha_m from the third width (App. D.1) in [0.9, 1.4] for alpha <= 1. Weak (gamma >= 0.33): loss = the unrepresented loss within 5%. The
    switch: phi_1/2 > 0.9 at gamma = -1 and < 0.5 at gamma = +1 at every width.
    """
    from . import geometry

    doc = source if isinstance(source, dict) else load(Path(source))
    out = []
    for (part, _, alpha, _, _, gamma, _), curve in sorted(curves(doc["records"]).items()):
        if len(curve) < 6:
            continue
        tag = f"paper (gamma={gamma:.2f}, alpha={alpha:g})"
        row = fit_curve(curve)
        if gamma < 0:
            ratio = [r["msq_strong"] / geometry.welch_bound(r["n_strong"], r["m"])
                     if r["msq_strong"] and r["n_strong"] > r["m"] else math.nan for r in curve]
            # measured: 1.02-1.06 at alpha = 1, 1.10-1.19 at alpha = 2 (steep data pack their strong
            # set less evenly, most at the narrow widths)
            lo, hi = (1.0, 1.1) if alpha <= 1 else (1.05, 1.25)
            out.append((f"{tag}: strong-set overlap / Welch bound in [{lo}, {hi}] at every m",
                        all(lo <= v <= hi for v in ratio), ", ".join(f"{v:.3f}" for v in ratio)))
            if alpha <= 1:
                out.append((f"{tag}: alpha_m from the third width in [0.9, 1.4]",
                            0.9 <= row["alpha_m_third"] <= 1.4, f"alpha_m = {row['alpha_m_third']:.2f}"))
        if gamma >= 0.3:
            ratios = [v for v in row["weak_ratio"] if not math.isnan(v)]
            out.append((f"{tag}: loss / unrepresented loss in [0.95, 1.05]",
                        bool(ratios) and all(0.95 <= v <= 1.05 for v in ratios), ", ".join(f"{v:.3f}" for v in ratios)))
        if abs(gamma) == 1:
            lo, hi = min(row["phi_half"]), max(row["phi_half"])
            ok = lo > 0.9 if gamma < 0 else hi < 0.5
            out.append((f"{tag}: phi_1/2 {'> 0.9' if gamma < 0 else '< 0.5'} at every m", ok,
                        f"{lo:.2f} to {hi:.2f}"))
    return out


def settle_checks(path: str | Path = SETTLE) -> list[tuple[str, bool, str]]:
    """The course's claims about the settling experiment (chapter 5), each as (claim, passed, measured).

    The tolerances sit around what was measured at the paper's settings (n = 1000, alpha = 1, 20,000
    steps, two seeds): tight enough that the overlap taken over the wrong rows, or over-short
    training, fails them.
    """
    from .fits import fit_power_law

    rows = settle_summary(path)
    out = []
    for gamma in sorted({r["gamma"] for r in rows}):
        curve = [r for r in rows if r["gamma"] == gamma]
        ms = [r["m"] for r in curve]
        tag = f"settle gamma={gamma:.2f}"

        def mean(r, k):
            return sum(r[k]) / len(r[k])

        ratio = [mean(r, "m_msq_strong") / r["m_welch_strong"] for r in curve]
        out.append((f"{tag}: strong-set overlap (Fig. 5d) / Welch bound of that set in [1.0, 1.1] at every m",
                    all(1.0 <= v <= 1.1 for v in ratio), "ratios " + ", ".join(f"{v:.3f}" for v in ratio)))
        slope = fit_power_law(ms, [mean(r, "m_msq_strong") / r["m"] for r in curve]).slope
        out.append((f"{tag}: strong-set overlap ~ m^slope, slope in [-1.1, -0.9]", -1.1 <= slope <= -0.9,
                    f"slope = {slope:.3f}"))
        var = [mean(r, "var_ratio") for r in curve]
        out.append((f"{tag}: variance of strong cos^2 / random's in [0.5, 1.0) at every m (Fig. 5c)",
                    all(0.5 <= v < 1.0 for v in var), "ratios " + ", ".join(f"{v:.2f}" for v in var)))
        cross = [mean(r, "m_msq_cross") for r in curve]
        out.append((f"{tag}: m x strong-weak cross overlap in [0.75, 1.3] at every m",
                    all(0.75 <= v <= 1.3 for v in cross), ", ".join(f"{v:.2f}" for v in cross)))
        phi = [mean(r, "phi_one") for r in curve]
        out.append((f"{tag}: phi_1 > 2 m / n at every m and rising with m (Fig. 16)",
                    all(p > 2 * r["m"] / r["n"] for p, r in zip(phi, curve)) and phi == sorted(phi),
                    ", ".join(f"{p:.2f}" for p in phi)))
        loss = [mean(r, "final_loss") for r in curve]
        every, third = -fit_power_law(ms, loss).slope, -fit_power_law(ms[2:], loss[2:]).slope
        out.append((f"{tag}: alpha_m (seed-mean loss) in [1.0, 1.25] over all widths, [1.15, 1.5] from the third",
                    1.0 <= every <= 1.25 and 1.15 <= third <= 1.5, f"{every:.2f}, {third:.2f}"))
    return out


def report(source) -> str:
    """A plain-text account of a sweep: every curve's fits, the weak-regime prediction, the checks."""
    doc = source if isinstance(source, dict) else load(Path(source))
    lines = [f"# Sweep {doc['settings']['preset']}: {len(doc['records'])} models, n = {doc['settings']['n']}", "",
             "## Loss ~ m^(-alpha_m) and overlap ~ m^slope along each curve (all widths)", "",
             "| part | distribution | alpha | s | gamma | steps | alpha_m | R^2 | overlap slope | phi_1/2 (first, last m) |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    for r in table(doc):
        shape = r["distribution"] + (f" (scale {r['scale']:g})" if r["scale"] else "")
        slope = "" if r["overlap_slope"] is None else f"{r['overlap_slope']:.2f}"
        alpha = "" if r["alpha"] is None else f"{r['alpha']:g}"
        lines.append(f"| {r['part']} | {shape} | {alpha} | {r['s']:g} | {r['gamma']:g} | {r['steps']} | "
                     f"{r['alpha_m']:.2f} | {r['r2']:.3f} | {slope} | {r['phi_half'][0]:.2f}, {r['phi_half'][-1]:.2f} |")
    lines += ["", "## Weak regime (gamma >= 0.5): does alpha_m = max(alpha - 1, 0) hold (within 0.25)?", "",
              "| gamma | alpha | alpha_m | max(alpha - 1, 0) | holds | represented features at each m | count grows with m |",
              "|---|---|---|---|---|---|---|"]
    for r in table(doc, part="grid"):
        if r["gamma"] >= 0.5:
            w = weak_prediction(r)
            lines.append(f"| {w['gamma']:g} | {w['alpha']:g} | {w['alpha_m']:.2f} | {w['predicted']:g} | "
                         f"{'yes' if w['holds'] else 'no'} | {', '.join(map(str, w['represented']))} | "
                         f"{'yes' if w['count_grows'] else 'no'} |")
    checks = science_checks(doc) if any(r["part"] == "grid" for r in doc["records"]) else []
    lines += ["", f"## Science checks: {sum(ok for _, ok, _ in checks)} of {len(checks)} pass", ""]
    lines += [f"- {'PASS' if ok else 'FAIL'}: {claim} ({detail})" for claim, ok, detail in checks]
    return "\n".join(lines) + "\n"


# ---- chapter 6: the 1/m law

def crossing(x, y, level: float = 0.5) -> float:
    """The first x at which y falls through `level`, interpolated linearly between grid points (NaN if never)."""
    from . import _validate as check

    x, y = check.numbers("x", x), check.numbers("y", y)
    check.same_length(1, x=x, y=y)
    level = check.finite_float("level", level)
    pts = sorted(zip(x, y))
    for (x0, y0), (x1, y1) in zip(pts, pts[1:]):
        if y0 >= level > y1:
            return float(x0 + (y0 - level) * (x1 - x0) / (y0 - y1))
    return math.nan


def training_gain(doc: dict, gamma: float, alpha: float) -> list[tuple[int, float, float]]:
    """(m, loss after the grid's steps, loss after the longest training) for one (gamma, alpha) of the E = 1 law."""
    rows = [r for r in table(doc, distribution="power", s=0.0, gamma=gamma, alpha=alpha)
            if r["part"] in ("grid", "steps", "long")]
    if not rows:
        raise ValueError(f"the sweep has no power-law curve at gamma={gamma:g}, alpha={alpha:g}")
    short, long_ = min(rows, key=lambda r: r["steps"]), max(rows, key=lambda r: r["steps"])
    return [(m, a, b) for m, a, b in zip(short["widths"], short["losses"], long_["losses"])]


class PaperNumber(NamedTuple):
    """One number of Liu, Liu & Gore (2025): its value, where the paper (or its code) gives it, and how the text quotes it.

    `quote` is the exact text the chapters print (inside `paper_quote(key)`); None for numbers that only
    chapter 6's comparison table shows. `error` holds the paper's stated uncertainties, if any.
    """

    value: object
    where: str
    quote: str | None = None
    error: object = None


#: numbers from Liu, Liu & Gore (2025, arXiv 2505.10465 v4) that the course quotes, each with where it
#: comes from; figure numbers are v4's unless marked v2 (the repository's PNGs use v2's numbering:
#: v2 figs. 4, 6, 7, 8 are v4 figs. 9-10, 5, 14-15, 6); "read off" means estimated from a plotted figure,
#: not printed in the paper's text. Chapters quote them with `paper_quote`, and tests/test_paper_numbers.py
#: checks every quote in the book against this table.
PAPER_NUMBERS = {
    # ---- fig. 1: the large toy model (App. D.1; code exp/exp-17.py)
    "fig1_n": PaperNumber(10240, "n = 10,240 features (fig. 1 caption and App. D.1; exp-17.py's --n)", "10,240"),
    "fig1_widths": PaperNumber((8, 1024), "m = 2^3 to 2^10 (fig. 1; exp-17.py's m_ran)", "8 to 1,024"),
    "fig1_decay_length": PaperNumber(400, "p_i ~ exp(-i/400), i = 0..n-1, the code's 'exponential1' (App. B.1; "
                                          "exp-17.py; its 'exponential' is exp(-i/1000))", "400"),
    "fig1_steps_code": PaperNumber(40000, "exp-17.py's default --n_steps (App. D.1's text says 20,000)", "40,000"),
    "fig1_batch": PaperNumber(8192, "exp-17.py's default --batch_size", "8,192"),
    "fig1_warmup": PaperNumber(0.05, "warm-up over 5% of the steps (exp-17.py: get_lr(..., warmup_ratio=.05))",
                               "5%"),
    "fig1_alpha_m_exponential": PaperNumber(1.01, "strong regime, p_i ~ exp(-i/400), fitted over all widths "
                                                  "(fig. 1d, App. D.1)", "1.01 ± 0.05", 0.05),
    "fig1_alpha_m_power": PaperNumber(1.0, "strong regime, p_i ~ i^-1.2, fitted from the third width on "
                                           "(fig. 1d, App. D.1)", "1.0 ± 0.1", 0.1),
    "fig1_alpha_m_linear": PaperNumber(0.89, "strong regime, p_i ~ (n - i)/n, fitted from the third width on "
                                             "(fig. 1d, App. D.1)", "0.89 ± 0.05", 0.05),
    # ---- the grid (sec. 3; code exp/exp-10.py, exp-10-3.py)
    "main_n": PaperNumber(1000, "n = 1,000 features in every run but fig. 1 (the grid's code, exp-10.py)", "1,000"),
    "main_steps": PaperNumber(20000, "20,000 steps per model (exp-10.py)", "20,000"),
    "main_batch": PaperNumber(2048, "batches of 2,048 samples (exp-10.py)", "2,048"),
    "main_warmup": PaperNumber(2000, "linear warm-up over 2,000 steps, then cosine to 5% of the peak "
                                     "(exp-10.py)", "2,000"),
    "strong_shapes_r2": PaperNumber((0.985, 0.963, 0.987), "0.985, 0.963, 0.987 (v2 fig. 4a = v4 fig. 9a, read "
                                                           "off the bars)"),
    "weak_shapes_r2": PaperNumber((0.80, 0.99, 0.87), "0.80, 0.99, 0.87 (v2 fig. 4a = v4 fig. 9a, read off the "
                                                      "bars)"),
    "weak_power_alpha_m": PaperNumber(0.2, "alpha - 1 = 0.2 for p_i ~ i^-1.2 (the weak-regime theory, v2 fig. 5)"),
    "phi_strong": PaperNumber(1.0, "1 at every alpha (fig. 3b)"),
    "phi_weak": PaperNumber(0.2, "below about 0.2 at every alpha (fig. 3b)"),
    "strong_alpha_m": PaperNumber(1.0, "about 1: from about 0.8 at alpha = 0 to 1.1 at alpha = 1 (fig. 5e, read "
                                       "off the points; v2 fig. 6e)"),
    "strong_alpha_m_span": PaperNumber((0.8, 1.1), "alpha_m for alpha <= 1 at gamma < 0, from alpha = 0 to 1 "
                                                   "(fig. 5e, read off the points)", "0.8 to 1.1"),
    "strong_alpha_m_steep": PaperNumber(2.0, "about 2 at alpha = 2, near the line 2 (alpha - 1) (fig. 5e, read "
                                             "off: 1.8 to 2.3; v2 fig. 6e)", "about 2"),
    "weak_alpha_m": PaperNumber(0.0, "follows max(alpha - 1, 0) (v2 figs. 4b and 5)"),
    "density_alpha_m": PaperNumber(1.1, "1.1 ± 0.1 at every E from 1 to 7.5 (v2 fig. 7b: 1.12 ± 0.06 to "
                                        "1.1 ± 0.2; v4 figs. 14-15)", "1.1 ± 0.1", 0.1),
    "scale": PaperNumber(None, "n = 1,000, 20,000 steps, 10 gammas x 17 alphas x 6 widths (fig. 1: n = 10,240, "
                               "40,000 steps of batch 8,192 in its code exp-17.py, 20,000 steps in its text)"),
    # ---- language models (sec. 4, App. C)
    "llm_models": PaperNumber(27, "OPT 125m-66b, Qwen2.5 0.5-72B, GPT-2's four sizes, Pythia 70m-12b (App. C.1; "
                                  "the list in LLMs/overlap-0.py)", "27"),
    "llm_model_part_slope": PaperNumber(0.91, "slope of the model part of the loss against width, fitted jointly "
                                              "over four corpora with one offset per model class and corpus "
                                              "(fig. 6, App. C.1)", "0.91 ± 0.04", 0.04),
    "chinchilla_N_vs_m": PaperNumber(2.52, "N ~ m^2.52, measured on Chinchilla's models (fig. 23)",
                                     "2.52 ± 0.03", 0.03),
    "chinchilla_alpha_N": PaperNumber(0.35, "Chinchilla's parameter exponent as the paper uses it (fig. 23)", "0.35 ± 0.02", 0.02),
    "chinchilla_alpha_m": PaperNumber(0.88, "2.52 x 0.35: the width exponent implied by Chinchilla's fit (fig. 23)", "0.88 ± 0.06", 0.06),
}


def _shapes() -> PaperNumber:
    """Fig. 1's three strong-regime exponents as one row of chapter 6's table."""
    keys = ("fig1_alpha_m_exponential", "fig1_alpha_m_power", "fig1_alpha_m_linear")
    P = PAPER_NUMBERS
    return PaperNumber(tuple(P[k].value for k in keys),
                       f"{P[keys[0]].quote} (exponential, all widths), {P[keys[1]].quote} (power law) and "
                       f"{P[keys[2]].quote} (linear), the last two fitted from the third width on (fig. 1 and "
                       f"App. D.1; n = 10,240, m = 8 to 1,024)")


def paper_quote(key: str) -> str:
    """How the chapters print PAPER_NUMBERS[key]: its quote, tagged with its key and source (shown on hover)."""
    import html

    if key not in PAPER_NUMBERS or PAPER_NUMBERS[key].quote is None:
        quoted = sorted(k for k, v in PAPER_NUMBERS.items() if v.quote is not None)
        raise ValueError(f"key must be a quoted entry of PAPER_NUMBERS, one of {quoted}; got {key!r}")
    entry = PAPER_NUMBERS[key]
    return (f'<span class="paper-number" data-key="{key}" title="Liu et al. 2025: {html.escape(entry.where)}">'
            f"{entry.quote}</span>")


def _fmt(values) -> str:
    return ", ".join(f"{v:.2f}" for v in values)


def _span(values) -> str:
    lo, hi = min(values), max(values)
    return f"{lo:.2f}" if math.isclose(lo, hi, abs_tol=5e-3) else f"{lo:.2f} to {hi:.2f}"


def _diff(course, paper) -> str:
    """course - paper with signs: element by element against a tuple, as a range against one number."""
    if isinstance(paper, tuple):
        return ", ".join(f"{c - p:+.2f}" for c, p in zip(course, paper))
    d = [c - paper for c in course]
    lo, hi = min(d), max(d)
    return f"{lo:+.2f}" if math.isclose(lo, hi, abs_tol=5e-3) else f"{lo:+.2f} to {hi:+.2f}"


def paper_comparison(doc: dict) -> list[dict]:
    """Chapter 6's table: each quantity with the paper's value (and its source), this sweep's, and the difference."""
    P = PAPER_NUMBERS
    order = ("exponential", "power", "linear")
    shapes = {(r["distribution"], r["gamma"]): r for r in table(doc, part="shapes")}
    strong = [shapes[(d, -1.0)] for d in order]
    weak = [shapes[(d, 1.0)] for d in order]
    # App. D.1: the exponential shape over all widths, the power law and the linear shape from the third on
    windowed = [strong[0]["alpha_m"], strong[1]["alpha_m_third"], strong[2]["alpha_m_third"]]
    windowed_se = [strong[0]["alpha_m_se"], strong[1]["alpha_m_third_se"], strong[2]["alpha_m_third_se"]]
    grid = table(doc, part="grid")
    steps = min(r["steps"] for r in grid)
    widest = max(r["m"] for r in doc["records"] if r["part"] == "grid")
    gr = [r for r in doc["records"] if r["part"] == "grid" and r["m"] == widest]
    phi_s = [r["phi_half"] for r in gr if r["gamma"] < 0]
    phi_w = [r["phi_half"] for r in gr if r["gamma"] > 0]
    st_short = [r["alpha_m"] for r in grid if r["gamma"] < 0 and r["alpha"] <= 1]
    best = longest(table(doc))
    st_long = [r for (g, a), r in best.items() if g < 0 and a <= 1 and r["steps"] > steps]
    long_steps = sorted({r["steps"] for r in st_long})
    steep = [r["alpha_m"] for r in grid if r["gamma"] < 0 and r["alpha"] == max(x["alpha"] for x in grid)]
    weak_dev = [r["alpha_m"] - max(r["alpha"] - 1, 0.0) for r in grid if r["gamma"] > 0]
    dens = [r for r in table(doc, distribution="power", alpha=1.0, gamma=-1.0)
            if r["part"] == "density" or (r["part"] == "grid")]
    dens_long = best.get((-1.0, 1.0))
    rows = [
        ("loss exponent alpha_m, strong regime, exponential / power 1.2 / linear (the paper's fit windows)",
         _shapes(), _fmt(windowed) + " (fit errors ± " + _fmt(windowed_se)
         + f"; {steps:,} steps); over all widths "
         + _fmt([r["alpha_m"] for r in strong]), _diff(windowed, _shapes().value)),
        ("R^2 of those three strong fits", P["strong_shapes_r2"], _fmt([r["r2"] for r in strong]),
         _diff([r["r2"] for r in strong], P["strong_shapes_r2"][0])),
        ("R^2 of the three weak fits (gamma = +1)", P["weak_shapes_r2"], _fmt([r["r2"] for r in weak]),
         _diff([r["r2"] for r in weak], P["weak_shapes_r2"][0])),
        ("alpha_m, weak regime, power law alpha = 1.2", P["weak_power_alpha_m"], f"{weak[1]['alpha_m']:.2f}",
         _diff([weak[1]["alpha_m"]], 0.2)),
        (f"phi_1/2 at gamma < 0 (m = {widest})", P["phi_strong"], _span(phi_s), _diff(phi_s, 1.0)),
        (f"phi_1/2 at gamma > 0 (m = {widest})", P["phi_weak"], _span(phi_w), "within the paper's range"
         if max(phi_w) <= 0.2 else f"largest {max(phi_w):.2f}, above 0.2"),
        ("alpha_m, strong regime, alpha <= 1", P["strong_alpha_m"],
         f"{_span(st_short)} ({steps:,} steps); {_span([r['alpha_m'] for r in st_long])} "
         f"({', '.join(f'{s:,}' for s in long_steps)} steps)",
         f"{_diff(st_short, 1.0)}; {_diff([r['alpha_m'] for r in st_long], 1.0)}"),
        ("alpha_m, strong regime, alpha = 2", P["strong_alpha_m_steep"], f"{_span(steep)} ({steps:,} steps)",
         _diff(steep, 2.0)),
        ("alpha_m - max(alpha - 1, 0), weak regime (gamma > 0)", P["weak_alpha_m"], _span(weak_dev),
         _diff(weak_dev, 0.0)),
        ("alpha_m across E = 1 to 7.5, strong regime (alpha = 1)", P["density_alpha_m"],
         f"{_span([r['alpha_m'] for r in dens])} ({steps:,} steps)"
         + (f"; {dens_long['alpha_m']:.2f} at E = 1 ({dens_long['steps']:,} steps)" if dens_long else ""),
         _diff([r["alpha_m"] for r in dens], 1.1)
         + (f"; {dens_long['alpha_m'] - 1.1:+.2f}" if dens_long else "")),
        ("scale of the runs", P["scale"],
         f"n = {doc['settings']['n']:,}, {steps:,} or {max(r['steps'] for r in doc['records']):,} steps, "
         f"{len(doc['records'])} models", "fewer steps and models; same n and widths"),
    ]
    return [dict(quantity=q, paper=p[1], course=c, difference=d) for q, p, c, d in rows]


class ComparisonTable(list):
    """Rows of dicts shown as an HTML table in Jupyter and as plain text elsewhere."""

    def _repr_html_(self) -> str:
        import html

        if not self:
            return "<p>(no rows)</p>"
        cols = list(self[0])
        head = "".join(f"<th style='text-align:left'>{html.escape(c)}</th>" for c in cols)
        body = "".join("<tr>" + "".join(f"<td style='text-align:left'>{html.escape(str(r[c]))}</td>" for c in cols)
                       + "</tr>" for r in self)
        return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"

    def __repr__(self) -> str:
        return "\n".join(" | ".join(str(r[c]) for c in r) for r in self)


def flips(doc: dict) -> dict[tuple[int, float], float]:
    """For each (m, alpha) of the grid, the gamma at which phi_1/2 falls through 1/2 (`crossing`)."""
    grid = records(doc, part="grid")
    out = {}
    for m, alpha in sorted({(r["m"], r["alpha"]) for r in grid}):
        cell = [r for r in grid if r["m"] == m and r["alpha"] == alpha]
        out[(m, alpha)] = crossing([r["gamma"] for r in cell], [r["phi_half"] for r in cell])
    return out


# ---- chapter 5: strong superposition

def along_width(source, field: str, **where) -> tuple[list[int], list]:
    """(widths, values of `field`) for the records matching `where`, sorted by m; one record per width.

    `where` must pick out one curve (e.g. part, alpha, gamma, steps); two records at the same m raise.
    """
    recs = sorted(records(source, **where), key=lambda r: r["m"])
    if not recs:
        raise ValueError(f"no records match {where}")
    if field not in recs[0]:
        raise ValueError(f"records have no field {field!r}; fields are {sorted(recs[0])}")
    ms = [r["m"] for r in recs]
    if len(set(ms)) != len(ms):
        raise ValueError(f"{where} matches more than one record at some width: add part, steps, alpha, ... to "
                         "pick out one curve")
    return ms, [r[field] for r in recs]


def norm_summary(norms) -> dict:
    """The row-norm numbers of chapter 5 for one model: phi_1/2, phi_1 (norm > 1) and the modes."""
    import torch

    from . import metrics

    v = torch.as_tensor(norms, dtype=torch.float32).flatten()
    W = v.unsqueeze(1)  # one column: a matrix whose rows have exactly these norms
    return dict(phi_half=float(metrics.phi_half(W)), phi_one=float(metrics.phi_one(W)),
                modes=metrics.norm_modes(v))


def settle_summary(path: str | Path = SETTLE) -> list[dict]:
    """Per (gamma, m) of the settling experiment, each statistic as the list of its seeds' values.

    From the records: phi_half, phi_one, n_strong, final_loss and m times msq_strong, msq_all and
    msq_represented; var_ratio = var_strong / the variance for random unit vectors (the paper's
    Fig. 5c). From the kept weights (metrics.group_overlaps): m times the strong-weak cross term
    and m times the mean inside the weaker rows (norm <= 1).
    Also, once per row: the paper's bound min(1, m^2 / 2n) beside phi_one (its Fig. 16) and m times
    Welch's bound for a set of n_strong vectors (seed mean) in m dimensions.
    """
    from . import geometry, metrics
    from .sweep import load_weights

    path = Path(path)
    doc, weights = load(path), load_weights(path)
    rows: dict[tuple, dict] = {}
    for r in sorted(doc["records"], key=lambda r: (r["gamma"], r["m"], r["seed"])):
        m, n = r["m"], r["n"]
        row = rows.setdefault((r["gamma"], m), dict(gamma=r["gamma"], m=m, n=n, steps=r["steps"],
                                                    bound=min(1.0, m * m / (2 * n)), seeds=[]))
        W, _ = weights[r["key"]]
        values = dict(phi_half=r["phi_half"], phi_one=r["phi_one"], n_strong=r["n_strong"],
                      final_loss=r["final_loss"], m_msq_strong=m * r["msq_strong"],
                      m_msq_all=m * r["msq_all"], m_msq_represented=m * r["msq_represented"],
                      var_ratio=r["var_strong"] / geometry.random_square_cosine_variance(m),
                      **{f"m_msq_{k}": None if v is None else m * v
                         for k, v in metrics.group_overlaps(W).items() if k != "strong"})
        row["seeds"].append(r["seed"])
        for k, v in values.items():
            row.setdefault(k, []).append(v)
    for row in rows.values():
        k = round(sum(row["n_strong"]) / len(row["n_strong"]))
        row["m_welch_strong"] = row["m"] * geometry.welch_bound(k, row["m"]) if k >= 2 else None
    return list(rows.values())


#: The overlap probe (scripts/overlap_vs_training.py): one strong model per (width, steps) at the
#: sweep's settings, keeping what the sweep does not: where the overlaps sit (metrics.crowding).
PROBE = DATA / "overlap-probe.json"
PROBE_FORMAT, PROBE_VERSION = "superposition-course overlap probe", 1
PROBE_SETTINGS = dict(n=1000, alpha=1.0, gamma=-1.0, batch=2048, warmup_fraction=0.1, seed=0, rare_from=300)


def probe_crowding(m: int, steps: int, settings: dict = PROBE_SETTINGS) -> dict:
    """Train one strong model of width m for `steps` steps (one core) and measure its crowding."""
    import time

    from . import geometry, metrics
    from .train import TrainConfig, train

    s = settings
    cfg = TrainConfig(n=s["n"], m=m, steps=steps, batch=s["batch"], warmup=int(s["warmup_fraction"] * steps),
                      log_every=steps, progress=False)
    t = time.time()
    with geometry.single_thread():
        W = train(power_law(s["n"], s["alpha"]), s["gamma"], cfg, seeds=[s["seed"]]).W[0]
    return dict(m=m, steps=steps, **metrics.crowding(W, top=m, rare_from=s["rare_from"]),
                wall_s=round(time.time() - t, 1))


def load_probe(path: str | Path = PROBE) -> dict:
    """Read the overlap probe's file, refusing anything else."""
    from . import runfiles
    from .sweep import SweepError

    return runfiles.read(path, Path(path).name, PROBE_FORMAT, PROBE_VERSION, SweepError, "an overlap probe",
                         "python scripts/overlap_vs_training.py")


# ---- chapter 4: weak superposition

def weak_exponents(source, min_gamma: float = 0.5, part: str = "grid") -> list[dict]:
    """For every weak curve (gamma >= min_gamma) of the E = 1 power law: the exponents chapter 4 compares.

    Each row has gamma, alpha, the widths, `alpha_m` (fitted to the measured loss), `left_out` (fitted to
    the loss of the unrepresented features, the weak-regime prediction), `ideal` (the suitcase that stores
    the top m features, at the sweep's n and widths), `asymptotic` (max(alpha - 1, 0)), the represented
    counts, whether they grow with m, and `count_slope` (the log-log slope of the non-zero counts against
    m; NaN with fewer than two).
    """
    from . import metrics

    doc = source if isinstance(source, dict) else load(Path(source))
    rows = []
    for r in table(doc, part=part, distribution="power", s=0.0):
        if r["gamma"] < min_gamma:
            continue
        curve = sorted(records(doc, part=part, distribution="power", s=0.0, alpha=r["alpha"], gamma=r["gamma"],
                               steps=r["steps"]), key=lambda x: x["m"])
        ms = [x["m"] for x in curve]
        w = weak_prediction(r)
        nz = [(m, k) for m, k in zip(ms, r["represented"]) if k > 0]
        slope = fit_power_law(*zip(*nz)).slope if len({m for m, _ in nz}) >= 2 else math.nan
        rows.append(dict(gamma=r["gamma"], alpha=r["alpha"], widths=ms, alpha_m=r["alpha_m"],
                         left_out=fit_power_law(ms, [x["unrepresented_loss"] for x in curve]).exponent,
                         ideal=metrics.suitcase_exponent(r["alpha"], curve[0]["n"], ms),
                         asymptotic=w["predicted"], represented=r["represented"], count_grows=w["count_grows"],
                         count_slope=slope))
    return rows
