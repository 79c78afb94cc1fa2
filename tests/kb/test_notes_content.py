"""The real notes: their sections, the seed note kept, and the prose a reader meets (issues #4, #10, #11).

These tests read the Markdown sources (and render them with Python-Markdown where the
question is how a passage renders), so they run in a second without building the site.
"""

from __future__ import annotations

import re
from pathlib import Path

import markdown
import pytest
import torch

from notes_code.kb import lint
from notes_code.kb import references as kb_refs
from notes_code.pascanu2013.init import spectral_radius
from notes_code.pascanu2013.jacobians import singular_values

ROOT = Path(__file__).resolve().parents[2]
SEED = ROOT.parent / "shared" / "seed" / "day-note-pascanu2013.ko.md"
NOTE = ROOT / "docs" / "papers" / "pascanu2013" / "index.md"
LSTM_NOTE = ROOT / "docs" / "papers" / "hochreiter1997" / "index.md"
NOTES = sorted((ROOT / "docs" / "papers").glob("*/index.md"))
CONCEPTS = sorted((ROOT / "docs" / "concepts").glob("*.md"))
PAGES = NOTES + CONCEPTS
ALL_MARKDOWN = sorted((ROOT / "docs").rglob("*.md"))
HOW_MADE = "## 이 노트가 만들어진 방법"

# Artifacts of copying the paper's reference list out of the PDF that the seed note kept:
# line-break hyphens and a lost first letter. The note fixes exactly these and nothing else
# of the author's text.
COPY_FIXES = {
    "net- works": "networks",
    "Transac- tions": "Transactions",
    "synchro- nization": "synchronization",
    "recur- rent": "recurrent",
    "'aeger, H.": "'Jaeger, H.",
    "nonlinear- ity": "nonlinearity",
    "Siew- ert": "Siewert",
    "leaky- integrator": "leaky-integrator",
    "tech- niques": "techniques",
    "in- ternational": "international",
    "IN- TERSPEECH": "INTERSPEECH",
}

# Table 1 of the paper (ICML text), number for number: data set -> fold -> the five columns
# MSGD, MSGD+C, MSGD+CR, state of the art for RNN, state of the art.
TABLE_1 = {
    "Piano-midi.de": {"train": "6.87 6.81 7.01 7.04 6.32", "test": "7.56 7.53 7.46 7.57 7.05"},
    "Nottingham": {"train": "3.67 3.21 2.95 3.20 1.81", "test": "3.80 3.48 3.36 3.43 2.31"},
    "MuseData": {"train": "8.25 6.54 6.43 6.47 5.20", "test": "7.11 7.00 6.97 6.99 5.60"},
    "Penn Treebank 1 step": {"train": "1.46 1.34 1.36 N/A N/A", "test": "1.50 1.42 1.41 1.41 1.37"},
    "Penn Treebank 5 steps": {"train": "N/A 3.76 3.70 N/A N/A", "test": "N/A 3.89 3.74 N/A N/A"},
}

EXEC_BLOCK_RE = re.compile(r"^```python exec.*?^```[ \t]*$", re.S | re.M)
CONTROL_RE = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
MD_EXTENSIONS = ["admonition", "attr_list", "def_list", "footnotes", "md_in_html", "tables",
                 "pymdownx.arithmatex", "pymdownx.details", "pymdownx.superfences"]


def _read(path: Path) -> str:
    return path.read_text(encoding="utf-8")


def _prose(path: Path) -> str:
    """The page without its executed blocks (their code is not reading text)."""
    return EXEC_BLOCK_RE.sub("", _read(path))


def _reading_text(path: Path) -> str:
    """The prose up to the closing section on how the note was made."""
    return _prose(path).split(HOW_MADE, 1)[0]


def _render(text: str) -> str:
    """HTML of a page's prose, rendered with the site's block-level Markdown extensions."""
    return markdown.markdown(text, extensions=MD_EXTENSIONS,
                             extension_configs={"pymdownx.arithmatex": {"generic": True}})


def _rel(path: Path) -> str:
    return path.relative_to(ROOT).as_posix()


def test_pages_exist() -> None:
    """The scans below see both notes and the concept pages (a vacuous pass is a failure)."""
    assert NOTE in NOTES and LSTM_NOTE in NOTES
    assert len(CONCEPTS) >= 4


def test_every_note_passes_the_linter() -> None:
    """Every note has the seed's sections, valid front matter, known citations and tested claims."""
    report = lint.check_project(ROOT)
    assert [str(p) for p in report.problems] == []
    assert report.notes >= 2


def _seed_bullets() -> list[str]:
    seed = re.sub(r"<!--.*?-->", "", SEED.read_text(encoding="utf-8"), flags=re.S)  # the template
    bullets = []
    for line in seed.splitlines():
        m = re.match(r"^\s*\*\s+(.*\S)\s*$", line)
        if m and "<img" not in line:
            bullets.append(m.group(1))
    return bullets


def _fix_copy_artifacts(text: str) -> str:
    for wrong, right in COPY_FIXES.items():
        text = text.replace(wrong, right)
    return text


@pytest.mark.skipif(not SEED.exists(), reason="the seed note lives in ../shared/seed/")
def test_every_seed_bullet_is_kept() -> None:
    """Nothing of the author's seed note is silently dropped: every non-empty bullet is in the note.

    The only change allowed is the listed fix of PDF copy artifacts in quoted references.
    """
    note = _read(NOTE)
    bullets = _seed_bullets()
    assert len(bullets) > 20
    missing = [b for b in bullets if _fix_copy_artifacts(b) not in note]
    assert missing == []
    assert sum(_fix_copy_artifacts(b) != b for b in bullets) >= 5  # the fixes apply to the seed


@pytest.mark.skipif(not SEED.exists(), reason="the seed note lives in ../shared/seed/")
def test_seed_bullets_keep_their_order() -> None:
    """The note keeps the seed's structure: its bullets appear in the seed's order."""
    note, pos, out_of_order = _read(NOTE), 0, []
    for bullet in map(_fix_copy_artifacts, _seed_bullets()):
        found = note.find(bullet, pos)
        if found < 0:
            out_of_order.append(bullet)
        else:
            pos = found + len(bullet)
    assert out_of_order == []


def test_copied_references_have_no_line_break_hyphens() -> None:
    """Issue #11: no "recur- rent", "IN- TERSPEECH" or "'aeger, H." in any page's prose."""
    for page in PAGES:
        text = _prose(page)
        left = [wrong for wrong in COPY_FIXES if wrong in text]
        assert left == [], _rel(page)
        # any other word broken at a line end: lower-case letters, "- ", lower-case letters
        broken = re.findall(r"\b[A-Za-z]{2,}- [a-z]{2,}\b", text)
        assert [b for b in broken if not b.endswith((" and", " or"))] == [], _rel(page)


def test_inverted_sentence_is_kept_and_corrected() -> None:
    """The seed's inverted vanishing/exploding sentence stays verbatim, followed by a 정정 box."""
    note = _read(NOTE)
    sentence = "gradient vanishing은 반대로 𝜆1이 1/𝛾보다 크다면 exploding된다."
    assert sentence in note
    after = note.split(sentence, 1)[1]
    assert re.search(r'^!!! warning "정정"', after, re.M)
    assert after.index('!!! warning "정정"') < 400


@pytest.mark.parametrize("path", [*ALL_MARKDOWN, ROOT / "references.yaml"], ids=_rel)
def test_no_control_characters(path: Path) -> None:
    """Issue #11: no page holds a control character (a BEL where "\\a" of "\\approx" was)."""
    bad = [(n, repr(m.group())) for n, line in enumerate(_read(path).splitlines(), 1)
           for m in CONTROL_RE.finditer(line.replace("\t", ""))]
    assert bad == []


@pytest.mark.parametrize("path", PAGES, ids=_rel)
def test_reading_text_has_no_production_details(path: Path) -> None:
    """Issue #11: the note reads as the student's note; how it was made goes to its last section."""
    text = _reading_text(path)
    phrases = ["img/", ".png", "[seed]", "#서지-정보", "notes new", "원래 노트에는", "원래 노트의 그림",
               "원래 노트의 식 그림", "사이트를 빌드", "사이트 빌드", "이 저장소의 코드는 새로 썼"]
    assert [p for p in phrases if p in text] == []
    if HOW_MADE in _read(path):  # the section, where there is one, is the last
        tail = _read(path).split(HOW_MADE, 1)[1]
        assert not re.search(r"^## ", tail, re.M)


@pytest.mark.parametrize("path", NOTES, ids=_rel)
def test_notes_say_how_they_were_made_at_the_end(path: Path) -> None:
    """The production details that left the reading text are kept in one short closing section."""
    tail = _read(path).split(HOW_MADE, 1)
    assert len(tail) == 2
    assert 0 < len(tail[1].strip().splitlines()) <= 8


def _surname(ref: kb_refs.Reference) -> str:
    return re.split(r"[ ,]", ref.label)[0]


@pytest.mark.parametrize("path", PAGES, ids=_rel)
def test_citations_render_once(path: Path) -> None:
    """Issue #11: no "Strogatz ([Strogatz 1994])": a citation is not written out again beside its label.

    A citation's label must not repeat a name written just before it, and a line that quotes
    a reference in full (the seed's copied references) does not cite it a second time.
    """
    refs = kb_refs.load(ROOT / "references.yaml")
    text = _prose(path)
    doubled = []
    for line in text.splitlines():
        for m in kb_refs.CITE_RE.finditer(line):
            before = line[max(0, m.start() - 40):m.start()]
            for key in kb_refs.KEY_RE.findall(m.group(1)):
                if _surname(refs[key]) in before:
                    doubled.append(f"{key}: ...{before}{m.group()}")
        if re.search(r"\((?:19|20)\d\d\)\. ", line) and kb_refs.CITE_RE.search(line):
            doubled.append(f"full reference and citation: {line[:80]}")
    assert doubled == []
    rendered = kb_refs.render_citations(text, refs, "")
    assert not re.search(r"(\w+)[^\w\n]{0,12}\(\[\1\b", rendered)


def test_citation_check_would_catch_the_old_pattern() -> None:
    """The doubled-citation check is not vacuous: the old "Strogatz [@strogatz1994]" is caught."""
    refs = kb_refs.load(ROOT / "references.yaml")
    rendered = kb_refs.render_citations("* Strogatz [@strogatz1994]: 분기", refs, "")
    assert re.search(r"(\w+)[^\w\n]{0,12}\(\[\1\b", rendered)
    assert _surname(refs["strogatz1994"]) == "Strogatz"
    assert _surname(refs["hochreiter1997"]) == "Hochreiter"


@pytest.mark.parametrize("path", PAGES, ids=_rel)
def test_numbered_lists_render_as_lists(path: Path) -> None:
    """Issue #11: no list item's number is swallowed into the paragraph before it ("3." as text)."""
    html = re.sub(r"<pre.*?</pre>", "", _render(_prose(path)), flags=re.S)
    assert re.findall(r"(?:^|<p>|<li>)\s*\d+\. \S.*", html, re.M) == []


def test_omega_explanation_is_one_five_step_list() -> None:
    """The answer to the seed's "설명 불가능 ㅠㅠ" (3.3절) renders as steps 1-5 of one list."""
    text = _prose(NOTE)
    start = text.index("이제 설명해 보겠습니다")
    end = text.index('!!! claim "pascanu2013/omega-definition"')
    html = _render(text[start:end])
    assert html.count("<ol>") == 1
    items = re.findall(r"<li>\s*(?:<p>)?<strong>(.*?)</strong>", html)
    assert len(items) == 5
    assert items[2].startswith("어떻게 미분하나")
    assert html.count('<div class="arithmatex">') == 2  # eqs. (9) and (10) inside their steps


def _table_1_rows(text: str) -> dict[tuple[str, str], str]:
    """``(data set, fold) -> "v1 v2 v3 v4 v5"`` from the note's Table 1 (a blank cell repeats the set)."""
    block = text.split("Table 1", 1)[1]
    rows, current = {}, ""
    for line in block.splitlines():
        if not line.startswith("|"):
            if rows:
                break
            continue
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) != 7 or cells[1] not in ("train", "test"):
            continue
        current = re.sub(r"\s*\(.*\)$", "", cells[0]) or current
        rows[(current, cells[1])] = " ".join(cells[2:])
    return rows


def test_table_1_is_complete() -> None:
    """Issue #11: Table 1 (4.2절) has train and test rows for every data set, the PTB 5-step row too."""
    rows = _table_1_rows(_reading_text(NOTE))
    expected = {(name, fold): values for name, folds in TABLE_1.items() for fold, values in folds.items()}
    assert rows == expected


def test_table_1_parser_sees_a_dropped_row() -> None:
    """The table check fails when a train row is left out, as in the old note."""
    text = _reading_text(NOTE)
    dropped = "\n".join(line for line in text.splitlines() if "| 6.87 |" not in line)
    assert ("Piano-midi.de", "train") not in _table_1_rows(dropped)


@pytest.mark.parametrize("path", PAGES, ids=_rel)
def test_singular_values_are_not_written_sigma(path: Path) -> None:
    """Issue #11: σ is the activation; singular values are λ₁ (the paper's name) or s_i."""
    text = _prose(path)
    assert re.findall(r"\\sigma_\{?[0-9ijkn]|σ[₀-₉]|σ_[0-9i]", text) == []


def test_jacobian_page_powers_follow_the_spectral_radius() -> None:
    """concepts/jacobian.md: J^p shrinks with ρ(J) < 1 although s₁(J) > 1 (Gelfand's formula).

    The numbers the page states for its example matrix: s₁ = 1.27, ρ = 0.98, and both
    singular values of J^128 below 0.1; ‖J^p‖^(1/p) tends to ρ, not to s₁.
    """
    J = torch.tensor([[1.2, 0.4], [-0.3, 0.7]], dtype=torch.float64)
    assert "[1.2, 0.4], [-0.3, 0.7]" in _read(ROOT / "docs" / "concepts" / "jacobian.md")
    s1, rho = float(singular_values(J)[0]), spectral_radius(J)
    assert round(s1, 2) == 1.27 and round(rho, 2) == 0.98
    s128 = singular_values(torch.linalg.matrix_power(J, 128))
    assert float(s128.max()) < 0.1
    rate = float(singular_values(torch.linalg.matrix_power(J, 512))[0]) ** (1 / 512)
    assert abs(rate - rho) < 0.01 and abs(rate - s1) > 0.2


def test_corrections_of_issue_10_are_in_the_note() -> None:
    """Issue #10 part 3: each correction of the Pascanu note is there, with the paper's section."""
    text = _reading_text(NOTE)
    # eq. (6) as printed reads 1 < 1; the bound is ||W|| ||diag σ'|| < (1/γ)·γ = 1
    assert "정정: 논문에 인쇄된 식 (6)" in text and r"\frac{1}{\gamma}\cdot\gamma = 1" in text
    # x_0 = 0 gives h_0 = σ(0) = 0.5 for sigmoid, unlike the released code's h_0 = 0
    assert r"\mathbf{h}_0 = \sigma(0)\,\mathbf{1} = 0.5\,\mathbf{1}" in text
    # the variable-length model: basic tanh, "MSGD steps", not MSGD-CR; generalises up to 5000
    assert "(basic tanh, MSGD-CR)" not in text and "5000" in text and "10,000개씩" in text
    # echo state property: fading memory, usually ρ < 1, so information dies out exponentially
    assert "사라지는 기억(fading memory)" in text and "지수적으로 빨리 사라질" in text
    # structural damping: the paper's caveat on curvature growing at a different rate
    assert "항상 같은 속도로 커지지는 않을" in text
    # Mikolov clipped the temporal components, not the summed gradient
    assert "시간 성분" in text.split("보충: Mikolov", 1)[1][:400]
    assert "clip_grad_value_`)과는 다른 연산" in text
