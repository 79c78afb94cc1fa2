"""The home page's paper cards, generated from the notes and the claims report."""

from __future__ import annotations

from pathlib import Path

from notes_code.kb import claims as kb_claims
from notes_code.kb import notes as kb_notes
from notes_code.kb.render import tally


def _claims_text(statuses: list[str]) -> str:
    """``주장 20/22 통과`` (of those that ran), or ``주장 22개 미실행`` when none ran."""
    if statuses and all(s == "not-run" for s in statuses):
        return f"주장 {len(statuses)}개 {tally(statuses)}"
    return f"주장 {tally(statuses)}" if statuses else "주장 없음"


def paper_cards(root: Path | None = None) -> str:
    """Markdown for one Material grid card per paper note.

    Each card shows the title, year, tags, reading status and how many of the
    note's claims passed their tests in the last recorded run ("미실행" when none
    of them has run, rather than "0/N 통과").

    Args:
        root: The project folder (holding ``docs/``, ``tests/``, ``reports/``);
            defaults to the working directory of the build.

    Returns:
        A ``<div class="grid cards">`` block of Markdown.
    """
    root = Path(root or Path.cwd())
    index = kb_claims.build_index(root)
    report = kb_claims.load_report(root / kb_claims.REPORT_PATH)
    cards = []
    for note in kb_notes.discover(root / "docs"):
        ids = [c for c in index.claims if c.split("/", 1)[0] == note.slug]
        statuses = [kb_claims.claim_status(c, index.tests.get(c, []), report)[0] for c in ids]
        tags = " ".join(f"`{t}`" for t in note.meta.get("tags", []))
        authors = ", ".join(note.meta.get("authors", []))
        cards.append(
            f"-   :material-file-document-outline: **[{note.title}](papers/{note.slug}/index.md)**\n\n"
            f"    ---\n\n"
            f"    {authors} ({note.meta.get('year', '?')})\n\n"
            f"    {tags}\n\n"
            f"    상태: **{note.meta.get('status', '?')}** · {_claims_text(statuses)}"
        )
    return '<div class="grid cards" markdown>\n\n' + "\n\n".join(cards) + "\n\n</div>\n"
