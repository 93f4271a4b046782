"""Shared test set-up: quiet progress bars, a per-notebook timing summary, the browser's versions in the
report header, and under CI (the CI variable set, as .ci/run and GitHub Actions do) a skip is a failure
unless it is a limit of the platform."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections import defaultdict
from functools import lru_cache
from importlib import metadata
from pathlib import Path

import matplotlib
import pytest

matplotlib.use("Agg")
os.environ.setdefault("COURSE_QUIET", "1")

_NOTEBOOK_SECONDS: dict[str, float] = defaultdict(float)
_BROWSER_TESTS_RAN: list[str] = []


def pytest_runtest_logreport(report):
    """Add up the time of every nbval cell item per notebook."""
    path = report.nodeid.split("::")[0]
    if path.endswith(".ipynb") and report.when == "call":
        _NOTEBOOK_SECONDS[path] += report.duration
    if Path(path).name == "test_browser.py" and report.when == "call":
        _BROWSER_TESTS_RAN.append(report.nodeid)


def pytest_terminal_summary(terminalreporter):
    """Print the browser's versions when browser tests ran, and each executed notebook's total time, so
    a slow one is seen, not guessed."""
    if _BROWSER_TESTS_RAN:
        terminalreporter.section("browser")
        terminalreporter.write_line(f"{len(_BROWSER_TESTS_RAN)} browser tests ran with {_browser_versions()}")
    if not _NOTEBOOK_SECONDS:
        return
    terminalreporter.section("notebook execution times (budget 60 s each)")
    for path, seconds in sorted(_NOTEBOOK_SECONDS.items()):
        flag = "  <-- over budget" if seconds > 60 else ""
        terminalreporter.write_line(f"{seconds:6.1f} s  {Path(path)}{flag}")


# ---- the browser the tests ran with

@lru_cache(maxsize=1)
def _browser_versions() -> str:
    return f"chromium {_chromium_version()}, playwright {_playwright_version()}"


def _chromium_version() -> str:
    """`chromium --version` of the browser tests/test_browser.py drives ($COURSE_CHROMIUM or PATH)."""
    binary = os.environ.get("COURSE_CHROMIUM") or next(
        (shutil.which(n) for n in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
         if shutil.which(n)), None)
    if not binary:
        return "not found"
    try:
        out = subprocess.run([binary, "--version"], capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.SubprocessError) as e:
        return f"{binary}: cannot run ({e})"
    lines = [line for line in out.stdout.splitlines() if line.strip()]
    return f"{lines[-1].strip() if lines else 'no version printed'} ({binary})"


def _playwright_version() -> str:
    try:
        return metadata.version("playwright")
    except metadata.PackageNotFoundError:
        return "not installed"


def pytest_report_header(config):
    """Record which browser and Playwright the site was tested with (first lines of every report)."""
    return [f"browser tests: {_browser_versions()}"]


# ---- under CI a skip is a failure, unless the platform cannot run the test at all

#: skip reasons that are limits of the machine, not of the set-up: allowed under CI too
PLATFORM_LIMITS = ("no CUDA", "root can write anywhere")


def in_ci() -> bool:
    """Is this a CI run? CI set to anything but empty, 0 or false (GitHub Actions sets CI=true, .ci/run CI=1)."""
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false")


def _skip_reason(report) -> str:
    return report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)


def _fail_skip_in_ci(report, what: str) -> None:
    reason = _skip_reason(report)
    if report.skipped and not hasattr(report, "wasxfail") and in_ci() \
            and not any(limit in reason for limit in PLATFORM_LIMITS):
        report.outcome = "failed"
        report.longrepr = (f"{what} skipped under CI, where only platform limits ({', '.join(PLATFORM_LIMITS)}) "
                           f"may skip: {reason}")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    _fail_skip_in_ci(outcome.get_result(), "test")


@pytest.hookimpl(hookwrapper=True)
def pytest_make_collect_report(collector):
    outcome = yield
    _fail_skip_in_ci(outcome.get_result(), "module")
