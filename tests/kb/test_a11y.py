"""Accessibility scan with axe-core (npm) of the home page, each note and each concept page.

axe-core is installed by ``make node_modules/.installed`` (``npm install``) and injected into
each page by Playwright. Both colour schemes are scanned (light, and Material's `slate`
through ``prefers-color-scheme: dark``). Issue #11: no serious or critical violation.
"""

from __future__ import annotations

from pathlib import Path

import pytest

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[2]
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
BLOCKING = {"serious", "critical"}


@pytest.fixture(scope="module", autouse=True)
def axe_installed() -> None:
    """Fail early, with the command that installs it, when axe-core is missing."""
    if not AXE.exists():
        pytest.fail(f"{AXE} is missing: run `make node_modules/.installed` (npm install axe-core)")


def scanned_pages(site_dir: Path) -> list[str]:
    """The home page, every note page and every concept page (no generated SUMMARY)."""
    pages = ["index.html"]
    for folder in ("papers", "concepts"):
        pages += sorted(p.relative_to(site_dir).as_posix() for p in (site_dir / folder).rglob("*.html")
                        if not p.name.startswith("SUMMARY"))
    return pages


def axe_violations(page) -> list[dict]:
    """Run axe-core on the loaded page; one dict per violated rule.

    Blocks far from the viewport are skipped by the browser (``content-visibility: auto``,
    offscreen.css) and have no computed colors until they are scrolled to, so axe could only
    mark their contrast "incomplete"; they are rendered first, as a reader scrolling there
    sees them (test_browser_offscreen.py: they are laid out exactly the same), so that
    every text of the page is checked.
    """
    page.add_style_tag(content="* { content-visibility: visible !important; }")
    page.add_script_tag(path=str(AXE))
    return page.evaluate("""async () => {
        const r = await axe.run(document, {resultTypes: ['violations']});
        return r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
            nodes: v.nodes.length, targets: v.nodes.slice(0, 3).map(n => n.target.join(' '))}));
    }""")


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_no_serious_accessibility_violation(browser, server, site_dir: Path, scheme: str) -> None:
    """Issue #11 (accessibility): axe finds no serious or critical violation, in either theme."""
    page = browser.new_page()
    page.emulate_media(color_scheme=scheme)
    # no palette remembered from an earlier page: the scheme follows the media query
    page.add_init_script("try { localStorage.clear() } catch (e) {}")
    found: dict[str, list[str]] = {}
    for path in scanned_pages(site_dir):
        page.goto(f"{server}/{path}", wait_until="networkidle")
        expected = "slate" if scheme == "dark" else "default"
        assert page.get_attribute("body", "data-md-color-scheme") == expected
        bad = [v for v in axe_violations(page) if v["impact"] in BLOCKING]
        if bad:
            found[path] = [f"{v['impact']} {v['id']} x{v['nodes']} {v['targets']}" for v in bad]
    page.close()
    assert not found, "\n".join(f"{p}: {'; '.join(v)}" for p, v in found.items())
