"""The one prepared GPU run of issue 15 (``make gpu-run``): kernel tests, benchmark, Fig. 7.

Usage::

    python scripts/gpu_run.py [--out DIR] [--minutes 8] [--budget N] [--workers 4] [--toy]

Steps, each recorded in ``DIR/gpu_run.json`` (DIR: ``--out``, else ``$OUT``, else
``reports/gpu-run``) as soon as it ends, so that a rerun resumes where the last one stopped:

1. ``tests/common/test_fused.py`` on CUDA (compiled kernel against the bmm trainer); on a
   failure Fig. 7 is not trained (exit 1).
2. ``benchmarks/bench_fused.py``'s measurement in this process: ms per update of the fused
   kernel, the bmm trainer and its CUDA-graph replay at T = 50 and 200, K = 180
   (``DIR/bench_fused.json``).
3. Fig. 7 at the paper's protocol (grid ``fig7`` of ``experiments.GRIDS``: lr 0.01, no
   momentum, batch 20, threshold 1, alpha 4, success under 1% of 10,000 fresh sequences, 5 seeds,
   lengths 50-200, 3 inits x 3 methods) trained by ``fused.run_fused``, one process per length.
   The budget per run is the largest multiple of ``eval_every`` that fits in what is left of
   ``--minutes``, from a short timed calibration of each length (data generation and evaluation
   included); it is fixed at the first session and reused on resume. Each length writes
   ``DIR/fig7-L<T>.json`` (the experiments result store, atomic, resumable, with provenance) and
   checkpoints (every ``10 * eval_every`` updates at most); at the deadline every process stops
   (rerun to resume from the last checkpoint and the recorded cells). When every
   length is done they are merged into ``DIR/fig7.json``, one results file of the full grid.

``--toy`` runs the whole script on the CPU in Triton's interpreter at toy size (no test
step, tiny benchmark, 2 short lengths, 3 runs each, budget ``--budget`` or 4): CI runs it.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as _dt
import json
import os
import subprocess
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

import torch  # noqa: E402

from notes_code.common import results, runner  # noqa: E402
from notes_code.common.train import TrainConfig  # noqa: E402
from notes_code.pascanu2013 import grids  # noqa: E402

MAX_BUDGET, SAFETY = 5_000_000, 0.7
TOY_BASE = TrainConfig(n_hidden=8, lr=0.1, eval_every=2, eval_size=40, screen_size=20, eval_chunk=20)


class TimeUp(Exception):  # noqa: N818 - a signal, not an error
    """Raised by the training callback at the deadline (the checkpoint is saved first)."""


def grid(budget: int, toy: bool) -> grids.Grid:
    """Fig. 7's grid (toy: 2 short lengths, one init, 3 methods, 1 seed) at `budget` updates."""
    g = grids.GRIDS["fig7"]
    if toy:
        g = dataclasses.replace(g, base=TOY_BASE, lengths=(10, 12), inits=("smart_tanh",), seeds=(0,))
    g = g.with_budget(budget)
    dev = tuple(d for d in g.deviations if not d.startswith("budget"))
    return dataclasses.replace(g, deviations=(f"budget {budget:,} updates per run (paper: up to 5M), the "
                                              "largest that fit the device time", *dev))


def _load(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text()) if path.exists() else {}


def _save(path: Path, data: dict[str, Any]) -> None:
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(data, indent=1))
    os.replace(tmp, path)


def _trainer(deadline: float, every: int) -> Any:
    from notes_code.common.fused import run_fused

    def check(step: int) -> None:
        if time.time() > deadline:
            raise TimeUp(step)

    def train(cfgs: list, device: str, **kw: Any) -> list:
        return run_fused(cfgs, device, callback=check, checkpoint_every=every, **kw)

    return train


def train_length(g: grids.Grid, L: int, device: str, out: Path, deadline: float, every: int) -> str:
    """Train (or resume) length `L` of `g` into `out/fig7-L<L>.json`; 'done' or 'stopped'."""
    torch.set_num_threads(2)
    sub = dataclasses.replace(g, lengths=(L,))
    try:
        runner.run_grid(sub, device=device, out=out / f"fig7-L{L}.json", checkpoint_dir=out / "checkpoints",
                    train=_trainer(deadline, every), progress=False, log=lambda s: print(s, flush=True))
    except TimeUp:
        return "stopped"
    return "done"


def _recorded(g: grids.Grid, L: int, out: Path) -> bool:
    """Whether every run of length `L` is in its results file already."""
    data = results.load_results(out / f"fig7-L{L}.json")
    return data is not None and {c.key() for c in g.groups()[L]} <= set(data["cells"])


def calibrate(g: grids.Grid, device: str, updates: int) -> dict[int, float]:
    """Seconds per update of one length's batched group, end to end (data, kernel, evaluation)."""
    from notes_code.common.fused import run_fused

    out = {}
    for L in g.lengths:
        cfgs = [dataclasses.replace(c, max_updates=updates, eval_every=min(updates, g.base.eval_every))
                for c in g.groups()[L]]
        run_fused(cfgs[:1] * 1, device)  # compile and warm up
        t0 = time.perf_counter()
        run_fused(cfgs, device)
        out[L] = (time.perf_counter() - t0) / updates
    return out


def plan_budget(sec: dict[int, float], gpu_ms: dict[int, float], seconds: float, every: int,
                workers: int) -> int:
    r"""The largest budget (multiple of `every`) whose estimated time fits `seconds`: lengths run
    `workers` at a time, each at its calibrated cost, and never faster than the GPU's serial
    kernel time $\sum_L$ `gpu_ms`."""
    lengths = sorted(sec, reverse=True)
    waves = [lengths[i:i + workers] for i in range(0, len(lengths), workers)]
    per_update = max(sum(max(sec[L] for L in w) for w in waves), sum(gpu_ms.values()) / 1e3)
    budget = int(SAFETY * seconds / per_update) // every * every
    return max(every, min(MAX_BUDGET, budget))


def merge(g: grids.Grid, out: Path, extra: dict[str, Any]) -> Path:
    """One results file of the full grid from the per-length files."""
    parts = [results.load_results(out / f"fig7-L{L}.json") for L in g.lengths]
    cells = {k: v for p in parts if p for k, v in p["cells"].items()}
    sessions = [s for p in parts if p for s in p["provenance"].get("sessions", [])]
    data = {"schema": results.SCHEMA, "grid": g.name, "config": g.as_dict(), "config_hash": g.config_hash(),
            "provenance": {**(parts[0] or {}).get("provenance", {}), "sessions": sessions, **extra,
                           "wall_time_s": round(sum(s.get("wall_time_s", 0.0) for s in sessions), 1)},
            "cells": cells}
    results.write_results(out / "fig7.json", data)
    return out / "fig7.json"


def main(argv: list[str] | None = None) -> int:  # noqa: C901, PLR0912, PLR0915
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", type=Path, default=Path(os.environ.get("OUT") or ROOT / "reports" / "gpu-run"))
    ap.add_argument("--minutes", type=float, default=8.0, help="device time for the whole script")
    ap.add_argument("--budget", type=int, help="updates per run (default: planned from --minutes)")
    ap.add_argument("--workers", type=int, default=4, help="lengths trained in parallel processes")
    ap.add_argument("--toy", action="store_true", help="CPU, Triton interpreter, toy sizes")
    a = ap.parse_args(argv)
    t_start = time.time()
    deadline = t_start + 60 * a.minutes
    out = a.out
    out.mkdir(parents=True, exist_ok=True)
    man_path = out / "gpu_run.json"
    man = _load(man_path)
    device = "cpu" if a.toy else "cuda"
    if not a.toy and not torch.cuda.is_available():
        print("no CUDA device: make gpu-run runs on the GPU machine (use --toy to test it here)")
        return 2
    from notes_code.common import fused

    man.setdefault("sessions", []).append({**results.provenance(device), "triton": fused.triton.__version__,
                                           "started": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
                                           "argv": sys.argv[1:] if argv is None else argv})
    _save(man_path, man)
    # 1. the kernel tests on CUDA
    if not a.toy and man.get("tests", {}).get("rc") != 0:
        proc = subprocess.run([sys.executable, "-m", "pytest", "tests/common/test_fused.py", "-q",
                               "-p", "no:cacheprovider", "--no-claims-report"], cwd=ROOT,
                              capture_output=True, text=True)
        man["tests"] = {"rc": proc.returncode, "tail": (proc.stdout + proc.stderr)[-3000:]}
        _save(man_path, man)
        print(man["tests"]["tail"], flush=True)
        if proc.returncode != 0:
            print("kernel tests failed on CUDA: Fig. 7 is not trained")
            return 1
    # 2. the benchmark, in this process
    if "bench" not in man:
        import bench_fused

        res = (bench_fused.measure("cpu", 2, [10], 1, n=8, B=4) if a.toy
               else bench_fused.measure("cuda", 180, [50, 200], 20))
        bench_fused.save(res, out / "bench_fused.json")
        man["bench"] = res
        _save(man_path, man)
        print("\n".join(bench_fused.report(res)), flush=True)
    # 3. Fig. 7
    every = (TOY_BASE if a.toy else grids.GRIDS["fig7"].base).eval_every
    if "budget" not in man:
        g0 = grid(every, a.toy)
        sec = calibrate(g0, device, 2 if a.toy else 50) if not (a.toy and a.budget) else {}
        bench = man["bench"]["lengths"]
        pts = sorted((int(T), r["ms_per_update"]["fused"]) for T, r in bench.items())
        (t0, m0), (t1, m1) = pts[0], pts[-1]
        gpu_ms = {L: max(m0 + (m1 - m0) * (L - t0) / max(t1 - t0, 1), m0) for L in g0.lengths}
        left = deadline - time.time()
        man["budget"] = a.budget or (4 if a.toy else plan_budget(sec, gpu_ms, left, every, a.workers))
        man["plan"] = {"calibrated_s_per_update": sec, "kernel_ms_per_update": gpu_ms,
                       "seconds_left": left, "workers": a.workers, "safety": SAFETY}
        _save(man_path, man)
    g = grid(man["budget"], a.toy)
    print(f"Fig. 7: budget {man['budget']:,} updates per run, {len(g.cells())} runs, "
          f"{deadline - time.time():.0f} s left", flush=True)
    every_ckpt = max(every, min(10 * every, man["budget"] // 10 // every * every))
    status = {L: "done" for L in g.lengths if _recorded(g, L, out)}
    todo = [L for L in g.lengths if L not in status]
    if a.workers > 1 and len(todo) > 1:
        with ProcessPoolExecutor(min(a.workers, len(todo)), mp_context=get_context("spawn")) as pool:
            futs = {L: pool.submit(train_length, g, L, device, out, deadline, every_ckpt) for L in todo}
            status.update({L: f.result() for L, f in futs.items()})
    else:
        status.update({L: train_length(g, L, device, out, deadline, every_ckpt) for L in todo})
    status = {L: status[L] for L in g.lengths}
    man["fig7"] = {"status": {str(k): v for k, v in status.items()},
                   "finished": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds")}
    if all(v == "done" for v in status.values()):
        path = merge(g, out, {"trainer": "notes_code.common.fused (Triton)",
                              "triton": fused.triton.__version__, "budget_plan": man.get("plan")})
        man["fig7"]["results"] = str(path)
        print(results.markdown_table(results.load_results(path)))
    else:
        print("Fig. 7 stopped at the deadline; rerun the same command to resume")
    _save(man_path, man)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
