"""Record Table 1 on the Bach chorales: `python scripts/table1_bach.py [--workers 2] [--force]`.

Trains the missing runs of a `notes_code.pascanu2013.table1` grid (default `table1-bach`) and writes
each to docs/data/pascanu2013/<grid>.json as it finishes (resumable). Needs music21 (the `music`
extra); the chorales are converted once and cached under .cache/chorales/.
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from notes_code.common.chorales import MissingMusic21, load_chorales  # noqa: E402
from notes_code.common.results import ResultsError  # noqa: E402
from notes_code.common.runguard import LockedError, UsageError  # noqa: E402
from notes_code.pascanu2013.table1_grids import GRIDS  # noqa: E402
from notes_code.pascanu2013.table1_runs import run_grid  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--grid", default="table1-bach", choices=sorted(GRIDS))
    ap.add_argument("--workers", type=int, default=1, help="runs in parallel processes")
    ap.add_argument("--threads", type=int, default=1, help="torch threads per run")
    ap.add_argument("--out", type=Path, default=None, help="results file (default docs/data/pascanu2013/)")
    ap.add_argument("--force", action="store_true", help="replace a corrupted or foreign results file")
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    try:
        data = load_chorales()
        run_grid(GRIDS[args.grid], data=data, out=args.out, force=args.force, workers=args.workers,
                 threads=args.threads, log=lambda s: print(s, flush=True))
    except (MissingMusic21, ResultsError, UsageError, LockedError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
