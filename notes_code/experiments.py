r"""Command line for the recorded experiments (`python -m notes_code.experiments`).

```text
python -m notes_code.experiments list
python -m notes_code.experiments show <grid> [--out PATH]
python -m notes_code.experiments run <grid> [--budget N] [--device cpu|cuda] [--out PATH]
                                            [--workers W] [--threads T] [--force] [--no-progress]
                                            [--trainer batched|fastcpu] [--engine local|ray]
                                            [--address ADDR]
python -m notes_code.experiments plan <grid> [--workers N] [--budget N] [--threads T]
python -m notes_code.experiments restate <grid> --reason TEXT [--out PATH]
```

`--trainer fastcpu` trains with the CPU engine (`notes_code.common.fastcpu`: the same updates
as the reference batched trainer in fewer operations). `--engine ray` sends each length's
batched group to Ray as one task (`notes_code.common.cluster`); this process alone writes the
results file. `plan` prints the grid's size, this machine's training rate measured now at the
grid's lengths, and the estimated wall time here, on one GPU and on a Ray cluster of N workers
(`notes_code.common.plan`). Bad arguments (a budget below 1, an unknown device, `cuda`
without CUDA, workers or threads below 1, `--out` a directory) stop `run` before anything
runs, with exit status 2; so does a results file another runner holds (`<out>.lock`).

`restate` stores the grid's current definition (description, deviations, criteria) and hash
in its recorded file without retraining; it refuses when the cells themselves would change.

`run` trains the cells of the grid that its results file (default
`docs/data/pascanu2013/<grid>.json`) does not hold yet, one batched model per length, and
records every run as it finishes. Interrupt it at any time (Ctrl-C) and run the same command
again: finished cells are reused and unfinished lengths resume from their checkpoints
(`reports/checkpoints/<grid>/`). `--budget` changes the grid's configuration, so its cells
are new (and the file needs `--out` or `--force`). The grids are defined in
`notes_code.pascanu2013.grids`; the runner is `notes_code.common.runner` and the store
`notes_code.common.results`.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from notes_code.common.cluster import ClusterUnavailable, ray_engine, require_ray
from notes_code.common.grid import Grid
from notes_code.common.results import ResultsError, load_results, markdown_table
from notes_code.common.runguard import LockedError, UsageError, check_run_args
from notes_code.common.runner import GRIDS, TRAINERS, GroupsFailed, default_path, restate, run_grid


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
    run.add_argument("--trainer", choices=sorted(TRAINERS), default="batched",
                     help="batched: the reference batched trainer; fastcpu: the CPU engine (the same "
                          "updates in fewer operations)")
    run.add_argument("--engine", choices=("local", "ray"), default="local",
                     help="local processes (default) or one Ray task per length")
    run.add_argument("--address", help="Ray cluster address (with --engine ray; default: a local instance)")
    pl = sub.add_parser("plan", help="print a grid's size, this machine's measured rate and wall-time "
                        "estimates")
    pl.add_argument("grid", choices=sorted(GRIDS))
    pl.add_argument("--workers", type=int, default=4, help="Ray workers of the cluster estimate (default 4)")
    pl.add_argument("--budget", type=int, help="updates per run (default: the grid's)")
    pl.add_argument("--threads", type=int, default=1, help="torch threads while measuring (default 1)")
    p.set_defaults(subparsers={"run": run, "plan": pl})
    return p


def _usage(args: argparse.Namespace, command: str, msg: str) -> int:
    sub = args.subparsers[command]
    sub.print_usage(sys.stderr)
    print(f"{sub.prog}: error: {msg}", file=sys.stderr)
    return 2


def main(argv: list[str] | None = None) -> int:
    r"""Entry point.

    Args:
        argv: arguments (default `sys.argv[1:]`).

    Returns:
        The exit status: 0; 1 when some groups failed (the others are recorded); 2 for bad
        arguments, a bad results file, a results file another runner holds or a missing Ray;
        130 when interrupted.
    """
    parser = _parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse's own usage errors (2) and --help (0)
        return exc.code if isinstance(exc.code, int) else 2
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
        except (ResultsError, LockedError) as exc:
            print(exc, file=sys.stderr)
            return 2
        print(f"{args.out or default_path(grid.name)}: config hash {data['config_hash']}")
        return 0
    if args.command == "plan":
        return _plan(grid, args)
    try:  # every argument is checked before anything runs or is written
        if args.budget is not None and args.budget < 1:
            raise UsageError(f"budget must be at least 1 update per run, got {args.budget}")
        check_run_args(budget=args.budget or grid.budget, device=args.device, workers=args.workers,
                       threads=args.threads, out=args.out, device_here=args.engine != "ray")
        if args.engine != "ray" and args.address:
            raise UsageError("--address needs --engine ray")
        if args.engine == "ray" and args.workers != 1:
            raise UsageError("--workers is for the local engine; Ray places one task per length on the "
                             "cluster (use --threads for each task's threads)")
    except UsageError as exc:
        return _usage(args, "run", str(exc))
    engine = None
    if args.engine == "ray":
        try:
            require_ray()
        except ClusterUnavailable as exc:
            print(exc, file=sys.stderr)
            return 2
        engine = ray_engine(args.address, train=TRAINERS[args.trainer])
    if args.budget is not None:
        grid = grid.with_budget(args.budget)
    try:
        data = run_grid(grid, device=args.device, out=args.out, force=args.force,
                        progress=not args.no_progress, workers=args.workers, threads=args.threads,
                        engine=engine, train=TRAINERS[args.trainer])
    except (ResultsError, LockedError, UsageError, ClusterUnavailable) as exc:
        print(exc, file=sys.stderr)
        return 2
    except GroupsFailed as exc:
        print(exc, file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("\ninterrupted: finished cells are recorded; run the same command again to resume",
              file=sys.stderr)
        return 130
    print(markdown_table(data))
    return 0


def _plan(grid: Grid, args: argparse.Namespace) -> int:
    from notes_code.common.plan import plan

    for name in ("workers", "threads", "budget"):
        value = getattr(args, name)
        if value is not None and value < 1:
            return _usage(args, "plan", f"{name} must be at least 1, got {value}")
    if args.budget is not None:
        grid = grid.with_budget(args.budget)
    try:
        result = plan(grid, workers=args.workers, threads=args.threads)
    except ValueError as exc:  # a grid plan cannot measure (LSTM cells)
        return _usage(args, "plan", str(exc))
    print("\n".join(result.lines()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
