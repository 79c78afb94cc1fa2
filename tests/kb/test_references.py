"""notes_code.kb.references: entries are validated, escaped, and show a separate status badge."""

from __future__ import annotations

from pathlib import Path

import markdown
import pytest

from notes_code.kb import references as kb_refs

ENTRY = "k:\n  authors: A.\n  title: T\n  year: 2020\n  status: 읽음\n"


def _load(tmp_path: Path, extra: str) -> dict:
    path = tmp_path / "references.yaml"
    path.write_text(ENTRY + extra, encoding="utf-8")
    return kb_refs.load(path)


@pytest.mark.parametrize("url", ["javascript:alert(1)", "data:text/html,x", "//evil.org"])
def test_bad_url_names_file_entry_and_key(tmp_path: Path, url: str) -> None:
    """A URL with another scheme is an error naming the file, the entry and the key."""
    with pytest.raises(kb_refs.ReferenceError_, match=r"references\.yaml: entry 'k' key 'url'"):
        _load(tmp_path, f'  url: "{url}"\n')


def test_doi_url_is_resolved(tmp_path: Path) -> None:
    """doi: URLs become https://doi.org/ links."""
    assert _load(tmp_path, "  url: doi:10.1/x\n")["k"].url == "https://doi.org/10.1/x"


def test_non_text_field_is_an_error(tmp_path: Path) -> None:
    """A field that is not text (a list for a title) is reported, not rendered."""
    path = tmp_path / "references.yaml"
    path.write_text("k:\n  authors: A.\n  title: [x]\n  year: 2020\n  status: 읽음\n", encoding="utf-8")
    with pytest.raises(kb_refs.ReferenceError_, match="'title' must be text"):
        kb_refs.load(path)


def test_bibliography_escapes_and_separates_status(tmp_path: Path) -> None:
    """Fields are escaped; the reading status is a labelled badge, not glued to the venue."""
    ref = kb_refs.Reference(key="k", authors="<script>x</script>", title="T [a](javascript:y)",
                            year=2020, status="읽음", venue="V 1318", url="https://x.org/?q=\"")
    html = markdown.markdown(kb_refs.render_bibliography(["k"], {"k": ref}), extensions=["md_in_html"])
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert 'href="javascript' not in html and 'href="https://x.org/?q=%22"' in html
    assert "1318. 읽음" not in html
    assert '<span class="reading-status__label">읽기 상태</span>' in html
