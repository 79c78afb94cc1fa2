"""The search index across `mkdocs serve`'s dirty rebuilds (notes_code/kb/search.py), issue #12.

A dirty rebuild renders only the edited page (and, for a paper note, the home page). The index
must then equal the one a full build of the same sources writes: each rendered page's entries
replaced (not doubled), the others kept, removed pages gone; and only the rendered pages are
tokenised again. Material's real ``SearchIndex`` parses the pages here.
"""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

import pytest
from material.plugins.search.plugin import SearchIndex

from notes_code.kb import search as kb_search

SEPARATOR = r'[\s\-,:!=\[\]()"/·…“”‘’「」『』{}]+|(?!\b)(?=[A-Z][a-z])|\.(?!\d)|&[lg]t;'
PAGES = {
    "index.html": '<h1 id="home">홈</h1><p>노트 카드: 기울기를 보는 노트.</p>',
    "concepts/bptt.html": '<h1 id="bptt">BPTT</h1><p>기울기가 시간을 거슬러 흐릅니다.</p>'
    '<h2 id="s">경로</h2><p>긴 경로의 곱.</p>',
    "papers/p/index.html": '<h1 id="p">논문</h1><p>기울기의 폭발과 '
    '<span class="arithmatex">\\(\\lambda_1\\)</span>.</p>',
}


@pytest.fixture(autouse=True)
def _fresh_index():
    kb_search.INDEX.clear()
    yield
    kb_search.INDEX.clear()


def _build(
    pages: dict[str, str], render: list[str] | None, incremental: bool, root: Path | None = None
) -> dict:
    """One build as the hooks and Material run it: a new SearchIndex, only ``render`` pages rendered."""
    index = SearchIndex(lang=["ko"], separator=SEPARATOR, pipeline=[], fields={})
    plugin = SimpleNamespace(search_index=index)
    config = SimpleNamespace(
        plugins={"material/search": plugin}, config_file_path=str(root / "mkdocs.yml") if root else None
    )
    kb_search.install(config, incremental=incremental)
    kb_search.INDEX.set_pages(list(pages))
    for url in pages if render is None else render:
        title = url.split("/")[-1]
        page = SimpleNamespace(content=pages[url], toc=[], url=url, meta={}, title=title)
        index.add_entry_from_context(page)
    return json.loads(index.generate_search_index(None))


def test_dirty_rebuild_equals_a_full_build() -> None:
    """Issue #12: after an edit of a note (note and home re-rendered), the index is the full build's."""
    _build(PAGES, None, incremental=False)
    edited = {
        **PAGES,
        "papers/p/index.html": PAGES["papers/p/index.html"] + '<h2 id="new">새 절</h2><p>클리핑 씁니다.</p>',
        "index.html": PAGES["index.html"].replace("카드", "카드들"),
    }
    dirty = _build(edited, ["index.html", "papers/p/index.html"], incremental=True)
    kb_search.INDEX.clear()
    full = _build(edited, None, incremental=False)
    assert dirty == full
    locations = [d["location"] for d in dirty["docs"]]
    assert len(locations) == len(set(locations))  # nothing doubled
    assert "papers/p/index.html#new" in locations
    assert "클리핑" in dirty["config"]["kb"]["known"]
    assert "λ₁" in json.dumps(dirty, ensure_ascii=False)  # math still indexed as text


def test_only_rendered_pages_are_tokenised() -> None:
    """Issue #12: a prose edit tokenises the edited page again, not the whole index."""
    _build(PAGES, None, incremental=False)
    assert kb_search.INDEX.tokenised == len(PAGES)
    edited = {**PAGES, "concepts/bptt.html": PAGES["concepts/bptt.html"] + "<p>한 문장 더.</p>"}
    out = _build(edited, ["concepts/bptt.html"], incremental=True)
    assert kb_search.INDEX.tokenised == len(PAGES) + 1
    assert "한 문장 더." in json.dumps(out, ensure_ascii=False)


def test_removed_page_and_removed_section_leave_the_index() -> None:
    """Issue #12: a deleted page and a deleted heading are gone after the rebuild."""
    _build(PAGES, None, incremental=False)
    fewer = {u: t for u, t in PAGES.items() if u != "papers/p/index.html"}
    fewer["concepts/bptt.html"] = '<h1 id="bptt">BPTT</h1><p>짧게.</p>'
    out = _build(fewer, ["concepts/bptt.html"], incremental=True)
    locations = [d["location"] for d in out["docs"]]
    assert not any(loc.startswith("papers/") for loc in locations)
    assert "concepts/bptt.html#s" not in locations


def test_full_build_forgets_a_previous_project() -> None:
    """Issue #12: a non-incremental build starts empty, even in the same process."""
    _build({"old.html": "<h1 id='o'>옛 페이지</h1>", **PAGES}, None, incremental=False)
    out = _build(PAGES, None, incremental=False)
    assert [d["location"].split("#")[0] for d in out["docs"]] == [
        "index.html",
        "concepts/bptt.html",
        "concepts/bptt.html",
        "papers/p/index.html",
    ]


def test_summary_pages_and_glossary_synonyms(tmp_path: Path) -> None:
    """Issue #11/#12: SUMMARY pages stay out; the glossary's synonyms that the index has are listed."""
    (tmp_path / "docs" / "data").mkdir(parents=True)
    (tmp_path / "docs" / "data" / "glossary.yaml").write_text(
        "- term: 야코비\n  en: Jacobian\n  synonyms: [야코비안]\n  definition: 도함수의 행렬.\n",
        encoding="utf-8",
    )
    pages = {
        **PAGES,
        "papers/SUMMARY.html": "<h1 id='x'>목차</h1>",
        "a.html": "<h1 id='a'>jacobian 행렬</h1>",
    }
    out = _build(pages, None, incremental=False, root=tmp_path)
    assert not any("SUMMARY" in d["location"] for d in out["docs"])
    assert out["config"]["kb"]["synonyms"] == [["야코비", "jacobian", "야코비안"]]
    assert out["config"]["kb"]["present"] == ["jacobian"]


def test_present_words_matches_the_prefix_scan() -> None:
    """Issue #12: the bisection finds exactly the words that start some token (as the linear scan did)."""
    vocab = {"jacobian", "jacobians", "기울기", "기울기를", "노름", "zeta"}
    groups = [["야코비", "jacobian", "jac"], ["기울", "경사"], ["zet", "zz"], ["노름을"]]
    linear = sorted({w for g in groups for w in g if any(t.startswith(w) for t in vocab)})
    assert kb_search.present_words(groups, vocab) == linear == ["jac", "jacobian", "zet", "기울"]


def test_index_json_is_what_json_dumps_writes() -> None:
    """Issue #12: the index joined from per-page parts is byte-for-byte one json.dumps of the whole."""
    _build(PAGES, None, incremental=False)
    edited = {**PAGES, "concepts/bptt.html": PAGES["concepts/bptt.html"] + '<p>"따옴표" \\ 역슬래시.</p>'}
    index = SearchIndex(lang=["ko"], separator=SEPARATOR, pipeline=[], fields={})
    config = SimpleNamespace(plugins={"material/search": SimpleNamespace(search_index=index)})
    kb_search.install(config, incremental=True)
    kb_search.INDEX.set_pages([*edited, "empty.html"])
    for url in ["concepts/bptt.html", "empty.html"]:
        meta = {"search": {"exclude": True}} if url == "empty.html" else {}
        content = edited.get(url, "<h1 id='e'>빈</h1>")
        index.add_entry_from_context(SimpleNamespace(content=content, toc=[], url=url, meta=meta, title=url))
    text = index.generate_search_index(None)
    data = json.loads(text)
    assert text == json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    assert data["docs"] == kb_search.INDEX.docs()
    assert not any(d["location"].startswith("empty") for d in data["docs"])
