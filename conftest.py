"""Shared test set-up: quiet progress bars, and a per-notebook timing summary."""

from __future__ import annotations

import os
from collections import defaultdict
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
os.environ.setdefault("COURSE_QUIET", "1")

_NOTEBOOK_SECONDS: dict[str, float] = defaultdict(float)


def pytest_runtest_logreport(report):
    """Add up the time of every nbval cell item per notebook."""
    path = report.nodeid.split("::")[0]
    if path.endswith(".ipynb") and report.when == "call":
        _NOTEBOOK_SECONDS[path] += report.duration


def pytest_terminal_summary(terminalreporter):
    """Print each executed notebook's total time, so a slow one is seen, not guessed."""
    if not _NOTEBOOK_SECONDS:
        return
    terminalreporter.section("notebook execution times (budget 60 s each)")
    for path, seconds in sorted(_NOTEBOOK_SECONDS.items()):
        flag = "  <-- over budget" if seconds > 60 else ""
        terminalreporter.write_line(f"{seconds:6.1f} s  {Path(path)}{flag}")
