"""Generate the pages that come from data, at build time (mkdocs-gen-files).

* ``reference/``: one API page per module of ``notes_code`` (mkdocstrings);
* ``tests/``: the source of every test file, one section per test function, so a
  claim can link to the exact test;
* ``claims.md``: every claim, grouped by note, with its status;
* ``reading-list.md``: every reference, with its reading status and citing notes;
* ``papers/index.md``: the section's own index page (the paper cards);
* ``papers/SUMMARY.md`` and ``concepts/SUMMARY.md``: the navigation of those folders
  (read by literate-nav, then excluded from the build by the hook).

Every value that comes from data (titles, authors, ids) is escaped with
:mod:`notes_code.kb.escape`.
"""

from __future__ import annotations

from pathlib import Path

import mkdocs_gen_files

from notes_code.kb import claims as kb_claims
from notes_code.kb import escape, home, memo
from notes_code.kb import glossary as kb_glossary
from notes_code.kb import mutation as kb_mutation
from notes_code.kb import notes as kb_notes
from notes_code.kb import references as kb_refs
from notes_code.kb.render import STATUS_ICONS, claim_anchor, mutation_records, relative, test_page_uri

config = mkdocs_gen_files.config
root = Path(config.config_file_path).resolve().parent
docs = Path(config.docs_dir)


# API and test-source pages rank below notes and concept pages in search (Material's
# `search.boost` front matter multiplies every score of the page).
LOW_SEARCH_RANK = "---\nsearch:\n  boost: 0.0001\n---\n\n"


def write(uri: str, text: str) -> None:
    with mkdocs_gen_files.open(uri, "w") as f:
        f.write(text)


# --- API reference --------------------------------------------------------------------
api_nav = mkdocs_gen_files.Nav()
for path in sorted((root / "notes_code").rglob("*.py")):
    module = path.relative_to(root).with_suffix("")
    parts = tuple(module.parts)
    if parts[-1] in ("__main__", "hooks") or parts[-1].startswith("_") and parts[-1] != "__init__":
        continue
    if parts[-1] == "__init__":
        parts = parts[:-1]
        doc = Path(*parts, "index.md")
    else:
        doc = Path(*parts).with_suffix(".md")
    api_nav[parts] = doc.as_posix()
    # A package page shows its docstring and links to its modules, not every re-exported
    # member again (pascanu2013's page was 1.2 MB with them).
    options = "\n    options:\n      members: false\n" if doc.name == "index.md" else "\n"
    write(f"reference/{doc.as_posix()}",
          LOW_SEARCH_RANK + f"# `{'.'.join(parts)}`\n\n::: {'.'.join(parts)}{options}")
write("reference/SUMMARY.md", "".join(api_nav.build_literate_nav()))

# --- test sources -----------------------------------------------------------------------
index = kb_claims.current_index(root, docs_dir=docs, tests_dir=root / "tests")  # the hooks' own
notes = home.reading_order(home.discover_notes(docs))
title_of = {n.slug: n.title for n in notes}
claims_of_test: dict[tuple[str, str], list[str]] = {}
for cid, test_refs in index.tests.items():
    for ref in test_refs:
        claims_of_test.setdefault((ref.nodeid.split("::")[0], ref.function), []).append(cid)


def claim_backlinks(rel: str, function: str, page_uri: str) -> list[str]:
    """Markdown lines linking a test back to the claims it checks and their notes."""
    out = []
    for cid in sorted(claims_of_test.get((rel, function), [])):
        claim = index.claims.get(cid)
        if claim is None:
            continue
        note_page = claim.file.relative_to(docs).as_posix()
        link = relative(note_page, page_uri)
        out.append(f"- 주장 [`{cid}`]({link}#{claim_anchor(cid)}) — 노트 "
                   f"[{escape.text(title_of.get(claim.note, claim.note))}]({link})")
    return (["이 테스트가 확인하는 주장:\n", *out, ""]) if out else []


test_nav = mkdocs_gen_files.Nav()
for path in sorted((root / "tests").rglob("test_*.py")):
    rel = path.relative_to(root).as_posix()
    lines = path.read_text(encoding="utf-8").splitlines()
    out = [f"# `{rel}`\n", f"이 페이지는 저장소의 `{rel}` 파일을 그대로 보여 줍니다.\n",
           "```bash", f"python -m pytest {rel}", "```\n"]
    # parsed once per file content (kept across `mkdocs serve` rebuilds, see kb.claims)
    for name, start, end in kb_claims.scan_file(path).functions:
        body = "\n".join(lines[start - 1 : end])
        out += [f"## {name}\n", *claim_backlinks(rel, name, test_page_uri(rel)),
                f'```python linenums="{start}"', body, "```\n"]
    uri = test_page_uri(rel)
    test_nav[tuple(Path(rel).parts[1:])] = Path(uri).relative_to("tests").as_posix()
    write(uri, LOW_SEARCH_RANK + "\n".join(out))
write("tests/SUMMARY.md", "".join(test_nav.build_literate_nav()))

# --- claims index -----------------------------------------------------------------------
report = kb_claims.load_report(root / kb_claims.REPORT_PATH)
out = ["# 주장과 테스트\n",
       "노트의 모든 주장(claim)과, 그것을 확인하는 테스트의 마지막 실행 결과입니다. "
       "상태는 `make test`가 pytest를 먼저 돌려 `reports/claims.json`에 기록한 결과로 빌드 때 정해집니다.\n",
       "```bash", "make test-claim CLAIM=<id>   # 주장 하나", "make test-note NOTE=<note>   # 노트 하나",
       "```\n"]
by_note: dict[str, list[kb_claims.Claim]] = {}
for claim in index.claims.values():
    by_note.setdefault(claim.note, []).append(claim)
counts = {"passed": 0, "failed": 0, "refuted": 0, "not-run": 0, "skipped": 0}
for note in sorted(by_note):
    out.append(f"## {escape.text(title_of.get(note, note))}\n")
    out.append("| 상태 | 주장 | 테스트 |")
    out.append("|---|---|---|")
    for claim in sorted(by_note[note], key=lambda c: c.line):
        status, outcomes = kb_claims.claim_status(claim.id, index.tests.get(claim.id, []), report)
        counts[status] += 1
        page = claim.file.relative_to(docs).as_posix()
        anchor = claim_anchor(claim.id)
        tests = ", ".join(
            f"[`{ref.function}`]({relative(test_page_uri(ref.nodeid.split('::')[0]), 'claims.md')}"
            f"#{ref.function.lower()})" for ref, _ in outcomes)
        out.append(f"| {STATUS_ICONS[status]} {kb_claims.STATUS_LABELS[status]} "
                   f"| [`{claim.id}`]({page}#{anchor}) | {tests} |")
    out.append("")
summary = ", ".join(f"{kb_claims.STATUS_LABELS[k]} {v}" for k, v in counts.items() if v)
out.insert(2, f"**합계:** 주장 {len(index.claims)}개 — {summary or '없음'}.\n")
out.append(kb_mutation.survivors_markdown(mutation_records(docs)))
write("claims.md", "\n".join(out))

# --- reading list -------------------------------------------------------------------------
refs_file = root / "references.yaml"
refs = memo.cached("references", [refs_file], lambda: kb_refs.load(refs_file), key=str(refs_file), deep=False)
cited_by: dict[str, list[str]] = {}
for note in notes:
    for _, key in kb_refs.cited_keys(note.path.read_text(encoding="utf-8")):
        if key in refs and note.slug not in cited_by.setdefault(key, []):
            cited_by[key].append(note.slug)
out = ["# 읽기 목록\n",
       "노트들이 인용하거나 후속으로 읽으려는 모든 문헌입니다. "
       "목록은 `references.yaml`에서 빌드 때 만들어집니다.\n"]
for status in kb_refs.STATUSES:
    entries = sorted((r for r in refs.values() if r.status == status), key=lambda r: (r.year, r.key))
    if not entries:
        continue
    out.append(f"## {status}\n")
    for ref in entries:
        citing = ", ".join(f"[{escape.text(title_of.get(s, s))}](papers/{s}/index.md)"
                           for s in cited_by.get(ref.key, []))
        own = ""
        if ref.note and ref.note in title_of:
            own = f" — **노트:** [{escape.text(title_of[ref.note])}](papers/{ref.note}/index.md)"
        line = f'- <span id="ref-{escape.attr(ref.key)}"></span>{ref.markdown()}{own}'
        if citing:
            line += f"  \n  인용한 노트: {citing}"
        out.append(line)
    out.append("")
write("reading-list.md", "\n".join(out))

# --- the notes' section: index page and navigation ----------------------------------------
write("papers/index.md", "# 논문 노트\n\n"
      "읽은 논문마다 노트 하나입니다. 다 읽은 노트가 먼저, 읽는 중인 노트가 그다음입니다 "
      "(같은 상태에서는 논문 연도 순). 카드의 **읽기 상태** 배지는 노트의 front matter에서, "
      "주장 수는 마지막 테스트 실행(`reports/claims.json`)에서 옵니다.\n\n"
      + home.paper_cards(root, base=""))
papers_nav = ["- [논문 노트](index.md)"]
for note in notes:
    year = note.meta.get("year", "")
    papers_nav.append(f"- [{escape.text(note.title)} ({escape.text(year)})]({note.slug}/index.md)")
    for extra in sorted(note.path.parent.glob("*.md")):
        if extra.name != "index.md":
            meta, _ = kb_notes.read_front_matter(extra)
            papers_nav.append(f"    - [{escape.text(meta.get('title', extra.stem))}]"
                              f"({note.slug}/{extra.name})")
write("papers/SUMMARY.md", "\n".join(papers_nav) + "\n")
concepts = []
for page in sorted((docs / "concepts").glob("*.md")):
    if page.name in ("SUMMARY.md",):
        continue
    meta, _ = kb_notes.read_front_matter(page)
    concepts.append(f"- [{escape.text(meta.get('title', page.stem))}]({page.name})")
write("concepts/SUMMARY.md", "\n".join(concepts) + "\n")

# --- glossary (docs/data/glossary.yaml, shared with the search) ----------------------------
glossary_file = root / kb_glossary.GLOSSARY_PATH
# parsed again only when the file changed; its concept links are checked against the pages there are
pages_there = tuple(sorted(p.relative_to(docs).as_posix() for p in docs.rglob("*.md")))
entries = memo.cached("glossary-checked", [glossary_file], lambda: kb_glossary.load(glossary_file, docs),
                      key=(str(docs), pages_there), deep=False) if glossary_file.is_file() else []
write("glossary.md", kb_glossary.render_page(entries))
