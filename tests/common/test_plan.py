"""Tests for notes_code.common.plan: the cost plan of a Fig. 7 grid (§4.1.1): size, measured rate,
wall-time estimates here, on one GPU and on a Ray cluster."""

from __future__ import annotations

import dataclasses
import json

import pytest
import torch

from notes_code import experiments as cli
from notes_code.common import batched, fastcpu
from notes_code.common import plan as pl
from notes_code.common.grid import Grid
from notes_code.common.runner import GRIDS
from notes_code.common.train import TrainConfig

TINY = Grid("tiny", "a test grid",
            TrainConfig(n_hidden=6, lr=0.1, max_updates=20, eval_every=10, eval_size=40, screen_size=0,
                        eval_chunk=40),
            inits=("sigmoid", "basic_tanh"), methods=("MSGD", "MSGD-C"), lengths=(10, 30), seeds=(0,))
FIXED = {10: 400.0, 30: 100.0}  # run-updates/s per length of the injected measurement


def _fixed(step, configs, *, engine):
    """A deterministic measurement: FIXED[L] run-updates/s (x2 for the engine 'fast')."""
    L, K = configs[0].min_length, len(configs)
    rate = FIXED[L] * (2 if engine == "fast" else 1)
    return pl.Rate(engine, L, K, steps=10, seconds=10 * K / rate)


def test_size_counts_runs_budget_and_length() -> None:
    """Size: run-updates = runs x budget and run-timesteps = runs x budget x length, per group and in
    total (fig7: 180 runs x 100,000 updates x mean length 125)."""
    p = pl.plan(TINY, measure=_fixed, gpu=({}, "none"))
    assert [(g.length, g.runs, g.run_updates, g.run_timesteps) for g in p.groups] == \
        [(10, 4, 80, 800), (30, 4, 80, 2400)]
    assert (p.runs, p.run_updates, p.run_timesteps) == (8, 160, 3200)
    sizes = pl.group_sizes(GRIDS["fig7"])
    assert sum(g.runs for g in sizes) == 180 and sum(g.run_updates for g in sizes) == 18_000_000
    assert sum(g.run_timesteps for g in sizes) == 18_000_000 * 125


def test_wall_times_are_size_over_rate() -> None:
    """Wall time here = sum over groups of run-updates / measured rate, for each engine of the mapping;
    the cluster estimate is the longest-first schedule of the groups (1 worker: the same sum; as
    many workers as groups: the slowest group); the GPU estimate uses the recorded rates scaled by
    recorded length / length."""
    p = pl.plan(TINY, engines={"batched": batched.train_step, "fast": batched.train_step}, workers=1,
                measure=_fixed, gpu=({20: 1000.0}, "bench.json"))
    assert [r.engine for r in p.rates] == ["batched", "batched", "fast", "fast"]
    assert [r.run_updates_per_s for r in p.rates] == pytest.approx([400, 100, 800, 200])
    assert p.local_s["batched"] == pytest.approx(80 / 400 + 80 / 100)
    assert p.local_s["fast"] == pytest.approx(p.local_s["batched"] / 2)
    assert p.cluster_s == pytest.approx(p.local_s)
    two = pl.plan(TINY, workers=2, measure=_fixed, gpu=({20: 1000.0}, "bench.json"))
    assert two.cluster_s["batched"] == pytest.approx(80 / 100)
    assert two.gpu_rates == pytest.approx({10: 2000.0, 30: 1000.0 * 20 / 30})
    assert two.gpu_s == pytest.approx(80 / 2000 + 80 / (1000 * 20 / 30))
    text = "\n".join(two.lines())
    assert "run-updates   = runs x budget = 8 x 20 = 160" in text
    assert "x 20 = 3,200" in text and "400.0 run-updates/s" in text and "from bench.json" in text
    assert "ideal scaling by groups" in text


def test_no_gpu_benchmark_is_said() -> None:
    """Without a recorded GPU benchmark the plan says so instead of a number."""
    p = pl.plan(TINY, measure=_fixed, gpu=({}, "no GPU benchmark recorded (looked for x)"))
    assert p.gpu_s is None and "one GPU: no GPU benchmark recorded" in "\n".join(p.lines())


def test_makespan_longest_first() -> None:
    """Ray estimate: groups placed longest first on the least loaded worker."""
    assert pl.makespan([4, 3, 2, 1], 2) == 5
    assert pl.makespan([4, 3, 2, 1], 1) == 10
    assert pl.makespan([4, 3, 2, 1], 8) == 4


def test_measure_rate_with_an_injected_clock() -> None:
    """The measurement is K x steps / seconds on the injected clock: one warm-up step, then steps until
    min_steps and min_seconds are both reached; the step gets the group's (K, n, n) weights and a
    (T, K, B, n_in) batch."""
    ticks = iter(range(100))
    calls = []

    def step(P, co, U, Y, alive, workspace):
        calls.append((tuple(P["W_rec"].shape), tuple(U.shape)))
        return {}

    cfgs = TINY.groups()[30]
    r = pl.measure_rate(step, cfgs, min_seconds=5, min_steps=2, clock=lambda: float(next(ticks)))
    # t0 = 0; steps 1-2 (min_steps, no clock), then clock 1..4 < 5 allow steps 3-6, clock 5 stops; end 6
    assert (r.runs, r.length, r.steps, r.seconds) == (4, 30, 6, 6.0)
    assert r.run_updates_per_s == pytest.approx(4 * 6 / 6)
    assert len(calls) == 7 and calls[0] == ((4, 6, 6), (30, 4, 20, 6))
    real = pl.measure_rate(batched.train_step, cfgs, min_seconds=0.0)
    assert real.steps == 2 and real.run_updates_per_s > 0


def test_gpu_benchmark_file(tmp_path) -> None:
    """A recorded bench_fused.py file gives run-updates/s = K x 1000 / (best ms per update) per length;
    CPU or interpreted files are not GPU benchmarks."""
    res = {"device": "cuda", "name": "H200", "K": 180, "interpreted": False,
           "lengths": {"50": {"ms_per_update": {"bmm": 4.0, "fused": 0.5}},
                       "200": {"ms_per_update": {"bmm": 10.0, "fused": 2.0}}}}
    good, cpu = tmp_path / "bench_fused.json", tmp_path / "cpu_fused.json"
    good.write_text(json.dumps(res))
    cpu.write_text(json.dumps({**res, "device": "cpu"}))
    rates, source = pl.gpu_benchmark([cpu, good])
    assert rates == pytest.approx({50: 360_000.0, 200: 90_000.0}) and "H200" in source
    assert pl.gpu_rate(rates, 100) == pytest.approx(180_000.0)
    assert pl.gpu_benchmark([cpu, tmp_path / "missing.json"])[0] == {}
    manifest = tmp_path / "gpu_run.json"  # scripts/gpu_run.py keeps the benchmark under "bench"
    manifest.write_text(json.dumps({"sessions": [], "bench": res}))
    assert pl.gpu_benchmark([manifest])[0] == pytest.approx(rates)
    interpreted = tmp_path / "toy_gpu.json"
    interpreted.write_text(json.dumps({**res, "interpreted": True}))
    assert pl.gpu_benchmark([interpreted])[0] == {}


def test_cli_plan(monkeypatch, capsys) -> None:
    """`plan GRID --workers N` measures now and prints the plan; bad numbers give exit status 2."""
    monkeypatch.setitem(GRIDS, "tiny", TINY)
    threads = torch.get_num_threads()
    assert cli.main(["plan", "tiny", "--workers", "2"]) == 0
    out = capsys.readouterr().out
    assert "8 x 20 = 160" in out and "Ray cluster of 2 worker(s)" in out and "batched    L=30 K=4" in out
    assert torch.get_num_threads() == threads
    assert cli.main(["plan", "tiny", "--workers", "0"]) == 2
    assert "workers must be at least 1" in capsys.readouterr().err


def test_recorded_estimate_reproduces_the_benchmark_points() -> None:
    """The page's cost estimate (no measurement at build time): the linear cost model T(a + bK)
    fitted to the recorded CPU-engine benchmark gives back the benchmark's own rates at its two
    points, and a variable-length group is charged its mean length."""
    from notes_code.common.plan import group_sizes, recorded_estimate

    bench = {"update": [{"T": 50, "K": 45, "fastcpu_run_updates_per_s": 2000.0},
                        {"T": 200, "K": 90, "fastcpu_run_updates_per_s": 700.0}]}
    for T, K, rate in ((50, 45, 2000.0), (200, 90, 700.0)):
        g = Grid("g", "d", dataclasses.replace(TINY.base, max_updates=1000), inits=("basic_tanh",),
                 methods=("MSGD",), lengths=(T,), seeds=tuple(range(K)))
        assert recorded_estimate(g, bench) == pytest.approx(1000 * K / rate, rel=1e-12)
    var = Grid("v", "d", dataclasses.replace(TINY.base, max_updates=10), inits=("basic_tanh",),
               methods=("MSGD",), lengths=(200,), seeds=(0,), min_length=50)
    assert group_sizes(var)[0].run_timesteps == 10 * 125


@pytest.mark.parametrize("task", ["add", "mem"])
def test_rates_are_measured_for_every_head(task: str) -> None:
    """`plan` measures every head's batched update (the linear head of addition, where the runs
    share the drawn l', and memorization's per-step softmax), at a variable-length group's
    longest length; a grid with LSTM cells, which no batched engine trains, is a clear error."""
    from notes_code.common.plan import measure_rate, plan

    cfgs = [dataclasses.replace(TINY.base, task=task, init="basic_tanh", method="MSGD-CR", seed=s,
                                min_length=10, max_length=13) for s in (0, 1)]
    r = measure_rate(fastcpu.train_step, cfgs, min_seconds=0.0, min_steps=1)
    assert r.length == 12 and r.runs == 2 and r.steps >= 1
    lstm = Grid("l", "d", TINY.base, inits=("lstm",), methods=("MSGD",), lengths=(10,), seeds=(0,))
    with pytest.raises(ValueError, match="LSTM cells"):
        plan(lstm)
