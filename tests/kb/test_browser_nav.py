"""Headless Chromium against the built site: navigation, math without JavaScript, claim
boxes (size, contrast in both themes), equation numbers on mobile, console errors on
every page. Screenshots of the Pascanu note (light/dark, desktop/mobile) go to
``screenshots/`` (git-ignored).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.kb.test_browser import SHOTS, Watch

pytestmark = pytest.mark.browser

NOTE = "papers/pascanu2013/index.html"
DESKTOP = {"width": 1280, "height": 900}
MOBILE = {"width": 390, "height": 844}

# WCAG contrast of every text-bearing element under `root` against its effective background
# (ancestors' backgrounds composited); returns [[ratio, text, color, background], ...].
CONTRAST_JS = """
(root) => {
  const parse = (c) => {
    const m = c.match(/rgba?\\(([^)]+)\\)/); if (!m) return [0,0,0,0];
    const p = m[1].split(/[ ,\\/]+/).filter(Boolean).map(Number);
    return [p[0], p[1], p[2], p.length > 3 ? p[3] : 1]; };
  const over = (top, bottom) => { const a = top[3];
    return [0,1,2].map(i => top[i]*a + bottom[i]*(1-a)).concat([1]); };
  const bg = (el) => { const stack = [];
    for (let e = el; e; e = e.parentElement) { const c = parse(getComputedStyle(e).backgroundColor);
      if (c[3] > 0) stack.push(c); if (c[3] >= 1) break; }
    let acc = [255,255,255,1]; if (stack.length && stack[stack.length-1][3] >= 1) acc = stack.pop();
    while (stack.length) acc = over(stack.pop(), acc); return acc; };
  const lum = (c) => {
    const f = (v) => { v /= 255; return v <= 0.03928 ? v/12.92 : Math.pow((v+0.055)/1.055, 2.4); };
    return 0.2126*f(c[0]) + 0.7152*f(c[1]) + 0.0722*f(c[2]); };
  const out = [];
  root.querySelectorAll('*').forEach((el) => {
    const own = Array.from(el.childNodes).some(n => n.nodeType === 3 && n.textContent.trim());
    if (!own || el.closest('.katex') || el.closest('pre')) return;
    const s = getComputedStyle(el); if (s.visibility === 'hidden' || s.display === 'none') return;
    const b = bg(el); const fg = over(parse(s.color), b);
    const [l1, l2] = [lum(fg), lum(b)].sort((x, y) => y - x);
    out.push([(l1 + 0.05) / (l2 + 0.05), el.textContent.trim().slice(0, 40), s.color, String(b)]);
  });
  return out;
}
"""


def _page(chromium, scheme: str = "light", viewport: dict | None = None, js: bool = True):
    ctx = chromium.new_context(viewport=viewport or DESKTOP, color_scheme=scheme,
                               java_script_enabled=js)
    return ctx, ctx.new_page()


def test_math_reads_with_javascript_off(chromium, server) -> None:
    """With JavaScript disabled the note shows typeset math (built-time KaTeX), no TeX source."""
    ctx, page = _page(chromium, js=False)
    # innerText leaves out blocks not rendered yet (content-visibility): render them all
    page.route("**/offscreen.css", lambda route: route.fulfill(body="", content_type="text/css"))
    page.goto(f"{server}/{NOTE}", wait_until="load")
    assert page.locator(".katex").count() > 100
    assert page.locator("script[src*='katex']").count() == 0
    text = page.inner_text("article")
    assert "\\(" not in text and "\\[" not in text and "$$" not in text
    # KaTeX's fonts are loaded from the site: a typeset formula has real width
    assert page.locator(".katex-display").first.bounding_box()["width"] > 50
    ctx.close()


def test_no_console_or_katex_error_on_any_page(chromium, server, site_dir: Path) -> None:
    """Every page of the site loads with zero console errors and zero KaTeX errors."""
    ctx, page = _page(chromium)
    watch = Watch(page, "127.0.0.1")
    pages = sorted(p.relative_to(site_dir).as_posix() for p in site_dir.rglob("*.html")
                   if p.name != "404.html")
    bad = {}
    for rel in pages:
        watch.errors.clear()
        page.goto(f"{server}/{rel}", wait_until="load")
        errors = list(watch.errors) + (["katex-error"] if page.locator(".katex-error").count() else [])
        if errors:
            bad[rel] = errors[:3]
    assert bad == {}
    assert watch.external == []
    ctx.close()


def test_notes_tab_opens_section_index_with_every_note(chromium, server) -> None:
    """The 논문 노트 tab opens the section index; the sidebar lists each note; no ⓘ status icon."""
    ctx, page = _page(chromium)
    page.goto(f"{server}/index.html", wait_until="load")
    page.locator(".md-tabs__link", has_text="논문 노트").click()
    page.wait_for_url("**/papers/index.html")
    assert page.locator("article h1").inner_text().startswith("논문 노트")
    sidebar = page.locator(".md-sidebar--primary")
    for href in ("pascanu2013/index.html", "pascanu2013/experiments.html", "hochreiter1997/index.html"):
        assert sidebar.locator(f"a[href$='{href}']").count() >= 1, href
    assert page.locator(".md-status").count() == 0
    sidebar.locator("a[href$='hochreiter1997/index.html']").first.click()
    page.wait_for_url("**/hochreiter1997/index.html")
    badge = page.locator(".note-status .reading-status")
    assert badge.inner_text().replace("\n", " ") == "읽기 상태 읽는 중"
    assert badge.get_attribute("title")
    ctx.close()


def test_claims_index_lands_on_the_statement(chromium, server) -> None:
    """Following a claims-index link shows the claim's title and statement at the top of the view."""
    ctx, page = _page(chromium)
    page.goto(f"{server}/claims.html", wait_until="load")
    link = page.locator("article a[href*='#claim-']").first
    anchor = link.get_attribute("href").split("#", 1)[1]
    link.click()
    page.wait_for_url(f"**#{anchor}")
    page.wait_for_timeout(500)
    box = page.locator(f".admonition.claim:has(#{anchor})")
    title = box.locator(".admonition-title").bounding_box()
    statement = box.locator("p:not(.admonition-title)").first.bounding_box()
    assert 0 <= title["y"] < 300, title
    assert statement["y"] < DESKTOP["height"], statement
    ctx.close()


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_claim_boxes_readable_and_contrasted(chromium, server, scheme: str) -> None:
    """Claim boxes: test names near body size; every text at contrast >= 4.5:1, in both themes."""
    ctx, page = _page(chromium, scheme)
    page.goto(f"{server}/{NOTE}", wait_until="load")
    body = float(page.locator("article > p").first.evaluate("e => parseFloat(getComputedStyle(e).fontSize)"))
    names = page.locator(".claim-tests li code")
    sizes = names.evaluate_all("els => els.map(e => parseFloat(getComputedStyle(e).fontSize))")
    assert sizes and min(sizes) >= 0.85 * body, (min(sizes), body)
    worst = []
    for i in range(min(page.locator(".admonition.claim").count(), 6)):
        box = page.locator(".admonition.claim").nth(i)
        worst += box.evaluate(CONTRAST_JS)
    low = [w for w in worst if w[0] < 4.5]
    assert worst and low == [], sorted(low)[:5]
    ctx.close()


def test_equation_numbers_do_not_overlap_on_mobile(chromium, server) -> None:
    """On a 390 px screen an equation number sits beside its formula (the formula may scroll)."""
    ctx, page = _page(chromium, viewport=MOBILE)
    page.goto(f"{server}/{NOTE}", wait_until="load")
    overlaps = page.evaluate("""() => {
      const out = [];
      document.querySelectorAll('.katex-display').forEach((d) => {
        const tag = d.querySelector('.katex-tag'); if (!tag) return;
        const t = tag.getBoundingClientRect();
        d.querySelectorAll('.katex-html > .base').forEach((b) => {
          const r = b.getBoundingClientRect();
          if (r.right > t.left + 0.5 && r.left < t.right - 0.5) out.push(d.textContent.slice(0, 30));
        });
      });
      return [document.querySelectorAll('.katex-tag').length, out];
    }""")
    assert overlaps[0] > 0 and overlaps[1] == []
    ctx.close()


@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize("device", ["desktop", "mobile"])
def test_screenshots_of_the_note(chromium, server, scheme: str, device: str) -> None:
    """Screenshots of the note (top, and a claim box with an equation) for people to look at."""
    SHOTS.mkdir(exist_ok=True)
    ctx, page = _page(chromium, scheme, DESKTOP if device == "desktop" else MOBILE)
    watch = Watch(page, "127.0.0.1")
    page.goto(f"{server}/{NOTE}", wait_until="networkidle")
    page.screenshot(path=str(SHOTS / f"note-{device}-{scheme}.png"))
    page.locator(".katex-display:has(.katex-tag)").first.scroll_into_view_if_needed()
    page.screenshot(path=str(SHOTS / f"note-{device}-{scheme}-equation.png"))
    page.locator(".admonition.claim").first.scroll_into_view_if_needed()
    page.screenshot(path=str(SHOTS / f"note-{device}-{scheme}-claim.png"))
    assert watch.errors == [] and watch.external == []
    ctx.close()
