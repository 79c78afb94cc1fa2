"""Tests of notes_code.pascanu2013.table1_runs: recording Table 1 runs (resumable, atomic, validated)."""

from __future__ import annotations

import dataclasses
import json
import os

import numpy as np
import pytest

from notes_code.common.chorales import Chorale, ChoraleSet
from notes_code.common.results import ResultsError
from notes_code.common.runguard import LockedError, UsageError, results_lock
from notes_code.pascanu2013 import table1_runs as tr
from notes_code.pascanu2013.polyphonic import PolyConfig
from notes_code.pascanu2013.table1 import NLLCriterion, Table1Grid

CRIT = NLLCriterion("pascanu2013/x", "lower-nll", "s", "n", "MSGD+C", "MSGD", ("train", "test"))
GRID = Table1Grid("tiny", "d", PolyConfig(n_hidden=4, epochs=2, batch_size=2, dtype="float64"),
                  seeds=(0, 1), criteria=(CRIT,))


def _data(seed: int = 0) -> ChoraleSet:
    """Synthetic chorales (no music21): BWV 10-14 cover every fold."""
    rng = np.random.default_rng(seed)
    cs = [Chorale(f"bwv{n}.{k}", n, (rng.random((6 + k, 88)) < 0.08).astype(np.uint8))
          for n in (10, 11, 12, 13, 14) for k in (1, 2)]
    return ChoraleSet(cs, {"riemenschneider001.rntxt": "roman-numeral analysis (.rntxt), not a score"})


class _Crash(RuntimeError):
    """Stands in for a killed process."""


def _quiet(_: str) -> None:
    pass


def test_records_every_run_with_provenance_and_data_hash(tmp_path) -> None:
    """Every (seed, method) run is recorded with train/valid/test NLL and its history; the file carries
    the grid hash, the data's hash and counts, and per-session provenance; it validates on reading."""
    out = tmp_path / "tiny.json"
    data = _data()
    res = tr.run_grid(GRID, data=data, out=out, log=_quiet)
    disk = tr.load_results(out)
    assert disk == json.loads(json.dumps(res))
    assert disk["config_hash"] == GRID.config_hash() and disk["data"]["data_hash"] == data.data_hash()
    assert disk["data"]["used_per_fold"] == {"train": 6, "valid": 2, "test": 2}
    assert set(disk["cells"]) == {c.key() for c in GRID.cells()}
    cell = next(iter(disk["cells"].values()))
    assert set(cell["nll"]) == {"train", "valid", "test"} and len(cell["history"]) == 2
    prov = disk["provenance"]
    assert prov["sessions"][0]["runs_trained"] == 6 and prov["torch"] and "git_commit" in prov


def test_interrupted_grid_resumes_from_recorded_runs(tmp_path, monkeypatch) -> None:
    """A crash after the second run leaves a valid file with two runs; the next call trains only the
    four missing ones, and a third call trains nothing."""
    out = tmp_path / "tiny.json"
    real, calls, crashed = tr.run, [], []

    def flaky(config, folds):
        calls.append(config.key())
        if len(calls) == 3 and not crashed:
            crashed.append(True)
            raise _Crash
        return real(config, folds)

    monkeypatch.setattr(tr, "run", flaky)
    with pytest.raises(_Crash):
        tr.run_grid(GRID, data=_data(), out=out, log=_quiet)
    assert len(tr.load_results(out)["cells"]) == 2
    calls.clear()
    tr.run_grid(GRID, data=_data(), out=out, log=_quiet)
    assert len(calls) == 4 and len(tr.load_results(out)["cells"]) == 6
    calls.clear()
    tr.run_grid(GRID, data=_data(), out=out, log=_quiet)
    assert calls == []


def test_corrupted_foreign_or_other_data_file_is_refused_and_kept(tmp_path) -> None:
    """Bad input: a corrupted file, one recorded under another definition, or on other data raises
    ResultsError and is not changed; `force` replaces it."""
    out = tmp_path / "tiny.json"
    out.write_text("{not json")
    with pytest.raises(ResultsError, match="corrupted"):
        tr.run_grid(GRID, data=_data(), out=out, log=_quiet)
    assert out.read_text() == "{not json"
    tr.run_grid(GRID, data=_data(), out=out, force=True, log=_quiet)
    before = out.read_text()
    other = dataclasses.replace(GRID, description="another")
    with pytest.raises(ResultsError, match="another definition"):
        tr.run_grid(other, data=_data(), out=out, log=_quiet)
    with pytest.raises(ResultsError, match="other data"):
        tr.run_grid(GRID, data=_data(seed=1), out=out, log=_quiet)
    assert out.read_text() == before
    bad = json.loads(before)
    key = next(iter(bad["cells"]))
    bad["cells"][key]["config"]["lr"] = 99.0  # the record no longer matches its key
    out.write_text(json.dumps(bad))
    with pytest.raises(ResultsError, match="does not match"):
        tr.load_results(out)


def test_claim_report_without_a_file(tmp_path) -> None:
    """The notes say plainly when nothing has been recorded yet."""
    assert "기록 없음" in tr.claim_report(GRID, "pascanu2013/x", tmp_path / "missing.json")


@pytest.mark.parametrize(("kw", "message"), [({"workers": 0}, "workers must be at least 1"),
                                             ({"threads": 0}, "threads must be at least 1")])
def test_bad_arguments_stop_before_anything_runs(tmp_path, kw, message) -> None:
    """Table 1 runner (§4.2): workers or threads below 1, or `out` a directory, stop the run with a
    usage error before any data is read or any file written."""
    out = tmp_path / "t.json"
    with pytest.raises(UsageError, match=message):
        tr.run_grid(GRID, data=_data(), out=out, log=_quiet, **kw)
    with pytest.raises(UsageError, match="is a directory"):
        tr.run_grid(GRID, data=_data(), out=tmp_path, log=_quiet)
    assert list(tmp_path.iterdir()) == []


def test_second_runner_is_locked_out(tmp_path) -> None:
    """Table 1 runner: while one runner holds the results file's lock, a second one on the same
    file stops with a message naming the holder, and the file is not touched."""
    out = tmp_path / "t.json"
    with results_lock(out):
        with pytest.raises(LockedError, match=f"pid {os.getpid()}"):
            tr.run_grid(GRID, data=_data(), out=out, log=_quiet)
    assert not out.exists()
    tr.run_grid(GRID, data=_data(), out=out, log=_quiet)  # released: the next run proceeds
    assert len(json.loads(out.read_text())["cells"]) == len(GRID.cells())
