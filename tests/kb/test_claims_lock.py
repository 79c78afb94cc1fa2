"""The claims report under concurrency: two pytest runs finishing together lose nothing (issue #12)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.kb.conftest import ENV, ROOT

N_TESTS = 8
# Reading the report and writing it back are made slow (0.3 s apart) in the fixture, so
# that without a lock the two runs' read-merge-write overlap nearly every round.
CONFTEST = """
import time
import notes_code.kb.pytest_claims as plugin

pytest_plugins = ["notes_code.kb.pytest_claims"]
_load = plugin.load_report


def _slow_load(path):
    report = _load(path)
    time.sleep(0.3)
    return report


plugin.load_report = _slow_load
"""


def _project(tmp: Path) -> None:
    claims = "".join(f'!!! claim "fx/c{i}"\n    주장 {i}.\n\n' for i in range(2 * N_TESTS))
    (tmp / "docs" / "papers" / "fx").mkdir(parents=True)
    (tmp / "docs" / "papers" / "fx" / "index.md").write_text(f"# Fx\n\n{claims}", encoding="utf-8")
    (tmp / "tests").mkdir()
    (tmp / "tests" / "conftest.py").write_text(CONFTEST)
    for side, offset in (("a", 0), ("b", N_TESTS)):
        body = "import pytest\n\n" + "".join(
            f'\n@pytest.mark.claim("fx/c{offset + i}")\ndef test_{side}{i}():\n    pass\n'
            for i in range(N_TESTS))
        (tmp / "tests" / f"test_{side}.py").write_text(body)
    (tmp / "pytest.ini").write_text("[pytest]\ntestpaths = tests\n")


@pytest.mark.slow
def test_two_runs_finishing_together_keep_every_result(tmp_path: Path) -> None:
    """Three rounds of two concurrent pytest runs: the report always holds all 16 results."""
    _project(tmp_path)
    report = tmp_path / "reports" / "claims.json"
    env = {**ENV, "PYTHONPATH": str(ROOT), "PYTHONDONTWRITEBYTECODE": "1"}
    for round_ in range(3):
        report.unlink(missing_ok=True)
        procs = [subprocess.Popen([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                                   f"tests/test_{side}.py"], cwd=tmp_path, env=env,
                                  stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
                 for side in "ab"]
        outs = [p.communicate(timeout=300)[0] for p in procs]
        assert all(p.returncode == 0 for p in procs), outs
        tests = json.loads(report.read_text(encoding="utf-8"))["tests"]
        assert len(tests) == 2 * N_TESTS, f"round {round_}: kept {sorted(tests)}"
    assert not [p for p in report.parent.iterdir() if p.suffix == ".tmp"]
