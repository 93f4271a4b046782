"""`python -m utils sweep`: presets, resuming, atomic files, shards, bad input."""

import json
import os
import signal
import subprocess
import sys
import time

import pytest

from utils import sweep
from utils.__main__ import main
from utils.paths import ROOT


def _strip(recs):
    """Records without the wall time (the only field that differs between two identical runs)."""
    return {r["key"]: {k: v for k, v in r.items() if k != "wall_s"} for r in recs}


def test_paper_preset_is_the_papers_grid():
    pr = sweep.preset("paper")
    keys = [k for g in pr.groups for k in g.keys()]
    assert len(keys) == len(set(keys)) == 1020
    assert pr.model_steps() == 20_400_000
    assert sorted({g.m for g in pr.groups}) == [10, 15, 25, 39, 63, 100]
    alphas = sorted({g.alpha for g in pr.groups})
    assert len(alphas) == 17 and alphas[0] == 0.0 and alphas[-1] == 2.0
    assert all(len(g.gammas) == 10 and 0.0 not in g.gammas for g in pr.groups)


def test_course_preset_covers_what_the_chapters_need():
    pr = sweep.preset("course")
    grid = [g for g in pr.groups if g.part == "grid"]
    gammas = sorted({x for g in grid for x in g.gammas})
    assert len(gammas) >= 5 and min(gammas) < 0 < max(gammas)
    assert sorted({g.alpha for g in grid})[0] == 0.0 and max(g.alpha for g in grid) == 2.0
    assert {g.distribution for g in pr.groups if g.part == "shapes"} == {"exponential", "linear", "power"}
    assert len({g.s for g in pr.groups if g.part == "density"}) >= 4
    assert all(g.m in sweep.PAPER_WIDTHS for g in pr.groups)


@pytest.mark.parametrize("name", list(sweep.PRESETS))
def test_shards_partition_the_preset(name):
    pr = sweep.preset(name)
    parts = [sweep.shard_groups(pr, (k, 7)) for k in range(1, 8)]
    keys = [k for part in parts for g in part for k in g.keys()]
    assert sorted(keys) == sorted(k for g in pr.groups for k in g.keys())


def _quick_slice(tmp_path, name, shard="1/8", **kw):
    return sweep.run("quick", tmp_path / name, shard=shard, progress=False, argv=["test"], **kw)


def test_interrupted_sweep_resumes_without_training_a_model_twice(tmp_path, monkeypatch):
    monkeypatch.setattr(sweep, "MAX_STACK", 2)  # one group (two gammas) per stack: several stacks in the slice
    whole = sweep.load(_quick_slice(tmp_path, "whole"))
    path = _quick_slice(tmp_path, "cut", stop_after=1)
    first = sweep.load(path)
    assert 0 < len(first["records"]) < len(whole["records"])
    kept = _strip(first["records"])
    again = sweep.load(_quick_slice(tmp_path, "cut"))
    groups = len(sweep.shard_groups(sweep.preset("quick"), (1, 8)))
    assert again["runs"][-1]["groups_to_train"] == groups - 1  # the finished stack was not redone
    assert _strip(again["records"]) == _strip(whole["records"])  # same models, same numbers
    assert {k: _strip(again["records"])[k] for k in kept} == kept
    assert sweep.missing(again) == []
    # a third run has nothing to do
    assert sweep.load(_quick_slice(tmp_path, "cut"))["runs"][-1]["groups_to_train"] == 0


def test_stacks_hold_groups_of_one_width_and_step_count():
    groups = list(sweep.preset("course").groups)
    stacks = sweep.stacks(groups, limit=12)
    assert sorted(map(id, (g for s in stacks for g in s))) == sorted(map(id, groups))
    for s in stacks:
        assert len({(g.m, g.steps) for g in s}) == 1 and sum(len(g.gammas) for g in s) <= 12


@pytest.mark.slow  # trains a shard twice (about 16 s): in make test, not test-fast
def test_a_model_trains_to_the_same_numbers_in_any_stack(tmp_path, monkeypatch):
    together = sweep.load(_quick_slice(tmp_path, "together", "3/8"))
    monkeypatch.setattr(sweep, "MAX_STACK", 1)  # every model alone
    alone = sweep.load(_quick_slice(tmp_path, "alone", "3/8"))
    assert len(sweep.stacks(sweep.shard_groups(sweep.preset("quick"), (3, 8)), 1)) > 2
    assert _strip(alone["records"]) == _strip(together["records"])


@pytest.mark.slow
def test_kill_9_leaves_a_valid_file_and_the_rerun_completes(tmp_path):
    out = tmp_path / "killed"
    # shard 1/2 trains two stacks (m = 5, then m = 12): the kill comes while the second trains
    cmd = [sys.executable, "-m", "utils", "sweep", "--preset", "quick", "--shard", "1/2", "--out", str(out),
           "--quiet"]
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 120
    while time.time() < deadline:
        f = out / "sweep.json"
        if f.exists() and json.loads(f.read_text())["records"]:
            break
        time.sleep(0.05)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    partial = sweep.load(out)  # never a half-written file
    assert partial["records"] and sweep.missing(partial)
    subprocess.run(cmd, cwd=ROOT, check=True, capture_output=True)
    done = sweep.load(out)
    assert sweep.missing(done) == []
    assert _strip(done["records"]) == _strip(sweep.load(_quick_slice(tmp_path, "clean", "1/2"))["records"])


def test_merge_combines_shards_and_refuses_other_settings(tmp_path, capsys):
    a, b = _quick_slice(tmp_path, "a", "1/12"), _quick_slice(tmp_path, "b", "2/12")
    merged = sweep.load(sweep.merge(tmp_path / "all", [a.parent, b.parent]))
    assert len(merged["records"]) == len(sweep.load(a)["records"]) + len(sweep.load(b)["records"])
    assert merged["settings"]["shard"] is None
    doc = sweep.load(b)
    doc["settings"]["n"] = 300
    (tmp_path / "b" / "sweep.json").write_text(json.dumps(doc))
    assert main(["sweep", "merge", str(tmp_path / "x"), str(a.parent), str(b.parent)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "other settings" in err


def _rc_and_error(capsys, argv):
    rc = main(argv)
    return rc, capsys.readouterr().err


def test_bad_input_gives_one_line_and_keeps_results(tmp_path, capsys):
    rc, err = _rc_and_error(capsys, ["sweep", "--preset", "quick", "--shard", "9/8", "--out", str(tmp_path)])
    assert rc == 2 and "--shard" in err and err.count("\n") == 1
    rc, err = _rc_and_error(capsys, ["sweep", "--preset", "quick", "--shard", "one", "--out", str(tmp_path)])
    assert rc == 2 and "K/N" in err
    with pytest.raises(SystemExit) as e:
        main(["sweep", "--preset", "huge"])
    assert e.value.code == 2 and "invalid choice" in capsys.readouterr().err
    # a corrupt file and a foreign file are refused and left as they were
    for name, text in (("corrupt", '{"format": "superposition-course sweep", "records": [ {'),
                       ("foreign", '{"some": "other json"}')):
        d = tmp_path / name
        d.mkdir()
        (d / "sweep.json").write_text(text)
        rc, err = _rc_and_error(capsys, ["sweep", "--preset", "quick", "--out", str(d)])
        assert rc == 2 and err.count("\n") == 1 and "left untouched" in err
        assert (d / "sweep.json").read_text() == text
    # a sweep of another preset or shard in the same directory is refused, not mixed
    path = _quick_slice(tmp_path, "mine", "3/24")
    before = path.read_text()
    rc, err = _rc_and_error(capsys, ["sweep", "--preset", "quick", "--shard", "4/24", "--out", str(path.parent)])
    assert rc == 2 and "other settings" in err and path.read_text() == before


@pytest.mark.skipif(os.geteuid() == 0, reason="root can write anywhere")
def test_unwritable_directory(tmp_path, capsys):
    d = tmp_path / "ro"
    d.mkdir()
    d.chmod(0o500)
    rc, err = _rc_and_error(capsys, ["sweep", "--preset", "quick", "--out", str(d)])
    assert rc == 2 and "not writable" in err


def test_unwritable_location(tmp_path, capsys):
    blocker = tmp_path / "file"
    blocker.write_text("a file, not a directory")
    rc, err = _rc_and_error(capsys, ["sweep", "--preset", "quick", "--out", str(blocker / "sub")])
    assert rc == 2 and "cannot create the output directory" in err and err.count("\n") == 1


def test_help_documents_the_presets(capsys):
    with pytest.raises(SystemExit):
        main(["sweep", "--help"])
    text = capsys.readouterr().out
    for name in sweep.PRESETS:
        assert f"{name}:" in text
    assert "merge" in text and "--shard" in text


def test_report_prints_fits_and_checks(tmp_path, capsys):
    path = _quick_slice(tmp_path, "r", None, stop_after=2)  # alpha = 0.5 at m = 5 and 8, gamma = +-1
    assert main(["sweep", "report", str(path.parent), "--write"]) == 0
    text = capsys.readouterr().out
    assert "alpha_m" in text and "Science checks" in text and "| grid | power | 0.5 |" in text
    assert (path.parent / "REPORT.md").read_text() == text
    assert main(["sweep", "report", str(tmp_path / "nothing")]) == 2
    assert "does not exist" in capsys.readouterr().err
