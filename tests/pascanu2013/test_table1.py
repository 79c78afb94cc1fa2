"""Tests of notes_code.pascanu2013.table1: the Table 1 grid definition, its criteria and verdicts."""

from __future__ import annotations

import dataclasses

import pytest
from scipy import stats

from notes_code.pascanu2013 import table1 as t1
from notes_code.pascanu2013.polyphonic import PolyConfig


def _cells(values: dict[str, list[tuple[float, float]]],
           diverged: tuple[tuple[str, int], ...] = ()) -> list[dict]:
    """Run records: method -> per seed (train, test) NLL."""
    return [{"method": m, "seed": s, "nll": {"train": tr, "valid": te, "test": te},
             "diverged": (m, s) in diverged} for m, vals in values.items() for s, (tr, te) in enumerate(vals)]


CLIP = t1.NLLCriterion("pascanu2013/x", "lower-nll", "s", "n", "MSGD+C", "MSGD", ("train", "test"))


def test_lower_nll_met_only_when_every_fold_is_lower_and_significant() -> None:
    """The registered rule: lower mean on every listed fold AND two-sided paired t p < 0.05 on each
    (p equals scipy's ttest_rel); lower but not significant is 'consistent', not met."""
    good = _cells({"MSGD": [(8.5, 8.9), (8.6, 9.0), (8.55, 8.95)],
                   "MSGD+C": [(8.2, 8.6), (8.31, 8.72), (8.24, 8.63)]})
    v = t1.evaluate(CLIP, good)
    assert v.met and v.consistent
    ref = stats.ttest_rel([8.2, 8.31, 8.24], [8.5, 8.6, 8.55]).pvalue
    assert v.tests["train"].p_value == pytest.approx(ref)
    assert "대응 t 검정" in v.detail and "시드 3개" in v.detail
    noisy = _cells({"MSGD": [(8.5, 8.9), (8.6, 9.0), (8.55, 8.95)],
                    "MSGD+C": [(8.2, 8.6), (8.7, 9.1), (8.4, 8.8)]})
    w = t1.evaluate(CLIP, noisy)
    assert not w.met and w.consistent
    worse_test = _cells({"MSGD": [(8.5, 8.6), (8.6, 8.7), (8.55, 8.65)],
                         "MSGD+C": [(8.2, 8.9), (8.31, 9.0), (8.24, 8.95)]})
    x = t1.evaluate(CLIP, worse_test)
    assert not x.met and not x.consistent


def test_diverged_run_makes_criterion_unmet_and_mismatched_seeds_are_errors() -> None:
    """A diverged run has no NLL: the verdict is unmet and names it. Different seeds per method (or
    fewer than two) cannot be paired and raise."""
    cells = _cells({"MSGD": [(8.5, 8.9), (8.6, 9.0)], "MSGD+C": [(8.2, 8.6), (8.3, 8.7)]}, (("MSGD", 1),))
    v = t1.evaluate(CLIP, cells)
    assert not v.met and "MSGD 시드 1" in v.detail
    with pytest.raises(ValueError, match="same"):
        t1.evaluate(CLIP, _cells({"MSGD": [(8.5, 8.9), (8.6, 9.0)], "MSGD+C": [(8.2, 8.6)]}))


def test_criteria_are_part_of_the_grid_identity() -> None:
    """Pre-registration: changing a criterion (or a deviation) changes the grid's hash; cells are
    keyed by their PolyConfig, seed-major, one per (seed, method)."""
    g = t1.Table1Grid("g", "d", PolyConfig(n_hidden=5), seeds=(0, 1), criteria=(CLIP,))
    h = g.config_hash()
    assert dataclasses.replace(g, criteria=(dataclasses.replace(CLIP, alpha=0.1),)).config_hash() != h
    assert dataclasses.replace(g, deviations=("x",), deviations_ko=("y",)).config_hash() != h
    assert [(c.seed, c.method) for c in g.cells()] == [(0, "MSGD"), (0, "MSGD+C"), (0, "MSGD+CR"),
                                                        (1, "MSGD"), (1, "MSGD+C"), (1, "MSGD+CR")]
    assert len({c.key() for c in g.cells()}) == 6
    with pytest.raises(ValueError):
        t1.Table1Grid("g", "d", PolyConfig(), deviations=("x",))
    with pytest.raises(ValueError):
        t1.NLLCriterion("c/x", "lower-nll", "s", "n", "SGD", "MSGD")
    with pytest.raises(ValueError):
        t1.NLLCriterion("c/x", "higher", "s", "n", "MSGD+C", "MSGD")


def test_paper_table1_rows_are_copied_from_the_icml_text() -> None:
    """Table 1 (ICML text): the music rows as the paper prints them (checked against paper-facts)."""
    assert t1.PAPER_TABLE1["Nottingham"]["test"] == {"MSGD": 3.80, "MSGD+C": 3.48, "MSGD+CR": 3.36}
    assert t1.PAPER_TABLE1["MuseData"]["train"] == {"MSGD": 8.25, "MSGD+C": 6.54, "MSGD+CR": 6.43}
    assert t1.PAPER_TABLE1["Piano-midi.de"]["train"]["MSGD+CR"] == 7.01


def test_method_table_and_markdown() -> None:
    """The notes' table shows mean (95% t interval) per fold and method, and diverged counts."""
    data = {"config": {"methods": ["MSGD", "MSGD+C"]},
            "cells": {str(i): c for i, c in enumerate(_cells(
                {"MSGD": [(8.5, 8.9), (8.6, 9.0), (8.55, 8.95)],
                 "MSGD+C": [(8.2, 8.6), (8.3, 8.7), (8.25, 8.65)]}))}}
    table = t1.method_table(data, ("train", "test"))
    assert table.splitlines()[0] == "| 구분 | MSGD | MSGD+C |"
    assert "| train | 8.55 (95% CI" in table
    md = t1.markdown([t1.evaluate(CLIP, list(data["cells"].values()))])
    assert md.startswith("- **충족**")
