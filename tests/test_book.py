"""The website builds with warnings as errors, every notebook executed, and references nothing off the site."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from html.parser import HTMLParser

import pytest

from utils.paths import ROOT

HTML = ROOT / "_build" / "html"


class _Refs(HTMLParser):
    """Collect every URL a page loads as a script, style, font, image or frame."""

    def __init__(self):
        super().__init__()
        self.loads: list[str] = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag in ("script", "img", "iframe", "source") and a.get("src"):
            self.loads.append(a["src"])
        if tag == "link" and a.get("href") and (a.get("rel") or "") in ("stylesheet", "preload", "icon", "modulepreload"):
            self.loads.append(a["href"])


@pytest.fixture(scope="module")
def site():
    env = dict(os.environ, COURSE_STRICT_FIGURES="1", COURSE_STATIC_EXPLORERS="1", COURSE_QUIET="1")
    proc = subprocess.run([sys.executable, str(ROOT / "scripts" / "build_book.py")], env=env,
                          capture_output=True, text=True, timeout=1200)
    assert proc.returncode == 0, "book build failed (warnings are errors):\n" + (proc.stdout + proc.stderr)[-8000:]
    return HTML


@pytest.mark.book
def test_every_page_built(site):
    for page in ("index.html", "intro.html", "chapters/03_toy_model.html", "appendix/notation.html",
                 "appendix/bibliography.html", "solutions/03_toy_model.html"):
        assert (site / page).exists(), page


@pytest.mark.book
def test_no_page_loads_anything_from_another_host(site):
    offenders = []
    for page in site.rglob("*.html"):
        refs = _Refs()
        refs.feed(page.read_text(errors="replace"))
        offenders += [f"{page.relative_to(site)}: {u}" for u in refs.loads if re.match(r"^(https?:)?//", u)]
        css_urls = re.findall(r"@import\s+url\((['\"]?)(https?:)?//", page.read_text(errors="replace"))
        offenders += [f"{page.relative_to(site)}: css import"] * len(css_urls)
    for css in site.rglob("*.css"):
        if re.search(r"url\((['\"]?)(https?:)?//", css.read_text(errors="replace")):
            offenders.append(f"{css.relative_to(site)}: url() to another host")
    assert not offenders, "\n".join(offenders[:20])


@pytest.mark.book
def test_math_and_widgets_come_from_the_vendored_copies(site):
    page = (site / "chapters" / "03_toy_model.html").read_text()
    assert re.search(r'src="[^"]*_vendor/mathjax/tex-chtml\.js', page) or "tex-chtml.js" in page
    assert (site / "_static").exists()


@pytest.mark.book
def test_chapter_explorer_is_kernel_free_with_enough_positions(site):
    page = (site / "chapters" / "03_toy_model.html").read_text()
    assert 'class="course-explorer"' in page
    maxes = [int(v) for v in re.findall(r'type="range"[^>]*max="(\d+)"', page)]
    assert maxes and all(v + 1 >= 5 for v in maxes), "every explorer control needs at least 5 positions"


@pytest.mark.book
def test_instructors_can_build_without_solutions(tmp_path):
    env = dict(os.environ, COURSE_STRICT_FIGURES="1", COURSE_STATIC_EXPLORERS="1", COURSE_QUIET="1")
    proc = subprocess.run([sys.executable, str(ROOT / "scripts" / "build_book.py"), "--no-solutions",
                           "--out", str(tmp_path)], env=env, capture_output=True, text=True, timeout=1200)
    assert proc.returncode == 0, (proc.stdout + proc.stderr)[-8000:]
    html = tmp_path / "_build" / "html"
    assert (html / "chapters" / "03_toy_model.html").exists()
    assert not (html / "solutions").exists()
    assert "solutions/03_toy_model" not in (html / "intro.html").read_text()
