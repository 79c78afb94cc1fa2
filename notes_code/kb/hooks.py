"""MkDocs hooks: the knowledge base's build logic, kept small so it can move.

* fail the build at the page whose executed block raised (markdown-exec only warns);
* purge ``notes_code.<paper>`` modules before each (re)build, so ``mkdocs serve``
  shows edits to the package;
* check claims (every claim has a test, no unknown or duplicate id) and citations
  (every key known) before anything renders;
* render claims with their test status, citations and bibliographies;
* hide the navigation files, escape titles, show the reading status as a badge
  (:mod:`notes_code.kb.sitenav`); render math to KaTeX HTML at build time
  (:mod:`notes_code.kb.katex`).

Everything here delegates to :mod:`notes_code.kb`.
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path

from mkdocs.exceptions import PluginError
from mkdocs.plugins import event_priority

from notes_code.kb import claims as kb_claims
from notes_code.kb import escape, exec_cache, exec_guard, home, links, live, memo, render, sitenav
from notes_code.kb import katex as kb_katex
from notes_code.kb import references as kb_refs
from notes_code.kb import search as kb_search

_state: dict = {}
_log = logging.getLogger("mkdocs.hooks.notes")


def project_root(config) -> Path:
    """The folder holding ``mkdocs.yml``."""
    return Path(config.config_file_path).resolve().parent


def on_startup(command: str, dirty: bool) -> None:
    live.start(command, dirty)  # `mkdocs serve --dirty`: re-render only what a save can change


def on_config(config):
    _state["root"] = project_root(config)
    _state["collector"] = exec_guard.install()
    try:
        _state["exec"] = exec_cache.from_environment(_state["root"])
    except ValueError as exc:
        raise PluginError(str(exc)) from exc
    exec_cache.install(_state["exec"])
    live.speed_up(config)
    if "katex" in _state:  # `mkdocs serve` reloads the config: one node process at a time
        _state["katex"].close()
    _state["katex"] = kb_katex.Renderer(Path(config.docs_dir) / "assets/katex/katex.min.js",
                                        cache_file=_state["root"] / "build" / "katex-cache.json")
    return config


@event_priority(-110)  # after literate-nav (-100) has read the SUMMARY files
def on_files(files, config):
    sitenav.exclude_nav_files(files)
    live.select(files, project_root(config), Path(config.docs_dir))
    kb_search.INDEX.set_pages([f.url for f in files.documentation_pages()])
    return files


def on_nav(nav, config, files):
    live.restore_titles(files)
    sitenav.escape_nav(nav.items)
    return nav


def on_pre_build(config) -> None:
    for name in [m for m in sys.modules if m.startswith("notes_code.")]:
        if not name.startswith("notes_code.kb"):
            del sys.modules[name]
    _state["exec"].begin_build()
    root = _state["root"]
    docs = Path(config.docs_dir)
    try:
        refs = load_references(root)
    except (OSError, kb_refs.ReferenceError_) as exc:
        raise PluginError(f"bibliography: {exc}") from exc
    index = kb_claims.build_index(root, docs_dir=docs, tests_dir=root / "tests")
    kb_claims.set_current(root, index, docs_dir=docs, tests_dir=root / "tests")  # for gen_pages, cards
    problems = index.problems()
    for path in sorted(docs.rglob("*.md")):
        problems += kb_refs.check_keys(path.read_text(encoding="utf-8"), refs, str(path))
    if problems:
        raise PluginError("knowledge-base integrity check failed:\n  " + "\n  ".join(problems))
    try:
        report = kb_claims.load_report(root / kb_claims.REPORT_PATH)
    except kb_claims.ClaimError as exc:
        raise PluginError(str(exc)) from exc
    notes = {n.slug: n for n in home.discover_notes(docs)}
    # which note links to which concept, and cites which note: re-read only when a note changes
    note_pages = sorted((docs / "papers").glob("*/*.md"))
    _state.update(refs=refs, index=index, report=report, notes=notes,
                  concept_users=memo.cached("concept-users", note_pages, lambda: links.concept_users(docs),
                                            key=str(docs)),
                  citing=memo.cached("citing-notes", [*note_pages, root / "references.yaml"],
                                     lambda: links.citing_notes(docs, refs), key=str(docs)))
    # the search index reads math as text; a dirty rebuild re-indexes only the pages it renders
    kb_search.install(config, incremental=live.STATE.enabled)


def load_references(root: Path) -> dict[str, kb_refs.Reference]:
    """``references.yaml``, parsed again only when its content changed (``mkdocs serve``)."""
    path = root / "references.yaml"
    return memo.cached("references", [path], lambda: kb_refs.load(path), key=str(path), deep=False)


def on_page_markdown(markdown: str, page, config, files) -> str:
    _state["collector"].drain()  # forget anything logged outside a page
    uri = page.file.src_uri
    sitenav.escape_title(page.meta)
    status = sitenav.take_status(page.meta)
    if page.file.generated_by:  # API, test sources, indexes: data, not prose
        return markdown
    _state["exec"].begin_page(uri, page.file.content_string)
    refs = _state["refs"]
    problems = kb_refs.check_keys(markdown, refs, uri)
    if problems:
        raise PluginError("\n".join(problems))
    markdown = render.render_claims(markdown, uri, _state["index"], _state["report"])
    markdown += _generated_links(uri)
    if home.CARDS_PLACEHOLDER in markdown:
        markdown = markdown.replace(home.CARDS_PLACEHOLDER, home.paper_cards(_state["root"]))
    if status and uri.startswith("papers/"):
        markdown = sitenav.insert_badge(markdown, status)
    has_bib = kb_refs.BIB_PLACEHOLDER in markdown
    if has_bib:
        keys = [k for _, k in kb_refs.cited_keys(markdown)]
        markdown = markdown.replace(kb_refs.BIB_PLACEHOLDER,
                                    kb_refs.render_bibliography(keys, refs))
        target = ""
    else:
        target = render.relative("reading-list.md", uri)
    note_links = {key: render.relative(f"papers/{ref.note}/index.md", uri) for key, ref in refs.items()
                  if ref.note in _state["notes"] and f"papers/{ref.note}/index.md" != uri}
    return kb_refs.render_citations(markdown, refs, target, note_links)


def _note_link(slug: str, uri: str) -> str:
    note = _state["notes"].get(slug)
    title = note.title if note else slug
    return f"- [{escape.text(title)}]({render.relative(f'papers/{slug}/index.md', uri)})"


def _generated_links(uri: str) -> str:
    """The generated 'used by' / 'cited by' section for a concept page or a note."""
    if uri.startswith("concepts/"):
        users = _state["concept_users"].get(uri, [])
        body = "\n".join(_note_link(s, uri) for s in users) or "아직 이 개념을 링크한 노트가 없습니다."
        return f"\n\n## 이 개념을 쓰는 노트\n\n{body}\n"
    parts = uri.split("/")
    if len(parts) == 3 and parts[0] == "papers" and parts[2] == "index.md":
        citing = _state["citing"].get(parts[1], [])
        body = "\n".join(_note_link(s, uri) for s in citing) or "아직 이 논문을 인용한 다른 노트가 없습니다."
        return f"\n\n## 이 논문을 인용한 내 노트\n\n{body}\n"
    return ""


def on_page_content(html: str, page, config, files) -> str:
    failures = _state["collector"].drain()
    if failures:
        detail = "\n".join(failures)
        raise PluginError(f"{page.file.src_uri}: an executed code block failed:\n{detail}")
    try:
        html = _state["katex"].render_html(html, page.file.src_uri)
        kb_katex.render_toc(page.toc, _state["katex"], page.file.src_uri)
    except kb_katex.KatexError as exc:
        raise PluginError(str(exc)) from exc
    return html


def on_post_page(output: str, page, config) -> str:
    return _state["exec"].restore_svgs(output)  # figures left out of the search parse go back in


def on_post_build(config) -> None:
    kb_claims.set_current(_state["root"], None)
    live.finish()
    _state["katex"].save()
    kb_search.post_build(config)  # (when not installed) Korean words, synonyms; no SUMMARY pages
    stats = _state["exec"].stats
    _state["exec"].write_stats()
    if stats.executed or stats.reused:
        _log.info("executed blocks: %d ran (%.1f s), %d reused from %s",
                  len(stats.executed), stats.seconds, len(stats.reused), _state["exec"].directory)


def on_build_error(error: Exception) -> None:
    kb_claims.set_current(Path("."), None)  # a failed build shares nothing with the next one


def on_shutdown() -> None:
    if "katex" in _state:
        _state["katex"].close()
