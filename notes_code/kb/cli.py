"""``notes``: start a note, lint the notes, list them.

```bash
notes new pascanu2013 --title "On the difficulty of training recurrent neural networks" \\
    --authors "Razvan Pascanu" "Tomas Mikolov" "Yoshua Bengio" --year 2013 --arxiv 1211.5063
notes new bengio1994   # adopts the references.yaml entry bengio1994 (no note yet): keeps its fields
notes check          # file:line: message per problem; non-zero exit on any
notes list           # slug, year, status, claims, pass rate
```

Exit codes: 0 success; 1 problems found (``check``) or a file could not be
read or written; 2 bad input (arguments, an existing note), with one line on stderr.
"""

from __future__ import annotations

import argparse
import datetime as dt
import keyword
import os
import re
import sys
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from notes_code.kb import claims as kb_claims
from notes_code.kb import lint, template
from notes_code.kb import notes as kb_notes

SLUG_MAX = 64
SLUG_RE = re.compile(r"^[a-z][a-z0-9_]*$")
RESERVED_SLUGS = frozenset({"kb", "common"})
ARXIV_RE = re.compile(r"^(?:\d{4}\.\d{4,5}|[a-z][a-z.-]*/\d{7})(?:v\d+)?$")
ARXIV_URL_RE = re.compile(r"^https?://arxiv\.org/(?:abs|pdf)/(?P<id>.+?)(?:\.pdf)?/?$")


class UsageError(Exception):
    """Bad input: reported on one line of stderr, exit code 2."""


class ProjectError(Exception):
    """A project file that cannot be read or written: exit code 1."""


# --- input validation ---------------------------------------------------------------------

def validate_slug(slug: str) -> str:
    """The slug, or :class:`UsageError` saying what is wrong with it.

    The slug names ``docs/papers/<slug>/``, the package ``notes_code.<slug>``, the
    test folder and the bibliography key, so it must be a lowercase Python identifier.
    """
    why = "it names the folders and the Python package notes_code.<slug>"
    if not slug:
        raise UsageError("the slug is empty; give a name such as pascanu2013")
    if len(slug) > SLUG_MAX:
        raise UsageError(f"the slug is too long ({len(slug)} characters; at most {SLUG_MAX})")
    if "/" in slug or "\\" in slug or ".." in slug or slug.startswith("."):
        raise UsageError(f"the slug {slug!r} looks like a path; give a plain name "
                         "(no '/', '\\' or '..'), such as pascanu2013")
    if not slug.isascii():
        raise UsageError(f"the slug {slug!r} must be lowercase ASCII letters, digits and '_' "
                         f"({why}); write Korean in --title")
    if slug != slug.lower():
        raise UsageError(f"the slug {slug!r} must be lowercase (try {slug.lower()!r})")
    if "-" in slug:
        fixed = slug.replace("-", "_")
        raise UsageError(f"the slug {slug!r} contains '-': {why}, so use '_' (try {fixed!r})")
    if not SLUG_RE.match(slug):
        raise UsageError(f"the slug {slug!r} must start with a letter and hold only a-z, 0-9 "
                         f"and '_' ({why})")
    if keyword.iskeyword(slug):
        raise UsageError(f"the slug {slug!r} is a Python keyword ({why})")
    if slug in RESERVED_SLUGS:
        raise UsageError(f"the slug {slug!r} is reserved (notes_code/{slug}/ is the "
                         "knowledge base's own code)")
    return slug


def validate_year(text: str) -> int:
    """A 4-digit year in :data:`lint.YEAR_RANGE`."""
    lo, hi = lint.YEAR_RANGE
    if not re.fullmatch(r"\d{4}", text.strip()) or not lo <= int(text) <= hi:
        raise UsageError(f"--year must be a 4-digit year between {lo} and {hi} (got {text!r})")
    return int(text)


def validate_text(text: str, what: str) -> str:
    """A non-empty, single-line value."""
    value = text.strip()
    if not value:
        raise UsageError(f"{what} is empty")
    if any(unicodedata.category(c) in ("Cc", "Zl", "Zp") for c in value):
        raise UsageError(f"{what} must be one line of text (no line breaks or control characters)")
    return value


def validate_authors(values: Sequence[str]) -> list[str]:
    """Authors, one per argument (an argument may also separate them with ';')."""
    authors = [a for v in values for a in v.split(";")]
    authors = [validate_text(a, "an author") for a in authors if a.strip()]
    if not authors:
        raise UsageError("--authors needs at least one name")
    return authors


def validate_arxiv(text: str | None) -> str | None:
    """An arXiv id (``1211.5063``, ``1211.5063v2``, ``cs/0101001``) or its abs/pdf URL."""
    if text is None:
        return None
    value = text.strip()
    m = ARXIV_URL_RE.match(value)
    if m:
        value = m["id"]
    if not ARXIV_RE.match(value):
        raise UsageError(f"--arxiv {text!r} is not an arXiv id such as 1211.5063 "
                         "(or https://arxiv.org/abs/1211.5063)")
    return value


DOI_RE = re.compile(r"^10\.\d{4,9}/\S+$")
DOI_URL_RE = re.compile(r"^https?://(?:dx\.)?doi\.org/(?P<doi>.+)$")


def validate_doi(text: str | None) -> str | None:
    """A DOI (``10.1109/72.279181``) or its ``https://doi.org/...`` URL, as the bare DOI."""
    if text is None:
        return None
    value = text.strip()
    m = DOI_URL_RE.match(value)
    if m:
        value = m["doi"]
    if not DOI_RE.match(value):
        raise UsageError(f"--doi {text!r} is not a DOI such as 10.1109/72.279181")
    return value


def validate_url(text: str | None) -> str | None:
    """An ``http(s)://`` URL without spaces."""
    if text is None:
        return None
    value = text.strip()
    if not re.fullmatch(r"https?://[^\s<>\"]+", value):
        raise UsageError(f"--url {text!r} is not an http(s):// address")
    return value


def find_root(start: Path) -> Path | None:
    """The nearest folder at or above ``start`` holding ``references.yaml`` and ``docs/``."""
    for folder in [start, *start.parents]:
        if (folder / "references.yaml").is_file() and (folder / "docs").is_dir():
            return folder
    return None


def project_root(given: str | None) -> Path:
    """``--root``, or the project around the current directory."""
    if given is not None:
        root = Path(given)
        if not (root / "references.yaml").is_file() or not (root / "docs").is_dir():
            raise UsageError(f"--root {given}: not a notes project (needs references.yaml and docs/)")
        return root
    root = find_root(Path.cwd().resolve())
    if root is None:
        raise UsageError("not inside a notes project (no references.yaml and docs/ here or "
                         "above); run from the repository or pass --root")
    return root


# --- notes new ----------------------------------------------------------------------------

@dataclass
class Plan:
    """What ``notes new`` will write: new files (in order) and the new ``references.yaml``."""

    root: Path
    files: list[tuple[Path, str]] = field(default_factory=list)
    references: Path | None = None
    reference_text: str = ""  # the whole new text of references.yaml
    adopted: bool = False
    kept: list[str] = field(default_factory=list)  # flags that differed from an adopted entry


@dataclass
class Paper:
    """What the user said about the paper (``None``: not given)."""

    title: str | None = None
    authors: list[str] | None = None
    year: int | None = None
    arxiv: str | None = None
    venue: str | None = None
    doi: str | None = None
    url: str | None = None

    def link(self) -> str | None:
        """The entry's ``url``: ``--url``, else the DOI's, else the arXiv abstract page."""
        if self.url:
            return self.url
        if self.doi:
            return f"https://doi.org/{self.doi}"
        return template.arxiv_url(self.arxiv) if self.arxiv else None


def _entry_span(text: str, key: str) -> tuple[int, int]:
    """Character span of the top-level YAML block ``key:`` (through its last indented line)."""
    m = re.search(rf"^{re.escape(key)}\s*:.*(?:\n(?:[ \t]+.*|[ \t]*(?=\n)))*\n?", text, re.M)
    if m is None:
        raise ProjectError(f"references.yaml: cannot find the block of {key!r} to update")
    return m.start(), m.end()


def _adopt(slug: str, entry: dict, paper: Paper, refs_text: str) -> tuple[str, Paper, list[str]]:
    """The new references.yaml text with ``slug``'s entry given a note, and the paper it describes.

    Existing fields are kept; flags only fill fields the entry lacks.
    """
    kept = []
    updated = dict(entry)
    for name, value in (("title", paper.title), ("year", paper.year), ("venue", paper.venue),
                        ("url", paper.link())):
        if value is None:
            continue
        if name in updated and str(updated[name]) != str(value):
            kept.append(f"{name}: kept {updated[name]!r} (not {value!r})")
        updated.setdefault(name, value)
    if paper.authors and "authors" in updated and updated["authors"] != template.author_list(
            [template.bib_name(a) for a in paper.authors]):
        kept.append(f"authors: kept {updated['authors']!r}")
    updated["status"] = template.STATUS_NEW
    updated["note"] = slug
    start, end = _entry_span(refs_text, slug)
    new_text = refs_text[:start] + template.yaml_block({slug: updated}) + refs_text[end:]
    authors = template.split_bib_authors(str(updated.get("authors", ""))) or paper.authors or []
    try:
        year = int(updated.get("year"))
    except (TypeError, ValueError):
        raise ProjectError(f"references.yaml: entry {slug!r} has no usable year") from None
    arxiv = paper.arxiv
    m = ARXIV_URL_RE.match(str(updated.get("url", "")))
    if arxiv is None and m:
        arxiv = m["id"]
    return new_text, Paper(title=str(updated.get("title") or paper.title), authors=authors,
                           year=year, arxiv=arxiv), kept


def plan_new(root: Path, slug: str, paper: Paper, today: dt.date) -> Plan:
    """Check every target and build the plan; raises before anything is written.

    A ``references.yaml`` entry ``slug`` without a note is adopted (its fields kept,
    ``note:`` and ``status:`` set); one that already names a note is refused.
    """
    taken = [d for d in (root / "docs" / "papers" / slug, root / "notes_code" / slug,
                         root / "tests" / slug) if d.exists() or d.is_symlink()]
    if taken:
        names = ", ".join(d.relative_to(root).as_posix() + "/" for d in taken)
        raise UsageError(f"the note {slug!r} already exists ({names}); nothing was written")
    refs_path = root / "references.yaml"
    try:
        refs_text = refs_path.read_text(encoding="utf-8")
        data = yaml.safe_load(refs_text) or {}
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise ProjectError(f"cannot read {refs_path}: {exc}") from exc
    if not isinstance(data, dict):
        raise ProjectError(f"{refs_path}: expected a mapping of key -> entry")
    kept: list[str] = []
    adopted = slug in data
    if adopted:
        entry = data[slug]
        if not isinstance(entry, dict):
            raise ProjectError(f"{refs_path}: entry {slug!r} is not a mapping")
        if entry.get("note"):
            raise UsageError(f"references.yaml's entry {slug!r} already has the note "
                             f"{entry['note']!r} (docs/papers/{entry['note']}/); nothing was written")
        new_refs, paper, kept = _adopt(slug, entry, paper, refs_text)
        expected = set(data)
    else:
        missing = [f"--{n}" for n in ("title", "authors", "year") if getattr(paper, n) is None]
        if missing:
            raise UsageError(f"{slug!r} is not in references.yaml yet, so {', '.join(missing)} "
                             f"{'is' if len(missing) == 1 else 'are'} required")
        entry_text = template.render_reference(slug, paper.title, paper.authors, paper.year,
                                               paper.arxiv, venue=paper.venue, url=paper.link())
        sep = "" if not refs_text or refs_text.endswith("\n") else "\n"
        new_refs = refs_text + sep + entry_text
        expected = set(data) | {slug}
    parsed = yaml.safe_load(new_refs)
    if not isinstance(parsed, dict) or set(parsed) != expected or any(
            parsed[k] != data[k] for k in data if k != slug):
        raise ProjectError("updating references.yaml would change more than the entry "
                           f"{slug!r} (does the file end inside a block?); nothing was written")
    plan = Plan(root=root, references=refs_path, reference_text=new_refs, adopted=adopted, kept=kept)
    plan.files = [
        (root / "docs" / "papers" / slug / "index.md",
         template.render_note(slug, paper.title, paper.authors, paper.year, paper.arxiv, today)),
        (root / "notes_code" / slug / "__init__.py",
         template.render_package(slug, paper.title, paper.authors, paper.year, paper.arxiv)),
        (root / "tests" / slug / "__init__.py", template.render_tests_init(slug)),
        (root / "tests" / slug / f"test_{slug}.py", template.render_test_stub(slug)),
    ]
    return plan


def _write_new(path: Path, text: str) -> None:
    """Create ``path``; never overwrites."""
    with open(path, "x", encoding="utf-8", newline="\n") as f:
        f.write(text)


def _replace_text(path: Path, text: str) -> None:
    """Replace ``path``'s text atomically (a temporary file beside it, then ``os.replace``)."""
    tmp = path.with_name(f".{path.name}.notes-new.tmp")
    try:
        with open(tmp, "w", encoding="utf-8", newline="\n") as f:
            f.write(text)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def apply_plan(plan: Plan) -> None:
    """Write the plan; on any failure remove what was created and restore references.yaml."""
    made_dirs: list[Path] = []
    made_files: list[Path] = []
    refs_before: bytes | None = None
    try:
        for path, text in plan.files:
            missing = [p for p in [path.parent, *path.parent.parents] if not p.exists()]
            for d in reversed(missing):
                d.mkdir()
                made_dirs.append(d)
            _write_new(path, text)
            made_files.append(path)
        if plan.references is not None:
            refs_before = plan.references.read_bytes()
            _replace_text(plan.references, plan.reference_text)
    except BaseException as exc:
        if refs_before is not None:
            plan.references.write_bytes(refs_before)
        for p in reversed(made_files):
            p.unlink(missing_ok=True)
        for d in reversed(made_dirs):
            try:
                d.rmdir()
            except OSError:
                pass
        if isinstance(exc, OSError):
            raise ProjectError(f"could not write {getattr(exc, 'filename', '') or 'a file'}: "
                               f"{exc.strerror or exc}; removed what was created") from exc
        raise


def cmd_new(args: argparse.Namespace) -> int:
    slug = validate_slug(args.slug)
    paper = Paper(
        title=validate_text(args.title, "--title") if args.title is not None else None,
        authors=validate_authors(args.authors) if args.authors is not None else None,
        year=validate_year(args.year) if args.year is not None else None,
        arxiv=validate_arxiv(args.arxiv),
        venue=validate_text(args.venue, "--venue") if args.venue is not None else None,
        doi=validate_doi(args.doi), url=validate_url(args.url))
    root = project_root(args.root)
    plan = plan_new(root, slug, paper, dt.date.today())
    apply_plan(plan)
    for path, _ in plan.files:
        print(f"created  {path.relative_to(root).as_posix()}")
    if plan.adopted:
        print(f"adopted  the references.yaml entry {slug!r} (its fields kept; note: {slug}, "
              f"status: {template.STATUS_NEW})")
        for line in plan.kept:
            print(f"         {line}")
    else:
        print(f"appended {slug!r} to references.yaml")
    print(f"""
next steps:
  1. write the note: docs/papers/{slug}/index.md (replace the TODOs of each section)
  2. replace the example claim '{slug}/example-claim' and write its test in
     tests/{slug}/test_{slug}.py (the stub fails until you do); code goes in notes_code/{slug}/
  3. notes check                      # lint; reports the stub until step 2 is done
  4. make test-note NOTE={slug}
  5. make serve                       # the note appears in the navigation by itself""")
    return 0


# --- notes check --------------------------------------------------------------------------

def cmd_check(args: argparse.Namespace) -> int:
    root = project_root(args.root)
    report = lint.check_project(root)
    for problem in report.problems:
        print(problem)
    if report.problems:
        print(f"{len(report.problems)} problem(s) in {report.notes} notes, {report.claims} claims",
              file=sys.stderr)
        return 1
    print(f"ok: {report.notes} notes, {report.claims} claims")
    return 0


# --- notes list ---------------------------------------------------------------------------

def _width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def table(rows: list[list[str]]) -> str:
    """Rows as aligned columns (Korean counts double width)."""
    widths = [max(_width(r[i]) for r in rows) for i in range(len(rows[0]))]
    return "\n".join("  ".join(c + " " * (w - _width(c)) for c, w in zip(r, widths, strict=True))
                     .rstrip() for r in rows)


def pass_rate(statuses: list[str]) -> str:
    """``passed/ran (pct%)`` over claims that passed or failed; ``n/a`` when none ran."""
    passed = statuses.count("passed")
    ran = passed + statuses.count("failed")
    return "n/a" if ran == 0 else f"{passed}/{ran} ({100 * passed // ran}%)"


def cmd_list(args: argparse.Namespace) -> int:
    root = project_root(args.root).resolve()
    try:
        index = kb_claims.build_index(root)
        report = kb_claims.load_report(root / kb_claims.REPORT_PATH)
    except (kb_claims.ClaimError, SyntaxError, UnicodeDecodeError) as exc:
        raise ProjectError(f"cannot read the claims: {exc}") from exc
    notes = []
    for path in lint.note_paths(root):
        try:
            meta, _ = kb_notes.read_front_matter(path)
        except (ValueError, yaml.YAMLError):
            meta = {}
        notes.append((path.parent.name, meta))
    notes.sort(key=lambda n: (n[1].get("year") if isinstance(n[1].get("year"), int) else 0, n[0]))
    rows = [["slug", "year", "status", "claims", "pass rate"]]
    for slug, meta in notes:
        ids = [cid for cid, c in index.claims.items() if c.note == slug]
        statuses = [kb_claims.claim_status(cid, index.tests.get(cid, []), report)[0] for cid in ids]
        rows.append([slug, str(meta.get("year", "?")), str(meta.get("status", "?")),
                     str(len(ids)), pass_rate(statuses)])
    print(table(rows))
    if len(rows) == 1:
        print("(no notes yet: notes new <slug> --title ... --authors ... --year ...)")
    return 0


# --- entry point --------------------------------------------------------------------------

class _Parser(argparse.ArgumentParser):
    """Argument errors as one line on stderr, exit code 2."""

    def error(self, message: str):  # type: ignore[override]
        self.exit(2, f"{self.prog}: error: {message} (see '{self.prog} --help')\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="notes", description="Start, lint and list the paper notes.")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    root_help = "the project folder (default: the one around the current directory)"

    new = sub.add_parser("new", help="start a note: note, package, test stub, bibliography entry",
                         description="Create docs/papers/<slug>/index.md, notes_code/<slug>/, "
                                     "tests/<slug>/ and the references.yaml entry <slug>; an "
                                     "entry <slug> that has no note yet is adopted (its fields "
                                     "kept). Refuses to overwrite anything.")
    new.add_argument("slug", help="lowercase name, also the Python package and the citation key: "
                                  "a-z, 0-9, '_' (e.g. pascanu2013)")
    new.add_argument("--title", help="the paper's title (Korean is fine); required unless "
                                     "references.yaml already has <slug>")
    new.add_argument("--authors", nargs="+", metavar="NAME",
                     help="one argument per author (or one argument separated by ';'), as "
                          "'Yoshua Bengio' or 'Bengio, Y.'; written 'Bengio, Y.' in references.yaml")
    new.add_argument("--year", help="publication year, 4 digits")
    new.add_argument("--arxiv", help="arXiv id (1211.5063) or its URL")
    new.add_argument("--venue", help="where it appeared (journal, volume, pages)")
    new.add_argument("--doi", help="DOI (10.1109/72.279181) or its https://doi.org/ URL")
    new.add_argument("--url", help="the paper's address (default: the DOI's, else the arXiv page)")
    new.add_argument("--root", help=root_help)
    new.set_defaults(func=cmd_new)

    check = sub.add_parser("check", help="lint every note; file:line: message per problem",
                           description="Sections, front matter, citation keys, claims and their "
                                       "tests (stubs included), links to pages. Exit 1 on any "
                                       "problem.")
    check.add_argument("--root", help=root_help)
    check.set_defaults(func=cmd_check)

    lst = sub.add_parser("list", help="table of notes: slug, year, status, claims, pass rate",
                         description="Pass rate: claims whose tests passed, over claims that ran "
                                     "(reports/claims.json, written by pytest); n/a if none ran.")
    lst.add_argument("--root", help=root_help)
    lst.set_defaults(func=cmd_list)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the ``notes`` command; returns the exit code."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
        return args.func(args)
    except SystemExit as exc:  # argparse: --help (0) or a usage error (2)
        return exc.code if isinstance(exc.code, int) else 2
    except UsageError as exc:
        print(f"notes: error: {exc}", file=sys.stderr)
        return 2
    except ProjectError as exc:
        print(f"notes: error: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
