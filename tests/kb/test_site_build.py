"""Fixture sites: the build fails loudly, naming the page, on every kind of breakage."""

from __future__ import annotations

from pathlib import Path

from tests.kb.conftest import make_fixture_site, run_build

NOTE_HEAD = """---
title: Fixture note
authors: [A. Author]
year: 2020
status: 읽음
tags: [x]
date_read: 2026-01-01
---

# Fixture note

"""


def _build(tmp_path: Path, pages: dict[str, str], **kw: object):
    pages = {"index.md": "# 홈\n", **pages}
    config = make_fixture_site(tmp_path, pages, **kw)  # type: ignore[arg-type]
    return run_build(config, tmp_path / "out")


def test_fixture_site_builds(tmp_path: Path) -> None:
    """The fixture itself is sound: a note with math, an executed block and a citation builds."""
    page = NOTE_HEAD + ("$$a^2$$\n\n```python exec=\"on\"\nprint(6 * 7)\n```\n\n"
                        "인용 [@bengio1994].\n")
    proc = _build(tmp_path, {"papers/fx/index.md": page})
    assert proc.returncode == 0, proc.stderr
    html = (tmp_path / "out" / "papers" / "fx" / "index.html").read_text(encoding="utf-8")
    assert "42" in html and "ref-bengio1994" in html


def test_failing_code_block_fails_build_naming_page(tmp_path: Path) -> None:
    """markdown-exec only warns on a raising block; our hook makes the build fail and name the page."""
    page = NOTE_HEAD + '```python exec="on"\nraise ValueError("boom-42")\n```\n'
    proc = _build(tmp_path, {"papers/fx/index.md": page})
    assert proc.returncode != 0
    assert "papers/fx/index.md" in proc.stderr
    assert "boom-42" in proc.stderr


def test_broken_internal_link_fails_build(tmp_path: Path) -> None:
    """validation: a link to a missing page fails the strict build."""
    proc = _build(tmp_path, {"papers/fx/index.md": NOTE_HEAD + "[없는 쪽](../nope.md)\n"})
    assert proc.returncode != 0
    assert "nope.md" in proc.stderr


def test_broken_korean_anchor_fails_build(tmp_path: Path) -> None:
    """validation: a link to a missing Korean anchor fails; the existing one (readable slug) passes."""
    good = NOTE_HEAD + "## 기울기 폭발\n\n[여기](#기울기-폭발)\n"
    assert _build(tmp_path / "a", {"papers/fx/index.md": good}).returncode == 0
    bad = NOTE_HEAD + "## 기울기 폭발\n\n[여기](#기울기-소실)\n"
    proc = _build(tmp_path / "b", {"papers/fx/index.md": bad})
    assert proc.returncode != 0
    assert "기울기-소실" in proc.stderr


def test_unknown_citation_key_fails_build(tmp_path: Path) -> None:
    """Prose cites by key; an unknown key fails the build and names file, line and key."""
    proc = _build(tmp_path, {"papers/fx/index.md": NOTE_HEAD + "text [@nobody2099]\n"})
    assert proc.returncode != 0
    assert "nobody2099" in proc.stderr and "papers/fx/index.md" in proc.stderr
