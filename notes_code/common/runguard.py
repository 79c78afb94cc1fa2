r"""# Guards of a grid run: its arguments, checked before anything runs, and one writer per file

A grid run is hours of training whose only product is one results file, so two things are
settled before the first update:

* **The arguments.** `check_run_args` rejects a budget $\le 0$, a device that is not `cpu` or
  `cuda[:i]` (or `cuda` where torch sees no GPU, or an index past the last GPU), workers or
  threads $< 1$ and an `out` path that is a directory, with a `UsageError` that says which
  argument and why. Nothing is written before the check.
* **One writer.** Two runners on the same results file would each rewrite it from their own
  copy of the cells, and the later write would drop the other's cells. `results_lock(out)`
  holds a `filelock.FileLock` on `<out>.lock` for the whole run; the holder's pid, host, start
  time and command line go into the side file `<out>.lock.holder` (JSON). A second runner
  fails at once (no waiting) with a `LockedError` that names the holder. The lock is the
  kernel's (`flock`), so a runner that dies releases it: there is no stale lock to clear. On release the side
  file and the lock file are removed (filelock 4 re-checks the inode after `flock`, so
  removing a held lock file cannot let two processes in).
"""

from __future__ import annotations

import datetime as _dt
import json
import os
import socket
import sys
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

import torch
from filelock import FileLock, Timeout


class UsageError(ValueError):
    r"""A runner argument that cannot work (the CLI prints it with the usage line, exit code 2)."""


class LockedError(RuntimeError):
    r"""Another runner holds the results file's lock."""


def check_device(device: str, *, here: bool = True) -> None:
    r"""Raise `UsageError` unless `device` names a usable torch training device.

    Args:
        device: `"cpu"`, `"cuda"` or `"cuda:<index>"`.
        here: the device must exist in this process (`False` for a Ray driver, whose tasks
            run on other machines: only the name is checked).
    """
    try:
        dev = torch.device(device)
    except (RuntimeError, TypeError, ValueError) as exc:
        raise UsageError(f"unknown device {device!r} (use cpu, cuda or cuda:<index>): {exc}") from None
    if dev.type not in ("cpu", "cuda"):
        raise UsageError(f"unknown device {device!r}: the runner trains on cpu or cuda, not {dev.type}")
    if dev.type == "cuda" and here:
        if not torch.cuda.is_available():
            raise UsageError(f"device {device!r}: CUDA is not available here (torch {torch.__version__}"
                             f"{', built without CUDA' if torch.version.cuda is None else ', no GPU found'})")
        if dev.index is not None and dev.index >= torch.cuda.device_count():
            raise UsageError(f"device {device!r}: only {torch.cuda.device_count()} CUDA device(s)")


def check_run_args(*, budget: int, device: str, workers: int = 1, threads: int | None = None,
                   out: Path | None = None, device_here: bool = True) -> None:
    r"""Check a grid run's arguments before anything runs.

    Args:
        budget: updates per run (must be $\ge 1$).
        device: torch device (see `check_device`).
        workers: parallel processes (must be $\ge 1$).
        threads: torch threads per process (`None`: unchanged; else $\ge 1$).
        out: the results file (must not be a directory).
        device_here: whether the device must exist in this process (see `check_device`).

    Raises:
        UsageError: naming the first bad argument.
    """
    if budget < 1:
        raise UsageError(f"budget must be at least 1 update per run, got {budget}")
    if workers < 1:
        raise UsageError(f"workers must be at least 1, got {workers}")
    if threads is not None and threads < 1:
        raise UsageError(f"threads must be at least 1, got {threads}")
    if out is not None and Path(out).is_dir():
        raise UsageError(f"--out {out} is a directory; give the results file's path "
                         f"(e.g. {Path(out) / 'grid.json'})")
    check_device(device, here=device_here)


def holder_path(out: Path) -> Path:
    r"""The side file naming the lock's holder: `<out>.lock.holder`."""
    return Path(f"{out}.lock.holder")


def _holder_text(out: Path) -> str:
    try:
        h = json.loads(holder_path(out).read_text(encoding="utf-8"))
        return (f"pid {h['pid']} on host {h['host']}, started {h['started']} "
                f"({' '.join(map(str, h.get('argv', [])))})")
    except (OSError, ValueError, KeyError, TypeError):
        return "holder unknown (no readable holder file)"


@contextmanager
def results_lock(out: Path, *, now: str | None = None) -> Iterator[Path]:
    r"""Hold the lock of results file `out` for the duration of the block.

    Args:
        out: the results file.
        now: start time written for the holder (default: the current UTC time).

    Yields:
        The lock file's path.

    Raises:
        LockedError: when another process (or another `results_lock` here) holds it; the
            message names the holder and the lock file.
    """
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    path = Path(f"{out}.lock")
    lock = FileLock(str(path), timeout=0, thread_local=False, is_singleton=False)
    try:
        lock.acquire()
    except Timeout:
        raise LockedError(f"{out} is being written by another runner: {_holder_text(out)} (lock {path}). "
                          "Wait for it to finish or stop it, or write to another --out") from None
    try:
        started = now or _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds")
        holder_path(out).write_text(json.dumps({"pid": os.getpid(), "host": socket.gethostname(),
                                                "started": started, "argv": sys.argv}) + "\n",
                                    encoding="utf-8")
        yield path
    finally:
        with suppress(OSError):
            holder_path(out).unlink()
        with suppress(OSError):
            path.unlink()
        lock.release()


__all__ = ["LockedError", "UsageError", "check_device", "check_run_args", "holder_path", "results_lock"]
