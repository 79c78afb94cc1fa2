"""``notes check`` (notes_code.kb.lint): each class of problem, each with its own fixture.

Every fixture is a small project in a temporary folder: a good note (all nine
sections, valid front matter, a citation, a concept link, one claim with its test)
with exactly one thing broken. The assertions name the exact ``file:line: message``.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from notes_code.kb import cli, lint

NOTE = "docs/papers/fx/index.md"
TEST = "tests/fx/test_fx.py"

GOOD_NOTE_LINES = [
    "---",                                   # 1
    "title: Fixture note",                   # 2
    "authors: [A. Author]",                  # 3
    "year: 2020",                            # 4
    "status: 읽음",                          # 5
    "tags: [x]",                             # 6
    "date_read: 2026-01-01",                 # 7
    "---",                                   # 8
    "",                                      # 9
    "# Fixture note",                        # 10
    "",                                      # 11
    "## 서지 정보",                          # 12
    "",                                      # 13
    "이 논문 [@ref2020].",                   # 14
    "",                                      # 15
    "## 요약",                               # 16
    "",                                      # 17
    "[야코비 행렬](../../concepts/c.md) 참고.",  # 18
    "",                                      # 19
    "## 내 생각",                            # 20
    "",                                      # 21
    "## 핵심 내용",                          # 22
    "",                                      # 23
    '!!! claim "fx/one"',                    # 24
    "    주장 하나.",                        # 25
    "",                                      # 26
    "## 실험 및 결과",                       # 27
    "",                                      # 28
    "## 요약 및 결론",                       # 29
    "",                                      # 30
    "## 모르는 개념",                        # 31
    "",                                      # 32
    "## 후속 참고문헌",                      # 33
    "",                                      # 34
    "<!-- bibliography -->",                 # 35
    "",                                      # 36
    "## 학습 회고",                          # 37
]
GOOD_NOTE = "\n".join(GOOD_NOTE_LINES) + "\n"

GOOD_TEST = '''import pytest


@pytest.mark.claim("fx/one")
def test_one():
    assert 1 + 1 == 2
'''

REFERENCES = """# a comment that must survive
ref2020:
  authors: Ref, A.
  title: A referenced work
  year: 2020
  status: 읽음
"""


def make_project(root: Path, note: str | None = GOOD_NOTE, test: str | None = GOOD_TEST,
                 references: str = REFERENCES) -> Path:
    """A minimal project: docs/papers/, docs/concepts/c.md, tests/, notes_code/, references.yaml."""
    (root / "docs" / "papers").mkdir(parents=True)
    (root / "docs" / "concepts").mkdir()
    (root / "docs" / "concepts" / "c.md").write_text("# C\n", encoding="utf-8")
    (root / "tests").mkdir()
    (root / "notes_code").mkdir()
    (root / "references.yaml").write_text(references, encoding="utf-8")
    if note is not None:
        (root / NOTE).parent.mkdir(parents=True)
        (root / NOTE).write_text(note, encoding="utf-8")
    if test is not None:
        (root / TEST).parent.mkdir(parents=True)
        (root / TEST).write_text(test, encoding="utf-8")
    return root


def edit(line: int, new: str | None) -> str:
    """The good note with line ``line`` (1-based) replaced (``None``: made empty)."""
    lines = list(GOOD_NOTE_LINES)
    lines[line - 1] = new if new is not None else ""
    return "\n".join(lines) + "\n"


def problems(root: Path) -> list[str]:
    return [str(p) for p in lint.check_project(root).problems]


def test_problem_prints_file_line_message() -> None:
    """A Problem prints as ``file:line: message``."""
    assert str(lint.Problem("a/b.md", 3, "boom")) == "a/b.md:3: boom"


def test_good_project_passes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The fixture itself is clean: no problem, and `notes check` says ok with the counts."""
    make_project(tmp_path)
    assert problems(tmp_path) == []
    assert cli.main(["check", "--root", str(tmp_path)]) == 0
    assert capsys.readouterr().out.strip() == "ok: 1 notes, 1 claims"


def test_check_exit_code_and_output(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """With a problem, `notes check` prints its file:line line on stdout and exits 1."""
    make_project(tmp_path, note=edit(20, None))
    assert cli.main(["check", "--root", str(tmp_path)]) == 1
    out = capsys.readouterr().out.splitlines()
    assert out == [f"{NOTE}:22: missing section '## 내 생각' (expected before '## 핵심 내용')"]


# --- sections -----------------------------------------------------------------------------

def test_missing_section(tmp_path: Path) -> None:
    """A missing section is reported at the next section's heading, naming both."""
    make_project(tmp_path, note=edit(27, None))
    assert problems(tmp_path) == [
        f"{NOTE}:29: missing section '## 실험 및 결과' (expected before '## 요약 및 결론')"]


def test_missing_last_section(tmp_path: Path) -> None:
    """A missing last section is reported at the end of the file."""
    make_project(tmp_path, note=edit(37, None))
    assert problems(tmp_path) == [f"{NOTE}:37: missing section '## 학습 회고' (expected at the end)"]


def test_summary_not_satisfied_by_conclusion(tmp_path: Path) -> None:
    """'## 요약 및 결론' contains '요약' but counts only as 요약 및 결론: 요약 is still missing."""
    make_project(tmp_path, note=edit(16, None))
    assert problems(tmp_path) == [f"{NOTE}:20: missing section '## 요약' (expected before '## 내 생각')"]


def test_section_heading_may_have_extra_words(tmp_path: Path) -> None:
    """A heading passes when its text contains the section name ('## 1. 요약 (짧게)')."""
    make_project(tmp_path, note=edit(16, "## 1. 요약 (짧게)"))
    assert problems(tmp_path) == []


def test_heading_in_code_block_or_wrong_level_does_not_count(tmp_path: Path) -> None:
    """Only real '##' headings count: not one inside a code fence, not a '###'."""
    note = edit(20, "```text\n## 내 생각\n```").replace("## 학습 회고", "### 학습 회고")
    make_project(tmp_path, note=note)
    found = problems(tmp_path)
    assert f"{NOTE}:24: missing section '## 내 생각' (expected before '## 핵심 내용')" in found
    assert f"{NOTE}:39: missing section '## 학습 회고' (expected at the end)" in found
    assert len(found) == 2


# --- front matter -------------------------------------------------------------------------

def test_front_matter_missing_title(tmp_path: Path) -> None:
    """A missing required key is reported at line 1."""
    make_project(tmp_path, note=edit(2, "# no title"))
    assert problems(tmp_path) == [f"{NOTE}:1: front matter: missing required key 'title'"]


def test_front_matter_bad_status(tmp_path: Path) -> None:
    """A status outside 읽음 / 읽는 중 / 읽을 예정 is reported at its line, listing the choices."""
    make_project(tmp_path, note=edit(5, "status: 완료"))
    assert problems(tmp_path) == [
        f"{NOTE}:5: front matter: 'status' is '완료'; use one of 읽음, 읽는 중, 읽을 예정"]


@pytest.mark.parametrize("value", ["20x", "1850", "'2020'", "2020.5"])
def test_front_matter_bad_year(tmp_path: Path, value: str) -> None:
    """The year must be an int in 1900..2100 (not a string, not a float)."""
    make_project(tmp_path, note=edit(4, f"year: {value}"))
    found = problems(tmp_path)
    assert len(found) == 1
    assert found[0].startswith(f"{NOTE}:4: front matter: 'year' must be a year between 1900 and 2100")


def test_front_matter_other_keys(tmp_path: Path) -> None:
    """Empty authors, non-list tags and a bad date are each reported at their line."""
    note = edit(3, "authors: []")
    note = note.replace("tags: [x]", "tags: x").replace("date_read: 2026-01-01", "date_read: 어제")
    make_project(tmp_path, note=note)
    assert problems(tmp_path) == [
        f"{NOTE}:3: front matter: 'authors' must be a non-empty list of names, "
        "e.g. [Razvan Pascanu, Yoshua Bengio]",
        f"{NOTE}:6: front matter: 'tags' must be a list of strings, e.g. [RNN, optimisation] (or [])",
        f"{NOTE}:7: front matter: 'date_read' must be a date YYYY-MM-DD (got '어제')",
    ]


def test_front_matter_accepts_string_date_and_unknown_keys(tmp_path: Path) -> None:
    """date_read may be a quoted 'YYYY-MM-DD' string; unknown keys (arxiv) are allowed."""
    make_project(tmp_path, note=edit(7, "date_read: '2026-01-01'\narxiv: 1211.5063"))
    assert problems(tmp_path) == []


def test_front_matter_missing_or_broken(tmp_path: Path) -> None:
    """No front matter at all, or invalid YAML, is one problem at a precise line."""
    make_project(tmp_path / "a", note=GOOD_NOTE.split("---\n", 2)[2])
    assert problems(tmp_path / "a")[0].startswith(f"{NOTE}:1: no front matter")
    make_project(tmp_path / "b", note=edit(3, "authors: [unclosed"))
    found = problems(tmp_path / "b")
    assert len(found) == 1 and found[0].startswith(f"{NOTE}:4: front matter is not valid YAML")


# --- citations ----------------------------------------------------------------------------

def test_unknown_citation_key(tmp_path: Path) -> None:
    """A [@key] missing from references.yaml is reported with its line and key."""
    make_project(tmp_path, note=edit(14, "이 논문 [@ref2020; @nobody2099]."))
    assert problems(tmp_path) == [
        f"{NOTE}:14: unknown citation key 'nobody2099' (not in references.yaml)"]


# --- claims -------------------------------------------------------------------------------

def test_claim_without_test(tmp_path: Path) -> None:
    """A claim that no test marks is reported at the claim's line."""
    make_project(tmp_path, test=None)
    assert problems(tmp_path) == [
        f"{NOTE}:24: claim 'fx/one' has no test (mark one with @pytest.mark.claim('fx/one'))"]


def test_unknown_claim_id_in_test(tmp_path: Path) -> None:
    """A test marked with an id that no note states is reported at the test."""
    test = GOOD_TEST + '\n\n@pytest.mark.claim("fx/ghost")\ndef test_ghost():\n    pass\n'
    make_project(tmp_path, test=test)
    assert problems(tmp_path) == [
        f"{TEST}:10: test 'test_ghost' is marked with unknown claim id 'fx/ghost' (no note states it)"]


def test_duplicate_claim_id(tmp_path: Path) -> None:
    """The same claim id stated twice is reported at the second, pointing at the first."""
    make_project(tmp_path, note=edit(28, '!!! claim "fx/one"\n    또 같은 주장.'))
    assert problems(tmp_path) == [
        f"{NOTE}:28: duplicate claim id 'fx/one' (first stated at {NOTE}:24)"]


def test_stub_claim_test_is_reported(tmp_path: Path) -> None:
    """A claim test that still calls pytest.fail("TODO ...") is reported as the intentional stub."""
    stub = GOOD_TEST.replace("assert 1 + 1 == 2", 'pytest.fail("TODO: write it")')
    make_project(tmp_path, test=stub)
    assert problems(tmp_path) == [
        f"{TEST}:6: test 'test_one' of claim 'fx/one' is the intentional stub from `notes new` "
        '(pytest.fail("TODO ...")); write the test']


def test_unparsable_test_file(tmp_path: Path) -> None:
    """A test file with a syntax error is a problem at its line, not a crash."""
    make_project(tmp_path, test=GOOD_TEST + "def broken(:\n")
    found = problems(tmp_path)
    assert len(found) == 1 and found[0].startswith(f"{TEST}:7: cannot parse test file")


# --- links --------------------------------------------------------------------------------

def test_broken_concept_link(tmp_path: Path) -> None:
    """A relative link to a missing .md page is reported with its line and the page it wants."""
    make_project(tmp_path, note=edit(18, "[없는 개념](../../concepts/nope.md#절) 참고."))
    assert problems(tmp_path) == [
        f"{NOTE}:18: broken link '../../concepts/nope.md#절' (no page docs/concepts/nope.md)"]


def test_links_that_are_fine(tmp_path: Path) -> None:
    """External links, anchors, code spans, non-.md files and generated pages are not errors."""
    extra = ("[a](https://example.com/x.md) [b](#요약) `[c](../../concepts/nope.md)` "
             "[d](../../claims.md) [e](../../reading-list.md) [f](figure.svg)")
    make_project(tmp_path, note=edit(19, extra))
    assert problems(tmp_path) == []


def test_link_to_generated_test_page_needs_the_test(tmp_path: Path) -> None:
    """A link to a generated test-source page resolves only when the test file exists."""
    note = edit(19, "[t](../../tests/fx/test_fx.md) [u](../../tests/fx/test_none.md)")
    make_project(tmp_path, note=note)
    assert problems(tmp_path) == [
        f"{NOTE}:19: broken link '../../tests/fx/test_none.md' (no page docs/tests/fx/test_none.md)"]


def test_link_outside_docs(tmp_path: Path) -> None:
    """A relative .md link that leaves docs/ is reported."""
    make_project(tmp_path, note=edit(19, "[r](../../../README.md)"))
    assert problems(tmp_path) == [f"{NOTE}:19: link '../../../README.md' points outside docs/"]


def test_broken_bibliography_is_reported(tmp_path: Path) -> None:
    """An invalid references.yaml is one problem on references.yaml, not a crash."""
    make_project(tmp_path, references="ref2020:\n  title: no authors\n")
    found = problems(tmp_path)
    assert len(found) == 1 and found[0].startswith("references.yaml:1: cannot use the bibliography")
