r"""# What a grid costs: its size, this machine's measured rate, and wall time here, on a GPU, on Ray

**Size.** A grid of $R$ runs with a budget of $B$ updates per run, in groups $g$ of $R_g$ runs
at length $L_g$, holds at most

$$
\text{run-updates} = \sum_g R_g B = R B, \qquad
\text{run-timesteps} = \sum_g R_g B L_g = R B \bar L,
$$

where $\bar L$ is the run-weighted mean length. Both are **upper bounds**: a run that succeeds
or diverges stops before its budget, and nobody knows beforehand how many will.

**Rate.** For every engine in `engines` (a mapping `{name: train_step}` with the signature of
`batched.train_step`; `ENGINES` holds the reference batched engine and the CPU engine
`fastcpu`) and every length, `measure_rate` times a short run of that engine's `train_step` on
the group itself ($K = R_g$ runs of the grid's configuration, fixed length $L_g$, one fixed
batch, after one warm-up step), in this command, engine after engine. The rate is
run-updates per second, $K \cdot \text{steps} / \text{seconds}$. Only `train_step` is timed
(forward, BPTT, clipping, update): data generation and evaluation are not, so the estimates
below are lower bounds of the wall time even at full budget.

**Wall time.** On this machine: the groups one after another in one process,
$\sum_g R_g B / r_g$. On one GPU: the same sum with the rates of the recorded GPU benchmark
(`benchmarks/bench_fused.py`'s file, best path per length, scaled by $T_\text{rec}/L_g$ to the
nearest recorded length $T_\text{rec}$, per-run rate taken at the recorded $K$), or
"no GPU benchmark recorded". On a Ray cluster of $N$ workers like this machine: **ideal
scaling by groups**, each group one task on one worker at this machine's rate, groups placed
longest first on the least loaded worker, no start-up, transfer or checkpoint cost; the
wall time is the most loaded worker's total, so more workers than groups do not help.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from notes_code.common import batched, fastcpu, heads
from notes_code.common.grid import Grid, cell_length
from notes_code.common.tasks import arith_steps, make_batch
from notes_code.common.train import DTYPES, LSTM_INITS, TrainConfig, generator, make_model

ROOT = Path(__file__).resolve().parents[2]
GPU_PATTERNS = ("docs/data/**/*gpu*.json", "docs/data/**/*fused*.json")
StepFn = Callable[..., Any]
ENGINES: dict[str, StepFn] = {"batched": batched.train_step, "fastcpu": fastcpu.train_step}


@dataclass(frozen=True)
class GroupSize:
    r"""One group (length) of a grid: `runs` runs, `run_updates` = runs x budget,
    `run_timesteps` = run_updates x length."""

    length: int
    runs: int
    run_updates: int
    run_timesteps: int


@dataclass(frozen=True)
class Rate:
    r"""A measured rate: `engine` at `length` with `runs` runs, `steps` timed steps in `seconds`."""

    engine: str
    length: int
    runs: int
    steps: int
    seconds: float

    @property
    def run_updates_per_s(self) -> float:
        r"""$K \cdot \text{steps} / \text{seconds}$."""
        return self.runs * self.steps / self.seconds


@dataclass(frozen=True)
class Plan:
    r"""A grid's cost plan (`plan`); `lines()` prints it.

    Attributes:
        grid: the grid's name.
        budget: updates per run.
        threads: torch threads during the measurement.
        groups: the groups' sizes.
        rates: the measured rates, engine after engine.
        local_s: estimated seconds on this machine per engine.
        workers: Ray workers of the cluster estimate.
        cluster_s: estimated seconds on the cluster per engine.
        gpu_s: estimated seconds on one GPU (`None`: no benchmark recorded).
        gpu_source: the GPU benchmark file used, or why there is none.
    """

    grid: str
    budget: int
    threads: int
    groups: tuple[GroupSize, ...]
    rates: tuple[Rate, ...]
    local_s: dict[str, float]
    workers: int
    cluster_s: dict[str, float]
    gpu_s: float | None
    gpu_source: str
    gpu_rates: dict[int, float] = field(default_factory=dict)

    @property
    def runs(self) -> int:
        r"""Runs in the grid."""
        return sum(g.runs for g in self.groups)

    @property
    def run_updates(self) -> int:
        r"""Runs x budget (an upper bound)."""
        return sum(g.run_updates for g in self.groups)

    @property
    def run_timesteps(self) -> int:
        r"""Runs x budget x mean length (an upper bound)."""
        return sum(g.run_timesteps for g in self.groups)

    def lines(self) -> list[str]:
        r"""The plan as printable lines."""
        mean_L = self.run_timesteps / self.run_updates
        out = [f"grid {self.grid}: {self.runs} runs in {len(self.groups)} group(s) (one batched model per "
               f"length), budget {self.budget:,d} updates per run",
               "size (upper bounds: every run spends its whole budget; runs that succeed or diverge stop "
               "earlier):",
               f"  run-updates   = runs x budget = {self.runs} x {self.budget:,d} = {self.run_updates:,d}",
               f"  run-timesteps = runs x budget x mean length = {self.run_updates:,d} x {mean_L:g} = "
               f"{self.run_timesteps:,d}"]
        out += [f"  L={g.length}: {g.runs} runs, {g.run_updates:,d} run-updates, {g.run_timesteps:,d} "
                "run-timesteps" for g in self.groups]
        out.append(f"measured now, {self.threads} torch thread(s), train_step only (forward, BPTT, clipping, "
                   "update on one fixed batch; data generation and evaluation not timed):")
        out += [f"  {r.engine:10s} L={r.length} K={r.runs}: {r.run_updates_per_s:,.1f} run-updates/s "
                f"({r.steps} steps in {r.seconds:.2f} s)" for r in self.rates]
        out.append("estimated wall time (lower bounds: see above):")
        out += [f"  this machine, {e}: {_dur(s)} (groups one after another, sum of run-updates / rate)"
                for e, s in self.local_s.items()]
        if self.gpu_s is None:
            out.append(f"  one GPU: {self.gpu_source}")
        else:
            rates = ", ".join(f"L={L} {r:,.0f}" for L, r in self.gpu_rates.items())
            out.append(f"  one GPU: {_dur(self.gpu_s)} (run-updates/s {rates}; from {self.gpu_source})")
        out += [f"  Ray cluster of {self.workers} worker(s) like this machine, {e}: {_dur(s)} (ideal scaling "
                f"by groups: at most {len(self.groups)} groups in parallel, longest first, no start-up or "
                "transfer cost)" for e, s in self.cluster_s.items()]
        return out


def _dur(seconds: float) -> str:
    if seconds < 120:
        return f"{seconds:,.1f} s"
    if seconds < 2 * 3600:
        return f"{seconds:,.0f} s ({seconds / 60:.1f} min)"
    if seconds < 3 * 86400:
        return f"{seconds:,.0f} s ({seconds / 3600:.1f} h)"
    return f"{seconds:,.0f} s ({seconds / 86400:.1f} days)"


def group_sizes(grid: Grid) -> tuple[GroupSize, ...]:
    r"""The size of each of `grid`'s groups; a variable-length group counts its mean training
    length $(l_{min} + L)/2$ per update."""
    out = []
    for L, cfgs in grid.groups().items():
        updates = sum(c.max_updates for c in cfgs)
        mean = L if grid.min_length is None else (grid.min_length + L) / 2
        out.append(GroupSize(L, len(cfgs), updates, round(updates * mean)))
    return tuple(out)


def recorded_estimate(grid: Grid, bench: dict[str, Any]) -> float:
    r"""Seconds to train `grid` in one process, from the recorded CPU-engine benchmark
    (`docs/data/bench/fastcpu.json`) rather than a measurement now.

    A batched update of $K$ runs over $T$ steps costs $T(a + bK)$: a per-step overhead $a$ and
    a per-run-step cost $b$, fitted to the benchmark's two points ($T = 50$, $K = 45$ and
    $T = 200$, $K = 90$, 2 threads). Each group is charged its budget at its mean length, with
    no early stopping and no evaluation: an estimate for planning, not a measurement.

    Args:
        grid: the grid.
        bench: the benchmark record (its `update` rows: `T`, `K`, `fastcpu_run_updates_per_s`).
    """
    rows = [(u["T"], u["K"], u["fastcpu_run_updates_per_s"]) for u in bench["update"][:2]]
    (T1, K1, r1), (T2, K2, r2) = rows
    s1, s2 = K1 / r1 / T1, K2 / r2 / T2  # seconds per step of one batched update
    b = (s2 - s1) / (K2 - K1)
    a = s1 - b * K1
    return sum(g.run_timesteps / g.runs * (a + b * g.runs) for g in group_sizes(grid))


def measure_rate(step: StepFn, configs: Sequence[TrainConfig], *, engine: str = "batched",
                 min_seconds: float = 0.3, min_steps: int = 2,
                 clock: Callable[[], float] = time.perf_counter) -> Rate:
    r"""Time `step` (signature of `batched.train_step`) on the runs `configs` (one length).

    One warm-up step, then steps until at least `min_steps` are done and `min_seconds` have
    passed on `clock`.

    Args:
        step: the engine's `train_step`.
        configs: the group's runs (shared length, see `batched.check_batchable`).
        engine: the engine's name (for the record).
        min_seconds: least time to measure.
        min_steps: least steps to time.
        clock: seconds (tests inject a fake one).

    Returns:
        The measured `Rate`.
    """
    batched.check_batchable(list(configs))
    c0, K = configs[0], len(configs)
    dtype, device = DTYPES[c0.dtype], torch.device("cpu")
    models = [make_model(c) for c in configs]
    P = {n: torch.stack([getattr(m, n).detach() for m in models]) for n in batched.NAMES}
    co = batched.coefficients(list(configs), device, dtype)
    length = cell_length(c0)  # a variable-length group at its longest length: an upper bound
    steps = arith_steps(c0.task, length, generator(c0.length_seed, "length"))
    U, Y = heads.stack_batches(c0.task, [make_batch(c0.task, c0.batch_size, length, generator(c.seed, "data"),
                                                    dtype, steps) for c in configs])
    alive, ws = torch.ones(K, dtype=torch.bool), {}
    step(P, co, U, Y, alive, workspace=ws)
    t0, n = clock(), 0
    while n < min_steps or clock() - t0 < min_seconds:
        step(P, co, U, Y, alive, workspace=ws)
        n += 1
    return Rate(engine, length, K, n, clock() - t0)


def gpu_benchmark(paths: Sequence[Path] | None = None) -> tuple[dict[int, float], str]:
    r"""Run-updates per second per length from a recorded GPU benchmark (`bench_fused.py`'s file, or
    `scripts/gpu_run.py`'s manifest `gpu_run.json`, which holds it under `"bench"`).

    Args:
        paths: files to try (default: `docs/data/**/*gpu*.json` and `*fused*.json`).

    Returns:
        `({length: run-updates/s}, source)`; `({}, reason)` when no usable file is recorded.
    """
    if paths is None:
        paths = sorted({p for pat in GPU_PATTERNS for p in ROOT.glob(pat)})
    for path in paths:
        try:
            res = json.loads(Path(path).read_text(encoding="utf-8"))
            res = res.get("bench", res)  # scripts/gpu_run.py's manifest holds the benchmark as "bench"
            if not str(res.get("device", "")).startswith("cuda") or res.get("interpreted"):
                continue
            K = int(res["K"])
            rates = {int(T): K * 1e3 / min(row["ms_per_update"].values())
                     for T, row in res["lengths"].items()}
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            continue
        if rates:
            return rates, f"{path} ({res.get('name', 'GPU')}, K={K}, best path per length)"
    return {}, ("no GPU benchmark recorded (looked for " + ", ".join(GPU_PATTERNS) +
                "; `make gpu-run` writes one)")


def gpu_rate(rates: dict[int, float], length: int) -> float:
    r"""The recorded rate at the nearest recorded length, scaled by $T_\text{rec} / L$."""
    T = min(rates, key=lambda t: (abs(t - length), t))
    return rates[T] * T / length


def makespan(seconds: Sequence[float], workers: int) -> float:
    r"""Longest-first placement of jobs on the least loaded of `workers`: the largest load."""
    loads = [0.0] * max(1, workers)
    for s in sorted(seconds, reverse=True):
        loads[loads.index(min(loads))] += s
    return max(loads)


def plan(grid: Grid, *, engines: dict[str, StepFn] | None = None, workers: int = 1, threads: int = 1,
         measure: Callable[..., Rate] = measure_rate,
         gpu: tuple[dict[int, float], str] | None = None) -> Plan:
    r"""The cost plan of `grid`, with rates measured now.

    Args:
        grid: the grid.
        engines: `{name: train_step}` to measure, one after another (default `ENGINES`).
        workers: Ray workers for the cluster estimate.
        threads: torch threads during the measurement (restored afterwards).
        measure: `measure(step, configs, engine=name) -> Rate` (tests inject fixed rates).
        gpu: `(rates, source)` as `gpu_benchmark` returns (default: read the recorded file).

    Returns:
        The `Plan`.
    """
    if any(c.init in LSTM_INITS for c in grid.cells()):
        raise ValueError(f"plan measures the batched RNN engines; grid {grid.name} has LSTM cells, "
                         "which train one by one (time one with `python -m notes_code.experiments run`)")
    engines = dict(ENGINES if engines is None else engines)
    sizes = group_sizes(grid)
    groups = grid.groups()
    before = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        rates = tuple(measure(fn, groups[g.length], engine=name)
                      for name, fn in engines.items() for g in sizes)
    finally:
        torch.set_num_threads(before)
    per = {(r.engine, r.length): r.run_updates_per_s for r in rates}
    secs = {e: [g.run_updates / per[e, g.length] for g in sizes] for e in engines}
    gpu_rates, source = gpu if gpu is not None else gpu_benchmark()
    gpu_s = sum(g.run_updates / gpu_rate(gpu_rates, g.length) for g in sizes) if gpu_rates else None
    return Plan(grid.name, grid.budget, threads, sizes, rates, {e: sum(s) for e, s in secs.items()}, workers,
                {e: makespan(s, workers) for e, s in secs.items()}, gpu_s, source,
                {g.length: gpu_rate(gpu_rates, g.length) for g in sizes} if gpu_rates else {})


__all__ = ["ENGINES", "GroupSize", "Plan", "Rate", "gpu_benchmark", "gpu_rate", "group_sizes", "makespan",
           "measure_rate", "plan", "recorded_estimate"]
