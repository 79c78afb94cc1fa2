r"""The glossary shared by the notes and the site search.

`docs/data/glossary.yaml` lists the terms the notes use, each with its English name and the
other spellings a reader may type (야코비안, 야코비, Jacobian). Two things read it:

* the generated page `glossary.md` (용어집), a table of every term;
* the search index (:mod:`notes_code.kb.search`): a query for any single word of an entry
  also looks for the entry's other single words.

Every field is data: it is escaped where it enters HTML, and a malformed file is an error that
names the file and the entry.
"""

from __future__ import annotations

import html
import posixpath
from dataclasses import dataclass, field
from pathlib import Path

import yaml

GLOSSARY_PATH = "docs/data/glossary.yaml"
_KEYS = {"term", "en", "synonyms", "concept", "definition"}


class GlossaryError(ValueError):
    """The glossary file is malformed; the message names the file and the entry."""


@dataclass(frozen=True)
class Entry:
    """One glossary term.

    Attributes:
        term: The Korean word the notes use.
        en: The paper's English term.
        synonyms: Other spellings (a synonym may have several words).
        concept: The concept page, relative to `docs/`, or `""`.
        definition: One Korean sentence.
    """

    term: str
    en: str
    synonyms: tuple[str, ...] = field(default_factory=tuple)
    concept: str = ""
    definition: str = ""

    def names(self) -> list[str]:
        """The term, its English name and its synonyms, in that order."""
        return [self.term, self.en, *self.synonyms]

    def words(self) -> list[str]:
        """The single-word names, lower-cased: what a one-word query can match."""
        seen: list[str] = []
        for name in self.names():
            word = name.strip().lower()
            if word and " " not in word and word not in seen:
                seen.append(word)
        return seen


def _text(value: object, where: str, key: str, required: bool) -> str:
    if value is None and not required:
        return ""
    if not isinstance(value, str) or (required and not value.strip()):
        raise GlossaryError(f"{where}: '{key}' must be a non-empty string, got {value!r}")
    return value.strip()


def parse(data: object, source: str = GLOSSARY_PATH, docs_dir: Path | None = None) -> list[Entry]:
    """Validate the loaded YAML ``data`` and return its entries.

    Args:
        data: What `yaml.safe_load` returned.
        source: The file's name, for error messages.
        docs_dir: When given, every `concept` must be a file under it.

    Returns:
        The entries, in file order.

    Raises:
        GlossaryError: A missing or mistyped field, an unknown key, a concept page that does
            not exist, or a single word claimed by two entries.
    """
    if not isinstance(data, list):
        raise GlossaryError(f"{source}: the glossary must be a list of entries")
    entries: list[Entry] = []
    owner: dict[str, str] = {}
    for i, item in enumerate(data):
        where = f"{source}: entry {i + 1}"
        if not isinstance(item, dict):
            raise GlossaryError(f"{where}: an entry must be a mapping")
        unknown = set(item) - _KEYS
        if unknown:
            raise GlossaryError(f"{where}: unknown key(s) {sorted(unknown)}")
        term = _text(item.get("term"), where, "term", True)
        where = f"{source}: entry {i + 1} ({term})"
        synonyms = item.get("synonyms") or []
        if not isinstance(synonyms, list):
            raise GlossaryError(f"{where}: 'synonyms' must be a list")
        entry = Entry(term=term, en=_text(item.get("en"), where, "en", True),
                      synonyms=tuple(_text(s, where, "synonyms", True) for s in synonyms),
                      concept=_text(item.get("concept"), where, "concept", False),
                      definition=_text(item.get("definition"), where, "definition", False))
        if entry.concept:
            if posixpath.isabs(entry.concept) or ".." in entry.concept.split("/") \
                    or not entry.concept.endswith(".md"):
                raise GlossaryError(f"{where}: 'concept' must be a relative .md path, got "
                                    f"{entry.concept!r}")
            if docs_dir is not None and not (docs_dir / entry.concept).is_file():
                raise GlossaryError(f"{where}: concept page {entry.concept!r} does not exist")
        for word in entry.words():
            if word in owner:
                raise GlossaryError(f"{where}: the word {word!r} is already in entry "
                                    f"'{owner[word]}'")
            owner[word] = term
        entries.append(entry)
    return entries


def load(path: Path, docs_dir: Path | None = None) -> list[Entry]:
    """Read and validate the glossary file at ``path`` (see :func:`parse`)."""
    try:
        data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise GlossaryError(f"{path}: not valid YAML: {exc}") from exc
    return parse(data, str(path), docs_dir)


def synonym_groups(entries: list[Entry]) -> list[list[str]]:
    """The single words of each entry that has at least two: what the search expands."""
    return [words for words in (e.words() for e in entries) if len(words) > 1]


def _cell(text: str) -> str:
    """Escape ``text`` for an HTML-safe Markdown table cell."""
    return html.escape(text, quote=True).replace("|", "&#124;")


def render_page(entries: list[Entry]) -> str:
    """The Markdown of the glossary page (`glossary.md`), every field escaped."""
    # Every term is on this page: below the notes and concept pages that explain them in search.
    out = ["---\nsearch:\n  boost: 0.02\n---\n", "# 용어집\n",
           "노트에 나오는 용어와 논문의 영어 표현, 그리고 다른 표기입니다. "
           "사이트 검색은 한 표기로 찾아도 다른 표기를 쓴 페이지까지 찾습니다.\n",
           "| 용어 | 영어 | 다른 표기 | 뜻 |", "|---|---|---|---|"]
    for e in sorted(entries, key=lambda e: e.term):
        term = _cell(e.term)
        if e.concept:
            term = f"[{term}]({_cell(e.concept)})"
        out.append(f"| {term} | {_cell(e.en)} | {', '.join(_cell(s) for s in e.synonyms)} "
                   f"| {_cell(e.definition)} |")
    return "\n".join(out) + "\n"
