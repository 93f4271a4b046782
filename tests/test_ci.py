"""The GitHub Actions workflows: valid YAML, the README's test commands, actions pinned by commit."""

from __future__ import annotations

import re

import pytest
import yaml

from utils.paths import ROOT

WORKFLOWS = ROOT / ".github" / "workflows"
PINNED = re.compile(r"^\s*(?:-\s*)?uses:\s*([\w.-]+/[\w./-]+)@([0-9a-f]{40})\s+#\s*v\d+(?:\.\d+)*\s*$")


def _load(name: str) -> dict:
    return yaml.safe_load((WORKFLOWS / name).read_text())


def _triggers(workflow: dict) -> dict:
    # YAML 1.1 reads the bare key `on` as True
    on = workflow.get("on", workflow.get(True))
    return {on: None} if isinstance(on, str) else {k: None for k in on} if isinstance(on, list) else on


def _runs(job: dict) -> list[str]:
    return [line.strip() for step in job.get("steps", []) for line in step.get("run", "").splitlines()
            if line.strip()]


def _readme_commands() -> set[str]:
    """The make commands the README names for testing."""
    readme = (ROOT / "README.md").read_text()
    return set(re.findall(r"`?(make test(?:-fast)?)\b", readme))


def _job_running(workflow: dict, command: str) -> tuple[str, dict]:
    found = [(name, job) for name, job in workflow["jobs"].items() if command in _runs(job)]
    assert len(found) == 1, f"exactly one job must run `{command}`, found {[n for n, _ in found]}"
    return found[0]


def test_ci_runs_the_readmes_commands_on_push_pull_request_and_schedule():
    assert {"make test", "make test-fast"} <= _readme_commands()
    ci = _load("ci.yml")
    triggers = _triggers(ci)
    assert {"push", "pull_request", "schedule"} <= set(triggers)
    assert "branches" not in (triggers["push"] or {}), "every push is tested, on any branch"
    assert triggers["schedule"] and all("cron" in s for s in triggers["schedule"])
    _, fast = _job_running(ci, "make test-fast")
    assert "push" in fast["if"] and "pull_request" in fast["if"]
    _, full = _job_running(ci, "make test")
    assert "schedule" in full["if"]
    # the full run has the browser: Debian's chromium, installed before make test (or by make chromium)
    setup = " ".join(_runs(full))
    assert "chromium" in setup and full.get("container", "").startswith("debian")
    commands = {c for job in ci["jobs"].values() for c in _runs(job) if c.startswith("make ")}
    assert commands <= _readme_commands(), f"CI runs make commands the README does not name: {commands}"


def test_the_pages_workflow_builds_with_make_book():
    pages = _load("pages.yml")
    assert "push" in _triggers(pages)
    _job_running(pages, "make book")


@pytest.mark.parametrize("path", sorted(WORKFLOWS.glob("*.yml")), ids=lambda p: p.name)
def test_every_action_is_pinned_by_commit_with_its_version(path):
    lines = [line for line in path.read_text().splitlines() if re.match(r"^\s*(-\s*)?uses:", line)]
    assert lines, f"{path.name} uses no action"
    loose = [line.strip() for line in lines if not PINNED.match(line)]
    assert not loose, f"{path.name}: pin each action by its full commit SHA with a '# vX.Y.Z' comment: {loose}"


def test_ci_detection_matches_conftest(monkeypatch):
    """GitHub Actions sets CI=true and .ci/run CI=1: both count as CI for conftest's skip rule."""
    import conftest

    for value, ci in [("true", True), ("1", True), ("", False), ("0", False), ("false", False)]:
        monkeypatch.setenv("CI", value)
        assert conftest.in_ci() is ci
    assert 'export CI="${CI:-1}"' in (ROOT / ".ci" / "run").read_text()
