r"""Results reused while the files they were computed from have the same content.

``mkdocs serve`` rebuilds the whole site model after every save; the knowledge base's
own passes (the bibliography, the glossary, the mutation records, which note links to
which concept) would each re-read and re-parse their files, although a prose edit
changes one page. :func:`cached` keeps one result per name in this process, together
with the fingerprint of its inputs

$$F = \big[(p_i, \operatorname{sha1}(\text{bytes of } p_i))\big]_i
\quad (\text{missing file: } \varnothing),$$

plus any extra key the caller gives (e.g. which pages exist); the result is recomputed
as soon as $F$ or the key differs. Content, not modification times: an edit within the
same second, or a file restored from git, is still seen. Reading and hashing a file
costs far less than parsing YAML or resolving links. Errors are not cached (the next
call computes again).
"""

from __future__ import annotations

import copy
import hashlib
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, TypeVar

T = TypeVar("T")

_MEMO: dict[str, tuple[tuple, Any]] = {}
STATS = {"hits": 0, "misses": 0}


def file_digest(path: Path) -> str | None:
    """``sha1`` of the file's bytes, or ``None`` when it cannot be read."""
    try:
        return hashlib.sha1(Path(path).read_bytes(), usedforsecurity=False).hexdigest()
    except OSError:
        return None


def fingerprint(paths: Iterable[Path]) -> tuple[tuple[str, str | None], ...]:
    """``((path, digest), ...)`` of ``paths`` in the order given."""
    return tuple((str(p), file_digest(p)) for p in paths)


def cached(name: str, paths: Iterable[Path], compute: Callable[[], T], key: Any = None,
           deep: bool = True) -> T:
    """``compute()``, reused while every file of ``paths`` (and ``key``) is unchanged.

    Args:
        name: What is computed (one entry per name is kept).
        paths: The files ``compute`` reads.
        compute: Computes the value from those files.
        key: Anything else the value depends on (hashable, compared with ``==``).
        deep: Hand out a deep copy (callers may mutate the value); ``False`` for values
            made of immutable parts, which get a shallow copy of the outer list or dict.

    Returns:
        The value, as ``compute()`` would return it now.
    """
    fp = (fingerprint(paths), key)
    hit = _MEMO.get(name)
    if hit is not None and hit[0] == fp:
        STATS["hits"] += 1
        value = hit[1]
    else:
        STATS["misses"] += 1
        value = compute()
        _MEMO[name] = (fp, value)
    if deep:
        return copy.deepcopy(value)
    return type(value)(value) if isinstance(value, list | dict) else value


def clear() -> None:
    """Forget every kept result."""
    _MEMO.clear()
