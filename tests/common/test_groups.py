"""Tests for notes_code.common.groups: a grid's group, RNN runs batched and LSTM runs one by one."""

from __future__ import annotations

import dataclasses

import pytest
import torch

from notes_code.common import runner
from notes_code.common.batched import run_batched
from notes_code.common.grid import Grid
from notes_code.common.groups import drop_checkpoints, run_group, single_checkpoint, split
from notes_code.common.results import load_results
from notes_code.common.train import TrainConfig, run

BASE = TrainConfig(n_hidden=6, lr=0.1, max_updates=12, eval_every=6, eval_size=40, screen_size=0,
                   eval_chunk=40, dtype="float64", min_length=10, max_length=10)
MIXED = [dataclasses.replace(BASE, init=i, method=m, seed=s)
         for i in ("basic_tanh", "lstm") for m in ("MSGD", "MSGD-C") for s in (0,)]


def test_mixed_group_trains_each_run_as_alone() -> None:
    """One protocol for both networks (§4.1.1; the LSTM note): in a group mixing RNN and LSTM
    cells, the RNN runs end as the batched engine trains them and the LSTM runs as `train.run`
    does, every result in the order of the configs and reported once to `on_finish`."""
    seen: list[int] = []
    got = run_group(MIXED, on_finish=lambda i, r: seen.append(i))
    rnn, lstm = split(MIXED)
    assert [r.config for r in got] == MIXED and sorted(seen) == list(range(len(MIXED)))
    want = {r.config.key(): r for r in run_batched(rnn)} | {c.key(): run(c) for c in lstm}
    for r in got:
        w = want[r.config.key()]
        assert (r.outcome, r.updates, r.final_error, r.history) == (w.outcome, w.updates, w.final_error,
                                                                    w.history)
        for name, p in w.params.items():
            assert torch.equal(r.params[name], p), name


def test_lstm_runs_resume_from_their_own_checkpoints(tmp_path, monkeypatch) -> None:
    """An interrupted group resumes: each LSTM run trains with its own checkpoint beside the
    group's file (`train.run` resumes from it), the batched part with the group's file; and
    `drop_checkpoints` removes the group's files and no other group's."""
    from notes_code.common import groups

    ck, paths, batched_ck = tmp_path / "L10.pt", [], []

    def spy(config, **kw):
        paths.append(kw["checkpoint"])
        kw["checkpoint"].write_bytes(b"x")
        return run(config)

    def trainer(configs, device, **kw):
        batched_ck.append(kw["checkpoint"])
        return run_batched(configs, device)

    monkeypatch.setattr(groups, "run", spy)
    run_group(MIXED, train=trainer, checkpoint=ck)
    lstm = split(MIXED)[1]
    assert batched_ck == [ck] and paths == [single_checkpoint(ck, c) for c in lstm]
    assert len(set(paths)) == len(lstm) and all(p.parent == tmp_path for p in paths)
    ck.write_bytes(b"x")
    (tmp_path / "L100.pt").write_bytes(b"x")
    drop_checkpoints(ck)
    assert [p.name for p in tmp_path.iterdir()] == ["L100.pt"]


def test_a_short_trainer_result_is_an_error() -> None:
    """A batched trainer that returns a result per run is the contract; one that drops a run
    is reported instead of recording a hole."""
    with pytest.raises(RuntimeError, match="returned 0 results for 2 runs"):
        run_group(MIXED, train=lambda configs, device, **kw: [])


def test_runner_records_lstm_cells_and_keeps_the_batched_checkpoint(tmp_path) -> None:
    """The LSTM beside the RNN through the same runner: a grid whose inits include an LSTM records
    every cell once; pending LSTM runs do not void the group's batched checkpoint."""
    grid = Grid("mixed", "a test grid", BASE, inits=("basic_tanh", "lstm1997"), methods=("MSGD-C",),
                lengths=(10,), seeds=(0, 1), paper="hochreiter1997")
    out = tmp_path / "mixed.json"
    data = runner.run_grid(grid, out=out, progress=False, checkpoint_dir=tmp_path / "ck", log=lambda s: None)
    cells = load_results(out)["cells"]
    assert data["cells"] == cells and sorted(c["init"] for c in cells.values()) == ["basic_tanh"] * 2 + \
        ["lstm1997"] * 2
    assert not any((tmp_path / "ck").iterdir())  # every checkpoint dropped once recorded
    assert runner.default_path(grid).parts[-3:] == ("data", "hochreiter1997", "mixed.json")
    rnn = split(grid.groups()[10])[0]
    ck = tmp_path / "L10.pt"
    run_batched(rnn, checkpoint=ck, callback=lambda s: None)
    assert runner._resume_configs(ck, grid.groups()[10], grid.groups()[10]) == grid.groups()[10]
    assert ck.exists()
