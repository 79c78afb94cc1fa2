r"""# Recording Table 1 runs on the chorales: resumable, atomic, with provenance

`run_grid` trains the missing runs of a `table1.Table1Grid` (in parallel processes if asked,
one torch thread each) and writes **one JSON file per grid** after every finished run, through
`common.results.write_results` (temporary file + `os.replace`), so an interrupted grid resumes from
its recorded runs. The file holds the grid's definition and hash (criteria included), the
data's summary and hash (`ChoraleSet.summary`), provenance (git commit and whether the tree
was dirty, CPU, torch and Python versions, threads and workers, wall time per session) and one
record per run keyed by `PolyConfig.key()`.

A file that cannot be read or validated, one recorded under another definition of the grid,
or on other data (another data hash: a different music21 corpus or conversion) raises
`ResultsError` and is neither used nor overwritten without `force`. Arguments are checked
before anything runs (`runguard.check_run_args`), and a second runner on the same file is
locked out (`runguard.results_lock`), as for the synthetic grids.
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
import math
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor, as_completed
from multiprocessing import get_context
from pathlib import Path
from typing import Any

import numpy as np
import torch

from notes_code.common.results import ResultsError, provenance, read_checked, write_results
from notes_code.common.runguard import check_run_args, results_lock
from notes_code.common.runner import DATA_DIR

from ..common.chorales import ChoraleSet, load_chorales
from .polyphonic import PolyConfig, PolyResult, run
from .table1 import Table1Grid, markdown, verdicts

SCHEMA = "pascanu2013-table1/1"


def default_path(grid: str) -> Path:
    r"""`docs/data/pascanu2013/<grid>.json`."""
    return DATA_DIR / f"{grid}.json"


def cell_record(result: PolyResult, session: dict[str, Any]) -> dict[str, Any]:
    r"""The JSON record of one finished run."""
    def clean(x: Any) -> Any:
        if isinstance(x, float):
            return float(f"{x:.6g}") if math.isfinite(x) else None
        return x

    return {"method": result.config.method, "seed": result.config.seed,
            "nll": {f: clean(v) if v is not None else None for f, v in result.nll.items()},
            "diverged": result.diverged, "updates": result.updates, "skipped": result.skipped,
            "wall_time_s": round(result.wall_time, 2), "git_commit": session["git_commit"],
            "history": [{k: clean(v) for k, v in row.items()} for row in result.history],
            "config": dataclasses.asdict(result.config)}


def _problem(data: Any) -> str | None:
    if not isinstance(data, dict) or data.get("schema") != SCHEMA:
        return f"not a {SCHEMA} file"
    missing = [k for k in ("grid", "config", "config_hash", "data", "provenance", "cells") if k not in data]
    if missing or not isinstance(data["cells"], dict):
        return f"missing or malformed {missing or 'cells'}"
    for key, cell in data["cells"].items():
        try:
            ok = PolyConfig(**cell["config"]).key() == key and isinstance(cell["nll"], dict)
            ok = ok and all(f in cell for f in ("method", "seed", "diverged", "history"))
        except (TypeError, ValueError, KeyError):
            ok = False
        if not ok:
            return f"run {key} does not match its config or lacks fields"
    return None


def load_results(path: Path) -> dict[str, Any] | None:
    r"""Read and validate a Table 1 results file (`None` if it does not exist).

    Raises:
        ResultsError: naming the file, if it is not valid JSON or not a valid results file.
    """
    return read_checked(path, _problem)


def _worker(config: PolyConfig, folds: dict[str, list[np.ndarray]], threads: int) -> PolyResult:
    torch.set_num_threads(threads)
    return run(config, folds)


def run_grid(grid: Table1Grid, *, data: ChoraleSet | None = None, out: Path | None = None,
             force: bool = False, workers: int = 1, threads: int = 1,
             log: Callable[[str], None] = print) -> dict[str, Any]:
    r"""Train the grid's missing runs and record each as it finishes.

    Args:
        grid: the grid.
        data: the chorales (default: `load_chorales()`, the whole corpus, cached).
        out: results file (default `default_path(grid.name)`).
        force: replace a corrupted file, or one from another definition or other data.
        workers: runs in parallel processes.
        threads: torch threads per run.
        log: where progress lines go.

    Returns:
        The results data, as written.

    Raises:
        UsageError: workers or threads below 1, or `out` a directory (nothing runs).
        LockedError: another runner is writing `out` (`<out>.lock`, naming the holder).
        ResultsError: a corrupted file, or one from another definition or data, without `force`.
    """
    out = Path(out) if out is not None else default_path(grid.name)
    check_run_args(budget=grid.base.epochs, device="cpu", workers=workers, threads=threads, out=out)
    with results_lock(out):
        return _run_grid(grid, load_chorales() if data is None else data, out, force, workers, threads, log)


def _run_grid(grid: Table1Grid, data: ChoraleSet, out: Path, force: bool, workers: int, threads: int,
              log: Callable[[str], None]) -> dict[str, Any]:
    folds = grid.folds(data)
    summary = {**data.summary(), "per_fold": grid.per_fold,
               "used_per_fold": {f: len(r) for f, r in folds.items()},
               "steps_used": {f: int(sum(len(x) for x in r)) for f, r in folds.items()}}
    try:
        old = load_results(out)
    except ResultsError:
        if not force:
            raise
        old = None
    if old is not None and not force:
        if old["config_hash"] != grid.config_hash():
            raise ResultsError(f"{out}: recorded under another definition of {grid.name} "
                               f"({old['config_hash']} != {grid.config_hash()}); use --force or "
                               "another --out")
        if old["data"].get("data_hash") != summary["data_hash"]:
            raise ResultsError(f"{out}: recorded on other data ({old['data'].get('data_hash')} != "
                               f"{summary['data_hash']}); use --force or another --out")
    keys = {c.key() for c in grid.cells()}
    res = {"schema": SCHEMA, "grid": grid.name, "config": grid.as_dict(), "config_hash": grid.config_hash(),
           "data": summary, "provenance": {"sessions": [], **(old or {}).get("provenance", {})},
           "cells": {k: v for k, v in (old or {}).get("cells", {}).items() if k in keys}}
    todo = [c for c in grid.cells() if c.key() not in res["cells"]]
    log(f"grid {grid.name}: {len(keys)} runs, {len(keys) - len(todo)} recorded in {out}, "
        f"{len(todo)} to train")
    if not todo:
        return res
    torch.set_num_threads(threads)
    session = {**provenance("cpu"), "threads": threads, "workers": workers,
               "started": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds")}
    sessions = res["provenance"]["sessions"] = [*res["provenance"]["sessions"], session]
    start = time.perf_counter()

    def record(r: PolyResult) -> None:
        res["cells"][r.config.key()] = cell_record(r, session)
        session["runs_trained"] = session.get("runs_trained", 0) + 1
        session["wall_time_s"] = round(time.perf_counter() - start, 1)
        res["provenance"].update({k: v for k, v in session.items() if k not in ("started", "runs_trained")})
        res["provenance"]["wall_time_s"] = round(sum(s.get("wall_time_s", 0.0) for s in sessions), 1)
        write_results(out, res)
        log(f"  {r.config.method} seed {r.config.seed}: train {r.nll.get('train')} test "
            f"{r.nll.get('test')} ({r.wall_time:.0f} s)")

    if workers > 1:
        # recorded as each finishes: an interruption loses no run finished before a slower one
        with ProcessPoolExecutor(workers, mp_context=get_context("spawn")) as pool:
            futures = [pool.submit(_worker, c, folds, threads) for c in todo]
            for fut in as_completed(futures):
                record(fut.result())
    else:
        for c in todo:
            record(run(c, folds))
    return res


def claim_report(grid: Table1Grid, claim: str, path: Path | None = None) -> str:
    r"""The registered criteria of one claim and their verdicts on the recorded file (Korean).

    Args:
        grid: the grid.
        claim: the claim id.
        path: the results file (default `default_path(grid.name)`).
    """
    data = load_results(path or default_path(grid.name))
    if data is None:
        return f"- 기록 없음: `{grid.name}` 결과 파일이 아직 없다."
    return markdown(verdicts(grid, data, claim))


__all__ = ["SCHEMA", "cell_record", "claim_report", "default_path", "load_results", "run_grid"]
