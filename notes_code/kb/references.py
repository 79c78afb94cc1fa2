"""The bibliography: one YAML file, cited by key from the notes.

Prose cites with ``[@key]`` (several: ``[@a; @b]``). The hook replaces each
citation with a link to the entry; a ``<!-- bibliography -->`` line in a note
becomes that note's reference list; ``reading-list.md`` lists every entry with
its reading status and the notes that cite it. An unknown key is an error that
names the file, the line and the key.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from pathlib import Path

import yaml

from notes_code.kb import escape

CITE_RE = re.compile(r"\[(@[A-Za-z0-9_:-]+(?:\s*;\s*@[A-Za-z0-9_:-]+)*)\]")
KEY_RE = re.compile(r"@([A-Za-z0-9_:-]+)")
BIB_PLACEHOLDER = "<!-- bibliography -->"
STATUSES = ("읽음", "읽는 중", "읽을 예정")
REQUIRED = ("authors", "title", "year", "status")


class ReferenceError_(ValueError):
    """A bibliography problem: unknown key, malformed entry."""


@dataclass(frozen=True)
class Reference:
    """One bibliography entry."""

    key: str
    authors: str
    title: str
    year: int
    status: str
    venue: str = ""
    url: str = ""
    short: str = ""
    note: str = ""  # the slug of our note on this work, if there is one

    @property
    def label(self) -> str:
        """Short in-text label, e.g. ``Bengio et al. 1994``."""
        return self.short or f"{self.authors.split(',')[0].split(' and ')[0]} {self.year}"

    def markdown(self) -> str:
        """The full entry as one line of Markdown, every field escaped (data, not markup)."""
        title = escape.text(self.title)
        if self.url:
            title = f"[{title}]({escape.url_for_markdown(self.url)})"
        venue = f" {escape.text(self.venue)}." if self.venue else ""
        return f"{escape.text(self.authors)} ({escape.text(self.year)}). *{title}*.{venue}"


def load(path: Path) -> dict[str, Reference]:
    """Read and validate the bibliography file."""
    data = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
    if not isinstance(data, dict):
        raise ReferenceError_(f"{path}: expected a mapping of key -> entry")
    refs: dict[str, Reference] = {}
    for key, entry in data.items():
        if not isinstance(entry, dict):
            raise ReferenceError_(f"{path}: entry '{key}' is not a mapping")
        missing = [f for f in REQUIRED if f not in entry]
        if missing:
            raise ReferenceError_(f"{path}: entry '{key}' lacks {', '.join(missing)}")
        if entry["status"] not in STATUSES:
            raise ReferenceError_(f"{path}: entry '{key}' has status {entry['status']!r}; "
                                  f"use one of {', '.join(STATUSES)}")
        known = {k: entry[k] for k in Reference.__dataclass_fields__ if k in entry and k != "key"}
        for name, value in known.items():
            if name != "year" and not isinstance(value, str):
                raise ReferenceError_(f"{path}: entry '{key}' key '{name}' must be text, "
                                      f"not {type(value).__name__}")
        if not isinstance(known["year"], int):
            raise ReferenceError_(f"{path}: entry '{key}' key 'year' must be a number")
        if known.get("url"):
            try:
                known["url"] = escape.check_url(known["url"], f"{path}: entry '{key}' key 'url'")
            except escape.UnsafeURL as exc:
                raise ReferenceError_(str(exc)) from exc
        refs[str(key)] = Reference(key=str(key), **known)
    return refs


def cited_keys(markdown: str) -> list[tuple[int, str]]:
    """``(line, key)`` for every citation in a Markdown text, in order."""
    out = []
    for lineno, line in enumerate(markdown.splitlines(), 1):
        for m in CITE_RE.finditer(line):
            out += [(lineno, k) for k in KEY_RE.findall(m.group(1))]
    return out


def check_keys(markdown: str, refs: dict[str, Reference], where: str) -> list[str]:
    """Problems (``file:line: unknown citation key``) for one Markdown text."""
    return [f"{where}:{line}: unknown citation key '{key}' (not in references.yaml)"
            for line, key in cited_keys(markdown) if key not in refs]


def render_citations(markdown: str, refs: dict[str, Reference], target: str,
                     note_links: dict[str, str] | None = None) -> str:
    """Replace ``[@key]`` with links: to our note on that work if there is one, else to the entry.

    Args:
        markdown: The page's Markdown.
        refs: The bibliography.
        target: The page holding the entries, relative to the current page, or ``""``
            for the current page.
        note_links: key → link (relative to the current page) of our note on that work,
            for the works that have a note other than the current page.
    """
    note_links = note_links or {}

    def one(m: re.Match[str]) -> str:
        keys = KEY_RE.findall(m.group(1))
        links = [f"[{escape.text(refs[k].label)}]({note_links[k]})" if k in note_links
                 else f"[{escape.text(refs[k].label)}]({target}#ref-{k})" for k in keys]
        return "(" + "; ".join(links) + ")"

    return CITE_RE.sub(one, markdown)


def render_bibliography(keys: list[str], refs: dict[str, Reference]) -> str:
    """An HTML list of entries with ``ref-<key>`` anchors (status badge included)."""
    items = []
    for key in dict.fromkeys(keys):
        ref = refs[key]
        items.append(f'<li id="ref-{key}" markdown="span">{ref.markdown()} '
                     f'{status_badge(ref.status)}</li>')
    return '<ol class="bibliography" markdown>\n' + "\n".join(items) + "\n</ol>"


STATUS_CLASSES = {"읽음": "read", "읽는 중": "reading", "읽을 예정": "planned"}
STATUS_HELP = {"읽음": "끝까지 읽고 정리한 문헌", "읽는 중": "지금 읽고 있는 문헌 (노트가 바뀔 수 있음)",
               "읽을 예정": "아직 읽지 않은 문헌"}


def status_badge(status: str) -> str:
    """A labelled reading-status badge (``읽기 상태: 읽음``), separate from the text before it."""
    cls = STATUS_CLASSES.get(status, "other")
    help_text = STATUS_HELP.get(status, "")
    return (f'<span class="reading-status reading-status--{cls}" title="{escape.attr(help_text)}">'
            f'<span class="reading-status__label">읽기 상태</span> '
            f'<span class="reading-status__value">{html.escape(status)}</span></span>')
