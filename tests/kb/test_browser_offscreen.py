"""Offscreen blocks skip style and layout, and nothing a reader sees changes (issue #11, weight).

``docs/assets/stylesheets/offscreen.css`` gives claim boxes, display formulas and figures
``content-visibility: auto``, and so do the paragraphs, lists, tables and code blocks of the
text: while far from the viewport the browser neither styles nor
lays them out, which is what brings the Pascanu note's DOMContentLoaded under 1 s (the
budget itself is checked in test_budgets.py). These tests pin down what that must not cost:

* every element of the note's content has the same box, to the pixel, with and without the
  stylesheet, on a desktop and on a phone, and on the LSTM note (the viewport is made as
  tall as the page, so that every block is rendered): no margin collapses differently and
  no size is a placeholder;
* offscreen blocks really are skipped after the load (else the stylesheet does nothing);
* a focus ring at the edge of a skipped-then-rendered block is not clipped (paint containment
  would clip it without ``overflow-clip-margin``).
"""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.browser

NOTE = "papers/pascanu2013/index.html"
LSTM = "papers/hochreiter1997/index.html"
DESKTOP = {"width": 1280, "height": 900}
MOBILE = {"width": 390, "height": 844}
SKIPPED = (".md-typeset .admonition, .md-typeset .katex-display, .md-typeset .nb-figure, "
           ".md-content__inner > p")

# Every element of the content: its tag and class, and its box in page coordinates.
BOXES = """() => [...document.querySelectorAll('.md-content *')].map(e => {
  const r = e.getBoundingClientRect();
  return [e.tagName + '.' + (e.getAttribute('class') || ''), r.x, r.y + scrollY, r.width, r.height];
})"""
# The document height once the fonts in use have loaded and two animation frames have passed
# (content-visibility decides what to render in a frame, so a freshly enlarged viewport takes a
# frame or two to settle; and a block rendered for the first time may only then request a KaTeX
# font, whose fallback is a few pixels narrower: measured before it loads, an inline formula
# "moved" by -6.22 px in one CI run).
SETTLED_HEIGHT = """() => document.fonts.ready.then(() => new Promise(done => requestAnimationFrame(
  () => requestAnimationFrame(() => done(document.documentElement.scrollHeight)))))"""
# Every font face the stylesheets declare, loaded: ``document.fonts.ready`` waits only for the
# faces already requested, and a block that content-visibility renders late requests its KaTeX
# face late, so two runs could measure one formula in different fonts (a CI run on the LSTM note
# saw 59 math boxes shifted by 3.11 px). Loading a face that no text uses changes no layout, so
# loading all of them makes both runs measure the final fonts.
ALL_FONTS_LOADED = """() => Promise.all([...document.fonts].map(f => f.load().catch(() => null)))
  .then(() => document.fonts.ready).then(() => document.fonts.size)"""


def open_note(browser, server: str, viewport: dict, offscreen_css: bool, note: str = NOTE):
    """A note at ``viewport``, with ``offscreen.css`` or with that file served empty."""
    page = browser.new_page()
    page.set_viewport_size(viewport)
    if not offscreen_css:
        page.route("**/offscreen.css", lambda route: route.fulfill(body="", content_type="text/css"))
    page.goto(f"{server}/{note}", wait_until="networkidle")
    assert page.evaluate(ALL_FONTS_LOADED) > 0
    return page


def boxes_with_everything_rendered(page, width: int) -> tuple[int, list]:
    """Grow the viewport to the page's height until that height stops changing; the boxes."""
    height, stable = 0, 0
    for _ in range(40):
        now = page.evaluate(SETTLED_HEIGHT)
        stable = stable + 1 if now == height else 0
        if stable == 3:
            break
        if now != height:
            height = now
            page.set_viewport_size({"width": width, "height": height})
    else:
        pytest.fail(f"the note's height never settled (last {height} px)")
    page.evaluate(ALL_FONTS_LOADED)
    page.evaluate(SETTLED_HEIGHT)
    return height, page.evaluate(BOXES)


@pytest.mark.parametrize(("note", "viewport"), [(NOTE, DESKTOP), (NOTE, MOBILE), (LSTM, DESKTOP)],
                         ids=["desktop", "mobile", "lstm-desktop"])
def test_offscreen_css_moves_nothing(browser, server, note: str, viewport: dict) -> None:
    """Issue #11 (weight): with offscreen.css every content box is where it is without it."""
    page = open_note(browser, server, viewport, offscreen_css=True, note=note)
    height, boxes = boxes_with_everything_rendered(page, viewport["width"])
    page.close()
    page = open_note(browser, server, viewport, offscreen_css=False, note=note)
    ref_height, ref_boxes = boxes_with_everything_rendered(page, viewport["width"])
    page.close()
    assert height == ref_height
    assert [b[0] for b in boxes] == [b[0] for b in ref_boxes]
    moved = [(b[0], [round(x - y, 2) for x, y in zip(b[1:], r[1:], strict=True)])
             for b, r in zip(boxes, ref_boxes, strict=True)
             if max(abs(x - y) for x, y in zip(b[1:], r[1:], strict=True)) > 0.5]
    assert len(boxes) > 1000 and moved == [], moved[:10]


def test_offscreen_blocks_are_skipped_after_load(browser, server) -> None:
    """Issue #11 (weight): after the load most of the heavy blocks are not rendered.

    ``checkVisibility({contentVisibilityAuto: true})`` is false for content that the
    browser skips; the first claim box, far below the fold, is such content until it is
    scrolled to, and then it is rendered.
    """
    page = open_note(browser, server, DESKTOP, offscreen_css=True)
    counts = page.evaluate("""sel => {
      const blocks = [...document.querySelectorAll(sel)];
      const skipped = blocks.filter(b => b.firstElementChild &&
        !b.firstElementChild.checkVisibility({contentVisibilityAuto: true}));
      return [blocks.length, skipped.length];
    }""", SKIPPED)
    assert counts[0] > 30 and counts[1] > counts[0] * 0.75, counts
    title = page.locator(".admonition.claim .admonition-title").last
    assert not title.evaluate("e => e.checkVisibility({contentVisibilityAuto: true})")
    title.scroll_into_view_if_needed()
    page.evaluate(SETTLED_HEIGHT)
    assert title.evaluate("e => e.checkVisibility({contentVisibilityAuto: true})")
    page.close()


def test_focus_ring_at_a_block_edge_is_not_clipped(browser, server) -> None:
    """Issue #11 (weight, accessibility): a test link's focus ring inside a claim box is whole.

    The ring (outline-offset .2rem) of a link on a claim box's first line reaches past the
    box's padding edge; the paint containment of ``content-visibility`` would clip it there
    without ``overflow-clip-margin``. The pixel just outside the link's box, above it, must
    show the ring's color, as it does without offscreen.css.
    """
    import io

    from PIL import Image

    def ring_pixel(offscreen_css: bool) -> tuple[int, int, int]:
        page = open_note(browser, server, DESKTOP, offscreen_css)
        link = page.locator(".admonition.claim .admonition-title").first
        link.scroll_into_view_if_needed()
        page.evaluate(SETTLED_HEIGHT)
        # A ring as Material draws one on :focus-visible, in a colour no page pixel has,
        # on the box's first line, at the box's top edge.
        box = link.evaluate("""t => {
          const a = document.createElement('a'); a.href = '#'; a.textContent = 'ring';
          a.style.cssText = 'outline: 3px solid rgb(255, 0, 255); outline-offset: .2rem';
          t.parentElement.style.paddingTop = '0'; t.style.marginTop = '0';
          t.parentElement.insertBefore(a, t);
          const r = a.getBoundingClientRect();
          return {x: r.x + r.width / 2, y: r.y - 5};
        }""")
        page.evaluate(SETTLED_HEIGHT)
        shot = Image.open(io.BytesIO(page.screenshot())).convert("RGB")
        page.close()
        return shot.getpixel((round(box["x"]), round(box["y"])))

    assert ring_pixel(offscreen_css=False) == (255, 0, 255)
    assert ring_pixel(offscreen_css=True) == (255, 0, 255)
