"""Fixtures for the knowledge-base tests: the built site, a local server, fixture sites, Chromium."""

from __future__ import annotations

import functools
import http.server
import os
import shutil
import subprocess
import sys
import threading
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
MKDOCS = [sys.executable, "-m", "mkdocs"]
ENV = {**os.environ, "NO_MKDOCS_2_WARNING": "1", "DISABLE_MKDOCS_2_WARNING": "true"}
CHROMIUM = "/usr/bin/chromium"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]
DESKTOP = {"width": 1280, "height": 900}


def run_build(config: Path, site_dir: Path, strict: bool = True) -> subprocess.CompletedProcess:
    """``mkdocs build`` of ``config`` into ``site_dir``; returns the finished process."""
    cmd = [*MKDOCS, "build", "-f", str(config), "-d", str(site_dir)]
    if strict:
        cmd.append("--strict")
    return subprocess.run(cmd, cwd=config.parent, capture_output=True, text=True, env=ENV,
                          timeout=600)


@pytest.fixture(scope="session")
def site_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The built site: ``site/`` when `make build` made it, else a fresh build."""
    built = ROOT / "site"
    if os.environ.get("NOTES_REBUILD") != "1" and (built / "index.html").exists():
        return built
    out = tmp_path_factory.mktemp("site")
    proc = run_build(ROOT / "mkdocs.yml", out)
    assert proc.returncode == 0, proc.stderr[-4000:]
    return out


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args: object) -> None:  # keep pytest output clean
        pass


@pytest.fixture(scope="session")
def server(site_dir: Path):
    """Serve the built site on 127.0.0.1 (a free port); yields the base URL."""
    handler = functools.partial(_QuietHandler, directory=str(site_dir))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()


@pytest.fixture(scope="module")
def chromium():
    """Debian's Chromium through Playwright, one per test module (a Playwright ``Browser``).

    Each context it opens has its own profile in memory, so no state is shared between
    contexts and nothing is left on disk.
    """
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: apt-get install -y chromium fonts-noto-cjk")
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=FLAGS, headless=True)
        yield browser
        browser.close()


@pytest.fixture(scope="module")
def browser(chromium):
    """One desktop-sized (1280 x 900) browser context for a test module's pages."""
    ctx = chromium.new_context(viewport=DESKTOP)
    yield ctx
    ctx.close()


def make_fixture_site(tmp: Path, pages: dict[str, str], tests: dict[str, str] | None = None,
                      references: str | None = None) -> Path:
    """A tiny project using this repository's hooks and generator; returns its mkdocs.yml.

    The fixture copies the real ``mkdocs.yml`` (same plugins, hooks, validation),
    the KaTeX assets and ``references.yaml``, but has its own pages and tests.
    """
    (tmp / "docs").mkdir(parents=True)
    shutil.copytree(ROOT / "docs" / "assets", tmp / "docs" / "assets")
    for name, text in pages.items():
        path = tmp / "docs" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    (tmp / "docs" / "concepts").mkdir(exist_ok=True)
    if not any(p.startswith("concepts/") for p in pages):
        (tmp / "docs" / "concepts" / "c.md").write_text("# C\n", encoding="utf-8")
    (tmp / "tests").mkdir()
    for name, text in (tests or {}).items():
        path = tmp / "tests" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    (tmp / "references.yaml").write_text(
        references if references is not None
        else (ROOT / "references.yaml").read_text(encoding="utf-8"), encoding="utf-8")
    (tmp / "scripts").mkdir()
    shutil.copy(ROOT / "scripts" / "gen_pages.py", tmp / "scripts" / "gen_pages.py")
    config = (ROOT / "mkdocs.yml").read_text(encoding="utf-8")
    config = config.replace("notes_code/kb/hooks.py", str(ROOT / "notes_code" / "kb" / "hooks.py"))
    # the fixture has no notes_code/ of its own (it must import this repository's), so it
    # cannot watch one
    config = config.replace("  - notes_code\n", "", 1)
    (tmp / "mkdocs.yml").write_text(config, encoding="utf-8")
    return tmp / "mkdocs.yml"
