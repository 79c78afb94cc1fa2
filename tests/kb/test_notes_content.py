"""The real notes: required sections, and the seed note's every bullet kept (issue #4)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from notes_code.kb import lint

ROOT = Path(__file__).resolve().parents[2]
SEED = ROOT.parent / "shared" / "seed" / "day-note-pascanu2013.ko.md"
NOTE = ROOT / "docs" / "papers" / "pascanu2013" / "index.md"


def test_every_note_passes_the_linter() -> None:
    """Every note has the seed's sections, valid front matter, known citations and tested claims."""
    report = lint.check_project(ROOT)
    assert [str(p) for p in report.problems] == []
    assert report.notes >= 2


@pytest.mark.skipif(not SEED.exists(), reason="the seed note lives in ../shared/seed/")
def test_every_seed_bullet_is_kept() -> None:
    """Nothing of the author's seed note is silently dropped: every non-empty bullet is in the note."""
    note = NOTE.read_text(encoding="utf-8")
    missing = []
    seed = re.sub(r"<!--.*?-->", "", SEED.read_text(encoding="utf-8"), flags=re.S)  # the template
    for line in seed.splitlines():
        m = re.match(r"^\s*\*\s+(.*\S)\s*$", line)
        if not m or "<img" in line:
            continue
        text = m.group(1)
        if text not in note:
            missing.append(text)
    assert missing == []


def test_inverted_sentence_is_kept_and_corrected() -> None:
    """The seed's inverted vanishing/exploding sentence stays verbatim, followed by a 정정 box."""
    note = NOTE.read_text(encoding="utf-8")
    sentence = "gradient vanishing은 반대로 𝜆1이 1/𝛾보다 크다면 exploding된다."
    assert sentence in note
    after = note.split(sentence, 1)[1]
    assert re.search(r'^!!! warning "정정"', after, re.M)
    assert after.index('!!! warning "정정"') < 400
