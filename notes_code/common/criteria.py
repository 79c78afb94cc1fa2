r"""# Claim criteria registered with a grid, and their verdicts on recorded cells

A claim about an experiment is decided by a **criterion written into the grid's definition**
(`Grid.criteria`, part of the grid's hash), so that changing what counts as success changes
the grid's identity and cannot be done quietly after the data are in. A criterion selects
cells by method, initialisation and length (`Cells`) and applies one of three checks:

* `"more-successes"`: cells `a` solve a larger fraction than cells `b` **and** the two-sided
  Fisher exact test (`notes_code.common.stats.compare`) gives $p < \alpha$.
* `"gap-grows"`: the success-rate gap $r_a - r_b$ at the longest length of `at` is larger
  than at the shortest (point estimates; "clipping matters more with length").
* `"failures-exploded"`: every failed run in `a` (and there is at least one) met a gradient
  norm of at least `spike` times the clipping threshold, ends with spectral radius
  $\rho(\mathbf{W}_{rec}) >$ `rho` (the necessary condition for explosion, eq. 7, is
  $\lambda_1 > 1/\gamma = 1$ for tanh) and with an error of at least `chance_error`
  (stuck near chance, 0.75 for four classes) rather than diverged (NaN).
* `"solves"`: at least `minimum` runs of `a` succeed (the paper's success counts, §4.1.2).
* `"generalises"`: at least one run of `a` succeeded, and every successful run has an error of
  at most `max_error` on fresh sequences at each length of `at` (the cells' recorded
  `generalisation`, tested after training; §4.1.1).

`evaluate` turns a criterion and a list of cell records (recorded or freshly trained) into a
`Verdict` that says whether it is met and carries the counts, Wilson intervals and $p$-value.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from notes_code.common.stats import ALPHA, Count, Difference, compare, count

KINDS = ("more-successes", "gap-grows", "failures-exploded", "solves", "generalises")
TANH = ("basic_tanh", "smart_tanh")


@dataclass(frozen=True)
class Cells:
    r"""A selection of a grid's cells.

    Attributes:
        methods: methods to include.
        inits: initialisations to include.
        lengths: lengths to include (`()`: every length).
    """

    methods: tuple[str, ...]
    inits: tuple[str, ...] = TANH
    lengths: tuple[int, ...] = ()

    def pick(self, cells: list[dict[str, Any]]) -> list[dict[str, Any]]:
        r"""The cell records that belong to the selection.

        Args:
            cells: cell records (`experiments.cell_record` fields `method`, `init`, `length`).
        """
        return [c for c in cells if c["method"] in self.methods and c["init"] in self.inits
                and (not self.lengths or c["length"] in self.lengths)]

    def at(self, length: int) -> Cells:
        r"""The same selection at one length."""
        return Cells(self.methods, self.inits, (length,))

    def label(self) -> str:
        r"""A short description for the notes, e.g. `MSGD-C, basic_tanh+smart_tanh, T=20,30`."""
        lengths = "T=" + ",".join(map(str, self.lengths)) if self.lengths else "모든 길이"
        return f"{'+'.join(self.methods)}, {'+'.join(self.inits)}, {lengths}"


@dataclass(frozen=True)
class Criterion:
    r"""A pre-registered criterion for one claim.

    Attributes:
        claim: the claim id it decides (`"<paper>/<slug>"`).
        kind: one of `KINDS`.
        statement: the claim in words, with the paper's section it restates.
        note: the same in Korean, as the note shows it.
        a: the cells that should do better (or whose failures are examined).
        b: the comparison cells (`more-successes`, `gap-grows`).
        at: `(short, long)` lengths for `gap-grows`.
        alpha: significance level of `more-successes`.
        spike: `failures-exploded`: largest gradient norm at least this times the threshold.
        rho: `failures-exploded`: final spectral radius above this.
        chance_error: `failures-exploded`: final error at least this.
        minimum: `solves`: at least this many runs of `a` succeed.
        max_error: `generalises`: the largest error allowed at every length of `at`.
    """

    claim: str
    kind: str
    statement: str
    note: str
    a: Cells
    b: Cells | None = None
    at: tuple[int, ...] = ()
    alpha: float = ALPHA
    spike: float = 10.0
    rho: float = 1.0
    chance_error: float = 0.5
    minimum: int = 1
    max_error: float = 0.01

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"criterion kind {self.kind!r} not in {KINDS}")
        if self.kind in ("more-successes", "gap-grows") and self.b is None:
            raise ValueError(f"criterion {self.kind!r} for {self.claim} needs cells b")
        if self.kind == "gap-grows" and len(self.at) != 2:
            raise ValueError(f"gap-grows for {self.claim} needs at=(short, long), got {self.at!r}")
        if self.kind == "generalises" and not self.at:
            raise ValueError(f"generalises for {self.claim} needs the test lengths at=(...)")


@dataclass(frozen=True)
class Verdict:
    r"""A criterion applied to cells.

    Attributes:
        criterion: the criterion.
        met: whether the cells meet it.
        detail: the numbers it was decided on, in words (Korean, for the notes).
        difference: `more-successes`: the counts and the Fisher test.
        gaps: `gap-grows`: the comparison at the short and at the long length.
    """

    criterion: Criterion
    met: bool
    detail: str
    difference: Difference | None = None
    gaps: tuple[Difference, Difference] | None = None


def successes(cells: list[dict[str, Any]]) -> Count:
    r"""Successes among `cells` with the 95% Wilson interval (empty selections are an error).

    Args:
        cells: cell records.
    """
    if not cells:
        raise ValueError("no cells selected: the criterion does not match the grid")
    return count(sum(c["outcome"] == "success" for c in cells), len(cells))


def _diff(a: list[dict[str, Any]], b: list[dict[str, Any]], alpha: float) -> Difference:
    ca, cb = successes(a), successes(b)
    return compare(ca.k, ca.n, cb.k, cb.n, alpha)


def evaluate(criterion: Criterion, cells: list[dict[str, Any]], clip: float = 1.0) -> Verdict:
    r"""Apply `criterion` to cell records.

    Args:
        criterion: the criterion.
        cells: cell records (`outcome`, `method`, `init`, `length`; `max_grad_norm`,
            `rho_final` and `final_error` for `failures-exploded`).
        clip: the grid's clipping threshold (`failures-exploded` spikes are relative to it).

    Returns:
        The verdict.

    Raises:
        ValueError: if a selection matches no cell.
    """
    cr = criterion
    if cr.kind == "more-successes":
        d = _diff(cr.a.pick(cells), cr.b.pick(cells), cr.alpha)
        met = d.a_better and d.significant
        return Verdict(cr, met, f"{cr.a.label()}: {d.a.text()}; {cr.b.label()}: {d.b.text()}; "
                                f"양측 Fisher p = {d.p_value:.3g} (기준 p < {cr.alpha})", difference=d)
    if cr.kind == "gap-grows":
        short, long = cr.at
        g = tuple(_diff(cr.a.at(L).pick(cells), cr.b.at(L).pick(cells), cr.alpha) for L in (short, long))
        gap = [x.a.rate - x.b.rate for x in g]
        parts = [f"T={L}: {x.a.rate - x.b.rate:+.2f} ({x.a.k}/{x.a.n} 대 {x.b.k}/{x.b.n})"
                 for L, x in zip((short, long), g, strict=True)]
        return Verdict(cr, gap[1] > gap[0], "성공률 차이 " + ", ".join(parts), gaps=(g[0], g[1]))
    if cr.kind == "solves":
        k = successes(cr.a.pick(cells))
        return Verdict(cr, k.k >= cr.minimum, f"{cr.a.label()}: {k.text()} (기준: {cr.minimum}개 이상)")
    if cr.kind == "generalises":
        return _generalises(cr, cr.a.pick(cells))
    failed = [c for c in cr.a.pick(cells) if c["outcome"] != "success"]
    ok = [c["outcome"] == "fail" and (c["max_grad_norm"] or 0.0) >= cr.spike * clip
          and (c["rho_final"] or 0.0) > cr.rho and (c["final_error"] or 0.0) >= cr.chance_error
          for c in failed]
    met = bool(failed) and all(ok)
    if not failed:
        return Verdict(cr, False, f"{cr.a.label()}: 실패한 실행이 없다")
    norms = [c["max_grad_norm"] or 0.0 for c in failed]
    rhos = [c["rho_final"] or 0.0 for c in failed]
    errs = [c["final_error"] or 0.0 for c in failed]
    n_div = sum(c["outcome"] == "diverged" for c in failed)
    return Verdict(cr, met, f"{cr.a.label()}: 실패 {len(failed)}개 (발산 {n_div}개), "
                            f"기준을 만족한 것 {sum(ok)}개; "
                            f"최대 기울기 노름 {min(norms):.1f}–{max(norms):.1f}, 마지막 ρ(W_rec) "
                            f"{min(rhos):.2f}–{max(rhos):.2f}, 마지막 오류 {min(errs):.2f}–{max(errs):.2f}")


def _generalises(cr: Criterion, cells: list[dict[str, Any]]) -> Verdict:
    """`generalises`: at least one run of `a` succeeded, and every successful one has an error
    of at most `max_error` at each length of `at` (its recorded `generalisation`)."""
    won = [c for c in cells if c["outcome"] == "success"]
    if not won:
        return Verdict(cr, False, f"{cr.a.label()}: {successes(cells).text()}, 일반화를 시험할 실행이 없다")
    worst = {L: max(c.get("generalisation", {}).get(str(L), 1.0) for c in won) for L in cr.at}
    parts = ", ".join(f"T={L}: {e:.4f}" for L, e in worst.items())
    return Verdict(cr, all(e <= cr.max_error for e in worst.values()),
                   f"{cr.a.label()}: {successes(cells).text()}; 성공한 실행의 가장 큰 오류 {parts} "
                   f"(기준 ≤ {cr.max_error})")


def field_range(cells: list[dict[str, Any]], name: str) -> tuple[float, float]:
    r"""Smallest and largest recorded value of a numeric cell field (`None` values skipped).

    Args:
        cells: cell records.
        name: e.g. `"max_grad_norm"` or `"rho_final"`.

    Raises:
        ValueError: if no cell has a value.
    """
    vals = [float(c[name]) for c in cells if c.get(name) is not None]
    if not vals:
        raise ValueError(f"no cell has a value for {name!r}")
    return min(vals), max(vals)


def identical_pairs(cells: list[dict[str, Any]], a: Cells, b: Cells) -> tuple[int, int]:
    r"""How many seeds end with the same outcome, update count and final error under `a` and `b`.

    Cells are paired by (init, length, seed); runs with the same seed share weights and data,
    so an identical ending means the difference between the methods never mattered.

    Args:
        cells: cell records.
        a: one selection (e.g. MSGD-C).
        b: the other (e.g. MSGD).

    Returns:
        `(identical, pairs)`.
    """
    def key(c: dict[str, Any]) -> tuple[Any, ...]:
        return (c["init"], c["length"], c["seed"])

    other = {key(c): c for c in b.pick(cells)}
    pairs = [(c, other[key(c)]) for c in a.pick(cells) if key(c) in other]
    fields = ("outcome", "updates", "final_error")
    same = sum(all(x[f] == y[f] for f in fields) for x, y in pairs)
    return same, len(pairs)


def markdown(found: list[Verdict]) -> str:
    r"""Verdicts as a Korean Markdown list for a claim box: registered criterion, met or not, numbers.

    Args:
        found: verdicts (`verdicts`).
    """
    lines = []
    for v in found:
        mark = "**충족**" if v.met else "**미충족**"
        lines.append(f"- {mark} — 등록된 기준: {v.criterion.note}  \n  근거: {v.detail}")
    return "\n".join(lines)


def verdicts(criteria: tuple[Criterion, ...], cells: list[dict[str, Any]], claim: str | None = None,
             clip: float = 1.0) -> list[Verdict]:
    r"""Every criterion (of one claim, if given) applied to `cells`.

    Args:
        criteria: the grid's criteria.
        cells: cell records.
        claim: only this claim's criteria.
        clip: the grid's clipping threshold.
    """
    return [evaluate(c, cells, clip) for c in criteria if claim is None or c.claim == claim]


__all__ = ["KINDS", "TANH", "Cells", "Criterion", "Verdict", "evaluate", "field_range", "identical_pairs",
           "markdown", "successes", "verdicts"]
