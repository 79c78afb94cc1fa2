"""The built site: offline, nothing loaded from outside it, readable Korean anchors."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

pytestmark = pytest.mark.site

# Attributes and CSS/JS constructs that make a browser *load* something.
LOADERS = [
    re.compile(r"<(?:script|img|iframe|source|audio|video|embed)\b[^>]*\bsrc\s*=\s*[\"']?"
               r"(?P<url>[^\"'\s>]+)", re.I),
    re.compile(r"<link\b[^>]*\bhref\s*=\s*[\"']?(?P<url>[^\"'\s>]+)", re.I),
    re.compile(r"url\(\s*[\"']?(?P<url>[^\"')]+)", re.I),
    re.compile(r"@import\s+[\"'](?P<url>[^\"']+)", re.I),
    re.compile(r"\b(?:fetch|importScripts)\(\s*[\"'`](?P<url>[^\"'`]+)", re.I),
]
EXTERNAL = re.compile(r"^(?:https?:)?//", re.I)
# Links that are not resources: XML namespaces inside inline SVG and the like.
ALLOWED = re.compile(r"^https?://(?:www\.w3\.org|purl\.org|creativecommons\.org)/")


CODE = re.compile(r"<pre\b.*?</pre>|<code\b.*?</code>", re.S | re.I)


def external_loads(text: str) -> list[str]:
    """Every resource URL in ``text`` that points outside the site (code listings excluded)."""
    text = CODE.sub("", text)
    hits = []
    for pattern in LOADERS:
        for m in pattern.finditer(text):
            url = m.group("url")
            if EXTERNAL.match(url) and not ALLOWED.match(url):
                hits.append(url)
    return hits


def test_detector_catches_external_loads() -> None:
    """The scanner itself: it flags CDN scripts, styles, fonts and fetches, not prose links."""
    bad = ('<script src="https://cdn.x/y.js"></script><link rel="stylesheet" href="//fonts.g/c.css">'
           '<style>@font-face{src:url(https://f/x.woff2)}</style><script>fetch("https://a/b")</script>')
    assert len(external_loads(bad)) == 4
    assert external_loads('<a href="https://arxiv.org/abs/1211.5063">paper</a>') == []
    assert external_loads('<pre><code>url(https://example.org/listing)</code></pre>') == []


def test_no_external_resource_in_built_site(site_dir: Path) -> None:
    """No HTML, CSS or JS file of the built site loads anything from outside the site."""
    offenders = {}
    for path in site_dir.rglob("*"):
        if path.suffix in (".html", ".css", ".js") and path.is_file():
            text = path.read_text(encoding="utf-8", errors="replace")
            if path.name == "search_index.js":
                continue  # page text as data (code listings included), never loaded as URLs
            if path.suffix == ".js" and path.name.startswith("bundle"):
                # Material's bundle names CDN URLs only for mermaid and GitHub facts, which this
                # site does not use; what matters is what the pages ask for (browser test).
                continue
            hits = external_loads(text)
            if hits:
                offenders[str(path.relative_to(site_dir))] = hits[:5]
    assert offenders == {}


def test_math_is_rendered_at_build_time(site_dir: Path) -> None:
    """KaTeX runs at build time: pages hold typeset math, the CSS and fonts, and no KaTeX script."""
    assert list((site_dir / "assets/katex/fonts").glob("KaTeX_Main-Regular.woff2"))
    assert not (site_dir / "assets/katex/katex.min.js").exists()  # Node uses it; not published
    for rel in ("index.html", "papers/pascanu2013/index.html", "concepts/jacobian.html",
                "reference/notes_code/pascanu2013/jacobians.html"):
        html = (site_dir / rel).read_text(encoding="utf-8")
        assert "assets/katex/katex.min.css" in html and "iframe-worker" in html
        assert "katex.min.js" not in html and "auto-render" not in html and "katex-init" not in html
    note = (site_dir / "papers/pascanu2013/index.html").read_text(encoding="utf-8")
    assert note.count('class="katex"') > 100
    assert note.count('class="katex-display"') >= 5
    # every formula is typeset: no TeX delimiters left inside an arithmatex element
    assert not re.search(r'class="arithmatex">\\[(\[]', note)
    assert "katex-error" not in note
    api = (site_dir / "reference/notes_code/pascanu2013/jacobians.html").read_text(encoding="utf-8")
    assert 'class="katex"' in api  # docstring math (mkdocstrings) is rendered too


def test_math_in_headings_is_typeset_in_the_toc(site_dir: Path) -> None:
    """A heading with math shows typeset math in the table of contents, not TeX source."""
    html = (site_dir / "concepts/basin-of-attraction.html").read_text(encoding="utf-8")
    toc = html[html.index("md-nav--secondary"):]
    item = re.search(r'href="#1차원-예[^"]*"[^>]*>(.*?)</a>', toc, re.S)
    assert item, "the heading with math is missing from the TOC"
    assert 'class="katex"' in item.group(1) and "\\(" not in item.group(1)


def test_korean_headings_get_readable_anchors(site_dir: Path) -> None:
    """pymdownx.slugs keeps Hangul in anchors (no '#_1')."""
    html = (site_dir / "papers/pascanu2013/index.html").read_text(encoding="utf-8")
    ids = re.findall(r'<h[23] id="([^"]+)"', html)
    assert ids and all(not re.fullmatch(r"_\d+", i) for i in ids)
    assert any(re.search(r"[가-힣]", i) for i in ids)


def test_search_index_for_offline_use(site_dir: Path) -> None:
    """The offline plugin inlines the search index so search works from file://, in Korean."""
    index = json.loads((site_dir / "search/search_index.json").read_text(encoding="utf-8"))
    assert "ko" in index["config"]["lang"]
    js = (site_dir / "search/search_index.js").read_text(encoding="utf-8")
    assert js.startswith("var __index =")
    inlined = json.loads(js[len("var __index =") :])
    assert inlined["docs"] == index["docs"]
    assert any("기울기" in d["text"] for d in inlined["docs"])


def test_home_page_has_a_card_per_paper(site_dir: Path) -> None:
    """The home page shows one card per note, generated from front matter and claim statuses."""
    html = (site_dir / "index.html").read_text(encoding="utf-8")
    cards = re.search(r'<div class="grid cards">(.*?)</div>', html, re.S)
    assert cards, "no card grid on the home page"
    for title in ("On the difficulty of training recurrent neural networks", "Long Short-Term Memory"):
        assert title in cards.group(1)
    assert re.search(r"주장 \d+/\d+ 통과", cards.group(1))


def test_generated_backlinks_and_concept_users(site_dir: Path) -> None:
    """Concept pages list the notes linking to them; a note lists the notes that cite its paper."""
    jacobian = (site_dir / "concepts/jacobian.html").read_text(encoding="utf-8")
    section = jacobian.split('id="이-개념을-쓰는-노트"', 1)[1]
    assert "papers/pascanu2013/index.html" in section and "papers/hochreiter1997/index.html" in section
    pascanu = (site_dir / "papers/pascanu2013/index.html").read_text(encoding="utf-8")
    cited_by = pascanu.split('id="이-논문을-인용한-내-노트"', 1)[1]
    assert "../hochreiter1997/index.html" in cited_by
    # a citation of a paper that has a note links to the note, not only to the bibliography
    assert re.search(r'<a href="../hochreiter1997/index.html">Hochreiter &amp; Schmidhuber 1997</a>', pascanu)
