"""The files that ``notes new`` writes: the note, the package, the claim-test stub.

The templates are string constants (no package data files); the ``render_*``
functions fill them in. Values that end up in YAML are dumped with :mod:`yaml`, and
the Python files are checked with :func:`compile`, so odd titles (quotes, colons,
Korean) cannot break them.
"""

from __future__ import annotations

import datetime as dt
import re
import textwrap

import yaml

from notes_code.kb.lint import REQUIRED_SECTIONS

EXAMPLE_CLAIM = "example-claim"
STATUS_NEW = "읽는 중"

NOTE_TEMPLATE = """\
---
{front_matter}---

# {title}

## 서지 정보

- **저자:** {authors}
- **연도:** {year}
{arxiv_line}- **인용:** [@{slug}]

## 요약

TODO: 이 논문이 푸는 문제와 주요 기여를 세 문장 안팎으로 적는다.

## 내 생각

TODO: 읽으면서 든 생각, 의문, 다른 논문과의 연결.

## 핵심 내용

TODO: 핵심 수식과 주장을 정리한다. 확인할 수 있는 주장마다 claim 블록을 두고 테스트를 단다.

!!! claim "{slug}/{claim}"
    TODO: 확인할 수 있는 주장 하나를 한 문장으로 적고,
    `tests/{slug}/test_{slug}.py`의 스텁 테스트를 채운다 (채우기 전에는 실패한다).

## 실험 및 결과

TODO: 실험 설정과 결과. 그림과 수치는 `notes_code/{slug}/`의 테스트된 코드로 만든다.

## 요약 및 결론

TODO: 논문의 결론과 한계.

## 모르는 개념

TODO: 모르는 개념을 적고, `docs/concepts/`에 개념 페이지가 있으면 링크한다.

## 후속 참고문헌

TODO: 이어서 읽을 문헌을 `references.yaml`에 추가하고 본문에서 키로 인용한다.

<!-- bibliography -->

## 학습 회고

TODO: 무엇을 배웠는지, 다음에는 무엇을 다르게 할지.
"""
"""The note, ``docs/papers/<slug>/index.md``; its ``##`` headings are :data:`REQUIRED_SECTIONS`."""

PACKAGE_TEMPLATE = '''\
"""{citation}

- note: ``docs/papers/{slug}/index.md``
- tests: ``tests/{slug}/``
- key in ``references.yaml``: ``{slug}``
{paper}"""
'''
"""``notes_code/<slug>/__init__.py``."""

TESTS_INIT_TEMPLATE = '''\
"""Tests of the note ``{slug}``."""
'''
"""``tests/<slug>/__init__.py`` (makes the test module names unique per note)."""

TEST_STUB_TEMPLATE = '''\
"""Claim tests of the note ``{slug}``.

STUB written by ``notes new``: ``test_example_claim`` fails on purpose until the
claim is tested. Replace it (and the example claim in the note) with real ones.
"""

import pytest


@pytest.mark.claim("{slug}/{claim}")
def test_example_claim() -> None:
    """STUB: check the example claim of the note (fails until written)."""
    # STUB from `notes new`: call the code in notes_code/ and assert what the claim says.
    pytest.fail("TODO: write this test of the note's example claim (stub from `notes new`)")
'''
"""``tests/<slug>/test_<slug>.py``: one failing claim test, marked as a stub."""


def _yaml(data: dict, flow: bool | None = None) -> str:
    """YAML text; ``flow=None`` writes lists of scalars inline (``[a, b]``)."""
    return yaml.safe_dump(data, allow_unicode=True, sort_keys=False, default_flow_style=flow,
                          width=1000)


def arxiv_url(arxiv: str) -> str:
    """The abstract page of an arXiv id."""
    return f"https://arxiv.org/abs/{arxiv}"


def front_matter(title: str, authors: list[str], year: int, today: dt.date,
                 arxiv: str | None = None) -> dict:
    """The front matter of a new note (status 읽는 중, no tags yet)."""
    meta: dict = {"title": title, "authors": list(authors), "year": year, "status": STATUS_NEW,
                  "tags": [], "date_read": today}
    if arxiv:
        meta["arxiv"] = arxiv
    return meta


def render_note(slug: str, title: str, authors: list[str], year: int,
                arxiv: str | None = None, today: dt.date | None = None) -> str:
    """The Markdown of a new note."""
    meta = front_matter(title, authors, year, today or dt.date.today(), arxiv)
    arxiv_line = f"- **arXiv:** [{arxiv}]({arxiv_url(arxiv)})\n" if arxiv else ""
    text = NOTE_TEMPLATE.format(front_matter=_yaml(meta), title=title, authors=", ".join(authors),
                                year=year, arxiv_line=arxiv_line, slug=slug, claim=EXAMPLE_CLAIM)
    assert [line[3:] for line in text.splitlines() if line.startswith("## ")] \
        == list(REQUIRED_SECTIONS)
    return text


_PARTICLES = frozenset({"van", "von", "der", "den", "de", "del", "della", "di", "da", "du", "la", "le"})
_INITIALS_RE = re.compile(r"^(?:[^\W\d_][^\W\d_]?\.(?:[ -]|$))+$")


def bib_name(name: str) -> str:
    """A name in the bibliography's style: ``Yoshua Bengio`` -> ``Bengio, Y.``.

    ``Felix A. Gers`` -> ``Gers, F. A.``; ``Jean-Pierre Serre`` -> ``Serre, J.-P.``;
    ``Laurens van der Maaten`` -> ``van der Maaten, L.``; a name already written
    ``Surname, I.`` (with a comma) is kept; a single word is kept.
    """
    name = " ".join(name.split())
    if "," in name or " " not in name:
        return name
    words = name.split(" ")
    cut = len(words) - 1
    while cut > 1 and words[cut - 1].lower() in _PARTICLES:
        cut -= 1
    given, surname = words[:cut], " ".join(words[cut:])

    def initial(word: str) -> str:
        if _INITIALS_RE.match(word + (" " if not word.endswith(".") else "")):
            return word
        return "-".join(f"{part[0]}." for part in word.split("-") if part)

    return f"{surname}, {' '.join(initial(w) for w in given)}"


def author_list(authors: list[str]) -> str:
    """``A, B and C``, the style of ``references.yaml``."""
    return authors[0] if len(authors) == 1 else ", ".join(authors[:-1]) + " and " + authors[-1]


def split_bib_authors(text: str) -> list[str]:
    """The names of a bibliography ``authors`` field: inverse of :func:`author_list` of
    :func:`bib_name` (``Bengio, Y., Simard, P. and Frasconi, P.`` -> three names)."""
    text = text.strip()
    if not text:
        return []
    head, _, last = text.rpartition(" and ")
    parts = [p.strip() for p in head.split(",")] if head else []
    if "," not in text:
        return [p for p in [*parts, last.strip()] if p]
    # "Surname, I." pairs: a part made only of initials belongs to the surname before it
    tokens = [p for p in parts if p] + [t.strip() for t in last.split(",")]
    names: list[str] = []
    for token in tokens:
        if names and _INITIALS_RE.match(token + ("" if token.endswith(".") else " ")) \
                and "," not in names[-1]:
            names[-1] = f"{names[-1]}, {token}"
        else:
            names.append(token)
    return names


def short_label(authors: list[str], year: int) -> str:
    """``Surname et al. 2013``: the surname is the part before a comma, else the last word."""
    first = authors[0].strip()
    surname = first.split(",")[0].strip() if "," in first else first.split()[-1]
    if len(authors) == 2:
        second = authors[1].strip()
        other = second.split(",")[0].strip() if "," in second else second.split()[-1]
        return f"{surname} & {other} {year}"
    return f"{surname} et al. {year}" if len(authors) > 2 else f"{surname} {year}"


def _docstring_safe(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"""', '\\"\\"\\"')


def render_package(slug: str, title: str, authors: list[str], year: int,
                   arxiv: str | None = None) -> str:
    """``notes_code/<slug>/__init__.py``: a docstring citing the paper."""
    citation = f"{author_list(authors)} ({year}), *{title}*."
    citation = "\n".join(textwrap.wrap(citation, width=92, break_long_words=False,
                                       break_on_hyphens=False))
    paper = f"\nPaper: <{arxiv_url(arxiv)}>\n" if arxiv else ""
    text = PACKAGE_TEMPLATE.format(citation=_docstring_safe(citation), slug=slug, paper=paper)
    compile(text, f"notes_code/{slug}/__init__.py", "exec")
    return text


def render_tests_init(slug: str) -> str:
    """``tests/<slug>/__init__.py``."""
    return TESTS_INIT_TEMPLATE.format(slug=slug)


def render_test_stub(slug: str) -> str:
    """``tests/<slug>/test_<slug>.py``: the failing stub test of the example claim."""
    text = TEST_STUB_TEMPLATE.format(slug=slug, claim=EXAMPLE_CLAIM)
    compile(text, f"tests/{slug}/test_{slug}.py", "exec")
    return text


def render_reference(slug: str, title: str, authors: list[str], year: int,
                     arxiv: str | None = None, venue: str | None = None,
                     url: str | None = None) -> str:
    """The YAML of the bibliography entry, to append to ``references.yaml``.

    Fields in the file's order (authors, short, title, venue, year, url, status, note);
    authors as ``Surname, I.`` (:func:`bib_name`) like every other entry.
    """
    names = [bib_name(a) for a in authors]
    entry: dict = {"authors": author_list(names), "short": short_label(names, year), "title": title}
    if venue:
        entry["venue"] = venue
    entry["year"] = year
    if url or arxiv:
        entry["url"] = url or arxiv_url(arxiv)  # type: ignore[arg-type]
    entry.update(status=STATUS_NEW, note=slug)
    return yaml_block({slug: entry})


def yaml_block(data: dict) -> str:
    """Block-style YAML of bibliography entries (the style of ``references.yaml``)."""
    return _yaml(data, flow=False)
