"""Results kept across `mkdocs serve` rebuilds while their files are unchanged (notes_code/kb/memo.py).

Issue #12: a prose edit should not re-parse the bibliography, the glossary or every note's
links. These tests check that the memo never hands out a stale or shared value.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from notes_code.kb import memo


@pytest.fixture(autouse=True)
def _fresh():
    memo.clear()
    yield
    memo.clear()


def test_reused_while_unchanged_recomputed_on_any_content_change(tmp_path: Path) -> None:
    """Issue #12: same bytes reuse; an edit with the same size and mtime, a deletion, a new key recompute."""
    path = tmp_path / "a.yaml"
    path.write_text("x: 1\n", encoding="utf-8")
    calls: list[str] = []

    def load() -> dict:
        calls.append("load")
        return {"text": path.read_text(encoding="utf-8") if path.exists() else None}

    assert memo.cached("a", [path], load) == {"text": "x: 1\n"}
    assert memo.cached("a", [path], load) == {"text": "x: 1\n"} and calls == ["load"]
    st = path.stat()
    path.write_text("x: 2\n", encoding="utf-8")
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))
    assert memo.cached("a", [path], load) == {"text": "x: 2\n"} and len(calls) == 2
    assert memo.cached("a", [path], load, key="other") == {"text": "x: 2\n"} and len(calls) == 3
    path.unlink()
    assert memo.cached("a", [path], load, key="other") == {"text": None} and len(calls) == 4


def test_callers_cannot_change_the_kept_value(tmp_path: Path) -> None:
    """Issue #12: a caller mutating its copy does not change what the next caller gets."""
    path = tmp_path / "a"
    path.write_text("1", encoding="utf-8")
    first = memo.cached("b", [path], lambda: {"k": [1]})
    first["k"].append(2)
    assert memo.cached("b", [path], lambda: {"k": [9]}) == {"k": [1]}
    shallow = memo.cached("c", [path], lambda: {"k": (1,)}, deep=False)
    shallow["new"] = 1
    assert memo.cached("c", [path], lambda: {}, deep=False) == {"k": (1,)}


def test_errors_are_not_kept(tmp_path: Path) -> None:
    """Issue #12: a failing computation raises every time until it succeeds (no cached error)."""
    path = tmp_path / "a"
    path.write_text("bad", encoding="utf-8")

    def load() -> str:
        text = path.read_text(encoding="utf-8")
        if text == "bad":
            raise ValueError("bad file")
        return text

    for _ in range(2):
        with pytest.raises(ValueError, match="bad file"):
            memo.cached("d", [path], load)
    path.write_text("good", encoding="utf-8")
    assert memo.cached("d", [path], load) == "good"
