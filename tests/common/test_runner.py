"""Tests for notes_code.common.runner: reuse, resume, workers, restate, bad arguments and the lock."""

from __future__ import annotations

import dataclasses
import os
import socket
import subprocess
import sys

import pytest
import torch

from notes_code import experiments as cli
from notes_code.common import results, runner
from notes_code.common.batched import run_batched
from notes_code.common.criteria import Cells, Criterion
from notes_code.common.results import ResultsError, load_results
from notes_code.common.runguard import LockedError, UsageError, check_run_args, results_lock
from notes_code.common.runner import GRIDS
from tests.common.tiny_grid import TINY, counting, run_tiny


def test_runner_reuses_finished_cells(tmp_path) -> None:
    """Runner: one batched model per length; a second run of the same config trains nothing and
    leaves the file byte-for-byte unchanged."""
    train, calls = counting()
    data = run_tiny(tmp_path, train=train)
    assert calls == [4, 4] and len(data["cells"]) == 8
    before = (tmp_path / "tiny.json").read_bytes()
    train2, calls2 = counting()
    again = run_tiny(tmp_path, train=train2)
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
        run_tiny(tmp_path, train=train)
    assert {c["length"] for c in load_results(tmp_path / "tiny.json")["cells"].values()} == {10}
    train2, calls = counting()
    assert len(run_tiny(tmp_path, train=train2)["cells"]) == 8 and calls == [4]


def test_runner_resumes_inside_a_group(tmp_path) -> None:
    """Runner: a run killed in the middle of a length (after its checkpoint at update 10) resumes from
    the per-length checkpoint and records exactly what an uninterrupted run records."""
    grid = TINY.with_budget(30)
    ref = run_tiny(tmp_path / "ref", grid=grid)

    def train(configs, device, **kw):
        def stop(step: int) -> None:
            if step == 13:
                raise KeyboardInterrupt
        return run_batched(configs, device, checkpoint_every=10, callback=stop, **kw)

    with pytest.raises(KeyboardInterrupt):
        run_tiny(tmp_path, grid=grid, train=train)
    assert (tmp_path / "ckpt" / "L10.pt").exists()
    data = run_tiny(tmp_path, grid=grid)
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
    ref = run_tiny(tmp_path / "ref")
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
    assert ref["provenance"]["sessions"][0]["trainer"] == "notes_code.common.batched.run_batched"


def test_summary_and_cli(tmp_path, monkeypatch, capsys) -> None:
    """Summary helpers for the docs (success rate per init, method and length) and the command line
    (list / show / run, exit status 2 on a corrupted file)."""
    monkeypatch.setitem(GRIDS, "tiny", TINY)
    out = tmp_path / "tiny.json"
    assert cli.main(["run", "tiny", "--out", str(out), "--no-progress"]) == 0
    rows = results.success_table(load_results(out))
    assert len(rows) == 8 and all(r["runs"] == 1 and 0 <= r["rate"] <= 1 for r in rows)
    assert results.markdown_table(load_results(out)).count("\n") == 5
    table = results.markdown_table(load_results(out), ("초기화", "방법"))
    assert table.startswith("| 초기화 | 방법 | T=10 |")
    assert cli.main(["list"]) == 0 and cli.main(["show", "tiny", "--out", str(out)]) == 0
    assert "T=12" in capsys.readouterr().out
    out.write_text("not json")
    assert cli.main(["run", "tiny", "--out", str(out), "--no-progress"]) == 2


def test_restate_keeps_cells_and_refuses_new_cells(tmp_path) -> None:
    """Restating criteria or deviations rewrites the stored definition and hash (with a provenance
    entry) and keeps every cell; a definition that changes the cells is refused, file untouched."""
    out = tmp_path / "tiny.json"
    data = run_tiny(tmp_path)
    crit = Criterion("pascanu2013/permutation-omega-helps", "more-successes", "x", "x",
                     Cells(("MSGD-C",), ("sigmoid",)), Cells(("MSGD",), ("sigmoid",)))
    restated = dataclasses.replace(TINY, criteria=(crit,), deviations=("new",))
    new = runner.restate(restated, out, reason="test", now=lambda: "T")
    assert new["cells"] == data["cells"] and new["config_hash"] == restated.config_hash()
    assert new["provenance"]["restated"][-1]["from_hash"] == TINY.config_hash()
    assert load_results(out) == new
    run_tiny(tmp_path, grid=restated)  # the runner accepts the restated file and trains nothing new
    before = out.read_bytes()
    with pytest.raises(ResultsError, match="retrain"):
        runner.restate(TINY.with_budget(30), out, reason="test")
    assert out.read_bytes() == before
    with results_lock(out), pytest.raises(LockedError):  # a runner is writing the file
        runner.restate(dataclasses.replace(TINY, deviations=("other",)), out, reason="test")
    assert out.read_bytes() == before


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
    train, calls = counting()
    for kw in ({"device": "cuda"}, {"workers": 0}, {"threads": 0}, {"out": tmp_path}):
        with pytest.raises(UsageError):
            run_tiny(tmp_path, train=train, **kw)
    with pytest.raises(UsageError, match="budget"):
        check_run_args(budget=0, device="cpu")
    assert calls == [] and list(tmp_path.iterdir()) == []


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
                              text=True, env={**os.environ, "PYTHONPATH": str(results.ROOT)})
    try:
        assert holder.stdout.readline().strip() == "held"
        assert cli.main(["run", "tiny", "--out", str(out), "--no-progress"]) == 2
        err = capsys.readouterr().err
        assert f"pid {holder.pid} on host {socket.gethostname()}, started 2026-01-02T03:04:05+00:00" in err
        assert f"{out}.lock" in err and not out.exists()
        train, calls = counting()
        with pytest.raises(LockedError, match=f"pid {holder.pid}"):
            run_tiny(tmp_path, train=train)
        assert calls == []
    finally:
        holder.communicate("\n", timeout=60)
    assert sorted(p.name for p in tmp_path.iterdir()) == []
    assert len(run_tiny(tmp_path)["cells"]) == 8
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ckpt", "tiny.json"]


def test_successful_runs_are_tested_for_generalisation(tmp_path) -> None:
    """§4.1.1: a grid with `generalise` lengths records, with each successful cell, its error at
    each of those lengths on fresh sequences (`generalise.generalisation`); failed cells have none."""
    from notes_code.common.generalise import generalisation
    from notes_code.common.train import TrainConfig, run

    grid = dataclasses.replace(TINY, name="gen", base=dataclasses.replace(TINY.base, success_error=0.8),
                               generalise=(10, 40))
    data = run_tiny(tmp_path, grid)
    won = [c for c in data["cells"].values() if c["outcome"] == "success"]
    assert won and all(set(c["generalisation"]) == {"10", "40"} for c in won)
    assert all("generalisation" not in c for c in data["cells"].values() if c["outcome"] != "success")
    c = won[0]
    cfg = TrainConfig(**c["config"])
    assert c["generalisation"] == generalisation(run(cfg), (10, 40))


def test_claim_report_judges_only_a_complete_grid(tmp_path, monkeypatch) -> None:
    """Claim boxes: a fully recorded grid gets its registered criteria judged; a partly recorded
    one (a recording resumed over sessions) says so and is not judged, since a criterion over the
    whole grid read on some of its cells would show as unmet; an unregistered claim is an error."""
    import json

    crit = Criterion("pascanu2013/permutation-omega-helps", "more-successes", "x", "x",
                     Cells(("MSGD-C",), ("sigmoid",)), Cells(("MSGD",), ("sigmoid",)))
    grid = dataclasses.replace(TINY, criteria=(crit,))
    monkeypatch.setitem(GRIDS, "tiny", grid)
    out = tmp_path / "tiny.json"
    run_tiny(tmp_path, grid=grid)
    full = runner.claim_report("tiny", crit.claim, out)
    assert "충족" in full and "기록 중" not in full
    with pytest.raises(ResultsError, match="no criterion"):
        runner.claim_report("tiny", "pascanu2013/other", out)
    data = json.loads(out.read_text(encoding="utf-8"))
    del data["cells"][next(iter(data["cells"]))]
    out.write_text(json.dumps(data), encoding="utf-8")
    partial = runner.claim_report("tiny", crit.claim, out)
    assert "기록 중" in partial and "7/8" in partial and "충족" not in partial
    with pytest.raises(ResultsError, match="no results"):
        runner.claim_report("tiny", crit.claim, tmp_path / "missing.json")
