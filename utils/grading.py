"""Grade an exercise notebook by its check cells: `python -m utils.grading NOTEBOOK`.

A check cell is a cell that nbgrader would grade (metadata `nbgrader.grade: true`, worth
`points`). The notebook runs top to bottom in a fresh kernel; a cell that raises does not
stop the run, so every check is tried. A check earns its points when its cell ran without an
error. This is what `nbgrader autograde` does, without a course directory or a database, so it
fits a GitHub Classroom workflow (`--workflow` writes one) or a plain shell loop.

    python -m utils.grading exercises/02_high_dimensions.ipynb --json grades.json
    python -m utils.grading --from grades.json --check ex2_msq_check   # exit 0 iff it passed
    python -m utils.grading --workflow exercises/02_high_dimensions.ipynb > classroom.yml
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
from dataclasses import asdict, dataclass
from pathlib import Path

import nbformat


@dataclass
class Check:
    """One graded cell and what it earned."""

    grade_id: str
    points: float
    passed: bool
    message: str  # the error's type and first line, or "" when it passed

    @property
    def score(self) -> float:
        return self.points if self.passed else 0.0


def graded_cells(nb) -> list[tuple[int, str, float]]:
    """(cell index, grade_id, points) of every graded cell, in notebook order."""
    out = []
    for i, cell in enumerate(nb.cells):
        meta = cell.get("metadata", {}).get("nbgrader", {})
        if cell.cell_type == "code" and meta.get("grade"):
            out.append((i, meta.get("grade_id", f"cell-{i}"), float(meta.get("points", 0))))
    return out


def _error(cell) -> str | None:
    """The cell's error as 'Name: first line', or None when it ran cleanly."""
    if cell.get("execution_count") is None:
        return "NotRun: the cell did not run (the kernel stopped or timed out before it)"
    for out in cell.get("outputs", []):
        if out.get("output_type") == "error":
            first = (out.get("evalue") or "").strip().splitlines()
            return f"{out.get('ename', 'Error')}: {first[0] if first else ''}".rstrip(": ")
    return None


def grade(path: str | Path, timeout: int = 600, kernel: str = "python3") -> list[Check]:
    """Run the notebook at `path` in a fresh kernel and score each graded cell."""
    from nbclient import NotebookClient
    from nbclient.exceptions import CellTimeoutError, DeadKernelError

    path = Path(path)
    if not path.is_file() or path.suffix != ".ipynb":
        raise ValueError(f"path must be an existing .ipynb notebook, got {str(path)!r}")
    if not isinstance(timeout, int) or timeout <= 0:
        raise ValueError(f"timeout must be a positive number of seconds per cell, got {timeout!r}")
    nb = nbformat.read(path, as_version=4)
    cells = graded_cells(nb)
    if not cells:
        raise ValueError(f"{path.name} has no graded cells (nbgrader metadata grade: true): nothing to grade")
    client = NotebookClient(nb, timeout=timeout, kernel_name=kernel, allow_errors=True,
                            resources={"metadata": {"path": str(path.parent.resolve())}})
    try:
        client.execute()
    except (CellTimeoutError, DeadKernelError):  # the cells that ran keep their outputs; the rest count as not run
        pass
    return [Check(gid, pts, (err := _error(nb.cells[i])) is None, err or "") for i, gid, pts in cells]


def report(checks: list[Check], name: str = "") -> str:
    """A table of the checks and the total."""
    width = max(len(c.grade_id) for c in checks)
    lines = [f"{name}" if name else ""]
    for c in checks:
        mark = "pass" if c.passed else "FAIL"
        lines.append(f"  {c.grade_id:<{width}}  {mark}  {c.score:g}/{c.points:g}  {c.message}".rstrip())
    total, most = sum(c.score for c in checks), sum(c.points for c in checks)
    lines.append(f"score {total:g} / {most:g}")
    return "\n".join(line for line in lines if line)


def write_csv(checks: list[Check], path: str | Path, student: str, notebook: str) -> None:
    """Append one row per check (student, notebook, grade_id, points, score, message) to a CSV gradebook."""
    path = Path(path)
    new = not path.exists()
    with path.open("a", newline="") as f:
        w = csv.writer(f)
        if new:
            w.writerow(["student", "notebook", "grade_id", "points", "score", "message"])
        for c in checks:
            w.writerow([student, notebook, c.grade_id, c.points, c.score, c.message])


def workflow(notebook: str | Path, install: str) -> str:
    """A GitHub Classroom workflow (.github/workflows/classroom.yml) that grades `notebook`, one test per check.

    `install` is the pip requirement that installs the course (with `utils`) on the runner.
    """
    nb = nbformat.read(notebook, as_version=4)
    cells = graded_cells(nb)
    if not cells:
        raise ValueError(f"{Path(notebook).name} has no graded cells: no workflow to write")
    name = Path(notebook).name
    steps = []
    for _, gid, pts in cells:
        sid = gid.replace("_", "-")
        steps.append(f"""      - name: {gid}
        id: {sid}
        uses: classroom-resources/autograding-command-grader@v1
        with:
          test-name: {gid}
          command: python -m utils.grading --from grades.json --check {gid}
          timeout: 1
          max-score: {pts:g}""")
    ids = [gid.replace("_", "-") for _, gid, _ in cells]
    env = "\n".join(f"          {i.upper().replace('-', '_')}_RESULTS: \"${{{{steps.{i}.outputs.result}}}}\"" for i in ids)
    return f"""# GitHub Classroom autograding for {name}, written by `python -m utils.grading --workflow`.
# Copy to .github/workflows/classroom.yml in the assignment's template repository, next to {name}.
name: Autograding Tests
on: [push, workflow_dispatch, repository_dispatch]
permissions:
  checks: write
  actions: read
  contents: read
jobs:
  run-autograding-tests:
    runs-on: ubuntu-latest
    if: github.actor != 'github-classroom[bot]'
    timeout-minutes: 30
    env:
      PIP_EXTRA_INDEX_URL: https://download.pytorch.org/whl/cpu
    steps:
      - name: Checkout
        uses: actions/checkout@v4
      - uses: actions/setup-python@v5
        with:
          python-version: "3.11"
      - name: Install the course
        run: pip install "{install}" nbclient nbformat ipykernel
      - name: Run every cell of {name} once
        run: python -m utils.grading {name} --json grades.json || true
{chr(10).join(steps)}
      - name: Autograding Reporter
        uses: classroom-resources/autograding-grading-reporter@v1
        env:
{env}
        with:
          runners: {",".join(ids)}
"""


def default_install() -> str | None:
    """The pip requirement for the course at the repository named in _config.yml (None without one)."""
    import re

    from .paths import ROOT

    config = ROOT / "_config.yml"
    if not config.exists():
        return None
    m = re.search(r"^repository:\s*\n\s+url:\s*(\S+)", config.read_text(), re.MULTILINE)
    return f"superposition-course @ git+{m.group(1)}" if m else None


def _main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m utils.grading", description=__doc__.split("\n\n")[0])
    ap.add_argument("notebook", nargs="?", help="the learner's exercise notebook (.ipynb)")
    ap.add_argument("--json", metavar="FILE", help="also write the checks to FILE as JSON")
    ap.add_argument("--csv", metavar="FILE", help="append the checks to a CSV gradebook (with --student)")
    ap.add_argument("--student", default="", help="the learner's name or id, for --csv")
    ap.add_argument("--from", dest="from_json", metavar="FILE", help="read checks from a --json FILE instead of running")
    ap.add_argument("--check", metavar="GRADE_ID", help="exit 0 only if this check passed (default: all checks)")
    ap.add_argument("--timeout", type=int, default=600, help="seconds per cell (default 600)")
    ap.add_argument("--workflow", metavar="NOTEBOOK", help="print a GitHub Classroom workflow for NOTEBOOK and exit")
    ap.add_argument("--install", default=default_install(),
                    help="pip requirement the workflow installs the course with (default: the repository "
                         "named in _config.yml)")
    a = ap.parse_args(argv)
    try:
        if a.workflow:
            if not a.install:
                raise ValueError("--install is needed: no _config.yml names the course's repository here")
            print(workflow(a.workflow, a.install), end="")
            return 0
        if a.from_json:
            checks = [Check(**c) for c in json.loads(Path(a.from_json).read_text())["checks"]]
            name = a.from_json
        elif a.notebook:
            checks, name = grade(a.notebook, a.timeout), a.notebook
        else:
            ap.error("give a NOTEBOOK to run, --from FILE, or --workflow NOTEBOOK")
        if a.json:
            Path(a.json).write_text(json.dumps({"notebook": name, "checks": [asdict(c) for c in checks]}, indent=1))
        if a.csv:
            write_csv(checks, a.csv, a.student, Path(name).name)
        if a.check:
            chosen = [c for c in checks if c.grade_id == a.check]
            if not chosen:
                raise ValueError(f"--check must be one of {', '.join(c.grade_id for c in checks)}, got {a.check!r}")
            checks = chosen
        print(report(checks, name))
        return 0 if all(c.passed for c in checks) else 1
    except (ValueError, OSError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(_main())
