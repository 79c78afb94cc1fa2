r"""# Continuous results over seeds: means with t intervals, paired differences

`notes_code.common.stats` handles success counts. A negative log-likelihood is a continuous
number per run, so a method's result over $n$ seeds is a mean with a **Student t interval**,

$$
\bar y \pm t_{n-1,\,1-a/2}\,\frac{s}{\sqrt n},\qquad s^2 = \frac{1}{n-1}\sum_i (y_i - \bar y)^2,
$$

(`scipy.stats.t`; with 3 seeds $t_{2,0.975} \approx 4.30$, so intervals are wide).

Two methods trained from the **same seeds** (same initial weights, same minibatch order) are
compared by the per-seed differences $d_i = y^a_i - y^b_i$: the **paired t test** of
$\bar d = 0$, two-sided (`scipy.stats.ttest_rel`), with the t interval of $\bar d$. The notes'
wording rule is the same as for counts: $p < \alpha$ is a finding; otherwise the data are only
*consistent with* the effect.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from scipy import stats as _st

from .stats import ALPHA


def _values(ys: Sequence[float], name: str) -> list[float]:
    vals = [float(y) for y in ys]
    if len(vals) < 2:
        raise ValueError(f"{name}: need at least 2 values for an interval, got {len(vals)}")
    if not all(math.isfinite(v) for v in vals):
        raise ValueError(f"{name}: values must be finite, got {vals}")
    return vals


@dataclass(frozen=True)
class Mean:
    r"""A mean over runs with its t interval.

    Attributes:
        mean: $\bar y$.
        low: lower end of the interval.
        high: upper end of the interval.
        n: number of runs.
    """

    mean: float
    low: float
    high: float
    n: int

    def text(self, digits: int = 2) -> str:
        r"""`mean (95% CI lo–hi)`."""
        return f"{self.mean:.{digits}f} (95% CI {self.low:.{digits}f}–{self.high:.{digits}f})"


def mean_interval(ys: Sequence[float], confidence: float = 0.95) -> Mean:
    r"""Mean of `ys` with the Student t interval.

    Args:
        ys: at least two finite values.
        confidence: coverage, in $(0, 1)$.

    Raises:
        ValueError: fewer than two values, a non-finite value, or a confidence outside $(0, 1)$.
    """
    vals = _values(ys, "mean_interval")
    if not 0.0 < confidence < 1.0:
        raise ValueError(f"confidence must be in (0, 1), got {confidence!r}")
    n = len(vals)
    m = sum(vals) / n
    sd = math.sqrt(sum((v - m) ** 2 for v in vals) / (n - 1))
    half = float(_st.t.ppf(0.5 + confidence / 2, n - 1)) * sd / math.sqrt(n)
    return Mean(m, m - half, m + half, n)


@dataclass(frozen=True)
class Paired:
    r"""Paired comparison of two methods over the same seeds.

    Attributes:
        a: mean of the first method.
        b: mean of the second.
        diff: mean of $d_i = a_i - b_i$ with its t interval.
        p_value: two-sided paired t test of $\bar d = 0$ (1.0 when every $d_i$ is 0).
        alpha: the registered level.
    """

    a: Mean
    b: Mean
    diff: Mean
    p_value: float
    alpha: float = ALPHA

    @property
    def a_lower(self) -> bool:
        r"""$\bar d < 0$: `a` has the lower (better) mean."""
        return self.diff.mean < 0

    @property
    def significant(self) -> bool:
        r"""$p < \alpha$."""
        return self.p_value < self.alpha


def paired(a: Sequence[float], b: Sequence[float], alpha: float = ALPHA) -> Paired:
    r"""Means, mean difference and two-sided paired t test (`scipy.stats.ttest_rel`).

    Args:
        a: one value per seed for the first method.
        b: the second method's values, in the same seed order.
        alpha: significance level for `Paired.significant`.

    Raises:
        ValueError: unequal lengths, fewer than two pairs, non-finite values, or an alpha
            outside $(0, 1)$.
    """
    if len(a) != len(b):
        raise ValueError(f"paired: {len(a)} values against {len(b)}")
    if not 0.0 < alpha < 1.0:
        raise ValueError(f"alpha must be in (0, 1), got {alpha!r}")
    va, vb = _values(a, "paired a"), _values(b, "paired b")
    d = [x - y for x, y in zip(va, vb, strict=True)]
    if all(x == 0 for x in d):
        p = 1.0
    else:
        p = float(_st.ttest_rel(va, vb).pvalue)
        p = 0.0 if math.isnan(p) else p  # constant non-zero differences: t is infinite
    return Paired(mean_interval(va), mean_interval(vb), mean_interval(d), p, alpha)


__all__ = ["Mean", "Paired", "mean_interval", "paired"]
