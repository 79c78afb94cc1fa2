"""Fixture sites: the build fails loudly, naming the page, on every kind of breakage."""

from __future__ import annotations

import json
from pathlib import Path

from tests.kb.conftest import ROOT, make_fixture_site, run_build

NOTE_HEAD = """---
title: Fixture note
authors: [A. Author]
year: 2020
status: 읽음
tags: [x]
date_read: 2026-01-01
---

# Fixture note

"""


def _build(tmp_path: Path, pages: dict[str, str], **kw: object):
    pages = {"index.md": "# 홈\n", **pages}
    config = make_fixture_site(tmp_path, pages, **kw)  # type: ignore[arg-type]
    return run_build(config, tmp_path / "out")


def test_fixture_site_builds(tmp_path: Path) -> None:
    """The fixture itself is sound: a note with math, an executed block and a citation builds."""
    page = NOTE_HEAD + ("$$a^2$$\n\n```python exec=\"on\"\nprint(6 * 7)\n```\n\n"
                        "인용 [@bengio1994].\n")
    proc = _build(tmp_path, {"papers/fx/index.md": page})
    assert proc.returncode == 0, proc.stderr
    html = (tmp_path / "out" / "papers" / "fx" / "index.html").read_text(encoding="utf-8")
    assert "42" in html and "ref-bengio1994" in html


def test_failing_code_block_fails_build_naming_page(tmp_path: Path) -> None:
    """markdown-exec only warns on a raising block; our hook makes the build fail and name the page."""
    page = NOTE_HEAD + '```python exec="on"\nraise ValueError("boom-42")\n```\n'
    proc = _build(tmp_path, {"papers/fx/index.md": page})
    assert proc.returncode != 0
    assert "papers/fx/index.md" in proc.stderr
    assert "boom-42" in proc.stderr


def test_broken_internal_link_fails_build(tmp_path: Path) -> None:
    """validation: a link to a missing page fails the strict build."""
    proc = _build(tmp_path, {"papers/fx/index.md": NOTE_HEAD + "[없는 쪽](../nope.md)\n"})
    assert proc.returncode != 0
    assert "nope.md" in proc.stderr


def test_broken_korean_anchor_fails_build(tmp_path: Path) -> None:
    """validation: a link to a missing Korean anchor fails; the existing one (readable slug) passes."""
    good = NOTE_HEAD + "## 기울기 폭발\n\n[여기](#기울기-폭발)\n"
    assert _build(tmp_path / "a", {"papers/fx/index.md": good}).returncode == 0
    bad = NOTE_HEAD + "## 기울기 폭발\n\n[여기](#기울기-소실)\n"
    proc = _build(tmp_path / "b", {"papers/fx/index.md": bad})
    assert proc.returncode != 0
    assert "기울기-소실" in proc.stderr


def test_unknown_citation_key_fails_build(tmp_path: Path) -> None:
    """Prose cites by key; an unknown key fails the build and names file, line and key."""
    proc = _build(tmp_path, {"papers/fx/index.md": NOTE_HEAD + "text [@nobody2099]\n"})
    assert proc.returncode != 0
    assert "nobody2099" in proc.stderr and "papers/fx/index.md" in proc.stderr


XSS = '<script>alert(1)</script> "q" \'s <svg onload=alert(2)>'
XSS_NOTE = f"""---
title: {json.dumps("T " + XSS)}
authors: [{json.dumps("A " + XSS)}]
year: 2020
status: 읽는 중
tags: [{json.dumps("<script>tag</script>")}]
date_read: 2026-01-01
---

# Fixture note

!!! claim "fx/safe-claim"
    A claim.

인용 [@xss2020].

<!-- bibliography -->
"""
XSS_REFS = f"""xss2020:
  authors: {json.dumps("Au " + XSS)}
  short: {json.dumps("S " + XSS)}
  title: {json.dumps("Ti " + XSS)}
  venue: {json.dumps("V " + XSS)}
  year: 2020
  url: "https://example.org/?a=\\"onmouseover=alert(4)"
  status: 읽음
  note: fx
"""
XSS_TEST = '''import pytest


@pytest.mark.claim("fx/safe-claim")
def test_safe() -> None:
    """fx/safe-claim."""
'''


def test_data_is_escaped_everywhere_it_enters_html(tmp_path: Path) -> None:
    """<script>, <svg onload>, quotes from front matter and references.yaml never reach HTML raw.

    Injected through the note's title, authors and tags, and through a bibliography entry's
    authors, short label, title, venue and URL; checked in every built page (the navigation
    of each page, <title>, home cards, the notes' index, claims index, reading list, note).
    """
    pages = {"index.md": "# 홈\n\n<!-- paper-cards -->\n", "papers/fx/index.md": XSS_NOTE}
    config = make_fixture_site(tmp_path, pages, tests={"fx/test_fx.py": XSS_TEST},
                               references=XSS_REFS)
    proc = run_build(config, tmp_path / "out")
    assert proc.returncode == 0, proc.stderr[-3000:]
    out = tmp_path / "out"
    htmls = {p.relative_to(out).as_posix(): p.read_text(encoding="utf-8") for p in out.rglob("*.html")}
    for rel, text in htmls.items():
        for raw in ("<script>alert", "<svg onload", "<script>tag", '"onmouseover', "alert(4)\""):
            assert raw not in text, f"{rel}: {raw!r} reached the HTML unescaped"
    note = htmls["papers/fx/index.html"]
    assert "<title>T &lt;script&gt;alert(1)&lt;/script&gt;" in note
    nav = note[note.index("md-nav--primary"):]
    assert "T &lt;script&gt;alert(1)&lt;/script&gt;" in nav
    for field in ("Ti", "Au", "V", "S"):  # bibliography entry and the citation's label
        assert f"{field} &lt;script&gt;alert(1)&lt;/script&gt; &quot;q&quot;" in note, field
    assert "&lt;svg onload=alert(2)&gt;" in note
    assert 'href="https://example.org/?a=%22onmouseover=alert%284%29"' in note
    for rel in ("index.html", "papers/index.html", "reading-list.html", "claims.html"):
        assert "&lt;script&gt;alert(1)" in htmls[rel] or "&lt;svg onload" in htmls[rel], rel


def test_bad_url_scheme_is_a_build_error_naming_file_and_key(tmp_path: Path) -> None:
    """url: "javascript:alert(1)" in references.yaml fails the build, naming the file, entry and key."""
    refs = (ROOT / "references.yaml").read_text(encoding="utf-8") + (
        'evil2020:\n  authors: E.\n  title: T\n  year: 2020\n  status: 읽음\n'
        '  url: "javascript:alert(1)"\n')
    proc = _build(tmp_path, {"papers/fx/index.md": NOTE_HEAD}, references=refs)
    assert proc.returncode != 0
    assert "references.yaml" in proc.stderr and "evil2020" in proc.stderr
    assert "'url'" in proc.stderr and "javascript" in proc.stderr


def test_malformed_formula_fails_build_naming_page_and_formula(tmp_path: Path) -> None:
    """KaTeX runs with throwOnError at build time: a bad formula names the page and the TeX."""
    proc = _build(tmp_path, {"papers/fx/index.md": NOTE_HEAD + "식 $\\frac{a}{b$ 끝\n"})
    assert proc.returncode != 0
    assert "papers/fx/index.md" in proc.stderr and "\\frac{a}{b" in proc.stderr
