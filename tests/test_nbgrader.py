"""Grading with the real nbgrader: solutions/ is a valid nbgrader source, untouched.

`nbgrader generate_assignment` on solutions/ gives the learner notebooks (the same code as exercises/),
`nbgrader autograde` gives the reference solutions full marks and the unsolved notebooks zero.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from utils.paths import EXERCISES, SOLUTIONS

NOTEBOOKS = sorted(SOLUTIONS.glob("*.ipynb"))
BIN = Path(sys.executable).parent


def _nbgrader(course: Path, *args: str) -> None:
    env = dict(os.environ, PATH=f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}", COURSE_QUIET="1")
    proc = subprocess.run([str(BIN / "nbgrader"), *args, "--force"], cwd=course, env=env,
                          capture_output=True, text=True, timeout=1200)
    assert proc.returncode == 0, f"nbgrader {' '.join(args)} failed:\n{proc.stderr[-4000:]}"


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    """A course directory: every solutions notebook as assignment `ps`, released, and submitted twice:
    by `reference` (the solutions) and by `blank` (the released notebooks, nothing filled in)."""
    root = tmp_path_factory.mktemp("nbgrader")
    (root / "nbgrader_config.py").write_text(
        f"c = get_config()\nc.CourseDirectory.course_id = 'superposition'\nc.CourseDirectory.root = {str(root)!r}\n"
        "c.ExecutePreprocessor.timeout = 300\n")
    source = root / "source" / "ps"
    source.mkdir(parents=True)
    for nb in NOTEBOOKS:
        shutil.copy(nb, source / nb.name)
    _nbgrader(root, "generate_assignment", "ps")
    for student, folder in (("reference", source), ("blank", root / "release" / "ps")):
        (root / "submitted" / student / "ps").mkdir(parents=True)
        for nb in NOTEBOOKS:
            shutil.copy(folder / nb.name, root / "submitted" / student / "ps" / nb.name)
    _nbgrader(root, "autograde", "ps")
    return root


def _code(path: Path) -> list[str]:
    return [c.source for c in nbformat.read(path, as_version=4).cells if c.cell_type == "code"]


@pytest.mark.slow
def test_generate_assignment_gives_the_learner_notebooks(course):
    for nb in NOTEBOOKS:
        released = course / "release" / "ps" / nb.name
        assert _code(released) == _code(EXERCISES / nb.name), f"{nb.name}: nbgrader's release differs from exercises/"
        assert "### BEGIN SOLUTION" not in released.read_text()


def _scores(course: Path) -> dict[str, dict[str, tuple[float, float]]]:
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gb:
        return {student: {nb.name: (gb.find_submission_notebook(nb.stem, "ps", student).score,
                                    gb.find_submission_notebook(nb.stem, "ps", student).max_score)
                          for nb in NOTEBOOKS}
                for student in ("reference", "blank")}


@pytest.mark.slow
def test_autograde_gives_full_marks_to_the_solutions_and_zero_to_blank_notebooks(course):
    scores = _scores(course)
    for name, (score, max_score) in scores["reference"].items():
        assert max_score >= 4, f"{name}: at least four graded exercises expected, found {max_score}"
        assert score == max_score, f"{name}: the reference solution scored {score} of {max_score}"
    for name, (score, max_score) in scores["blank"].items():
        assert score == 0, f"{name}: an unsolved notebook scored {score} of {max_score}"
