"""Tests for notes_code.common.stats: Wilson intervals and Fisher's exact test."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy import stats as sst

from notes_code.common.stats import compare, count, fisher_two_sided, wilson_interval


@pytest.mark.parametrize(("k", "n", "low", "high"), [
    (81, 263, 0.2553, 0.3662),  # Newcombe (1998), Stat. Med. 17:857, Table I, method 3
    (15, 148, 0.0624, 0.1605),
    (0, 20, 0.0, 0.1611),
    (1, 29, 0.0061, 0.1718),
])
def test_wilson_textbook_values(k: int, n: int, low: float, high: float) -> None:
    """Wilson score intervals match the published examples of Newcombe (1998) to 4 decimals."""
    lo, hi = wilson_interval(k, n)
    assert (round(lo, 4), round(hi, 4)) == (low, high)


@given(st.integers(1, 300).flatmap(lambda n: st.tuples(st.integers(0, n), st.just(n))),
       st.sampled_from([0.8, 0.9, 0.95, 0.99]))
def test_wilson_matches_scipy(kn: tuple[int, int], conf: float) -> None:
    """Wilson interval equals scipy's `binomtest(...).proportion_ci(method="wilson")` and contains k/n."""
    k, n = kn
    ref = sst.binomtest(k, n).proportion_ci(confidence_level=conf, method="wilson")
    lo, hi = wilson_interval(k, n, conf)
    assert math.isclose(lo, ref.low, abs_tol=1e-9) and math.isclose(hi, ref.high, abs_tol=1e-9)
    assert 0 <= lo <= k / n <= hi <= 1


def test_fisher_known_values() -> None:
    """Fisher's tea-tasting table [[3, 1], [1, 3]] has two-sided p = 34/70 = 0.4857; 4/10 vs 0/10
    gives 2 C(10,4)/C(20,4) = 0.0867 (the
    issue's smart-tanh comparison); 5/5 vs 0/10 gives 1/C(15,5)."""
    assert math.isclose(fisher_two_sided(3, 4, 1, 4), 34 / 70, rel_tol=1e-9)
    assert math.isclose(fisher_two_sided(4, 10, 0, 10), 2 * math.comb(10, 4) / math.comb(20, 4), rel_tol=1e-9)
    assert math.isclose(fisher_two_sided(5, 5, 0, 10), 1 / math.comb(15, 5), rel_tol=1e-9)
    assert fisher_two_sided(3, 5, 3, 5) == 1.0


def test_compare_wording_rule() -> None:
    """A difference is significant only below alpha; direction and counts are kept."""
    d = compare(4, 10, 0, 10)
    assert d.a_better and not d.significant and d.a.k == 4 and d.b.high > 0.2
    assert compare(10, 10, 0, 10).significant
    assert not compare(0, 10, 10, 10).a_better
    assert "p = " in d.text() and "4/10" in d.text()
    assert count(0, 10).text().startswith("0/10 (95% CI 0.00–0.28)")


@pytest.mark.parametrize(("k", "n"), [(-1, 5), (6, 5), (0, 0), (1.5, 3), (True, 3)])
def test_bad_counts_are_rejected(k, n) -> None:
    """Counts outside 0 <= k <= n, n >= 1, or non-integers raise ValueError naming them."""
    with pytest.raises(ValueError, match="k="):
        wilson_interval(k, n)


def test_bad_levels_are_rejected() -> None:
    """Confidence and alpha outside (0, 1) raise ValueError."""
    with pytest.raises(ValueError, match="confidence"):
        wilson_interval(1, 2, 1.0)
    with pytest.raises(ValueError, match="alpha"):
        compare(1, 2, 1, 2, alpha=0)
