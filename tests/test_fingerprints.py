"""The figure fingerprint check: substance fails, cosmetics pass, and the flags behave."""

import json
import warnings

import matplotlib.pyplot as plt
import numpy as np
import pytest

from utils import checks


def _figure(shift=1.0, lines=2, color="C0", lw=1.5):
    fig, ax = plt.subplots()
    x = np.arange(1, 51)
    for k in range(lines):
        ax.plot(x, shift * (k + 1) / x, color=color, lw=lw)
    ax.set_xlabel("width m")
    ax.set_ylabel("loss")
    ax.set_yscale("log")
    plt.close(fig)
    return fig


@pytest.fixture
def stored(tmp_path, monkeypatch):
    monkeypatch.setattr(checks, "FINGERPRINTS", tmp_path)
    (tmp_path / "demo.json").write_text(json.dumps(checks.fingerprint(_figure())))
    monkeypatch.setenv("COURSE_STRICT_FIGURES", "1")
    return tmp_path


def test_same_figure_passes_and_cosmetics_do_not_matter(stored):
    checks.check_figure(_figure(), "demo")
    checks.check_figure(_figure(color="red", lw=3), "demo")
    checks.check_figure(_figure(shift=1.005), "demo")  # a rounding-sized change


def test_curve_shifted_by_five_percent_fails(stored):
    with pytest.raises(AssertionError, match="differs"):
        checks.check_figure(_figure(shift=1.05), "demo")


def test_missing_line_fails(stored):
    with pytest.raises(AssertionError, match="1 lines, expected 2"):
        checks.check_figure(_figure(lines=1), "demo")


def test_changed_label_or_scale_fails(stored):
    fig = _figure()
    fig.axes[0].set_yscale("linear")
    with pytest.raises(AssertionError, match="yscale"):
        checks.check_figure(fig, "demo")


def test_outside_strict_mode_a_difference_only_warns(stored, monkeypatch):
    monkeypatch.delenv("COURSE_STRICT_FIGURES")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        checks.check_figure(_figure(shift=1.2), "demo")
    assert any("differs" in str(w.message) for w in caught)


def test_missing_expectation_fails_in_strict_mode(stored):
    with pytest.raises(AssertionError, match="make fingerprints"):
        checks.check_figure(_figure(), "never_recorded")


def test_update_is_explicit(stored, monkeypatch):
    monkeypatch.setenv("COURSE_UPDATE_FINGERPRINTS", "1")
    checks.check_figure(_figure(shift=2.0), "demo")
    monkeypatch.delenv("COURSE_UPDATE_FINGERPRINTS")
    checks.check_figure(_figure(shift=2.0), "demo")
    with pytest.raises(AssertionError):
        checks.check_figure(_figure(), "demo")


def test_images_are_fingerprinted_by_their_values(stored, monkeypatch):
    fig, ax = plt.subplots()
    ax.imshow(np.eye(5))
    plt.close(fig)
    base = checks.fingerprint(fig)
    fig2, ax2 = plt.subplots()
    ax2.imshow(np.eye(5) * 1.1)
    plt.close(fig2)
    assert checks.compare_fingerprints(base, checks.fingerprint(fig2))
    assert not checks.compare_fingerprints(base, checks.fingerprint(fig))
