"""Claims linked to tests: fault injection on fixture copies of a small project.

Each fixture is a tiny project (a module, a test, a note) that uses this
repository's pytest plugin, hooks, page generator and Makefile.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from notes_code.kb import claims as kb_claims
from tests.kb.conftest import ENV, ROOT, make_fixture_site, run_build

NOTE = """---
title: Fixture note
authors: [A. Author]
year: 2020
status: 읽음
tags: [x]
date_read: 2026-01-01
---

# Fixture note

!!! claim "fx/doubling"
    `double(x)`는 $2x$를 돌려준다.

## 서지 정보

## 요약

## 내 생각

## 핵심 내용

## 실험 및 결과

## 요약 및 결론

## 모르는 개념

## 후속 참고문헌

## 학습 회고
"""
MODULE = "def double(x):\n    return 2 * x\n"
TEST = '''import pytest
from fxmod import double


@pytest.mark.claim("fx/doubling")
def test_double():
    """Claim fx/doubling."""
    assert double(21) == 42
'''
PYPROJECT = """[tool.pytest.ini_options]
testpaths = ["tests"]
pythonpath = ["."]
markers = ["site: built-site tests", "browser: browser tests"]

[tool.ruff.lint]
select = ["E9", "F63", "F7"]
"""
SITE_TEST = '''import pytest


@pytest.mark.site
def test_site_exists():
    assert True
'''


def fixture_project(tmp: Path, note: str = NOTE, test: str | None = TEST,
                    extra_tests: dict[str, str] | None = None) -> Path:
    tests = {"conftest.py": (ROOT / "tests/conftest.py").read_text(encoding="utf-8"),
             "test_site.py": SITE_TEST, **(extra_tests or {})}
    if test is not None:
        tests["fx/test_fxmod.py"] = test
    config = make_fixture_site(tmp, {"index.md": "# 홈\n", "papers/fx/index.md": note}, tests=tests)
    (tmp / "fxmod.py").write_text(MODULE, encoding="utf-8")
    (tmp / "pyproject.toml").write_text(PYPROJECT, encoding="utf-8")
    return config


def pytest_in(tmp: Path, *args: str) -> subprocess.CompletedProcess:
    quiet = [] if "-v" in args else ["-q"]
    return subprocess.run([sys.executable, "-m", "pytest", *quiet, "-p", "no:cacheprovider", *args],
                          cwd=tmp, capture_output=True, text=True, env=ENV, timeout=300)


def page_status(site: Path) -> str:
    html = (site / "papers/fx/index.html").read_text(encoding="utf-8")
    return re.search(r'data-claim="fx/doubling" data-status="([a-z-]+)"', html).group(1)


def test_broken_function_shows_failed_and_fails(tmp_path: Path) -> None:
    """Break the code under a claim: its test fails, pytest fails, the page says 'failed'."""
    config = fixture_project(tmp_path)
    ok = pytest_in(tmp_path)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert run_build(config, tmp_path / "site").returncode == 0
    assert page_status(tmp_path / "site") == "passed"

    (tmp_path / "fxmod.py").write_text("def double(x):\n    return 2 * x + 1\n", encoding="utf-8")
    bad = pytest_in(tmp_path)
    assert bad.returncode == 1
    report = kb_claims.load_report(tmp_path / "reports/claims.json")
    assert report["tests"]["tests/fx/test_fxmod.py::test_double"]["outcome"] == "failed"
    build = run_build(config, tmp_path / "site")
    assert build.returncode == 0, build.stderr  # the site still builds, showing the failure
    assert page_status(tmp_path / "site") == "failed"


def test_make_test_fails_on_a_failed_claim(tmp_path: Path) -> None:
    """`make test` (the real Makefile) still builds the site but exits non-zero when a claim fails."""
    fixture_project(tmp_path)
    (tmp_path / "fxmod.py").write_text("def double(x):\n    return 0\n", encoding="utf-8")
    # Use this venv as it is: an install stamp newer than the fixture's pyproject.toml
    # keeps make from installing the fixture into the shared venv.
    os.utime(tmp_path / "pyproject.toml", (0, 0))
    stamp = tmp_path / ".installed"
    stamp.touch()
    venv = Path(sys.executable).parent.parent
    proc = subprocess.run(["make", "-f", str(ROOT / "Makefile"), "test", f"VENV={venv}",
                           f"STAMP={stamp}", f"AXE_STAMP={stamp}"],
                          cwd=tmp_path, capture_output=True, text=True, env=ENV, timeout=600)
    assert proc.returncode != 0
    assert "1 failed" in proc.stdout
    assert "site build with every executed block" in proc.stdout  # the build ran after pytest
    assert page_status(tmp_path / "site") == "failed"


def test_claim_without_test_fails_build_and_names_it(tmp_path: Path) -> None:
    """Delete a claim's only test: the build fails and names the file and the claim."""
    config = fixture_project(tmp_path, test=None)
    proc = run_build(config, tmp_path / "site")
    assert proc.returncode != 0
    assert "fx/doubling" in proc.stderr and "papers/fx/index.md" in proc.stderr
    assert "has no test" in proc.stderr


def test_unknown_claim_id_fails_pytest_and_build(tmp_path: Path) -> None:
    """A marker naming an id that no note states fails pytest and the build, naming both."""
    test = TEST.replace('claim("fx/doubling")', 'claim("fx/dubling")')
    config = fixture_project(tmp_path, test=test)
    proc = pytest_in(tmp_path)
    assert proc.returncode != 0
    assert "fx/dubling" in proc.stderr + proc.stdout and "test_fxmod.py" in proc.stderr + proc.stdout
    build = run_build(config, tmp_path / "site")
    assert build.returncode != 0 and "fx/dubling" in build.stderr


def test_duplicate_claim_id_fails(tmp_path: Path) -> None:
    """The same id stated twice fails pytest and the build, naming both places."""
    note = NOTE + '\n!!! claim "fx/doubling"\n    또 같은 id.\n'
    config = fixture_project(tmp_path, note=note)
    proc = pytest_in(tmp_path)
    assert proc.returncode != 0 and "duplicate claim id 'fx/doubling'" in proc.stdout + proc.stderr
    build = run_build(config, tmp_path / "site")
    assert build.returncode != 0
    assert re.search(r"index\.md:\d+: duplicate claim id 'fx/doubling' \(first stated at .*index\.md:12\)",
                     build.stderr), build.stderr


def test_claim_selection_runs_exactly_linked_tests(tmp_path: Path) -> None:
    """`--claim` and `--note` run only the tests linked to that claim or note."""
    other = 'def test_unlinked():\n    assert True\n'
    fixture_project(tmp_path, extra_tests={"fx/test_other.py": other})
    proc = pytest_in(tmp_path, "--claim", "fx/doubling", "-v")
    assert "test_double PASSED" in proc.stdout and "test_unlinked" not in proc.stdout
    assert "1 passed" in proc.stdout
    proc = pytest_in(tmp_path, "--note", "fx", "-v")
    assert "1 passed" in proc.stdout and "test_unlinked" not in proc.stdout
    proc = pytest_in(tmp_path, "--claim", "fx/nope")
    assert proc.returncode != 0 and "fx/nope" in proc.stderr


def test_corrupted_report_is_reported_not_used(tmp_path: Path) -> None:
    """A corrupted claims report fails the build with its path, rather than being trusted."""
    config = fixture_project(tmp_path)
    (tmp_path / "reports").mkdir()
    (tmp_path / "reports/claims.json").write_text("{not json", encoding="utf-8")
    build = run_build(config, tmp_path / "site")
    assert build.returncode != 0 and "corrupted claims report" in build.stderr


def test_static_scan_finds_markers(tmp_path: Path) -> None:
    """The AST scan sees function, class and module-level claim markers."""
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests/test_a.py").write_text(
        'import pytest\npytestmark = [pytest.mark.claim("n/a")]\n'
        'def test_one():\n    pass\n'
        '@pytest.mark.claim("n/b")\nclass TestX:\n    @pytest.mark.claim("n/c")\n'
        '    def test_two(self):\n        pass\n', encoding="utf-8")
    found = kb_claims.scan_tests(tmp_path / "tests", tmp_path)
    assert [r.nodeid for r in found["n/a"]] == [
        "tests/test_a.py::test_one", "tests/test_a.py::TestX::test_two"]
    assert [r.nodeid for r in found["n/c"]] == ["tests/test_a.py::TestX::test_two"]


def test_real_repository_claims_are_consistent() -> None:
    """The real notes and tests: every claim has a test, no unknown or duplicate id."""
    assert kb_claims.build_index(ROOT).problems() == []
