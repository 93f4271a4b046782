"""Grading without nbgrader (utils.grading) and the GitHub Classroom template (classroom/classroom.yml)."""

from __future__ import annotations

import csv
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
import yaml

from utils import grading
from utils.paths import EXERCISES, ROOT, SOLUTIONS

NAME = "02_high_dimensions.ipynb"
TEMPLATE = ROOT / "classroom" / "classroom.yml"


def _steps() -> list[dict]:
    return yaml.safe_load(TEMPLATE.read_text())["jobs"]["run-autograding-tests"]["steps"]


def test_the_template_is_what_the_workflow_command_writes_today():
    assert TEMPLATE.read_text() == grading.workflow(EXERCISES / NAME, grading.default_install()), \
        "classroom/classroom.yml is stale: python -m utils.grading --workflow exercises/02_high_dimensions.ipynb"


def test_the_template_has_one_classroom_test_per_check_cell():
    steps = _steps()
    tests = [s for s in steps if "autograding-command-grader" in s.get("uses", "")]
    cells = grading.graded_cells(nbformat.read(EXERCISES / NAME, as_version=4))
    assert [t["with"]["test-name"] for t in tests] == [gid for _, gid, _ in cells]
    assert [t["with"]["max-score"] for t in tests] == [pts for _, _, pts in cells]
    reporter = steps[-1]
    assert "grading-reporter" in reporter["uses"]
    assert reporter["with"]["runners"].split(",") == [t["id"] for t in tests]
    assert set(reporter["env"]) == {t["id"].upper().replace("-", "_") + "_RESULTS" for t in tests}


def _classroom_score(notebook: Path, tmp_path: Path) -> tuple[float, float]:
    """Run the template's commands (the run step, then each test) on `notebook`, as the runner would."""
    shutil.copy(notebook, tmp_path / NAME)
    run = next(s["run"] for s in _steps() if str(s.get("run", "")).startswith("python -m utils.grading"))
    env_py = [sys.executable if w == "python" else w for w in shlex.split(run.replace("|| true", ""))]
    subprocess.run(env_py, cwd=tmp_path, capture_output=True, text=True, timeout=600)
    score = most = 0.0
    for t in (s for s in _steps() if "autograding-command-grader" in s.get("uses", "")):
        cmd = [sys.executable if w == "python" else w for w in shlex.split(t["with"]["command"])]
        proc = subprocess.run(cmd, cwd=tmp_path, capture_output=True, text=True, timeout=60)
        most += t["with"]["max-score"]
        score += t["with"]["max-score"] if proc.returncode == 0 else 0
    return score, most


@pytest.mark.slow
def test_classroom_commands_give_full_marks_to_the_solutions_and_zero_to_the_blank_notebook(tmp_path):
    (tmp_path / "solved").mkdir()
    (tmp_path / "blank").mkdir()
    solved, most = _classroom_score(SOLUTIONS / NAME, tmp_path / "solved")
    blank, _ = _classroom_score(EXERCISES / NAME, tmp_path / "blank")
    assert most >= 4
    assert solved == most, f"the worked solutions scored {solved} of {most}"
    assert blank == 0, f"the unsolved notebook scored {blank} of {most}"


@pytest.mark.slow
def test_grade_names_the_failing_check_and_writes_a_gradebook(tmp_path):
    nb = nbformat.read(SOLUTIONS / NAME, as_version=4)
    # break one answer: the Welch bound returned upside down
    for cell in nb.cells:
        if cell.get("metadata", {}).get("nbgrader", {}).get("grade_id") == "ex2_welch":
            cell.source = cell.source.replace("### BEGIN SOLUTION", "### BEGIN SOLUTION\n    return 1.0")
    path = tmp_path / NAME
    nbformat.write(nb, path)
    checks = grading.grade(path)
    by_id = {c.grade_id: c for c in checks}
    assert not by_id["ex2_welch_check"].passed and "AssertionError" in by_id["ex2_welch_check"].message
    assert all(c.passed for gid, c in by_id.items() if gid != "ex2_welch_check")
    grading.write_csv(checks, tmp_path / "grades.csv", "alice", NAME)
    rows = list(csv.DictReader((tmp_path / "grades.csv").open()))
    assert [r["grade_id"] for r in rows] == [c.grade_id for c in checks]
    assert sum(float(r["score"]) for r in rows) == len(checks) - 1


def test_bad_input_names_the_argument(tmp_path):
    with pytest.raises(ValueError, match="path must be an existing .ipynb"):
        grading.grade(tmp_path / "missing.ipynb")
    with pytest.raises(ValueError, match="timeout must be a positive"):
        grading.grade(SOLUTIONS / NAME, timeout=0)
    empty = tmp_path / "empty.ipynb"
    nbformat.write(nbformat.v4.new_notebook(), empty)
    with pytest.raises(ValueError, match="no graded cells"):
        grading.grade(empty)
