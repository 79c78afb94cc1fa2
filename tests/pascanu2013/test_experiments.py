"""Tests for notes_code.pascanu2013.experiments (the Fig. 7 grids, §4.1.1) and its recorded CI results."""

from __future__ import annotations

import dataclasses
import json
import os
import socket
import subprocess
import sys

import pytest
import torch

from notes_code import experiments as cli
from notes_code.common.runguard import LockedError, UsageError, check_run_args, results_lock
from notes_code.pascanu2013 import experiments as ex
from notes_code.pascanu2013.batched import run_batched
from notes_code.pascanu2013.criteria import TANH, Cells, Criterion, evaluate, verdicts
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


def _close(a, b) -> bool:
    """Equal, floats to 1e-9 (the two trainers round differently), anywhere in nested records."""
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_close(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(map(_close, a, b))
    if isinstance(a, float) and isinstance(b, float):
        return a == pytest.approx(b, rel=1e-9, abs=1e-12)
    return a == b and type(a) is type(b)


def test_fastcpu_trainer_in_worker_processes(tmp_path, capsys) -> None:
    """Runner: `--trainer fastcpu --workers 2` trains each length in its own process with the CPU
    engine (longest length first, each group recorded as it finishes) and records the same cells
    as the reference trainer run in this process, its name in the session's provenance."""
    ref = _run(tmp_path / "ref")
    out = tmp_path / "fast.json"
    with pytest.MonkeyPatch.context() as mp:
        mp.setitem(GRIDS, "tiny", TINY)
        assert cli.main(["run", "tiny", "--out", str(out), "--no-progress", "--trainer", "fastcpu",
                         "--workers", "2", "--threads", "1"]) == 0
    data = load_results(out)
    strip = ("wall_time_s", "git_commit", "device")
    got = {k: {f: v for f, v in c.items() if f not in strip} for k, c in data["cells"].items()}
    want = {k: {f: v for f, v in c.items() if f not in strip} for k, c in ref["cells"].items()}
    assert _close(got, want)
    assert got != want  # equal to rounding only: the workers really ran the other engine
    (session,) = data["provenance"]["sessions"]
    assert session["trainer"] == "notes_code.common.fastcpu.run_fast" and session["workers"] == 2
    assert ref["provenance"]["sessions"][0]["trainer"] == "notes_code.pascanu2013.batched.run_batched"


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
    assert ex.markdown_table(load_results(out), ("초기화", "방법")).startswith("| 초기화 | 방법 | T=10 |")
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


def test_ci_recorded_file_is_complete() -> None:
    """The recorded CI tier matches the current grid definition and carries its provenance."""
    data, grid = _ci(), GRIDS["ci"]
    assert data["config_hash"] == grid.config_hash()
    assert set(data["cells"]) == {c.key() for c in grid.cells()}
    prov = data["provenance"]
    assert prov["git_commit"] != "unknown" and prov["wall_time_s"] > 0 and prov["torch"]


def _recorded(grid: str) -> tuple[dict, Grid]:
    """A recorded grid whose stored definition (criteria included) is the current one."""
    data, g = load_results(default_path(grid)), GRIDS[grid]
    assert data is not None, f"{grid}: no recorded results (make reproduce GRID={grid})"
    assert data["config_hash"] == g.config_hash(), f"{grid}: recorded under another definition"
    assert set(data["cells"]) == {c.key() for c in g.cells()}
    return data, g


def _verdicts(grid: str, claim: str) -> list:
    data, g = _recorded(grid)
    found = verdicts(g.criteria, list(data["cells"].values()), claim, g.base.clip)
    assert found, f"{grid} registers no criterion for {claim}"
    return found


@pytest.mark.claim("pascanu2013/clipping-rescues-exploding-runs",
                   modules=["pascanu2013.batched", "pascanu2013.clipping",
                            "pascanu2013.regularizer", "pascanu2013.tasks"])
def test_ci_recorded_clipping_rescues_exploding_runs() -> None:
    """§3.2, §4.1.1 (CI tier, recorded): the `ci` grid's registered criteria for this claim hold:
    tanh MSGD-C solves more runs than MSGD at lengths 20-30 (two-sided Fisher p < 0.05), and every
    failed tanh MSGD run there met a gradient spike (>= 10x the threshold) and ends with
    rho(W_rec) > 1 and an error near chance: stuck, not diverged."""
    for v in _verdicts("ci", "pascanu2013/clipping-rescues-exploding-runs"):
        assert v.met, v.detail


@pytest.mark.claim("pascanu2013/clipping-matters-more-with-length",
                   modules=["pascanu2013.batched", "pascanu2013.clipping",
                            "pascanu2013.regularizer", "pascanu2013.tasks"])
def test_ci_recorded_clipping_matters_more_with_length() -> None:
    """§4.1.1 "As the length of the sequence increases, using clipping becomes more important"
    (CI tier, recorded): the registered criteria hold: the MSGD-C - MSGD gap is larger at length 30
    than at 10, and tanh MSGD solves more runs at 10 than at 30 (Fisher p < 0.05)."""
    for v in _verdicts("ci", "pascanu2013/clipping-matters-more-with-length"):
        assert v.met, v.detail


def test_ci_cells_reproduce() -> None:
    """Reproducibility of the recorded CI tier: the shortest length's batched group, re-trained with
    the budget cut to 750 updates (the cut does not touch the trajectory before it) and one thread,
    re-succeeds exactly the recorded runs that succeeded by then, with the same update counts, final
    errors (exactly, with the recorded CPU and torch version) and largest gradient norms (to 1e-3: the
    clip now scales by a float64 norm, so float32 trajectories drift by rounding)."""
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
                assert r.final_error == cell["final_error"]
                # The clip now scales by a float64 norm (the grid was recorded with a float32 one), so
                # float32 trajectories drift by rounding: the same successes, update counts and
                # errors, and the largest norm to 1e-3.
                assert r.max_grad_norm == pytest.approx(cell["max_grad_norm"], rel=1e-3)




@pytest.mark.claim("pascanu2013/fig7-cpu-clipping-effect",
                   modules=["pascanu2013.batched", "pascanu2013.clipping",
                            "pascanu2013.regularizer", "pascanu2013.tasks"])
@pytest.mark.xfail(strict=True, reason="registered criterion not met by the recorded fig7-cpu grid: "
                   "tanh MSGD-C 4/20 vs MSGD 0/20, two-sided Fisher p = 0.106")
def test_fig7_cpu_recorded_clipping_effect() -> None:
    """Fig. 7, §4.1.1 at the paper's settings (reduced: lengths 50 and 100, 20,000 updates,
    recorded): the registered criterion "tanh MSGD-C solves more runs than MSGD, Fisher p < 0.05".
    The recorded data do not meet it (strict xfail: if they ever do, this fails and the claim
    must be updated)."""
    (v,) = _verdicts("fig7-cpu", "pascanu2013/fig7-cpu-clipping-effect")
    assert v.met, v.detail


@pytest.mark.claim("pascanu2013/fig7-cpu-omega-effect",
                   modules=["pascanu2013.batched", "pascanu2013.clipping",
                            "pascanu2013.regularizer", "pascanu2013.tasks"])
def test_fig7_cpu_recorded_omega_effect() -> None:
    """Fig. 7, §3.3 (reduced grid, recorded): with basic tanh every success is MSGD-CR's: MSGD-CR
    solves more runs than MSGD-C (registered criterion, Fisher p < 0.05), and no MSGD or sigmoid
    run succeeds at all."""
    (v,) = _verdicts("fig7-cpu", "pascanu2013/fig7-cpu-omega-effect")
    assert v.met, v.detail
    data, _ = _recorded("fig7-cpu")
    assert data["provenance"]["git_dirty"] is False
    cells = list(data["cells"].values())
    assert not any(c["outcome"] == "success" for c in cells
                   if c["method"] == "MSGD" or c["init"] == "sigmoid")


@pytest.mark.claim("pascanu2013/permutation-omega-helps",
                   modules=["pascanu2013.batched", "pascanu2013.clipping",
                            "pascanu2013.regularizer", "pascanu2013.tasks"])
def test_permutation_recorded_omega_helps() -> None:
    """§4.1.2 random permutation (CI-tier settings, length 20, 10 seeds per tanh init, recorded in
    `ci-perm20`): the registered criterion "MSGD-CR solves more runs than MSGD-C, Fisher p < 0.05"
    holds; the 3-seed `ci-perm` cells at length 20 are re-found in it with the same outcomes."""
    (v,) = _verdicts("ci-perm20", "pascanu2013/permutation-omega-helps")
    assert v.met, v.detail
    big, _ = _recorded("ci-perm20")
    small, _ = _recorded("ci-perm")
    shared = [k for k in small["cells"] if k in big["cells"]]
    assert len(shared) == 18  # tanh inits x 3 methods x seeds 0-2 at length 20
    # float32 sums over a batch of a different size round differently, so update counts may
    # differ (one of 18 does: 500 vs 1,000); the outcomes must not.
    assert [big["cells"][k]["outcome"] for k in shared] == [small["cells"][k]["outcome"] for k in shared]
    assert sum(big["cells"][k]["updates"] == small["cells"][k]["updates"] for k in shared) >= 17


# ----------------------------------------------------------------- retrained from code (small tier)
def _retrain(grid: str, lengths: tuple[int, ...], inits: tuple[str, ...], methods: tuple[str, ...],
             seeds: tuple[int, ...], budget: int) -> list[dict]:
    """Train a subset of a grid's cells from code (one thread, shortened budget) as cell records."""
    base = dataclasses.replace(GRIDS[grid].base, max_updates=budget)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        out = []
        for L in lengths:
            cfgs = [dataclasses.replace(base, init=i, method=m, seed=s, min_length=L, max_length=L)
                    for i in inits for m in methods for s in seeds]
            out += [ex.cell_record(r, {"git_commit": "test", "device": "cpu"}) for r in run_batched(cfgs)]
    finally:
        torch.set_num_threads(threads)
    return out


@pytest.fixture(scope="module")
def ci_small() -> list[dict]:
    """CI-tier cells trained now: tanh inits, MSGD and MSGD-C, seeds 0-2, lengths 10 and 20,
    at most 1,000 updates."""
    return _retrain("ci", (10, 20), TANH, ("MSGD", "MSGD-C"), (0, 1, 2), 1_000)


def _criterion(grid: str, claim: str, kind: str) -> Criterion:
    return next(c for c in GRIDS[grid].criteria if c.claim == claim and c.kind == kind)


@pytest.mark.slow
@pytest.mark.claim("pascanu2013/clipping-rescues-exploding-runs", "pascanu2013/fig7-cpu-clipping-effect",
                   modules=["pascanu2013.batched", "pascanu2013.clipping",
                            "pascanu2013.regularizer", "pascanu2013.tasks"])
def test_retrained_clipping_rescues_exploding_runs(ci_small) -> None:
    """§3.2, §4.1.1, retrained from code (CI tier, length 20, 6 runs per method, 1,000 updates):
    MSGD-C solves more runs than MSGD (Fisher p < 0.05), and the MSGD failures are spikes that
    left rho(W_rec) > 1 with the error near chance (the `ci` grid's registered criteria). Fails
    if the trainer stops clipping."""
    claim = "pascanu2013/clipping-rescues-exploding-runs"
    for kind in ("more-successes", "failures-exploded"):
        v = evaluate(_criterion("ci", claim, kind), ci_small)
        assert v.met, v.detail


@pytest.mark.slow
@pytest.mark.claim("pascanu2013/clipping-matters-more-with-length",
                   modules=["pascanu2013.batched", "pascanu2013.clipping",
                            "pascanu2013.regularizer", "pascanu2013.tasks"])
def test_retrained_clipping_matters_more_with_length(ci_small) -> None:
    """§4.1.1, retrained from code (CI tier, lengths 10 and 20): the MSGD-C - MSGD gap grows from
    length 10 to 20 and MSGD solves more runs at 10 than at 20 (the registered criteria with the
    long length moved to 20)."""
    claim = "pascanu2013/clipping-matters-more-with-length"
    gap = dataclasses.replace(_criterion("ci", claim, "gap-grows"), at=(10, 20))
    worse = _criterion("ci", claim, "more-successes")
    worse = dataclasses.replace(worse, b=worse.b.at(20))
    for v in (evaluate(gap, ci_small), evaluate(worse, ci_small)):
        assert v.met, v.detail


@pytest.mark.slow
@pytest.mark.claim("pascanu2013/fig7-cpu-omega-effect",
                   modules=["pascanu2013.batched", "pascanu2013.clipping",
                            "pascanu2013.regularizer", "pascanu2013.tasks"])
def test_retrained_omega_rescues_vanishing_runs() -> None:
    """§3.3, retrained from code: where the gradient vanishes rather than explodes (sigmoid init,
    CI tier, length 10, 5 seeds, 1,000 updates; clipping alone solves nothing there) MSGD-CR solves
    more runs than MSGD-C, the direction of the basic-tanh Omega effect in the reduced Fig. 7.
    Fails if the trainer drops Omega."""
    cells = _retrain("ci", (10,), ("sigmoid",), ("MSGD-C", "MSGD-CR"), tuple(range(5)), 1_000)
    cr = _criterion("fig7-cpu", "pascanu2013/fig7-cpu-omega-effect", "more-successes")
    v = evaluate(dataclasses.replace(cr, a=Cells(("MSGD-CR",), ("sigmoid",)),
                                     b=Cells(("MSGD-C",), ("sigmoid",))), cells)
    assert v.difference.a_better and v.difference.b.k == 0, v.detail


@pytest.mark.slow
@pytest.mark.claim("pascanu2013/permutation-omega-helps",
                   modules=["pascanu2013.batched", "pascanu2013.clipping",
                            "pascanu2013.regularizer", "pascanu2013.tasks"])
def test_retrained_permutation_omega_helps() -> None:
    """§4.1.2, retrained from code (random permutation, length 20, tanh inits, seeds 0-2, 1,000
    updates): MSGD-CR solves more runs than MSGD-C (the registered criterion). Fails if the
    trainer drops Omega."""
    cells = _retrain("ci-perm20", (20,), TANH, ("MSGD-C", "MSGD-CR"), (0, 1, 2), 1_000)
    v = evaluate(GRIDS["ci-perm20"].criteria[0], cells)
    assert v.met, v.detail


def test_criteria_are_part_of_the_grid_hash() -> None:
    """A criterion is registered with its grid: changing one (its threshold, its cells) changes the
    grid's hash, so a recorded file cannot be re-judged quietly under a new criterion."""
    grid = GRIDS["ci"]
    crit = grid.criteria[0]
    for changed in (dataclasses.replace(crit, alpha=0.1), dataclasses.replace(crit, a=crit.a.at(30)),
                    dataclasses.replace(crit, statement=crit.statement + ".")):
        other = dataclasses.replace(grid, criteria=(changed, *grid.criteria[1:]))
        assert other.config_hash() != grid.config_hash()
        assert {c.key() for c in other.cells()} == {c.key() for c in grid.cells()}  # same cells
    assert dataclasses.replace(grid, criteria=()).config_hash() != grid.config_hash()


def test_restate_keeps_cells_and_refuses_new_cells(tmp_path) -> None:
    """Restating criteria or deviations rewrites the stored definition and hash (with a provenance
    entry) and keeps every cell; a definition that changes the cells is refused, file untouched."""
    out = tmp_path / "tiny.json"
    data = _run(tmp_path)
    crit = Criterion("pascanu2013/permutation-omega-helps", "more-successes", "x", "x",
                     Cells(("MSGD-C",), ("sigmoid",)), Cells(("MSGD",), ("sigmoid",)))
    restated = dataclasses.replace(TINY, criteria=(crit,), deviations=("new",))
    new = ex.restate(restated, out, reason="test", now=lambda: "T")
    assert new["cells"] == data["cells"] and new["config_hash"] == restated.config_hash()
    assert new["provenance"]["restated"][-1]["from_hash"] == TINY.config_hash()
    assert load_results(out) == new
    _run(tmp_path, grid=restated)  # the runner accepts the restated file and trains nothing new
    before = out.read_bytes()
    with pytest.raises(ResultsError, match="retrain"):
        ex.restate(TINY.with_budget(30), out, reason="test")
    assert out.read_bytes() == before
    with results_lock(out), pytest.raises(LockedError):  # a runner is writing the file
        ex.restate(dataclasses.replace(TINY, deviations=("other",)), out, reason="test")
    assert out.read_bytes() == before


def test_recorded_deviations_name_omega_form_and_alpha_scale() -> None:
    """Every recorded grid states Omega's x-form (not the code's h-form) and that alpha = 4 multiplies
    the mean over steps (T times weaker than under eq. 9's sum)."""
    for name in ("ci", "fig7-cpu", "ci-perm", "ci-perm20", "ci-torder3", "fig7"):
        devs = " ".join(GRIDS[name].deviations)
        assert "x-form" in devs and "h_k" in devs and "T times stronger" in devs, name


BAD_ARGS = [(["--budget", "0"], "budget must be at least 1"),
            (["--budget", "-3"], "budget must be at least 1"),
            (["--device", "gpu0"], "unknown device 'gpu0'"), (["--device", "meta"], "unknown device 'meta'"),
            (["--workers", "0"], "workers must be at least 1"),
            (["--threads", "0"], "threads must be at least 1"),
            (["--address", "10.0.0.1:6379"], "--address needs --engine ray"),
            (["--engine", "ray", "--workers", "2"], "--workers is for the local engine")]


@pytest.mark.parametrize(("args", "message"), BAD_ARGS)
def test_bad_arguments_stop_before_anything_runs(tmp_path, monkeypatch, capsys, args, message) -> None:
    """Runner: a budget below 1, an unknown device, workers or threads below 1 give the usage line and
    the reason on stderr and exit status 2, before the runner is called or anything is written."""
    monkeypatch.setitem(GRIDS, "tiny", TINY)
    monkeypatch.setattr(cli, "run_grid", lambda *a, **kw: pytest.fail("the runner was called"))
    out = tmp_path / "tiny.json"
    assert cli.main(["run", "tiny", "--out", str(out), "--no-progress", *args]) == 2
    err = capsys.readouterr().err
    assert err.startswith("usage: python -m notes_code.experiments run") and message in err
    assert list(tmp_path.iterdir()) == []


def test_cuda_without_cuda_and_out_directory(tmp_path, monkeypatch, capsys) -> None:
    """Runner: `cuda` where torch sees no GPU, and `--out` naming a directory, are usage errors (exit 2,
    nothing written); the library's run_grid refuses them too (UsageError), before any training."""
    monkeypatch.setitem(GRIDS, "tiny", TINY)
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert cli.main(["run", "tiny", "--out", str(tmp_path / "t.json"), "--device", "cuda"]) == 2
    assert "CUDA is not available" in capsys.readouterr().err
    assert cli.main(["run", "tiny", "--out", str(tmp_path)]) == 2
    assert "is a directory" in capsys.readouterr().err
    train, calls = _counting()
    for kw in ({"device": "cuda"}, {"workers": 0}, {"threads": 0}, {"out": tmp_path}):
        with pytest.raises(UsageError):
            _run(tmp_path, train=train, **kw)
    with pytest.raises(UsageError, match="budget"):
        check_run_args(budget=0, device="cpu")
    assert calls == [] and list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("value", ["NaN", "Infinity", "-Infinity"])
def test_nonfinite_cell_is_a_corrupted_file(tmp_path, capsys, monkeypatch, value) -> None:
    """Results file: a recorded cell holding NaN or an infinity anywhere (here deep in its history) is
    reported as a corrupted file naming the file and the cell, before any training; the file is not
    changed."""
    monkeypatch.setitem(GRIDS, "tiny", TINY)
    _run(tmp_path)
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
    train, calls = _counting()
    with pytest.raises(ResultsError, match=rf"{path}.*cell {key} has a non-finite value: "
                                           rf"history\[\d+\]\.{field}"):
        _run(tmp_path, train=train)
    assert calls == [] and path.read_bytes() == before
    assert cli.main(["run", "tiny", "--out", str(path), "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert "corrupted results file" in err and key in err and str(path) in err
    assert path.read_bytes() == before


def test_second_runner_is_locked_out(tmp_path, monkeypatch, capsys) -> None:
    """Results file: while another process holds `<out>.lock`, a runner exits with status 2 and a message
    naming the holder (pid, host, start time), and writes nothing; after the holder ends, the lock and
    holder files are gone and the runner works."""
    monkeypatch.setitem(GRIDS, "tiny", TINY)
    out = tmp_path / "tiny.json"
    code = ("import sys, time; from notes_code.common.runguard import results_lock\n"
            f"with results_lock({str(out)!r}, now='2026-01-02T03:04:05+00:00'):\n"
            "    print('held', flush=True); sys.stdin.readline()\n")
    holder = subprocess.Popen([sys.executable, "-c", code], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                              text=True, env={**os.environ, "PYTHONPATH": str(ex.ROOT)})
    try:
        assert holder.stdout.readline().strip() == "held"
        assert cli.main(["run", "tiny", "--out", str(out), "--no-progress"]) == 2
        err = capsys.readouterr().err
        assert f"pid {holder.pid} on host {socket.gethostname()}, started 2026-01-02T03:04:05+00:00" in err
        assert f"{out}.lock" in err and not out.exists()
        train, calls = _counting()
        with pytest.raises(LockedError, match=f"pid {holder.pid}"):
            _run(tmp_path, train=train)
        assert calls == []
    finally:
        holder.communicate("\n", timeout=60)
    assert sorted(p.name for p in tmp_path.iterdir()) == []
    assert len(_run(tmp_path)["cells"]) == 8
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ckpt", "tiny.json"]
