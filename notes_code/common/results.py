r"""# The results store: one JSON file per grid, with provenance, written atomically

A grid's results live in **one JSON file** (schema `pascanu2013-grid/1`, the name it was
first recorded under; default `docs/data/<paper>/<grid>.json`): the grid's configuration and
its hash, provenance (git commit, device, torch version, wall time, one entry per session)
and one record per cell, keyed by the hash of the cell's full `TrainConfig` (budget
included): outcome (`success` / `fail` / `diverged`), updates, final error, largest gradient
norm, fallback count, final spectral radius and a thinned history.

* **Atomic writes**: a temporary file in the same folder, `fsync`, then `os.replace`; a reader
  never sees half a file, and an interrupted write leaves the old one.
* **Validation** before use: a file that is not JSON, lacks a field, holds a cell whose key
  is not the hash of its config, or holds a NaN or an infinity anywhere (the message names
  the cell and the field) is a *corrupted file*: reported, never used or overwritten without
  `force`.
* **Views** for the notes: `success_table` and `markdown_table`.

The grid runner (`notes_code.common.runner`) writes these files; every other store of the
knowledge base (Table 1, the LSTM comparison) shares `read_checked` and `write_results`.
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
import platform
import statistics
import subprocess
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch

from notes_code.common.grid import cell_length
from notes_code.common.train import TrainConfig, TrainResult
from notes_code.pascanu2013.init import spectral_radius

SCHEMA = "pascanu2013-grid/1"
OUTCOMES = ("success", "fail", "diverged")
ROOT = Path(__file__).resolve().parents[2]
CELL_FIELDS = ("init", "method", "length", "seed", "outcome", "updates", "final_error", "config")


class ResultsError(RuntimeError):
    r"""A results file that is unreadable, invalid, or belongs to another grid configuration."""



def git_output(*args: str) -> str:
    """`git <args>` in the repository, stripped (`"unknown"` without git or a repository)."""
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
    return {"git_commit": git_output("rev-parse", "HEAD"),
            "git_dirty": bool(git_output("status", "--porcelain")),
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
    W_rec = (result.params or {}).get("W_rec")  # None for an LSTM: it has no W_rec
    rho = spectral_radius(W_rec) if W_rec is not None else None
    return {"init": c.init, "method": c.method, "length": cell_length(c), "seed": c.seed,
            "outcome": result.outcome, "updates": result.updates, "final_error": result.final_error,
            "max_grad_norm": _finite(result.max_grad_norm), "n_fallback": result.n_fallback,
            "rho_final": _finite(rho), "wall_time_s": round(result.wall_time, 3),
            "git_commit": session["git_commit"], "device": session["device"], "history": history,
            "config": dataclasses.asdict(c)}


def _nonfinite(obj: Any, where: str = "") -> str | None:
    """The first place in `obj` holding a NaN or an infinity (None if there is none)."""
    if isinstance(obj, float) and not math.isfinite(obj):
        return f"{where or 'value'} = {obj}"
    items = obj.items() if isinstance(obj, dict) else enumerate(obj) if isinstance(obj, list) else ()
    for k, v in items:
        found = _nonfinite(v, f"{where}[{k}]" if isinstance(k, int) else f"{where}.{k}" if where else k)
        if found:
            return found
    return None


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
        bad = _nonfinite(cell)
        if bad:
            return f"cell {key} has a non-finite value: {bad}"
    return None


def read_checked(path: Path, problem: Callable[[Any], str | None]) -> dict[str, Any] | None:
    r"""Read a JSON results file and validate it with `problem` (the shared half of every store).

    Args:
        path: the JSON file.
        problem: returns why the parsed data is not a valid file of its kind, or `None`.

    Returns:
        The data, or `None` if the file does not exist.

    Raises:
        ResultsError: naming the file, if it is not valid JSON or `problem` finds a fault.
    """
    path = Path(path)
    if not path.exists():
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        data, why = None, f"unreadable JSON: {exc}"
    else:
        why = problem(data)
    if why is not None:
        raise ResultsError(f"{path}: corrupted results file ({why}); it was not used or changed. "
                           "Move it away, or pass --force (force=True) to start a new one.")
    return data


def load_results(path: Path) -> dict[str, Any] | None:
    r"""Read and validate a results file.

    Args:
        path: the JSON file.

    Returns:
        The data, or `None` if the file does not exist.

    Raises:
        ResultsError: naming the file, if it is not valid JSON or not a valid results file.
    """
    return read_checked(path, _problem)


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


def markdown_table(data: dict[str, Any], labels: tuple[str, str] = ("init", "method")) -> str:
    r"""A Markdown table: one row per (init, method), one column per length, `successes/runs`.

    Args:
        data: a results file's data.
        labels: the headers of the first two columns (the notes pass Korean ones).
    """
    rows = success_table(data)
    lengths = sorted({r["length"] for r in rows})
    cells = {(r["init"], r["method"], r["length"]): f"{r['success']}/{r['runs']}" for r in rows}
    lines = [f"| {labels[0]} | {labels[1]} | " + " | ".join(f"T={L}" for L in lengths) + " |",
             "|---|---|" + "---|" * len(lengths)]
    for init, method in dict.fromkeys((r["init"], r["method"]) for r in rows):
        lines.append(f"| {init} | {method} | " + " | ".join(cells.get((init, method, L), "-")
                                                          for L in lengths) + " |")
    return "\n".join(lines)




__all__ = ["CELL_FIELDS", "OUTCOMES", "ROOT", "SCHEMA", "ResultsError", "cell_record", "git_output",
           "load_results", "markdown_table", "provenance", "read_checked", "success_table", "write_results"]
