"""pytest plugin loaded only by mutmut runs: which tests fail on which mutant.

mutmut (3.8) records one exit code per mutant. To say how many mutants the tests of
*one claim* kill, we also need the ids of the tests that failed. mutmut forks a
worker per mutant and sets ``MUTANT_UNDER_TEST``; this plugin (enabled through
``[tool.mutmut] pytest_add_cli_args``, together with ``--maxfail=0`` so that every
covering test runs) writes ``.mutation-failures/<mutant>.json`` under the working
directory (``mutants/``) at the end of the session: the mutant, the failed test ids
and the test ids that ran. Runs without a real mutant (stats, clean and forced-fail
runs) write nothing.
"""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path

import pytest

FAILURES_DIR = ".mutation-failures"


def _fork_safe_tqdm() -> None:
    """Keep mutmut's forked workers from inheriting tqdm's write lock in a held state.

    mutmut forks one worker per mutant from a process that has already run tests showing tqdm
    bars. tqdm's lock is a thread lock (which the parent's monitor thread takes every few seconds)
    plus a multiprocessing lock shared by every worker; a worker forked while either is held, or
    after a worker was killed holding the shared one, waits on it forever (seen: `common.train`'s
    `run` mutants idle in `TqdmDefaultWriteLock.acquire` until mutmut's timeout). So: no monitor
    thread, and a fresh lock of its own in every child.
    """
    try:
        from tqdm import tqdm
    except ImportError:  # pragma: no cover - tqdm is a dependency of notes_code
        return
    tqdm.monitor_interval = 0
    os.register_at_fork(after_in_child=lambda: tqdm.set_lock(threading.RLock()))


_fork_safe_tqdm()

_NOT_MUTANTS = {"", "stats", "fail", "mutant_generation", "list_all_tests"}
_STATE: dict[str, dict[str, str]] = {"outcome": {}}


def _mutant() -> str | None:
    name = os.environ.get("MUTANT_UNDER_TEST", "")
    return None if name in _NOT_MUTANTS else name


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if _mutant() is None:
        return
    outcome = _STATE["outcome"]
    if report.failed:
        outcome[report.nodeid] = "failed"
    else:
        outcome.setdefault(report.nodeid, "passed")


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    name = _mutant()
    if name is None:
        return
    outcome = _STATE["outcome"]
    out = Path.cwd() / FAILURES_DIR
    out.mkdir(exist_ok=True)
    data = {"mutant": name, "exit": int(exitstatus),
            "failed": sorted(k for k, v in outcome.items() if v == "failed"),
            "ran": sorted(outcome)}
    tmp = out / f".{name}.{os.getpid()}.tmp"
    tmp.write_text(json.dumps(data), encoding="utf-8")
    os.replace(tmp, out / f"{name}.json")
