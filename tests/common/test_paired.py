"""Tests of notes_code.common.paired: t intervals and paired t tests for continuous results (Table 1 NLLs)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from notes_code.common.paired import mean_interval, paired


def test_mean_interval_matches_textbook_formula_and_scipy() -> None:
    """Student t interval: mean +- t_{n-1} s / sqrt(n); equals scipy.stats.t.interval, and with 3
    values the half-width uses t_{2, 0.975} = 4.303."""
    ys = [8.1, 8.4, 8.2]
    m = mean_interval(ys)
    sd = float(np.std(ys, ddof=1))
    lo, hi = stats.t.interval(0.95, 2, loc=np.mean(ys), scale=sd / math.sqrt(3))
    assert (m.low, m.high) == pytest.approx((lo, hi), rel=1e-12)
    assert m.high - m.mean == pytest.approx(4.302653 * sd / math.sqrt(3), rel=1e-6)
    assert m.n == 3 and m.text() == f"8.23 (95% CI {m.low:.2f}–{m.high:.2f})"


def test_mean_interval_coverage_by_simulation() -> None:
    """The 95% interval covers the true mean of normal samples about 95% of the time (n = 5)."""
    rng = np.random.default_rng(0)
    covered = 0
    for _ in range(2000):
        m = mean_interval(rng.normal(3.0, 1.0, 5))
        covered += m.low <= 3.0 <= m.high
    assert 0.93 < covered / 2000 < 0.97


def test_paired_t_matches_scipy_and_direction() -> None:
    """Paired t test of per-seed differences equals scipy.stats.ttest_rel; a_lower follows the mean
    difference; significance is p < alpha."""
    a, b = [8.0, 8.3, 8.1, 8.2], [8.4, 8.6, 8.5, 8.45]
    p = paired(a, b)
    assert p.p_value == pytest.approx(stats.ttest_rel(a, b).pvalue, rel=1e-12)
    assert p.a_lower and p.significant and p.diff.mean == pytest.approx(np.mean(np.subtract(a, b)))
    q = paired(b, a)
    assert not q.a_lower and q.p_value == pytest.approx(p.p_value)
    assert paired(a, a).p_value == 1.0 and not paired(a, a).significant


def test_bad_input_is_an_error() -> None:
    """Fewer than two values, unequal lengths, NaN/inf or a bad level raise ValueError."""
    for call in (lambda: mean_interval([1.0]), lambda: mean_interval([1.0, float("nan")]),
                 lambda: mean_interval([1.0, 2.0], 1.0), lambda: paired([1.0, 2.0], [1.0]),
                 lambda: paired([1.0, 2.0], [1.0, float("inf")]),
                 lambda: paired([1.0, 2.0], [2.0, 3.0], 0.0)):
        with pytest.raises(ValueError):
            call()
