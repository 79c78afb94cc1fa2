"""The notes: one folder per paper under ``docs/papers/<slug>/``, front matter first."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import yaml

# libyaml's loader when PyYAML has it (the same safe subset, about ten times faster)
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@dataclass
class Note:
    """A paper note and its front matter."""

    slug: str
    path: Path
    meta: dict = field(default_factory=dict)

    @property
    def title(self) -> str:
        """The note's title (front matter ``title``, else the slug)."""
        return str(self.meta.get("title", self.slug))


def read_front_matter(path: Path) -> tuple[dict, int]:
    """``(front matter, number of lines it spans)``; ``({}, 0)`` when there is none."""
    text = Path(path).read_text(encoding="utf-8")
    if not text.startswith("---\n"):
        return {}, 0
    end = text.find("\n---\n", 4)
    if end == -1:
        raise ValueError(f"{path}:1: front matter is not closed by '---'")
    meta = yaml.load(text[4:end], Loader=_LOADER) or {}
    if not isinstance(meta, dict):
        raise ValueError(f"{path}:1: front matter is not a mapping")
    return meta, text[: end + 5].count("\n")


def discover(docs_dir: Path) -> list[Note]:
    """Every ``docs/papers/<slug>/index.md``, sorted by year then slug."""
    notes = []
    for index in sorted((Path(docs_dir) / "papers").glob("*/index.md")):
        meta, _ = read_front_matter(index)
        notes.append(Note(slug=index.parent.name, path=index, meta=meta))
    return sorted(notes, key=lambda n: (int(n.meta.get("year", 0) or 0), n.slug))
