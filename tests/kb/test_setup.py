"""The README's two commands set up what they need (issue #12): the venv, and for the browser
tests Debian's chromium and fonts-noto-cjk, through one Makefile step that CI shares."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

from tests.kb.conftest import ROOT


def _make(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(["make", "-s", "--no-print-directory", *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=120)


def test_browser_deps_names_the_command_when_it_cannot_install() -> None:
    """Not root and no usable sudo: one line naming the apt-get command, non-zero exit."""
    proc = _make("browser-deps", "CHROMIUM=/nonexistent/chromium", "USER_ID=1000",
                 "SUDO=/nonexistent/sudo")
    assert proc.returncode != 0
    ours = [line for line in proc.stderr.splitlines() if not re.match(r"make(\[\d+\])?: \*\*\*", line)]
    assert len(ours) == 1, proc.stderr
    assert "sudo apt-get install -y chromium" in ours[0]


def test_browser_deps_is_quiet_when_everything_is_there(tmp_path: Path) -> None:
    """With the browser present (and the font, on this machine) the step does nothing."""
    fake = tmp_path / "chromium"
    fake.write_text("#!/bin/sh\n")
    fake.chmod(0o755)
    fonts = subprocess.run(["fc-list"], capture_output=True, text=True).stdout
    proc = _make("browser-deps", f"CHROMIUM={fake}", "USER_ID=1000", "SUDO=/nonexistent/sudo")
    if "Noto Sans CJK" in fonts:
        assert proc.returncode == 0 and proc.stdout == "" and proc.stderr == ""
    else:
        assert "fonts-noto-cjk" in proc.stderr and "chromium" not in proc.stderr.split("need:")[1]


def test_make_test_and_ci_share_the_setup_step() -> None:
    """`make test` runs the venv and browser set-up first and builds with every block executed;
    `.ci/run` calls the same `make browser-deps` instead of its own apt-get."""
    dry = _make("-n", "test", "STAMP=Makefile").stdout  # the venv step is already up to date
    assert "apt-get" in dry and "NOTES_EXEC_CACHE=refresh" in dry
    assert dry.index("fonts-noto-cjk") < dry.index("pytest")
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert "make browser-deps" in ci and "apt-get" not in ci.replace("apt-get`", "")


def test_make_serve_uses_the_cache_and_the_dirty_reload() -> None:
    """`make serve` reuses cached blocks and re-renders only what a save changes;
    `make build CACHE=off` runs every block without the cache."""
    serve = _make("-n", "serve", "STAMP=Makefile").stdout
    assert "mkdocs serve --strict --dirty" in serve and "NOTES_EXEC_CACHE=on" in serve
    assert "NOTES_EXEC_CACHE=off" in _make("-n", "build", "STAMP=Makefile", "CACHE=off").stdout
