r"""``make serve``'s fast reload: after a save, re-render only the pages it can change.

MkDocs 1.6 rebuilds every page on any change (a prose edit took 30.6 s). Its
``--dirty`` mode skips pages whose source is older than their output, but the
generated pages (API reference, test sources, claims index: ``mkdocs-gen-files``
writes them anew each build) always look new, and the API pages alone cost about
half of an execution-off build. So when serving with ``--dirty`` this module decides
itself which documentation pages are modified, from content hashes kept between
rebuilds (the ``notes_code.kb`` modules survive the serve loop's rebuilds):

* the first build renders everything;
* a change to a *global input* (``mkdocs.yml``, ``references.yaml``, the claims report,
  ``tests/``, ``notes_code/kb/``, the theme overrides) renders everything again, as before;
* otherwise a page is re-rendered when its own text changed (generated pages included:
  a changed test file changes its test-source page), when it is new, and

  - for a changed ``notes_code`` module: its API page and every page with executed
    blocks (the execution cache then re-runs only the blocks that import it);
  - for a changed data file under ``docs/`` (not a page): every page with executed blocks;
  - for a changed paper note: the home page too (its cards read the notes).

Rebuilding also costs time outside the pages: each rebuild loads a fresh config and
theme, so Jinja compiles every Material template again and lists the theme's ~14,000
files (icons). :func:`speed_up` keeps compiled templates in memory (a Jinja bytecode
cache checked against each template's source) and the theme listing, and skips
re-rendering the unchanged ``404.html`` and ``sitemap.xml``.

Skipped pages keep their last output and their titles in the navigation. Pages that
only *link* to an edited page (backlinks, "cited by") refresh on the next full build.

What every rebuild still does over the whole knowledge base is kept from growing with it
(profiled at 2 and 20 notes, see ``benchmarks/bench_build.py``): the claim index parses a
test file or scans a note only when its content changed (:mod:`notes_code.kb.claims`); the
bibliography, glossary, mutation records, notes' front matter and which note links to
which concept are re-read only when their files change (:mod:`notes_code.kb.memo`); the
search index keeps each page's entries and re-tokenises only the pages a rebuild renders
(:class:`notes_code.kb.search.PageIndex`).
"""

from __future__ import annotations

import hashlib
import logging
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jinja2
import jinja2.bccache

GLOBAL_INPUTS = ("mkdocs.yml", "references.yaml", "reports/claims.json", "pyproject.toml")
GLOBAL_DIRS = ("tests", "notes_code/kb", "overrides", "docs/assets/overrides", "scripts")
_EXEC_RE = re.compile(r"^[ \t]*(?:`{3,}|~{3,})[ \t]*(?:python|py|pycon)\b[^\n]*\bexec\s*=", re.M)
_API_RE = re.compile(r"^:::[ \t]+(\S+)", re.M)
DIRTY_WARNING = "A 'dirty' build is being performed"


def _digest(data: bytes) -> str:
    return hashlib.sha1(data, usedforsecurity=False).hexdigest()


def _tree_digests(root: Path, rels: tuple[str, ...], suffixes: tuple[str, ...] | None = None) -> dict:
    out: dict[str, str] = {}
    for rel in rels:
        base = root / rel
        paths = [base] if base.is_file() else sorted(base.rglob("*")) if base.is_dir() else []
        for p in paths:
            if p.is_file() and "__pycache__" not in p.parts and (suffixes is None or p.suffix in suffixes):
                try:
                    out[p.relative_to(root).as_posix()] = _digest(p.read_bytes())
                except OSError:
                    pass
    return out


@dataclass
class Snapshot:
    """What the last build saw: content hashes of pages, global inputs, modules and data."""

    pages: dict[str, str] = field(default_factory=dict)
    globals_: dict[str, str] = field(default_factory=dict)
    modules: dict[str, str] = field(default_factory=dict)
    data: dict[str, str] = field(default_factory=dict)


class _DowngradeDirtyWarning(logging.Filter):
    """MkDocs warns on every dirty build, which ``--strict`` counts as a failure: make it INFO."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno == logging.WARNING and DIRTY_WARNING in str(record.msg):
            record.levelno, record.levelname = logging.INFO, "INFO"
        return True


@dataclass
class LiveState:
    """Kept across the rebuilds of one ``mkdocs serve``."""

    enabled: bool = False
    last: Snapshot | None = None
    titles: dict[str, str] = field(default_factory=dict)
    rendered: list[str] = field(default_factory=list)  # pages re-rendered by the last build
    _pending: Snapshot | None = None
    _files: Any = None


STATE = LiveState()


class _MemoryBytecodeCache(jinja2.BytecodeCache):
    """Compiled templates kept in memory across rebuilds (Jinja checks each source's checksum)."""

    def __init__(self) -> None:
        self.store: dict[str, bytes] = {}

    def load_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        """Fill ``bucket`` from memory, if this template was compiled before."""
        data = self.store.get(bucket.key)
        if data is not None:
            bucket.bytecode_from_string(data)

    def dump_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        """Keep ``bucket``'s bytecode."""
        self.store[bucket.key] = bucket.bytecode_to_string()


_BYTECODE = _MemoryBytecodeCache()
_LISTINGS: dict[tuple, list[str]] = {}


def speed_up(config: Any) -> None:
    """``on_config``: reuse compiled templates and the theme's file listing; on rebuilds, skip
    the theme's static pages (404, sitemap), which a page edit does not change."""
    if not STATE.enabled:
        return
    theme = config.theme
    make_env = theme.get_env

    def get_env() -> jinja2.Environment:
        env = make_env()
        env.bytecode_cache = _BYTECODE
        key = tuple(getattr(env.loader, "searchpath", ()) or ())
        list_all = env.list_templates

        def list_templates(extensions: Any = None, filter_func: Any = None) -> list[str]:
            memo = (key, tuple(extensions or ()), getattr(filter_func, "__code__", filter_func),
                    frozenset(theme.static_templates))
            if memo not in _LISTINGS:
                _LISTINGS[memo] = list_all(extensions=extensions, filter_func=filter_func)
            return list(_LISTINGS[memo])

        env.list_templates = list_templates  # type: ignore[method-assign]
        return env

    theme.get_env = get_env  # type: ignore[method-assign]
    if STATE.last is not None:
        theme.static_templates -= {"404.html", "sitemap.xml", "sitemap.xml.gz"}


def start(command: str, dirty: bool) -> None:
    """``on_startup``: enable the selective reload for ``mkdocs serve --dirty`` only."""
    STATE.enabled = command == "serve" and dirty
    STATE.last = None
    if STATE.enabled:
        logger = logging.getLogger("mkdocs.commands.build")
        if not any(isinstance(f, _DowngradeDirtyWarning) for f in logger.filters):
            logger.addFilter(_DowngradeDirtyWarning())


def _page_digest(file: Any) -> str:
    try:
        return _digest(file.content_bytes)
    except (OSError, TypeError, AttributeError):
        return ""


def select(files: Any, root: Path, docs_dir: Path) -> list[str] | None:
    """``on_files``: mark unchanged pages as not modified; returns the pages to render.

    Returns:
        ``None`` when everything renders (first build, a global input changed, or not
        serving with ``--dirty``), else the ``src_uri`` of every page that renders.
    """
    if not STATE.enabled:
        return None
    pages = {f.src_uri: f for f in files.documentation_pages()}
    snap = Snapshot(pages={uri: _page_digest(f) for uri, f in pages.items()},
                    globals_=_tree_digests(root, GLOBAL_INPUTS + GLOBAL_DIRS),
                    modules=_tree_digests(root, ("notes_code",), (".py",)),
                    data=_data_digests(docs_dir))
    snap.modules = {k: v for k, v in snap.modules.items() if not k.startswith("notes_code/kb/")}
    STATE._pending, STATE._files = snap, files
    last = STATE.last
    if last is None or snap.globals_ != last.globals_:
        STATE.rendered = sorted(pages)
        return None
    changed_modules = {k for k in set(snap.modules) | set(last.modules)
                       if snap.modules.get(k) != last.modules.get(k)}
    changed_names = {k[:-3].replace("/", ".").removesuffix(".__init__") for k in changed_modules}
    exec_inputs_changed = bool(changed_modules) or snap.data != last.data
    render: set[str] = set()
    for uri, file in pages.items():
        if snap.pages[uri] != last.pages.get(uri):
            render.add(uri)
            if uri.startswith("papers/") and uri.endswith("/index.md") and "index.md" in pages:
                render.add("index.md")
            continue
        if not (changed_names or exec_inputs_changed):
            continue
        text = file.content_string if exec_inputs_changed or uri.startswith("reference/") else ""
        api = _API_RE.search(text) if uri.startswith("reference/") else None
        if api and api.group(1) in changed_names:
            render.add(uri)
        elif exec_inputs_changed and _EXEC_RE.search(text):
            render.add(uri)
    for uri, file in pages.items():
        file.is_modified = (lambda: True) if uri in render else (lambda: False)
    STATE.rendered = sorted(render)
    return STATE.rendered


def _data_digests(docs_dir: Path) -> dict[str, str]:
    out = {}
    for p in sorted(docs_dir.rglob("*")):
        if p.is_file() and p.suffix != ".md" and "assets" not in p.relative_to(docs_dir).parts[:1]:
            try:
                out[p.relative_to(docs_dir).as_posix()] = _digest(p.read_bytes())
            except OSError:
                pass
    return out


def restore_titles(files: Any) -> None:
    """``on_nav``: pages that will not render keep the titles they had (not their file names)."""
    if not STATE.enabled or STATE.last is None:
        return
    for file in files.documentation_pages():
        page = file.page
        title = STATE.titles.get(file.src_uri)
        if page is not None and title and file.src_uri not in STATE.rendered:
            page._title_from_render = title


def finish() -> None:
    """``on_post_build``: remember this build's inputs and the titles of the pages it rendered."""
    if not STATE.enabled or STATE._pending is None:
        return
    for file in STATE._files.documentation_pages():
        page = file.page
        if page is not None and page.content is not None and page.title:
            STATE.titles[file.src_uri] = page.title
    STATE.last, STATE._pending = STATE._pending, None
