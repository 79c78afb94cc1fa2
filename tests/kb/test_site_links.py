"""The built site's links and navigation: every internal link and anchor resolves, over
http and from disk; the notes' section; no SUMMARY page; reading-status badges.
"""

from __future__ import annotations

import json
import re
import urllib.error
import urllib.request
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urljoin, urlparse

import pytest

pytestmark = pytest.mark.site


class _Links(HTMLParser):
    """Collects ``href``/``src`` of links and resources, and every ``id``/``name``."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.links: list[str] = []
        self.ids: set[str] = set()
        self._skip = 0  # inside <code>/<pre> listings hrefs are text

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        for key in ("id", "name"):
            if a.get(key):
                self.ids.add(a[key])
        if tag in ("a", "link") and a.get("href"):
            if tag == "link" and (a.get("rel") or "") in ("canonical", "alternate"):
                return
            self.links.append(a["href"])
        if tag in ("script", "img", "source", "iframe") and a.get("src"):
            self.links.append(a["src"])


def _parse(text: str) -> _Links:
    p = _Links()
    p.feed(text)
    return p


def crawl(start: str, read) -> tuple[int, list[str]]:
    """Follow every internal link from ``start``; returns (pages crawled, broken links).

    ``read(url)`` returns the text of a URL or ``None`` when it does not resolve.
    """
    base = urlparse(start)
    seen_pages: dict[str, _Links | None] = {}
    broken: list[str] = []
    queue = [start]

    def page(url: str) -> _Links | None:
        if url not in seen_pages:
            text = read(url)
            seen_pages[url] = None if text is None else (_parse(text) if url.endswith(".html") else _Links())
            if text is not None and url.endswith(".html"):
                queue.append(url)
        return seen_pages[url]

    page(start)
    done: set[str] = set()
    while queue:
        url = queue.pop()
        if url in done:
            continue
        done.add(url)
        for href in seen_pages[url].links:  # type: ignore[union-attr]
            target = urljoin(url, href)
            t = urlparse(target)
            if t.scheme in ("mailto", "data", "javascript") or (
                    t.scheme in ("http", "https") and t.netloc != base.netloc):
                continue
            doc = target.split("#", 1)[0]
            found = page(doc)
            if found is None:
                broken.append(f"{url} -> {href} (no such page)")
            elif t.fragment and doc.endswith(".html") and unquote(t.fragment) not in found.ids:
                broken.append(f"{url} -> {href} (no such anchor)")
    return len(done), broken


def _read_http(url: str) -> str | None:
    try:
        with urllib.request.urlopen(url, timeout=30) as r:
            return r.read().decode("utf-8", "replace") if url.endswith(".html") else ""
    except urllib.error.HTTPError:
        return None


def _read_file(url: str) -> str | None:
    path = Path(unquote(urlparse(url).path))
    if not path.is_file():  # a browser shows a folder listing, not the page: broken
        return None
    return path.read_text(encoding="utf-8", errors="replace") if path.suffix == ".html" else ""


def test_crawler_finds_broken_links(tmp_path: Path) -> None:
    """The crawler itself: a missing page and a missing anchor are reported, good links are not."""
    (tmp_path / "index.html").write_text(
        '<a href="a.html#x">ok</a><a href="missing.html">bad</a><a href="a.html#nope">bad</a>'
        '<a href="https://example.org/">external</a><a href="sub/">folder</a>', encoding="utf-8")
    (tmp_path / "a.html").write_text('<h2 id="x">x</h2><a href="index.html">back</a>', encoding="utf-8")
    (tmp_path / "sub").mkdir()
    n, broken = crawl((tmp_path / "index.html").as_uri(), _read_file)
    assert n == 2
    assert len(broken) == 3 and any("missing.html" in b for b in broken)
    assert any("#nope" in b for b in broken) and any("sub/" in b for b in broken)


def test_every_internal_link_resolves_over_http(server: str) -> None:
    """Crawled from the home page over http, every internal link and anchor resolves."""
    n, broken = crawl(f"{server}/index.html", _read_http)
    assert n > 30, f"only {n} pages reachable from the home page"
    assert broken == []


def test_every_internal_link_resolves_from_disk(site_dir: Path) -> None:
    """Crawled from the home page over file://, every internal link and anchor resolves."""
    n, broken = crawl((site_dir / "index.html").as_uri(), _read_file)
    assert n > 30
    assert broken == []


def _nav_links(html: str) -> list[str]:
    primary = html[html.index("md-nav--primary"):]
    return re.findall(r'<a href="([^"]+)"[^>]*class="md-nav__link', primary)


def test_notes_section_has_its_own_index_and_lists_each_note(site_dir: Path) -> None:
    """The '논문 노트' tab opens the section's index; each note has its own navigation entry."""
    home = (site_dir / "index.html").read_text(encoding="utf-8")
    tab = re.search(r'<a href="([^"]+)" class="md-tabs__link">\s*논문 노트', home)
    assert tab and tab.group(1) == "papers/index.html"
    nav = _nav_links(home)
    for note in ("papers/pascanu2013/index.html", "papers/hochreiter1997/index.html",
                 "papers/pascanu2013/experiments.html"):
        assert note in nav, f"{note} missing from the sidebar"
    index = (site_dir / "papers/index.html").read_text(encoding="utf-8")
    assert "pascanu2013/index.html" in index and "hochreiter1997/index.html" in index


def test_no_summary_page_is_built_or_indexed(site_dir: Path) -> None:
    """literate-nav's SUMMARY.md files feed the navigation but are not pages."""
    assert list(site_dir.rglob("SUMMARY*")) == []
    docs = json.loads((site_dir / "search/search_index.json").read_text(encoding="utf-8"))["docs"]
    assert [d["location"] for d in docs if "SUMMARY" in d["location"] or d["title"] == "SUMMARY"] == []
    assert "SUMMARY" not in (site_dir / "sitemap.xml").read_text(encoding="utf-8")


def test_reading_status_is_a_labelled_badge_not_page_status(site_dir: Path) -> None:
    """status: front matter shows as '읽기 상태: …', never as Material's unexplained page status."""
    for rel in ("index.html", "papers/index.html", "papers/pascanu2013/index.html",
                "papers/hochreiter1997/index.html"):
        html = (site_dir / rel).read_text(encoding="utf-8")
        assert "md-status" not in html, rel
    lstm = (site_dir / "papers/hochreiter1997/index.html").read_text(encoding="utf-8")
    badge = re.search(r'<p class="note-status"><span class="reading-status reading-status--(\w+)"'
                      r'[^>]*title="[^"]+"><span class="reading-status__label">읽기 상태</span> '
                      r'<span class="reading-status__value">([^<]+)</span>', lstm)
    assert badge and badge.groups() == ("reading", "읽는 중")
    # in bibliographies, the status is a separate badge, not glued to the venue
    # (the LSTM note cites Pascanu et al. 2013, pp. 1310-1318, a reference marked 읽음)
    bib = lstm[lstm.index('class="bibliography"'):]
    assert re.search(r'1318\.\s*<span class="reading-status reading-status--read"', bib)
    assert not re.search(r"1318\. 읽음", bib)


def test_home_lists_finished_notes_first(site_dir: Path) -> None:
    """Cards are ordered by reading status (읽음 first), then year: Pascanu before the LSTM note."""
    home = (site_dir / "index.html").read_text(encoding="utf-8")
    cards = home[home.index('class="grid cards"'):]
    assert cards.index("papers/pascanu2013/index.html") < cards.index("papers/hochreiter1997/index.html")
    assert 'href="papers/pascanu2013/index.html"' in cards  # a built link, not the .md source


def test_claims_index_and_test_pages_link_to_statements(site_dir: Path) -> None:
    """The claims index links to the claim's title anchor; test pages link back to claim and note."""
    claims = (site_dir / "claims.html").read_text(encoding="utf-8")
    targets = re.findall(r'href="(papers/[^"#]+)#(claim-[^"]+)"', claims)
    assert targets
    for page, anchor in targets:
        html = (site_dir / page).read_text(encoding="utf-8")
        # the anchor is inside the admonition's title, above the statement
        title = rf"""<p class="admonition-title"><span class=["']claim-anchor["'] id=["']{anchor}["']>"""
        assert re.search(title, html), anchor
    test_page = (site_dir / "tests/pascanu2013/test_recurrence.html").read_text(encoding="utf-8")
    assert re.search(r'이 테스트가 확인하는 주장:.*?href="../../papers/pascanu2013/index.html#claim-',
                     test_page, re.S)


def test_claim_boxes_show_the_last_run(site_dir: Path) -> None:
    """Each linked test shows its last run's duration, time and commit (from reports/claims.json)."""
    html = (site_dir / "papers/pascanu2013/index.html").read_text(encoding="utf-8")
    runs = re.findall(r'<span class="claim-run"[^>]*>(.*?)</span>', html, re.S)
    if not runs:
        pytest.skip("no reports/claims.json when the site was built")
    assert all(re.search(r"\d+\.\d\d s", r) and "<time datetime=" in r and "커밋" in r for r in runs)
