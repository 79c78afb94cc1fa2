"""Claims whose tests have not run read "미실행" (not run), never "0/N 통과" (issue #12)."""

from __future__ import annotations

import json
from pathlib import Path

from notes_code.kb import claims as kb_claims
from notes_code.kb import home, render
from tests.kb.test_lint import TEST, make_project


def test_tally_counts_not_run_apart() -> None:
    """Not-run tests are neither passes nor failures."""
    assert render.tally(["not-run", "not-run"]) == "미실행"
    assert render.tally(["passed", "failed", "not-run"]) == "1/2 통과 · 1 미실행"
    assert render.tally(["passed", "passed"]) == "2/2 통과"


def _report(root: Path, outcome: str) -> None:
    index = kb_claims.build_index(root)
    tests = {ref.nodeid: {"claims": [cid], "outcome": outcome}
             for cid, refs in index.tests.items() for ref in refs}
    (root / "reports").mkdir(exist_ok=True)
    (root / kb_claims.REPORT_PATH).write_text(json.dumps({"tests": tests}), encoding="utf-8")


def test_home_card_says_not_run_until_the_tests_ran(tmp_path: Path) -> None:
    """A card whose claims have no recorded run says 미실행; after a run it counts passes."""
    root = make_project(tmp_path / "p")
    assert (root / TEST).is_file()
    cards = home.paper_cards(root)
    assert "미실행" in cards and "0/" not in cards
    _report(root, "passed")
    cards = home.paper_cards(root)
    assert "미실행" not in cards and "통과" in cards


def test_claim_box_says_not_run(tmp_path: Path) -> None:
    """A claim box with no recorded run is labelled 미실행 and its test list says so."""
    root = make_project(tmp_path / "p")
    index = kb_claims.build_index(root)
    cid = next(iter(index.claims))
    note = index.claims[cid]
    text = Path(root / "docs" / "papers" / cid.split("/")[0] / "index.md").read_text(encoding="utf-8")
    out = render.render_claims(text, f"papers/{note.note}/index.md", index, {"tests": {}})
    assert "claim-status--not-run'>미실행<" in out and "(미실행)" in out and "0/1 통과" not in out
