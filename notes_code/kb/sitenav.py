"""Navigation and page metadata for the reader's site.

* the navigation files that literate-nav reads (``SUMMARY.md``) are excluded from the
  build, so no "SUMMARY" page is reachable or indexed by search;
* every title in the navigation is HTML-escaped (literate-nav unescapes link text and
  Material prints titles as they are);
* a note's reading status (front matter ``status``) is taken out of the page's metadata
  before the theme sees it (Material would show an unexplained page-status icon with
  the class ``md-status--읽는 중``) and shown instead as a labelled badge under the title.
"""

from __future__ import annotations

import re

from mkdocs.structure.files import Files, InclusionLevel

from notes_code.kb import escape
from notes_code.kb import references as kb_refs

NAV_FILE = "SUMMARY.md"
STATUS_KEY = "reading_status"  # where the status goes, a key the theme does not read
_H1_RE = re.compile(r"^# .*$", re.M)


def exclude_nav_files(files: Files) -> list[str]:
    """Exclude every ``SUMMARY.md`` from the build; returns their paths."""
    hidden = []
    for file in files:
        if file.src_uri == NAV_FILE or file.src_uri.endswith("/" + NAV_FILE):
            file.inclusion = InclusionLevel.EXCLUDED
            hidden.append(file.src_uri)
    return hidden


def escape_nav(items) -> None:
    """HTML-escape the title of every navigation item, recursively (in place)."""
    for item in items:
        if getattr(item, "title", None):
            item.title = escape.normalize(str(item.title))
        escape_nav(getattr(item, "children", None) or [])


def take_status(meta: dict) -> str | None:
    """Move ``status`` to :data:`STATUS_KEY` in a page's metadata; returns the status."""
    if "status" in meta:
        meta[STATUS_KEY] = meta.pop("status")
    status = meta.get(STATUS_KEY)
    return str(status) if status is not None else None


def escape_title(meta: dict) -> None:
    """HTML-escape a front-matter ``title`` (the theme prints it in ``<title>`` and the nav)."""
    if isinstance(meta.get("title"), str):
        meta["title"] = escape.normalize(meta["title"])


def insert_badge(markdown: str, status: str) -> str:
    """The page's Markdown with the reading-status badge right after its first ``#`` heading."""
    badge = f'\n<p class="note-status">{kb_refs.status_badge(status)}</p>\n'
    m = _H1_RE.search(markdown)
    if not m:
        return badge + "\n" + markdown
    return markdown[: m.end()] + "\n" + badge + markdown[m.end() :]
