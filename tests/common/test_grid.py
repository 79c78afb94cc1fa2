"""Tests for notes_code.common.grid: a grid's cells, groups and hashed definition."""

from __future__ import annotations

import dataclasses

from notes_code.common.criteria import Cells, Criterion
from notes_code.common.grid import Grid, cell_length
from notes_code.common.train import TrainConfig

BASE = TrainConfig(n_hidden=6, max_updates=10)


def test_fixed_and_variable_length_cells() -> None:
    """§4.1.1: a Fig. 7 cell trains at one length L (min = max = L); the single model of lengths
    50-200 trains on lengths drawn in [50, 200] (the released code's [min, max - 1], max = 201),
    and both are recorded and grouped under L."""
    fixed = Grid("f", "d", BASE, inits=("basic_tanh",), methods=("MSGD",), lengths=(50, 100), seeds=(0,))
    var = dataclasses.replace(fixed, name="v", lengths=(200,), min_length=50)
    assert [(c.min_length, c.max_length) for c in fixed.cells()] == [(50, 50), (100, 100)]
    assert [(c.min_length, c.max_length) for c in var.cells()] == [(50, 201)]
    assert [cell_length(c) for c in var.cells()] == [200] and list(var.groups()) == [200]
    assert var.groups()[200] == var.cells() and fixed.groups()[100] == fixed.cells()[1:]


def test_later_fields_leave_recorded_hashes_unchanged() -> None:
    """A grid's hash covers its definition, criteria included; fields added after grids were first
    recorded (paper, min_length, generalise; a criterion's minimum and max_error) enter it only
    away from their defaults, so recorded grids keep their identity and new settings change it."""
    crit = Criterion("p/x", "more-successes", "s", "n", Cells(("MSGD-C",)), Cells(("MSGD",)))
    g = Grid("g", "d", BASE, criteria=(crit,))
    d = g.as_dict()
    assert not {"paper", "min_length", "generalise"} & set(d)
    assert not {"minimum", "max_error"} & set(d["criteria"][0])
    for changed in (dataclasses.replace(g, paper="hochreiter1997"), dataclasses.replace(g, min_length=5),
                    dataclasses.replace(g, generalise=(500,)),
                    dataclasses.replace(g, criteria=(dataclasses.replace(crit, minimum=2),))):
        assert changed.config_hash() != g.config_hash()
    assert dataclasses.replace(g).config_hash() == g.config_hash()
