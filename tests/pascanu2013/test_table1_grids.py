"""Tests of notes_code.pascanu2013.table1_grids: the recorded Table 1 grid on the Bach chorales."""

from __future__ import annotations

import math

import pytest

from notes_code.pascanu2013.polyphonic import PolyConfig
from notes_code.pascanu2013.table1 import evaluate, verdicts
from notes_code.pascanu2013.table1_grids import GRIDS
from notes_code.pascanu2013.table1_runs import default_path, load_results

GRID = GRIDS["table1-bach"]


def _recorded() -> dict:
    """The recorded file, checked to be the current definition's, complete, on one data hash."""
    data = load_results(default_path(GRID.name))
    assert data is not None, "no recorded table1-bach.json (python scripts/table1_bach.py --workers 2)"
    assert data["config_hash"] == GRID.config_hash(), "recorded under another definition"
    assert set(data["cells"]) == {c.key() for c in GRID.cells()}
    return data


def test_grid_states_its_settings_and_registers_both_claims() -> None:
    """§4.2 settings: sigmoid units, lr 1.0 halved on a rising epoch cost, threshold 8, alpha_t = 1/(2t)
    ([S1]); every deviation is stated in English and Korean; both Table 1 claims have a criterion."""
    b = GRID.base
    assert (b.activation, b.lr, b.clip, b.alpha0, b.halve_on_increase) == ("sigmoid", 1.0, 8.0, 0.5, True)
    assert len(GRID.seeds) >= 3 and len(GRID.deviations) == len(GRID.deviations_ko) >= 5
    assert {c.claim for c in GRID.criteria} == {"pascanu2013/table1-bach-clipping-improves",
                                                 "pascanu2013/table1-bach-omega-helps"}
    assert isinstance(b, PolyConfig) and GRID.per_fold is None


def test_recorded_file_is_complete_and_finite() -> None:
    """The recorded grid (second test, reading the file): every run finished with finite train,
    valid and test NLL, a full history, on the whole corpus split with a recorded data hash."""
    data = _recorded()
    d = data["data"]
    assert d["used_per_fold"] == d["chorales"] and sum(d["chorales"].values()) == d["used"] > 300
    assert len(d["data_hash"]) == 16
    for c in data["cells"].values():
        assert not c["diverged"] and len(c["history"]) == GRID.base.epochs
        assert all(math.isfinite(c["nll"][f]) and 0 < c["nll"][f] < 88 * math.log(2) for f in d["chorales"])


@pytest.mark.claim("pascanu2013/table1-bach-clipping-improves",
                   modules=["pascanu2013.polyphonic", "pascanu2013.clipping",
                            "pascanu2013.regularizer", "pascanu2013.table1"])
@pytest.mark.xfail(strict=True, reason="registered criterion not met by the recorded grid: MSGD+C - MSGD = "
                   "-0.057 (train), -0.061 (test) nats, paired t p = 0.085 and 0.074 over 5 seeds")
def test_recorded_clipping_improves() -> None:
    """§4.2, Table 1 (recorded, Bach chorales): the registered criterion "MSGD+C has a lower train and
    test NLL than MSGD, paired t over seeds p < 0.05 on each". The recorded data do not meet it
    (strict xfail: if they ever do, this fails and the claim must be updated)."""
    (v,) = verdicts(GRID, _recorded(), "pascanu2013/table1-bach-clipping-improves")
    assert v.met, v.detail


@pytest.mark.claim("pascanu2013/table1-bach-omega-helps",
                   modules=["pascanu2013.polyphonic", "pascanu2013.clipping",
                            "pascanu2013.regularizer", "pascanu2013.table1"])
@pytest.mark.xfail(strict=True, reason="registered criterion not met by the recorded grid: "
                   "MSGD+CR - MSGD+C = +0.002 nats on test, paired t p = 0.8 over 5 seeds")
def test_recorded_omega_helps() -> None:
    """§4.2, Table 1 (recorded, Bach chorales): the registered criterion "MSGD+CR has a lower test NLL
    than MSGD+C, paired t over seeds p < 0.05". Not met by the recorded data (strict xfail)."""
    (v,) = verdicts(GRID, _recorded(), "pascanu2013/table1-bach-omega-helps")
    assert v.met, v.detail


def test_recorded_clipping_acts_only_on_the_first_update() -> None:
    """What the recorded runs show about §3.2 at these settings: the gradient norm reaches threshold 8
    only on the very first update of each clipped run (norm 20-30 at initialisation), and never again;
    the learning-rate rule has halved lr at least 4 times by the last epoch in every run."""
    data = _recorded()
    for c in data["cells"].values():
        first = c["history"][0]
        assert first["grad_norm_max"] > 2 * GRID.base.clip
        assert all(h["grad_norm_max"] < GRID.base.clip for h in c["history"][1:])
        assert sum(h["clipped"] for h in c["history"]) == (0 if c["method"] == "MSGD" else 1)
        assert c["history"][-1]["lr"] <= GRID.base.lr / 16


def test_recorded_omega_is_lower_with_the_regulariser() -> None:
    """§3.3 (recorded): the regulariser does what it is for: in every seed, MSGD+CR ends with a lower
    mean Omega over its last epoch than MSGD+C with the same seed, although its test NLL is not lower
    (the claim's recorded test)."""
    data = _recorded()
    by = {(c["method"], c["seed"]): c for c in data["cells"].values()}
    for s in GRID.seeds:
        assert by["MSGD+CR", s]["history"][-1]["omega"] < by["MSGD+C", s]["history"][-1]["omega"] - 0.01


def test_verdicts_are_recomputed_from_the_cells() -> None:
    """The verdict uses the recorded per-run NLLs, not a stored summary: editing one run's test NLL
    moves the criterion's mean difference by exactly that edit over the number of seeds."""
    data = _recorded()
    crit = next(c for c in GRID.criteria if c.claim.endswith("omega-helps"))
    before = evaluate(crit, list(data["cells"].values())).tests["test"].diff.mean
    cell = next(c for c in data["cells"].values() if c["method"] == "MSGD+CR")
    cell["nll"]["test"] += 1.0
    after = evaluate(crit, list(data["cells"].values())).tests["test"].diff.mean
    assert after - before == pytest.approx(1.0 / len(GRID.seeds))
