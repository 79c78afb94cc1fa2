"""Tests of the LSTM-vs-RNN comparison runner (recording, loading, summarising)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from notes_code.common.results import ResultsError
from notes_code.hochreiter1997.compare import (
    CompareConfig,
    load,
    restate,
    run_comparison,
    summary_rows,
    verdict,
)


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


@pytest.mark.claim("hochreiter1997/matched-budget-temporal-order",
                   modules=["hochreiter1997.compare"])
def test_recorded_comparison_lstm_vs_rnn() -> None:
    """Recorded matched-budget comparison (CI tier settings, temporal order, Hochreiter &
    Schmidhuber 1997 §5 / Pascanu et al. §4.1): the registered criterion holds: at length 30 the
    1997 LSTM solves more runs than plain RNN MSGD (tanh inits), two-sided Fisher p < 0.05. The
    forget-gate LSTM (forget bias 0) solves length 20 but none at 30 within the budget."""
    from notes_code.common.results import load_results
    from notes_code.common.runner import default_path

    lstm = load()
    assert lstm["config_hash"] == CompareConfig().config_hash()
    assert lstm["provenance"]["git_dirty"] is False
    rnn = load_results(default_path("ci"))
    d = verdict(lstm, rnn)
    assert d.a_better and d.significant, d.text()
    rows = {(r["model"], r["length"]): r for r in summary_rows(lstm, rnn)}
    assert rows[("LSTM + forget gate", 20)]["success"] == 5
    assert rows[("LSTM + forget gate", 30)]["success"] == 0


@pytest.mark.slow
@pytest.mark.claim("hochreiter1997/matched-budget-temporal-order",
                   modules=["hochreiter1997.compare", "hochreiter1997.lstm"])
def test_retrained_lstm_beats_plain_msgd() -> None:
    """Retrained from code at a small tier (temporal order, length 20, CI-tier settings, at most
    1,000 updates, one thread): the 1997 LSTM solves more of its 2 runs than plain RNN MSGD solves
    of its 4 (basic and smart tanh, seeds 0-1), the direction of the registered criterion. Fails if
    the LSTM trainer or the RNN trainer changes what they learn."""
    import dataclasses

    import torch

    from notes_code.common.batched import run_batched
    from notes_code.hochreiter1997.train import train_lstm_on_task
    from notes_code.pascanu2013.grids import GRIDS

    cfg, length, budget = CompareConfig(), 20, 1_000
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        lstm = [train_lstm_on_task(task="torder", length_range=(length, length), n_hidden=cfg.n_hidden,
                                   forget_gate=False, updates=budget, lr=cfg.lr, batch_size=cfg.batch_size,
                                   clip=cfg.clip, seed=s, eval_every=cfg.eval_every, eval_size=cfg.eval_size,
                                   stop_error=0.01).final_error < 0.01 for s in (0, 1)]
        base = dataclasses.replace(GRIDS["ci"].base, max_updates=budget, min_length=length,
                                   max_length=length, method="MSGD")
        rnn = [r.success for r in run_batched([dataclasses.replace(base, init=i, seed=s)
                                               for i in ("basic_tanh", "smart_tanh") for s in (0, 1)])]
    finally:
        torch.set_num_threads(threads)
    assert sum(lstm) / len(lstm) > sum(rnn) / len(rnn), (lstm, rnn)


def test_restate_changes_only_the_criterion(tmp_path: Path) -> None:
    """The criterion is part of the hash; restating it keeps the runs, a changed run setting is refused."""
    import dataclasses

    cfg = CompareConfig(lengths=(10,), seeds=(0,), updates=10, eval_every=10, eval_size=40)
    path = tmp_path / "compare.json"
    data = run_comparison(cfg, path)
    new = dataclasses.replace(cfg, criterion="other")
    assert new.config_hash() != cfg.config_hash()
    again = restate(new, path, reason="test")
    assert again["runs"] == data["runs"] and again["config_hash"] == new.config_hash()
    with pytest.raises(ResultsError, match="retrain"):
        restate(dataclasses.replace(new, updates=11), path, reason="test")
