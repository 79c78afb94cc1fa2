"""The claim index's per-file parse cache (notes_code/kb/claims.py), issue #12.

`mkdocs serve` builds the claim index three times per rebuild; each test file is parsed
once per distinct content. These tests check that the cache never serves a stale answer:
a changed file (even with the same size and modification time) is parsed again, and what
does not come from the file's text (does the module named in ``modules=`` exist?) is
checked on every build.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from notes_code.kb import claims as kb_claims

ROOT = Path(__file__).resolve().parents[2]

TEST_A = 'import pytest\n\n@pytest.mark.claim("n/a", modules=["p.m"])\ndef test_one():\n    pass\n'


def _project(tmp: Path) -> Path:
    (tmp / "docs").mkdir()
    (tmp / "docs" / "n.md").write_text('!!! claim "n/a"\n    x\n\n!!! claim "n/b"\n    y\n', encoding="utf-8")
    (tmp / "notes_code" / "p").mkdir(parents=True)
    (tmp / "notes_code" / "p" / "m.py").write_text("X = 1\n", encoding="utf-8")
    (tmp / "tests").mkdir()
    (tmp / "tests" / "test_a.py").write_text(TEST_A, encoding="utf-8")
    return tmp


def test_unchanged_file_is_parsed_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Issue #12 (prose-edit rebuild): building the index again parses no unchanged test file."""
    root = _project(tmp_path)
    kb_claims.build_index(root)
    parsed: list[str] = []
    real = kb_claims._scan_source
    monkeypatch.setattr(kb_claims, "_scan_source", lambda src, name: parsed.append(name) or real(src, name))
    first = kb_claims.build_index(root)
    assert parsed == []
    (root / "docs" / "n.md").write_text(
        "prose only\n" + (root / "docs" / "n.md").read_text(encoding="utf-8"), encoding="utf-8"
    )
    again = kb_claims.build_index(root)
    assert parsed == [] and again.tests == first.tests


def test_edited_test_file_is_parsed_again_even_with_same_size_and_mtime(tmp_path: Path) -> None:
    """Issue #12: the cache is keyed by content, so an edit that keeps size and mtime still shows."""
    root = _project(tmp_path)
    path = root / "tests" / "test_a.py"
    before = kb_claims.build_index(root)
    assert before.problems() == [
        f"{root / 'docs' / 'n.md'}:4: claim 'n/b' has no test (mark one with @pytest.mark.claim('n/b'))"
    ]
    st = path.stat()
    path.write_text(TEST_A.replace('"n/a"', '"n/b"'), encoding="utf-8")  # same length
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))
    assert path.stat().st_size == st.st_size and path.stat().st_mtime_ns == st.st_mtime_ns
    after = kb_claims.build_index(root)
    assert sorted(after.tests) == ["n/b"]
    assert [r.nodeid for r in after.tests["n/b"]] == ["tests/test_a.py::test_one"]
    assert "claim 'n/a' has no test" in "\n".join(after.problems())


def test_new_and_removed_test_files(tmp_path: Path) -> None:
    """Issue #12: a new test file is seen by the next build; a deleted one is gone from it."""
    root = _project(tmp_path)
    kb_claims.build_index(root)
    extra = root / "tests" / "test_b.py"
    extra.write_text(
        'import pytest\n\n@pytest.mark.claim("n/b")\ndef test_two():\n    pass\n', encoding="utf-8"
    )
    assert kb_claims.build_index(root).problems() == []
    extra.unlink()
    assert sorted(kb_claims.build_index(root).tests) == ["n/a"]


def test_modules_are_checked_on_every_build(tmp_path: Path) -> None:
    """Issue #12: a deleted module named by an unchanged test's modules= is reported at once."""
    root = _project(tmp_path)
    index = kb_claims.build_index(root)
    assert index.modules_of("n/a") == ["p.m"] and not index.errors
    (root / "notes_code" / "p" / "m.py").unlink()
    errors = kb_claims.build_index(root).errors
    assert len(errors) == 1 and "unknown module 'p.m'" in errors[0]


def test_class_markers_and_test_functions(tmp_path: Path) -> None:
    """Issue #12: class-level modules= and the test-source page's function spans come from the cache."""
    root = _project(tmp_path)
    (root / "tests" / "test_a.py").write_text(
        'import pytest\n\n@pytest.mark.claim("n/b", modules=["p.m"])\nclass TestX:\n'
        "    @pytest.mark.slow\n    def test_two(self):\n        pass\n\n"
        "    def helper(self):\n        pass\n",
        encoding="utf-8",
    )
    index = kb_claims.build_index(root)
    assert [(r.nodeid, r.modules) for r in index.tests["n/b"]] == [
        ("tests/test_a.py::TestX::test_two", ("p.m",))
    ]
    assert kb_claims.scan_file(root / "tests" / "test_a.py").functions == (("test_two", 5, 7),)


def test_cached_index_equals_a_fresh_one() -> None:
    """Issue #12: on the real repository, the index built from the cache equals one built from scratch."""
    warm = kb_claims.build_index(ROOT)
    kb_claims._SCANS.clear()
    cold = kb_claims.build_index(ROOT)
    assert warm.tests == cold.tests and warm.claims == cold.claims and warm.errors == cold.errors
    assert cold.problems() == []


def test_edited_note_is_scanned_again(tmp_path: Path) -> None:
    """Issue #12: a claim added to or removed from a note is in the next index (pages cached by content)."""
    root = _project(tmp_path)
    note = root / "docs" / "n.md"
    assert sorted(kb_claims.build_index(root).claims) == ["n/a", "n/b"]
    st = note.stat()
    note.write_text(note.read_text(encoding="utf-8").replace('"n/b"', '"n/c"'), encoding="utf-8")
    os.utime(note, ns=(st.st_atime_ns, st.st_mtime_ns))
    assert sorted(kb_claims.build_index(root).claims) == ["n/a", "n/c"]
    note.write_text(note.read_text(encoding="utf-8") + '\n!!! claim "n/a"\n    again\n', encoding="utf-8")
    assert "duplicate claim id 'n/a'" in "\n".join(kb_claims.build_index(root).problems())


def test_index_shared_within_a_build_only(tmp_path: Path) -> None:
    """Issue #12: the hooks' index is handed to the page generator and cards; after the build, a fresh one."""
    root = _project(tmp_path)
    shared = kb_claims.build_index(root)
    kb_claims.set_current(root, shared, docs_dir=root / "docs", tests_dir=root / "tests")
    try:
        assert kb_claims.current_index(root) is shared  # same folders, given or defaulted
        assert kb_claims.current_index(root / ".", docs_dir=root / "docs") is shared
        assert kb_claims.current_index(root, docs_dir=root / "tests") is not shared  # other folders
    finally:
        kb_claims.set_current(root, None)
    (root / "docs" / "n.md").write_text('!!! claim "n/a"\n    x\n', encoding="utf-8")
    fresh = kb_claims.current_index(root)
    assert fresh is not shared and sorted(fresh.claims) == ["n/a"]
