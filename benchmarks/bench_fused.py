"""Updates per second of the fused Triton update (common.fused) against the bmm trainer.

Usage::

    python benchmarks/bench_fused.py [--out reports/bench_fused.json] [--K 180] [--lengths 50 200]
                                     [--reps 20] [--toy]

K runs of the Fig. 7 protocol (n = 50, B = 20, temporal order at fixed T, the three inits and
three methods mixed, MSGD-CR with alpha = 4) do one update per call, from the same state, on
one device, in one process:

* ``bmm``: ``batched.train_step`` (a few kernels per time step);
* ``graph``: the same step captured once in a CUDA graph (``torch.cuda.graphs``) and replayed;
* ``fused``: ``fused.train_step`` (one kernel per update, exact float32 ``tl.dot``);
* ``fused_tf32``: the same kernel with TF32 ``tl.dot`` (different rounding; speed only);
* ``fused_8warps``: the exact kernel with 8 warps per program instead of 4.

It prints ms per update and the ratios fused / bmm and fused / graph, and the fraction of the
FLOP limit reached: FLOPs of one update, ``K T B (8 n^2 + 4 n n_in)`` (forward, BPTT, W_rec
gradient, Omega's W_rec gradient, input terms) over the device's peak (``--peak-tflops``,
default 67 = H200 FP32 without tensor cores). Targets (issue 15): <= 2 ms per update at
T = 200, K = 180 and >= 25x the graph path. Without CUDA it prints "skipped: no CUDA" and
exits 0, unless ``--toy`` (tiny sizes in Triton's interpreter, to test this script).
"""

from __future__ import annotations

import argparse
import dataclasses
import importlib.util
import json
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from notes_code.common import batched  # noqa: E402
from notes_code.common.tasks import TASKS, make_batch  # noqa: E402
from notes_code.common.train import INITS, METHODS, TrainConfig, generator, make_model  # noqa: E402

TARGET_MS, TARGET_VS_GRAPH = 2.0, 25.0


def configs(K: int, T: int, n: int = 50) -> list[TrainConfig]:
    """K Fig. 7 runs at length T cycling through inits x methods."""
    base = TrainConfig(n_hidden=n, min_length=T, max_length=T)
    return [dataclasses.replace(base, init=INITS[k % 3], method=METHODS[(k // 3) % 3], seed=k)
            for k in range(K)]


def flops(K: int, T: int, B: int = 20, n: int = 50, task: str = "torder") -> float:
    """Multiply-adds x 2 of one update of K runs (the four n x n products per step dominate)."""
    n_in = TASKS[task].n_in
    return float(K * T * B * (8 * n * n + 4 * n * n_in))


def _state(K: int, T: int, n: int, B: int, device: str) -> tuple[dict, dict, torch.Tensor, torch.Tensor]:
    cfgs = configs(K, T, n)
    models = [make_model(c) for c in cfgs]
    P = {k: torch.stack([getattr(m, k).detach() for m in models]).to(device) for k in batched.NAMES}
    bs = [make_batch("torder", B, T, generator(k, "bench"), torch.float32) for k in range(K)]
    U = torch.stack([b.u for b in bs], 1).to(device)
    Y = torch.stack([b.target for b in bs]).to(device)
    return P, batched.coefficients(cfgs, torch.device(device), torch.float32), U, Y


def _sync(device: str) -> None:
    if device.startswith("cuda"):
        torch.cuda.synchronize()


def _ms(fn: Callable[[], Any], reps: int, device: str) -> float:
    """Median ms per call over `reps` calls, in 3 rounds after a warm-up."""
    fn()
    _sync(device)
    rounds = []
    for _ in range(3):
        t0 = time.perf_counter()
        for _ in range(reps):
            fn()
        _sync(device)
        rounds.append((time.perf_counter() - t0) * 1e3 / reps)
    return statistics.median(rounds)


def _graph_step(P: dict, co: dict, U: torch.Tensor, Y: torch.Tensor,
                alive: torch.Tensor) -> Callable[[], None]:
    """`batched.train_step` captured in a CUDA graph (static inputs; replay = one update)."""
    ws: dict = {}
    stream = torch.cuda.Stream()
    stream.wait_stream(torch.cuda.current_stream())
    with torch.cuda.stream(stream):
        for _ in range(3):
            batched.train_step(P, co, U, Y, alive, workspace=ws)
    torch.cuda.current_stream().wait_stream(stream)
    graph = torch.cuda.CUDAGraph()
    with torch.cuda.graph(graph):
        batched.train_step(P, co, U, Y, alive, workspace=ws)
    return graph.replay


def _length(T: int, K: int, reps: int, n: int, B: int, device: str) -> dict[str, float]:
    """ms per update of each path at length T, each from its own copy of one initial state."""
    from notes_code.common import fused

    P, co, U, Y = _state(K, T, n, B, device)
    alive = torch.ones(K, dtype=torch.bool, device=device)
    cp = {name: {k: v.clone() for k, v in P.items()} for name in ("bmm", "graph", "fused", "tf32", "w8")}
    ws_b: dict = {}
    ws_f: dict = {}
    paths: dict[str, Callable[[], Any]] = {
        "bmm": lambda: batched.train_step(cp["bmm"], co, U, Y, alive, workspace=ws_b),
        "fused": lambda: fused.train_step(cp["fused"], co, U, Y, alive, workspace=ws_f)}
    if device.startswith("cuda"):
        try:
            paths["graph"] = _graph_step(cp["graph"], co, U, Y, alive)
        except Exception as exc:  # noqa: BLE001 - reported; the other paths are still timed
            print(f"T={T}: CUDA-graph capture failed: {exc!r}", flush=True)
        paths["fused_tf32"] = lambda: fused.train_step(cp["tf32"], co, U, Y, alive, workspace=ws_f,
                                                       precision="tf32")
        paths["fused_8warps"] = lambda: fused.train_step(cp["w8"], co, U, Y, alive, workspace=ws_f,
                                                         num_warps=8)
    ms = {}
    for name, fn in paths.items():
        try:
            ms[name] = _ms(fn, reps, device)
        except Exception as exc:  # noqa: BLE001 - an optional path failing must not stop the run
            if name in ("bmm", "fused"):
                raise
            print(f"T={T}: {name} failed: {exc!r}", flush=True)
    return ms


def measure(device: str, K: int, lengths: list[int], reps: int, n: int = 50, B: int = 20,
            peak_tflops: float = 67.0) -> dict[str, Any]:
    """ms per update of each path at each length, with ratios and the FLOP-limit fraction."""
    from notes_code.common import fused

    rows = {}
    for T in lengths:
        ms = _length(T, K, reps, n, B, device)
        f = flops(K, T, B, n)
        row: dict[str, Any] = {"ms_per_update": ms,
                               "updates_per_s": {k: 1e3 / v for k, v in ms.items()},
                               "fused_vs_bmm": ms["bmm"] / ms["fused"], "gflop_per_update": f / 1e9,
                               "flop_limit_fraction": f / (ms["fused"] * 1e-3) / (peak_tflops * 1e12)}
        if "graph" in ms:
            row["fused_vs_graph"] = ms["graph"] / ms["fused"]
        rows[str(T)] = row
    return {"device": device, "name": torch.cuda.get_device_name() if device.startswith("cuda") else "cpu",
            "K": K, "n": n, "B": B, "reps": reps, "peak_tflops": peak_tflops, "torch": torch.__version__,
            "triton": _triton_version(), "interpreted": fused.INTERPRETED, "lengths": rows}


def _triton_version() -> str:
    import triton

    return triton.__version__


def report(res: dict[str, Any]) -> list[str]:
    """Printable lines (ms per update, ratios, targets)."""
    lines = [f"device {res['name']}, K={res['K']}, n={res['n']}, B={res['B']}, triton {res['triton']}"]
    for T, row in res["lengths"].items():
        ms = ", ".join(f"{k} {v:.3f} ms" for k, v in row["ms_per_update"].items())
        lines.append(f"T={T}: {ms}; fused/bmm {row['fused_vs_bmm']:.1f}x"
                     + (f", fused/graph {row['fused_vs_graph']:.1f}x" if "fused_vs_graph" in row else "")
                     + f"; {row['gflop_per_update']:.2f} GFLOP/update, "
                       f"{100 * row['flop_limit_fraction']:.1f}% of {res['peak_tflops']} TFLOP/s")
        if T == "200" and "fused_vs_graph" in row:
            ok = row["ms_per_update"]["fused"] <= TARGET_MS and row["fused_vs_graph"] >= TARGET_VS_GRAPH
            lines.append(f"  target <= {TARGET_MS} ms and >= {TARGET_VS_GRAPH}x graph: "
                         f"{'met' if ok else 'MISSED'}")
    return lines


def save(res: dict[str, Any], out: Path) -> None:
    """Write `res` as JSON atomically."""
    out.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=out.parent, suffix=".tmp")
    with os.fdopen(fd, "w") as f:
        json.dump(res, f, indent=1)
    os.replace(tmp, out)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", type=Path, default=Path("reports/bench_fused.json"))
    ap.add_argument("--K", type=int, default=180)
    ap.add_argument("--lengths", type=int, nargs="+", default=[50, 200])
    ap.add_argument("--reps", type=int, default=20)
    ap.add_argument("--peak-tflops", type=float, default=67.0)
    ap.add_argument("--toy", action="store_true", help="tiny sizes in the interpreter (tests the script)")
    a = ap.parse_args(argv)
    if importlib.util.find_spec("triton") is None:  # not imported: fused must import it first
        print("skipped: triton is not installed")
        return 0
    if a.toy:
        res = measure("cpu", 2, [10], 1, n=8, B=4, peak_tflops=a.peak_tflops)
    elif not torch.cuda.is_available():
        print("skipped: no CUDA (the fused kernel's speed is measured on the GPU machine: make gpu-run)")
        return 0
    else:
        res = measure("cuda", a.K, a.lengths, a.reps, peak_tflops=a.peak_tflops)
    print("\n".join(report(res)))
    save(res, a.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
