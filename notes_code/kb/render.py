"""Markdown rewriting for notes: claims with their test status, and link helpers."""

from __future__ import annotations

import functools
import html
import posixpath
import re
from pathlib import Path

from notes_code.kb import mutation as kb_mutation
from notes_code.kb.claims import CLAIM_RE, STATUS_LABELS, ClaimIndex, claim_status

# Plain glyphs that the CJK and Latin fonts have (emoji would need an emoji font).
STATUS_ICONS = {"passed": "✓", "failed": "✗", "not-run": "○", "skipped": "–"}


def relative(target_uri: str, page_uri: str) -> str:
    """A link from the page at ``page_uri`` to ``target_uri`` (both docs-relative)."""
    return posixpath.relpath(target_uri, posixpath.dirname(page_uri) or ".")


def test_page_uri(test_file: str) -> str:
    """Where the published source of ``tests/<...>.py`` lives in the site."""
    return test_file[: -len(".py")] + ".md"


def test_anchor(function: str) -> str:
    """The heading anchor of a test function on its source page."""
    return function.lower()


def _block_end(lines: list[str], start: int, indent: str) -> int:
    """Index after the last line of the admonition body that starts at ``start``."""
    body_indent = len(indent.expandtabs()) + 4
    end = start + 1
    last = start
    while end < len(lines):
        line = lines[end]
        if line.strip():
            if len(line) - len(line.lstrip()) < body_indent:
                break
            last = end
        end += 1
    return last + 1


def render_claims(markdown: str, page_uri: str, index: ClaimIndex, report: dict) -> str:
    """Rewrite every ``!!! claim "<id>"`` admonition of a page.

    The title shows the status; the body gets the linked tests and the command
    that runs exactly them.
    """
    lines = markdown.split("\n")
    out: list[str] = []
    i = 0
    while i < len(lines):
        m = CLAIM_RE.match(lines[i])
        if not m or m["id"] not in index.claims:
            out.append(lines[i])
            i += 1
            continue
        cid, indent = m["id"], m["indent"]
        refs = index.tests.get(cid, [])
        status, outcomes = claim_status(cid, refs, report)
        end = _block_end(lines, i, indent)
        pad = indent + "    "
        label = STATUS_LABELS[status]
        title = (f"<span class='claim-status claim-status--{status}'>{label}</span> "
                 f"주장 <code>{html.escape(cid)}</code>")
        out.append(f'{indent}{m["marker"]} claim "{title}"')
        out.extend(lines[i + 1 : end])
        anchor = "claim-" + cid.replace("/", "-")
        out.append("")
        out.append(f'{pad}<div class="claim-tests" id="{anchor}" data-claim="{cid}" '
                   f'data-status="{status}">')
        out.append("")
        n_pass = sum(1 for _, o in outcomes if o == "passed")
        out.append(f"{pad}**이 주장을 확인하는 테스트** ({n_pass}/{len(outcomes)} 통과)")
        out.append("")
        for ref, outcome in outcomes:
            link = relative(test_page_uri(ref.nodeid.split("::")[0]), page_uri)
            out.append(f"{pad}- {STATUS_ICONS[outcome]} [`{ref.nodeid}`]"
                       f"({link}#{test_anchor(ref.function)}) — {STATUS_LABELS[outcome]}")
        records = mutation_records(index.docs_dir) if index.docs_dir is not None else None
        if records is not None:
            out.append("")
            line = kb_mutation.claim_line(index.modules_of(cid), [r.nodeid for r in refs], records)
            out.append(f'{pad}<span class="claim-mutation">{line}</span>')
        out.append("")
        out.append(f"{pad}이 주장만 다시 실행하기:")
        out.append("")
        out.append(f"{pad}```bash")
        out.append(f"{pad}make test-claim CLAIM={cid}")
        out.append(f"{pad}```")
        out.append("")
        out.append(f"{pad}</div>")
        i = end
    return "\n".join(out)


def mutation_records(docs_dir: Path) -> kb_mutation.Records:
    """The mutation records under ``docs_dir`` (re-read only when a record file changes)."""
    data = Path(docs_dir) / "data"
    stamps = tuple(sorted((str(p), p.stat().st_mtime_ns) for p in data.glob("*/mutation*")))
    return _load_records(str(docs_dir), stamps)


@functools.lru_cache(maxsize=4)
def _load_records(docs_dir: str, stamps: tuple) -> kb_mutation.Records:
    return kb_mutation.Records.load(Path(docs_dir))


_HEADING_RE = re.compile(r"^#{1,6}\s")


def strip_front_matter(text: str) -> str:
    """The Markdown body without a leading YAML front-matter block."""
    if text.startswith("---\n"):
        end = text.find("\n---\n", 4)
        if end != -1:
            return text[end + 5 :]
    return text
