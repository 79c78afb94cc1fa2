"""Figures in headless Chromium, light and dark (issue #11, figures).

For every executed figure on the notes, the experiments page and the concept pages,
in both color schemes: the SVG is announced as an image with its caption, it has no
card of its own (the page background shows through its margin), every legend entry
contrasts with the legend's background (3:1, WCAG 1.4.11), and its text is set in
the site's Korean font. Screenshots of each figure in both schemes go to
``screenshots/figures/`` for people to look at.
"""

from __future__ import annotations

import io
from collections import Counter
from pathlib import Path

import pytest

pytestmark = pytest.mark.browser

PAGES = {
    "pascanu2013": "papers/pascanu2013/index.html",
    "experiments": "papers/pascanu2013/experiments.html",
    "hochreiter1997": "papers/hochreiter1997/index.html",
    "basin": "concepts/basin-of-attraction.html",
    "bptt": "concepts/bptt.html",
    "jacobian": "concepts/jacobian.html",
    "spectral-radius": "concepts/spectral-radius.html",
}
FIGURE_COUNT = {"pascanu2013": 4, "basin": 2}
SHOTS = Path(__file__).resolve().parents[2] / "screenshots" / "figures"
MAX_PAGE_BYTES = 600_000

# Per legend entry (not the frame, not the labels): the strongest of its stroke and
# fill, blended over the legend's own background by its opacity.
LEGEND_COLORS = """svg => {
  const out = [];
  for (const legend of svg.querySelectorAll('g[id$="-legend_1"]')) {
    const frame = legend.querySelector(':scope > g > path');
    const fs = getComputedStyle(frame);
    for (const el of legend.querySelectorAll('path, use')) {
      if (el === frame || el.closest('defs') || el.closest('g[id*="-text_"]')) continue;
      const cs = getComputedStyle(el);
      const op = parseFloat(cs.opacity);
      out.push({id: el.closest('g[id]').id, stroke: cs.stroke,
                strokeOpacity: parseFloat(cs.strokeOpacity) * op,
                fill: cs.fill, fillOpacity: parseFloat(cs.fillOpacity) * op, frame: fs.fill,
                frameOpacity: parseFloat(fs.fillOpacity) * parseFloat(fs.opacity)});
    }
  }
  return out;
}"""


def _rgb(css: str) -> tuple[float, float, float] | None:
    if not css.startswith("rgb"):
        return None
    parts = css[css.index("(") + 1:css.index(")")].replace("/", ",").split(",")
    r, g, b = (float(p) for p in parts[:3])
    return r, g, b


def _blend(fg: tuple[float, ...], alpha: float, bg: tuple[float, ...]) -> tuple[float, ...]:
    return tuple(alpha * f + (1 - alpha) * b for f, b in zip(fg, bg, strict=True))


def _luminance(rgb: tuple[float, ...]) -> float:
    lin = [c / 255 / 12.92 if c / 255 <= 0.03928 else ((c / 255 + 0.055) / 1.055) ** 2.4 for c in rgb]
    return 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]


def _contrast(a: tuple[float, ...], b: tuple[float, ...]) -> float:
    la, lb = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


def test_no_page_with_figures_is_over_600_kb(site_dir: Path) -> None:
    """Dense figures are rasters: no note or concept page is over 600 KB (the basin page was 2.84 MB).

    Pages without figures (the API reference) are the page-budget test's business.
    """
    pages = [*site_dir.glob("papers/**/*.html"), *site_dir.glob("concepts/**/*.html")]
    sizes = {str(p.relative_to(site_dir)): p.stat().st_size for p in pages}
    assert sizes
    too_big = {k: v for k, v in sizes.items() if v > MAX_PAGE_BYTES}
    assert not too_big, too_big


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_figures_in_both_themes(browser, server, scheme: str) -> None:
    """Each figure: role=img with its caption, no white card, legend visible, Korean font."""
    from PIL import Image

    SHOTS.mkdir(parents=True, exist_ok=True)
    page = browser.new_page()
    page.emulate_media(color_scheme=scheme)
    want = "slate" if scheme == "dark" else "default"
    for name, path in PAGES.items():
        page.goto(f"{server}/{path}", wait_until="networkidle")
        # Render every block now: offscreen.css lets the browser skip blocks far from the
        # viewport (content-visibility), and a skipped figure's box can stay empty while
        # Playwright waits for it to be visible. Lazy rendering itself is checked, block by
        # block, in test_browser_offscreen.py; this test is about the figures' looks.
        page.add_style_tag(content="* { content-visibility: visible !important; }")
        # Material follows prefers-color-scheme on a first visit; set it for good measure.
        page.evaluate(f"document.body.setAttribute('data-md-color-scheme', '{want}')")
        page.evaluate("document.fonts.ready.then(() => true)")
        page.wait_for_timeout(300)
        bg = _rgb(page.evaluate("getComputedStyle(document.body).backgroundColor"))
        assert bg is not None
        assert (_luminance(bg) < 0.05) == (scheme == "dark"), (name, bg)
        figures = page.locator(".nb-figure")
        count = figures.count()
        assert count == FIGURE_COUNT.get(name, 1), (name, count)
        for i in range(count):
            fig = figures.nth(i)
            svg = fig.locator("svg")
            label = svg.get_attribute("aria-label")
            assert svg.get_attribute("role") == "img" and label and len(label) > 20, (name, i)
            assert svg.locator("title").first.text_content() == label
            assert svg.evaluate("s => getComputedStyle(s).backgroundColor") == "rgba(0, 0, 0, 0)"
            font = svg.locator("text").first.evaluate("t => getComputedStyle(t).fontFamily")
            assert "Noto Sans CJK KR" in font, font
            assert page.evaluate("document.fonts.check('12px \"Noto Sans CJK KR\"', '가')")
            shot = fig.screenshot(path=str(SHOTS / f"{name}-{i + 1}-{scheme}.png"))
            image = Image.open(io.BytesIO(shot)).convert("RGB")
            w, h = image.size
            # The figure's margin shows the page, not a card: the commonest color of the
            # outermost 2 px of the figure is the page background.
            border = [image.getpixel((x, y)) for x in range(w) for y in (0, 1, h - 2, h - 1)]
            border += [image.getpixel((x, y)) for y in range(h) for x in (0, 1, w - 2, w - 1)]
            common = Counter(border).most_common(1)[0][0]
            assert _contrast(common, bg) < 1.2, (name, i, scheme, common, bg)
            entries = svg.evaluate(LEGEND_COLORS)
            for e in entries:
                frame = _blend(_rgb(e["frame"]) or bg, e["frameOpacity"], bg)
                best = 0.0
                for color, alpha in ((e["stroke"], e["strokeOpacity"]), (e["fill"], e["fillOpacity"])):
                    rgb = _rgb(color)
                    if rgb is not None and alpha > 0:
                        best = max(best, _contrast(_blend(rgb, alpha, frame), frame))
                assert best >= 3.0, (name, i, scheme, e, best)
    page.close()
