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
STATUS_ICONS = {"passed": "✓", "failed": "✗", "not-run": "○", "skipped": "–", "refuted": "≠"}


def relative(target_uri: str, page_uri: str) -> str:
    """A link from the page at ``page_uri`` to ``target_uri`` (both docs-relative)."""
    return posixpath.relpath(target_uri, posixpath.dirname(page_uri) or ".")


def test_page_uri(test_file: str) -> str:
    """Where the published source of ``tests/<...>.py`` lives in the site."""
    return test_file[: -len(".py")] + ".md"


def test_anchor(function: str) -> str:
    """The heading anchor of a test function on its source page."""
    return function.lower()


def claim_anchor(cid: str) -> str:
    """The anchor of a claim's statement on its note page (``claim-<note>-<id>``)."""
    return "claim-" + cid.replace("/", "-")


def last_run(report: dict, nodeid: str) -> str:
    """`` · 마지막 실행 0.05 s · 2026-12-01 19:54 · 커밋 4d93788`` for a test, else ``""``.

    A parametrized test's cases (``nodeid[...]``) are summed: total duration, the latest
    time and its commit, and the number of cases.
    """
    tests = report.get("tests") or {}
    entries = [v for k, v in tests.items() if isinstance(v, dict)
               and (k == nodeid or k.startswith(nodeid + "["))]
    if not entries:
        return ""
    parts = []
    durations = [e["duration"] for e in entries if isinstance(e.get("duration"), int | float)]
    if durations:
        cases = f" ({len(entries)}개 경우)" if len(entries) > 1 else ""
        parts.append(f"{sum(durations):.2f} s{cases}")
    latest = max(entries, key=lambda e: str(e.get("time", "")))
    if latest.get("time"):
        when = str(latest["time"])
        parts.append(f'<time datetime="{html.escape(when)}">'
                     f"{html.escape(when[:16].replace('T', ' '))}</time>")
    if latest.get("commit"):
        parts.append(f"커밋 <code>{html.escape(str(latest['commit']))}</code>")
    if not parts:
        return ""
    return ' <span class="claim-run" title="마지막 실행">· 마지막 실행 ' + " · ".join(parts) + "</span>"


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
        anchor = claim_anchor(cid)
        # the anchor sits on the title, so a link lands on the statement, not below it
        title = (f"<span class='claim-anchor' id='{html.escape(anchor)}'></span>"
                 f"<span class='claim-status claim-status--{status}'>{label}</span> "
                 f"주장 <code>{html.escape(cid)}</code>")
        out.append(f'{indent}{m["marker"]} claim "{title}"')
        out.extend(lines[i + 1 : end])
        out.append("")
        out.append(f'{pad}<div class="claim-tests" id="{html.escape(anchor)}-tests" '
                   f'data-claim="{html.escape(cid)}" data-status="{status}">')
        out.append("")
        out.append(f"{pad}**이 주장을 확인하는 테스트** ({tally([o for _, o in outcomes])})")
        out.append("")
        for ref, outcome in outcomes:
            link = relative(test_page_uri(ref.nodeid.split("::")[0]), page_uri)
            out.append(f"{pad}- {STATUS_ICONS[outcome]} [`{ref.nodeid}`]"
                       f"({link}#{test_anchor(ref.function)}) — {STATUS_LABELS[outcome]}"
                       f"{last_run(report, ref.nodeid)}")
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


def tally(outcomes: list[str]) -> str:
    """``"2/3 통과"`` over the tests (or claims) that ran, ``"미실행"`` when none ran.

    Not-run ones are counted apart (``"1/1 통과 · 2 미실행"``), never as failures:
    ``0/N 통과`` would read as N failures when the tests had simply not run yet.
    """
    not_run = outcomes.count("not-run")
    ran = len(outcomes) - not_run
    if ran == 0:
        return STATUS_LABELS["not-run"]
    text = f"{outcomes.count('passed')}/{ran} 통과"
    return f"{text} · {not_run} {STATUS_LABELS['not-run']}" if not_run else text


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
