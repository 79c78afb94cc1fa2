"""Tests of notes_code.common.chorales: music21 chorales -> 88-key binary piano rolls (Table 1 data)."""

from __future__ import annotations

import sys

import numpy as np
import pytest

from notes_code.common import chorales as ch

music21 = pytest.importorskip("music21")


def _corpus(stem: str):
    return next(p for p in ch.corpus_paths() if p.name == f"{stem}.mxl")


@pytest.fixture(scope="module")
def few(tmp_path_factory) -> ch.ChoraleSet:
    """Three corpus chorales, converted into a fresh cache."""
    paths = [_corpus(s) for s in ("bwv66.6", "bwv1.6", "bwv245.15")]
    return ch.load_chorales(paths, cache_dir=tmp_path_factory.mktemp("cache"))


def test_hand_read_notes_bwv66_6(few) -> None:
    """§4.2 data (quarter-note piano roll): BWV 66.6 as read from the score by hand. Beat 1 is the
    pickup: soprano C#5 (eighth), alto E4, tenor A3, bass A3 -> {A3, E4, C#5}; beat 2: soprano A4,
    alto F#4, tenor C#4, bass F#3. The soprano's B4 (an eighth at offset 0.5) falls between grid
    points and is dropped."""
    roll = next(c.roll for c in few.chorales if c.name == "bwv66.6")
    assert roll.shape[1] == 88 and roll.dtype == np.uint8
    assert ch.pitches_at(roll, 0) == [57, 64, 73]  # A3, E4, C#5
    assert ch.pitches_at(roll, 1) == [54, 61, 66, 69]  # F#3, C#4, F#4, A4
    assert 71 not in ch.pitches_at(roll, 0) + ch.pitches_at(roll, 1)  # the passing B4
    assert len(roll) == 36  # the score's highest time is 36 quarter notes
    assert set(np.unique(roll)) <= {0, 1}


def test_five_part_score_keeps_satb(few) -> None:
    """A chorale with a doubling instrument (BWV 1.6 has 'Horn 2' beside SATB) is read as its four
    voices: at most 4 pitches sound at any step, and the first step is the hand-read chord."""
    score = music21.converter.parse(str(_corpus("bwv1.6")))
    assert len(score.parts) == 5
    roll = next(c.roll for c in few.chorales if c.name == "bwv1.6")
    assert int(roll.sum(1).max()) <= 4
    voices = [p for p in score.parts if p.partName != "Horn 2"]
    first = sorted({p.midi for v in voices for n in v.flatten().notes if n.offset == 0 for p in n.pitches})
    assert ch.pitches_at(roll, 0) == first


def test_roll_matches_independent_sampling(few) -> None:
    """The roll equals an independent reading: for every note of the four voices, music21's own
    `getElementsByOffset` says whether it sounds at t*q; compare on every step of BWV 245.15."""
    score = music21.converter.parse(str(_corpus("bwv245.15")))
    roll = next(c.roll for c in few.chorales if c.name == "bwv245.15")
    for t in range(len(roll)):
        sounding = set()
        for part in score.parts:
            for n in part.flatten().notes.getElementsByOffset(t, t, mustBeginInSpan=False,
                                                             includeElementsThatEndAtStart=False):
                sounding |= {p.midi for p in n.pitches}
        assert ch.pitches_at(roll, t) == sorted(sounding), t


def test_corrupted_and_non_chorale_files_are_skipped_with_reasons(tmp_path, caplog) -> None:
    """Bad input (loader): a corrupted .mxl, a two-part score, an analysis file and a file without a
    BWV number are skipped with a logged reason; the good chorale beside them is still read."""
    bad = tmp_path / "bwv999.1.mxl"
    bad.write_bytes(b"PK\x03\x04 this is not a zip archive")
    duet = music21.stream.Score([music21.stream.Part([music21.note.Note("C4", quarterLength=4)]),
                                 music21.stream.Part([music21.note.Note("E4", quarterLength=4)])])
    two = duet.write("musicxml", fp=tmp_path / "bwv998.2.xml")
    rn = tmp_path / "riemenschneider001.rntxt"
    rn.write_text("Composer: J. S. Bach\nm1 C: I\n")
    anon = tmp_path / "chorale.xml"
    anon.write_text("<score-partwise/>")
    with caplog.at_level("INFO", logger=ch.__name__):
        data = ch.load_chorales([bad, two, rn, anon, _corpus("bwv66.6")], cache_dir=tmp_path / "c")
    assert [c.name for c in data.chorales] == ["bwv66.6"]
    assert data.skipped[bad.name].startswith("unreadable")
    assert data.skipped["bwv998.2.xml"].startswith("2 parts")
    assert "roman-numeral" in data.skipped[rn.name]
    assert "no BWV number" in data.skipped[anon.name]
    assert all(name in caplog.text for name in data.skipped)
    assert data.summary()["skipped"] == 4


def test_duplicate_encoding_is_skipped(tmp_path) -> None:
    """The corpus has BWV 277 as .krn and .mxl: the .mxl is read, the .krn skipped as a duplicate."""
    krn = next(p for p in ch.corpus_paths() if p.name == "bwv277.krn")
    data = ch.load_chorales([krn, _corpus("bwv277")], cache_dir=tmp_path)
    assert [c.name for c in data.chorales] == ["bwv277"]
    assert data.skipped == {"bwv277.krn": "duplicate: bwv277.mxl already read"}


def test_split_rule_is_deterministic(few, tmp_path) -> None:
    """Split by the BWV number: n % 5 == 0 test, 1 valid, else train; a second load (from the
    cache, in another order) gives the same folds and the same data hash."""
    assert [ch.fold_of(n) for n in (245, 246, 247, 248, 249)] == ["test", "valid", "train", "train", "train"]
    assert ch.bwv_number("bwv244.3.mxl") == 244 and ch.bwv_number("riemenschneider001.rntxt") is None
    folds = {c.name: c.fold for c in few.chorales}
    assert folds == {"bwv1.6": "valid", "bwv245.15": "test", "bwv66.6": "valid"}
    paths = [_corpus(s) for s in ("bwv245.15", "bwv66.6", "bwv1.6")]
    cache = tmp_path / "cache"
    first = ch.load_chorales(paths, cache_dir=cache)
    again = ch.load_chorales(paths[::-1], cache_dir=cache)
    assert first.data_hash() == again.data_hash() == few.data_hash()
    assert {f: [c.name for c in cs] for f, cs in first.split().items()} == \
        {f: [c.name for c in cs] for f, cs in few.split().items()}


def test_cache_is_used_and_a_damaged_entry_recomputed(tmp_path, monkeypatch) -> None:
    """A second load reads the cache (the parser is not called); a damaged cache entry is converted
    again, and the result is the same roll."""
    path = _corpus("bwv66.6")
    first = ch.load_chorales([path], cache_dir=tmp_path)
    (entry,) = tmp_path.glob("bwv66.6-*.npz")

    def no_parse(*a, **k):
        raise AssertionError("parsed although cached")

    monkeypatch.setattr(ch, "convert_file", no_parse)
    cached = ch.load_chorales([path], cache_dir=tmp_path)
    assert np.array_equal(cached.chorales[0].roll, first.chorales[0].roll)
    monkeypatch.undo()
    entry.write_bytes(b"garbage")
    again = ch.load_chorales([path], cache_dir=tmp_path)
    assert np.array_equal(again.chorales[0].roll, first.chorales[0].roll)


def test_missing_music21_names_the_extra(monkeypatch) -> None:
    """Without music21 the loader raises one clear error naming `pip install -e '.[music]'`."""
    monkeypatch.setitem(sys.modules, "music21", None)
    with pytest.raises(ch.MissingMusic21, match=r"pip install -e '\.\[music\]'"):
        ch.load_chorales([])
    with pytest.raises(ImportError):
        ch.corpus_paths()


def test_piano_roll_rejects_bad_resolution_and_out_of_range_pitch() -> None:
    """A non-positive resolution is an error; a pitch outside A0-C8 makes the score a non-chorale."""
    parts = [music21.stream.Part([music21.note.Note(p, quarterLength=2)]) for p in ("C4", "E4", "G4", "C9")]
    score = music21.stream.Score(parts)
    with pytest.raises(ValueError):
        ch.piano_roll(score, 0)
    with pytest.raises(ch.NotAChorale, match="outside the 88 keys"):
        ch.piano_roll(score)
