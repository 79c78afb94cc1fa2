"""Throughput of the batched multi-run trainer (common.batched) against single runs.

Usage::

    python benchmarks/bench_batched.py [--out reports/bench_batched.json] [--quick]

K runs of the Fig. 7 protocol (MSGD-C, n=50, B=20, temporal order at fixed T=50, the three
initialisations mixed) are trained for a fixed number of updates, once as ``run_batched`` and
once as K sequential ``train.run`` calls, on the same device, interleaved and repeated; the
evaluation is shrunk to 20 sequences so that only training is timed. The figure of merit is
run-updates per second (K x updates / wall time) and the ratio batched / sequential.

Targets: >= 2x on CPU (K in {8, 32}); >= 100x for K=180 on CUDA (only when CUDA is
available; otherwise "skipped: no CUDA"). A third line times ``run_batched`` with K=1 to
separate the gain of batching from that of the hand-written BPTT.

It prints one line per measurement and writes ``reports/bench_batched.json`` atomically.
It always exits 0: a missed target is reported, not raised.
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from notes_code.common.batched import run_batched
from notes_code.common.train import INITS, TrainConfig, run

THREADS = 1
CPU_TARGET, GPU_TARGET, GPU_K = 2.0, 100.0, 180


def _configs(K: int, T: int, updates: int) -> list[TrainConfig]:
    base = TrainConfig(method="MSGD-C", min_length=T, max_length=T, max_updates=updates,
                       eval_every=updates, eval_size=20, screen_size=0, eval_chunk=20)
    return [dataclasses.replace(base, init=INITS[k % 3], seed=k) for k in range(K)]


def _time(fn: object) -> float:
    t0 = time.perf_counter()
    fn()  # type: ignore[operator]
    return time.perf_counter() - t0


def measure(K: int, T: int, updates: int, repeats: int, device: str) -> dict[str, float]:
    """Median run-updates/s of batched, sequential-single and batched-K=1 training."""
    cfgs = _configs(K, T, updates)
    n_seq = min(K, 4)  # time a few sequential runs and scale (they are identical in cost)
    times: dict[str, list[float]] = {"batched": [], "sequential": [], "batched_k1": []}
    _time(lambda: run_batched(cfgs[:2], device))  # warm-up
    for _ in range(repeats):
        times["batched"].append(_time(lambda: run_batched(cfgs, device)) / (K * updates))
        times["sequential"].append(
            _time(lambda: [run(c, device=device) for c in cfgs[:n_seq]]) / (n_seq * updates))
        times["batched_k1"].append(_time(lambda: run_batched(cfgs[:1], device)) / updates)
    rate = {k: 1.0 / statistics.median(v) for k, v in times.items()}
    return {"K": K, "T": T, "updates": updates, "device": device,
            "batched_run_updates_per_s": rate["batched"],
            "sequential_run_updates_per_s": rate["sequential"],
            "batched_k1_run_updates_per_s": rate["batched_k1"],
            "ratio": rate["batched"] / rate["sequential"]}


def _write_atomic(path: Path, data: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w") as f:
            json.dump(data, f, indent=2)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def main(argv: list[str]) -> int:
    out = Path("reports/bench_batched.json")
    if "--out" in argv:
        out = Path(argv[argv.index("--out") + 1])
    quick = "--quick" in argv
    torch.set_num_threads(THREADS)
    rows = []
    for K in (8, 32):
        r = measure(K, 50, 10 if quick else 100, 1 if quick else 3, "cpu")
        r["target"], r["met"] = CPU_TARGET, r["ratio"] >= CPU_TARGET
        rows.append(r)
        print(f"cpu K={K:3d} T=50: batched {r['batched_run_updates_per_s']:7.0f} run-upd/s, "
              f"sequential {r['sequential_run_updates_per_s']:6.0f}, batched K=1 "
              f"{r['batched_k1_run_updates_per_s']:6.0f}; ratio {r['ratio']:.2f}x "
              f"(target >= {CPU_TARGET:g}x: {'MET' if r['met'] else 'MISS'})", flush=True)
    gpu: dict[str, object] = {"skipped": "no CUDA"}
    if torch.cuda.is_available():
        gpu = measure(GPU_K, 50, 10 if quick else 100, 1 if quick else 2, "cuda")
        gpu["target"], gpu["met"] = GPU_TARGET, gpu["ratio"] >= GPU_TARGET
        print(f"cuda K={GPU_K} T=50: ratio {gpu['ratio']:.1f}x (target >= {GPU_TARGET:g}x: "
              f"{'MET' if gpu['met'] else 'MISS'})")
    else:
        print(f"cuda K={GPU_K}: skipped: no CUDA")
    report = {"benchmark": "bench_batched", "time": _dt.datetime.now(_dt.UTC).isoformat(),
              "torch": torch.__version__, "python": platform.python_version(),
              "machine": platform.machine(), "threads": THREADS, "cpu": rows, "cuda": gpu}
    _write_atomic(out, report)
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
