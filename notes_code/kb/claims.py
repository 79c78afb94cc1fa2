r"""Claims in notes, linked to the pytest tests that check them.

A note states a claim with an admonition whose title is the claim's id::

    !!! claim "pascanu2013/vanishing-sufficient-condition"
        $\lambda_1 < 1/\gamma$ 이면 ...

A test declares what it checks with ``@pytest.mark.claim("pascanu2013/...")``.
This module finds both sides *statically* (Markdown by regex, tests by AST, so no
test code is imported), checks their integrity, and reads the report that the
pytest plugin (:mod:`notes_code.kb.pytest_claims`) writes after a run.
"""

from __future__ import annotations

import ast
import hashlib
import json
import re
from dataclasses import dataclass, field
from pathlib import Path

CLAIM_RE = re.compile(r'^(?P<indent>[ \t]*)(?P<marker>!!!|\?\?\?\+?)[ \t]+claim[ \t]+"(?P<id>[^"]*)"[ \t]*$')
ID_RE = re.compile(r"^[a-z0-9][a-z0-9_-]*/[a-z0-9][a-z0-9_-]*$")
ID_MODULE_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
REPORT_PATH = Path("reports") / "claims.json"


class ClaimError(ValueError):
    """An integrity problem: a claim with no test, an unknown id, a duplicate id."""


@dataclass(frozen=True)
class Claim:
    """A claim stated in a note."""

    id: str
    file: Path
    line: int

    @property
    def note(self) -> str:
        """The note (paper key) part of the id."""
        return self.id.split("/", 1)[0]


@dataclass(frozen=True)
class TestRef:
    """A test function that declares a claim."""

    claim_id: str
    nodeid: str  # tests/pascanu2013/test_x.py::test_y (class-qualified when in a class)
    file: Path
    line: int
    function: str
    modules: tuple[str, ...] = ()  # ``modules=[...]`` of the marker: "<paper>.<module>" it checks


@dataclass
class ClaimIndex:
    """Every claim in the notes and every test that names one."""

    claims: dict[str, Claim] = field(default_factory=dict)
    tests: dict[str, list[TestRef]] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    docs_dir: Path | None = None

    def modules_of(self, cid: str) -> list[str]:
        """The modules that the tests of claim ``cid`` declare they check (in order, unique)."""
        return list(dict.fromkeys(m for ref in self.tests.get(cid, []) for m in ref.modules))

    def problems(self) -> list[str]:
        """All integrity problems, each naming the file and the id."""
        out = list(self.errors)
        for cid, claim in sorted(self.claims.items()):
            if not self.tests.get(cid):
                out.append(f"{claim.file}:{claim.line}: claim '{cid}' has no test "
                           f"(mark one with @pytest.mark.claim({cid!r}))")
        for cid, refs in sorted(self.tests.items()):
            if cid not in self.claims:
                for ref in refs:
                    out.append(f"{ref.file}:{ref.line}: test '{ref.function}' is marked with "
                               f"unknown claim id '{cid}' (no note states it)")
        return out


def scan_notes(docs_dir: Path) -> tuple[dict[str, Claim], list[str]]:
    """Find every claim admonition under ``docs_dir`` (Markdown files).

    Returns:
        ``(claims by id, errors)``; duplicate or malformed ids are errors.
    """
    claims: dict[str, Claim] = {}
    errors: list[str] = []
    for path in sorted(Path(docs_dir).rglob("*.md")):
        for lineno, cid in _claims_in_page(path):
            if not ID_RE.match(cid):
                errors.append(f"{path}:{lineno}: malformed claim id '{cid}' "
                              "(expected '<note>/<slug>', lowercase ASCII, digits, - and _)")
                continue
            if cid in claims:
                first = claims[cid]
                errors.append(f"{path}:{lineno}: duplicate claim id '{cid}' "
                              f"(first stated at {first.file}:{first.line})")
                continue
            claims[cid] = Claim(cid, path, lineno)
    return claims, errors


_PAGE_SCANS: dict[str, tuple[str, tuple[tuple[int, str], ...]]] = {}


def _claims_in_page(path: Path) -> tuple[tuple[int, str], ...]:
    """``(line, id)`` of every claim admonition of one page, cached by the page's content."""
    data = path.read_bytes()
    digest = _digest(data)
    hit = _PAGE_SCANS.get(str(path))
    if hit is not None and hit[0] == digest:
        return hit[1]
    found = tuple((lineno, m["id"]) for lineno, line in enumerate(data.decode("utf-8").splitlines(), 1)
                  if (m := CLAIM_RE.match(line)))
    _PAGE_SCANS[str(path)] = (digest, found)
    return found


def _claim_ids_in_decorator(node: ast.expr) -> list[str]:
    """Ids from ``pytest.mark.claim("a", "b")`` (also ``mark.claim``)."""
    if not isinstance(node, ast.Call):
        return []
    func = node.func
    if isinstance(func, ast.Attribute) and func.attr == "claim":
        return [a.value for a in node.args if isinstance(a, ast.Constant) and isinstance(a.value, str)]
    return []


def _claim_modules_in_decorator(node: ast.expr) -> tuple[list[str], bool]:
    """``modules=[...]`` of a claim marker: ``(names, ok)``; ``ok`` is false if not string literals."""
    if not isinstance(node, ast.Call) or not _claim_ids_in_decorator(node):
        return [], True
    for kw in node.keywords:
        if kw.arg == "modules":
            if isinstance(kw.value, ast.List | ast.Tuple) and all(
                isinstance(e, ast.Constant) and isinstance(e.value, str) for e in kw.value.elts
            ):
                return [e.value for e in kw.value.elts], True
            return [], False
    return [], True


def module_problems(modules: list[str], root: Path, where: str,
                    exists: dict[str, bool] | None = None) -> list[str]:
    """Errors for module names that are not ``<paper>.<module>`` of a file under ``notes_code/``.

    ``exists`` memoizes the file checks within one scan (the same names recur on many tests).
    """
    out = []
    exists = {} if exists is None else exists
    for name in modules:
        if name not in exists:
            paper, dot, mod = name.partition(".")
            ok = bool(dot) and ID_MODULE_RE.match(paper) and ID_MODULE_RE.match(mod)
            exists[name] = bool(ok) and (Path(root) / "notes_code" / paper / f"{mod}.py").is_file()
        if not exists[name]:
            out.append(f"{where}: unknown module '{name}' in modules= "
                       f"(expected '<paper>.<module>' of a file notes_code/<paper>/<module>.py)")
    return out


# --- the test files, parsed once per content ------------------------------------------------
# Each test file is parsed and walked once per distinct content (sha1 of its bytes) and the
# result kept in memory, so `mkdocs serve`'s rebuilds (which build the index three times) do
# not re-parse every test file after a prose edit: that cost grew with the number of notes.


@dataclass(frozen=True)
class _FileScan:
    """What one test file declares, independent of where the project is."""

    tests: tuple[tuple[str, str, int, str], ...]  # (claim id, "Class::test_x", def line, function)
    module_marks: tuple[tuple[int, tuple[str, ...], bool], ...]  # pytestmark's (line, modules=, ok)
    defs: tuple[tuple[int, tuple[tuple[int, tuple[str, ...], bool], ...]], ...]  # (def line, decorators)
    classes: tuple[tuple[tuple[str, ...], int], ...]  # nested class path -> its line
    functions: tuple[tuple[str, int, int], ...]  # every test* function: (name, first line, last line)


_SCANS: dict[str, tuple[str, _FileScan]] = {}


def _digest(data: bytes) -> str:
    return hashlib.sha1(data, usedforsecurity=False).hexdigest()


def scan_file(path: Path) -> _FileScan:
    """The parsed declarations of one test file, cached by the file's content.

    Raises:
        SyntaxError: The file does not parse (naming it).
    """
    path = Path(path)
    data = path.read_bytes()
    digest = _digest(data)
    hit = _SCANS.get(str(path))
    if hit is not None and hit[0] == digest:
        return hit[1]
    scan = _scan_source(data.decode("utf-8"), str(path))
    _SCANS[str(path)] = (digest, scan)
    return scan


def _scan_source(source: str, filename: str) -> _FileScan:
    tree = ast.parse(source, filename=filename)
    module_ids: list[str] = []
    module_marks = []
    for stmt in tree.body:
        if isinstance(stmt, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id == "pytestmark" for t in stmt.targets
        ):
            for m in _marks_of(stmt.value):
                module_ids += _claim_ids_in_decorator(m)
                names, ok = _claim_modules_in_decorator(m)
                module_marks.append((m.lineno, tuple(names), ok))
    tests: list[tuple[str, str, int, str]] = []
    classes: list[tuple[tuple[str, ...], int]] = []

    def visit(body: list[ast.stmt], inherited: list[str], prefix: str, path: tuple[str, ...]) -> None:
        for stmt in body:
            if isinstance(stmt, ast.FunctionDef | ast.AsyncFunctionDef) and stmt.name.startswith("test"):
                ids = list(inherited)
                for dec in stmt.decorator_list:
                    ids += _claim_ids_in_decorator(dec)
                for cid in dict.fromkeys(ids):
                    tests.append((cid, f"{prefix}{stmt.name}", stmt.lineno, stmt.name))
            elif isinstance(stmt, ast.ClassDef):
                classes.append(((*path, stmt.name), stmt.lineno))
                if stmt.name.startswith("Test"):
                    ids = list(inherited)
                    for dec in stmt.decorator_list:
                        ids += _claim_ids_in_decorator(dec)
                    visit(stmt.body, ids, f"{prefix}{stmt.name}::", (*path, stmt.name))

    visit(tree.body, module_ids, "", ())
    defs, functions = [], []
    for node in ast.walk(tree):
        if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            continue
        decs = []
        for dec in node.decorator_list:
            got, ok = _claim_modules_in_decorator(dec)
            decs.append((dec.lineno, tuple(got), ok))
        defs.append((node.lineno, tuple(decs)))
        if isinstance(node, ast.FunctionDef) and node.name.startswith("test"):
            start = min([d.lineno for d in node.decorator_list] + [node.lineno])
            functions.append((node.name, start, node.end_lineno or node.lineno))
    return _FileScan(tuple(tests), tuple(module_marks), tuple(defs), tuple(classes), tuple(functions))


def _test_files(tests_dir: Path) -> dict[Path, _FileScan]:
    """Every ``test_*.py`` under ``tests_dir`` with its (cached) scan, in path order."""
    return {path: scan_file(path) for path in sorted(Path(tests_dir).rglob("test_*.py"))}


def scan_test_modules(tests_dir: Path, root: Path, scans: dict[Path, _FileScan] | None = None,
                      ) -> tuple[dict[tuple[str, int], list[str]], list[str]]:
    """The ``modules=`` of every claim marker, by ``(file, line of the decorated def)``, and errors.

    Errors name ``file:line`` of the marker: a module that does not exist, or a
    ``modules=`` that is not a list of string literals (it must be readable statically).
    ``scans`` (from one listing of ``tests_dir``) saves reading the files again.
    """
    found: dict[tuple[str, int], list[str]] = {}
    errors: list[str] = []
    exists: dict[str, bool] = {}
    for path, scan in (scans if scans is not None else _test_files(tests_dir)).items():
        module_level: list[str] = []
        for lineno, names, ok in scan.module_marks:
            if not ok:
                errors.append(f"{path}:{lineno}: modules= must be a list of string literals")
            errors += module_problems(list(names), root, f"{path}:{lineno}", exists)
            module_level += names
        for def_line, decs in scan.defs:
            names = list(module_level)
            for lineno, got, ok in decs:
                if not ok:
                    errors.append(f"{path}:{lineno}: modules= must be a list of string literals")
                errors += module_problems(list(got), root, f"{path}:{lineno}", exists)
                names += got
            found[(str(path), def_line)] = list(dict.fromkeys(names))
    return found, errors


def _marks_of(value: ast.expr) -> list[ast.expr]:
    return list(value.elts) if isinstance(value, ast.List | ast.Tuple) else [value]


def scan_tests(tests_dir: Path, root: Path,
               scans: dict[Path, _FileScan] | None = None) -> dict[str, list[TestRef]]:
    """Find every ``@pytest.mark.claim`` on a test function, class or module (by AST)."""
    found: dict[str, list[TestRef]] = {}
    for path, scan in (scans if scans is not None else _test_files(tests_dir)).items():
        rel = path.relative_to(root).as_posix() if path.is_relative_to(root) else path.as_posix()
        for cid, qualname, lineno, function in scan.tests:
            found.setdefault(cid, []).append(TestRef(cid, f"{rel}::{qualname}", path, lineno, function))
    return found


_CURRENT: dict[tuple[str, str, str], ClaimIndex] = {}


def set_current(root: Path, index: ClaimIndex | None, docs_dir: Path | None = None,
                tests_dir: Path | None = None) -> None:
    """Share ``index`` with the rest of one build (the hooks, the page generator and the home cards
    each need it); ``None`` ends the sharing. :func:`current_index` hands it out for the same folders."""
    _CURRENT.clear()
    if index is not None:
        _CURRENT[_folders(root, docs_dir, tests_dir)] = index


def _folders(root: Path, docs_dir: Path | None, tests_dir: Path | None) -> tuple[str, str, str]:
    root = Path(root).resolve()
    return (str(root), str(Path(docs_dir or root / "docs").resolve()),
            str(Path(tests_dir or root / "tests").resolve()))


def current_index(root: Path, docs_dir: Path | None = None, tests_dir: Path | None = None) -> ClaimIndex:
    """The index shared by :func:`set_current` for these folders, else a fresh :func:`build_index`."""
    hit = _CURRENT.get(_folders(root, docs_dir, tests_dir))
    return hit if hit is not None else build_index(root, docs_dir, tests_dir)


def build_index(root: Path, docs_dir: Path | None = None, tests_dir: Path | None = None) -> ClaimIndex:
    """Scan the notes and the tests of the project at ``root``."""
    root = Path(root)
    claims, errors = scan_notes(docs_dir or root / "docs")
    scans = _test_files(tests_dir or root / "tests")  # each file read once per index
    tests = scan_tests(tests_dir or root / "tests", root, scans)
    tests, module_errors = _with_modules(tests, tests_dir or root / "tests", root, scans)
    return ClaimIndex(claims=claims, tests=tests, errors=errors + module_errors,
                      docs_dir=Path(docs_dir or root / "docs"))


def _with_modules(tests: dict[str, list[TestRef]], tests_dir: Path, root: Path,
                  scans: dict[Path, _FileScan]) -> tuple[dict[str, list[TestRef]], list[str]]:
    """Attach each marker's ``modules=`` to its :class:`TestRef` (the class's markers included)."""
    found, errors = scan_test_modules(tests_dir, root, scans)
    out: dict[str, list[TestRef]] = {}
    for cid, refs in tests.items():
        new = []
        for ref in refs:
            names = list(found.get((str(ref.file), ref.line), []))
            # a class-level marker: add the modules of the enclosing class's decorators
            parts = ref.nodeid.split("::")[1:-1]
            if parts:
                tree_names = _class_modules(ref.file, parts, found, scans)
                names = list(dict.fromkeys(tree_names + names))
            new.append(TestRef(ref.claim_id, ref.nodeid, ref.file, ref.line, ref.function, tuple(names)))
        out[cid] = new
    return out, errors


def _class_modules(path: Path, classes: list[str], found: dict[tuple[str, int], list[str]],
                   scans: dict[Path, _FileScan]) -> list[str]:
    lines = dict((scans.get(path) or scan_file(path)).classes)
    names: list[str] = []
    for depth in range(1, len(classes) + 1):
        lineno = lines.get(tuple(classes[:depth]))
        if lineno is None:
            break
        names += found.get((str(path), lineno), [])
    return names


# --- the report written by the pytest plugin ---------------------------------------------

STATUS_LABELS = {"passed": "통과", "failed": "실패", "not-run": "미실행", "skipped": "건너뜀",
                 "refuted": "기준 미충족"}


def load_report(path: Path) -> dict:
    """Read ``reports/claims.json``; a missing file is an empty report.

    A corrupted file raises :class:`ClaimError` naming it (never silently used).
    """
    path = Path(path)
    if not path.exists():
        return {"tests": {}}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise ClaimError(f"{path}: corrupted claims report ({exc}); delete it and rerun the tests") from exc
    if not isinstance(data, dict) or not isinstance(data.get("tests"), dict):
        raise ClaimError(f"{path}: not a claims report (no 'tests' mapping)")
    return data


def claim_status(cid: str, refs: list[TestRef], report: dict) -> tuple[str, list[tuple[TestRef, str]]]:
    """The status of one claim from the outcomes of its tests.

    A claim is ``failed`` if any of its tests failed, ``refuted`` if none failed and
    one is an expected failure (``xfail(strict=True)``: its pre-registered criterion is
    not met by the recorded data), ``passed`` if all of them ran and passed,
    ``skipped`` if all that ran were skipped, otherwise ``not-run``.
    Parametrized tests count through every parametrization that ran.
    """
    outcomes: list[tuple[TestRef, str]] = []
    tests = report.get("tests", {})
    for ref in refs:
        runs = [v for k, v in tests.items() if k == ref.nodeid or k.startswith(ref.nodeid + "[")]
        runs = [r for r in runs if cid in r.get("claims", [])]
        if not runs:
            outcomes.append((ref, "not-run"))
        elif any(r["outcome"] == "failed" for r in runs):
            outcomes.append((ref, "failed"))
        elif any(r["outcome"] == "xfailed" for r in runs):
            outcomes.append((ref, "refuted"))
        elif all(r["outcome"] == "skipped" for r in runs):
            outcomes.append((ref, "skipped"))
        else:
            outcomes.append((ref, "passed"))
    states = [o for _, o in outcomes]
    if not states:
        status = "not-run"
    elif "failed" in states:
        status = "failed"
    elif "refuted" in states:
        status = "refuted"
    elif all(s == "passed" for s in states):
        status = "passed"
    elif all(s == "skipped" for s in states):
        status = "skipped"
    else:
        status = "not-run"
    return status, outcomes
