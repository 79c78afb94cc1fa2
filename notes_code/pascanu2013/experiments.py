r"""# Fig. 7 grids: success rate against sequence length, recorded as data

A grid is the product inits × methods × lengths × seeds on one task, every other setting
(learning rate, clipping threshold, $\alpha$, batch size, evaluation, budget) coming from a
base `TrainConfig`. A cell trains at the fixed length $L$ (`min_length = max_length = L`).
Runs with the same seed share their initial weights and data across methods, so MSGD,
MSGD-C and MSGD-CR are compared on identical problems. All cells of one length train as
one batched model (`batched.run_batched`).

Results live in **one JSON file per grid** (default `docs/data/pascanu2013/<grid>.json`):
the grid's configuration and its hash, provenance (git commit, device, torch version, wall
time, one entry per session) and one record per cell, keyed by the hash of the cell's full
`TrainConfig` (budget included): outcome (`success` / `fail` / `diverged`), updates, final
error, largest gradient norm, fallback count, final spectral radius and a thinned history.
Writes are atomic (temporary file + `os.replace`) and happen whenever a run finishes, so an
interrupted grid resumes from its recorded cells (and from the per-length checkpoints). A
file that cannot be read or validated is reported and never used or overwritten without `force`.

Every grid carries the **criteria** that decide its claims (`criteria.Criterion`), written
into the definition and hashed with it, so a criterion cannot be changed after the data are
in without changing the grid's identity. Restating criteria or deviations does not change
any cell (cells are keyed by their `TrainConfig`), so `restate` rewrites a recorded file's
stored configuration and hash without retraining, and notes the change in its provenance.

Grids: `ci` (short sequences, a few minutes on 2 CPU cores, with its deviations from the
paper listed), `fig7` (the paper's grid with a stated budget), `fig7-cpu` (a reduced one)
and the other tasks at the CI tier (`ci-torder3`, `ci-perm`, `ci-perm20`).
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
import hashlib
import json
import math
import os
import platform
import statistics
import subprocess
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from multiprocessing import get_context
from pathlib import Path
from typing import Any

import torch
from tqdm import tqdm

from .batched import run_batched
from .criteria import TANH, Cells, Criterion
from .init import spectral_radius
from .train import INITS, METHODS, TrainConfig, TrainResult

SCHEMA = "pascanu2013-grid/1"
OUTCOMES = ("success", "fail", "diverged")
ROOT = Path(__file__).resolve().parents[2]
DATA_DIR = ROOT / "docs" / "data" / "pascanu2013"
CHECKPOINT_DIR = ROOT / "reports" / "checkpoints"
CELL_FIELDS = ("init", "method", "length", "seed", "outcome", "updates", "final_error", "config")


class ResultsError(RuntimeError):
    r"""A results file that is unreadable, invalid, or belongs to another grid configuration."""


@dataclass(frozen=True)
class Grid:
    r"""One experiment grid.

    Attributes:
        name: the grid's name (also the results file's stem).
        description: what the grid shows.
        base: every setting but init, method, length and seed (`max_updates` is the budget).
        inits: initialisations (§4.1.1).
        methods: `"MSGD"`, `"MSGD-C"`, `"MSGD-CR"`.
        lengths: training (and test) lengths.
        seeds: seeds per (init, method, length).
        deviations: departures from the paper's protocol, stated with the results.
        criteria: the criteria that decide the grid's claims (registered before it runs).
    """

    name: str
    description: str
    base: TrainConfig
    inits: tuple[str, ...] = INITS
    methods: tuple[str, ...] = METHODS
    lengths: tuple[int, ...] = (50, 100, 150, 200)
    seeds: tuple[int, ...] = (0, 1, 2, 3, 4)
    deviations: tuple[str, ...] = ()
    criteria: tuple[Criterion, ...] = ()

    @property
    def budget(self) -> int:
        r"""Updates per run at most."""
        return self.base.max_updates

    def with_budget(self, budget: int) -> Grid:
        r"""The same grid with another budget (a different configuration: new cell keys)."""
        return dataclasses.replace(self, base=dataclasses.replace(self.base, max_updates=int(budget)))

    def cells(self) -> list[TrainConfig]:
        r"""Every run of the grid, length-major."""
        return [dataclasses.replace(self.base, init=i, method=m, seed=s, min_length=L, max_length=L)
                for L in self.lengths for i in self.inits for m in self.methods for s in self.seeds]

    def groups(self) -> dict[int, list[TrainConfig]]:
        r"""The cells by length: each list trains as one batched model."""
        return {L: [c for c in self.cells() if c.min_length == L] for L in self.lengths}

    def as_dict(self) -> dict[str, Any]:
        r"""The configuration as JSON-ready data."""
        return json.loads(json.dumps(dataclasses.asdict(self)))

    def config_hash(self) -> str:
        r"""Hash of `as_dict()` (16 hex digits)."""
        return hashlib.sha256(json.dumps(self.as_dict(), sort_keys=True).encode()).hexdigest()[:16]


_EVAL = {"eval_size": 10_000, "screen_size": 1_000, "eval_chunk": 1_000, "success_error": 0.01}
_SCREEN = ("the 10,000-sequence success test runs only when a 1,000-sequence pre-test (every "
           "eval_every updates) has under 1% errors; the paper does not say how often it tested")
_XFORM = ("Omega in the paper's x-form (eq. 9: the ratio ||delta_{k+1} dx_{k+1}/dx_k|| / ||delta_{k+1}||, "
          "delta = dE/dx); the released code takes the ratio for the post-activation states h_k, which "
          "puts sigma' on the other side of the ratio")


def _alpha_mean(lengths: str) -> str:
    return (f"alpha = 4 multiplies the released code's mean of Omega over the valid (step, sequence) "
            f"pairs; under the paper's sum over k (eq. 9) the same alpha would be T times stronger "
            f"({lengths} times here)")


_C, _M, _CR = ("MSGD-C",), ("MSGD",), ("MSGD-CR",)
_CI_CRITERIA = (
    Criterion("pascanu2013/clipping-rescues-exploding-runs", "more-successes",
              "§3.2, §4.1.1: clipping deals with exploding gradients, so with the tanh inits MSGD-C "
              "solves more runs than MSGD at the longer lengths 20 and 30 (two-sided Fisher p < 0.05)",
              Cells(_C, TANH, (20, 30)), Cells(_M, TANH, (20, 30))),
    Criterion("pascanu2013/clipping-rescues-exploding-runs", "failures-exploded",
              "§3.1-§3.2 (eq. 7: explosion needs lambda_1 > 1/gamma = 1 for tanh): every failed tanh "
              "MSGD run at lengths 20 and 30 met a gradient norm of at least 10x the clipping threshold, "
              "ends with rho(W_rec) > 1 and an error of at least 0.5 (stuck near chance, not diverged)",
              Cells(_M, TANH, (20, 30))),
    Criterion("pascanu2013/clipping-matters-more-with-length", "gap-grows",
              "§4.1.1: 'As the length of the sequence increases, using clipping becomes more important "
              "to achieve a better success rate': with the tanh inits the gap success(MSGD-C) - "
              "success(MSGD) is larger at length 30 than at length 10",
              Cells(_C), Cells(_M), at=(10, 30)),
    Criterion("pascanu2013/clipping-matters-more-with-length", "more-successes",
              "§4.1.1: without clipping, longer sequences fail more: tanh MSGD solves more runs at "
              "length 10 than at length 30 (two-sided Fisher p < 0.05)",
              Cells(_M, TANH, (10,)), Cells(_M, TANH, (30,))),
)
_FIG7_CPU_CRITERIA = (
    Criterion("pascanu2013/fig7-cpu-clipping-effect", "more-successes",
              "Fig. 7, §4.1.1: at the paper's settings clipping raises the success rate: with the tanh "
              "inits (pooled, lengths 50 and 100) MSGD-C solves more runs than MSGD (two-sided Fisher "
              "p < 0.05)", Cells(_C), Cells(_M)),
    Criterion("pascanu2013/fig7-cpu-omega-effect", "more-successes",
              "Fig. 7, §3.3: Omega counters vanishing gradients: with basic tanh (the init of the "
              "paper's variable-length run) MSGD-CR solves more runs than MSGD-C, lengths 50 and 100 "
              "pooled (two-sided Fisher p < 0.05). Stated after the grid was recorded",
              Cells(_CR, ("basic_tanh",)), Cells(_C, ("basic_tanh",))),
)
_PERM_CRITERIA = (
    Criterion("pascanu2013/permutation-omega-helps", "more-successes",
              "§4.1.2 (random permutation needs a long memory of the first symbol, so vanishing is the "
              "obstacle): with the tanh inits at length 20 MSGD-CR solves more runs than MSGD-C "
              "(two-sided Fisher p < 0.05)", Cells(_CR, TANH, (20,)), Cells(_C, TANH, (20,))),
)
GRIDS: dict[str, Grid] = {g.name: g for g in (
    Grid("ci", "Temporal order at lengths 10-30 with a 10x learning rate: the exploding-gradient "
         "effect of Fig. 7 in a few minutes on 2 CPU cores.",
         TrainConfig(lr=0.1, max_updates=5_000, eval_every=250, **_EVAL), lengths=(10, 15, 20, 30),
         deviations=("learning rate 0.1 (paper: 0.01): at 0.01 these short sequences rarely produce "
                     "a gradient spike that derails MSGD within the budget",
                     "lengths 10, 15, 20, 30 (paper: 50-200)",
                     "budget 5,000 updates per run (paper: up to 5M)", _SCREEN, _XFORM,
                     _alpha_mean("10-30")),
         criteria=_CI_CRITERIA),
    Grid("fig7", "Fig. 7: 3 inits x 3 methods x lengths 50-200 x 5 seeds, paper settings (for a GPU).",
         TrainConfig(lr=0.01, max_updates=100_000, eval_every=100, **_EVAL),
         deviations=("budget 100,000 updates per run (paper: up to 5M)", _SCREEN, _XFORM,
                     _alpha_mean("50-200"))),
    Grid("fig7-cpu", "Reduced Fig. 7, paper settings at lengths 50 and 100: about 40 min on one CPU "
         "core, 25 min with --workers 2.",
         TrainConfig(lr=0.01, max_updates=20_000, eval_every=250, **_EVAL), lengths=(50, 100),
         deviations=("lengths 50 and 100 only (paper: 50-200)",
                     "budget 20,000 updates per run (paper: up to 5M)", _SCREEN, _XFORM,
                     _alpha_mean("50-100")),
         criteria=_FIG7_CPU_CRITERIA),
    Grid("ci-torder3", "3-bit temporal order (8 classes) at the CI tier's settings.",
         TrainConfig(task="torder3", lr=0.1, max_updates=5_000, eval_every=250, **_EVAL),
         lengths=(10, 20), seeds=(0, 1, 2),
         deviations=("learning rate 0.1 (paper: 0.01)", "lengths 10 and 20 (paper: 50-200)",
                     "3 seeds, budget 5,000 updates per run", _SCREEN, _XFORM, _alpha_mean("10-20"))),
    Grid("ci-perm", "Random permutation (100 symbols) at the CI tier's settings.",
         TrainConfig(task="perm", lr=0.1, max_updates=5_000, eval_every=250, **_EVAL),
         lengths=(10, 20), seeds=(0, 1, 2),
         deviations=("learning rate 0.1 (paper: 0.01)", "lengths 10 and 20 (paper: 50-200)",
                     "3 seeds, budget 5,000 updates per run", _SCREEN, _XFORM, _alpha_mean("10-20"))),
    Grid("ci-perm20", "Random permutation at length 20, tanh inits, 10 seeds: the CI tier's settings "
         "with enough runs for an exact test (seeds 0-2 repeat the ci-perm cells).",
         TrainConfig(task="perm", lr=0.1, max_updates=5_000, eval_every=250, **_EVAL),
         inits=TANH, lengths=(20,), seeds=tuple(range(10)),
         deviations=("learning rate 0.1 (paper: 0.01)", "length 20 (paper: 50-200)",
                     "tanh inits only, budget 5,000 updates per run", _SCREEN, _XFORM, _alpha_mean("20")),
         criteria=_PERM_CRITERIA),
)}


def default_path(grid: str) -> Path:
    r"""`docs/data/pascanu2013/<grid>.json` in the repository."""
    return DATA_DIR / f"{grid}.json"


def _git(*args: str) -> str:
    try:
        return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True, timeout=10,
                              check=True).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def _cpu_name() -> str:
    try:
        lines = Path("/proc/cpuinfo").read_text().splitlines()
        return next(ln.split(":", 1)[1].strip() for ln in lines if ln.startswith("model name"))
    except (OSError, StopIteration):
        return platform.processor() or platform.machine()


def provenance(device: str) -> dict[str, Any]:
    r"""Where and with what a session runs on `device`: git commit (and whether the tree was
    dirty), device name, torch and Python versions, platform and CPU threads."""
    name = torch.cuda.get_device_name(torch.device(device)) if device.startswith("cuda") else _cpu_name()
    return {"git_commit": _git("rev-parse", "HEAD"), "git_dirty": bool(_git("status", "--porcelain")),
            "device": f"{device} ({name})", "torch": torch.__version__,
            "python": platform.python_version(), "platform": platform.platform(),
            "threads": torch.get_num_threads()}


def _finite(x: Any) -> Any:
    return None if isinstance(x, float) and not math.isfinite(x) else x


def cell_record(result: TrainResult, session: dict[str, Any]) -> dict[str, Any]:
    r"""The JSON record of one finished run (commit and device copied from `session`)."""
    c = result.config
    step = max(1, math.ceil(len(result.history) / 50))
    history = [{k: _finite(float(f"{v:.6g}")) if isinstance(v, float) else v for k, v in row.items()}
               for row in result.history[::step]]
    rho = spectral_radius(result.params["W_rec"]) if result.params is not None else None
    return {"init": c.init, "method": c.method, "length": c.min_length, "seed": c.seed,
            "outcome": result.outcome, "updates": result.updates, "final_error": result.final_error,
            "max_grad_norm": _finite(result.max_grad_norm), "n_fallback": result.n_fallback,
            "rho_final": _finite(rho), "wall_time_s": round(result.wall_time, 3),
            "git_commit": session["git_commit"], "device": session["device"], "history": history,
            "config": dataclasses.asdict(c)}


def _problem(data: Any) -> str | None:
    """Why `data` is not a valid results file (None if it is)."""
    if not isinstance(data, dict) or data.get("schema") != SCHEMA:
        return f"not a {SCHEMA} file"
    missing = [k for k in ("grid", "config", "config_hash", "provenance", "cells") if k not in data]
    if missing or not isinstance(data["cells"], dict):
        return f"missing or malformed {missing or 'cells'}"
    for key, cell in data["cells"].items():
        try:
            if TrainConfig(**cell["config"]).key() != key or cell["outcome"] not in OUTCOMES or \
                    any(f not in cell for f in CELL_FIELDS):
                raise ValueError
        except (TypeError, ValueError, KeyError):
            return f"cell {key} does not match its config or lacks fields"
    return None


def load_results(path: Path) -> dict[str, Any] | None:
    r"""Read and validate a results file.

    Args:
        path: the JSON file.

    Returns:
        The data, or `None` if the file does not exist.

    Raises:
        ResultsError: naming the file, if it is not valid JSON or not a valid results file.
    """
    path = Path(path)
    if not path.exists():
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        data, why = None, f"unreadable JSON: {exc}"
    else:
        why = _problem(data)
    if why is not None:
        raise ResultsError(f"{path}: corrupted results file ({why}); it was not used or changed. "
                           "Move it away, or pass --force (force=True) to start a new one.")
    return data


def write_results(path: Path, data: dict[str, Any]) -> None:
    r"""Write `data` to `path` atomically: a temporary file in the same folder, then `os.replace`."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(data, f, indent=1, allow_nan=False)
            f.write("\n")
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def _worker(configs: list[TrainConfig], device: str, checkpoint: Path, threads: int) -> list[TrainResult]:
    torch.set_num_threads(threads)
    return run_batched(configs, device, checkpoint=checkpoint)


def _resume_configs(ckpt: Path, todo: list[TrainConfig], group: list[TrainConfig]) -> list[TrainConfig]:
    """The group's checkpointed runs if they cover the pending ones, else the pending ones."""
    if ckpt.exists():
        by_key = {c.key(): c for c in group}
        try:
            keys = torch.load(ckpt, weights_only=True)["keys"]
        except Exception:  # noqa: BLE001 - an unreadable checkpoint is just not used
            keys = []
        if set(keys) <= set(by_key) and {c.key() for c in todo} <= set(keys):
            return [by_key[k] for k in keys]
        ckpt.unlink()
    return todo


def run_grid(grid: Grid, *, device: str = "cpu", out: Path | None = None, force: bool = False,
             progress: bool = True, workers: int = 1, threads: int | None = None,
             checkpoint_dir: Path | None = None, train: Callable[..., list[TrainResult]] = run_batched,
             log: Callable[[str], None] = tqdm.write) -> dict[str, Any]:
    r"""Train the grid's missing cells (one batched model per length) and record them.

    Args:
        grid: the grid.
        device: torch device for training.
        out: results file (default `default_path(grid.name)`).
        force: replace a corrupted file, or one from another grid configuration (cells whose
            full config matches are still reused).
        progress: tqdm bars.
        workers: lengths trained in parallel processes (CPU; needs `train=run_batched`).
        threads: torch threads per process (default: unchanged).
        checkpoint_dir: per-length checkpoints (default `reports/checkpoints`).
        train: the batched trainer (tests inject a counting one).
        log: where progress lines go.

    Returns:
        The results data, as written.

    Raises:
        ResultsError: for a corrupted or foreign results file without `force`.
    """
    out = Path(out) if out is not None else default_path(grid.name)
    try:
        old = load_results(out)
    except ResultsError:
        if not force:
            raise
        log(f"{out}: corrupted; starting a new file (--force)")
        old = None
    if old is not None and old["config_hash"] != grid.config_hash() and not force:
        raise ResultsError(f"{out} holds grid {old['grid']!r} with another configuration (hash "
                           f"{old['config_hash']} != {grid.config_hash()}); use another --out, or "
                           "--force to replace it (cells with the same full config are kept)")
    keys = {c.key() for c in grid.cells()}
    data = {"schema": SCHEMA, "grid": grid.name, "config": grid.as_dict(),
            "config_hash": grid.config_hash(),
            "provenance": {"sessions": [], **(old or {}).get("provenance", {})},
            "cells": {k: v for k, v in (old or {}).get("cells", {}).items() if k in keys}}
    todo = {L: [c for c in cfgs if c.key() not in data["cells"]] for L, cfgs in grid.groups().items()}
    todo = {L: cfgs for L, cfgs in todo.items() if cfgs}
    n_todo = sum(map(len, todo.values()))
    log(f"grid {grid.name}: {len(keys)} cells, {len(keys) - n_todo} recorded in {out}, {n_todo} to train "
        f"in {len(todo)} batched group(s) on {device} (budget {grid.budget} updates per run)")
    if not todo:
        return data
    if threads:
        torch.set_num_threads(threads)
    session = {**provenance(device), "started": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds")}
    if workers > 1:
        session.update(workers=workers, threads=threads or 1)
    sessions = data["provenance"]["sessions"] = [*data["provenance"]["sessions"], session]
    start = time.perf_counter()

    def record(result: TrainResult) -> None:
        c = result.config
        data["cells"][c.key()] = cell_record(result, session)
        session["cells_trained"] = session.get("cells_trained", 0) + 1
        session["wall_time_s"] = round(time.perf_counter() - start, 1)
        data["provenance"].update({k: v for k, v in session.items() if k not in ("started", "cells_trained")})
        data["provenance"]["wall_time_s"] = round(sum(s.get("wall_time_s", 0.0) for s in sessions), 1)
        write_results(out, data)
        err = "-" if result.final_error is None else f"{result.final_error:.4f}"
        log(f"  L={c.min_length} {c.init} {c.method} seed {c.seed}: {result.outcome} after "
            f"{result.updates} updates (error {err})")

    ckdir = Path(checkpoint_dir) if checkpoint_dir is not None else CHECKPOINT_DIR / grid.name
    plans = {L: _resume_configs(ckdir / f"L{L}.pt", cfgs, grid.groups()[L]) for L, cfgs in todo.items()}
    if workers > 1:
        with ProcessPoolExecutor(workers, mp_context=get_context("spawn")) as pool:
            futures = {L: pool.submit(_worker, cfgs, device, ckdir / f"L{L}.pt", threads or 1)
                       for L, cfgs in plans.items()}
            for L, fut in futures.items():
                for r in fut.result():
                    record(r)
                (ckdir / f"L{L}.pt").unlink(missing_ok=True)
    else:
        for L, cfgs in plans.items():
            log(f"length {L}: {len(cfgs)} runs as one batched model")
            results = train(cfgs, device, checkpoint=ckdir / f"L{L}.pt", progress=progress,
                            on_finish=lambda k, r: record(r))
            for r in results:  # idempotent: already recorded by on_finish
                if r.config.key() not in data["cells"]:
                    record(r)
            (ckdir / f"L{L}.pt").unlink(missing_ok=True)
    return data


def success_table(data: dict[str, Any]) -> list[dict[str, Any]]:
    r"""Success rate per (init, method, length), as rows of data for the docs.

    Args:
        data: a results file's data (`load_results`).

    Returns:
        Rows with `init`, `method`, `length`, `runs`, `success`, `fail`, `diverged`, `rate` and
        `median_updates` (of the successful runs, `None` if there are none), in grid order.
    """
    groups: dict[tuple[str, str, int], list[dict[str, Any]]] = {}
    for cell in data["cells"].values():
        groups.setdefault((cell["init"], cell["method"], cell["length"]), []).append(cell)
    cfg = data["config"]
    order = {"init": list(cfg["inits"]), "method": list(cfg["methods"])}
    rows = []
    for (init, method, length), cells in sorted(groups.items(), key=lambda kv: (
            order["init"].index(kv[0][0]), order["method"].index(kv[0][1]), kv[0][2])):
        counts = {o: sum(c["outcome"] == o for c in cells) for o in OUTCOMES}
        wins = sorted(c["updates"] for c in cells if c["outcome"] == "success")
        rows.append({"init": init, "method": method, "length": length, "runs": len(cells), **counts,
                     "rate": counts["success"] / len(cells),
                     "median_updates": statistics.median(wins) if wins else None})
    return rows


def markdown_table(data: dict[str, Any]) -> str:
    r"""A Markdown table: one row per (init, method), one column per length, `successes/runs`.

    Args:
        data: a results file's data.
    """
    rows = success_table(data)
    lengths = sorted({r["length"] for r in rows})
    cells = {(r["init"], r["method"], r["length"]): f"{r['success']}/{r['runs']}" for r in rows}
    lines = ["| init | method | " + " | ".join(f"T={L}" for L in lengths) + " |",
             "|---|---|" + "---|" * len(lengths)]
    for init, method in dict.fromkeys((r["init"], r["method"]) for r in rows):
        lines.append(f"| {init} | {method} | " + " | ".join(cells.get((init, method, L), "-")
                                                          for L in lengths) + " |")
    return "\n".join(lines)


__all__ = ["GRIDS", "OUTCOMES", "SCHEMA", "Grid", "ResultsError", "cell_record", "default_path",
           "load_results", "markdown_table", "provenance", "run_grid", "success_table", "write_results"]
