#!/usr/bin/env python3
"""Check that the built book works offline.

    python scripts/check_site_offline.py [_build/html] [--page intro.html ...]

Two checks:

1. Static: no ``<script src>``, ``<link href>`` (other than rel=canonical /
   alternate, which browsers do not fetch), ``<img|iframe|source|audio|video|
   embed src>`` or CSS ``url()`` / ``@import`` in the built HTML points off the
   host (``http://``, ``https://`` or ``//``).
2. Browser: every page (all ``*.html`` outside ``_static/`` by default) is served by
   ``http.server`` on 127.0.0.1 and loaded in headless Chromium driven by
   Playwright. Every request that would leave 127.0.0.1 is recorded and
   aborted. A page fails on: any such request, a console error, an uncaught
   exception, a failed request or an HTTP status >= 400. Where the page has
   math, MathJax must have rendered it (``mjx-container``, no ``mjx-merror``);
   where it has ipywidgets views, each must have been rendered by the HTML
   manager.

Needs ``pip install playwright`` (into the course venv) and a Chromium
binary: Debian's ``chromium`` package by default (``--chromium``); never run
``playwright install``. Exit status 0 when everything passes, 1 otherwise.
"""

from __future__ import annotations

import argparse
import functools
import http.server
import json
import re
import shutil
import socketserver
import sys
import tempfile
import threading
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-default-apps",
    "--disable-extensions",
]
LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1", "[::1]"}

# --------------------------------------------------------------------------
# 1. static check
# --------------------------------------------------------------------------
_EXTERNAL = r"""(?:https?:)?//"""
_TAG_RE = re.compile(r"<(script|link|img|iframe|source|audio|video|embed)\b([^>]*)>", re.I | re.S)
_ATTR_RE = re.compile(r"""\b(src|href)\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]+))""", re.I)
_REL_RE = re.compile(r"""\brel\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]+))""", re.I)
_CSS_URL_RE = re.compile(r"""(?:url\(\s*['"]?|@import\s+['"])(""" + _EXTERNAL + r"""[^'")\s]+)""", re.I)
_STYLE_BLOCK_RE = re.compile(r"<style\b[^>]*>(.*?)</style>|\bstyle\s*=\s*\"([^\"]*)\"", re.I | re.S)
# <link rel=...> values that make the browser fetch nothing
_INERT_RELS = {"canonical", "alternate", "author", "license", "me", "next", "prev",
               "index", "search", "help", "bookmark", "edit"}


def static_external_refs(site: Path) -> list[str]:
    """Return 'file: tag attr=url' for every off-host resource reference."""
    problems = []
    for html in sorted(site.rglob("*.html")):
        text = html.read_text(encoding="utf-8", errors="replace")
        rel = html.relative_to(site).as_posix()
        for tag_m in _TAG_RE.finditer(text):
            tag, attrs = tag_m.group(1).lower(), tag_m.group(2)
            for attr_m in _ATTR_RE.finditer(attrs):
                attr = attr_m.group(1).lower()
                url = next(g for g in attr_m.groups()[1:] if g is not None)
                if not re.match(_EXTERNAL, url.strip(), re.I):
                    continue
                if tag == "link":
                    rel_m = _REL_RE.search(attrs)
                    rels = set((next(g for g in rel_m.groups() if g is not None) if rel_m else "").lower().split())
                    if rels and rels <= _INERT_RELS:
                        continue
                problems.append(f"{rel}: <{tag} {attr}={url}>")
        for style_m in _STYLE_BLOCK_RE.finditer(text):
            css = style_m.group(1) or style_m.group(2) or ""
            for url_m in _CSS_URL_RE.finditer(css):
                problems.append(f"{rel}: css url({url_m.group(1)})")
    return problems


# --------------------------------------------------------------------------
# 2. browser check
# --------------------------------------------------------------------------
@dataclass
class PageResult:
    page: str
    external_requests: list[str] = field(default_factory=list)
    console_errors: list[str] = field(default_factory=list)
    console_warnings: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    failed_requests: list[str] = field(default_factory=list)
    local_requests: list[str] = field(default_factory=list)
    math_elements: int = 0
    mjx_containers: int = 0
    mjx_errors: int = 0
    widget_views: int = 0
    widgets_rendered: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):  # keep the output readable
        pass


class _Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True


def serve(site: Path) -> tuple[_Server, str]:
    handler = functools.partial(_QuietHandler, directory=str(site))
    server = _Server(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}/"


def _is_local(url: str) -> bool:
    parts = urlsplit(url)
    if parts.scheme in ("data", "blob", "about", "javascript"):
        return True
    return (parts.hostname or "") in LOCAL_HOSTS


_PAGE_STATE_JS = """() => ({
  math: document.querySelectorAll('.math, span.math, div.math').length,
  mjx: document.querySelectorAll('mjx-container').length,
  merror: document.querySelectorAll('mjx-merror').length,
  views: document.querySelectorAll('script[type="application/vnd.jupyter.widget-view+json"]').length,
  rendered: Array.from(document.querySelectorAll('.widget-subarea'))
      .filter(el => el.querySelector('.jupyter-widgets')).length,
})"""


def _evaluate(page, js: str, tries: int = 5):
    """page.evaluate that survives a navigation (index.html is a meta-refresh redirect)."""
    for attempt in range(tries):
        try:
            return page.evaluate(js)
        except Exception as exc:  # noqa: BLE001
            if "context was destroyed" not in str(exc) or attempt == tries - 1:
                raise
            page.wait_for_load_state("load")


def check_page(context, base_url: str, page_path: str, timeout_ms: int) -> PageResult:
    res = PageResult(page_path)
    page = context.new_page()

    def on_route(route):
        url = route.request.url
        if _is_local(url):
            route.continue_()
        else:
            res.external_requests.append(url)
            route.abort("blockedbyclient")

    page.route("**/*", on_route)
    page.on("console", lambda m: (res.console_errors if m.type == "error" else
                                  res.console_warnings if m.type == "warning" else [])
            .append(f"{m.text} ({m.location.get('url', '')}:{m.location.get('lineNumber', '')})"))
    page.on("pageerror", lambda e: res.page_errors.append(str(e)))
    page.on("request", lambda r: res.local_requests.append(r.url) if _is_local(r.url) else None)
    page.on("requestfailed", lambda r: None if not _is_local(r.url)
            else res.failed_requests.append(f"{r.url}: {r.failure}"))
    page.on("response", lambda r: res.failed_requests.append(f"{r.url}: HTTP {r.status}")
            if r.status >= 400 else None)

    page.goto(base_url + page_path, wait_until="load", timeout=timeout_ms)
    if re.search(r'<meta[^>]+http-equiv="refresh"', (Path(context.site) / page_path).read_text(errors="replace"), re.I):
        page.wait_for_url(lambda u: not u.endswith("/" + page_path), timeout=timeout_ms)
        page.wait_for_load_state("load")
    state = _evaluate(page, _PAGE_STATE_JS)
    if state["math"]:
        try:  # MathJax 3 sets MathJax.startup.promise; wait for typesetting
            page.wait_for_function(
                "() => window.MathJax && MathJax.startup && MathJax.startup.promise"
                " && document.querySelectorAll('mjx-container').length > 0",
                timeout=timeout_ms)
            page.evaluate("() => MathJax.startup.promise")
        except Exception as exc:  # noqa: BLE001 - reported below
            res.problems.append(f"MathJax did not render: {exc.__class__.__name__}")
    if state["views"]:
        try:
            page.wait_for_function(
                f"() => ({_PAGE_STATE_JS})().rendered >= {state['views']}", timeout=timeout_ms)
        except Exception as exc:  # noqa: BLE001
            res.problems.append(f"widgets did not render: {exc.__class__.__name__}")
    _evaluate(page, "() => document.fonts.ready.then(() => true)")
    page.wait_for_load_state("networkidle", timeout=timeout_ms)
    page.wait_for_timeout(300)  # late console messages
    state = _evaluate(page, _PAGE_STATE_JS)
    res.math_elements, res.mjx_containers, res.mjx_errors = state["math"], state["mjx"], state["merror"]
    res.widget_views, res.widgets_rendered = state["views"], state["rendered"]
    page.close()

    if res.external_requests:
        res.problems.append(f"{len(res.external_requests)} off-host request(s)")
    if res.console_errors:
        res.problems.append(f"{len(res.console_errors)} console error(s)")
    if res.page_errors:
        res.problems.append(f"{len(res.page_errors)} uncaught exception(s)")
    if res.failed_requests:
        res.problems.append(f"{len(res.failed_requests)} failed local request(s)")
    if res.math_elements and not res.mjx_containers:
        res.problems.append("math on page but no mjx-container")
    if res.mjx_errors:
        res.problems.append(f"{res.mjx_errors} MathJax error node(s)")
    if res.widgets_rendered < res.widget_views:
        res.problems.append(f"{res.widgets_rendered}/{res.widget_views} widget views rendered")
    return res


def browser_check(site: Path, pages: list[str], chromium: str, timeout_ms: int = 30000) -> list[PageResult]:
    from playwright.sync_api import sync_playwright

    server, base_url = serve(site)
    profile = tempfile.mkdtemp(prefix="chromium-profile-")
    try:
        with sync_playwright() as pw:
            context = pw.chromium.launch_persistent_context(
                profile, executable_path=chromium, headless=True, args=CHROMIUM_ARGS,
                service_workers="block")
            context.site = site
            try:
                return [check_page(context, base_url, p, timeout_ms) for p in pages]
            finally:
                context.close()
    finally:
        server.shutdown()
        shutil.rmtree(profile, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("site", nargs="?", default="_build/html", type=Path)
    ap.add_argument("--page", action="append", help="page to load, relative to SITE (repeatable); default: every *.html")
    ap.add_argument("--chromium", default=shutil.which("chromium") or "/usr/bin/chromium")
    ap.add_argument("--timeout", type=float, default=30, help="seconds per wait (default 30)")
    ap.add_argument("--json", type=Path, help="also write the results here")
    ap.add_argument("--static-only", action="store_true", help="skip the browser check")
    ap.add_argument("-v", "--verbose", action="store_true", help="list local requests and warnings too")
    args = ap.parse_args(argv)

    site = args.site.resolve()
    if not (site / "index.html").exists() and not list(site.glob("*.html")):
        print(f"no built site at {site}", file=sys.stderr)
        return 2

    failed = False
    static = static_external_refs(site)
    print(f"static: {len(static)} off-host resource reference(s) in HTML")
    for s in static:
        print(f"  {s}")
    failed |= bool(static)

    results: list[PageResult] = []
    if not args.static_only:
        # _static/ holds theme template fragments (*.html), not pages
        pages = args.page or sorted(
            rel for rel in (p.relative_to(site).as_posix() for p in site.rglob("*.html"))
            if not rel.startswith(("_static/", "_sources/", "_images/")))
        results = browser_check(site, pages, args.chromium, int(args.timeout * 1000))
        for r in results:
            status = "ok  " if r.ok else "FAIL"
            print(f"{status} {r.page}: math {r.mjx_containers} mjx-container / {r.math_elements} math el., "
                  f"widgets {r.widgets_rendered}/{r.widget_views}, {len(r.local_requests)} local requests"
                  + (f" -- {'; '.join(r.problems)}" if r.problems else ""))
            for label, items in [("off-host", r.external_requests), ("console error", r.console_errors),
                                 ("exception", r.page_errors), ("failed", r.failed_requests)]:
                for item in items:
                    print(f"     {label}: {item}")
            if args.verbose:
                for w in r.console_warnings:
                    print(f"     console warning: {w}")
                for u in r.local_requests:
                    print(f"     request: {u}")
            failed |= not r.ok

    if args.json:
        args.json.write_text(json.dumps({"static": static, "pages": [
            {**r.__dict__, "ok": r.ok} for r in results]}, indent=2))
    print("PASS" if not failed else "FAIL")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
