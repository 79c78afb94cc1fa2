"""pytest plugin: the ``claim`` marker, claim selection, and the claims report.

* registers ``@pytest.mark.claim("<note>/<id>", ...)``;
* ``--claim ID`` runs only the tests that declare ``ID``; ``--note NOTE`` runs only
  the tests that declare a claim of that note;
* a marker with an id that no note states fails the session at collection, naming
  the test and the id;
* after the run, writes ``reports/claims.json`` (atomically), merging with earlier
  runs so that running one claim does not forget the others: per test node id,
  its claims, outcome, duration, commit and time. An expected failure
  (``@pytest.mark.xfail(strict=True)``: a pre-registered criterion that the recorded
  data do not meet) is recorded as ``xfailed``. The read-merge-write holds a
  file lock (``claims.json.lock``, :mod:`filelock`), so two pytest runs finishing
  together both keep their results.

Loaded from ``tests/conftest.py`` with ``pytest_plugins``.
"""

from __future__ import annotations

import json
import os
import subprocess
import tempfile
import time
from pathlib import Path

import pytest
from filelock import FileLock, Timeout

from notes_code.kb.claims import REPORT_PATH, ClaimError, load_report, module_problems, scan_notes

_STATE_KEY = pytest.StashKey[dict]()


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("claims", "claims linked to notes")
    group.addoption("--claim", action="append", default=[], metavar="ID",
                    help="run only the tests that check this claim (repeatable)")
    group.addoption("--note", action="append", default=[], metavar="NOTE",
                    help="run only the tests linked from this note's claims (repeatable)")
    group.addoption("--claims-report", default=None, metavar="PATH",
                    help=f"where to write the claims report (default: <rootdir>/{REPORT_PATH})")
    group.addoption("--no-claims-report", action="store_true",
                    help="do not write the claims report")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "claim(*ids, modules=[...]): this test checks the named claims of a note "
        "(e.g. 'pascanu2013/x') and the code of the named modules (e.g. 'pascanu2013.clipping')"
    )
    config.stash[_STATE_KEY] = {"results": {}, "claims_of": {}}


def _declared_ids(config: pytest.Config) -> set[str]:
    claims, errors = scan_notes(Path(config.rootpath) / "docs")
    if errors:
        raise pytest.UsageError("claims in notes are invalid:\n  " + "\n  ".join(errors))
    return set(claims)


def _item_claims(item: pytest.Item) -> list[str]:
    ids: list[str] = []
    for mark in item.iter_markers("claim"):
        ids += [a for a in mark.args if isinstance(a, str)]
    return list(dict.fromkeys(ids))


def pytest_collection_modifyitems(session: pytest.Session, config: pytest.Config,
                                  items: list[pytest.Item]) -> None:
    declared = _declared_ids(config)
    unknown = []
    state = config.stash[_STATE_KEY]
    for item in items:
        ids = _item_claims(item)
        state["claims_of"][item.nodeid] = ids
        for cid in ids:
            if cid not in declared:
                path, line, _ = item.location
                unknown.append(f"{path}:{(line or 0) + 1}: {item.nodeid} is marked with "
                               f"unknown claim id '{cid}' (no note states it)")
        unknown += _module_problems(item, Path(config.rootpath))
    if unknown:
        raise pytest.UsageError("unknown claim ids:\n  " + "\n  ".join(unknown))

    wanted = set(config.getoption("claim"))
    notes = set(config.getoption("note"))
    if not wanted and not notes:
        return
    for cid in wanted:
        if cid not in declared:
            raise pytest.UsageError(f"--claim {cid}: no note states this claim")
    keep, drop = [], []
    for item in items:
        ids = state["claims_of"][item.nodeid]
        hit = any(c in wanted or c.split("/", 1)[0] in notes for c in ids)
        (keep if hit else drop).append(item)
    if not keep:
        raise pytest.UsageError(f"no test is linked to claims {sorted(wanted)} / notes {sorted(notes)}")
    config.hook.pytest_deselected(items=drop)
    items[:] = keep


def _module_problems(item: pytest.Item, root: Path) -> list[str]:
    """Errors for ``modules=`` of the item's claim markers that name no module of ``notes_code``."""
    path, line, _ = item.location
    out: list[str] = []
    for mark in item.iter_markers("claim"):
        modules = mark.kwargs.get("modules", [])
        if isinstance(modules, str) or not all(isinstance(m, str) for m in modules):
            out.append(f"{path}:{(line or 0) + 1}: {item.nodeid}: modules= must be a list of module names")
            continue
        out += module_problems(list(modules), root, f"{path}:{(line or 0) + 1}: {item.nodeid}")
    return out


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    config = _CONFIG.get("config")
    if config is None:
        return
    state = config.stash[_STATE_KEY]
    ids = state["claims_of"].get(report.nodeid)
    if not ids:
        return
    entry = state["results"].setdefault(report.nodeid, {"outcome": "passed", "duration": 0.0})
    entry["duration"] += report.duration
    if report.failed:
        entry["outcome"] = "failed"
    elif report.skipped and hasattr(report, "wasxfail") and entry["outcome"] != "failed":
        entry["outcome"] = "xfailed"  # a registered criterion the recorded data do not meet
    elif report.skipped and report.when in ("setup", "call") and entry["outcome"] != "failed":
        entry["outcome"] = "skipped"


_CONFIG: dict[str, pytest.Config] = {}


@pytest.hookimpl(tryfirst=True)
def pytest_sessionstart(session: pytest.Session) -> None:
    _CONFIG["config"] = session.config


def _commit(root: Path) -> str | None:
    try:
        out = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=root,
                             capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return out.stdout.strip() or None if out.returncode == 0 else None


def write_atomic(path: Path, data: dict) -> None:
    """Write JSON to ``path`` through a temporary file and ``os.replace``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(data, f, ensure_ascii=False, indent=1, sort_keys=True)
            f.write("\n")
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    config = session.config
    _CONFIG.pop("config", None)
    if config.getoption("no_claims_report") or hasattr(config, "workerinput"):
        return  # xdist workers report to the controller, which writes the file
    state = config.stash[_STATE_KEY]
    if not state["results"]:
        return
    root = Path(config.rootpath)
    path = Path(config.getoption("claims_report") or root / REPORT_PATH)
    path.parent.mkdir(parents=True, exist_ok=True)
    commit = _commit(root)
    try:
        with FileLock(str(path) + ".lock", timeout=LOCK_TIMEOUT_S):
            _merge(config, path, state, commit)
    except Timeout:
        tr = config.pluginmanager.get_plugin("terminalreporter")
        if tr is not None:
            tr.write_line(f"claims: {path}.lock is held by another run for over {LOCK_TIMEOUT_S} s; "
                          "the claims report was not updated", red=True)


LOCK_TIMEOUT_S = 120


def _merge(config: pytest.Config, path: Path, state: dict, commit: str | None) -> None:
    """Merge this run's results into the report at ``path`` (the caller holds the lock)."""
    try:
        report = load_report(path)
    except ClaimError as exc:
        # Never merge into a corrupted report: say so, and start a fresh one.
        tr = config.pluginmanager.get_plugin("terminalreporter")
        if tr is not None:
            tr.write_line(f"claims: {exc}; writing a fresh report", red=True)
        report = {"tests": {}}
    now = time.strftime("%Y-%m-%dT%H:%M:%S%z")
    for nodeid, res in state["results"].items():
        report["tests"][nodeid] = {
            "claims": state["claims_of"].get(nodeid, []),
            "outcome": res["outcome"],
            "duration": round(res["duration"], 4),
            "commit": commit,
            "time": now,
        }
    report["updated"] = now
    report["commit"] = commit
    write_atomic(path, report)
