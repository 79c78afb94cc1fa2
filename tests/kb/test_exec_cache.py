"""The execution cache and the bounds on executed blocks (issue #12).

Fixture sites are built with this repository's hooks in a subprocess; each build
records which blocks ran and which were reused in ``.cache/exec/last-build.json``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from notes_code.kb import exec_cache, exec_guard, exec_inputs
from tests.kb.conftest import ENV, MKDOCS, ROOT, make_fixture_site

HEAD = """---
title: Fixture note
authors: [A. Author]
year: 2020
status: 읽음
tags: [x]
date_read: 2026-01-01
---

# Fixture note

"""


def _block(code: str, opts: str = "") -> str:
    return f'```python exec="on"{" " + opts if opts else ""}\n{textwrap.dedent(code).strip()}\n```\n\n'


def _build(tmp: Path, **env: str) -> tuple[subprocess.CompletedProcess, dict]:
    environ = {**ENV, "PYTHONPATH": f"{ROOT}{os.pathsep}{tmp}", **env}
    proc = subprocess.run([*MKDOCS, "build", "--strict", "-f", str(tmp / "mkdocs.yml"), "-d",
                           str(tmp / "out")], cwd=tmp, capture_output=True, text=True, env=environ,
                          timeout=300)
    stats_file = tmp / ".cache" / "exec" / "last-build.json"
    stats = json.loads(stats_file.read_text()) if stats_file.exists() else {}
    stats_file.unlink(missing_ok=True)
    return proc, stats


def _ran(stats: dict) -> set[str]:
    return {w.split(":")[0] + ":" + w.split(":")[1] for w in stats.get("executed", [])}


# --- bounds -------------------------------------------------------------------------------

@pytest.mark.slow
def test_endless_block_fails_build_naming_page_line_and_limit(tmp_path: Path) -> None:
    """`while True: pass` no longer hangs the build: it fails at the limit, naming page, line, limit."""
    page = HEAD + "글.\n\n" + _block("while True: pass", 'timeout="2"')
    make_fixture_site(tmp_path, {"index.md": "# 홈\n", "papers/fx/index.md": page})
    proc, _ = _build(tmp_path)
    assert proc.returncode != 0
    assert "papers/fx/index.md:14" in proc.stderr and "time limit of 2 s" in proc.stderr


@pytest.mark.slow
def test_block_output_cap_and_sys_exit_fail_the_build(tmp_path: Path) -> None:
    """A block printing past the cap, or calling sys.exit, fails the build with the page and line."""
    page = HEAD + _block('print("x" * 3_000_000)') + _block("import sys\nsys.exit(3)")
    make_fixture_site(tmp_path, {"index.md": "# 홈\n", "papers/fx/index.md": page})
    proc, _ = _build(tmp_path)
    assert proc.returncode == 1, proc.stderr[-2000:]
    assert "papers/fx/index.md:12" in proc.stderr and "output limit of 2 MB" in proc.stderr
    assert "papers/fx/index.md:16" in proc.stderr and "sys.exit(3)" in proc.stderr


def test_deadline_interrupts_a_loop_and_spares_a_quick_body() -> None:
    """The watchdog raises BlockTimeout in a busy loop (even one catching Exception), not otherwise."""
    with pytest.raises(exec_guard.BlockTimeout), exec_guard.deadline(0.2):
        while True:
            try:
                pass
            except Exception:  # noqa: S110 - the point: BlockTimeout is not an Exception
                pass
    with exec_guard.deadline(5) as state:
        sum(range(1000))
    assert not state["fired"]


def test_output_cap_counts_utf8_bytes() -> None:
    """The cap is in bytes: 2 MB of Hangul (3 bytes each) is reached at about 700k characters."""
    buf = exec_guard.CappedBuffer(exec_guard.DEFAULT_MAX_OUTPUT)
    buf.write("가" * 600_000)
    with pytest.raises(exec_guard.OutputLimit):
        buf.write("가" * 200_000)
    assert exec_guard.parse_size("2MB") == 2 * 1024 * 1024 and exec_guard.parse_size("100") == 100
    with pytest.raises(ValueError):
        exec_guard.parse_size("lots")


def test_executed_blocks_finds_lines_of_exec_fences_only() -> None:
    """Lines are counted in the stored file (front matter included); plain fences are skipped."""
    text = "---\na: 1\n---\n\n```python\nx\n```\n\n```python exec=\"on\"\nprint(1)\n```\n" \
           "    ```py exec=\"1\" html=\"on\"\n    print(2)\n    ```\n"
    assert exec_cache.executed_blocks(text) == [(9, "print(1)"), (12, "print(2)")]


# --- the cache ----------------------------------------------------------------------------

@pytest.mark.slow
def test_cache_reruns_exactly_the_blocks_whose_inputs_changed(tmp_path: Path) -> None:
    """A prose edit re-runs no block; editing a function re-runs exactly the blocks importing it
    (directly or through another module); editing a data file re-runs the block that read it."""
    pkg = tmp_path / "fixturepkg"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "a.py").write_text("def f():\n    return 41\n")
    (pkg / "b.py").write_text("from fixturepkg.a import f\n\n\ndef g():\n    return f() + 1\n")
    (pkg / "c.py").write_text("def h():\n    return 7\n")
    one = HEAD + "첫 문단.\n\n" + _block("from fixturepkg.b import g\nprint('g =', g())") \
        + _block("from fixturepkg import c\nprint('h =', c.h())") + _block("print('plain', 6 * 7)")
    two = _block("from pathlib import Path\nprint(Path('docs/data/x.txt').read_text())")
    make_fixture_site(tmp_path, {"index.md": "# 홈\n", "papers/fx/index.md": one,
                                 "concepts/d.md": "# D\n\n" + two})
    (tmp_path / "docs" / "data").mkdir()
    (tmp_path / "docs" / "data" / "x.txt").write_text("data-v1")
    env = {"NOTES_EXEC_PACKAGES": "notes_code,fixturepkg"}
    note, concept = "papers/fx/index.md", "concepts/d.md"

    proc, stats = _build(tmp_path, **env)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert len(stats["executed"]) == 4 and not stats["reused"]

    (tmp_path / "docs" / note).write_text(one.replace("첫 문단.", "첫 문단. 한 문장 더."))
    proc, stats = _build(tmp_path, **env)
    assert proc.returncode == 0 and stats["executed"] == [] and len(stats["reused"]) == 4
    html = (tmp_path / "out" / "papers" / "fx" / "index.html").read_text(encoding="utf-8")
    assert "g = 42" in html and "h = 7" in html and "한 문장 더" in html

    (pkg / "a.py").write_text("def f():\n    return 99\n")  # used by block 1 through fixturepkg.b
    proc, stats = _build(tmp_path, **env)
    assert proc.returncode == 0 and _ran(stats) == {f"{note}:14"}
    assert "g = 100" in (tmp_path / "out" / "papers" / "fx" / "index.html").read_text(encoding="utf-8")

    (pkg / "c.py").write_text("def h():\n    return 8\n")
    proc, stats = _build(tmp_path, **env)
    assert _ran(stats) == {f"{note}:19"}

    (tmp_path / "docs" / "data" / "x.txt").write_text("data-v2")
    proc, stats = _build(tmp_path, **env)
    assert _ran(stats) == {f"{concept}:3"}
    assert "data-v2" in (tmp_path / "out" / "concepts" / "d.html").read_text(encoding="utf-8")

    proc, stats = _build(tmp_path, NOTES_EXEC_CACHE="refresh", **env)  # what `make test` builds
    assert proc.returncode == 0 and len(stats["executed"]) == 4 and not stats["reused"]


def test_store_is_atomic_and_a_corrupt_entry_is_a_miss(tmp_path: Path, monkeypatch) -> None:
    """An interrupted write keeps the old entry whole; an unreadable entry is re-run, not trusted."""
    cache = exec_cache.ExecCache(tmp_path)
    cache.begin_page("p.md", "```python exec=\"on\"\nprint(5)\n```\n")
    assert cache.run("print(5)") == "5\n"
    key = cache.key("p.md", "print(5)", {"language": "python"})
    entry = cache.directory / f"{key}.json"
    before = entry.read_bytes()

    def boom(*_a: object, **_k: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(exec_cache.json, "dump", boom)
    with pytest.raises(KeyboardInterrupt):
        cache.store(key, "other", {}, "p.md:1")
    monkeypatch.undo()
    assert entry.read_bytes() == before
    assert sorted(p.name for p in cache.directory.iterdir()) == [entry.name]

    entry.write_text('{"inputs": {}, "outp')  # a half-written file from some other tool
    assert cache.lookup(key) is None
    cache.begin_page("p.md", "")
    assert cache.run("print(5)") == "5\n" and cache.stats.executed and cache.lookup(key) == "5\n"


def test_module_closure_follows_imports_transitively() -> None:
    """The closure of a real module includes the modules it imports and their packages."""
    import notes_code.kb.hooks  # noqa: F401 - imports exec_cache, claims, references, ...

    closure = exec_inputs.module_closure({"notes_code.kb.hooks"}, lambda n: n.startswith("notes_code"))
    assert {"notes_code", "notes_code.kb", "notes_code.kb.exec_cache", "notes_code.kb.exec_guard",
            "notes_code.kb.references"} <= set(closure)
    assert closure["notes_code.kb.exec_guard"] == ROOT / "notes_code" / "kb" / "exec_guard.py"


def test_bad_mode_is_refused() -> None:
    """A misspelled NOTES_EXEC_CACHE is an error, not a silent default."""
    with pytest.raises(ValueError, match="NOTES_EXEC_CACHE"):
        exec_cache.ExecCache(Path(sys.prefix), mode="maybe")


def test_environment_sets_mode_and_default_time_limit(tmp_path: Path, monkeypatch) -> None:
    """NOTES_EXEC_CACHE and NOTES_EXEC_TIMEOUT configure the cache; nonsense is refused."""
    monkeypatch.setenv("NOTES_EXEC_CACHE", "refresh")
    monkeypatch.setenv("NOTES_EXEC_TIMEOUT", "120")
    cache = exec_cache.from_environment(tmp_path)
    assert cache.mode == "refresh" and cache.default_timeout == 120.0
    monkeypatch.setenv("NOTES_EXEC_TIMEOUT", "soon")
    with pytest.raises(ValueError, match="NOTES_EXEC_TIMEOUT"):
        exec_cache.from_environment(tmp_path)


@pytest.mark.slow
def test_figures_reach_the_page_but_not_the_search_index(tmp_path: Path) -> None:
    """An executed block's inline SVG is on the written page, byte for byte, and is kept out of
    the search plugin's parse (it is most of a figure page's bytes and has nothing to search)."""
    svg = '<svg xmlns="http://www.w3.org/2000/svg"><text>svg-label-77</text><path d="M0 0"/></svg>'
    page = HEAD + "그림 아래 글 findme-prose.\n\n" + _block(f"print('<figure>{svg}</figure>')", 'html="on"')
    make_fixture_site(tmp_path, {"index.md": "# 홈\n", "papers/fx/index.md": page})
    proc, _ = _build(tmp_path)
    assert proc.returncode == 0, proc.stderr[-3000:]
    html = (tmp_path / "out" / "papers" / "fx" / "index.html").read_text(encoding="utf-8")
    assert svg in html and "notes-exec-svg" not in html
    index = (tmp_path / "out" / "search" / "search_index.json").read_text(encoding="utf-8")
    assert "findme-prose" in index and "svg-label-77" not in index
