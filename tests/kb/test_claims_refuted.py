"""The `refuted` claim status: a pre-registered criterion that the recorded data do not meet.

A test marked `@pytest.mark.xfail(strict=True)` is recorded as `xfailed`; its claim shows
`refuted` ("기준 미충족"), not green; if the data later meet the criterion the strict xfail
fails the run, so someone must update the claim.
"""

from __future__ import annotations

from pathlib import Path

from notes_code.kb import claims as kb_claims
from notes_code.kb.render import STATUS_ICONS
from tests.kb.test_claims import fixture_project, pytest_in

XFAIL_TEST = '''import pytest
from fxmod import double


@pytest.mark.claim("fx/doubling")
@pytest.mark.xfail(strict=True, reason="criterion not met by the recorded data")
def test_double():
    """Claim fx/doubling."""
    assert double(21) == {expected}
'''


def _status(tmp: Path) -> tuple[str, str]:
    report = kb_claims.load_report(tmp / "reports/claims.json")
    index = kb_claims.build_index(tmp)
    outcome = report["tests"]["tests/fx/test_fxmod.py::test_double"]["outcome"]
    return outcome, kb_claims.claim_status("fx/doubling", index.tests["fx/doubling"], report)[0]


def test_unmet_criterion_is_refuted_and_passes_the_run(tmp_path: Path) -> None:
    """A strict xfail whose assertion fails: pytest exits 0, the report says xfailed, the claim
    status is refuted with its own label and icon."""
    fixture_project(tmp_path, test=XFAIL_TEST.format(expected=43))
    run = pytest_in(tmp_path, "tests/fx")
    assert run.returncode == 0, run.stdout + run.stderr
    assert _status(tmp_path) == ("xfailed", "refuted")
    assert kb_claims.STATUS_LABELS["refuted"] == "기준 미충족" and STATUS_ICONS["refuted"] == "≠"


def test_met_criterion_under_strict_xfail_fails_the_run(tmp_path: Path) -> None:
    """If the data come to meet the criterion, the strict xfail fails pytest and the claim is failed."""
    fixture_project(tmp_path, test=XFAIL_TEST.format(expected=42))
    run = pytest_in(tmp_path, "tests/fx")
    assert run.returncode == 1
    assert _status(tmp_path) == ("failed", "failed")


def test_refuted_ranks_between_failed_and_passed() -> None:
    """Status precedence: failed > refuted > passed (a passing retrain test does not hide it)."""
    refs = [kb_claims.TestRef("a/b", f"t.py::t{i}", Path("t.py"), i, f"t{i}") for i in range(3)]
    report = {"tests": {"t.py::t0": {"claims": ["a/b"], "outcome": "passed"},
                        "t.py::t1": {"claims": ["a/b"], "outcome": "xfailed"}}}
    assert kb_claims.claim_status("a/b", refs[:2], report)[0] == "refuted"
    report["tests"]["t.py::t2"] = {"claims": ["a/b"], "outcome": "failed"}
    assert kb_claims.claim_status("a/b", refs, report)[0] == "failed"
