"""Index- and query-time search processing: notes_code/kb/search.py, kb/glossary.py, kb-search.js.

Issue #11 (Korean search): particles are stripped only when the rest is a known word, the
glossary's synonyms are shared with the search, previews show math as text, and API and
test pages rank below the notes. The JavaScript twin of the query side runs under Node.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from types import SimpleNamespace

import pytest

from notes_code.kb import glossary as kb_glossary
from notes_code.kb import search as kb_search

ROOT = Path(__file__).resolve().parents[2]
JS = ROOT / "docs" / "assets" / "javascripts" / "kb-search.js"
KATEX = ROOT / "docs" / "assets" / "katex" / "katex.min.js"
NODE = shutil.which("node")
SEPARATOR = r'[\s\-,:!=\[\]()"/·…“”‘’「」『』{}]+|(?!\b)(?=[A-Z][a-z])|\.(?!\d)|&[lg]t;'


def node(script: str) -> object:
    """Run ``script`` under Node; it prints one JSON value, which is returned."""
    if NODE is None:
        pytest.skip("node is not installed")
    proc = subprocess.run([NODE, "-e", script], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


# --- math as text ------------------------------------------------------------------------

@pytest.mark.parametrize(("tex", "text"), [
    (r"\lambda_1\gamma < 1", "λ₁γ < 1"),
    (r"x_{t+1} = 5\,\sigma(x_t) + b", "xₜ₊₁ = 5 σ(xₜ) + b"),
    (r"\lVert \mathbf{W}_{rec} \rVert_2", "‖ W_rec ‖₂"),
    (r"\frac{\partial \mathcal{E}}{\partial \theta}", "(∂ E)/(∂ θ)"),
    (r"b \in (-2.656,\,-2.344)", "b ∈ (-2.656, -2.344)"),
    (r"\mathbf{W}^\top \left( \mathbf{x} \right)", "Wᵀ ( x )"),
    (r"\mathbb{R}^{n\times n}", "ℝ^(n×n)"),
    (r"\text{한글}\ \approx 0.5", "한글 ≈ 0.5"),
])
def test_tex_to_text(tex: str, text: str) -> None:
    """Previews show formulas as readable text (issue #11: 200 previews showed raw LaTeX)."""
    assert kb_search.tex_to_text(tex) == text


def test_arithmatex_spans_become_text() -> None:
    """Today's arithmatex output, inline and display, is replaced by its text, escaped."""
    html = ('<p>a <span class="arithmatex">\\(x_t &lt; \\lambda\\)</span> b</p>'
            '<div class="arithmatex">\\[\\sum_k \\delta_k\\]</div>')
    out = kb_search.searchable_html(html)
    assert "\\(" not in out and "\\[" not in out and "\\lambda" not in out
    assert '<span class="kb-math">xₜ &lt; λ</span>' in out
    assert "Σₖ δₖ" in out


def test_katex_markup_becomes_text() -> None:
    """KaTeX HTML rendered at build time (helper A's form) keeps only the annotation's text."""
    rendered = node(f"const k = require({json.dumps(str(KATEX))});"
                    "console.log(JSON.stringify([k.renderToString('\\\\lambda_1\\\\gamma < 1'),"
                    "k.renderToString('\\\\frac{a}{b}', {displayMode: true})]))")
    html = f"<p>조건 {rendered[0]} 이면</p><p>{rendered[1]}</p>"
    out = kb_search.searchable_html(html)
    assert "katex" not in out and "annotation" not in out and "\\" not in out
    assert "조건 <span class=\"kb-math\">λ₁γ &lt; 1</span> 이면" in out
    assert '<span class="kb-math">a/b</span>' in out


def test_install_indexes_text_but_leaves_the_page() -> None:
    """The search plugin reads math as text while the rendered page keeps its markup."""
    seen: list[str] = []
    index = SimpleNamespace(add_entry_from_context=lambda page: seen.append(page.content))
    config = SimpleNamespace(plugins={"material/search": SimpleNamespace(search_index=index)})
    kb_search.install(config)
    kb_search.install(config)  # twice (mkdocs serve): wrapped once
    page = SimpleNamespace(content='<span class="arithmatex">\\(\\alpha\\)</span>')
    index.add_entry_from_context(page)
    assert seen == ['<span class="kb-math">α</span>']
    assert page.content == '<span class="arithmatex">\\(\\alpha\\)</span>'


# --- particles ---------------------------------------------------------------------------

TOKENS = ["기울기가", "기울기를", "기울기의", "경로", "경로를", "사이", "사", "노름을", "노름이",
          "상태", "상태가", "clipping"]


def test_known_words_and_particles() -> None:
    """A stem seen with two particles is a word; an inflected token is not (issue #11)."""
    known = kb_search.known_words(TOKENS)
    assert {"기울기", "경로", "사이", "노름", "상태"} <= known
    assert not {"기울기가", "기울기를", "경로를", "노름을", "상태가"} & known


@pytest.mark.parametrize(("query", "expected"), [
    ("기울기를", "기울기"), ("기울기에서는", "기울기"), ("노름이", "노름"),
    ("경로", "경로"), ("사이", "사이"),  # 사 is a token, but one syllable is never a stem
    ("경로로", "경로"), ("모르는말을", "모르는말을"), ("clipping", "clipping"), ("Jacobian", "jacobian"),
])
def test_strip_particle_python_and_js_agree(query: str, expected: str) -> None:
    """The query side strips a particle only when the rest is known; Python and JS agree."""
    known = kb_search.known_words(TOKENS)
    assert kb_search.strip_particle(query, known) == expected
    kb = {"known": sorted(known), "particles": list(kb_search.PARTICLES), "minStem": kb_search.MIN_STEM}
    js = node(f"const s = require({json.dumps(str(JS))});"
              f"console.log(JSON.stringify(s.stripParticle({json.dumps(query)}, {json.dumps(kb)})))")
    assert js == expected


def test_js_query_expands_synonyms_and_keeps_syntax() -> None:
    """야코비안을 brings 야코비 and jacobian (words the index has); lunr syntax passes unchanged."""
    kb = {"known": ["야코비", "야코비안", "클리핑"], "particles": list(kb_search.PARTICLES), "minStem": 2,
          "synonyms": [["jacobian", "야코비", "야코비안", "자코비안"], ["클리핑", "clipping"]],
          "present": ["jacobian", "야코비", "clipping"]}
    out = node(f"const s = require({json.dumps(str(JS))}); const kb = {json.dumps(kb)};"
               "console.log(JSON.stringify(['야코비안을', '클리핑', '+야코비안 -x', '\"기울기를 본다\"',"
               "'jacobian'].map(q => s.transformQuery(q, kb))))")
    assert out[0].split() == ["야코비안", "jacobian", "야코비"]  # 야코비안 itself is not in the index
    assert out[1].split() == ["클리핑", "clipping"]
    assert out[2] == "+야코비안 -x"
    assert out[3] == '"기울기를 본다"'
    assert out[4].split() == ["jacobian*^2", "야코비"]  # the reader's own word weighs more


# --- glossary ----------------------------------------------------------------------------

def test_glossary_file_has_the_issue_synonyms() -> None:
    """docs/data/glossary.yaml: 야코비안↔야코비↔Jacobian, 클리핑↔clipping, 끌개↔attractor, 소실/폭발."""
    entries = kb_glossary.load(ROOT / kb_glossary.GLOSSARY_PATH, ROOT / "docs")
    groups = kb_glossary.synonym_groups(entries)

    def together(*words: str) -> bool:
        return any(set(words) <= set(g) for g in groups)

    assert together("야코비안", "야코비", "jacobian")
    assert together("클리핑", "clipping")
    assert together("끌개", "attractor")
    assert together("소실", "vanishing")
    assert together("폭발", "exploding")


@pytest.mark.parametrize(("data", "message"), [
    ({"term": "x"}, "must be a list"),
    (["x"], "must be a mapping"),
    ([{"term": "끌개"}], "'en' must be a non-empty string"),
    ([{"term": "끌개", "en": "attractor", "color": "red"}], "unknown key"),
    ([{"term": "끌개", "en": "attractor", "synonyms": "어트랙터"}], "'synonyms' must be a list"),
    ([{"term": "끌개", "en": "attractor", "concept": "../x.md"}], "relative .md path"),
    ([{"term": "끌개", "en": "attractor", "concept": "concepts/none.md"}], "does not exist"),
    ([{"term": "끌개", "en": "attractor"}, {"term": "어트랙터", "en": "Attractor"}],
     "already in entry '끌개'"),
])
def test_bad_glossary_is_a_clear_error(data: object, message: str) -> None:
    """A malformed glossary names the file and the entry instead of building a wrong index."""
    with pytest.raises(kb_glossary.GlossaryError, match=message) as info:
        kb_glossary.parse(data, "g.yaml", ROOT / "docs")
    assert str(info.value).startswith("g.yaml")


def test_glossary_page_escapes_every_field() -> None:
    """Data reaching the glossary page is escaped (no live <script>, no broken table)."""
    entries = kb_glossary.parse([{"term": "<script>alert(1)</script>", "en": 'a"b|c',
                                  "synonyms": ["<svg onload=x>"], "definition": "<b>x</b>"}])
    page = kb_glossary.render_page(entries)
    assert "<script>" not in page and "<svg" not in page and "<b>" not in page
    assert "&lt;script&gt;" in page and "a&quot;b&#124;c" in page


# --- the index -----------------------------------------------------------------------------

def test_rewrite_index(tmp_path: Path) -> None:
    """SUMMARY pages leave the index; config.kb gets known words and present synonyms."""
    path = tmp_path / "search_index.json"
    docs = [{"location": "papers/SUMMARY.html", "title": "x", "text": "기울기를"},
            {"location": "a.html", "title": "기울기가 큽니다", "text": "<p>기울기를 보면 jacobian</p>"},
            {"location": "a.html#b", "title": "경로", "text": "기울기의 경로"}]
    path.write_text(json.dumps({"config": {"separator": SEPARATOR}, "docs": docs}), encoding="utf-8")
    entries = kb_glossary.parse([{"term": "야코비", "en": "Jacobian", "synonyms": ["야코비안"]}])
    kb = kb_search.rewrite_index(path, entries)
    data = json.loads(path.read_text(encoding="utf-8"))
    assert [d["location"] for d in data["docs"]] == ["a.html", "a.html#b"]
    assert data["config"]["kb"] == kb
    assert "기울기" in kb["known"] and "기울기를" not in kb["known"]
    assert kb["synonyms"] == [["야코비", "jacobian", "야코비안"]]
    assert kb["present"] == ["jacobian"]


def test_rewrite_index_keeps_the_old_file_on_error(tmp_path: Path) -> None:
    """A broken index is an error and is left as it was (nothing half-written)."""
    path = tmp_path / "search_index.json"
    path.write_text('{"config": {}, "docs": [', encoding="utf-8")
    with pytest.raises(json.JSONDecodeError):
        kb_search.rewrite_index(path, [])
    assert path.read_text(encoding="utf-8") == '{"config": {}, "docs": ['
    assert list(tmp_path.iterdir()) == [path]


@pytest.mark.site
def test_built_index(site_dir: Path) -> None:
    """The built index: no raw TeX in prose previews, API/test pages boosted down, no SUMMARY."""
    import re

    data = json.loads((site_dir / "search" / "search_index.json").read_text(encoding="utf-8"))
    docs = data["docs"]
    assert data["config"]["kb"]["known"] and data["config"]["kb"]["synonyms"]
    assert not [d for d in docs if "SUMMARY" in d["location"]]
    low = [d for d in docs if d["location"].startswith(("reference/", "tests/"))]
    assert low and all(d.get("boost", 1) < 0.01 for d in low)
    notes = [d for d in docs if d["location"].startswith(("papers/", "concepts/"))]
    assert notes and all(d.get("boost", 1) == 1 for d in notes)
    raw = []
    for d in docs:
        prose = re.sub(r"<(pre|code)>.*?</\1>", "", d["title"] + " " + d["text"], flags=re.S)
        if re.search(r"\\[(\[]|\\(frac|mathbf|lambda|partial)\b|\$\$", prose):
            raw.append(d["location"])
    assert not raw, raw[:10]
    inline = (site_dir / "search" / "search_index.js").read_text(encoding="utf-8")
    assert inline.startswith("var __index = ") and '"kb":' in inline
