"""Explorers (live and kernel-free) and the command line."""

import re
import subprocess
import sys

import matplotlib.pyplot as plt
import pytest

from utils import widgets
from utils.paths import ROOT


def _render(gamma, m=10):
    fig, ax = plt.subplots(figsize=(2, 2))
    ax.plot([0, 1], [gamma * 10, m])
    ax.set_ylim(-25, 45)
    plt.close(fig)
    return fig


def test_static_explorer_has_one_distinct_frame_per_choice(monkeypatch):
    monkeypatch.setenv("COURSE_STATIC_EXPLORERS", "1")
    ex = widgets.explore(_render, alt=lambda gamma, m: f"line of slope {gamma * m}",
                         gamma=[-1.0, -0.5, 0.5, 1.0, 2.0], m=[10, 20])
    html = ex._repr_html_()
    assert len(ex.frames) == 10 and len(set(ex.frames.values())) == 10
    assert html.count('type="range"') == 2
    assert "<script>" in html and 'alt="line of slope' in html
    assert not re.search(r"https?://", html)


def test_live_explorer_is_an_ipywidget(monkeypatch):
    monkeypatch.delenv("COURSE_STATIC_EXPLORERS", raising=False)
    box = widgets.explore(_render, gamma=[-1.0, 1.0])
    assert type(box).__name__ == "VBox"


@pytest.mark.parametrize("kwargs, message", [
    (dict(), "at least one setting"),
    (dict(gamma=[1.0]), "gamma"),
    (dict(gamma=list(range(100))), "too many"),
])
def test_explorer_bad_input(kwargs, message):
    with pytest.raises(ValueError, match=message):
        widgets.explore(_render, **kwargs)


def _cli(*args):
    return subprocess.run([sys.executable, "-m", "utils", *args], cwd=ROOT, capture_output=True, text=True)


def test_cli_help_lists_bench():
    out = _cli("--help")
    assert out.returncode == 0 and "bench" in out.stdout
    out = _cli("bench", "--help")
    assert out.returncode == 0 and "--preset" in out.stdout


def test_cli_rejects_unknown_preset_in_one_line():
    out = _cli("bench", "--preset", "huge")
    assert out.returncode != 0 and "invalid choice" in out.stderr


@pytest.mark.slow
def test_bench_quick_reports_a_speedup_line():
    out = _cli("bench", "--preset", "quick", "--quiet")
    assert out.returncode == 0, out.stderr
    last = out.stdout.strip().splitlines()[-1]
    match = re.fullmatch(r"speedup (\S+) flop_fraction (\S+)", last)
    assert match, last
    speedup, fraction = map(float, match.groups())
    assert speedup > 1.0 and fraction > 0
    # the nominal fraction counts work the trainer skips, so it may pass 1; the work it does cannot beat the peak
    actual = float(re.search(r"a fraction (\S+) of the measured peak", out.stdout).group(1))
    assert 0 < actual < 1.2 and actual < fraction
