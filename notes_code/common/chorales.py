r"""# Bach chorales from music21's corpus as binary piano rolls

Table 1 of Pascanu et al. (2013) measures polyphonic music prediction on Piano-midi.de,
Nottingham and MuseData (the sets of Boulanger-Lewandowski et al. 2012), which are not
reachable offline. Their fourth set, JSB Chorales (382 four-part chorales from Allan &
Williams 2005), is the same body of music that `music21` ships in its corpus
(`music21/corpus/bach/`). This module turns those files into the same kind of data.

**Piano roll.** A chorale becomes a binary matrix $\mathbf{v} \in \{0, 1\}^{T \times 88}$:
row $t$ is the set of sounding pitches at time $t \cdot q$ (in quarter notes), column
$j$ is MIDI pitch $21 + j$ (A0 to C8, the 88 piano keys). The resolution is
$q = 1$ (one step per **quarter note**), the resolution of the JSB Chorales files of
Boulanger-Lewandowski et al. A pitch is on at step $t$ when a note of any voice covers
the instant $tq$: a note from offset $a$ to $a + d$ is on at the steps with $a \le tq < a + d$.
So notes shorter than $q$ that start between grid points (passing eighths) are dropped,
and held and repeated notes look the same. Repeats are not expanded; $T = \lceil
\text{end}/q \rceil$.

**Which files.** A file is used when it is a score with exactly four parts, or with
exactly one part each named Soprano, Alto, Tenor and Bass (then the others, e.g. a
doubling horn, are dropped). Everything else is **skipped with a reason**: roman-numeral
analyses (`.rntxt`), a second encoding of a chorale already read (`.krn` beside `.mxl`),
scores with another number of voices, files with no BWV number, pitches outside the 88
keys, empty scores, and files that cannot be read at all (a corrupted file never stops
the loader).

**Split.** By the integer part $n$ of the BWV number (`bwv244.3` has $n = 244$):
$n \bmod 5 = 0$ is **test**, $n \bmod 5 = 1$ is **validation**, the rest is **train**
(about 60/20/20, the proportions of JSB Chorales; the split itself differs from theirs).
Chorales of one cantata stay in one fold; the same melody harmonised under two BWV
numbers can land in two folds.

**Cache.** Each file's conversion is stored under `.cache/chorales/` (git-ignored), keyed
by the SHA-256 of the file's bytes, the resolution and `CONVERTER_VERSION`; parsing the
~400 files takes minutes, reading the cache a second. `ChoraleSet.data_hash` hashes the
rolls, names and resolution, so a results file can record exactly which data it saw.

`music21` is an optional dependency (the `music` extra): without it, loading raises
`MissingMusic21` with the command that installs it.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import os
import re
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

LOW, HIGH = 21, 108  # MIDI numbers of A0 and C8
N_KEYS = HIGH - LOW + 1  # 88
RESOLUTION = 1.0  # quarter notes per step
CONVERTER_VERSION = 1  # bump when the conversion changes (invalidates the cache)
FOLDS = ("train", "valid", "test")
SPLIT_RULE = "BWV n (integer part): n % 5 == 0 -> test, n % 5 == 1 -> valid, otherwise train"
ROOT = Path(__file__).resolve().parents[2]
CACHE_DIR = ROOT / ".cache" / "chorales"
INSTALL_HINT = "pip install -e '.[music]'"
_PREFERRED = (".mxl", ".xml", ".musicxml", ".krn")
_SATB = ("soprano", "alto", "tenor", "bass")

log = logging.getLogger(__name__)


class MissingMusic21(ImportError):
    r"""`music21` is not installed; the message names the extra that installs it."""


class NotAChorale(ValueError):
    r"""A file that is not a four-part chorale (the message is the logged reason)."""


def _music21() -> Any:
    try:
        import music21
    except ImportError as exc:
        raise MissingMusic21(f"the Bach chorales are read with music21, which is not installed; "
                             f"install the music extra: {INSTALL_HINT}") from exc
    return music21


def corpus_paths() -> list[Path]:
    r"""Every file music21's corpus lists for Bach (scores and analyses alike).

    Raises:
        MissingMusic21: without `music21`.
    """
    m21 = _music21()
    return sorted(Path(p) for p in m21.corpus.getComposer("bach"))


def bwv_number(name: str) -> int | None:
    r"""The integer part of the BWV number in a file name (`bwv244.3.mxl` -> 244), or `None`.

    Args:
        name: a file name or stem.
    """
    m = re.match(r"bwv(\d+)", Path(name).name.lower())
    return int(m.group(1)) if m else None


def fold_of(bwv: int) -> str:
    r"""The fold of a chorale by `SPLIT_RULE`: `"test"`, `"valid"` or `"train"`.

    Args:
        bwv: the integer part of the BWV number.
    """
    return {0: "test", 1: "valid"}.get(bwv % 5, "train")


def _voices(score: Any) -> list[Any]:
    """The four voices of a score, or NotAChorale."""
    parts = list(getattr(score, "parts", []))
    if len(parts) == 4:
        return parts
    named = {v: [p for p in parts if (p.partName or "").strip().lower().startswith(v)] for v in _SATB}
    if all(len(ps) == 1 for ps in named.values()):
        return [named[v][0] for v in _SATB]
    names = ", ".join(repr(p.partName) for p in parts)
    raise NotAChorale(f"{len(parts)} parts ({names}), not four voices")


def piano_roll(score: Any, resolution: float = RESOLUTION) -> np.ndarray:
    r"""The binary piano roll of a four-part score.

    Args:
        score: a parsed `music21` score.
        resolution: quarter notes per step ($q$).

    Returns:
        `(T, 88)` `uint8`, 1 where MIDI pitch `21 + j` sounds at time `t * resolution`.

    Raises:
        NotAChorale: for a score without four voices, with a pitch outside the 88 keys, or empty.
    """
    if not resolution > 0:
        raise ValueError(f"resolution must be positive, got {resolution!r}")
    voices = _voices(score)
    notes = [(float(n.offset), float(n.quarterLength), p.midi)
             for part in voices for n in part.flatten().notes for p in n.pitches]
    if not notes:
        raise NotAChorale("no notes")
    outside = sorted({m for _, _, m in notes if not LOW <= m <= HIGH})
    if outside:
        raise NotAChorale(f"MIDI pitches {outside} outside the 88 keys")
    end = max(on + dur for on, dur, _ in notes)
    roll = np.zeros((math.ceil(end / resolution - 1e-9), N_KEYS), dtype=np.uint8)  # (T, 88)
    for on, dur, midi in notes:
        first, stop = math.ceil(on / resolution - 1e-9), math.ceil((on + dur) / resolution - 1e-9)
        roll[first:stop, midi - LOW] = 1  # steps t with on <= t q < on + dur
    return roll


@dataclass(frozen=True)
class Chorale:
    r"""One converted chorale.

    Attributes:
        name: the file's stem, e.g. `"bwv66.6"`.
        bwv: integer part of the BWV number.
        roll: `(T, 88)` binary piano roll.
    """

    name: str
    bwv: int
    roll: np.ndarray = field(repr=False)

    @property
    def fold(self) -> str:
        r"""`"train"`, `"valid"` or `"test"` (`SPLIT_RULE`)."""
        return fold_of(self.bwv)


@dataclass
class ChoraleSet:
    r"""Converted chorales and the files skipped, with their reasons.

    Attributes:
        chorales: the chorales, sorted by name.
        skipped: file name -> why it was skipped.
        resolution: quarter notes per step.
    """

    chorales: list[Chorale]
    skipped: dict[str, str]
    resolution: float = RESOLUTION

    def split(self) -> dict[str, list[Chorale]]:
        r"""The chorales by fold (`FOLDS`), each list in name order."""
        return {f: [c for c in self.chorales if c.fold == f] for f in FOLDS}

    def data_hash(self) -> str:
        r"""SHA-256 (16 hex digits) of the resolution, names and rolls: identifies the data."""
        h = hashlib.sha256(f"q={self.resolution};v={CONVERTER_VERSION}".encode())
        for c in self.chorales:
            h.update(f"{c.name}:{c.roll.shape}".encode())
            h.update(np.ascontiguousarray(c.roll, dtype=np.uint8).tobytes())
        return h.hexdigest()[:16]

    def summary(self) -> dict[str, Any]:
        r"""Counts for the notes: files used and skipped, reasons grouped, steps per fold."""
        reasons: dict[str, int] = {}
        for why in self.skipped.values():
            unreadable = why.startswith("unreadable")
            kind = why.split(":", 1)[0] if unreadable else re.sub(r"\s*\(.*?\)", "", why).strip()
            reasons[kind] = reasons.get(kind, 0) + 1
        folds = self.split()
        return {"used": len(self.chorales), "skipped": len(self.skipped), "reasons": reasons,
                "chorales": {f: len(cs) for f, cs in folds.items()},
                "steps": {f: int(sum(len(c.roll) for c in cs)) for f, cs in folds.items()},
                "resolution": self.resolution, "split_rule": SPLIT_RULE, "data_hash": self.data_hash()}


def _cache_path(path: Path, resolution: float, cache_dir: Path) -> Path:
    digest = hashlib.sha256(path.read_bytes()).hexdigest()[:16]
    return cache_dir / f"{path.stem}-{digest}-q{resolution:g}-v{CONVERTER_VERSION}.npz"


def _read_cache(entry: Path) -> tuple[np.ndarray | None, str | None] | None:
    try:
        with np.load(entry, allow_pickle=False) as z:
            skip = str(z["skip"])
            return (None, skip) if skip else (z["roll"].astype(np.uint8), None)
    except Exception:  # noqa: BLE001 - a damaged cache entry is recomputed
        return None


def _write_cache(entry: Path, roll: np.ndarray | None, skip: str | None) -> None:
    entry.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=entry.parent, prefix=f".{entry.stem}.", suffix=".npz")
    try:
        with os.fdopen(fd, "wb") as f:
            np.savez_compressed(f, roll=roll if roll is not None else np.zeros((0, N_KEYS), np.uint8),
                                skip=np.array(skip or ""))
        os.replace(tmp, entry)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def convert_file(path: Path, resolution: float = RESOLUTION) -> np.ndarray:
    r"""Parse one file with music21 and return its piano roll (no cache).

    Args:
        path: a MusicXML (`.mxl`, `.xml`) or Humdrum (`.krn`) file.
        resolution: quarter notes per step.

    Raises:
        MissingMusic21: without `music21`.
        NotAChorale: the file is not a four-part chorale; any parse error is re-raised as
            `NotAChorale("unreadable: ...")`.
    """
    m21 = _music21()
    try:
        score = m21.converter.parse(str(path))
    except Exception as exc:  # noqa: BLE001 - any parser failure means "skip this file"
        raise NotAChorale(f"unreadable: {type(exc).__name__}: {str(exc)[:120]}") from exc
    return piano_roll(score, resolution)


def _pre_skip(path: Path, seen: dict[str, Path]) -> str | None:
    """A reason to skip a file without parsing it, or None."""
    if path.suffix == ".rntxt":
        return "roman-numeral analysis (.rntxt), not a score"
    if path.suffix not in _PREFERRED:
        return f"not a score format ({path.suffix})"
    if bwv_number(path.name) is None:
        return "no BWV number in the file name"
    if path.stem in seen:
        return f"duplicate: {seen[path.stem].name} already read"
    return None


def load_chorales(paths: Iterable[Path] | None = None, *, resolution: float = RESOLUTION,
                  cache_dir: Path | None = CACHE_DIR, limit: int | None = None) -> ChoraleSet:
    r"""Convert chorales to piano rolls, skipping (and logging) what is not a four-part chorale.

    Args:
        paths: files to read (default: `corpus_paths()`, the whole Bach corpus).
        resolution: quarter notes per step.
        cache_dir: where conversions are cached (`None`: no cache).
        limit: stop after this many chorales are converted (CI uses a small subset).

    Returns:
        A `ChoraleSet`. A file that fails for any reason is in `skipped` with its reason.

    Raises:
        MissingMusic21: without `music21` (also when every file would come from the cache:
            the corpus is found through music21).
    """
    _music21()
    paths = corpus_paths() if paths is None else [Path(p) for p in paths]
    order = {s: i for i, s in enumerate(_PREFERRED)}
    paths = sorted(paths, key=lambda p: (p.stem, order.get(p.suffix, len(order)), p.name))
    seen: dict[str, Path] = {}
    chorales: list[Chorale] = []
    skipped: dict[str, str] = {}
    for path in paths:
        if limit is not None and len(chorales) >= limit:
            break
        why = _pre_skip(path, seen)
        roll = None
        if why is None:
            seen[path.stem] = path
            try:
                entry = _cache_path(path, resolution, cache_dir) if cache_dir is not None else None
            except OSError as exc:
                entry, why = None, f"unreadable: {type(exc).__name__}: {exc}"
            cached = _read_cache(entry) if entry is not None and entry.exists() else None
            if why is None and cached is not None:
                roll, why = cached
            elif why is None:
                try:
                    roll = convert_file(path, resolution)
                except NotAChorale as exc:
                    why = str(exc)
                if entry is not None:
                    _write_cache(entry, roll, why)
        if why is not None:
            skipped[path.name] = why
            log.info("skipped %s: %s", path.name, why)
            continue
        chorales.append(Chorale(path.stem, bwv_number(path.name), roll))  # type: ignore[arg-type]
    return ChoraleSet(sorted(chorales, key=lambda c: c.name), skipped, resolution)


def save_summary(data: ChoraleSet, path: Path) -> None:
    r"""Write `data.summary()` and the skipped files as JSON (atomic).

    Args:
        data: the converted set.
        path: the JSON file.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        json.dump({**data.summary(), "skipped_files": data.skipped}, f, indent=1, ensure_ascii=False)
    os.replace(tmp, path)


def pitches_at(roll: np.ndarray, step: int) -> list[int]:
    r"""MIDI numbers sounding at one step of a roll (for tests and the notes).

    Args:
        roll: `(T, 88)` piano roll.
        step: the time step.
    """
    return [LOW + int(j) for j in np.flatnonzero(roll[step])]


__all__ = ["CACHE_DIR", "CONVERTER_VERSION", "FOLDS", "HIGH", "INSTALL_HINT", "LOW", "N_KEYS", "RESOLUTION",
           "SPLIT_RULE", "Chorale", "ChoraleSet", "MissingMusic21", "NotAChorale", "bwv_number",
           "convert_file", "corpus_paths", "fold_of", "load_chorales", "piano_roll", "pitches_at",
           "save_summary"]
