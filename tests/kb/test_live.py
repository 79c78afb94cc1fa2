"""`make serve`'s dirty reload re-renders exactly the pages a save can change (issue #12)."""

from __future__ import annotations

from pathlib import Path

import pytest

from notes_code.kb import live


@pytest.fixture(autouse=True)
def _fresh_state():
    """Each test starts from, and leaves behind, a state that does nothing (as in `mkdocs build`)."""
    live.STATE = live.LiveState()
    yield
    live.STATE = live.LiveState()


class FakePage:
    def __init__(self, title: str) -> None:
        self.title, self.content, self._title_from_render = title, "<p>x</p>", None


class FakeFile:
    def __init__(self, uri: str, text: str) -> None:
        self.src_uri, self.text, self.page = uri, text, FakePage(uri)

    @property
    def content_bytes(self) -> bytes:
        return self.text.encode()

    @property
    def content_string(self) -> str:
        return self.text


class FakeFiles:
    def __init__(self, pages: dict[str, str]) -> None:
        self.files = [FakeFile(u, t) for u, t in pages.items()]

    def documentation_pages(self) -> list[FakeFile]:
        return self.files


PAGES = {
    "index.md": "# 홈\n\n```python exec=\"on\"\nprint(1)\n```\n",
    "concepts/bptt.md": "# BPTT\n\n글.\n",
    "concepts/jacobian.md": "# J\n\n```python exec=\"on\"\nimport notes_code.p.m\n```\n",
    "papers/p/index.md": "# P\n\n글.\n",
    "reference/notes_code/p/m.md": "# `notes_code.p.m`\n\n::: notes_code.p.m\n",
    "reference/notes_code/p/n.md": "# `notes_code.p.n`\n\n::: notes_code.p.n\n",
}


def _project(tmp: Path) -> Path:
    (tmp / "notes_code" / "p").mkdir(parents=True)
    (tmp / "notes_code" / "p" / "m.py").write_text("X = 1\n")
    (tmp / "notes_code" / "p" / "n.py").write_text("Y = 1\n")
    (tmp / "tests").mkdir()
    (tmp / "tests" / "test_a.py").write_text("def test(): pass\n")
    (tmp / "docs" / "data").mkdir(parents=True)
    (tmp / "docs" / "data" / "d.json").write_text("{}")
    (tmp / "mkdocs.yml").write_text("site_name: x\n")
    return tmp


def _rebuild(root: Path, pages: dict[str, str]) -> list[str] | None:
    files = FakeFiles(pages)
    chosen = live.select(files, root, root / "docs")
    for f in files.files:  # what MkDocs does with our verdict
        if chosen is not None and not f.is_modified():
            f.page.content = None
    live.restore_titles(files)
    live.finish()
    return chosen


def test_dirty_reload_selects_only_the_pages_a_save_changes(tmp_path: Path) -> None:
    """Prose edit: that page alone; a paper note: also the home page; a module: its API page and
    the pages with executed blocks; a data file: the executed pages; a test file: everything."""
    root = _project(tmp_path)
    live.start("serve", dirty=True)
    assert _rebuild(root, PAGES) is None  # first build: everything
    assert _rebuild(root, PAGES) == []  # nothing changed: nothing renders

    assert _rebuild(root, {**PAGES, "concepts/bptt.md": PAGES["concepts/bptt.md"] + "한 문장.\n"}) \
        == ["concepts/bptt.md"]
    edited = {**PAGES, "concepts/bptt.md": PAGES["concepts/bptt.md"] + "한 문장.\n"}
    note_edit = {**edited, "papers/p/index.md": "# P\n\n고침.\n"}
    assert _rebuild(root, note_edit) == ["index.md", "papers/p/index.md"]
    edited["papers/p/index.md"] = "# P\n\n고침.\n"

    (root / "notes_code" / "p" / "m.py").write_text("X = 2\n")
    assert _rebuild(root, edited) == ["concepts/jacobian.md", "index.md", "reference/notes_code/p/m.md"]

    (root / "docs" / "data" / "d.json").write_text('{"a": 1}')
    assert _rebuild(root, edited) == ["concepts/jacobian.md", "index.md"]

    (root / "tests" / "test_a.py").write_text("def test(): assert 1\n")
    assert _rebuild(root, edited) is None


def test_skipped_pages_keep_their_titles_and_plain_serve_is_untouched(tmp_path: Path) -> None:
    """A page that is not re-rendered keeps its last title in the navigation; without --dirty
    (or in `mkdocs build`) nothing is overridden."""
    root = _project(tmp_path)
    live.start("serve", dirty=True)
    files = FakeFiles(PAGES)
    live.select(files, root, root / "docs")
    files.files[1].page.title = "역전파 BPTT"
    live.finish()
    files = FakeFiles(PAGES)
    files.files[1].page.title = None
    live.select(files, root, root / "docs")
    live.restore_titles(files)
    assert files.files[1].page._title_from_render == "역전파 BPTT"
    live.start("build", dirty=False)
    files = FakeFiles(PAGES)
    assert live.select(files, root, root / "docs") is None
    assert not hasattr(files.files[0], "is_modified")
