"""Headless Chromium (Debian's) against the built site: math, figures, Korean search, offline.

Screenshots go to ``screenshots/`` (git-ignored) for people to look at.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlparse

import pytest

pytestmark = pytest.mark.browser

SHOTS = Path(__file__).resolve().parents[2] / "screenshots"

PAGES = {
    "home": "index.html",
    "note": "papers/pascanu2013/index.html",
    "concept-jacobian": "concepts/jacobian.html",
    "concept-basin": "concepts/basin-of-attraction.html",
    "note-lstm": "papers/hochreiter1997/index.html",
    "experiments": "papers/pascanu2013/experiments.html",
    "api-jacobians": "reference/notes_code/pascanu2013/jacobians.html",
}
NO_FIGURE = {"home", "api-jacobians"}


class Watch:
    """Aborts and records every request that leaves the site; records console errors."""

    def __init__(self, page, allowed_host: str | None) -> None:
        self.external: list[str] = []
        self.errors: list[str] = []
        self.allowed_host = allowed_host
        page.route("**/*", self._route)
        page.on("console", lambda msg: msg.type == "error" and self.errors.append(msg.text))
        page.on("pageerror", lambda exc: self.errors.append(str(exc)))

    def _route(self, route) -> None:
        url = urlparse(route.request.url)
        local = url.scheme in ("file", "data", "blob", "about") or url.hostname == self.allowed_host
        if local:
            route.continue_()
        else:
            self.external.append(route.request.url)
            route.abort()


def _search(page, query: str) -> list[str]:
    page.keyboard.press("s")
    box = page.locator("input.md-search__input")
    box.wait_for(state="visible")
    box.fill(query)
    box.press("End")
    page.wait_for_selector(".md-search-result__item", timeout=15_000)
    return page.locator(".md-search-result__item a").evaluate_all("els => els.map(e => e.href)")


def test_pages_render_math_figures_and_korean(browser, server) -> None:
    """Every key page: math typeset by the site's KaTeX, figures present, no external request."""
    SHOTS.mkdir(exist_ok=True)
    page = browser.new_page()
    watch = Watch(page, "127.0.0.1")
    for name, path in PAGES.items():
        page.goto(f"{server}/{path}", wait_until="networkidle")
        page.wait_for_timeout(300)
        # innerText leaves out blocks not rendered yet (content-visibility, offscreen.css)
        page.add_style_tag(content="* { content-visibility: visible !important; }")
        text = page.inner_text("article")
        assert "$$" not in text and "\\[" not in text, f"{name}: raw TeX left on the page"
        if name != "home":
            assert page.locator(".katex").count() > 0, f"{name}: no typeset math"
        if name not in NO_FIGURE:
            assert page.locator(".nb-figure svg").count() > 0, f"{name}: no executed figure"
        page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)
    assert watch.external == []
    assert watch.errors == []
    page.close()


@pytest.mark.parametrize("query", ["기울기", "기울기를", "기울기가"])
def test_korean_search_finds_the_note(browser, server, query: str) -> None:
    """Korean search (lunr.ko): a word and its inflected forms find the note."""
    page = browser.new_page()
    watch = Watch(page, "127.0.0.1")
    page.goto(f"{server}/index.html", wait_until="networkidle")
    hrefs = _search(page, query)
    assert any("papers/pascanu2013/" in h for h in hrefs), hrefs
    assert watch.external == [] and watch.errors == []
    page.close()


def test_rendered_claim_shows_status_and_command(browser, server) -> None:
    """A claim on the note shows its test status and the command that reruns exactly its tests."""
    page = browser.new_page()
    page.goto(f"{server}/papers/pascanu2013/index.html", wait_until="networkidle")
    claim = page.locator(".claim-tests").first
    cid = claim.get_attribute("data-claim")
    status = claim.get_attribute("data-status")
    assert cid and cid.startswith("pascanu2013/")
    assert status in ("passed", "failed", "not-run", "skipped")
    admonition = page.locator(".admonition.claim").first
    assert admonition.locator(f".claim-status--{status}").count() == 1
    assert f"make test-claim CLAIM={cid}" in claim.inner_text()
    assert claim.locator("a[href*='tests/']").count() >= 1
    page.close()


def test_site_works_from_disk(browser, site_dir: Path) -> None:
    """Opened from file:// the site renders math and searches, with zero external requests."""
    page = browser.new_page()
    watch = Watch(page, None)
    page.goto((site_dir / "papers/pascanu2013/index.html").as_uri(), wait_until="load")
    page.wait_for_selector(".katex", timeout=10_000)
    hrefs = _search(page, "기울기")
    assert any("pascanu2013" in h for h in hrefs)
    page.screenshot(path=str(SHOTS / "file-url-search.png"))
    assert watch.external == []
    page.close()
