"""notes_code.kb.home: the order of the paper cards."""

from __future__ import annotations

from pathlib import Path

from notes_code.kb.home import reading_order
from notes_code.kb.notes import Note


def _note(slug: str, status: str, year: int) -> Note:
    return Note(slug=slug, path=Path(f"docs/papers/{slug}/index.md"), meta={"status": status, "year": year})


def test_finished_notes_first_then_year() -> None:
    """읽음 before 읽는 중 before 읽을 예정; by year within a status; unknown status last."""
    notes = [_note("lstm", "읽는 중", 1997), _note("pascanu", "읽음", 2013), _note("old", "읽음", 1994),
             _note("next", "읽을 예정", 1990), _note("odd", "?", 1980)]
    assert [n.slug for n in reading_order(notes)] == ["old", "pascanu", "lstm", "next", "odd"]
