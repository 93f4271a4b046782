"""The published website in a real browser: offline, without a kernel, accessible, light.

Every page of the built site (_build/html, whatever _toc.yml lists) is served
from 127.0.0.1 and loaded once in Debian's Chromium driven by Playwright (the
launch flags are DESIGN.md's). Every request that would leave the host is
recorded and aborted. From that one visit per page the tests below check:
math rendered, every image loaded and described, no console error, no request
off the host, headings in order, a skip link for the keyboard, every solution
or answer toggle opens from the keyboard, every explorer control has at least
5 positions and each step changes the picture, exercises link to their
notebooks, launch buttons follow `repository: url:` in _config.yml, the home
page says what the course teaches and for whom, and page weight. A screenshot
of each page's first screen goes to _build/screenshots/ for review, and the
sizes to _build/screenshots/page-weights.txt.

Chromium: $COURSE_CHROMIUM, else `chromium` (or chromium-browser, google-chrome)
on PATH; `make test` installs Debian's `chromium` with apt-get when it can.
Without a browser or Playwright these tests are skipped with a one-line reason,
except in CI (the CI environment variable is set), where they fail.
"""

from __future__ import annotations

import gzip
import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest
import yaml

from utils.paths import ROOT

pytestmark = pytest.mark.book

# COURSE_SITE_HTML: test a site built elsewhere (e.g. `make book SOLUTIONS=0`, a CI artifact) as it is
HTML = Path(os.environ.get("COURSE_SITE_HTML") or ROOT / "_build" / "html").resolve()
SHOTS = ROOT / "_build" / "screenshots"
BUILT_STAMP = ROOT / "_build" / ".browser-tests-built"
# what the book is built from (utils/ is left out: jupyter-cache re-executes on code-cell changes only)
SOURCES = ["_config.yml", "_toc.yml", "intro.md", "references.bib", "chapters/*.ipynb", "solutions/*.ipynb",
           "appendix/**/*", "_vendor/**/*", "_static_site/**/*"]
MAX_PAGE_BYTES = 3_000_000       # a page with its images (HTML, inline frames, <img> files)
MAX_FIRST_VISIT_BYTES = 3_000_000  # everything a first visit downloads, gzip-compressed as GitHub Pages serves it
MIN_POSITIONS = 5
MIN_FIGURE_ALT = 40              # characters: enough to name the axes and the takeaway
VIEWPORT = {"width": 1280, "height": 800}
TIMEOUT_MS = 30_000
HOW_TO_GET = ("browser tests need Chromium and Playwright: run `make chromium` "
              "(sudo apt-get install chromium) and `make setup`, or set COURSE_CHROMIUM=/path/to/chromium")

_spec = importlib.util.spec_from_file_location("check_site_offline", ROOT / "scripts" / "check_site_offline.py")
offline = sys.modules.setdefault("check_site_offline", importlib.util.module_from_spec(_spec))
_spec.loader.exec_module(offline)  # its local server, launch flags and "is this URL local?"


def _unavailable(reason: str):
    """Skip with a one-line reason; in CI, fail instead."""
    if os.environ.get("CI"):
        pytest.fail(f"{reason} (CI is set, so this is a failure, not a skip)", pytrace=False)
    pytest.skip(reason)


def _chromium() -> str | None:
    """The Chromium binary to drive: $COURSE_CHROMIUM, else the first on PATH."""
    if os.environ.get("COURSE_CHROMIUM"):
        return os.environ["COURSE_CHROMIUM"]
    for name in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable"):
        if shutil.which(name):
            return shutil.which(name)
    return None


def _missing() -> str | None:
    """Why the browser tests cannot run here, or None."""
    if importlib.util.find_spec("playwright") is None:
        return f"Playwright is not installed; {HOW_TO_GET}"
    if not _chromium():
        return f"no Chromium found; {HOW_TO_GET}"
    return None


if _missing() and not os.environ.get("CI"):  # one line for the whole module; in CI the fixture fails instead
    pytest.skip(_missing(), allow_module_level=True)


# --------------------------------------------------------------------------
# the site, the browser, one visit per page
# --------------------------------------------------------------------------
def _newest_source() -> float:
    newest = 0.0
    for pattern in SOURCES:
        for path in ROOT.glob(pattern):
            if path.is_file() and ".ipynb_checkpoints" not in path.parts:
                newest = max(newest, path.stat().st_mtime)
    return newest


def _built_at() -> float:
    times = [p.stat().st_mtime for p in HTML.glob("**/*.html") if "_static" not in p.parts]
    if BUILT_STAMP.exists():
        times.append(BUILT_STAMP.stat().st_mtime)
    return max(times, default=0.0)


@pytest.fixture(scope="module")
def site() -> Path:
    """_build/html, built first when it is missing or older than its sources (test_book.py builds it in `make test`)."""
    if os.environ.get("COURSE_SITE_HTML"):
        assert (HTML / "intro.html").exists(), f"COURSE_SITE_HTML={HTML} holds no built site"
        return HTML
    if not (HTML / "intro.html").exists() or _built_at() < _newest_source():
        env = dict(os.environ, COURSE_STRICT_FIGURES="1", COURSE_STATIC_EXPLORERS="1", COURSE_QUIET="1")
        proc = subprocess.run([sys.executable, str(ROOT / "scripts" / "build_book.py")], env=env,
                              capture_output=True, text=True, timeout=1800)
        assert proc.returncode == 0, "book build failed:\n" + (proc.stdout + proc.stderr)[-8000:]
        BUILT_STAMP.touch()
    return HTML


def site_pages(site: Path) -> list[str]:
    """Every page of the built site, relative to it (theme fragments and copies left out)."""
    return sorted(p.relative_to(site).as_posix() for p in site.rglob("*.html")
                  if p.relative_to(site).parts[0] not in ("_static", "_sources", "_images", "_downloads"))


def _redirect_target(site: Path, page: str) -> str | None:
    m = re.search(r'<meta[^>]+http-equiv="refresh"[^>]+url=([^"\s>]+)', (site / page).read_text(errors="replace"), re.I)
    return m.group(1) if m else None


@dataclass
class Visit:
    page: str
    external: list[str] = field(default_factory=list)
    console_errors: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    local_files: set[str] = field(default_factory=set)
    state: dict = field(default_factory=dict)
    skip_link: bool = False
    toggles: list[dict] = field(default_factory=list)
    explorers: list[dict] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)   # what went wrong while driving the page


class Browser:
    """One Chromium (fresh profile) and one local server for the whole module."""

    def __init__(self, site: Path, executable: str):
        from playwright.sync_api import sync_playwright

        self.site = site
        self.server, self.base = offline.serve(site)
        self.profile = tempfile.mkdtemp(prefix="course-chromium-")
        self._pw = sync_playwright().start()
        self.context = self._pw.chromium.launch_persistent_context(
            self.profile, executable_path=executable, headless=True, args=offline.CHROMIUM_ARGS,
            viewport=VIEWPORT, service_workers="block", reduced_motion="reduce")
        self.context.set_default_timeout(TIMEOUT_MS)

    def open(self, page_path: str, visit: Visit):
        """A new tab on page_path with every request watched; off-host requests are aborted."""
        page = self.context.new_page()

        def route(r):
            if offline._is_local(r.request.url):
                r.continue_()
            else:
                visit.external.append(r.request.url)
                r.abort("blockedbyclient")

        def local_file(url: str):
            parts = urlsplit(url)
            if parts.scheme == "http" and offline._is_local(url):
                visit.local_files.add(unquote(parts.path).lstrip("/") or "index.html")

        page.route("**/*", route)
        page.on("console", lambda m: visit.console_errors.append(f"{m.text} ({m.location.get('url', '')})")
                if m.type == "error" else None)
        page.on("pageerror", lambda e: visit.console_errors.append(f"uncaught: {e}"))
        page.on("requestfailed", lambda r: visit.failed.append(f"{r.url}: {r.failure}")
                if offline._is_local(r.url) else None)
        page.on("response", lambda r: visit.failed.append(f"{r.url}: HTTP {r.status}") if r.status >= 400 else None)
        page.on("requestfinished", lambda r: local_file(r.url))
        page.goto(self.base + page_path, wait_until="load")
        return page

    def close(self):
        self.context.close()
        self._pw.stop()
        self.server.shutdown()
        shutil.rmtree(self.profile, ignore_errors=True)


@pytest.fixture(scope="module")
def browser(site):
    if _missing():
        _unavailable(_missing())
    exe = _chromium()
    try:
        b = Browser(site, exe)
    except Exception as exc:  # noqa: BLE001 - e.g. a Chromium that cannot start here
        _unavailable(f"Chromium ({exe}) did not start: {str(exc).strip().splitlines()[0][:200]}; {HOW_TO_GET}")
    yield b
    b.close()


_STATE_JS = """() => {
  const article = document.querySelector('article.bd-article') || document.querySelector('main') || document.body;
  const visible = el => el.getClientRects().length > 0 && getComputedStyle(el).visibility !== 'hidden';
  const imgs = Array.from(document.images).map(img => ({
      src: img.currentSrc.startsWith('data:') ? 'data:...' : img.currentSrc,
      inline: img.currentSrc.startsWith('data:'),
      width: img.naturalWidth, complete: img.complete,
      alt: img.getAttribute('alt'), figure: article.contains(img) &&
        !!img.closest('.cell_output, .course-explorer, figure, .figure, .output'),
  }));
  const headings = Array.from(article.querySelectorAll('h1, h2, h3, h4, h5, h6'))
      .filter(h => !h.closest('.onlyprint'))
      .map(h => ({level: +h.tagName[1], text: h.textContent.replace(/[#¶]$/, '').trim().slice(0, 60)}));
  const answers = Array.from(article.querySelectorAll('.admonition, .solution, .sd-card'))
      .filter(a => /^(answer|solution)/i.test((a.querySelector('.admonition-title, .sd-card-header') || {}).textContent || ''))
      .map(a => ({title: a.querySelector('.admonition-title, .sd-card-header').textContent.trim().slice(0, 40),
                  hidden: !!a.closest('details:not([open])') || a.classList.contains('toggle-hidden') ||
                          !Array.from(a.children).slice(1).some(visible)}));
  const links = Array.from(document.querySelectorAll('a[href]')).map(a => a.href);
  const header_links = Array.from(document.querySelectorAll('a[href]')).filter(a => !article.contains(a))
      .map(a => a.href);
  const top = article.querySelector('section');  // the text under the page title, before its first subsection
  const lead = top ? Array.from(top.children).filter(el => el.tagName === 'P') : [];
  const paragraphs = lead.map(p => ({text: p.textContent.trim().replace(/\\s+/g, ' '),
                                     bottom: p.getBoundingClientRect().bottom + window.scrollY}));
  return {
    math: document.querySelectorAll('.math, span.math, div.math').length,
    mjx: document.querySelectorAll('mjx-container').length,
    merror: document.querySelectorAll('mjx-merror').length,
    images: imgs, headings, answers, links, header_links, paragraphs,
    exercise_heading: Array.from(article.querySelectorAll('h2, h3')).some(h => /exercise/i.test(h.textContent)),
  };
}"""


def _wait_for_math(page, visit: Visit):
    if page.evaluate("() => document.querySelectorAll('.math').length") == 0:
        return
    try:
        page.wait_for_function("() => window.MathJax && MathJax.startup && MathJax.startup.promise")
        page.evaluate("() => MathJax.startup.promise")
    except Exception as exc:  # noqa: BLE001 - reported by the math test
        visit.problems.append(f"MathJax never finished: {exc.__class__.__name__}")


def _wait_for_images(page):
    page.evaluate("""() => Promise.all(Array.from(document.images).map(img => {
        img.loading = 'eager';
        return img.complete ? null : new Promise(done => { img.onload = img.onerror = done; });
    }))""")


_TOGGLES_JS = """() => {
  const article = document.querySelector('article.bd-article') || document.body;
  const all = Array.from(article.querySelectorAll('button.toggle-button, details > summary'));
  all.forEach((el, i) => el.setAttribute('data-course-toggle', i));
  return all.length;
}"""

_TOGGLE_STATE_JS = """el => {
  const visible = e => e.getClientRects().length > 0 && getComputedStyle(e).visibility !== 'hidden';
  if (el.tagName === 'SUMMARY') {
    const d = el.parentElement;
    const body = Array.from(d.children).filter(c => c !== el);
    return {kind: 'details', label: el.textContent.trim().slice(0, 40), open: d.open,
            content: body.some(visible)};
  }
  const item = document.getElementById(el.dataset.target);
  const title = item.querySelector('.admonition-title');
  const body = Array.from(item.children).filter(c => c !== title && !c.classList.contains('toggle-button'));
  return {kind: 'button', label: (title ? title.textContent : el.textContent).trim().slice(0, 40),
          open: !item.classList.contains('toggle-hidden'), content: body.some(visible)};
}"""


def _open_toggles(page, visit: Visit):
    """Open every toggle of the page with the keyboard (focus, then Enter)."""
    count = page.evaluate(_TOGGLES_JS)
    for i in range(count):
        el = page.locator(f'[data-course-toggle="{i}"]')
        before = el.evaluate(_TOGGLE_STATE_JS)
        record = {"label": before["label"], "closed_at_first": not before["open"] and not before["content"]}
        if before["open"]:  # already opened (e.g. by an outer toggle); nothing to press
            record.update(opened=before["content"])
            visit.toggles.append(record)
            continue
        try:
            el.scroll_into_view_if_needed(timeout=5_000)
            el.focus()
            page.keyboard.press("Enter")
            page.wait_for_timeout(50)
            after = el.evaluate(_TOGGLE_STATE_JS)
            record.update(opened=after["open"] and after["content"])
        except Exception as exc:  # noqa: BLE001
            record.update(opened=False, error=exc.__class__.__name__)
        visit.toggles.append(record)


_FRAME_JS = """root => {
  const img = root.querySelector('img');
  let h = 0; const s = img.src;
  for (let i = 0; i < s.length; i += 7) h = (h * 31 + s.charCodeAt(i)) | 0;
  return {frame: img.dataset.frame || '', hash: h + ':' + s.length, alt: img.alt,
          width: img.naturalWidth, complete: img.complete};
}"""


def _drive_explorers(page, visit: Visit):
    """Move every control of every kernel-free explorer through all its positions with the keyboard."""
    roots = page.locator(".course-explorer")
    for e in range(roots.count()):
        root = roots.nth(e)
        sliders = root.locator('input[type="range"]')
        record = {"index": e, "controls": []}
        root.scroll_into_view_if_needed()
        for s in range(sliders.count()):
            slider = sliders.nth(s)
            lo, hi = int(slider.get_attribute("min") or 0), int(slider.get_attribute("max") or 0)
            control = {"name": slider.get_attribute("aria-label") or f"control {s}", "positions": hi - lo + 1,
                       "changed": 0, "steps": 0, "unloaded": 0, "no_alt": 0, "announced": True}
            try:
                slider.focus()
                page.keyboard.press("Home")
                previous = root.evaluate(_FRAME_JS)
                for _ in range(hi - lo):
                    page.keyboard.press("ArrowRight")
                    root.evaluate("r => r.querySelector('img').decode().catch(() => null)")
                    now = root.evaluate(_FRAME_JS)
                    control["steps"] += 1
                    control["changed"] += now["hash"] != previous["hash"]
                    control["unloaded"] += not (now["complete"] and now["width"] > 0)
                    control["no_alt"] += not now["alt"].strip()
                    control["announced"] &= slider.get_attribute("aria-valuetext") is not None
                    previous = now
            except Exception as exc:  # noqa: BLE001
                control["error"] = f"{exc.__class__.__name__}: {str(exc)[:200]}"
            record["controls"].append(control)
        visit.explorers.append(record)


def _visit(browser: Browser, page_path: str) -> Visit:
    visit = Visit(page_path)
    page = browser.open(page_path, visit)
    try:
        _wait_for_math(page, visit)
        page.evaluate("() => document.fonts.ready.then(() => true)")
        _wait_for_images(page)
        page.wait_for_load_state("networkidle")
        page.keyboard.press("Tab")  # the first Tab must land on the skip link
        visit.skip_link = page.evaluate(
            "() => !!document.activeElement && !!document.activeElement.closest('.skip-link')"
            " && /#main-content$/.test(document.activeElement.getAttribute('href') || '')")
        page.evaluate("() => document.activeElement && document.activeElement.blur()")
        visit.state = page.evaluate(_STATE_JS)
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SHOTS / (page_path.removesuffix(".html").replace("/", "__") + ".png")))
        _open_toggles(page, visit)
        _drive_explorers(page, visit)
        page.wait_for_timeout(200)  # late console messages
    except Exception as exc:  # noqa: BLE001 - every test reports it
        visit.problems.append(f"{exc.__class__.__name__}: {str(exc)[:300]}")
    finally:
        page.close()
    return visit


@pytest.fixture(scope="module")
def visits(site, browser) -> dict[str, Visit]:
    """Every page visited once (redirect stubs such as index.html are checked separately)."""
    if SHOTS.exists():
        shutil.rmtree(SHOTS)
    start = time.monotonic()
    out = {p: _visit(browser, p) for p in site_pages(site) if not _redirect_target(site, p)}
    out["__seconds__"] = time.monotonic() - start  # type: ignore[assignment]
    return out


def _pages(visits) -> list[Visit]:
    return [v for k, v in visits.items() if k != "__seconds__"]


def _report(problems: list[str], what: str):
    """Fail with one line per problem (no traceback: the list says it all)."""
    if problems:
        more = f"\n... and {len(problems) - 40} more" if len(problems) > 40 else ""
        pytest.fail(f"{len(problems)} {what}:\n" + "\n".join(problems[:40]) + more, pytrace=False)


# --------------------------------------------------------------------------
# the tests
# --------------------------------------------------------------------------
def test_every_page_loads_with_no_request_leaving_the_host(visits):
    problems = [f"{v.page}: off-host request {u}" for v in _pages(visits) for u in v.external]
    problems += [f"{v.page}: {f}" for v in _pages(visits) for f in v.failed]
    problems += [f"{v.page}: {p}" for v in _pages(visits) for p in v.problems]
    _report(problems, "pages that reach off the host, miss a file or could not be driven")


def test_no_console_errors(visits):
    _report([f"{v.page}: {e}" for v in _pages(visits) for e in v.console_errors], "console errors")


def test_math_is_rendered(visits):
    problems = []
    for v in _pages(visits):
        s = v.state
        if s.get("math") and s.get("mjx", 0) < s["math"]:
            problems.append(f"{v.page}: {s['mjx']} of {s['math']} math elements typeset by MathJax")
        if s.get("merror"):
            problems.append(f"{v.page}: {s['merror']} MathJax error(s)")
    assert any(v.state.get("mjx") for v in _pages(visits)), "no page has any rendered math"
    _report(problems, "pages with unrendered math")


def test_every_image_loads_and_has_alt_text(visits):
    problems = []
    for v in _pages(visits):
        for img in v.state.get("images", []):
            name = img["src"].rsplit("/", 1)[-1]
            alt = (img["alt"] or "").strip()
            if not (img["complete"] and img["width"] > 0):
                problems.append(f"{v.page}: image did not load: {name}")
            if not alt or re.search(r"\.(png|jpe?g|svg|gif|webp)$", alt, re.I) or alt.startswith(("../", "_images")):
                problems.append(f"{v.page}: image without alt text: {name} (alt={img['alt']!r}); in a notebook, "
                                "put it in the cell's metadata: {\"mystnb\": {\"image\": {\"alt\": \"...\"}}}")
            elif img["figure"] and len(alt) < MIN_FIGURE_ALT:
                problems.append(f"{v.page}: figure alt text too short to name the axes and the takeaway: {alt!r}")
    _report(problems, "image problems")


def test_headings_are_in_order(visits):
    problems = []
    for v in _pages(visits):
        levels = [h["level"] for h in v.state.get("headings", [])]
        if levels.count(1) != 1 or (levels and levels[0] != 1):
            problems.append(f"{v.page}: needs exactly one h1, first (got {levels[:8]})")
        for (a, b), h in zip(zip(levels, levels[1:]), v.state.get("headings", [])[1:]):
            if b > a + 1:
                problems.append(f"{v.page}: h{a} followed by h{b} ({h['text']!r})")
    _report(problems, "heading-order problems")


def test_keyboard_reaches_the_content_first(visits):
    _report([f"{v.page}: the first Tab does not land on 'Skip to main content'"
             for v in _pages(visits) if not v.skip_link], "pages without a working skip link")


def test_answers_are_hidden_behind_toggles_that_open_from_the_keyboard(visits):
    problems, opened = [], 0
    for v in _pages(visits):
        for a in v.state.get("answers", []):
            if not a["hidden"]:
                problems.append(f"{v.page}: {a['title']!r} is shown without a toggle (add :class: dropdown)")
        for t in v.toggles:
            if not t.get("opened"):
                problems.append(f"{v.page}: toggle {t['label']!r} did not open with Enter {t.get('error', '')}")
            elif t["closed_at_first"]:
                opened += 1
    assert opened, "no page has a closed toggle (solutions and answers must be hidden behind toggles)"
    _report(problems, "toggle problems")


def _expected_explorers() -> dict[str, int]:
    """page -> how many explorers it must show: its notebook's code cells that call explore(...)."""
    out = {}
    for path in sorted(ROOT.glob("chapters/*.ipynb")) + sorted(ROOT.glob("solutions/*.ipynb")):
        cells = json.loads(path.read_text())["cells"]
        calls = sum(c["cell_type"] == "code" and bool(re.search(r"\bexplore\(", "".join(c["source"])))
                    for c in cells)
        if calls:
            out[path.relative_to(ROOT).with_suffix(".html").as_posix()] = calls
    return out


def test_every_explorer_control_changes_the_picture_without_a_kernel(visits):
    expected = _expected_explorers()
    assert expected, "no notebook calls widgets.explore: the explorer tests would check nothing"
    problems = [f"{page}: {len(visits[page].explorers)} kernel-free explorer(s) on the page, but its notebook "
                f"calls explore() in {want} cell(s)" for page, want in expected.items()
                if page in visits and len(visits[page].explorers) < want]
    moved = 0
    for v in _pages(visits):
        for ex in v.explorers:
            for c in ex["controls"]:
                where = f"{v.page}: explorer {ex['index'] + 1}, control {c['name']!r}"
                if c.get("error"):
                    problems.append(f"{where}: {c['error']}")
                    continue
                if c["positions"] < MIN_POSITIONS:
                    problems.append(f"{where}: {c['positions']} positions (at least {MIN_POSITIONS})")
                if c["changed"] < c["steps"]:
                    problems.append(f"{where}: {c['steps'] - c['changed']} of {c['steps']} steps left the picture unchanged")
                if c["unloaded"] or c["no_alt"]:
                    problems.append(f"{where}: {c['unloaded']} frame(s) not loaded, {c['no_alt']} without alt text")
                if not c["announced"]:
                    problems.append(f"{where}: the slider does not announce its value (aria-valuetext)")
                moved += c["steps"]
    _report(problems, "explorer problems")
    assert moved, "no explorer on the site could be moved"


def test_no_dead_widgets(visits, site):
    """Live ipywidgets need a kernel: the site must carry none (only kernel-free explorers)."""
    dead = [p for p in site_pages(site)
            if "application/vnd.jupyter.widget-view+json" in (site / p).read_text(errors="replace")]
    assert not dead, f"pages with kernel-bound ipywidgets (build with COURSE_STATIC_EXPLORERS=1): {dead}"


def _repository() -> tuple[str, str]:
    cfg = yaml.safe_load((ROOT / "_config.yml").read_text())
    url = cfg["repository"]["url"].rstrip("/")
    m = re.fullmatch(r"https://github\.com/([^/]+/[^/]+?)(?:\.git)?", url)
    assert m, f"repository: url: in _config.yml must be https://github.com/OWNER/REPO, got {url}"
    return m.group(1), cfg["repository"].get("branch", "main")


def test_launch_buttons_follow_the_one_repository_setting(visits):
    slug, branch = _repository()
    problems, launchable = [], 0
    for v in _pages(visits):
        links = v.state.get("links", [])
        for link in links:  # a link to one of the course's notebooks must use the configured repository
            notebook = re.search(r"/((?:chapters|solutions|exercises)/[^/?#]+\.ipynb)", link)
            if urlsplit(link).hostname in ("colab.research.google.com", "mybinder.org") and notebook \
                    and (ROOT / notebook.group(1)).exists() and f"/{slug}/" not in link:
                problems.append(f"{v.page}: {link} does not use {slug} (_config.yml repository: url:)")
        for link in v.state.get("header_links", []):
            if urlsplit(link).hostname == "github.com" and not urlsplit(link).path.startswith(f"/{slug}"):
                problems.append(f"{v.page}: header button {link} is not {slug}")
        source = (ROOT / v.page).with_suffix(".ipynb")
        if source.exists():
            launchable += 1
            rel = source.relative_to(ROOT).as_posix()
            for want in (f"https://colab.research.google.com/github/{slug}/blob/{branch}/{rel}",
                         f"https://mybinder.org/v2/gh/{slug}/{branch}?urlpath=lab/tree/{rel}"):
                if want not in links:
                    problems.append(f"{v.page}: no launch button {want}")
    assert launchable, "no notebook page found"
    _report(problems, "launch-link problems")


def test_exercises_link_to_their_notebooks(visits, site):
    slug, branch = _repository()
    problems, linked = [], 0
    for v in _pages(visits):
        if not v.page.startswith("chapters/"):
            continue
        stem = Path(v.page).stem
        links = v.state.get("links", [])
        downloads = [u for u in links if urlsplit(u).path.endswith(f"/{stem}.ipynb") and "/_downloads/" in u]
        colab = f"https://colab.research.google.com/github/{slug}/blob/{branch}/exercises/{stem}.ipynb"
        if not (ROOT / "exercises" / f"{stem}.ipynb").exists():
            if v.state.get("exercise_heading"):
                problems.append(f"{v.page}: has exercises but exercises/{stem}.ipynb does not exist")
            continue
        if not downloads:
            problems.append(f"{v.page}: no download link to exercises/{stem}.ipynb")
        if colab not in links:
            problems.append(f"{v.page}: no Colab link {colab}")
        for u in downloads:
            local = site / unquote(urlsplit(u).path).lstrip("/")
            if not local.is_file():
                problems.append(f"{v.page}: download link {u} points at no file")
        linked += bool(downloads)
    assert linked, "no chapter links to its exercise notebook"
    _report(problems, "exercise-link problems")


def test_home_page_says_what_and_for_whom_on_the_first_screen(browser, site):
    for stub in ("index.html",):
        target = _redirect_target(site, stub)
        assert target and (site / target).exists(), f"{stub} must redirect to the home page"
    visit = Visit("index.html")
    page = browser.open("index.html", visit)
    try:
        page.wait_for_url(re.compile(r"intro\.html$"))
        page.wait_for_load_state("load")
        paragraphs = page.evaluate(_STATE_JS)["paragraphs"]
    finally:
        page.close()
    assert not visit.console_errors and not visit.external, (visit.console_errors, visit.external)
    assert paragraphs, "the home page must open with a short statement under its title"
    lead = " ".join(p["text"] for p in paragraphs)
    assert re.search(r"\bteach|\blearn", lead, re.I), f"the opening should say what the course teaches: {lead!r}"
    assert re.search(r"\bfor\b|\bwho\b", lead, re.I), f"the opening should say for whom: {lead!r}"
    assert len(paragraphs) <= 2 and len(lead) <= 500, f"keep the opening to two short lines: {lead!r}"
    assert paragraphs[-1]["bottom"] <= VIEWPORT["height"], "the opening must fit on the first screen"


def test_search_finds_the_course_pages(browser):
    visit = Visit("search.html")
    page = browser.open("search.html?q=superposition", visit)
    try:
        page.wait_for_function("() => document.querySelectorAll('#search-results ul.search li').length > 0")
        hits = page.evaluate("() => Array.from(document.querySelectorAll('#search-results ul.search li a'))"
                             ".map(a => a.getAttribute('href'))")
    finally:
        page.close()
    assert not visit.console_errors and not visit.external, (visit.console_errors, visit.external)
    assert any(h.startswith("chapters/") for h in hits), f"search for 'superposition' found no chapter: {hits}"


def test_screenshots_of_each_chapter_first_screen(visits):
    missing = [v.page for v in _pages(visits) if v.page.startswith(("chapters/", "intro"))
               and not (SHOTS / (v.page.removesuffix(".html").replace("/", "__") + ".png")).exists()]
    assert not missing, f"no screenshot for {missing}"


def _size(site: Path, rel: str, compressed: bool) -> int:
    path = site / rel
    if not path.is_file():
        return 0
    if compressed and path.suffix in (".html", ".js", ".css", ".svg", ".json", ".txt", ".map", ".ttf"):
        return len(gzip.compress(path.read_bytes(), 6))
    return path.stat().st_size


_IMAGE = (".png", ".jpg", ".jpeg", ".gif", ".svg", ".webp")


def test_page_weight(visits, site, capsys):
    """A page with its images under 3 MB; a first visit (gzip, as GitHub Pages serves it) under 3 MB too."""
    rows = []
    for v in _pages(visits):
        own = {f for f in v.local_files if f.startswith("_images/") and f.lower().endswith(_IMAGE)} | {v.page}
        page_bytes = sum(_size(site, f, False) for f in own)
        first_raw = sum(_size(site, f, False) for f in v.local_files | {v.page})
        first_gz = sum(_size(site, f, True) for f in v.local_files | {v.page})
        rows.append((v.page, page_bytes, first_raw, first_gz))
    total = sum(p.stat().st_size for p in site.rglob("*") if p.is_file())
    rows.sort(key=lambda r: -r[1])
    mb = 1e6
    lines = [f"built site: {total / mb:.1f} MB in {sum(1 for p in site.rglob('*') if p.is_file())} files; "
             f"{len(rows)} pages; browser visit of every page: {visits['__seconds__']:.0f} s",
             f"{'page':45s} {'page+images':>12s} {'first visit':>12s} {'(gzip)':>8s}"]
    lines += [f"{p:45s} {a / mb:10.2f}MB {b / mb:10.2f}MB {c / mb:6.2f}MB" for p, a, b, c in rows]
    SHOTS.mkdir(parents=True, exist_ok=True)
    (SHOTS / "page-weights.txt").write_text("\n".join(lines) + "\n")
    with capsys.disabled():
        print("\n" + "\n".join(lines[:2] + lines[2:5]) + f"\n(all pages: {SHOTS / 'page-weights.txt'})")
    heavy = [f"{p}: {a / mb:.2f} MB with its images" for p, a, _, _ in rows if a > MAX_PAGE_BYTES]
    heavy += [f"{p}: first visit {c / mb:.2f} MB compressed" for p, _, _, c in rows if c > MAX_FIRST_VISIT_BYTES]
    _report(heavy, f"pages over {MAX_PAGE_BYTES / mb:.0f} MB")


# --------------------------------------------------------------------------
# the live trainer (utils/live.py, _static_site/live/): trained in the visitor's browser
# --------------------------------------------------------------------------
LIVE_PAGE = "chapters/03_toy_model.html"


def _set_number(page, root, name: str, value) -> None:
    field = root.locator(f'input[name="{name}"]')
    field.focus()
    page.keyboard.press("Control+A")
    page.keyboard.type(str(value))


def test_live_trainer_trains_in_the_browser(browser, capsys):
    """Train at n = 200, m = 20, batch 256, 1,500 steps from the keyboard; the panel reports the result."""
    visit = Visit(LIVE_PAGE)
    page = browser.open(LIVE_PAGE, visit)
    try:
        root = page.locator('.course-live[data-live="trainer"]')
        root.wait_for(state="attached")
        root.scroll_into_view_if_needed()
        for name, value in dict(n=200, m=20, gamma=-1, alpha=1, E=1, steps=1500, batch=256, seed=0).items():
            _set_number(page, root, name, value)
        root.locator("button.course-live-train").focus()
        start = time.monotonic()
        page.keyboard.press("Enter")
        page.wait_for_function("r => r.dataset.state === 'running'", arg=root.element_handle(), timeout=5_000)
        assert root.locator("button.course-live-stop").is_enabled(), "Stop must be usable while training"
        page.wait_for_function("r => r.dataset.finalLoss !== undefined", arg=root.element_handle(), timeout=120_000)
        seconds = time.monotonic() - start
        got = root.evaluate("r => Object.assign({}, r.dataset)")
        status = root.locator('[aria-live="polite"]').text_content()
        labels = root.locator("canvas[role=img]").evaluate_all("cs => cs.map(c => c.getAttribute('aria-label'))")
    finally:
        page.close()
    with capsys.disabled():
        print(f"\nlive trainer in chromium: n=200, m=20, batch 256, 1,500 steps: {seconds:.1f} s "
              f"({got.get('msPerStep')} ms per step); final loss {float(got['finalLoss']):.5f}, "
              f"phi_half {got['phiHalf']}, phi_one {got.get('phiOne')}, m x msq_strong {got.get('mMsqStrong')}")
    assert not visit.console_errors and not visit.external, (visit.console_errors, visit.external)
    zero = 1.0 * 4 / 3 / 200  # the loss of always answering 0 at E = 1
    assert 0 < float(got["finalLoss"]) < 0.5 * zero, got
    assert float(got["phiHalf"]) > 0.9, f"gamma = -1 should represent (almost) every feature: {got}"
    assert status.startswith("Done") and "final loss" in status.lower(), status
    assert len(labels) == 3 and all("step" in labels[0] and len(a) > 60 for a in labels), labels


def test_live_2d_picture_follows_the_sliders(browser):
    """Moving gamma with the keyboard retrains the n = 5, m = 2 model and redraws the arrows and their description."""
    visit = Visit(LIVE_PAGE)
    page = browser.open(LIVE_PAGE, visit)
    try:
        root = page.locator('.course-live[data-live="arrows"]')
        page.wait_for_function("r => r.dataset.frame !== undefined", arg=root.element_handle(), timeout=30_000)
        before = root.evaluate("r => [r.dataset.frame, r.querySelector('svg title').textContent]")
        slider = root.locator('input[type="range"]').first
        slider.focus()
        page.keyboard.press("End")
        page.wait_for_function("([r, f]) => r.dataset.frame !== f", arg=[root.element_handle(), before[0]], timeout=30_000)
        after = root.evaluate("r => [r.dataset.frame, r.querySelector('svg title').textContent, r.dataset.ms]")
        valuetext = slider.get_attribute("aria-valuetext")
    finally:
        page.close()
    assert not visit.console_errors and not visit.external, (visit.console_errors, visit.external)
    assert after[0].startswith("1|") and "gamma = 1 " in after[1] and after[1] != before[1], (before, after)
    assert valuetext == "gamma = 1"
    print(f"\n2-D picture retrained in {after[2]} ms: {after[1][:160]}")


def test_live_trainer_scripts_load_only_where_a_panel_is(visits):
    loaders = sorted(v.page for v in _pages(visits) if any(f.startswith("_static/live/") for f in v.local_files))
    assert loaders == [LIVE_PAGE], f"the live trainer's scripts load on {loaders}"
