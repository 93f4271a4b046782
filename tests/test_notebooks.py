"""Notebook hygiene: stored without outputs, exercises generated and in sync, unsolved exercises explain themselves."""

from __future__ import annotations

import ast

import nbformat
import pytest

from utils import exercises
from utils.paths import CHAPTERS, EXERCISES, ROOT, SOLUTIONS

NOTEBOOKS = sorted(CHAPTERS.glob("*.ipynb")) + sorted(SOLUTIONS.glob("*.ipynb")) + sorted(EXERCISES.glob("*.ipynb"))
SOLUTION_NOTEBOOKS = sorted(SOLUTIONS.glob("*.ipynb"))


def test_there_are_notebooks():
    assert NOTEBOOKS and SOLUTION_NOTEBOOKS


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: str(p.relative_to(ROOT)))
def test_stored_without_outputs(path):
    nb = nbformat.read(path, as_version=4)
    for cell in nb.cells:
        if cell.cell_type == "code":
            assert not cell.outputs, f"{path.name}: a cell has stored outputs (clear them before committing)"
            assert cell.execution_count is None, f"{path.name}: a cell has an execution count"
            assert "%pip" not in cell.source and "!pip" not in cell.source, f"{path.name}: no pip cells"


def test_exercises_are_up_to_date():
    stale = exercises.generate_all(check=True)
    assert not stale, f"exercises/ is stale for {stale}: run `make exercises`"


def _functions(nb) -> dict[str, list[str]]:
    """name -> argument names of every function defined in the notebook's code cells."""
    found = {}
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        try:
            tree = ast.parse(cell.source)
        except SyntaxError:
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef):
                found[node.name] = [a.arg for a in node.args.args]
    return found


@pytest.mark.parametrize("source", SOLUTION_NOTEBOOKS, ids=lambda p: p.name)
def test_stubs_keep_the_solution_signatures(source):
    solved = nbformat.read(source, as_version=4)
    stub = nbformat.read(EXERCISES / source.name, as_version=4)
    assert _functions(stub) == _functions(solved)
    graded = [c for c in solved.cells if c.metadata.get("nbgrader", {}).get("solution")]
    assert graded, "solution cells must carry nbgrader metadata"
    for cell in graded:
        assert "### BEGIN SOLUTION" in cell.source and "### END SOLUTION" in cell.source
    for cell in stub.cells:
        assert "BEGIN SOLUTION" not in cell.source, "a solution leaked into exercises/"


def _names(cell) -> tuple[set[str], set[str]]:
    """The names a code cell reads and the names it assigns (variables, functions, classes)."""
    try:
        nodes = list(ast.walk(ast.parse(cell.source)))
    except SyntaxError:
        return set(), set()
    read = {n.id for n in nodes if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}
    written = {n.id for n in nodes if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}
    written |= {n.name for n in nodes if isinstance(n, (ast.FunctionDef, ast.ClassDef))}
    return read, written


def _cells_that_may_raise(nb):
    """The cells an unsolved notebook cannot run: the graded self-checks, the answer stubs, the cells that
    call a stub (`callers`), and the cells that read what a stub or caller left undefined (`downstream`)."""
    code = [c for c in nb.cells if c.cell_type == "code"]
    checks = [c for c in code if c.metadata.get("nbgrader", {}).get("grade")]
    stubs = [c for c in code if c.metadata.get("nbgrader", {}).get("solution") and c not in checks]
    unsolved = set(_functions(nbformat.v4.new_notebook(cells=stubs)))
    tainted, callers, downstream = set(), [], []
    for cell in code:  # in order: a cell is affected by the cells above it
        if cell in checks or cell in stubs:
            continue
        read, written = _names(cell)
        if read & tainted:
            downstream.append(cell)
        elif read & unsolved:
            callers.append(cell)
        else:
            continue
        tainted |= written
    return checks, stubs, callers, downstream


@pytest.mark.notebooks
@pytest.mark.parametrize("path", sorted(EXERCISES.glob("*.ipynb")), ids=lambda p: p.name)
def test_unsolved_exercises_fail_their_checks_helpfully(path):
    """Run the learner's notebook as given: every self-check fails with 'not implemented yet'; the answer
    stubs and the cells that call them may raise NotImplementedError and nothing else, the cells reading
    their missing results may fail; every other cell runs without error (only the cells that must raise
    carry nbclient's raises-exception tag, never the whole notebook; solutions/ runs every cell under nbval)."""
    from nbclient import NotebookClient

    nb = nbformat.read(path, as_version=4)
    checks, stubs, callers, downstream = _cells_that_may_raise(nb)
    assert checks, "exercise notebooks need graded self-check cells"
    for cell in checks + stubs + callers + downstream:
        cell.metadata.setdefault("tags", []).append("raises-exception")
    NotebookClient(nb, timeout=120, kernel_name="python3",
                   resources={"metadata": {"path": str(path.parent)}}).execute()
    for cell in checks:
        errors = [o for o in cell.outputs if o.output_type == "error"]
        assert errors, f"a self-check passed on an unsolved notebook: {cell.source!r}"
        assert errors[0].ename == "AssertionError" and "not implemented yet" in errors[0].evalue, \
            f"{errors[0].ename}: {errors[0].evalue} in {cell.source!r}"
    for cell in stubs + callers:
        wrong = [e.ename for e in cell.outputs if e.output_type == "error" and e.ename != "NotImplementedError"]
        assert not wrong, f"an unsolved exercise's cell failed with {wrong}, not NotImplementedError: {cell.source!r}"
