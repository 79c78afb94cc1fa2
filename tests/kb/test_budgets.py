"""Weight and error budgets of the built site (issue #11), measured in headless Chromium.

* the Pascanu note's HTML + CSS + JS transfer <= 1.2 MB;
* its DOMContentLoaded <= 1 s on localhost (median of 5 loads), and its main thread works
  <= 0.5 s before DOMContentLoaded (median of 5, read from a trace: CPU time, which a busy
  machine does not inflate much, so a regression shows even where wall-clock time is noisy);
* Material's bundle runs after DOMContentLoaded (``overrides/main.html``) and still mounts;
* no page's HTML is over 600 KB;
* zero KaTeX errors and zero console errors on every page of the site.

Where the note's time before DOMContentLoaded went (shared 2-core machine, load 3-5, traced):
before ``offscreen.css`` 1.8 s of main-thread work (the theme's script restyled and laid out
the whole note about six times); with it 0.6 s: parsing with the renderer's progressive
frames (style and layout of what was parsed so far) about 0.3 s, Material's bundle (a
parser-blocking script, 130 ms) and its DOMContentLoaded handler (130 ms), wall-clock
DOMContentLoaded 0.9-1.2 s. With the bundle after DOMContentLoaded: 0.29 s of work (parsing
and those frames; their largest layouts are first uses of fonts, not many boxes),
DOMContentLoaded median 0.44-0.61 s at load 3-6 (0.96-1.22 s before, same runs). The page
reads without JavaScript, so nothing the reader needs waits for the bundle.

The search index (0.9 MB) is loaded only when search opens: see test_browser_search.py.
"""

from __future__ import annotations

import statistics
from collections import Counter
from pathlib import Path

import pytest

NOTE = "papers/pascanu2013/index.html"
NOTE_BUDGET_BYTES = 1_200_000
DCL_BUDGET_MS = 1_000
MAIN_THREAD_BUDGET_MS = 500
PAGE_HTML_BUDGET_BYTES = 600 * 1024
WEIGHED_TYPES = {"document", "stylesheet", "script"}


def html_pages(site_dir: Path) -> list[str]:
    """Every HTML page of the site, site-relative, sorted."""
    return sorted(p.relative_to(site_dir).as_posix() for p in site_dir.rglob("*.html"))


@pytest.mark.site
def test_no_page_html_is_over_600_kb(site_dir: Path) -> None:
    """Issue #11 (weight): every page's HTML is at most 600 KB (the basin page was 2.84 MB)."""
    sizes = {p: (site_dir / p).stat().st_size for p in html_pages(site_dir)}
    over = {p: f"{s / 1024:.0f} KB" for p, s in sizes.items() if s > PAGE_HTML_BUDGET_BYTES}
    assert not over, f"pages over {PAGE_HTML_BUDGET_BYTES // 1024} KB: {over}"


def weigh(page, url: str) -> tuple[dict[str, int], float]:
    """Load ``url`` with an empty cache; body bytes per resource type, DOMContentLoaded (ms).

    Sizes are the Resource Timing ``encodedBodySize`` of the document and of every stylesheet
    and script the page loaded (lazy ones included), by file extension.
    """
    cdp = page.context.new_cdp_session(page)
    cdp.send("Network.clearBrowserCache")
    cdp.detach()
    page.goto(url, wait_until="load")
    page.wait_for_load_state("networkidle")
    page.wait_for_function("() => performance.getEntriesByType('navigation')[0].loadEventEnd > 0")
    sizes, dcl = page.evaluate("""() => {
        const nav = performance.getEntriesByType('navigation')[0];
        const sizes = {document: nav.encodedBodySize};
        for (const r of performance.getEntriesByType('resource')) {
            const path = new URL(r.name).pathname;
            const kind = /\\.css$/.test(path) ? 'stylesheet' : /\\.m?js$/.test(path) ? 'script' : null;
            if (kind) sizes[kind] = (sizes[kind] || 0) + r.encodedBodySize;
        }
        return [sizes, nav.domContentLoadedEventEnd - nav.startTime];
    }""")
    return sizes, float(dcl)


# Main-thread work is read from a Chrome trace: the renderer's main thread is the one that
# parses the page; thread time (tdur) counts what it ran, not what it waited for.
TRACE_CATEGORIES = ["devtools.timeline", "disabled-by-default-devtools.timeline", "loading",
                    "blink.user_timing"]
LOADS = 5


def load_with_trace(page, url: str) -> tuple[float, float]:
    """Load ``url`` with an empty cache; (DOMContentLoaded in ms, main-thread ms before it).

    The second number is the CPU time of the renderer's main thread from navigation to the
    end of the DOMContentLoaded event (parsing, the theme's script, style and layout). It
    does not grow when other processes take the CPU, so it can be checked on a shared
    machine; DOMContentLoaded itself is larger (I/O, and on two cores the browser's other
    processes and threads compete with the main thread).
    """
    cdp = page.context.new_cdp_session(page)
    cdp.send("Network.clearBrowserCache")
    events: list[dict] = []
    done: list[bool] = []
    cdp.on("Tracing.dataCollected", lambda e: events.extend(e["value"]))
    cdp.on("Tracing.tracingComplete", lambda e: done.append(True))
    cdp.send("Tracing.start", {"traceConfig": {"includedCategories": TRACE_CATEGORIES},
                               "transferMode": "ReportEvents"})
    page.goto(url, wait_until="load")
    page.wait_for_function("() => performance.getEntriesByType('navigation')[0].loadEventEnd > 0")
    dcl = page.evaluate("() => performance.getEntriesByType('navigation')[0].domContentLoadedEventEnd")
    cdp.send("Tracing.end")
    for _ in range(200):
        if done:
            break
        page.wait_for_timeout(50)
    cdp.detach()
    assert done, "the trace did not complete"
    parsing = [e for e in events if e.get("name") == "ParseHTML"
               and e.get("args", {}).get("beginData", {}).get("url", "").split("#")[0] == url]
    assert parsing, "no ParseHTML event of the page in the trace"
    main = Counter((e["pid"], e["tid"]) for e in parsing).most_common(1)[0][0]
    frames = {e["args"]["beginData"].get("frame") for e in parsing}
    # the page's own frame: the same thread also marks the DOMContentLoaded of documents
    # that the theme's script parses later (DOMParser) and of other frames
    ends = [e["ts"] for e in events
            if (e["pid"], e["tid"]) == main and e.get("name") == "domContentLoadedEventEnd"
            and e.get("args", {}).get("frame") in frames]
    assert ends, "no DOMContentLoaded mark in the trace"
    end = max(ends)
    busy = sum(e.get("tdur", e.get("dur", 0)) for e in events
               if (e["pid"], e["tid"]) == main and e.get("ph") == "X" and e.get("name") == "RunTask"
               and e["ts"] <= end)
    return float(dcl), busy / 1000


@pytest.mark.browser
def test_note_main_thread_work_before_dcl(browser, server) -> None:
    """Issue #11 (weight): the note's main thread works <= 0.5 s before DOMContentLoaded.

    Median of 5 loads (see ``load_with_trace``): 1.8 s before offscreen.css, 0.6 s with it,
    0.29 s with Material's bundle after DOMContentLoaded (same machine; the module docstring
    says where the time goes). The bound keeps the wall-clock budget of
    ``test_note_load_time`` a margin on a loaded machine.
    """
    loads = []
    for _ in range(LOADS):
        page = browser.new_page()
        loads.append(load_with_trace(page, f"{server}/{NOTE}"))
        page.close()
    busy = statistics.median(b for _, b in loads)
    print(f"{NOTE}: main thread busy {busy:.0f} ms before DOMContentLoaded (median of {LOADS})")
    assert busy <= MAIN_THREAD_BUDGET_MS, f"{NOTE}: {busy:.0f} ms of main-thread work before DOMContentLoaded"


@pytest.mark.browser
def test_note_load_time(browser, server) -> None:
    """Issue #11 (weight): the note's DOMContentLoaded <= 1 s on localhost (median of 5 loads).

    Wall-clock, empty cache, on the shared 2-core machine: median 0.44-0.61 s at load 3-6
    (0.96-1.22 s with the bundle before DOMContentLoaded, interleaved in the same runs);
    0.75-0.99 s at load 7-9 (a mutation run and another test suite on the same cores).
    """
    loads = []
    for _ in range(LOADS):
        page = browser.new_page()
        loads.append(weigh(page, f"{server}/{NOTE}")[1])
        page.close()
    dcl = statistics.median(loads)
    print(f"{NOTE}: DOMContentLoaded median {dcl:.0f} ms, min {min(loads):.0f} ms (of {LOADS})")
    assert dcl <= DCL_BUDGET_MS, f"{NOTE}: DOMContentLoaded {dcl:.0f} ms (median of {LOADS})"


@pytest.mark.browser
def test_note_transfer_and_load_time(browser, server) -> None:
    """Issue #11 (weight): the note's HTML+CSS+JS <= 1.2 MB (DOMContentLoaded is printed)."""
    loads = []
    for _ in range(3):  # the best of three: the machine is shared
        page = browser.new_page()
        loads.append(weigh(page, f"{server}/{NOTE}"))
        page.close()
    sizes = loads[0][0]
    total = sum(sizes.values())
    dcl = min(d for _, d in loads)
    detail = ", ".join(f"{k} {v / 1e3:.0f} kB" for k, v in sorted(sizes.items()))
    problems = []
    if total > NOTE_BUDGET_BYTES:
        problems.append(f"{total / 1e6:.2f} MB of HTML+CSS+JS ({detail})")
    print(f"{NOTE}: DOMContentLoaded {dcl:.0f} ms wall-clock (best of 3; budget {DCL_BUDGET_MS} ms, "
          "checked in test_note_load_time)")
    assert not problems, f"{NOTE}: " + "; ".join(problems)


@pytest.mark.browser
def test_every_page_has_no_console_or_katex_error(browser, server, site_dir: Path) -> None:
    """Issue #11: crawling every page gives zero console errors and zero KaTeX errors."""
    page = browser.new_page()
    current = {"path": ""}
    errors: list[str] = []
    page.on("console", lambda m: m.type == "error" and errors.append(f"{current['path']}: {m.text}"))
    page.on("pageerror", lambda e: errors.append(f"{current['path']}: {e}"))
    katex: dict[str, int] = {}
    for path in html_pages(site_dir):
        current["path"] = path
        page.goto(f"{server}/{path}", wait_until="load")
        page.wait_for_timeout(50)
        bad = page.locator(".katex-error").count()
        if bad:
            katex[path] = bad
    page.close()
    assert not katex, f"KaTeX errors per page: {katex}"
    assert not errors, "\n".join(errors[:20])


# Added before any script of the page: what had run when the page's own DOMContentLoaded
# ended (Material's bundle defines window.document$), and how often the event came.
AT_DCL = """
window.kbDcl = {count: 0, themeBefore: null};
document.addEventListener('DOMContentLoaded', () => {
  window.kbDcl.count += 1;
  if (window.kbDcl.themeBefore === null) window.kbDcl.themeBefore = 'document$' in window;
});
"""


@pytest.mark.browser
def test_theme_script_runs_after_dcl_and_mounts(browser, server) -> None:
    """Issue #11 (weight): Material's bundle runs after DOMContentLoaded, then mounts as before.

    ``overrides/main.html`` holds the bundle (preloaded) until DOMContentLoaded and, once it
    has run, dispatches the event again for Material's ``document$``. Checked: the bundle had
    not run at the page's DOMContentLoaded; afterwards its components are there exactly once
    (one copy button per code block, the palette toggle, the search box), and they work.
    """
    page = browser.new_page()
    page.add_init_script(AT_DCL)
    page.goto(f"{server}/{NOTE}", wait_until="load")
    page.wait_for_function("() => document.documentElement.classList.contains('js')")
    seen = page.evaluate("() => window.kbDcl")
    assert seen == {"count": 2, "themeBefore": False}, seen
    page.wait_for_function("() => document.querySelector('.md-code__button[data-md-type=copy]')")
    blocks = page.locator(".md-content pre > code").count()
    assert blocks > 0 and page.locator(".md-code__button[data-md-type=copy]").count() == blocks
    before = page.evaluate("() => document.body.getAttribute('data-md-color-scheme')")
    page.locator("form[data-md-component=palette] label:visible").first.click()
    page.wait_for_function(f"() => document.body.getAttribute('data-md-color-scheme') !== {before!r}")
    page.keyboard.press("s")
    page.locator("input.md-search__input").wait_for(state="visible")
    page.close()
