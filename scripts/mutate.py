"""Mutation testing of the modules that claims check (mutmut 3.8), recorded per paper.

    python scripts/mutate.py run [--modules clipping,common.train] [--max-children 2]
    python scripts/mutate.py run --modules batched --survivors-only   # after adding tests
    python scripts/mutate.py check [--budget 240] [--write] [--require-all]
    python scripts/mutate.py equivalent clipping x_grad_norm__mutmut_9 "one-line reason"

``run`` tests each module on its own: it copies the checkout into
``mutants/<paper>.<module>/`` (git-ignored), writes there a ``[tool.mutmut]`` section
that mutates only that module and selects only its own test file plus the tests of the
claims that declare the module (``modules=``), runs ``mutmut run`` and merges the result
into ``docs/data/<paper>/mutation.json`` (other modules' entries are kept). The pytest
plugin ``notes_code.kb.mutation_recorder`` records which tests fail on each mutant, so
a claim's box can say how many mutants *its own* tests kill. ``run --survivors-only``
re-runs just the mutants a module's record lists as survivors (for a module whose source is
unchanged and whose tests were only added to since its record) and merges them into it.

``check`` is the CI check (``make test``): a module whose source or own test file
changed since its record (content hash) is stale; stale modules are re-run, cheapest
first by their recorded wall time, while the budget lasts. It fails when a module it
re-runs kills fewer mutants than its committed record (a regression). With ``--target``
(``make mutate-check``) it also fails when a module scores below 90% of its
non-equivalent mutants (killed by its own tests), when a stale module could not be
re-run within the budget, or when a core module was never recorded; without it those
are printed as ``BELOW TARGET``. ``--write`` merges re-runs into the committed records.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

from filelock import FileLock

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from notes_code.kb import claims as kb_claims  # noqa: E402
from notes_code.kb import mutation as kb  # noqa: E402
from notes_code.kb.mutation_recorder import FAILURES_DIR  # noqa: E402
from notes_code.kb.pytest_claims import write_atomic  # noqa: E402

# Claim tests in these files retrain models for tens of seconds; running them on every
# mutant would take hours on 2 cores, so they are not part of mutation runs (their
# claims' boxes say "not measured" for the modules they declare).
SLOW_TEST_FILES = ("tests/pascanu2013/test_grids.py", "tests/common/test_runner.py",
                   "tests/common/test_results.py", "tests/hochreiter1997/test_grids.py")
WORK = ROOT / "mutants"


def resolve(names: list[str]) -> list[str]:
    """Module names as given (``clipping`` or ``pascanu2013.clipping``) → full core names."""
    core = kb.core_modules()
    out = []
    for name in names:
        hits = [m for m in core if m == name or m.split(".", 1)[1] == name]
        if len(hits) != 1:
            raise SystemExit(f"unknown or ambiguous module {name!r}; core modules: {', '.join(core)}")
        out.append(hits[0])
    return list(dict.fromkeys(out))


def selection(module: str) -> list[str]:
    """Own test file of ``module`` plus the tests of claims that declare it (not the slow files)."""
    index = kb_claims.build_index(ROOT)
    sel = [kb.module_test_file(module)]
    for refs in index.tests.values():
        for ref in refs:
            file = ref.nodeid.split("::")[0]
            if module in ref.modules and file != sel[0] and file not in SLOW_TEST_FILES:
                sel.append(ref.nodeid)
    return list(dict.fromkeys(sel))


def _git(*args: str) -> str:
    out = subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True, timeout=30)
    return out.stdout.strip() if out.returncode == 0 else ""


def _copy_tree(dest: Path) -> None:
    if dest.exists():
        shutil.rmtree(dest)
    files = _git("ls-files", "-co", "--exclude-standard", "-z").split("\0")
    for rel in filter(None, files):
        src = ROOT / rel
        if src.is_file() and not rel.startswith("mutants/"):
            (dest / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dest / rel)


def _mutmut_section(module: str, tests: list[str]) -> str:
    paper, name = kb.split_module(module)
    q = json.dumps
    return "\n".join([
        "[tool.mutmut]",
        'source_paths = ["notes_code"]',
        f"only_mutate = [{q(f'notes_code/{paper}/{name}.py')}]",
        f"pytest_add_cli_args_test_selection = {q(tests)}",
        'pytest_add_cli_args = ["--maxfail=0", "--no-claims-report", "-p", '
        '"notes_code.kb.mutation_recorder", "-p", "no:cacheprovider"]',
        'also_copy = ["docs", "references.yaml", "mkdocs.yml", "scripts"]',
        # mutmut's timeout is wall-clock ((estimate + 1) * multiplier * 2 s): on a loaded 2-core
        # machine the default multiplier (15) stopped ordinary failing runs and called them timeouts
        "timeout_multiplier = 60.0",
        "",
    ])


def _with_section(pyproject: str, section: str) -> str:
    lines = pyproject.split("\n")
    out, skip = [], False
    for line in lines:
        if line.strip() == "[tool.mutmut]":
            skip = True
            continue
        if skip and line.startswith("["):
            skip = False
        if not skip:
            out.append(line)
    return "\n".join(out).rstrip() + "\n\n" + section


class ModuleTimeout(RuntimeError):
    """mutmut ran past the time allowed for one module."""


def run_module(module: str, max_children: int, timeout: float | None = None,
               only: list[str] | None = None) -> dict:
    """Run mutmut on one module in its own copy; return the module's record entry.

    ``only``: run just these mutants (keys as recorded, e.g. ``x_clip__mutmut_3``); the others
    come back as "not checked" (see ``rerun_survivors``).
    """
    paper, name = kb.split_module(module)
    work = WORK / module
    _copy_tree(work)
    tests = selection(module)
    pyproject = work / "pyproject.toml"
    pyproject.write_text(_with_section(pyproject.read_text(encoding="utf-8"), _mutmut_section(module, tests)),
                         encoding="utf-8")
    # One intra-op thread: mutmut forks a worker per mutant from a process that has run torch,
    # and a forked child that enters an OpenMP/MKL thread pool can deadlock (it then looks like
    # a timeout, which mutmut counts as killed). Also fairer on a shared 2-core machine.
    env = dict(os.environ, PYTHONPATH=str(work), PYTHONDONTWRITEBYTECODE="1", OMP_NUM_THREADS="1",
               MKL_NUM_THREADS="1")
    mutmut = Path(sys.executable).with_name("mutmut")
    start = time.monotonic()
    log = work / "mutmut.log"
    with log.open("w", encoding="utf-8") as out:
        # its own process group, so that a timeout also stops mutmut's forked workers
        names = [f"notes_code.{paper}.{name}.{key}" for key in only or []]
        proc = subprocess.Popen([str(mutmut), "run", "--max-children", str(max_children), *names], cwd=work,
                                env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
        try:
            code = proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
            raise ModuleTimeout(f"{module}: mutmut did not finish within {timeout:.0f} s") from None
    wall = time.monotonic() - start
    if code != 0:
        raise SystemExit(f"mutmut failed on {module} (exit {code}); see {log}:\n"
                         + log.read_text(encoding="utf-8")[-3000:])
    entry = _collect(work, module, tests, set(only or []))
    entry.update(wall_s=round(wall, 1), hash=kb.content_hash(ROOT, module), selection=tests,
                 time=time.strftime("%Y-%m-%dT%H:%M:%S%z"), commit=_commit(), tool=_tool())
    return entry


def rerun_survivors(module: str, max_children: int, skip: str = "") -> dict:
    """Re-run only the mutants that the module's record says no selected test killed (and
    that are not marked equivalent).

    Sound when the module's source is unchanged and tests were only *added* since the record
    (a mutant killed then is still killed by the same test). Checked here: the new run must
    generate the same mutants (same keys) and each re-run survivor the same diff. Killed
    mutants keep their recorded failing tests; the entry notes the record it builds on.
    ``skip``: a regex; survivors whose changed lines match it are not re-run and stay survivors
    (for mutants that hang the forked test process, e.g. in a progress bar's lock).
    """
    paper, name = kb.split_module(module)
    old = kb.load_record(kb.record_path(ROOT / "docs", paper))["modules"].get(name)
    if old is None:
        raise SystemExit(f"{module}: no record to re-run the survivors of; run it in full")
    equivalents = kb.load_equivalents(kb.equivalent_path(ROOT / "docs", paper))
    keys = [k for k, m in old["mutants"].items()
            if not kb.killed_by(m, old["tests"], None) and m.get("signature") not in equivalents
            and not (skip and any(re.search(skip, line) for line in kb.changed_lines(m.get("diff", ""))))]
    if not keys:
        raise SystemExit(f"{module}: its record has no survivors to re-run")
    new = run_module(module, max_children, only=keys)
    if set(new["mutants"]) != set(old["mutants"]):
        raise SystemExit(f"{module}: the source changed since its record (other mutants); run it in full")
    for k in keys:
        if kb.changed_lines(new["mutants"][k].get("diff", "")) != kb.changed_lines(old["mutants"][k]["diff"]):
            raise SystemExit(f"{module}: mutant {k} is not the recorded one; run the module in full")
        if new["mutants"][k]["status"] == "killed" and new["mutants"][k].get("failed"):
            del new["mutants"][k]["diff"], new["mutants"][k]["signature"]  # as in a full run's record
    tests = sorted(set(old["tests"]) | set(new["tests"]))
    pos = {t: i for i, t in enumerate(tests)}
    mutants = {}
    for k, m in old["mutants"].items():
        src, table = (new["mutants"][k], new["tests"]) if k in keys else (m, old["tests"])
        m = dict(src)
        for field in ("failed", "ran"):
            if field in m:
                m[field] = sorted(pos[table[i]] for i in m[field])
        mutants[k] = m
    entry = {**new, "tests": tests, "mutants": mutants,
             "duration_s": round(old.get("duration_s", 0) + new["duration_s"], 1),
             "incremental": {"base_time": old.get("time"), "base_commit": old.get("commit"),
                             "base_wall_s": old.get("wall_s"), "rerun": len(keys), "skipped": skip}}
    entry.pop("counts", None)
    return entry


def _collect(work: Path, module: str, selected: list[str], with_diff: set[str] = frozenset()) -> dict:
    """Read mutmut's meta file, its stats and the recorder's failure files of one module."""
    paper, name = kb.split_module(module)
    rel = Path("notes_code") / paper / f"{name}.py"
    meta = json.loads((work / "mutants" / f"{rel}.meta").read_text(encoding="utf-8"))
    stats = json.loads((work / "mutants" / "mutmut-stats.json").read_text(encoding="utf-8"))
    covering = stats["tests_by_mangled_function_name"]
    cwd = os.getcwd()
    os.chdir(work)
    try:
        from mutmut.configuration import reset_config
        from mutmut.mutation.diff_apply import get_diff_for_mutant
        from mutmut.stats import status_by_exit_code
        reset_config()
        failures: dict[str, dict] = {}
        for f in (work / "mutants" / FAILURES_DIR).glob("*.json"):
            data = json.loads(f.read_text(encoding="utf-8"))
            failures[data["mutant"]] = data
        raw: dict[str, dict] = {}
        tests: set[str] = set()
        for key, code in sorted(meta["exit_code_by_key"].items()):
            status = status_by_exit_code[code]
            fn_tests = sorted(covering.get(key.partition("__mutmut_")[0], []))
            tests |= set(fn_tests)
            m = {"status": status, "function": kb.function_of(key)}
            rec = failures.get(key)
            if status == "killed":
                m["failed"] = rec["failed"] if rec else []
                if rec is None:
                    m["note"] = "no failure file (crash or collection error): counted for every test"
                    m["failed"] = fn_tests
            elif status == "timeout":
                m["ran"] = fn_tests
            tests |= set(m.get("failed", []))
            if status != "killed" or not m.get("failed") or key.rpartition(".")[2] in with_diff:
                diff = get_diff_for_mutant(key, path=rel)
                m["diff"] = diff
                m["signature"] = kb.signature(module, m["function"], diff)
            raw[key.rpartition(".")[2]] = m
        table = sorted(tests)
        pos = {t: i for i, t in enumerate(table)}
        for m in raw.values():
            for k in ("failed", "ran"):
                if k in m:
                    m[k] = sorted(pos[t] for t in m[k])
        entry = {"tests": table, "mutants": raw,
                 "duration_s": round(sum(meta.get("durations_by_key", {}).values()), 1)}
    finally:
        os.chdir(cwd)
    return entry


def _commit() -> str:
    sha = _git("rev-parse", "HEAD")
    dirty = bool(_git("status", "--porcelain", "--untracked-files=no"))
    return sha + ("+dirty" if dirty else "")


def _tool() -> str:
    from importlib.metadata import version
    return f"mutmut {version('mutmut')}"


def counts(module: str, entry: dict, equivalents: dict[str, str]) -> dict:
    """Counts of one module entry (own tests), as stored in the record and printed."""
    s = kb.score(entry, equivalents, kb.own_test_ids(entry, module))
    statuses = [m["status"] for m in entry["mutants"].values()]
    return {"mutants": s.mutants, "killed": s.killed, "survived": s.survived, "equivalent": s.equivalent,
            "timeout": statuses.count("timeout"), "no_tests": statuses.count("no tests"),
            "killed_by_any_selected_test": sum(kb.killed_by(m, entry["tests"], None)
                                               for m in entry["mutants"].values()),
            "score": round(s.ratio, 4)}


def merge(entries: dict[str, dict], docs: Path = ROOT / "docs") -> None:
    """Merge module entries into each paper's ``mutation.json`` (atomic write)."""
    by_paper: dict[str, dict[str, dict]] = {}
    for module, entry in entries.items():
        paper, name = kb.split_module(module)
        by_paper.setdefault(paper, {})[name] = entry
    for paper, new in by_paper.items():
        path = kb.record_path(docs, paper)
        WORK.mkdir(exist_ok=True)
        with FileLock(str(WORK / f".{paper}.lock")):  # concurrent runs of other modules merge too
            _merge_paper(docs, paper, path, new)


def _merge_paper(docs: Path, paper: str, path: Path, new: dict[str, dict]) -> None:
    record = kb.load_record(path)
    equivalents = kb.load_equivalents(kb.equivalent_path(docs, paper))
    for name, entry in new.items():
        entry["counts"] = counts(f"{paper}.{name}", entry, equivalents)
        record["modules"][name] = entry
    record.update(tool=_tool(), updated=time.strftime("%Y-%m-%dT%H:%M:%S%z"),
                  threshold=kb.THRESHOLD, description=(
                      "mutmut results per module: each module mutated alone and tested with its own "
                      "test file plus the tests of claims that declare it; written by scripts/mutate.py"))
    write_atomic(path, record)
    path.chmod(0o644)  # mkstemp made it private; it is a published data file


def _print(module: str, entry: dict, equivalents: dict[str, str]) -> dict:
    c = counts(module, entry, equivalents)
    print(f"{module:34s} {c['killed']:5d}/{c['mutants'] - c['equivalent']:<5d} killed "
          f"({100 * c['score']:.1f}%), equivalent {c['equivalent']}, timeout {c['timeout']}, "
          f"no tests {c['no_tests']}, wall {entry.get('wall_s', '?')} s")
    return c


def cmd_run(args: argparse.Namespace) -> int:
    modules = resolve(args.modules.split(",")) if args.modules else kb.core_modules()
    start = time.monotonic()
    for module in modules:
        entry = rerun_survivors(module, args.max_children, args.skip) if args.survivors_only else \
            run_module(module, args.max_children)
        merge({module: entry})  # one module at a time: an interruption keeps what finished
        _print(module, entry, kb.load_equivalents(kb.equivalent_path(ROOT / "docs", module.split(".")[0])))
    print(f"total wall time: {time.monotonic() - start:.0f} s")
    return 0


def cmd_check(args: argparse.Namespace) -> int:
    records = kb.Records.load(ROOT / "docs")
    deadline = time.monotonic() + args.budget
    unrecorded = [m for m in kb.core_modules() if m not in records.modules]
    stale = [m for m in kb.core_modules()
             if m in records.modules and records.modules[m].get("hash") != kb.content_hash(ROOT, m)]
    cost = {m: records.modules[m].get("wall_s", float("inf")) for m in stale}
    # Failures always fail the check; shortfalls (a module under the 90% target, a stale
    # record that did not fit in the budget, a module never recorded) fail it only with
    # --target, which `make mutate-check` passes. `make test` gates on regressions: a module
    # re-run here that kills fewer of its mutants than its committed record says.
    failures, shortfalls, rerun = [], [], {}
    for module in unrecorded:
        message = f"{module}: never recorded; run `make mutate MODULES={module}` and commit the record"
        (failures if args.require_all else shortfalls).append(message)
    for module in sorted(stale, key=lambda m: cost[m]):
        left = deadline - time.monotonic()
        advice = f"run `make mutate MODULES={module}` and commit the record"
        if left < 30 or cost[module] > left:
            shortfalls.append(f"{module}: stale (source or tests changed since its record; its recorded "
                              f"run took {cost[module]} s, {max(left, 0):.0f} s of budget left): {advice}")
            continue
        print(f"re-running stale {module} (recorded run took {cost[module]} s; {left:.0f} s of budget left)")
        try:
            rerun[module] = run_module(module, args.max_children, timeout=left)
        except ModuleTimeout as exc:
            shortfalls.append(f"{exc}; its record is stale: {advice}")
    before = {m: counts(m, records.modules[m], records.equivalents_of(m)) for m in rerun}
    if args.write and rerun:
        merge(rerun)
        records = kb.Records.load(ROOT / "docs")
    for module in kb.core_modules():
        entry = rerun.get(module) or records.modules.get(module)
        if entry is None:
            continue
        c = _print(module, entry, records.equivalents_of(module))
        if module in before and c["score"] < before[module]["score"] - 1e-9:
            failures.append(f"{module}: regression: {100 * c['score']:.1f}% of non-equivalent mutants "
                            f"killed, the record says {100 * before[module]['score']:.1f}%")
        if c["score"] < kb.THRESHOLD:
            shortfalls.append(f"{module}: {100 * c['score']:.1f}% of non-equivalent mutants killed "
                              f"(< {100 * kb.THRESHOLD:.0f}%); kill the survivors or mark them equivalent "
                              f"in docs/data/{module.split('.')[0]}/{kb.EQUIVALENT_NAME}")
    for problem in shortfalls:
        print("FAIL" if args.target else "BELOW TARGET", problem)
    for problem in failures:
        print("FAIL", problem)
    return 1 if failures or (args.target and shortfalls) else 0


def cmd_equivalent(args: argparse.Namespace) -> int:
    """Append a recorded survivor to ``mutation-equivalent.yaml`` with a one-line reason."""
    module = resolve([args.module])[0]
    paper, name = kb.split_module(module)
    entry = kb.load_record(kb.record_path(ROOT / "docs", paper))["modules"].get(name, {})
    mutant = entry.get("mutants", {}).get(args.key)
    if mutant is None or "signature" not in mutant:
        raise SystemExit(f"{module}: no recorded survivor {args.key!r}")
    reason = " ".join(args.reason.split())
    if not reason:
        raise SystemExit("the reason must not be empty")
    path = kb.equivalent_path(ROOT / "docs", paper)
    known = kb.load_equivalents(path)
    if mutant["signature"] in known:
        print(f"already marked: {known[mutant['signature']]}")
        return 0
    import yaml
    item = [{"signature": mutant["signature"], "module": module, "function": mutant["function"],
             "diff": kb.changed_lines(mutant["diff"]), "reason": reason}]
    with path.open("a", encoding="utf-8") as f:
        f.write(yaml.safe_dump(item, allow_unicode=True, sort_keys=False, width=1000))
    print(f"marked {args.key} equivalent in {path}")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("run", help="run mutmut on modules and record the result")
    p.add_argument("--modules", default="", help="comma-separated modules (default: every core module)")
    p.add_argument("--max-children", type=int, default=2)
    p.add_argument("--survivors-only", action="store_true",
                   help="re-run only the recorded survivors (source unchanged, tests only added)")
    p.add_argument("--skip", default="", help="with --survivors-only: regex of changed lines not to re-run")
    p = sub.add_parser("check", help="CI: re-run stale modules within a budget, enforce the threshold")
    p.add_argument("--budget", type=float, default=240.0, help="seconds for re-running stale modules")
    p.add_argument("--max-children", type=int, default=2)
    p.add_argument("--write", action="store_true", help="merge re-runs into the committed records")
    p.add_argument("--target", action="store_true",
                   help="also fail on modules under 90%% and on stale records left un-run")
    p.add_argument("--require-all", action="store_true",
                   help="also fail for core modules that have no record yet")
    p = sub.add_parser("equivalent", help="mark a recorded survivor equivalent, with a one-line reason")
    p.add_argument("module")
    p.add_argument("key", help="mutant key as recorded, e.g. x_grad_norm__mutmut_9")
    p.add_argument("reason")
    args = parser.parse_args(argv)
    return {"run": cmd_run, "check": cmd_check, "equivalent": cmd_equivalent}[args.cmd](args)


if __name__ == "__main__":
    sys.exit(main())
