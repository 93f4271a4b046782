"""Generate exercises/ from solutions/ with nbgrader's own ClearSolutions preprocessor.

solutions/NN_name.ipynb is the single source. Code between `### BEGIN SOLUTION`
and `### END SOLUTION` becomes a stub that raises NotImplementedError; outputs
are cleared. Nothing in exercises/ is edited by hand.
"""

from __future__ import annotations

from pathlib import Path

import nbformat

from .paths import EXERCISES, SOLUTIONS


def make_exercise(source: Path) -> str:
    """The learner's version of one solutions notebook, as notebook JSON text."""
    from nbgrader.preprocessors import ClearSolutions

    nb = nbformat.read(source, as_version=4)
    nb, _ = ClearSolutions(enforce_metadata=False).preprocess(nb, {})
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs = []
            cell.execution_count = None
    return nbformat.writes(nb) + "\n"


def generate_all(check: bool = False) -> list[str]:
    """Write (or, with check=True, only compare) every exercise; return the names that were stale."""
    stale = []
    EXERCISES.mkdir(exist_ok=True)
    for source in sorted(SOLUTIONS.glob("*.ipynb")):
        target = EXERCISES / source.name
        text = make_exercise(source)
        if not target.exists() or target.read_text() != text:
            stale.append(source.name)
            if not check:
                target.write_text(text)
    return stale
