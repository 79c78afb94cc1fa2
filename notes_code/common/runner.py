r"""# The grid runner: train a grid's missing cells, record each as it finishes

A grid (`notes_code.pascanu2013.grids`) is the product inits × methods × lengths × seeds on
one task, every other setting coming from a base `TrainConfig`. A cell trains at the fixed
length $L$ (`min_length = max_length = L`).
Runs with the same seed share their initial weights and data across methods, so MSGD,
MSGD-C and MSGD-CR are compared on identical problems. All cells of one length train as
one batched model (`batched.run_batched`).

Results live in one JSON file per grid (`notes_code.common.results`: schema, provenance,
atomic writes, validation), default `docs/data/pascanu2013/<grid>.json`. A cell is written
whenever its run finishes, so an interrupted grid resumes from its recorded cells (and from
the per-length checkpoints). A file that cannot be read or validated is reported and never
used or overwritten without `force`. Groups run in this process, in worker processes
(`workers`, longest first, each recorded as it finishes) or on Ray (`engine`,
`notes_code.common.cluster`); a file has one writer at a time (`runguard.results_lock`).

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

import datetime as _dt
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor, as_completed
from multiprocessing import get_context
from pathlib import Path
from typing import Any

import torch
from tqdm import tqdm

from notes_code.common.batched import run_batched
from notes_code.common.cluster import train_group
from notes_code.common.criteria import markdown, verdicts
from notes_code.common.fastcpu import run_fast
from notes_code.common.generalise import generalisation
from notes_code.common.grid import Grid, cell_length
from notes_code.common.groups import drop_checkpoints, run_group, split
from notes_code.common.results import (
    ROOT,
    SCHEMA,
    ResultsError,
    cell_record,
    git_output,
    load_results,
    provenance,
    write_results,
)
from notes_code.common.runguard import check_run_args, results_lock
from notes_code.common.train import TrainConfig, TrainResult
from notes_code.hochreiter1997.grids import GRIDS as _HOCHREITER_GRIDS
from notes_code.pascanu2013.grids import GRIDS as _PASCANU_GRIDS
from notes_code.pascanu2013.task_grids import GRIDS as _PASCANU_TASK_GRIDS

DATA_DIR = ROOT / "docs" / "data" / "pascanu2013"
CHECKPOINT_DIR = ROOT / "reports" / "checkpoints"
#: every registered grid, by name (each paper registers its own in `notes_code.<paper>.grids`)
GRIDS: dict[str, Grid] = {**_PASCANU_GRIDS, **_PASCANU_TASK_GRIDS, **_HOCHREITER_GRIDS}


class GroupsFailed(RuntimeError):
    r"""Some groups (lengths) of a grid failed; every other group's cells are recorded.

    Attributes:
        failed: the error of each failed length.
    """

    def __init__(self, grid: str, failed: dict[int, BaseException]) -> None:
        self.failed = failed
        what = "; ".join(f"L={L}: {type(e).__name__}: {e}" for L, e in sorted(failed.items()))
        super().__init__(f"grid {grid}: {len(failed)} group(s) failed ({what}); the other groups' cells "
                         "are recorded; run the same command again to resume the failed ones")


def default_path(grid: str | Grid) -> Path:
    r"""`docs/data/<paper>/<name>.json` in the repository, for a grid or a registered grid's name
    (`pascanu2013` for a name not registered)."""
    if isinstance(grid, str):
        grid = GRIDS.get(grid) or grid
    paper, name = (grid.paper, grid.name) if isinstance(grid, Grid) else ("pascanu2013", grid)
    return ROOT / "docs" / "data" / paper / f"{name}.json"


#: the batched trainers a grid can run on: the reference and the CPU engine (same updates)
TRAINERS: dict[str, Callable[..., list[TrainResult]]] = {"batched": run_batched, "fastcpu": run_fast}


def _resume_configs(ckpt: Path, todo: list[TrainConfig], group: list[TrainConfig]) -> list[TrainConfig]:
    """The group's checkpointed batched runs if they cover its pending ones, else the pending
    ones; then the pending LSTM runs (each resumes from its own checkpoint)."""
    (todo, lstm), (group, _) = split(todo), split(group)
    if ckpt.exists():
        by_key = {c.key(): c for c in group}
        try:
            keys = torch.load(ckpt, weights_only=True)["keys"]
        except Exception:  # noqa: BLE001 - an unreadable checkpoint is just not used
            keys = []
        if set(keys) <= set(by_key) and {c.key() for c in todo} <= set(keys):
            return [by_key[k] for k in keys] + lstm
        ckpt.unlink()
    return todo + lstm


def run_grid(grid: Grid, *, device: str = "cpu", out: Path | None = None, force: bool = False,
             progress: bool = True, workers: int = 1, threads: int | None = None,
             checkpoint_dir: Path | None = None, train: Callable[..., list[TrainResult]] = run_batched,
             log: Callable[[str], None] = tqdm.write,
             engine: Callable[..., Any] | None = None) -> dict[str, Any]:
    r"""Train the grid's missing cells (one batched model per length) and record them.

    Args:
        grid: the grid.
        device: torch device for training.
        out: results file (default `default_path(grid)`).
        force: replace a corrupted file, or one from another grid configuration (cells whose
            full config matches are still reused).
        progress: tqdm bars.
        workers: lengths trained in parallel processes (CPU), the longest lengths first.
        threads: torch threads per process (default: unchanged).
        checkpoint_dir: per-length checkpoints (default `reports/checkpoints`).
        train: the batched trainer (tests inject a counting one).
        log: where progress lines go.
        engine: runs the groups elsewhere instead (`notes_code.common.cluster.ray_engine`):
            `engine(plans, device, checkpoint_dir, threads)` yields `(length, results or
            exception)` as groups finish; this process alone records them.

    Returns:
        The results data, as written.

    Raises:
        UsageError: a budget, device, workers, threads or `out` that cannot work (nothing runs).
        LockedError: another runner is writing `out` (`<out>.lock`).
        ResultsError: for a corrupted or foreign results file without `force`.
        GroupsFailed: some groups failed under `engine` (the others are recorded).
    """
    out = Path(out) if out is not None else default_path(grid)
    check_run_args(budget=grid.budget, device=device, workers=workers, threads=threads, out=out,
                   device_here=engine is None)
    with results_lock(out):
        return _run_grid(grid, device, out, force, progress, workers, threads, checkpoint_dir, train,
                         log, engine)


def _run_grid(grid: Grid, device: str, out: Path, force: bool, progress: bool, workers: int,
              threads: int | None, checkpoint_dir: Path | None, train: Callable[..., list[TrainResult]],
              log: Callable[[str], None], engine: Callable[..., Any] | None) -> dict[str, Any]:
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
    if engine is not None and device.startswith("cuda") and not torch.cuda.is_available():
        name = getattr(engine, "name", "engine")
        here = {**provenance("cpu"), "device": f"{device} (on the {name} workers)"}
    else:
        here = provenance(device)
    session = {**here, "started": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds")}
    if workers > 1:
        session.update(workers=workers, threads=threads or 1)
    if engine is not None:
        session.update(engine=getattr(engine, "name", "custom"), threads=threads or 1)
    name = getattr(train, "__name__", type(train).__name__)
    session["trainer"] = f"{getattr(train, '__module__', '?')}.{name}"
    sessions = data["provenance"]["sessions"] = [*data["provenance"]["sessions"], session]
    start = time.perf_counter()

    def record(result: TrainResult) -> None:
        c = result.config
        cell = cell_record(result, session)
        if grid.generalise and result.success:  # the paper tests its successful models
            cell["generalisation"] = generalisation(result, grid.generalise)
        data["cells"][c.key()] = cell
        session["cells_trained"] = session.get("cells_trained", 0) + 1
        session["wall_time_s"] = round(time.perf_counter() - start, 1)
        data["provenance"].update({k: v for k, v in session.items() if k not in ("started", "cells_trained")})
        data["provenance"]["wall_time_s"] = round(sum(s.get("wall_time_s", 0.0) for s in sessions), 1)
        write_results(out, data)
        err = "-" if result.final_error is None else f"{result.final_error:.4f}"
        log(f"  L={cell_length(c)} {c.init} {c.method} seed {c.seed}: {result.outcome} after "
            f"{result.updates} updates (error {err})")

    ckdir = Path(checkpoint_dir) if checkpoint_dir is not None else CHECKPOINT_DIR / grid.name
    plans = {L: _resume_configs(ckdir / f"L{L}.pt", cfgs, grid.groups()[L]) for L, cfgs in todo.items()}
    if engine is not None:
        failed = {}
        for L, res in engine(plans, device, ckdir, threads or 1):
            if isinstance(res, BaseException):
                failed[L] = res
                log(f"length {L}: failed: {type(res).__name__}: {res}")
                continue
            for r in res:
                record(r)
            drop_checkpoints(ckdir / f"L{L}.pt")
        if failed:
            raise GroupsFailed(grid.name, failed)
    elif workers > 1:
        # longest groups first (cost ~ runs x length), recorded as each finishes: the makespan of
        # lengths 50-200 on two workers is then that of the best split, and an interruption
        # loses no finished group
        order = sorted(plans, key=lambda L: len(plans[L]) * L, reverse=True)
        with ProcessPoolExecutor(workers, mp_context=get_context("spawn")) as pool:
            futures = {pool.submit(train_group, plans[L], device, ckdir / f"L{L}.pt", threads or 1, train): L
                       for L in order}
            for fut in as_completed(futures):
                L = futures[fut]
                for r in fut.result():
                    record(r)
                drop_checkpoints(ckdir / f"L{L}.pt")
    else:
        for L, cfgs in plans.items():
            n_rnn, n_lstm = map(len, split(cfgs))
            log(f"length {L}: {n_rnn} runs as one batched model, {n_lstm} LSTM runs one by one")
            results = run_group(cfgs, device, train=train, checkpoint=ckdir / f"L{L}.pt", progress=progress,
                                on_finish=lambda k, r: record(r))
            for r in results:  # idempotent: already recorded by on_finish
                if r.config.key() not in data["cells"]:
                    record(r)
            drop_checkpoints(ckdir / f"L{L}.pt")
    return data


_CELL_DEFINING = ("base", "inits", "methods", "lengths", "seeds")


def restate(grid: Grid, path: Path | None = None, *, reason: str,
            now: Callable[[], str] | None = None) -> dict[str, Any]:
    r"""Store `grid`'s current configuration and hash in a recorded file without retraining.

    Allowed only when what defines the cells (`base`, `inits`, `methods`, `lengths`, `seeds`)
    is unchanged and every recorded cell belongs to the grid, i.e. when only the description,
    the deviations or the criteria were restated. The file's provenance gets a `restated`
    entry (old and new hash, reason, time); the cells are not touched.

    Args:
        grid: the grid as defined now.
        path: the results file (default `default_path(grid)`).
        reason: why the configuration was restated (kept in the file).
        now: clock for the entry (tests).

    Returns:
        The data as written (unchanged if the hash already matches).

    Raises:
        ResultsError: a missing or invalid file, or one whose cells the new definition changes.
        LockedError: a runner is writing the file (`<path>.lock`).
    """
    path = Path(path) if path is not None else default_path(grid)
    if not path.exists():
        raise ResultsError(f"{path}: no results file to restate")
    with results_lock(path):
        return _restate(grid, path, reason, now)


def _restate(grid: Grid, path: Path, reason: str, now: Callable[[], str] | None) -> dict[str, Any]:
    data = load_results(path)
    if data is None:
        raise ResultsError(f"{path}: no results file to restate")
    if data["config_hash"] == grid.config_hash():
        return data
    new = grid.as_dict()
    changed = [k for k in _CELL_DEFINING if data["config"].get(k) != new[k]]
    keys = {c.key() for c in grid.cells()}
    if changed or not set(data["cells"]) <= keys:
        raise ResultsError(f"{path}: the grid's cells changed ({changed or 'unknown cells'}); "
                           "retrain instead of restating")
    stamp = (now or (lambda: _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds")))()
    entry = {"from_hash": data["config_hash"], "to_hash": grid.config_hash(), "reason": reason,
             "time": stamp, "git_commit": git_output("rev-parse", "HEAD")}
    data = {**data, "config": new, "config_hash": grid.config_hash(),
            "provenance": {**data["provenance"],
                           "restated": [*data["provenance"].get("restated", []), entry]}}
    write_results(path, data)
    return data


def claim_report(grid: str, claim: str, path: Path | None = None) -> str:
    r"""The registered criteria of `claim` judged on `grid`'s recorded cells, as Korean Markdown.

    Args:
        grid: the grid's name.
        claim: the claim id.
        path: the results file (default `default_path(grid)`).

    Returns:
        The verdicts, or, while the grid is only partly recorded, one line saying so: a criterion
        over the whole grid judged on some of its cells would read as unmet when it is unjudged.

    Raises:
        ResultsError: a missing file, one recorded under another definition, or no criterion.
    """
    g = GRIDS[grid]
    data = load_results(Path(path) if path is not None else default_path(grid))
    if data is None or data["config_hash"] != g.config_hash():
        raise ResultsError(f"{grid}: no results recorded under the current definition")
    if not any(c.claim == claim for c in g.criteria):
        raise ResultsError(f"{grid} registers no criterion for {claim}")
    n_cells = len(g.cells())
    if len(data["cells"]) < n_cells:
        return (f"- **기록 중** — `{grid}`의 실행 {len(data['cells'])}/{n_cells}개만 기록되어 "
                f"아직 판정하지 않는다 (`make reproduce GRID={grid} TRAINER=fastcpu`가 이어서 학습한다).")
    found = verdicts(g.criteria, list(data["cells"].values()), claim, g.base.clip)
    if not found:
        raise ResultsError(f"{grid} registers no criterion for {claim}")
    return markdown(found)


__all__ = ["CHECKPOINT_DIR", "DATA_DIR", "GRIDS", "TRAINERS", "GroupsFailed", "claim_report", "default_path",
           "restate", "run_grid"]
