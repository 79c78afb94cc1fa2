"""Generate the pages that come from data, at build time (mkdocs-gen-files).

* ``reference/``: one API page per module of ``notes_code`` (mkdocstrings);
* ``tests/``: the source of every test file, one section per test function, so a
  claim can link to the exact test;
* ``claims.md``: every claim, grouped by note, with its status;
* ``reading-list.md``: every reference, with its reading status and citing notes;
* ``papers/SUMMARY.md`` and ``concepts/SUMMARY.md``: the navigation of those folders.
"""

from __future__ import annotations

import ast
from pathlib import Path

import mkdocs_gen_files

from notes_code.kb import claims as kb_claims
from notes_code.kb import mutation as kb_mutation
from notes_code.kb import notes as kb_notes
from notes_code.kb import references as kb_refs
from notes_code.kb.render import STATUS_ICONS, relative, test_page_uri

config = mkdocs_gen_files.config
root = Path(config.config_file_path).resolve().parent
docs = Path(config.docs_dir)


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
    write(f"reference/{doc.as_posix()}", f"# `{'.'.join(parts)}`\n\n::: {'.'.join(parts)}\n")
write("reference/SUMMARY.md", "".join(api_nav.build_literate_nav()))

# --- test sources -----------------------------------------------------------------------
test_nav = mkdocs_gen_files.Nav()
for path in sorted((root / "tests").rglob("test_*.py")):
    rel = path.relative_to(root).as_posix()
    source = path.read_text(encoding="utf-8")
    lines = source.splitlines()
    tree = ast.parse(source)
    out = [f"# `{rel}`\n", f"이 페이지는 저장소의 `{rel}` 파일을 그대로 보여 줍니다.\n",
           "```bash", f"python -m pytest {rel}", "```\n"]
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef) and node.name.startswith("test"):
            start = min([d.lineno for d in node.decorator_list] + [node.lineno])
            body = "\n".join(lines[start - 1 : node.end_lineno])
            out += [f"## {node.name}\n", f'```python linenums="{start}"', body, "```\n"]
    uri = test_page_uri(rel)
    test_nav[tuple(Path(rel).parts[1:])] = Path(uri).relative_to("tests").as_posix()
    write(uri, "\n".join(out))
write("tests/SUMMARY.md", "".join(test_nav.build_literate_nav()))

# --- claims index -----------------------------------------------------------------------
index = kb_claims.build_index(root, docs_dir=docs, tests_dir=root / "tests")
report = kb_claims.load_report(root / kb_claims.REPORT_PATH)
notes = kb_notes.discover(docs)
title_of = {n.slug: n.title for n in notes}
out = ["# 주장과 테스트\n",
       "노트의 모든 주장(claim)과, 그것을 확인하는 테스트의 마지막 실행 결과입니다. "
       "상태는 `make test`가 pytest를 먼저 돌려 `reports/claims.json`에 기록한 결과로 빌드 때 정해집니다.\n",
       "```bash", "make test-claim CLAIM=<id>   # 주장 하나", "make test-note NOTE=<note>   # 노트 하나",
       "```\n"]
by_note: dict[str, list[kb_claims.Claim]] = {}
for claim in index.claims.values():
    by_note.setdefault(claim.note, []).append(claim)
counts = {"passed": 0, "failed": 0, "not-run": 0, "skipped": 0}
for note in sorted(by_note):
    out.append(f"## {title_of.get(note, note)}\n")
    out.append("| 상태 | 주장 | 테스트 |")
    out.append("|---|---|---|")
    for claim in sorted(by_note[note], key=lambda c: c.line):
        status, outcomes = kb_claims.claim_status(claim.id, index.tests.get(claim.id, []), report)
        counts[status] += 1
        page = claim.file.relative_to(docs).as_posix()
        anchor = "claim-" + claim.id.replace("/", "-")
        tests = ", ".join(
            f"[`{ref.function}`]({relative(test_page_uri(ref.nodeid.split('::')[0]), 'claims.md')}"
            f"#{ref.function.lower()})" for ref, _ in outcomes)
        out.append(f"| {STATUS_ICONS[status]} {kb_claims.STATUS_LABELS[status]} "
                   f"| [`{claim.id}`]({page}#{anchor}) | {tests} |")
    out.append("")
summary = ", ".join(f"{kb_claims.STATUS_LABELS[k]} {v}" for k, v in counts.items() if v)
out.insert(2, f"**합계:** 주장 {len(index.claims)}개 — {summary or '없음'}.\n")
out.append(kb_mutation.survivors_markdown(kb_mutation.Records.load(docs)))
write("claims.md", "\n".join(out))

# --- reading list -------------------------------------------------------------------------
refs = kb_refs.load(root / "references.yaml")
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
        citing = ", ".join(f"[{title_of.get(s, s)}](papers/{s}/index.md)" for s in cited_by.get(ref.key, []))
        own = ""
        if ref.note and ref.note in title_of:
            own = f" — **노트:** [{title_of[ref.note]}](papers/{ref.note}/index.md)"
        line = f'- <span id="ref-{ref.key}"></span>{ref.markdown()}{own}'
        if citing:
            line += f"  \n  인용한 노트: {citing}"
        out.append(line)
    out.append("")
write("reading-list.md", "\n".join(out))

# --- navigation of papers and concepts ----------------------------------------------------
papers_nav = []
for note in notes:
    year = note.meta.get("year", "")
    papers_nav.append(f"- [{note.title} ({year})]({note.slug}/index.md)")
    for extra in sorted(note.path.parent.glob("*.md")):
        if extra.name != "index.md":
            meta, _ = kb_notes.read_front_matter(extra)
            papers_nav.append(f"    - [{meta.get('title', extra.stem)}]({note.slug}/{extra.name})")
write("papers/SUMMARY.md", "\n".join(papers_nav) + "\n")
concepts = []
for page in sorted((docs / "concepts").glob("*.md")):
    if page.name in ("SUMMARY.md",):
        continue
    meta, _ = kb_notes.read_front_matter(page)
    concepts.append(f"- [{meta.get('title', page.stem)}]({page.name})")
write("concepts/SUMMARY.md", "\n".join(concepts) + "\n")
