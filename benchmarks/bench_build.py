"""Build and live-reload times as the knowledge base grows (issue #12), as ratios of one run.

On a temporary copy of this project (the real KB: 2 notes) and on a fixture KB of 20
notes (the two real notes copied 9 more times each, claim ids and their tests renamed
so every id stays unique), it measures:

* ``cold / off``: a strict build with an empty execution cache over the same build
  with execution off (``NOTES_EXEC=off``);
* ``warm / off``: the same build again, every block reused from the cache (target <= 1.2).
  The execution-off and warm builds alternate ``--repeat`` times (default 2) and the ratio
  is of the fastest of each (a shared machine only ever adds time); every pair's ratio is
  printed too, as the spread;
* the prose-edit latency of ``mkdocs serve --dirty`` (what ``make serve`` runs): append a
  sentence to ``docs/concepts/bptt.md``, poll the served page until it shows it; median
  of 5 edits (target <= 2 s), at 2 notes and at 20 notes (target: 20-note <= 1.5x 2-note).
  The 20-note server runs with execution off unless ``NOTES_BENCH_FULL=1``: a prose edit
  re-runs no block either way, and a cold start would execute every copy's blocks.
  After the edits the served search index is checked: every edit's sentence is in it
  exactly once and no entry is doubled (a dirty rebuild re-indexes only what it rendered);
* with ``NOTES_BENCH_MAKE_TEST=1`` (``make bench-full``), the time of ``make test``.

Usage: ``python benchmarks/bench_build.py [--edits N] [--port P] [--project DIR --plain-serve]``
(``--project`` times the prose edit of another checkout, e.g. the code before this change,
with its own ``mkdocs serve`` command when ``--plain-serve``). Results go to
``reports/bench_build.json``; the machine is shared, so read the ratios, not the seconds.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MKDOCS = [sys.executable, "-m", "mkdocs"]
COPY = ("docs", "notes_code", "tests", "scripts", "mkdocs.yml", "references.yaml", "pyproject.toml",
        "reports/claims.json")
EDIT_PAGE = "docs/concepts/bptt.md"
EDIT_URL = "concepts/bptt.html"  # the offline plugin turns directory URLs off


def env(project: Path, **extra: str) -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(project), "NO_MKDOCS_2_WARNING": "1",
            "DISABLE_MKDOCS_2_WARNING": "true", "PYTHONDONTWRITEBYTECODE": "1",
            # a loaded machine can be 10x slower than usual: time blocks, don't fail them
            "NOTES_EXEC_TIMEOUT": os.environ.get("NOTES_EXEC_TIMEOUT", "900"), **extra}


def copy_project(dest: Path) -> Path:
    """A copy of this checkout's sources (no site, cache or venv)."""
    for rel in COPY:
        src = ROOT / rel
        if src.is_dir():
            shutil.copytree(src, dest / rel, ignore=shutil.ignore_patterns("__pycache__"))
        elif src.is_file():
            (dest / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dest / rel)
    return dest


def grow(project: Path, n_notes: int) -> list[str]:
    """Copy the real notes (and their tests, ids renamed) until there are ``n_notes``."""
    papers = sorted(p.name for p in (project / "docs" / "papers").iterdir() if (p / "index.md").is_file())
    made, k = [], 0
    while len(papers) + len(made) < n_notes:
        src = papers[k % len(papers)]
        slug = f"{src}x{k // len(papers) + 1:02d}"
        k += 1
        rename = re.compile(rf"(['\"]){src}/")
        shutil.copytree(project / "docs" / "papers" / src, project / "docs" / "papers" / slug)
        for md in (project / "docs" / "papers" / slug).rglob("*.md"):
            md.write_text(rename.sub(rf"\g<1>{slug}/", md.read_text(encoding="utf-8")), encoding="utf-8")
        if (project / "tests" / src).is_dir():
            shutil.copytree(project / "tests" / src, project / "tests" / slug,
                            ignore=shutil.ignore_patterns("__pycache__"))
            for py in (project / "tests" / slug).rglob("*.py"):
                py.write_text(rename.sub(rf"\g<1>{slug}/", py.read_text(encoding="utf-8")),
                              encoding="utf-8")
        # tests of the note's claims that live elsewhere (tests/common/ tests shared code)
        for py in sorted((project / "tests").rglob("test_*.py")):
            top = py.relative_to(project / "tests").parts[0]
            text = py.read_text(encoding="utf-8")
            marks = re.search(rf"mark\.claim\([^)]*['\"]{src}/", text)
            if top not in papers and top not in made and top != slug and marks:
                (project / "tests" / slug).mkdir(exist_ok=True)
                (project / "tests" / slug / "__init__.py").touch()
                (project / "tests" / slug / f"test_{top}_{py.stem[5:]}.py").write_text(
                    rename.sub(rf"\g<1>{slug}/", text), encoding="utf-8")
        made.append(slug)
    return made


def build(project: Path, site: Path, **extra: str) -> float:
    start = time.perf_counter()
    proc = subprocess.run([*MKDOCS, "build", "--strict", "-q", "-d", str(site)], cwd=project,
                          env=env(project, **extra), capture_output=True, text=True, timeout=3600)
    if proc.returncode != 0:
        raise SystemExit(f"build failed in {project}:\n{proc.stderr[-3000:]}")
    return time.perf_counter() - start


def _get(url: str) -> str:
    try:
        with urllib.request.urlopen(url, timeout=5) as r:
            return r.read().decode("utf-8", "replace")
    except OSError:
        return ""


def measure_edits(url: str, page: Path, edits: int, alive=lambda: True) -> list[float]:
    """Append a sentence to ``page`` ``edits`` times; seconds until ``url`` serves each one."""
    times = []
    for i in range(edits):
        time.sleep(1.5)  # let the watcher settle between edits
        marker = f"벤치마크 문장 {i} {time.time_ns()}"
        text = page.read_text(encoding="utf-8")
        t0 = time.perf_counter()
        page.write_text(text + f"\n\n{marker}.\n", encoding="utf-8")
        while marker not in _get(url):
            if not alive() or time.perf_counter() - t0 > 600:
                raise SystemExit(f"edit {i} never showed up at {url}")
            time.sleep(0.05)
        times.append(time.perf_counter() - t0)
    return times


def check_search(url: str, added: str) -> str:
    """``"ok"`` when the served search index has each added sentence once and no doubled entry."""
    markers = re.findall(r"벤치마크 문장 \d+ \d+", added)
    deadline = time.perf_counter() + 30  # the index is written at the end of the rebuild
    while True:
        try:
            data = json.loads(_get(url) or "{}")
        except ValueError:
            data = {}
        docs = data.get("docs", [])
        text = "\n".join(d.get("text", "") for d in docs)
        counts = [text.count(m) for m in markers]
        locations = [d["location"] for d in docs]
        doubled = len(locations) - len(set(locations))
        if docs and all(c == 1 for c in counts) and not doubled:
            return "ok"
        if time.perf_counter() > deadline:
            return f"FAILED: sentence counts {counts}, {doubled} doubled entries of {len(docs)}"
        time.sleep(0.5)


def edit_latency(project: Path, port: int, edits: int, plain: bool = False, **extra: str) -> dict:
    """Start ``mkdocs serve`` (``--dirty`` unless ``plain``) on ``project`` and time prose edits."""
    cmd = [*MKDOCS, "serve", "--strict", "--dev-addr", f"127.0.0.1:{port}"]
    if not plain:
        cmd.append("--dirty")
    log = open(project / f"serve-{port}.log", "w")  # noqa: SIM115
    proc = subprocess.Popen(cmd, cwd=project, env=env(project, **extra), stdout=log,
                            stderr=subprocess.STDOUT, start_new_session=True)
    url = f"http://127.0.0.1:{port}/{EDIT_URL}"
    try:
        start = time.perf_counter()
        while "</html>" not in _get(url):
            if proc.poll() is not None or time.perf_counter() - start > 1800:
                raise SystemExit(f"mkdocs serve did not come up: see {log.name}")
            time.sleep(0.5)
        startup = time.perf_counter() - start
        page = project / EDIT_PAGE
        before = page.read_text(encoding="utf-8")
        times = measure_edits(url, page, edits, alive=lambda: proc.poll() is None)
        search = check_search(f"http://127.0.0.1:{port}/search/search_index.json",
                              page.read_text(encoding="utf-8")[len(before):])
        return {"startup_s": round(startup, 2), "edits_s": [round(t, 2) for t in times],
                "median_s": round(statistics.median(times), 2), "search_index": search}
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(timeout=30)
        log.close()


def provenance() -> dict:
    """Where and when: commit, versions, CPUs and the load average (the machine is shared)."""
    import platform

    try:
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True,
                                text=True, timeout=10).stdout.strip() or None
    except OSError:
        commit = None
    try:
        import torch
        torch_version = torch.__version__
    except ImportError:
        torch_version = None
    return {"benchmark": "bench_build", "time": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "commit": commit,
            "python": platform.python_version(), "torch": torch_version, "cpus": os.cpu_count(),
            "load_average_at_start": os.getloadavg()[0],
            "note": "shared machine: timings are noisy; read the ratios measured in this run"}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--edits", type=int, default=5)
    ap.add_argument("--port", type=int, default=8104)
    ap.add_argument("--notes", type=int, default=20)
    ap.add_argument("--repeat", type=int, default=2, help="execution-off and warm builds, alternated")
    ap.add_argument("--small", action="store_true", help="only the 2-note measurements")
    ap.add_argument("--project", help="time only the prose edit of this checkout")
    ap.add_argument("--plain-serve", action="store_true", help="plain `mkdocs serve` (no --dirty)")
    args = ap.parse_args()
    sys.stdout.reconfigure(line_buffering=True)  # progress shows while the builds run
    if args.project:
        res = edit_latency(Path(args.project).resolve(), args.port, args.edits, plain=args.plain_serve)
        print(json.dumps(res))
        return 0
    out: dict = provenance()
    with tempfile.TemporaryDirectory(prefix="bench-build-") as tmp:
        two = copy_project(Path(tmp) / "kb2")
        site = Path(tmp) / "site"
        offs = [build(two, site, NOTES_EXEC="off")]
        cold = build(two, site, NOTES_EXEC_CACHE="on")
        warms = [build(two, site, NOTES_EXEC_CACHE="on")]
        for _ in range(args.repeat - 1):
            offs.append(build(two, site, NOTES_EXEC="off"))
            warms.append(build(two, site, NOTES_EXEC_CACHE="on"))
        off, warm = min(offs), min(warms)
        pairs = [round(w / o, 2) for o, w in zip(offs, warms, strict=True)]
        out["kb2"] = {"off_s": [round(t, 1) for t in offs], "cold_s": round(cold, 1),
                      "warm_s": [round(t, 1) for t in warms], "warm_over_off_pairs": pairs}
        print(f"2 notes: execution off {off:.1f} s (of {out['kb2']['off_s']}), cold {cold:.1f} s, "
              f"warm (cache) {warm:.1f} s (of {out['kb2']['warm_s']}); load {os.getloadavg()[0]:.1f}")
        print(f"  cold / off = {cold / off:.2f}")
        print(f"  warm / off = {warm / off:.2f}   (target <= 1.2; pairs {pairs})")
        e2 = edit_latency(two, args.port, args.edits)
        print(f"  prose edit with make serve: median {e2['median_s']} s of {e2['edits_s']} "
              f"(target <= 2 s; server start {e2['startup_s']} s); search index {e2['search_index']}")

        if args.small:
            out.update({"ratios": {"cold_over_off": round(cold / off, 3),
                                   "warm_over_off": round(warm / off, 3)}, "edit_2_notes": e2})
            out["load_average_at_end"] = os.getloadavg()[0]
            print(json.dumps(out))
            return 0
        many = copy_project(Path(tmp) / f"kb{args.notes}")
        grow(many, args.notes)
        full = os.environ.get("NOTES_BENCH_FULL") == "1"
        off_many = build(many, site, NOTES_EXEC="off")
        print(f"{args.notes} notes: execution off {off_many:.1f} s ({off_many / off:.2f}x the 2-note build)")
        e20 = edit_latency(many, args.port, args.edits, **({} if full else {"NOTES_EXEC": "off"}))
        ratio = e20["median_s"] / e2["median_s"]
        print(f"  prose edit with make serve: median {e20['median_s']} s of {e20['edits_s']} "
              f"(server start {e20['startup_s']} s{'' if full else ', execution off'}); "
              f"search index {e20['search_index']}")
        print(f"  prose edit, {args.notes} notes / 2 notes = {ratio:.2f}   (target <= 1.5)")
        out.update({"ratios": {"cold_over_off": round(cold / off, 3), "warm_over_off": round(warm / off, 3),
                               "edit_many_over_two": round(ratio, 3)},
                    "edit_2_notes": e2, f"edit_{args.notes}_notes": e20,
                    f"kb{args.notes}": {"off_s": round(off_many, 1), "execution_on": full}})
    if os.environ.get("NOTES_BENCH_MAKE_TEST") == "1":
        start = time.perf_counter()
        rc = subprocess.call(["make", "test"], cwd=ROOT)
        out["make_test_s"] = round(time.perf_counter() - start, 1)
        print(f"make test (warm environment): {out['make_test_s']} s, exit {rc}")
    out["load_average_at_end"] = os.getloadavg()[0]
    (ROOT / "reports").mkdir(exist_ok=True)
    (ROOT / "reports" / "bench_build.json").write_text(json.dumps(out, indent=1) + "\n")
    checks = [v["search_index"] for k, v in out.items() if k.startswith("edit_")]
    return 0 if all(c == "ok" for c in checks) else 1


if __name__ == "__main__":
    raise SystemExit(main())
