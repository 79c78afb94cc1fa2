r"""# Success counts with their uncertainty

An experiment claim in these notes is a statement about success counts: $k$ of $n$ runs of a
method solved a task. Two numbers go with every such count.

**Wilson score interval** (Wilson 1927). For $\hat p = k/n$ and $z = \Phi^{-1}(1 - a/2)$
($z \approx 1.96$ for 95%), the interval is

$$\frac{\hat p + \frac{z^2}{2n}
  \pm z\sqrt{\frac{\hat p(1-\hat p)}{n} + \frac{z^2}{4n^2}}}{1 + \frac{z^2}{n}}.$$

Unlike $\hat p \pm z\sqrt{\hat p(1-\hat p)/n}$ it stays inside $[0, 1]$ and does not collapse to
a point at $k = 0$ or $k = n$: 0 of 10 runs gives $[0, 0.28]$, not $[0, 0]$.

**Fisher's exact test** for a difference between two methods: the $2\times2$ table
$\begin{pmatrix}k_a & n_a - k_a\\ k_b & n_b - k_b\end{pmatrix}$, two-sided, conditioning on the
margins (`scipy.stats.fisher_exact`). With few runs per method only large differences reach
$p < 0.05$: 4 of 10 against 0 of 10 gives $p \approx 0.087$.

The wording rule of the notes follows the $p$-value: $p < \alpha$ is a finding; otherwise the
data are only *consistent with* the effect (or it is *not shown*).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from scipy import stats as _st

ALPHA = 0.05


def _check_count(k: int, n: int) -> None:
    if isinstance(k, bool) or isinstance(n, bool) or int(k) != k or int(n) != n:
        raise ValueError(f"counts must be integers, got k={k!r}, n={n!r}")
    if n < 1 or not 0 <= k <= n:
        raise ValueError(f"need 0 <= k <= n and n >= 1, got k={k}, n={n}")


def wilson_interval(k: int, n: int, confidence: float = 0.95) -> tuple[float, float]:
    r"""Wilson score interval for a binomial proportion $k/n$.

    Args:
        k: successes.
        n: trials ($n \ge 1$).
        confidence: coverage, in $(0, 1)$.

    Returns:
        `(low, high)` with $0 \le$ low $\le k/n \le$ high $\le 1$.

    Raises:
        ValueError: for counts outside $0 \le k \le n$, $n \ge 1$, or a confidence outside $(0, 1)$.
    """
    _check_count(k, n)
    if not 0.0 < confidence < 1.0:
        raise ValueError(f"confidence must be in (0, 1), got {confidence!r}")
    z = float(_st.norm.ppf(0.5 + confidence / 2))
    p = k / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    low, high = max(0.0, centre - half), min(1.0, centre + half)
    return (0.0 if k == 0 else low, 1.0 if k == n else high)


@dataclass(frozen=True)
class Count:
    r"""$k$ successes of $n$ runs with the 95% Wilson interval.

    Attributes:
        k: successes.
        n: runs.
        low: lower end of the interval.
        high: upper end of the interval.
    """

    k: int
    n: int
    low: float
    high: float

    @property
    def rate(self) -> float:
        r"""$k/n$."""
        return self.k / self.n

    def text(self) -> str:
        r"""`k/n (95% CI lo–hi)`, for the notes."""
        return f"{self.k}/{self.n} (95% CI {self.low:.2f}–{self.high:.2f})"


def count(k: int, n: int, confidence: float = 0.95) -> Count:
    r"""A `Count` with its Wilson interval.

    Args:
        k: successes.
        n: runs.
        confidence: coverage of the interval.
    """
    return Count(int(k), int(n), *wilson_interval(k, n, confidence))


@dataclass(frozen=True)
class Difference:
    r"""Two success counts and the two-sided Fisher exact test between them.

    Attributes:
        a: the first method's count.
        b: the second method's count.
        p_value: two-sided exact $p$ for "same success probability".
        alpha: the level the claim was registered with.
    """

    a: Count
    b: Count
    p_value: float
    alpha: float = ALPHA

    @property
    def significant(self) -> bool:
        r"""$p < \alpha$."""
        return self.p_value < self.alpha

    @property
    def a_better(self) -> bool:
        r"""`a` solved a larger fraction than `b` (point estimates)."""
        return self.a.rate > self.b.rate

    def text(self) -> str:
        r"""`k/n vs k/n, Fisher p = ...` for the notes."""
        return f"{self.a.text()} 대 {self.b.text()}, 양측 Fisher 정확검정 p = {self.p_value:.3g}"


def fisher_two_sided(ka: int, na: int, kb: int, nb: int) -> float:
    r"""Two-sided Fisher exact $p$ for $k_a/n_a$ against $k_b/n_b$ (`scipy.stats.fisher_exact`).

    Args:
        ka: successes of the first group.
        na: runs of the first group.
        kb: successes of the second group.
        nb: runs of the second group.
    """
    _check_count(ka, na)
    _check_count(kb, nb)
    table = [[int(ka), int(na - ka)], [int(kb), int(nb - kb)]]
    return float(_st.fisher_exact(table, alternative="two-sided").pvalue)


def compare(ka: int, na: int, kb: int, nb: int, alpha: float = ALPHA) -> Difference:
    r"""Counts with Wilson intervals and the two-sided Fisher test between them.

    Args:
        ka: successes of the first group.
        na: runs of the first group.
        kb: successes of the second group.
        nb: runs of the second group.
        alpha: significance level for `Difference.significant`.
    """
    if not 0.0 < alpha < 1.0:
        raise ValueError(f"alpha must be in (0, 1), got {alpha!r}")
    return Difference(count(ka, na), count(kb, nb), fisher_two_sided(ka, na, kb, nb), alpha)


__all__ = ["ALPHA", "Count", "Difference", "compare", "count", "fisher_two_sided", "wilson_interval"]
