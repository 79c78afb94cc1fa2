"""Tests for notes_code.common.criteria: registered claim criteria and their verdicts."""

from __future__ import annotations

import dataclasses

import pytest

from notes_code.common.criteria import (
    Cells,
    Criterion,
    evaluate,
    field_range,
    identical_pairs,
    markdown,
    verdicts,
)


def _cell(method: str, seed: int, outcome: str, length: int = 20, init: str = "basic_tanh", **kw) -> dict:
    return {"method": method, "init": init, "length": length, "seed": seed, "outcome": outcome,
            "updates": kw.get("updates", 5000 if outcome != "success" else 500),
            "final_error": kw.get("err", 0.75 if outcome != "success" else 0.0),
            "max_grad_norm": kw.get("norm", 50.0), "rho_final": kw.get("rho", 3.0)}


def _grid(k_c: int, k_m: int, n: int = 10, length: int = 20) -> list[dict]:
    return ([_cell("MSGD-C", s, "success" if s < k_c else "fail", length) for s in range(n)]
            + [_cell("MSGD", s, "success" if s < k_m else "fail", length) for s in range(n)])


MORE = Criterion("p/x", "more-successes", "C beats MSGD", "C가 MSGD보다 낫다",
                 Cells(("MSGD-C",)), Cells(("MSGD",)))


def test_more_successes_needs_direction_and_significance() -> None:
    """§4.1.1-style comparison: met only when a solves more AND two-sided Fisher p < alpha
    (4/10 vs 0/10 has p = 0.087: not met; 10/10 vs 1/10: met; 0/10 vs 10/10: wrong direction)."""
    assert not evaluate(MORE, _grid(4, 0)).met
    assert abs(evaluate(MORE, _grid(4, 0)).difference.p_value - 0.0867) < 5e-4
    assert evaluate(MORE, _grid(10, 1)).met
    assert not evaluate(MORE, _grid(0, 10)).met
    v = evaluate(MORE, _grid(10, 1))
    assert "10/10" in v.detail and "1/10" in v.detail and "p = " in v.detail


def test_gap_grows() -> None:
    """Gap-grows: met when (rate_a - rate_b) at the long length exceeds that at the short length."""
    crit = Criterion("p/x", "gap-grows", "", "", Cells(("MSGD-C",)), Cells(("MSGD",)), at=(10, 30))
    cells = _grid(10, 10, length=10) + _grid(10, 0, length=30)
    assert evaluate(crit, cells).met
    assert not evaluate(crit, _grid(10, 0, length=10) + _grid(10, 10, length=30)).met


def test_failures_exploded() -> None:
    """Failures-exploded (§3.1-§3.2): every failure must be a spike (>= 10x threshold) that left
    rho > 1 and an error near chance; a diverged run, a small norm, rho < 1, or no failure at all fails it."""
    crit = Criterion("p/x", "failures-exploded", "", "", Cells(("MSGD",)))
    ok = [_cell("MSGD", 0, "fail"), _cell("MSGD", 1, "success")]
    assert evaluate(crit, ok).met
    for bad in ({"norm": 5.0}, {"rho": 0.9}, {"err": 0.1}):
        assert not evaluate(crit, [_cell("MSGD", 0, "fail", **bad)]).met
    assert not evaluate(crit, [_cell("MSGD", 0, "diverged")]).met
    assert not evaluate(crit, [_cell("MSGD", 0, "success")]).met
    assert evaluate(crit, [_cell("MSGD", 0, "fail", norm=15.0)], clip=1.0).met
    assert not evaluate(crit, [_cell("MSGD", 0, "fail", norm=15.0)], clip=2.0).met


def test_bad_criteria_and_empty_selections_are_errors() -> None:
    """An unknown kind, a comparison without b, gap-grows without two lengths, or a selection that
    matches no cell raise ValueError (a criterion that does not fit its grid is never 'met')."""
    with pytest.raises(ValueError, match="kind"):
        Criterion("p/x", "bigger", "", "", Cells(("MSGD",)))
    with pytest.raises(ValueError, match="needs cells b"):
        Criterion("p/x", "more-successes", "", "", Cells(("MSGD",)))
    with pytest.raises(ValueError, match="at="):
        Criterion("p/x", "gap-grows", "", "", Cells(("MSGD",)), Cells(("MSGD-C",)))
    with pytest.raises(ValueError, match="no cells"):
        evaluate(MORE, [_cell("MSGD", 0, "fail")])


def test_helpers_for_the_notes() -> None:
    """verdicts filters by claim; markdown says met/unmet in Korean; field_range and identical_pairs
    summarise cells (pairs by init, length and seed)."""
    cells = _grid(10, 1)
    assert verdicts((MORE,), cells, claim="p/other") == []
    text = markdown(verdicts((MORE,), cells) + verdicts((MORE,), _grid(4, 0)))
    assert "**충족**" in text and "**미충족**" in text and "C가 MSGD보다 낫다" in text
    assert field_range(cells, "rho_final") == (3.0, 3.0)
    with pytest.raises(ValueError):
        field_range([{"x": None}], "x")
    same, n = identical_pairs(_grid(1, 1), Cells(("MSGD-C",)), Cells(("MSGD",)))
    assert (same, n) == (10, 10)
    assert identical_pairs(_grid(2, 1), Cells(("MSGD-C",)), Cells(("MSGD",))) == (9, 10)


def test_solves_counts_successes_against_the_registered_minimum() -> None:
    """§4.1.2's success counts ("only two runs out of 5 succeeded" for permutation): `solves` is
    met when at least `minimum` runs of the selection succeed, and not with one fewer."""
    cells = [_cell("MSGD-CR", s, "success" if s < 2 else "fail") for s in range(5)]
    crit = Criterion("p/x", "solves", "s", "n", Cells(("MSGD-CR",)), minimum=2)
    assert evaluate(crit, cells).met and "2/5" in evaluate(crit, cells).detail
    assert not evaluate(dataclasses.replace(crit, minimum=3), cells).met


def test_generalises_needs_every_successful_run_under_the_bound() -> None:
    """§4.1.1: the single variable-length model generalises (error at most `max_error` at every
    test length) — every successful run must, one bad length of one run fails it, and a
    selection without a successful run cannot meet it."""
    def won(seed: int, gen: dict) -> dict:
        return {**_cell("MSGD-CR", seed, "success"), "generalisation": gen}

    good = {"50": 0.0, "5000": 0.004}
    crit = Criterion("p/x", "generalises", "s", "n", Cells(("MSGD-CR",)), at=(50, 5000))
    cells = [won(0, good), won(1, good), _cell("MSGD-CR", 2, "fail")]
    v = evaluate(crit, cells)
    assert v.met and "T=5000: 0.0040" in v.detail
    assert not evaluate(crit, [*cells, won(3, {**good, "5000": 0.02})]).met
    assert not evaluate(crit, [won(4, {"50": 0.0})]).met  # a length it was not tested at
    assert not evaluate(crit, [_cell("MSGD-CR", 5, "fail")]).met
    with pytest.raises(ValueError, match="needs the test lengths"):
        Criterion("p/x", "generalises", "s", "n", Cells(("MSGD-CR",)))
