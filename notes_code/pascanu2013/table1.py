r"""# Table 1 on Bach chorales: the grid, its pre-registered criteria, the recorded results

A `Table1Grid` is methods × seeds of `polyphonic.run` on the chorales of
`notes_code.common.chorales`, every other setting coming from a base `PolyConfig`. Runs with
the same seed share their initial weights and minibatch order across methods, so the methods
are compared **paired by seed**.

**Criteria are registered with the grid** (`NLLCriterion`, part of the grid's hash, as the
Fig. 7 grids do with `criteria.Criterion`): `"lower-nll"` is met when method `a`'s mean NLL is
below method `b`'s on every listed fold **and** the two-sided paired t test over seeds
(`notes_code.common.paired`) gives $p < \alpha$ on each. A mean that is lower with
$p \ge \alpha$ is reported as *consistent with* the claim, not as a finding. A diverged run
(no finite NLL) makes the criterion unmet.

**Results** (`table1_runs`) go to one JSON file (`docs/data/pascanu2013/table1-bach.json`): the grid's
definition and hash, the data's summary and hash (files used and skipped, steps per fold),
provenance (commit, device, torch, wall time per session) and one record per run keyed by
the hash of its full `PolyConfig`: final train / valid / test NLL, the per-epoch history
(training cost, validation NLL, gradient norms, clipped updates, $\Omega$). Writes are atomic
and happen after every run, so an interrupted grid resumes from its recorded runs. A file
that cannot be read or validated, or that was recorded on other data or another definition,
is reported and never used or overwritten without `force`.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..common.chorales import FOLDS, ChoraleSet
from ..common.paired import Paired, mean_interval, paired
from ..common.stats import ALPHA
from .polyphonic import METHODS, PolyConfig

KINDS = ("lower-nll",)

# Table 1 of the paper (ICML text), NLL per time step: data set -> fold -> method -> value.
PAPER_TABLE1: dict[str, dict[str, dict[str, float]]] = {
    "Piano-midi.de": {"train": {"MSGD": 6.87, "MSGD+C": 6.81, "MSGD+CR": 7.01},
                      "test": {"MSGD": 7.56, "MSGD+C": 7.53, "MSGD+CR": 7.46}},
    "Nottingham": {"train": {"MSGD": 3.67, "MSGD+C": 3.21, "MSGD+CR": 2.95},
                   "test": {"MSGD": 3.80, "MSGD+C": 3.48, "MSGD+CR": 3.36}},
    "MuseData": {"train": {"MSGD": 8.25, "MSGD+C": 6.54, "MSGD+CR": 6.43},
                 "test": {"MSGD": 7.11, "MSGD+C": 7.00, "MSGD+CR": 6.97}},
}


@dataclass(frozen=True)
class NLLCriterion:
    r"""A pre-registered criterion on recorded NLLs.

    Attributes:
        claim: the claim id it decides.
        kind: `"lower-nll"`.
        statement: the claim in words, with the paper's section.
        note: the same in Korean, as the note shows it.
        a: the method that should have the lower NLL.
        b: the comparison method.
        folds: folds on which `a` must be lower (each with $p < \alpha$).
        alpha: significance level of the paired t test.
    """

    claim: str
    kind: str
    statement: str
    note: str
    a: str
    b: str
    folds: tuple[str, ...] = ("train", "test")
    alpha: float = ALPHA

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"criterion kind {self.kind!r} not in {KINDS}")
        if self.a not in METHODS or self.b not in METHODS or not set(self.folds) <= set(FOLDS):
            raise ValueError(f"criterion {self.claim}: unknown method or fold")


@dataclass(frozen=True)
class NLLVerdict:
    r"""A criterion applied to recorded runs.

    Attributes:
        criterion: the criterion.
        met: every fold has a lower mean with $p < \alpha$.
        consistent: every fold has a lower mean (whatever $p$).
        tests: fold -> the paired comparison (missing where a run diverged).
        detail: the numbers, in Korean, for the notes.
    """

    criterion: NLLCriterion
    met: bool
    consistent: bool
    tests: dict[str, Paired]
    detail: str


@dataclass(frozen=True)
class Table1Grid:
    r"""One Table 1 grid on the chorales.

    Attributes:
        name: the grid's name (the results file's stem).
        description: what the grid shows.
        base: every setting but method and seed.
        methods: methods to run.
        seeds: seeds per method.
        per_fold: use only the first this many chorales of each fold (`None`: all; CI subsets).
        deviations: departures from the paper, stated with the results.
        deviations_ko: the same in Korean (one per deviation).
        criteria: the registered criteria.
    """

    name: str
    description: str
    base: PolyConfig
    methods: tuple[str, ...] = METHODS
    seeds: tuple[int, ...] = (0, 1, 2)
    per_fold: int | None = None
    deviations: tuple[str, ...] = ()
    deviations_ko: tuple[str, ...] = ()
    criteria: tuple[NLLCriterion, ...] = ()

    def __post_init__(self) -> None:
        if len(self.deviations_ko) != len(self.deviations):
            raise ValueError(f"grid {self.name}: deviations and Korean deviations differ in number")

    def cells(self) -> list[PolyConfig]:
        r"""Every run, seed-major (so the methods of one seed finish together)."""
        return [dataclasses.replace(self.base, method=m, seed=s) for s in self.seeds for m in self.methods]

    def as_dict(self) -> dict[str, Any]:
        r"""The definition as JSON-ready data."""
        return json.loads(json.dumps(dataclasses.asdict(self)))

    def config_hash(self) -> str:
        r"""Hash of `as_dict()` (16 hex digits)."""
        return hashlib.sha256(json.dumps(self.as_dict(), sort_keys=True).encode()).hexdigest()[:16]

    def folds(self, data: ChoraleSet) -> dict[str, list[np.ndarray]]:
        r"""Piano rolls by fold (the first `per_fold` of each fold when set).

        Args:
            data: the converted chorales.
        """
        return {f: [c.roll for c in cs[: self.per_fold]] for f, cs in data.split().items()}


def evaluate(criterion: NLLCriterion, cells: Sequence[dict[str, Any]]) -> NLLVerdict:
    r"""Apply a criterion to run records (`method`, `seed`, `nll`, `diverged`).

    Args:
        criterion: the criterion.
        cells: run records.

    Raises:
        ValueError: when either method has fewer than two runs, or their seeds differ.
    """
    cr = criterion
    by = {m: {c["seed"]: c for c in cells if c["method"] == m} for m in (cr.a, cr.b)}
    if set(by[cr.a]) != set(by[cr.b]) or len(by[cr.a]) < 2:
        raise ValueError(f"{cr.claim}: {cr.a} and {cr.b} need the same >= 2 seeds, got "
                         f"{sorted(by[cr.a])} and {sorted(by[cr.b])}")
    seeds = sorted(by[cr.a])
    diverged = [f"{m} 시드 {s}" for m in (cr.a, cr.b) for s in seeds if by[m][s]["diverged"]]
    if diverged:
        return NLLVerdict(cr, False, False, {}, "발산한 실행: " + ", ".join(diverged))
    tests = {f: paired([by[cr.a][s]["nll"][f] for s in seeds], [by[cr.b][s]["nll"][f] for s in seeds],
                       cr.alpha) for f in cr.folds}
    parts = [f"{f}: {cr.a} {t.a.text()}, {cr.b} {t.b.text()}, 차이 {t.diff.mean:+.3f} "
             f"({t.diff.low:+.3f}–{t.diff.high:+.3f}), 대응 t 검정 p = {t.p_value:.3g}"
             for f, t in tests.items()]
    met = all(t.a_lower and t.significant for t in tests.values())
    consistent = all(t.a_lower for t in tests.values())
    return NLLVerdict(cr, met, consistent, tests, f"시드 {len(seeds)}개; " + "; ".join(parts)
                      + f" (기준 p < {cr.alpha})")


def verdicts(grid: Table1Grid, data: dict[str, Any], claim: str | None = None) -> list[NLLVerdict]:
    r"""Every criterion of `grid` (of one claim, if given) applied to a results file's runs.

    Args:
        grid: the grid.
        data: its results data.
        claim: only this claim's criteria.
    """
    cells = list(data["cells"].values())
    return [evaluate(c, cells) for c in grid.criteria if claim is None or c.claim == claim]


def markdown(found: Sequence[NLLVerdict]) -> str:
    r"""Verdicts as a Korean Markdown list for a claim box."""
    lines = []
    for v in found:
        mark = "**충족**" if v.met else ("**미충족** (방향은 같음)" if v.consistent else "**미충족**")
        lines.append(f"- {mark} — 등록된 기준: {v.criterion.note}  \n  근거: {v.detail}")
    return "\n".join(lines)


def method_table(data: dict[str, Any], folds: Sequence[str] = ("train", "valid", "test")) -> str:
    r"""Markdown: one row per fold, one column per method, mean NLL with its 95% t interval.

    Args:
        data: a results file's data.
        folds: folds to show.
    """
    methods = list(data["config"]["methods"])
    cells = list(data["cells"].values())
    lines = ["| 구분 | " + " | ".join(methods) + " |", "|---|" + "---|" * len(methods)]
    for f in folds:
        row = []
        for m in methods:
            vals = [c["nll"][f] for c in cells if c["method"] == m and not c["diverged"]]
            n_div = sum(c["diverged"] for c in cells if c["method"] == m)
            text = mean_interval(vals).text() if len(vals) >= 2 else ("-" if not vals else f"{vals[0]:.2f}")
            row.append(text + (f", 발산 {n_div}" if n_div else ""))
        lines.append(f"| {f} | " + " | ".join(row) + " |")
    return "\n".join(lines)


def curves(data: dict[str, Any], field: str) -> dict[str, tuple[list[int], list[float]]]:
    r"""A per-epoch history field averaged over the seeds of each method, for the notes' figures.

    Args:
        data: a results file's data.
        field: a history field, e.g. `"train_cost"` or `"grad_norm_max"`.

    Returns:
        method -> (epochs, mean over the seeds that reached each epoch).
    """
    out = {}
    for m in data["config"]["methods"]:
        rows: dict[int, list[float]] = {}
        for c in data["cells"].values():
            if c["method"] == m:
                for h in c["history"]:
                    if h.get(field) is not None:
                        rows.setdefault(int(h["epoch"]), []).append(float(h[field]))
        epochs = sorted(rows)
        out[m] = (epochs, [float(np.mean(rows[e])) for e in epochs])
    return out


__all__ = ["KINDS", "PAPER_TABLE1", "NLLCriterion", "NLLVerdict", "Table1Grid", "curves", "evaluate",
           "markdown", "method_table", "verdicts"]
