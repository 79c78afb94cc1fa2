"""The paper cards of the home page and of the notes' section index.

The cards are Markdown that MkDocs itself converts (the hook replaces
:data:`CARDS_PLACEHOLDER`; ``scripts/gen_pages.py`` writes them into
``papers/index.md``), so their links are checked and rewritten like any other link.
Every value from front matter is escaped.

Order (:func:`reading_order`): finished notes first, then those being read, then the
planned ones; within a status, by the paper's year.
"""

from __future__ import annotations

from pathlib import Path

from notes_code.kb import claims as kb_claims
from notes_code.kb import escape, memo
from notes_code.kb import notes as kb_notes
from notes_code.kb import references as kb_refs
from notes_code.kb.render import tally

CARDS_PLACEHOLDER = "<!-- paper-cards -->"


def _claims_text(statuses: list[str]) -> str:
    """``주장 20/22 통과`` (of those that ran), or ``주장 22개 미실행`` when none ran."""
    if statuses and all(s == "not-run" for s in statuses):
        return f"주장 {len(statuses)}개 {tally(statuses)}"
    return f"주장 {tally(statuses)}" if statuses else "주장 없음"


def reading_order(notes: list[kb_notes.Note]) -> list[kb_notes.Note]:
    """Notes ordered by reading status (읽음, 읽는 중, 읽을 예정), then year, then slug."""
    rank = {s: i for i, s in enumerate(kb_refs.STATUSES)}

    def key(note: kb_notes.Note) -> tuple:
        year = note.meta.get("year", 0)
        return (rank.get(note.meta.get("status"), len(rank)),
                year if isinstance(year, int) else 0, note.slug)

    return sorted(notes, key=key)


def discover_notes(docs_dir: Path) -> list[kb_notes.Note]:
    """:func:`notes_code.kb.notes.discover`, re-read only when a note's front page changed."""
    pages = sorted((Path(docs_dir) / "papers").glob("*/index.md"))
    return memo.cached("notes", pages, lambda: kb_notes.discover(Path(docs_dir)), key=str(docs_dir))


def paper_cards(root: Path | None = None, base: str = "papers/") -> str:
    """Markdown for one Material grid card per paper note.

    Each card shows the title, authors, year, tags, reading status (a labelled badge)
    and how many of the note's claims passed their tests in the last recorded run
    ("미실행" when none of them has run, rather than "0/N 통과").

    Args:
        root: The project folder (holding ``docs/``, ``tests/``, ``reports/``);
            defaults to the working directory of the build.
        base: The folder of the notes, relative to the page showing the cards.

    Returns:
        A ``<div class="grid cards">`` block of Markdown.
    """
    root = Path(root or Path.cwd())
    index = kb_claims.current_index(root)  # during a build: the one the hooks built
    report = kb_claims.load_report(root / kb_claims.REPORT_PATH)
    cards = []
    for note in reading_order(discover_notes(root / "docs")):
        ids = [c for c in index.claims if c.split("/", 1)[0] == note.slug]
        statuses = [kb_claims.claim_status(c, index.tests.get(c, []), report)[0] for c in ids]
        tags = " ".join(f"<code>{escape.attr(t)}</code>" for t in note.meta.get("tags", []) or [])
        authors = ", ".join(escape.text(a) for a in note.meta.get("authors", []) or [])
        status = str(note.meta.get("status", "?"))
        cards.append(
            f"-   :material-file-document-outline: "
            f"**[{escape.text(note.title)}]({base}{note.slug}/index.md)**\n\n"
            f"    ---\n\n"
            f"    {authors} ({escape.text(note.meta.get('year', '?'))})\n\n"
            f"    {tags}\n\n"
            f"    {kb_refs.status_badge(status)} · {_claims_text(statuses)}"
        )
    return '<div class="grid cards" markdown>\n\n' + "\n\n".join(cards) + "\n\n</div>\n"
