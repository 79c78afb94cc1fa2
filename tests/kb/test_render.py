"""notes_code.kb.render: claim boxes with their anchor on the title and the last run."""

from __future__ import annotations

from pathlib import Path

from notes_code.kb import claims as kb_claims
from notes_code.kb import render

REPORT = {"tests": {
    "tests/n/test_a.py::test_p[1]": {"outcome": "passed", "duration": 0.25, "commit": "aaa1111",
                                     "time": "2026-12-01T10:00:00+0000"},
    "tests/n/test_a.py::test_p[2]": {"outcome": "passed", "duration": 0.5, "commit": "bbb2222",
                                     "time": "2026-12-01T11:30:00+0000"},
    "tests/n/test_a.py::test_q": {"outcome": "failed", "duration": 1.0, "commit": "<c>",
                                  "time": "2026-12-01T09:00:00+0000"},
}}


def test_last_run_sums_parametrized_cases() -> None:
    """A parametrized test shows its total duration, its number of cases, the latest time and commit."""
    out = render.last_run(REPORT, "tests/n/test_a.py::test_p")
    assert "0.75 s (2개 경우)" in out and "2026-12-01 11:30" in out and "bbb2222" in out
    assert "aaa1111" not in out


def test_last_run_escapes_and_handles_missing() -> None:
    """Report values are escaped; a test the report lacks shows nothing."""
    assert "&lt;c&gt;" in render.last_run(REPORT, "tests/n/test_a.py::test_q")
    assert render.last_run(REPORT, "tests/n/test_a.py::test_missing") == ""
    assert render.last_run({}, "x") == ""


def test_claim_anchor_is_on_the_title() -> None:
    """The claim's anchor is in the admonition title (so links land on the statement)."""
    claim = kb_claims.Claim("n/c", Path("docs/papers/n/index.md"), 3)
    ref = kb_claims.TestRef("n/c", "tests/n/test_a.py::test_p", Path("x"), 1, "test_p")
    index = kb_claims.ClaimIndex(claims={"n/c": claim}, tests={"n/c": [ref]})
    md = '!!! claim "n/c"\n    The statement.\n'
    out = render.render_claims(md, "papers/n/index.md", index, REPORT)
    title = out.splitlines()[0]
    assert "id='claim-n-c'" in title
    assert 'id="claim-n-c-tests"' in out and "마지막 실행" in out
