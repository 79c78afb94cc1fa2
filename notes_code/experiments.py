r"""Command line for the recorded experiments (`python -m notes_code.experiments`).

```text
python -m notes_code.experiments list
python -m notes_code.experiments show <grid> [--out PATH]
python -m notes_code.experiments run <grid> [--budget N] [--device cpu|cuda] [--out PATH]
                                            [--workers W] [--threads T] [--force] [--no-progress]
python -m notes_code.experiments restate <grid> --reason TEXT [--out PATH]
```

`restate` stores the grid's current definition (description, deviations, criteria) and hash
in its recorded file without retraining; it refuses when the cells themselves would change.

`run` trains the cells of the grid that its results file (default
`docs/data/pascanu2013/<grid>.json`) does not hold yet, one batched model per length, and
records every run as it finishes. Interrupt it at any time (Ctrl-C) and run the same command
again: finished cells are reused and unfinished lengths resume from their checkpoints
(`reports/checkpoints/<grid>/`). `--budget` changes the grid's configuration, so its cells
are new (and the file needs `--out` or `--force`). The grids are defined in
`notes_code.pascanu2013.experiments`.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from notes_code.pascanu2013.experiments import (
    GRIDS,
    ResultsError,
    default_path,
    load_results,
    markdown_table,
    restate,
    run_grid,
)


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m notes_code.experiments",
                                description="Run and inspect the recorded experiment grids.")
    sub = p.add_subparsers(dest="command", required=True)
    sub.add_parser("list", help="list the grids")
    show = sub.add_parser("show", help="print a grid's configuration and recorded success rates")
    show.add_argument("grid", choices=sorted(GRIDS))
    show.add_argument("--out", type=Path, help="results file (default docs/data/pascanu2013/<grid>.json)")
    rst = sub.add_parser("restate", help="store a restated grid definition (criteria, deviations) "
                         "in its results file without retraining")
    rst.add_argument("grid", choices=sorted(GRIDS))
    rst.add_argument("--reason", required=True, help="why the definition was restated")
    rst.add_argument("--out", type=Path, help="results file (default docs/data/pascanu2013/<grid>.json)")
    run = sub.add_parser("run", help="train the missing cells of a grid")
    run.add_argument("grid", choices=sorted(GRIDS))
    run.add_argument("--budget", type=int, help="updates per run (default: the grid's)")
    run.add_argument("--device", default="cpu", help="torch device, e.g. cpu or cuda (default cpu)")
    run.add_argument("--out", type=Path, help="results file (default docs/data/pascanu2013/<grid>.json)")
    run.add_argument("--workers", type=int, default=1, help="lengths trained in parallel processes")
    run.add_argument("--threads", type=int, help="torch threads per process")
    run.add_argument("--force", action="store_true",
                     help="replace a corrupted results file or one from another configuration")
    run.add_argument("--no-progress", action="store_true", help="no progress bars")
    return p


def main(argv: list[str] | None = None) -> int:
    r"""Entry point.

    Args:
        argv: arguments (default `sys.argv[1:]`).

    Returns:
        The exit status: 0, 2 for a bad results file, 130 when interrupted.
    """
    args = _parser().parse_args(argv)
    if args.command == "list":
        for name, grid in GRIDS.items():
            n = len(grid.cells())
            print(f"{name:9s} {n:4d} runs, budget {grid.budget:>9,d} updates: {grid.description}")
        return 0
    grid = GRIDS[args.grid]
    if args.command == "show":
        print(json.dumps(grid.as_dict(), indent=1))
        out = args.out or default_path(grid.name)
        try:
            data = load_results(out)
        except ResultsError as exc:
            print(exc, file=sys.stderr)
            return 2
        if data is None:
            print(f"no results yet ({out})")
        else:
            prov = data["provenance"]
            print(f"\n{out}: {len(data['cells'])} cells; commit {prov.get('git_commit')}, "
                  f"{prov.get('device')}, torch {prov.get('torch')}, {prov.get('wall_time_s')} s")
            print(markdown_table(data))
        return 0
    if args.command == "restate":
        try:
            data = restate(grid, args.out, reason=args.reason)
        except ResultsError as exc:
            print(exc, file=sys.stderr)
            return 2
        print(f"{args.out or default_path(grid.name)}: config hash {data['config_hash']}")
        return 0
    if args.budget is not None:
        grid = grid.with_budget(args.budget)
    try:
        data = run_grid(grid, device=args.device, out=args.out, force=args.force,
                        progress=not args.no_progress, workers=args.workers, threads=args.threads)
    except ResultsError as exc:
        print(exc, file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("\ninterrupted: finished cells are recorded; run the same command again to resume",
              file=sys.stderr)
        return 130
    print(markdown_table(data))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
