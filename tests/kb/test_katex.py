r"""notes_code.kb.katex: formulas rendered at build time by one Node process, cached."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from notes_code.kb import katex

ROOT = Path(__file__).resolve().parents[2]
KATEX_JS = ROOT / "docs/assets/katex/katex.min.js"
pytestmark = pytest.mark.skipif(shutil.which("node") is None, reason="needs Node")


@pytest.fixture
def renderer(tmp_path: Path):
    r = katex.Renderer(KATEX_JS, cache_file=tmp_path / "cache.json")
    yield r
    r.close()


def test_page_formulas_become_katex_html(renderer: katex.Renderer) -> None:
    """Inline and display arithmatex elements are replaced by KaTeX HTML (with MathML)."""
    page = ('<p>a <span class="arithmatex">\\(x_{t} &lt; 1\\)</span></p>'
            '<div class="arithmatex">\\[W_{rec} \\tag{5}\\]</div><pre><code>\\(raw\\)</code></pre>')
    out = renderer.render_html(page, "p.md")
    assert out.count('class="katex"') == 2 and 'class="katex-display"' in out
    assert "<math" in out and "&lt;" in out  # the MathML of x_t < 1
    assert "\\(x_{t}" not in out and "<pre><code>\\(raw\\)</code></pre>" in out
    assert 'class="katex-tag"' in out


def test_one_process_for_many_formulas(renderer: katex.Renderer) -> None:
    """All formulas of a page go to the same Node process in one request."""
    renderer.render_many([(f"x^{i}", False) for i in range(50)], "p")
    proc = renderer._proc
    renderer.render_many([("y^2", True)], "q")
    assert renderer._proc is proc and renderer._seq == 2


def test_malformed_formula_names_page_and_formula(renderer: katex.Renderer) -> None:
    """throwOnError: a parse error raises, naming the page and the TeX."""
    expected = r"notes/p\.md: KaTeX cannot render formula '\\\\frac\{a\}\{b'"
    with pytest.raises(katex.KatexError, match=expected):
        renderer.render_html('<span class="arithmatex">\\(\\frac{a}{b\\)</span>', "notes/p.md")


def test_cache_on_disk_skips_node(tmp_path: Path) -> None:
    """A second renderer reads the saved cache and does not start Node for known formulas."""
    first = katex.Renderer(KATEX_JS, cache_file=tmp_path / "c.json")
    html = first.render_many([("a+b", False)])[0]
    first.close()
    assert json.loads((tmp_path / "c.json").read_text(encoding="utf-8"))
    second = katex.Renderer(KATEX_JS, cache_file=tmp_path / "c.json")
    assert second.render_many([("a+b", False)])[0] == html
    assert second._proc is None
    second.close()


def test_damaged_cache_is_ignored(tmp_path: Path) -> None:
    """A truncated cache file costs only time: formulas are rendered again."""
    (tmp_path / "c.json").write_text('{"x": ', encoding="utf-8")
    r = katex.Renderer(KATEX_JS, cache_file=tmp_path / "c.json")
    assert 'class="katex"' in r.render_many([("z", False)])[0]
    r.close()


def test_toc_titles_get_math(renderer: katex.Renderer) -> None:
    """A TOC title holding \\(...\\) as text gets typeset math."""
    out = renderer.render_toc_title("1차원 예: \\(x_{t+1} = 5\\,\\sigma(x_t)\\)", "c.md")
    assert out.startswith('1차원 예: <span class="arithmatex"><kb-math data-search-exclude>'
                          '<span class="katex">')
    assert "\\(" not in out


def test_search_indexes_the_formula_text_once(renderer: katex.Renderer) -> None:
    """Material's search parser sees the formula's text once, without TeX source or boxes."""
    from material.plugins.search.plugin import Parser

    page = renderer.render_html('<p>식 <span class="arithmatex">\\(\\sigma_{1} &lt; 1\\)</span> 끝</p>', "p")
    parser = Parser()
    parser.feed(page)
    parser.close()
    text = "".join("".join(s.text) for s in parser.data)
    assert text == "<p>식 σ 1 &lt; 1 끝</p>", text
    assert "kb-math-text hidden" in page
