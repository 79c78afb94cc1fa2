"""Tests of the LSTM-vs-RNN comparison runner (recording, loading, summarising)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from notes_code.hochreiter1997.compare import CompareConfig, load, run_comparison, summary_rows
from notes_code.pascanu2013.experiments import ResultsError


def test_comparison_records_runs_with_provenance(tmp_path: Path) -> None:
    """A tiny comparison writes every run, the config hash and the provenance, atomically."""
    cfg = CompareConfig(lengths=(10,), seeds=(0, 1), updates=20, eval_every=10, eval_size=60)
    path = tmp_path / "compare.json"
    data = run_comparison(cfg, path)
    assert load(path) == data
    assert len(data["runs"]) == 4  # 2 forms x 2 seeds
    assert data["config_hash"] == cfg.config_hash()
    assert data["provenance"]["torch"] and data["provenance"]["wall_time_s"] >= 0
    assert not list(tmp_path.glob("*.tmp"))


def test_summary_pools_lstm_and_rnn_rows() -> None:
    """Rows count successes per model and length, the RNN side from the CI grid's cells."""
    lstm = {"config": {"lengths": [20]}, "runs": [
        {"length": 20, "forget_gate": False, "success": True, "updates": 900},
        {"length": 20, "forget_gate": False, "success": False, "updates": 5000},
        {"length": 20, "forget_gate": True, "success": True, "updates": 1200}]}
    rnn = {"cells": {str(i): {"length": 20, "method": m, "init": "basic_tanh",
                              "outcome": o, "updates": u}
                     for i, (m, o, u) in enumerate([("MSGD", "fail", 5000), ("MSGD-C", "success", 700),
                                                    ("MSGD-CR", "success", 800)])}}
    rows = {r["model"]: r for r in summary_rows(lstm, rnn)}
    assert rows["LSTM 1997"]["success"] == 1 and rows["LSTM 1997"]["runs"] == 2
    assert rows["LSTM 1997"]["median_updates"] == 900
    assert rows["RNN MSGD (tanh inits)"]["success"] == 0
    assert rows["RNN MSGD-C (tanh inits)"]["median_updates"] == 700


def test_corrupted_comparison_file_is_refused(tmp_path: Path) -> None:
    """A corrupted or foreign results file raises an error naming it (never silently used)."""
    bad = tmp_path / "compare.json"
    bad.write_text("{oops", encoding="utf-8")
    with pytest.raises(ResultsError, match="compare.json"):
        load(bad)
    bad.write_text(json.dumps({"runs": "no"}), encoding="utf-8")
    with pytest.raises(ResultsError, match="not an LSTM comparison"):
        load(bad)


@pytest.mark.claim("hochreiter1997/matched-budget-temporal-order", modules=["hochreiter1997.compare"])
def test_recorded_comparison_lstm_vs_rnn() -> None:
    """Recorded matched-budget comparison (CI tier settings, temporal order): the 1997 LSTM solves
    every run at lengths 20 and 30, where plain RNN MSGD solves none at length 30; the forget-gate
    LSTM with forget bias 0 solves length 20 but none at length 30 within the budget."""
    from notes_code.pascanu2013.experiments import default_path, load_results

    lstm = load()
    assert lstm["config_hash"] == CompareConfig().config_hash()
    assert lstm["provenance"]["git_dirty"] is False
    rows = {(r["model"], r["length"]): r for r in summary_rows(lstm, load_results(default_path("ci")))}
    for length in (20, 30):
        assert rows[("LSTM 1997", length)]["success"] == rows[("LSTM 1997", length)]["runs"] == 5
    assert rows[("RNN MSGD (tanh inits)", 30)]["success"] == 0
    assert rows[("LSTM + forget gate", 20)]["success"] == 5
    assert rows[("LSTM + forget gate", 30)]["success"] == 0
