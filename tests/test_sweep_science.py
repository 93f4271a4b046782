"""The science in the sweeps: the cached `course` results, and the `quick` preset re-run here.

Tolerances for the `course` data are the course's claims (see utils.results.science_checks);
those for `quick` are looser and justified beside each check: n = 200, widths 5..20
and 1,500 steps leave fewer features per width and a shorter fit range.
"""

import copy
import json
import shutil

import pytest

from utils import results, sweep
from utils.paths import DATA

COURSE = DATA / "sweep-course"


@pytest.fixture(scope="module")
def course():
    doc = sweep.load(COURSE)
    assert sweep.missing(doc) == [], "data/sweep-course is incomplete: run python -m utils sweep --preset course"
    return doc


#: Claims the course data does not meet, each with the value measured when it was listed and how far
#: it may drift: a listed claim must still fail, by about as much as recorded, or the test fails.
#: After 12,000 steps the all-row overlap (the paper's Fig. 17 statistic, which the paper says "may be
#: higher than 1/m") falls faster than 1/m over m = 10..100, because the narrow models' rare rows crowd
#: into a few directions with training (data/overlap-probe.json, tested below). The paper's own 1/m
#: statistic, over the strongly represented rows only, needs the weights: the settling experiment
#: (data/sweep-settle, checked below) has them, and there it falls as m^-1.02.
_SLOPE = "all-row mean square overlap (Fig. 17) ~ m^slope, slope in [-1.3, -0.7]"
KNOWN_DISCREPANCIES = {
    f"strong (gamma=-1, alpha=1, 12000 steps): {_SLOPE}": (-1.43, 0.03),
    f"strong (gamma=-0.5, alpha=1, 12000 steps): {_SLOPE}": (-1.41, 0.03),
}


def test_course_data_passes_every_science_check(course):
    checks = results.science_checks(course)
    failed = [f"{claim}: {detail}" for claim, ok, detail in checks if not ok and claim not in KNOWN_DISCREPANCIES]
    assert not failed, "\n".join(failed)
    fixed = [claim for claim, ok, _ in checks if ok and claim in KNOWN_DISCREPANCIES]
    assert not fixed, "these claims pass now; remove them from KNOWN_DISCREPANCIES: " + "; ".join(fixed)
    assert set(KNOWN_DISCREPANCIES) <= {claim for claim, _, _ in checks}
    for claim, ok, detail in checks:
        if claim in KNOWN_DISCREPANCIES:
            measured, tol = KNOWN_DISCREPANCIES[claim]
            got = float(detail.split("=")[-1])
            assert abs(got - measured) <= tol, f"{claim}: recorded {measured} +- {tol}, now {detail}"


def test_science_checks_fail_when_gamma_is_flipped(course):
    """The checks can fail: give every model the opposite gamma and most claims break."""
    flipped = copy.deepcopy(course)
    for r in flipped["records"]:
        r["gamma"] = -r["gamma"] if r["gamma"] else 0.0
    checks = results.science_checks(flipped)
    assert sum(not ok for _, ok, _ in checks) >= len(checks) // 2


def test_course_provenance_says_how_to_regenerate(course):
    run = course["runs"][0]
    assert "sweep --preset course" in run["command"] and run["commit"] and run["torch"]
    assert {"final_loss", "final_loss_se", "unrepresented_loss", "phi_half", "phi_one", "msq_represented",
            "seed", "wall_s", "steps", "batch", "E"} <= set(course["records"][0])


def test_steps_comparison_is_recorded_and_used(course):
    """alpha = 1 at gamma = +-1 trained for 3,000 and for 12,000 steps.

    The represented fraction and the weak-regime prediction do not move with the
    longer training, so the grid's 3,000 steps serve the phase diagram; the strong
    regime's exponent does move (measured 0.85 -> 1.12), so the strong curves with
    alpha <= 1 are trained for 12,000 steps and the checks use those.
    """
    rows = {(r["gamma"], r["steps"]): r for r in results.table(course, alpha=1.0, s=0.0, distribution="power")
            if r["part"] in ("grid", "steps")}
    S, L = sweep.COURSE_STEPS, sweep.COURSE_CHECK_STEPS
    for gamma in (-1.0, 1.0):
        short, long = rows[(gamma, S)], rows[(gamma, L)]
        assert max(abs(a - b) for a, b in zip(short["phi_half"], long["phi_half"])) <= 0.1
    weak_s, weak_l = rows[(1.0, S)], rows[(1.0, L)]
    assert max(abs(a - b) for a, b in zip(weak_s["weak_ratio"], weak_l["weak_ratio"])) <= 0.1
    assert rows[(-1.0, L)]["alpha_m"] > rows[(-1.0, S)]["alpha_m"] + 0.1  # why the long runs exist
    best = results.longest(results.table(course))
    assert all(best[(g, a)]["steps"] == L for g in (-1.0, -0.5) for a in (0.0, 0.5, 1.0))


def test_weak_prediction_is_reported_for_every_weak_curve(course):
    weak = [results.weak_prediction(r) for r in results.table(course, part="grid") if r["gamma"] >= 0.5]
    assert len(weak) == 10
    for w in weak:
        assert set(w) >= {"alpha_m", "predicted", "holds", "count_grows"}


@pytest.fixture(scope="module")
def quick(tmp_path_factory):
    out = tmp_path_factory.mktemp("quick")
    return sweep.load(sweep.run("quick", out, progress=False, argv=["test"]))


@pytest.mark.slow
def test_quick_preset_shows_every_regime(quick):
    rows = results.table(quick, part="grid")
    strong = {r["alpha"]: r for r in rows if r["gamma"] == -1.0}
    weak = {r["alpha"]: r for r in rows if r["gamma"] == 1.0}
    for alpha in (0.5, 1.0):
        # strong falls with m; at widths 5..20 and 1,500 steps the exponent is 0.55-0.75 here
        # (1 needs n = 1000 and longer training), so ask for 0.4..1.3 and a clear gap to weak
        assert 0.4 <= strong[alpha]["alpha_m"] <= 1.3
        assert strong[alpha]["alpha_m"] > weak[alpha]["alpha_m"] + 0.3
    for alpha, r in strong.items():
        assert min(r["phi_half"]) > 0.9
        assert -1.3 <= r["overlap_slope"] <= -0.4  # measured -0.6 to -0.9 with four short widths
    for alpha, r in weak.items():
        if alpha >= 1:
            assert max(r["phi_half"]) < 0.5
        # the loss is that of the features left out; measured 0.79-1.27 here, so [0.7, 1.4]
        assert all(0.7 <= v <= 1.4 for v in r["weak_ratio"] if v == v)


@pytest.mark.slow
def test_course_slice_reproduces_the_cached_records(course, tmp_path):
    """Re-train the first group of the course preset (m = 10, five gammas) and compare with data/."""
    n_groups = len(sweep.preset("course").groups)
    new = sweep.load(sweep.run("course", tmp_path, shard=f"1/{n_groups}", progress=False, argv=["test"]))
    cached = {r["key"]: r for r in course["records"]}
    assert len(new["records"]) == 5
    for r in new["records"]:
        old = cached[r["key"]]
        assert r["seed"] == old["seed"]
        # the same code and seed give the same model; only float rounding may differ between machines
        # (the previous trainer, which summed in another order, moved these losses by up to 0.15%)
        assert r["final_loss"] == pytest.approx(old["final_loss"], rel=1e-2)
        assert r["phi_half"] == pytest.approx(old["phi_half"], abs=0.01)


# ---- the overlap probe (data/overlap-probe.json, made by scripts/overlap_vs_training.py)

def test_overlap_probe_shows_narrow_models_crowding_with_training():
    """The explanation chapter 5 gives for the steep overlap slopes after long training: the narrow
    model's rarer rows crowd into fewer directions as training goes on, the wide model's spread out."""
    doc = results.load_probe()
    rec = {(r["m"], r["steps"]): r for r in doc["records"]}
    steps = sorted({s for _, s in rec})
    narrow, wide = min(m for m, _ in rec), max(m for m, _ in rec)
    assert len(steps) >= 3 and narrow <= 10 and wide >= 100
    first, last = steps[0], steps[-1]
    assert rec[(narrow, last)]["all"] > 1.5 * rec[(narrow, first)]["all"]  # measured 1.20 -> 2.85
    assert rec[(narrow, last)]["rare_dims"] < 0.6 * rec[(narrow, first)]["rare_dims"]
    assert rec[(wide, last)]["all"] < rec[(wide, first)]["all"]  # measured 1.34 -> 1.10
    assert rec[(wide, last)]["rare_dims"] > rec[(wide, first)]["rare_dims"]
    for m in (narrow, wide):  # the most frequent rows stay closer to orthogonal than the rest
        assert rec[(m, last)]["top"] < rec[(m, last)]["rare"]


@pytest.mark.slow
def test_overlap_probe_reproduces_its_smallest_entry():
    stored = {(r["m"], r["steps"]): r for r in results.load_probe()["records"]}
    m, steps = min(stored)
    again = results.probe_crowding(m, steps)
    for key in ("all", "top", "rare", "rare_dims"):
        assert again[key] == pytest.approx(stored[(m, steps)][key], rel=1e-3), key


# ---- the settling experiment (data/sweep-settle: python -m utils sweep --preset settle)

@pytest.fixture(scope="module")
def settle():
    doc = sweep.load(results.SETTLE)
    assert sweep.missing(doc) == [], "data/sweep-settle is incomplete: run python -m utils sweep --preset settle"
    return doc


def test_settle_is_the_paper_settings_from_a_clean_tree(settle):
    run = settle["runs"][0]
    assert "sweep --preset settle" in run["command"] and run["commit"] and run["utils_modified"] is False
    assert settle["settings"]["batch"] == 2048 and settle["settings"]["lr"] == 0.01
    assert settle["settings"]["warmup_fraction"] == 0.1 and settle["settings"]["eval_batch"] >= 200_000
    recs = settle["records"]
    assert {r["steps"] for r in recs} == {20_000} and {r["m"] for r in recs} == set(sweep.PAPER_WIDTHS)
    assert len(recs) == 24 and len({r["seed"] for r in recs}) == 24
    assert len(sweep.load_weights(results.SETTLE)) == 24


def test_settle_data_passes_every_check():
    failed = [f"{claim}: {detail}" for claim, ok, detail in results.settle_checks() if not ok]
    assert not failed, "\n".join(failed)


def _settle_copy(tmp_path, settle, change):
    doc = copy.deepcopy(settle)
    for r in doc["records"]:
        change(r)
    (tmp_path / "sweep.json").write_text(json.dumps(doc))
    shutil.copy(results.SETTLE / "weights.npz", tmp_path / "weights.npz")
    return {claim: ok for claim, ok, _ in results.settle_checks(tmp_path)}


def test_settle_checks_fail_on_the_wrong_rows_or_short_training(settle, tmp_path):
    """The overlap over all rows in place of the strong set breaks the Fig. 5d checks."""
    def all_rows(r):
        r["msq_strong"] = r["msq_all"]
    ok = _settle_copy(tmp_path, settle, all_rows)
    assert not any(v for k, v in ok.items() if "strong-set overlap" in k)
    assert all(v for k, v in ok.items() if "phi_1" in k)

    def flat_loss(r):  # losses of a model that stopped improving with width: exponent 0.5 instead of 1.1
        r["final_loss"] = 1e-3 * (r["m"] / 10) ** -0.5
    ok = _settle_copy(tmp_path, settle, flat_loss)
    assert not any(v for k, v in ok.items() if "alpha_m" in k)


@pytest.mark.slow
def test_settle_smallest_model_retrains_to_its_kept_weights(settle):
    """A slice of the settling experiment trained again here: its m = 10, gamma = -1 model, alone, with the
    record's own seed and the preset's settings, lands on the kept float16 weights and on the record's
    statistics (about 100 s on one core: 20,000 steps)."""
    import numpy as np
    import torch

    from utils import metrics
    from utils.train import TrainConfig, train

    rec = min((r for r in settle["records"] if r["m"] == 10 and r["gamma"] == -1.0), key=lambda r: r["seed"])
    s = settle["settings"]
    cfg = TrainConfig(n=s["n"], m=rec["m"], steps=rec["steps"], batch=s["batch"], lr=s["lr"],
                      warmup=int(round(s["warmup_fraction"] * rec["steps"])), log_every=rec["steps"] // 200,
                      progress=False)
    p = sweep.Group("power", rec["m"], rec["steps"], (rec["gamma"],), alpha=rec["alpha"]).frequencies(s["n"])
    result = train(p, rec["gamma"], cfg, seeds=[rec["seed"]])
    W_kept, b_kept = sweep.load_weights(results.SETTLE)[rec["key"]]
    W = result.W[0]
    # float16 keeps about 3 significant digits: |W| <= ~1.5 rounds by at most ~1e-3
    assert np.abs(W.numpy() - W_kept).max() < 2e-3
    assert np.abs(result.b[0].numpy() - b_kept).max() < 2e-3
    assert float(metrics.phi_one(W)) == pytest.approx(rec["phi_one"], abs=1e-9)
    assert metrics.overlap_stats(W)["msq_strong"] == pytest.approx(rec["msq_strong"], rel=1e-4)
    assert torch.isfinite(result.losses).all()


def test_settle_and_the_paper_grid_agree_where_they_overlap(settle):
    """The paper grid's alpha = 1 shard trains the settling experiment's first seed again, in another
    process on another day: the same models, to float rounding."""
    shard = DATA / "sweep-paper" / "shard-01-of-17"
    if not (shard / "sweep.json").exists():
        pytest.skip("the paper grid's first shard is not committed")
    paper = {(r["key"], r["seed"]): r for r in sweep.load(shard)["records"]}
    shared = [(r, paper[(r["key"], r["seed"])]) for r in settle["records"] if (r["key"], r["seed"]) in paper]
    assert len(shared) == 12
    for a, b in shared:
        assert a["final_loss"] == pytest.approx(b["final_loss"], rel=1e-3)
        assert a["msq_strong"] == pytest.approx(b["msq_strong"], rel=1e-3)
        assert a["phi_one"] == pytest.approx(b["phi_one"], abs=0.003)


# ---- the paper grid (data/sweep-paper: bash scripts/paper_grid.sh, one shard per alpha)

@pytest.fixture(scope="module")
def paper():
    if not list((DATA / "sweep-paper").glob("shard-*/sweep.json")):
        pytest.skip("no shard of the paper grid is committed")
    return sweep.load(DATA / "sweep-paper")


def test_paper_grid_passes_every_check(paper):
    checks = results.paper_checks(paper)
    assert len(checks) >= 15, "the first shard (alpha = 1) alone gives 15 checks"
    failed = [f"{claim}: {detail}" for claim, ok, detail in checks if not ok]
    assert not failed, "\n".join(failed)


def test_paper_checks_fail_on_wrong_inputs(paper):
    """Flipped gamma signs break most claims; the overlap over all rows breaks every Fig. 5d claim."""
    flipped = copy.deepcopy(paper)
    for r in flipped["records"]:
        r["gamma"] = -r["gamma"]
    checks = results.paper_checks(flipped)
    assert sum(not ok for _, ok, _ in checks) >= len(checks) // 2
    all_rows = copy.deepcopy(paper)
    for r in all_rows["records"]:
        r["msq_strong"] = r["msq_all"]
    strong = [ok for claim, ok, _ in results.paper_checks(all_rows) if "strong-set overlap" in claim]
    assert strong and not any(strong)


def test_paper_grid_provenance(paper):
    for run in paper["runs"]:
        assert "--preset paper" in run["command"] and run["commit"]
    recs = paper["records"]
    assert {r["steps"] for r in recs} == {20_000} and {r["batch"] for r in recs} == {2048}
    assert paper["settings"]["eval_batch"] >= 200_000
    assert all(r["msq_strong"] is None or 0 < r["msq_strong"] < 1 for r in recs)
