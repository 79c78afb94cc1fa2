"""Links between pages, computed from the Markdown: concept users and note backlinks.

* a concept page lists the notes that link to it;
* a note lists the other notes that cite its paper (``[@key]`` where the bibliography
  entry's ``note`` is that note).

Nothing here is hand-written on the pages: the hook appends the generated lists.
"""

from __future__ import annotations

import re
from pathlib import Path

from notes_code.kb import notes as kb_notes
from notes_code.kb import references as kb_refs

LINK_RE = re.compile(r"\]\(([^)\s]+?\.md)(?:#[^)]*)?\)")


def concept_users(docs_dir: Path) -> dict[str, list[str]]:
    """Concept page (docs-relative, e.g. ``concepts/jacobian.md``) → slugs of notes linking to it."""
    docs_dir = Path(docs_dir)
    users: dict[str, list[str]] = {}
    for note in kb_notes.discover(docs_dir):
        for page in sorted(note.path.parent.glob("*.md")):
            for target in LINK_RE.findall(page.read_text(encoding="utf-8")):
                resolved = (page.parent / target).resolve()
                try:
                    rel = resolved.relative_to(docs_dir.resolve()).as_posix()
                except ValueError:
                    continue
                if rel.startswith("concepts/") and note.slug not in users.setdefault(rel, []):
                    users[rel].append(note.slug)
    return users


def citing_notes(docs_dir: Path, refs: dict[str, kb_refs.Reference]) -> dict[str, list[str]]:
    """Note slug → slugs of the *other* notes that cite that note's paper."""
    by_key = {key: ref.note for key, ref in refs.items() if ref.note}
    cited: dict[str, list[str]] = {}
    for note in kb_notes.discover(docs_dir):
        text = "\n".join(p.read_text(encoding="utf-8") for p in sorted(note.path.parent.glob("*.md")))
        for _, key in kb_refs.cited_keys(text):
            target = by_key.get(key)
            if target and target != note.slug and note.slug not in cited.setdefault(target, []):
                cited[target].append(note.slug)
    return cited
