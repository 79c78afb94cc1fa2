"""Korean search in the browser (issue #11): particles, glossary synonyms, ranking, previews.

Each query of ``QUERIES`` is typed into Material's search box on the built site (headless
Debian Chromium); the page that must come first, and pages that must not match, are checked.
The query side is `docs/assets/javascripts/kb-search.js`, the index side
`notes_code/kb/search.py`.
"""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlparse

import pytest

pytestmark = pytest.mark.browser


NOTE = "papers/pascanu2013/index.html"
LSTM = "papers/hochreiter1997/index.html"
JACOBIAN = "concepts/jacobian.html"
BASIN = "concepts/basin-of-attraction.html"
RADIUS = "concepts/spectral-radius.html"
BPTT = "concepts/bptt.html"
READING = "reading-list.html"

# query -> (the page that must come first, pages that must not be among the results)
QUERIES: dict[str, tuple[str, tuple[str, ...]]] = {
    # the LSTM note has the one section titled with the word (기울기가 실제로 어떻게 흐르나)
    "기울기를": (LSTM, (READING,)),
    "기울기가": (LSTM, (READING,)),
    "경로": (LSTM, (READING,)),  # 20 times in the LSTM note (cell 경로), 5 in the Pascanu note
    "야코비안": (JACOBIAN, (READING,)),
    "야코비": (JACOBIAN, (READING,)),
    "Jacobian": (JACOBIAN, ()),
    "클리핑": (NOTE, (BASIN, RADIUS)),
    "clipping": (NOTE, (BASIN, RADIUS)),
    "끌개": (BASIN, (JACOBIAN, BPTT)),
    "attractor": (BASIN, (BPTT,)),
    "basin": (BASIN, (BPTT, JACOBIAN)),
    "소실": (NOTE, ()),
    "vanishing": (NOTE, ()),
    "exploding": (NOTE, ()),
    "스펙트럼 반지름": (RADIUS, ()),
    "고유값": (RADIUS, ()),
    "BPTT": (BPTT, ()),
    "LSTM": (LSTM, ()),
}
# Not a page of notes or concepts: these must never come first.
LOW_RANK = ("reference/", "tests/")


def search(page, base: str, query: str) -> list[dict]:
    """Type ``query`` into the search box of the home page; the result list, one dict a page.

    Each dict has ``path`` (site-relative, no query or anchor), ``href`` (the page),
    ``hrefs`` (the page and its matching sections) and ``text`` (the preview shown).
    """
    page.goto(f"{base}/index.html", wait_until="load")
    page.keyboard.press("s")
    box = page.locator("input.md-search__input")
    box.wait_for(state="visible")
    box.fill(query)
    box.press("End")
    page.wait_for_function(
        """() => { const m = document.querySelector('.md-search-result__meta');
                   return m && /일치하는 문서/.test(m.textContent); }""", timeout=20_000)
    page.wait_for_timeout(150)
    items = page.locator("li.md-search-result__item").evaluate_all(
        """els => els.map(li => ({href: li.querySelector('a').href, text: li.innerText,
                                  hrefs: [...li.querySelectorAll('a')].map(a => a.href)}))""")
    prefix = base.rstrip("/") + "/"
    for item in items:
        path = unquote(item["href"].split("?")[0].split("#")[0])
        item["path"] = path[len(prefix):] if path.startswith(prefix) else path
    return items


def top(items: list[dict], n: int = 3) -> list[str]:
    return [i["path"] for i in items[:n]]


def highlights(item: dict) -> list[tuple[str, list[str]]]:
    """``(href, words)`` for each link of a result that asks the page to highlight words."""
    out = []
    for href in item["hrefs"]:
        words = parse_qs(urlparse(href).query).get("h", [""])[0].split()
        if words:
            out.append((href, words))
    return out


@pytest.mark.parametrize("query", list(QUERIES))
def test_query_ranks_the_right_page_first(browser, server, query: str) -> None:
    """Issue #11 (Korean search): each query's page comes first; the excluded pages don't match."""
    first, absent = QUERIES[query]
    page = browser.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    items = search(page, server, query)
    paths = [i["path"] for i in items]
    assert paths, f"{query!r}: no result"
    assert paths[0] == first, f"{query!r}: top 3 {top(items)}"
    assert not paths[0].startswith(LOW_RANK)
    for path in absent:
        assert path not in paths, f"{query!r} matched {path}"
    assert errors == []
    page.close()


def test_particle_is_not_a_search_term(browser, server) -> None:
    """기울기를 searches 기울기: no result highlights the particle 를 on its own (was 81 marks)."""
    page = browser.new_page()
    items = search(page, server, "기울기를")
    note = next(i for i in items if i["path"] == NOTE)
    marked = highlights(note)
    assert marked and all(words == ["기울기"] for _, words in marked), marked
    page.goto(marked[0][0], wait_until="load")
    page.wait_for_selector("article mark", timeout=10_000)
    # textContent: a mark in a block not rendered yet (content-visibility, offscreen.css)
    # has no innerText until it is scrolled to
    marks = page.locator("article mark").all_text_contents()
    assert marks and all(m.startswith("기울기") for m in marks), sorted(set(marks))[:10]
    page.close()


def test_particles_do_not_change_the_results(browser, server) -> None:
    """기울기, 기울기를 and 기울기가 give the same pages in the same order (issue #11)."""
    page = browser.new_page()
    orders = {q: top(search(page, server, q), 5) for q in ("기울기", "기울기를", "기울기가")}
    page.close()
    assert orders["기울기를"] == orders["기울기"] == orders["기울기가"], orders


@pytest.mark.parametrize("word", ["경로", "사이"])
def test_nouns_are_not_split_into_syllables(browser, server, word: str) -> None:
    """경로 and 사이 are words, not 경 + 로 or 사 + 이: every highlight is the whole word."""
    page = browser.new_page()
    items = search(page, server, word)
    marked = [m for item in items[:3] for m in highlights(item)]
    assert marked and all(words == [word] for _, words in marked), marked
    page.goto(marked[0][0], wait_until="load")
    page.wait_for_selector("article mark", timeout=10_000)
    # textContent: a mark in a block not rendered yet (content-visibility, offscreen.css)
    # has no innerText until it is scrolled to
    marks = page.locator("article mark").all_text_contents()
    assert marks and all(m.startswith(word) for m in marks), sorted(set(marks))[:10]
    page.close()


def test_previews_show_rendered_math_not_tex(browser, server) -> None:
    """Search previews of the note read as text: no \\( \\) delimiters or TeX commands."""
    page = browser.new_page()
    for query in ("노름", "야코비", "끌개"):
        for item in search(page, server, query)[:5]:
            if item["path"].startswith(LOW_RANK):
                continue
            assert not re.search(r"\\[(\[]|\\(frac|mathbf|lambda|partial|sigma)\b", item["text"]), \
                (query, item["path"], item["text"][:300])
    page.close()


def test_search_from_disk_loads_the_index_when_opened(browser, site_dir: Path) -> None:
    """From file:// the inlined index is fetched only when search opens, and Korean search works."""
    page = browser.new_page()
    requested: list[str] = []
    page.on("request", lambda r: requested.append(r.url))
    page.goto((site_dir / NOTE).as_uri(), wait_until="load")
    page.wait_for_timeout(500)
    assert not any("search_index" in u for u in requested), requested
    page.keyboard.press("s")
    box = page.locator("input.md-search__input")
    box.wait_for(state="visible")
    box.fill("기울기를")
    box.press("End")
    page.wait_for_selector(".md-search-result__item", timeout=20_000)
    assert any(u.endswith("search/search_index.js") for u in requested)
    hrefs = page.locator(".md-search-result__item a").evaluate_all("els => els.map(e => e.href)")
    assert QUERIES["기울기를"][0] in hrefs[0]
    page.close()


def test_index_over_http_loads_only_when_search_opens(browser, server) -> None:
    """Over http the 0.9 MB index is not requested until the search box is focused."""
    page = browser.new_page()
    requested: list[str] = []
    page.on("request", lambda r: requested.append(r.url))
    page.goto(f"{server}/index.html", wait_until="networkidle")
    page.wait_for_timeout(3000)  # Material used to request it about a second after load
    assert not any("search_index" in u for u in requested), requested
    page.keyboard.press("s")  # Material's shortcut: opens search and focuses the box
    page.locator("input.md-search__input").wait_for(state="visible")
    page.wait_for_timeout(1500)
    assert any(u.endswith("search/search_index.json") for u in requested), requested
    page.close()
