"""Tests for notes_code.pascanu2013.experiments (the Fig. 7 grids, §4.1.1) and its recorded CI results."""

from __future__ import annotations

import dataclasses
import json

import pytest
import torch

from notes_code import experiments as cli
from notes_code.pascanu2013 import experiments as ex
from notes_code.pascanu2013.batched import run_batched
from notes_code.pascanu2013.experiments import (
    GRIDS,
    Grid,
    ResultsError,
    default_path,
    load_results,
    run_grid,
)
from notes_code.pascanu2013.train import TrainConfig

TINY = Grid("tiny", "a test grid",
            TrainConfig(n_hidden=6, lr=0.1, max_updates=20, eval_every=10, eval_size=40, screen_size=0,
                        eval_chunk=40, dtype="float64"),
            inits=("sigmoid", "basic_tanh"), methods=("MSGD", "MSGD-C"), lengths=(10, 12), seeds=(0,))
CI_FILE = ex.default_path("ci")


def _counting():
    calls: list[int] = []

    def train(configs, device, **kw):
        calls.append(len(configs))
        return run_batched(configs, device, **kw)

    return train, calls


def _run(tmp_path, grid: Grid = TINY, **kw) -> dict:
    kw.setdefault("out", tmp_path / "tiny.json")
    return run_grid(grid, progress=False, checkpoint_dir=tmp_path / "ckpt", log=lambda s: None, **kw)


def test_runner_reuses_finished_cells(tmp_path) -> None:
    """Runner: one batched model per length; a second run of the same config trains nothing and
    leaves the file byte-for-byte unchanged."""
    train, calls = _counting()
    data = _run(tmp_path, train=train)
    assert calls == [4, 4] and len(data["cells"]) == 8
    before = (tmp_path / "tiny.json").read_bytes()
    train2, calls2 = _counting()
    again = _run(tmp_path, train=train2)
    assert calls2 == [] and again["cells"] == data["cells"]
    assert (tmp_path / "tiny.json").read_bytes() == before
    assert not list((tmp_path / "ckpt").glob("*.pt"))  # finished groups drop their checkpoints


def test_runner_resumes_after_interruption(tmp_path) -> None:
    """Runner: an interruption during the second length keeps the first length's cells (recorded as
    each run finishes); the re-run trains only what is missing."""
    def train(configs, device, **kw):
        if configs[0].min_length == 12:
            raise KeyboardInterrupt
        return run_batched(configs, device, **kw)

    with pytest.raises(KeyboardInterrupt):
        _run(tmp_path, train=train)
    assert {c["length"] for c in load_results(tmp_path / "tiny.json")["cells"].values()} == {10}
    train2, calls = _counting()
    assert len(_run(tmp_path, train=train2)["cells"]) == 8 and calls == [4]


def test_runner_resumes_inside_a_group(tmp_path) -> None:
    """Runner: a run killed in the middle of a length (after its checkpoint at update 10) resumes from
    the per-length checkpoint and records exactly what an uninterrupted run records."""
    grid = TINY.with_budget(30)
    ref = _run(tmp_path / "ref", grid=grid)

    def train(configs, device, **kw):
        def stop(step: int) -> None:
            if step == 13:
                raise KeyboardInterrupt
        return run_batched(configs, device, checkpoint_every=10, callback=stop, **kw)

    with pytest.raises(KeyboardInterrupt):
        _run(tmp_path, grid=grid, train=train)
    assert (tmp_path / "ckpt" / "L10.pt").exists()
    data = _run(tmp_path, grid=grid)
    strip = ("wall_time_s", "git_commit", "device")
    assert {k: {f: v for f, v in c.items() if f not in strip} for k, c in data["cells"].items()} == \
        {k: {f: v for f, v in c.items() if f not in strip} for k, c in ref["cells"].items()}


def test_provenance_fields(tmp_path) -> None:
    """Results file: provenance (git commit, device, torch version, wall time, sessions) and, per
    cell, updates, outcome and final error."""
    data = _run(tmp_path)
    prov = data["provenance"]
    for key in ("git_commit", "git_dirty", "device", "torch", "python", "wall_time_s", "sessions"):
        assert key in prov
    assert prov["sessions"][0]["cells_trained"] == 8 and data["config_hash"] == TINY.config_hash()
    for key, cell in data["cells"].items():
        assert cell["outcome"] in ex.OUTCOMES and isinstance(cell["updates"], int)
        assert TrainConfig(**cell["config"]).key() == key and "final_error" in cell


def test_atomic_write(tmp_path, monkeypatch) -> None:
    """Results file writes are atomic: an exception while writing leaves the old file intact and no
    temporary file behind."""
    path = tmp_path / "r.json"
    ex.write_results(path, {"a": 1})
    before = path.read_bytes()

    def broken(obj, f, **kw):
        f.write('{"partial": ')
        raise OSError("disk full")

    monkeypatch.setattr(ex.json, "dump", broken)
    with pytest.raises(OSError, match="disk full"):
        ex.write_results(path, {"a": 2})
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["r.json"]


def test_corrupted_file_is_reported(tmp_path) -> None:
    """A corrupted results file is never used or overwritten silently: a clear error names the file;
    --force starts a new one. A file from another grid configuration also needs --force."""
    path = tmp_path / "tiny.json"
    path.write_text('{"schema": "pascanu2013-grid/1", "cells": {')
    with pytest.raises(ResultsError, match=str(path)):
        _run(tmp_path)
    assert path.read_text().endswith("{")  # untouched
    _run(tmp_path, force=True)
    data = json.loads(path.read_text())
    key = next(iter(data["cells"]))
    data["cells"][key]["config"]["seed"] = 99  # no longer matches its key
    path.write_text(json.dumps(data))
    with pytest.raises(ResultsError, match="does not match"):
        _run(tmp_path)
    _run(tmp_path, force=True)
    with pytest.raises(ResultsError, match="another configuration"):
        _run(tmp_path, grid=TINY.with_budget(30))


def test_summary_and_cli(tmp_path, monkeypatch, capsys) -> None:
    """Summary helpers for the docs (success rate per init, method and length) and the command line
    (list / show / run, exit status 2 on a corrupted file)."""
    monkeypatch.setitem(GRIDS, "tiny", TINY)
    out = tmp_path / "tiny.json"
    assert cli.main(["run", "tiny", "--out", str(out), "--no-progress"]) == 0
    rows = ex.success_table(load_results(out))
    assert len(rows) == 8 and all(r["runs"] == 1 and 0 <= r["rate"] <= 1 for r in rows)
    assert ex.markdown_table(load_results(out)).count("\n") == 5
    assert cli.main(["list"]) == 0 and cli.main(["show", "tiny", "--out", str(out)]) == 0
    assert "T=12" in capsys.readouterr().out
    out.write_text("not json")
    assert cli.main(["run", "tiny", "--out", str(out), "--no-progress"]) == 2


def test_grids_follow_the_paper() -> None:
    """Fig. 7 (§4.1.1): 50 hidden units, the three inits, MSGD / MSGD-C (threshold 1) / MSGD-CR
    (alpha 4), lr 0.01, batch 20, success below 1% of 10,000 fresh sequences, lengths 50-200, 5 seeds;
    the reduced grids state every deviation."""
    fig7 = GRIDS["fig7"]
    assert len(fig7.cells()) == 3 * 3 * 4 * 5 and fig7.lengths == (50, 100, 150, 200)
    b = fig7.base
    assert (b.n_hidden, b.lr, b.clip, b.alpha, b.batch_size, b.eval_size, b.success_error) == (
        50, 0.01, 1.0, 4.0, 20, 10_000, 0.01)
    assert any("budget" in d for d in fig7.deviations)
    assert any("learning rate" in d for d in GRIDS["ci"].deviations)
    assert GRIDS["ci"].with_budget(7).config_hash() != GRIDS["ci"].config_hash()
    assert {len(g) for g in fig7.groups().values()} == {45}


# ----------------------------------------------------------------- the recorded CI tier
def _ci() -> dict:
    data = load_results(CI_FILE)
    assert data is not None, f"{CI_FILE} is missing: run `python -m notes_code.experiments run ci`"
    return data


def _rate(data: dict, init: tuple[str, ...], method: str, length: int) -> float:
    cells = [c for c in data["cells"].values()
             if c["init"] in init and c["method"] == method and c["length"] == length]
    return sum(c["outcome"] == "success" for c in cells) / len(cells)


def test_ci_recorded_file_is_complete() -> None:
    """The recorded CI tier matches the current grid definition and carries its provenance."""
    data, grid = _ci(), GRIDS["ci"]
    assert data["config_hash"] == grid.config_hash()
    assert set(data["cells"]) == {c.key() for c in grid.cells()}
    prov = data["provenance"]
    assert prov["git_commit"] != "unknown" and prov["wall_time_s"] > 0 and prov["torch"]


@pytest.mark.claim("pascanu2013/clipping-prevents-divergence",
                   modules=["pascanu2013.batched", "pascanu2013.clipping", "pascanu2013.tasks"])
def test_ci_clipping_prevents_divergence() -> None:
    """§3.2-§4.1.1 / Fig. 7 (CI tier, recorded): with clipping no run diverges and, with the tanh
    inits at lengths 20 and 30, MSGD-C solves 20/20 runs where MSGD solves at most 1 of 10 per length.
    Every failed tanh MSGD run at lengths >= 15 met a gradient spike (largest norm > 20 x the
    threshold) that left W_rec with spectral radius > 2 (stuck at chance); MSGD-C met spikes too
    (largest pre-clipping norm > 10) but every MSGD-C run ends with spectral radius < 2."""
    data, grid = _ci(), GRIDS["ci"]
    cells = list(data["cells"].values())
    assert all(c["outcome"] != "diverged" for c in cells if c["method"] != "MSGD")
    tanh = ("basic_tanh", "smart_tanh")
    for L in (20, 30):
        assert _rate(data, tanh, "MSGD", L) <= 0.1 and _rate(data, tanh, "MSGD-C", L) == 1.0
    for L in grid.lengths[1:]:
        msgd = [c for c in cells if c["init"] in tanh and c["method"] == "MSGD" and c["length"] == L]
        assert all(c["max_grad_norm"] > 20 and c["rho_final"] > 2 for c in msgd if c["outcome"] == "fail")
        clipped = [c for c in cells if c["init"] in tanh and c["method"] == "MSGD-C" and c["length"] == L]
        assert max(c["max_grad_norm"] for c in clipped) > 10
        assert all(c["rho_final"] < 2 for c in clipped)


@pytest.mark.claim("pascanu2013/clipping-matters-more-with-length",
                   modules=["pascanu2013.batched", "pascanu2013.clipping", "pascanu2013.tasks"])
def test_ci_clipping_matters_more_with_length() -> None:
    """§4.1.1: "As the length of the sequence increases, using clipping becomes more important to
    achieve a better success rate". CI tier (recorded, tanh inits, 10 runs per length): the gap
    success(MSGD-C) - success(MSGD) never shrinks from one length to the next and grows by at least
    0.5 from the shortest length, where MSGD solves every run."""
    data, grid = _ci(), GRIDS["ci"]
    tanh = ("basic_tanh", "smart_tanh")
    gap = [_rate(data, tanh, "MSGD-C", L) - _rate(data, tanh, "MSGD", L) for L in grid.lengths]
    assert all(b >= a for a, b in zip(gap, gap[1:], strict=False))
    assert gap[-1] >= gap[0] + 0.5
    assert _rate(data, tanh, "MSGD", grid.lengths[0]) == 1.0


def test_ci_cells_reproduce() -> None:
    """Reproducibility of the recorded CI tier: the shortest length's batched group, re-trained with
    the budget cut to 750 updates (the cut does not touch the trajectory before it) and one thread,
    re-succeeds exactly the recorded runs that succeeded by then, with the same update counts, final
    errors and largest gradient norms (bit-for-bit with the recorded CPU and torch version)."""
    data, grid = _ci(), GRIDS["ci"]
    group, cut = grid.groups()[grid.lengths[0]], 750
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        results = run_batched([dataclasses.replace(c, max_updates=cut) for c in group])
    finally:
        torch.set_num_threads(threads)
    prov = data["provenance"]
    same_machine = prov["torch"] == torch.__version__ and prov["device"] == ex.provenance("cpu")["device"]
    for c, r in zip(group, results, strict=True):
        cell = data["cells"][c.key()]
        won = cell["outcome"] == "success" and cell["updates"] <= cut
        assert r.success == won
        if won:
            assert r.updates == cell["updates"]
            if same_machine:
                assert (r.final_error, r.max_grad_norm) == (cell["final_error"], cell["max_grad_norm"])


@pytest.mark.claim("pascanu2013/fig7-cpu-clipping-helps",
                   modules=["pascanu2013.batched", "pascanu2013.clipping", "pascanu2013.regularizer",
                            "pascanu2013.tasks"])
def test_fig7_cpu_recorded_result() -> None:
    """Fig. 7 at the paper's settings (reduced: lengths 50 and 100, 20,000-update budget, recorded):
    no plain MSGD run and no sigmoid-init run solves temporal order, while clipping (MSGD-C/CR)
    solves some runs of both tanh inits at both lengths."""
    data = load_results(default_path("fig7-cpu"))
    assert data["config_hash"] == GRIDS["fig7-cpu"].config_hash()
    assert len(data["cells"]) == len(GRIDS["fig7-cpu"].cells())
    assert data["provenance"]["git_dirty"] is False
    cells = list(data["cells"].values())
    assert not any(c["outcome"] == "success" for c in cells if c["method"] == "MSGD")
    assert not any(c["outcome"] == "success" for c in cells if c["init"] == "sigmoid")
    for init in ("basic_tanh", "smart_tanh"):
        for length in (50, 100):
            clipped = [c for c in cells if c["init"] == init and c["length"] == length
                       and c["method"] in ("MSGD-C", "MSGD-CR")]
            assert any(c["outcome"] == "success" for c in clipped)


@pytest.mark.claim("pascanu2013/permutation-needs-regularizer",
                   modules=["pascanu2013.batched", "pascanu2013.regularizer", "pascanu2013.tasks"])
def test_permutation_recorded_result() -> None:
    """§4.1.2 (random permutation, the hardest task; CI-tier settings, recorded): at length 20 the
    regularised MSGD-CR solves all 6 tanh-init runs, while MSGD and MSGD-C each solve fewer than 3."""
    data = load_results(default_path("ci-perm"))
    assert data["config_hash"] == GRIDS["ci-perm"].config_hash()
    assert data["provenance"]["git_dirty"] is False
    tanh = ("basic_tanh", "smart_tanh")

    def solved(method: str) -> int:
        return sum(c["outcome"] == "success" for c in data["cells"].values()
                   if c["init"] in tanh and c["method"] == method and c["length"] == 20)

    assert solved("MSGD-CR") == 6
    assert solved("MSGD") < 3 and solved("MSGD-C") < 3
