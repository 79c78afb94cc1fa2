"""Tests for notes_code.common.results: the store's provenance, atomic writes and validation."""

from __future__ import annotations

import json

import pytest

from notes_code import experiments as cli
from notes_code.common import results
from notes_code.common.results import OUTCOMES, ResultsError, cell_record
from notes_code.common.runner import GRIDS
from notes_code.common.train import TrainConfig
from tests.common.tiny_grid import TINY, counting, run_tiny


def test_provenance_fields(tmp_path) -> None:
    """Results file: provenance (git commit, device, torch version, wall time, sessions) and, per
    cell, updates, outcome and final error."""
    data = run_tiny(tmp_path)
    prov = data["provenance"]
    for key in ("git_commit", "git_dirty", "device", "torch", "python", "wall_time_s", "sessions"):
        assert key in prov
    assert prov["sessions"][0]["cells_trained"] == 8 and data["config_hash"] == TINY.config_hash()
    for key, cell in data["cells"].items():
        assert cell["outcome"] in results.OUTCOMES and isinstance(cell["updates"], int)
        assert TrainConfig(**cell["config"]).key() == key and "final_error" in cell


def test_atomic_write(tmp_path, monkeypatch) -> None:
    """Results file writes are atomic: an exception while writing leaves the old file intact and no
    temporary file behind."""
    path = tmp_path / "r.json"
    results.write_results(path, {"a": 1})
    before = path.read_bytes()

    def broken(obj, f, **kw):
        f.write('{"partial": ')
        raise OSError("disk full")

    monkeypatch.setattr(results.json, "dump", broken)
    with pytest.raises(OSError, match="disk full"):
        results.write_results(path, {"a": 2})
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["r.json"]


def test_corrupted_file_is_reported(tmp_path) -> None:
    """A corrupted results file is never used or overwritten silently: a clear error names the file;
    --force starts a new one. A file from another grid configuration also needs --force."""
    path = tmp_path / "tiny.json"
    path.write_text('{"schema": "pascanu2013-grid/1", "cells": {')
    with pytest.raises(ResultsError, match=str(path)):
        run_tiny(tmp_path)
    assert path.read_text().endswith("{")  # untouched
    run_tiny(tmp_path, force=True)
    data = json.loads(path.read_text())
    key = next(iter(data["cells"]))
    data["cells"][key]["config"]["seed"] = 99  # no longer matches its key
    path.write_text(json.dumps(data))
    with pytest.raises(ResultsError, match="does not match"):
        run_tiny(tmp_path)
    run_tiny(tmp_path, force=True)
    with pytest.raises(ResultsError, match="another configuration"):
        run_tiny(tmp_path, grid=TINY.with_budget(30))


@pytest.mark.parametrize("value", ["NaN", "Infinity", "-Infinity"])
def test_nonfinite_cell_is_a_corrupted_file(tmp_path, capsys, monkeypatch, value) -> None:
    """Results file: a recorded cell holding NaN or an infinity anywhere (here deep in its history) is
    reported as a corrupted file naming the file and the cell, before any training; the file is not
    changed."""
    monkeypatch.setitem(GRIDS, "tiny", TINY)
    run_tiny(tmp_path)
    path = tmp_path / "tiny.json"
    text = path.read_text()
    data = json.loads(text)
    key = sorted(data["cells"])[3]
    row = data["cells"][key]["history"][-1]
    field = next(k for k, v in row.items() if isinstance(v, float))
    marker = f'"{field}": {json.dumps(row[field])}'
    head, sep, tail = text.partition(f'"{key}": {{')
    assert sep and marker in tail
    path.write_text(head + sep + tail.replace(marker, f'"{field}": {value}', 1))
    before = path.read_bytes()
    train, calls = counting()
    with pytest.raises(ResultsError, match=rf"{path}.*cell {key} has a non-finite value: "
                                           rf"history\[\d+\]\.{field}"):
        run_tiny(tmp_path, train=train)
    assert calls == [] and path.read_bytes() == before
    assert cli.main(["run", "tiny", "--out", str(path), "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert "corrupted results file" in err and key in err and str(path) in err
    assert path.read_bytes() == before


def test_cell_record_of_an_lstm_run_has_no_spectral_radius() -> None:
    """An LSTM cell (the LSTM note's grids) is recorded like an RNN cell, but without
    rho(W_rec), which it does not have; every other field is finite JSON."""
    import dataclasses

    from notes_code.common.train import run

    cfg = dataclasses.replace(TINY.base, init="lstm", method="MSGD-C", min_length=10, max_length=10)
    cell = cell_record(run(cfg), {"git_commit": "t", "device": "cpu"})
    assert cell["init"] == "lstm" and cell["rho_final"] is None and cell["outcome"] in OUTCOMES
    json.dumps(cell, allow_nan=False)
