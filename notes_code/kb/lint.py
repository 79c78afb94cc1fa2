"""Lint the notes: what ``notes check`` reports, one ``file:line: message`` per problem.

Each check is a function returning a list of :class:`Problem`; :func:`check_project`
runs them all over a project (``docs/papers/*/index.md``, ``references.yaml``,
``tests/``). The checks:

* the nine sections of the note template are present (``##`` headings whose text
  contains the section name; a heading counts for the longest name it contains, so
  ``## 요약 및 결론`` does not also count as ``## 요약``);
* the front matter follows :data:`FRONT_MATTER_SCHEMA` (unknown keys are allowed);
* every citation key is in ``references.yaml`` (:func:`references.check_keys`);
* every claim has a test, no test names an unknown claim, no claim id is stated
  twice (:meth:`claims.ClaimIndex.problems`), and no claim test is still the
  ``pytest.fail("TODO ...")`` stub written by ``notes new``;
* every relative link to a ``.md`` page (concept pages, other notes) resolves.
"""

from __future__ import annotations

import ast
import datetime as dt
import os
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from urllib.parse import unquote

import yaml

from notes_code.kb import claims as kb_claims
from notes_code.kb import references as kb_refs

REQUIRED_SECTIONS = ("서지 정보", "요약", "내 생각", "핵심 내용", "실험 및 결과", "요약 및 결론",
                     "모르는 개념", "후속 참고문헌", "학습 회고")
STATUSES = kb_refs.STATUSES
YEAR_RANGE = (1900, 2100)
STUB_PREFIX = "TODO"


@dataclass(frozen=True)
class Problem:
    """One lint problem, printed as ``file:line: message``."""

    file: str
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.message}"


# --- helpers ------------------------------------------------------------------------------

def _rel(path: Path | str, root: Path) -> str:
    """``path`` relative to ``root`` (POSIX), or as given when it lies elsewhere."""
    p = Path(path)
    try:
        return p.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return p.as_posix()


_LOCATED_RE = re.compile(r"^(?P<file>.+?):(?P<line>\d+): (?P<message>.*)$", re.S)


def _from_string(text: str, root: Path | None = None) -> Problem:
    """A :class:`Problem` from a ``file:line: message`` string of another module.

    With ``root``, paths (the file, and any in the message) are made relative to it.
    """
    m = _LOCATED_RE.match(text)
    if not m:
        return Problem("?", 1, text)
    if root is None:
        return Problem(m["file"], int(m["line"]), m["message"])
    message = m["message"]
    for prefix in {f"{root}/", f"{root.resolve()}/"}:
        message = message.replace(prefix, "")
    return Problem(_rel(m["file"], root), int(m["line"]), message)


def split_front_matter(text: str) -> tuple[str | None, int]:
    """``(YAML text, number of the closing '---' line)``; ``(None, 0)`` without front matter.

    Same rule as :func:`notes_code.kb.notes.read_front_matter`: the file starts with
    ``---`` and the block ends at the next ``---`` line. An unclosed block gives
    ``("", -1)``.
    """
    if not text.startswith("---\n"):
        return None, 0
    end = text.find("\n---\n", 4)
    if end == -1:
        return "", -1
    yaml_text = text[4:end]
    return yaml_text, yaml_text.count("\n") + 3


def _body_lines(text: str) -> list[tuple[int, str]]:
    """``(line number, line)`` after the front matter, outside fenced code blocks."""
    _, fm_end = split_front_matter(text)
    out: list[tuple[int, str]] = []
    fence: str | None = None
    for lineno, line in enumerate(text.splitlines(), 1):
        if lineno <= max(fm_end, 0):
            continue
        m = re.match(r"^[ \t]*(`{3,}|~{3,})", line)
        if m:
            mark = m.group(1)
            if fence is None:
                fence = mark
                continue
            if mark[0] == fence[0] and len(mark) >= len(fence) and not line.strip()[len(mark):].strip():
                fence = None
                continue
        if fence is None:
            out.append((lineno, line))
    return out


# --- sections -----------------------------------------------------------------------------

_HEADING_RE = re.compile(r"^(?P<hashes>#{1,6})[ \t]+(?P<text>.*?)[ \t]*(?:#+[ \t]*)?$")


def headings(text: str) -> list[tuple[int, int, str]]:
    """``(line, level, text)`` of every ATX heading outside front matter and code."""
    out = []
    for lineno, line in _body_lines(text):
        m = _HEADING_RE.match(line)
        if m:
            title = re.sub(r"\s*\{[^}]*\}\s*$", "", m["text"])  # attr_list: {#id .class}
            out.append((lineno, len(m["hashes"]), title))
    return out


def section_of(heading: str) -> str | None:
    """The required section a heading stands for: the longest name its text contains."""
    found = [name for name in REQUIRED_SECTIONS if name in heading]
    return max(found, key=len) if found else None


def check_sections(text: str, where: str) -> list[Problem]:
    """Every name of :data:`REQUIRED_SECTIONS` has a ``##`` heading containing it.

    A missing section is reported at the line of the next present section (where it
    belongs), or at the last line of the file.
    """
    present: dict[str, int] = {}
    for lineno, level, title in headings(text):
        name = section_of(title) if level == 2 else None
        if name is not None:
            present.setdefault(name, lineno)
    last = max(1, len(text.splitlines()))
    problems = []
    for i, name in enumerate(REQUIRED_SECTIONS):
        if name in present:
            continue
        after = next((n for n in REQUIRED_SECTIONS[i + 1:] if n in present), None)
        if after is None:
            problems.append(Problem(where, last, f"missing section '## {name}' (expected at the end)"))
        else:
            problems.append(Problem(where, present[after],
                                    f"missing section '## {name}' (expected before '## {after}')"))
    return problems


# --- front matter -------------------------------------------------------------------------

def _nonempty_str(v: object) -> str | None:
    return None if isinstance(v, str) and v.strip() else "must be a non-empty string"


def _authors(v: object) -> str | None:
    if isinstance(v, list) and v and all(isinstance(a, str) and a.strip() for a in v):
        return None
    return "must be a non-empty list of names, e.g. [Razvan Pascanu, Yoshua Bengio]"


def _year(v: object) -> str | None:
    lo, hi = YEAR_RANGE
    if isinstance(v, int) and not isinstance(v, bool) and lo <= v <= hi:
        return None
    return f"must be a year between {lo} and {hi} (got {v!r})"


def _status(v: object) -> str | None:
    return None if v in STATUSES else f"is {v!r}; use one of {', '.join(STATUSES)}"


def _tags(v: object) -> str | None:
    if isinstance(v, list) and all(isinstance(t, str) for t in v):
        return None
    return "must be a list of strings, e.g. [RNN, optimisation] (or [])"


def _date(v: object) -> str | None:
    if isinstance(v, dt.date) and not isinstance(v, dt.datetime):
        return None
    if isinstance(v, str) and re.fullmatch(r"\d{4}-\d{2}-\d{2}", v):
        try:
            dt.date.fromisoformat(v)
            return None
        except ValueError:
            pass
    return f"must be a date YYYY-MM-DD (got {v!r})"


FRONT_MATTER_SCHEMA: dict[str, Callable[[object], str | None]] = {
    "title": _nonempty_str,
    "authors": _authors,
    "year": _year,
    "status": _status,
    "tags": _tags,
    "date_read": _date,
}
"""Required keys and their validators (a validator returns an error or ``None``)."""


def check_front_matter(text: str, where: str) -> list[Problem]:
    """The front matter has every key of :data:`FRONT_MATTER_SCHEMA`, each valid."""
    yaml_text, end = split_front_matter(text)
    if yaml_text is None:
        return [Problem(where, 1, "no front matter (start the file with a '---' block holding "
                                  + ", ".join(FRONT_MATTER_SCHEMA) + ")")]
    if end == -1:
        return [Problem(where, 1, "front matter is not closed by a '---' line")]
    try:
        meta = yaml.safe_load(yaml_text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 2 if mark is not None else 1
        reason = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        return [Problem(where, line, f"front matter is not valid YAML ({reason})")]
    except ValueError as exc:  # e.g. an impossible date such as 2026-13-01
        return [Problem(where, 1, f"front matter: {exc}")]
    if meta is None:
        meta = {}
    if not isinstance(meta, dict):
        return [Problem(where, 1, "front matter is not a mapping of key: value")]
    key_lines: dict[str, int] = {}
    for i, line in enumerate(yaml_text.split("\n")):
        m = re.match(r"^([A-Za-z_][\w-]*)\s*:", line)
        if m:
            key_lines.setdefault(m.group(1), i + 2)
    problems = []
    for key, validate in FRONT_MATTER_SCHEMA.items():
        if key not in meta:
            problems.append(Problem(where, 1, f"front matter: missing required key '{key}'"))
            continue
        error = validate(meta[key])
        if error:
            problems.append(Problem(where, key_lines.get(key, 1), f"front matter: '{key}' {error}"))
    return problems


# --- citations ----------------------------------------------------------------------------

def check_citations(text: str, refs: dict[str, kb_refs.Reference], where: str) -> list[Problem]:
    """Every ``[@key]`` names an entry of ``references.yaml``."""
    return [_from_string(p) for p in kb_refs.check_keys(text, refs, where)]


# --- links --------------------------------------------------------------------------------

_INLINE_LINK_RE = re.compile(r"\]\(\s*<?(?P<target>[^)\s>]+)")
_REF_DEF_RE = re.compile(r"^ {0,3}\[[^\]]+\]:\s*<?(?P<target>[^\s>]+)")
_CODE_SPAN_RE = re.compile(r"(`+)(?:(?!\1).)+?\1")
_SCHEME_RE = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:")
GENERATED_PAGES = ("claims.md", "reading-list.md", "papers/SUMMARY.md", "concepts/SUMMARY.md")
"""Pages that ``scripts/gen_pages.py`` writes at build time (no file in ``docs/``)."""


def _generated_exists(docs_rel: PurePosixPath, root: Path) -> bool:
    """Whether a missing docs page is one ``scripts/gen_pages.py`` generates."""
    s = docs_rel.as_posix()
    if s in GENERATED_PAGES:
        return True
    parts = docs_rel.parts
    if parts[0] == "tests" and len(parts) > 1:  # test source pages: tests/<...>.md
        return (root / Path(*parts).with_suffix(".py")).is_file()
    if parts[0] == "reference" and len(parts) > 1:  # API pages: reference/<module>.md
        module = Path(*parts[1:])
        if module.name == "index.md":
            return (root / module.parent / "__init__.py").is_file()
        return (root / module.with_suffix(".py")).is_file()
    return False


def links(text: str) -> list[tuple[int, str]]:
    """``(line, target)`` of every Markdown link outside code (inline and reference style)."""
    out = []
    for lineno, line in _body_lines(text):
        line = _CODE_SPAN_RE.sub(lambda m: " " * len(m.group(0)), line)
        out += [(lineno, m["target"]) for m in _INLINE_LINK_RE.finditer(line)]
        m = _REF_DEF_RE.match(line)
        if m:
            out.append((lineno, m["target"]))
    return out


def check_links(path: Path, text: str, root: Path, where: str) -> list[Problem]:
    """Every relative link to a ``.md`` page (e.g. ``../../concepts/x.md``) resolves.

    A link resolves when the page exists under ``docs/`` or is generated at build
    time (claims, reading list, test sources, API reference).
    """
    docs = (root / "docs").resolve()
    here = Path(path).resolve().parent
    problems = []
    for lineno, target in links(text):
        if _SCHEME_RE.match(target) or target.startswith(("#", "/")):
            continue
        page = unquote(target.split("#", 1)[0].split("?", 1)[0])
        if not page.endswith(".md"):
            continue
        resolved = Path(os.path.normpath(here / page))
        if not resolved.is_relative_to(docs):
            problems.append(Problem(where, lineno, f"link '{target}' points outside docs/"))
            continue
        if resolved.is_file():
            continue
        docs_rel = PurePosixPath(resolved.relative_to(docs).as_posix())
        if _generated_exists(docs_rel, root):
            continue
        problems.append(Problem(where, lineno,
                                f"broken link '{target}' (no page docs/{docs_rel})"))
    return problems


# --- claims -------------------------------------------------------------------------------

def _is_stub_fail(node: ast.AST) -> bool:
    """``pytest.fail("TODO ...")`` (or ``fail("TODO ...")``)."""
    if not isinstance(node, ast.Call) or not node.args:
        return False
    func = node.func
    named = (isinstance(func, ast.Attribute) and func.attr == "fail") or (
        isinstance(func, ast.Name) and func.id == "fail")
    arg = node.args[0]
    return named and isinstance(arg, ast.Constant) and isinstance(arg.value, str) \
        and arg.value.lstrip().startswith(STUB_PREFIX)


def find_stubs(index: kb_claims.ClaimIndex, root: Path) -> list[Problem]:
    """Claim tests that still call ``pytest.fail("TODO ...")``: the stub of ``notes new``."""
    problems = []
    trees: dict[Path, ast.Module] = {}
    for cid, refs in sorted(index.tests.items()):
        for ref in refs:
            if ref.file not in trees:
                trees[ref.file] = ast.parse(ref.file.read_text(encoding="utf-8"))
            for fn in ast.walk(trees[ref.file]):
                if not (isinstance(fn, ast.FunctionDef | ast.AsyncFunctionDef)
                        and fn.name == ref.function and fn.lineno == ref.line):
                    continue
                for node in ast.walk(fn):
                    if _is_stub_fail(node):
                        problems.append(Problem(
                            _rel(ref.file, root), node.lineno,
                            f"test '{ref.function}' of claim '{cid}' is the intentional stub "
                            "from `notes new` (pytest.fail(\"TODO ...\")); write the test"))
                        break
    return problems


def check_claims(root: Path) -> tuple[list[Problem], kb_claims.ClaimIndex | None]:
    """Claim integrity (:meth:`ClaimIndex.problems`) and leftover stubs; also the index."""
    try:
        index = kb_claims.build_index(root)
    except SyntaxError as exc:
        where = _rel(exc.filename, root) if exc.filename else "tests"
        return [Problem(where, exc.lineno or 1, f"cannot parse test file: {exc.msg}")], None
    except UnicodeDecodeError as exc:
        return [Problem("docs", 1, f"cannot scan claims: a file is not UTF-8 text ({exc})")], None
    problems = [_from_string(p, root) for p in index.problems()]
    return problems + find_stubs(index, root), index


# --- the whole project --------------------------------------------------------------------

def note_paths(root: Path) -> list[Path]:
    """Every note: ``docs/papers/<slug>/index.md``."""
    return sorted((root / "docs" / "papers").glob("*/index.md"))


@dataclass
class Report:
    """The result of :func:`check_project`."""

    problems: list[Problem] = field(default_factory=list)
    notes: int = 0
    claims: int = 0


def check_project(root: Path) -> Report:
    """Run every check over the project at ``root``."""
    root = Path(root).resolve()
    report = Report()
    refs: dict[str, kb_refs.Reference] | None
    try:
        refs = kb_refs.load(root / "references.yaml")
    except (OSError, yaml.YAMLError, kb_refs.ReferenceError_) as exc:
        report.problems.append(Problem("references.yaml", 1, f"cannot use the bibliography: {exc}"))
        refs = None
    paths = note_paths(root)
    report.notes = len(paths)
    for path in paths:
        where = _rel(path, root)
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError as exc:
            report.problems.append(Problem(where, 1, f"not UTF-8 text ({exc.reason})"))
            continue
        report.problems += check_front_matter(text, where)
        report.problems += check_sections(text, where)
        report.problems += check_links(path, text, root, where)
    if refs is not None:  # citations: every page, as the build checks them
        for path in sorted((root / "docs").rglob("*.md")):
            try:
                text = path.read_text(encoding="utf-8")
            except UnicodeDecodeError:
                continue  # reported above for notes; other pages are the build's business
            report.problems += check_citations(text, refs, _rel(path, root))
    claim_problems, index = check_claims(root)
    report.problems += claim_problems
    report.claims = len(index.claims) if index is not None else 0
    report.problems = sorted(dict.fromkeys(report.problems), key=lambda p: (p.file, p.line))
    return report
