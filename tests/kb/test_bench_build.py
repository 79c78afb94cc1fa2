"""The build benchmark's own logic (benchmarks/bench_build.py), issue #12.

The timings themselves are not tested (the machine is shared; the benchmark prints ratios).
Tested: the 20-note fixture is a valid knowledge base (every claim id unique, every claim
with a test), and the served-search-index check finds a missing or doubled entry.
"""

from __future__ import annotations

import functools
import http.server
import json
import sys
import threading
from pathlib import Path

import pytest

from notes_code.kb import claims as kb_claims

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "benchmarks"))
import bench_build  # noqa: E402


def test_fixture_kb_has_unique_claims_with_tests(tmp_path: Path) -> None:
    """Issue #12 (scaling benchmark): 20 notes, copies of the real two, ids renamed, index consistent."""
    project = bench_build.copy_project(tmp_path / "kb")
    made = bench_build.grow(project, 20)
    assert len(made) == 18
    index = kb_claims.build_index(project)
    assert index.problems() == []
    real = kb_claims.build_index(ROOT)
    assert len(index.claims) == 10 * len(real.claims)
    notes = {cid.split("/")[0] for cid in index.claims}
    assert len(notes) == 20


@pytest.fixture
def served(tmp_path: Path):
    """Serve ``tmp_path`` over HTTP; yields ``(folder, base URL)``."""
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(tmp_path))
    handler.log_message = lambda *a, **k: None  # type: ignore[attr-defined]
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield tmp_path, f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def _index(folder: Path, docs: list[dict]) -> None:
    (folder / "search_index.json").write_text(json.dumps({"config": {}, "docs": docs}), encoding="utf-8")


def test_search_check(served, monkeypatch: pytest.MonkeyPatch) -> None:
    """Issue #12: the check passes on a right index, fails on a doubled entry or a missing sentence."""
    folder, base = served
    added = "\n\n벤치마크 문장 0 11.\n\n\n벤치마크 문장 1 22.\n"
    monkeypatch.setattr(bench_build.time, "sleep", lambda s: None)
    good = [{"location": "concepts/bptt.html", "text": "a 벤치마크 문장 0 11. 벤치마크 문장 1 22."},
            {"location": "index.html", "text": "home"}]
    _index(folder, good)
    assert bench_build.check_search(f"{base}/search_index.json", added) == "ok"
    _index(folder, good + [good[0]])
    monkeypatch.setattr(bench_build.time, "perf_counter", iter(range(0, 10**6, 100)).__next__)
    assert bench_build.check_search(f"{base}/search_index.json", added).startswith("FAILED")
    _index(folder, [{"location": "concepts/bptt.html", "text": "벤치마크 문장 0 11."}])
    monkeypatch.setattr(bench_build.time, "perf_counter", iter(range(0, 10**6, 100)).__next__)
    out = bench_build.check_search(f"{base}/search_index.json", added)
    assert out.startswith("FAILED") and "[1, 0]" in out
