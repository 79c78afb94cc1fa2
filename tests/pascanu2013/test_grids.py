"""Tests for notes_code.pascanu2013.grids: the grid definitions and their registered criteria."""

from __future__ import annotations

import dataclasses

import pytest
import torch

from notes_code.common import runner
from notes_code.common.batched import run_batched
from notes_code.common.criteria import TANH, Cells, Criterion, evaluate, verdicts
from notes_code.common.grid import Grid
from notes_code.common.results import cell_record, load_results, provenance
from notes_code.common.runner import default_path
from notes_code.common.train import INITS, METHODS
from notes_code.pascanu2013.grids import GRIDS

CI_FILE = runner.default_path("ci")
FIG7_2H = GRIDS["fig7-2h"]


def test_fig7_2h_is_the_papers_protocol() -> None:
    """§4.1.1 (Fig. 7): the fig7-2h grid is the paper's protocol but for the stated budget:
    lr 0.01, batch 20, threshold 1, alpha 4, 50 hidden units, success under 1% of 10,000 fresh
    sequences, 5 seeds, the three inits and methods, lengths 50-200; the budget is a stated
    deviation; criteria for both of its claims are registered."""
    b = FIG7_2H.base
    assert (b.task, b.lr, b.batch_size, b.clip, b.alpha, b.n_hidden) == ("torder", 0.01, 20, 1.0, 4.0, 50)
    assert (b.eval_size, b.success_error, b.dtype) == (10_000, 0.01, "float32")
    assert FIG7_2H.lengths == (50, 100, 150, 200) and FIG7_2H.seeds == (0, 1, 2, 3, 4)
    assert FIG7_2H.inits == INITS and FIG7_2H.methods == METHODS and len(FIG7_2H.cells()) == 180
    assert FIG7_2H.budget == 30_000 and "30,000" in FIG7_2H.deviations[0]
    assert {c.claim for c in FIG7_2H.criteria} == {"pascanu2013/fig7-clipping-matters-more-with-length",
                                                   "pascanu2013/fig7-omega-helps-long"}
    assert len(FIG7_2H.deviations) == len(FIG7_2H.deviations_ko)


def _fig7_2h_verdicts(claim: str) -> list:
    data = load_results(default_path("fig7-2h"))
    if data is None:
        pytest.skip("fig7-2h is registered but not trained yet "
                    "(make reproduce GRID=fig7-2h WORKERS=2 TRAINER=fastcpu)")
    # pytest.fail, not assert: the recorded tests are xfail(raises=AssertionError), which must
    # cover only an unmet criterion, never a results file that does not belong to the grid
    if data["config_hash"] != FIG7_2H.config_hash():
        pytest.fail("fig7-2h recorded under another definition")
    keys = {c.key() for c in FIG7_2H.cells()}
    if not set(data["cells"]) <= keys:
        pytest.fail("fig7-2h holds cells of another grid")
    if set(data["cells"]) != keys:  # a recording in progress: judged only when complete
        pytest.skip(f"fig7-2h is partly recorded ({len(data['cells'])}/{len(keys)} cells; "
                    "make reproduce GRID=fig7-2h WORKERS=2 TRAINER=fastcpu resumes it)")
    found = verdicts(FIG7_2H.criteria, list(data["cells"].values()), claim, FIG7_2H.base.clip)
    assert found, claim
    return found


@pytest.mark.claim("pascanu2013/fig7-clipping-matters-more-with-length",
                   modules=["common.fastcpu", "common.batched", "pascanu2013.clipping",
                            "pascanu2013.regularizer", "common.tasks"])
@pytest.mark.xfail(strict=True, raises=AssertionError,
                   reason="registered criteria not met by the recorded fig7-2h grid: the tanh "
                   "gap MSGD-C - MSGD is +0.40 at length 50 (4/10 vs 0/10) and 0 at length 200 (0/10 vs "
                   "0/10); at lengths 150-200 MSGD-C 0/20 vs MSGD 0/20, Fisher p = 1")
def test_fig7_2h_recorded_clipping_matters_more_with_length() -> None:
    """Fig. 7, §4.1.1 at the paper's protocol (lengths 50-200, 30,000 updates, recorded): the
    registered criteria "the tanh gap MSGD-C - MSGD grows from length 50 to 200, and at lengths
    150-200 MSGD-C solves more runs than MSGD (two-sided Fisher p < 0.05)". The recorded data do
    not meet them (strict xfail: if they ever do, this fails and the claim must be updated)."""
    for v in _fig7_2h_verdicts("pascanu2013/fig7-clipping-matters-more-with-length"):
        assert v.met, v.detail


@pytest.mark.claim("pascanu2013/fig7-omega-helps-long",
                   modules=["common.fastcpu", "common.batched", "pascanu2013.clipping",
                            "pascanu2013.regularizer", "common.tasks"])
@pytest.mark.xfail(strict=True, raises=AssertionError,
                   reason="registered criterion not met by the recorded fig7-2h grid: sigmoid "
                   "and basic tanh at lengths 100-200, MSGD-CR 4/30 vs MSGD-C 0/30, Fisher p = 0.112")
def test_fig7_2h_recorded_omega_helps_long() -> None:
    """Fig. 7, §3.3 at the paper's protocol (recorded): the registered criterion "with the sigmoid
    and basic tanh inits at lengths 100-200, MSGD-CR solves more runs than MSGD-C (Fisher
    p < 0.05)". The recorded data do not meet it (strict xfail)."""
    for v in _fig7_2h_verdicts("pascanu2013/fig7-omega-helps-long"):
        assert v.met, v.detail


def test_grids_follow_the_paper() -> None:
    """Fig. 7 (§4.1.1): 50 hidden units, the three inits, MSGD / MSGD-C (threshold 1) / MSGD-CR
    (alpha 4), lr 0.01, batch 20, success below 1% of 10,000 fresh sequences, lengths 50-200, 5 seeds;
    the reduced grids state every deviation."""
    fig7 = GRIDS["fig7"]
    assert len(fig7.cells()) == 3 * 3 * 4 * 5 and fig7.lengths == (50, 100, 150, 200)
    b = fig7.base
    assert (b.n_hidden, b.lr, b.clip, b.alpha, b.batch_size, b.eval_size, b.success_error) == (
        50, 0.01, 1.0, 4.0, 20, 10_000, 0.01)
    assert any("budget" in d for d in fig7.deviations)
    assert any("learning rate" in d for d in GRIDS["ci"].deviations)
    assert GRIDS["ci"].with_budget(7).config_hash() != GRIDS["ci"].config_hash()
    assert {len(g) for g in fig7.groups().values()} == {45}


# ----------------------------------------------------------------- the recorded CI tier
def _ci() -> dict:
    data = load_results(CI_FILE)
    assert data is not None, f"{CI_FILE} is missing: run `python -m notes_code.experiments run ci`"
    return data


def test_ci_recorded_file_is_complete() -> None:
    """The recorded CI tier matches the current grid definition and carries its provenance."""
    data, grid = _ci(), GRIDS["ci"]
    assert data["config_hash"] == grid.config_hash()
    assert set(data["cells"]) == {c.key() for c in grid.cells()}
    prov = data["provenance"]
    assert prov["git_commit"] != "unknown" and prov["wall_time_s"] > 0 and prov["torch"]


def _recorded(grid: str) -> tuple[dict, Grid]:
    """A recorded grid whose stored definition (criteria included) is the current one."""
    data, g = load_results(default_path(grid)), GRIDS[grid]
    assert data is not None, f"{grid}: no recorded results (make reproduce GRID={grid})"
    assert data["config_hash"] == g.config_hash(), f"{grid}: recorded under another definition"
    assert set(data["cells"]) == {c.key() for c in g.cells()}
    return data, g


def _verdicts(grid: str, claim: str) -> list:
    data, g = _recorded(grid)
    found = verdicts(g.criteria, list(data["cells"].values()), claim, g.base.clip)
    assert found, f"{grid} registers no criterion for {claim}"
    return found


@pytest.mark.claim("pascanu2013/clipping-rescues-exploding-runs",
                   modules=["common.batched", "pascanu2013.clipping",
                            "pascanu2013.regularizer", "common.tasks"])
def test_ci_recorded_clipping_rescues_exploding_runs() -> None:
    """§3.2, §4.1.1 (CI tier, recorded): the `ci` grid's registered criteria for this claim hold:
    tanh MSGD-C solves more runs than MSGD at lengths 20-30 (two-sided Fisher p < 0.05), and every
    failed tanh MSGD run there met a gradient spike (>= 10x the threshold) and ends with
    rho(W_rec) > 1 and an error near chance: stuck, not diverged."""
    for v in _verdicts("ci", "pascanu2013/clipping-rescues-exploding-runs"):
        assert v.met, v.detail


@pytest.mark.claim("pascanu2013/clipping-matters-more-with-length",
                   modules=["common.batched", "pascanu2013.clipping",
                            "pascanu2013.regularizer", "common.tasks"])
def test_ci_recorded_clipping_matters_more_with_length() -> None:
    """§4.1.1 "As the length of the sequence increases, using clipping becomes more important"
    (CI tier, recorded): the registered criteria hold: the MSGD-C - MSGD gap is larger at length 30
    than at 10, and tanh MSGD solves more runs at 10 than at 30 (Fisher p < 0.05)."""
    for v in _verdicts("ci", "pascanu2013/clipping-matters-more-with-length"):
        assert v.met, v.detail


def test_ci_cells_reproduce() -> None:
    """Reproducibility of the recorded CI tier: the shortest length's batched group, re-trained with
    the budget cut to 750 updates (the cut does not touch the trajectory before it) and one thread,
    re-succeeds exactly the recorded runs that succeeded by then, with the same update counts, final
    errors (exactly, with the recorded CPU and torch version) and largest gradient norms (to 1e-3: the
    clip now scales by a float64 norm, so float32 trajectories drift by rounding)."""
    data, grid = _ci(), GRIDS["ci"]
    group, cut = grid.groups()[grid.lengths[0]], 750
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        runs = run_batched([dataclasses.replace(c, max_updates=cut) for c in group])
    finally:
        torch.set_num_threads(threads)
    prov = data["provenance"]
    same_machine = prov["torch"] == torch.__version__ and prov["device"] == provenance("cpu")["device"]
    for c, r in zip(group, runs, strict=True):
        cell = data["cells"][c.key()]
        won = cell["outcome"] == "success" and cell["updates"] <= cut
        assert r.success == won
        if won:
            assert r.updates == cell["updates"]
            if same_machine:
                assert r.final_error == cell["final_error"]
                # The clip now scales by a float64 norm (the grid was recorded with a float32 one), so
                # float32 trajectories drift by rounding: the same successes, update counts and
                # errors, and the largest norm to 1e-3.
                assert r.max_grad_norm == pytest.approx(cell["max_grad_norm"], rel=1e-3)




@pytest.mark.claim("pascanu2013/fig7-cpu-clipping-effect",
                   modules=["common.batched", "pascanu2013.clipping",
                            "pascanu2013.regularizer", "common.tasks"])
@pytest.mark.xfail(strict=True, reason="registered criterion not met by the recorded fig7-cpu grid: "
                   "tanh MSGD-C 4/20 vs MSGD 0/20, two-sided Fisher p = 0.106")
def test_fig7_cpu_recorded_clipping_effect() -> None:
    """Fig. 7, §4.1.1 at the paper's settings (reduced: lengths 50 and 100, 20,000 updates,
    recorded): the registered criterion "tanh MSGD-C solves more runs than MSGD, Fisher p < 0.05".
    The recorded data do not meet it (strict xfail: if they ever do, this fails and the claim
    must be updated)."""
    (v,) = _verdicts("fig7-cpu", "pascanu2013/fig7-cpu-clipping-effect")
    assert v.met, v.detail


@pytest.mark.claim("pascanu2013/fig7-cpu-omega-effect",
                   modules=["common.batched", "pascanu2013.clipping",
                            "pascanu2013.regularizer", "common.tasks"])
def test_fig7_cpu_recorded_omega_effect() -> None:
    """Fig. 7, §3.3 (reduced grid, recorded): with basic tanh every success is MSGD-CR's: MSGD-CR
    solves more runs than MSGD-C (registered criterion, Fisher p < 0.05), and no MSGD or sigmoid
    run succeeds at all."""
    (v,) = _verdicts("fig7-cpu", "pascanu2013/fig7-cpu-omega-effect")
    assert v.met, v.detail
    data, _ = _recorded("fig7-cpu")
    assert data["provenance"]["git_dirty"] is False
    cells = list(data["cells"].values())
    assert not any(c["outcome"] == "success" for c in cells
                   if c["method"] == "MSGD" or c["init"] == "sigmoid")


@pytest.mark.claim("pascanu2013/permutation-omega-helps",
                   modules=["common.batched", "pascanu2013.clipping",
                            "pascanu2013.regularizer", "common.tasks"])
def test_permutation_recorded_omega_helps() -> None:
    """§4.1.2 random permutation (CI-tier settings, length 20, 10 seeds per tanh init, recorded in
    `ci-perm20`): the registered criterion "MSGD-CR solves more runs than MSGD-C, Fisher p < 0.05"
    holds; the 3-seed `ci-perm` cells at length 20 are re-found in it with the same outcomes."""
    (v,) = _verdicts("ci-perm20", "pascanu2013/permutation-omega-helps")
    assert v.met, v.detail
    big, _ = _recorded("ci-perm20")
    small, _ = _recorded("ci-perm")
    shared = [k for k in small["cells"] if k in big["cells"]]
    assert len(shared) == 18  # tanh inits x 3 methods x seeds 0-2 at length 20
    # float32 sums over a batch of a different size round differently, so update counts may
    # differ (one of 18 does: 500 vs 1,000); the outcomes must not.
    assert [big["cells"][k]["outcome"] for k in shared] == [small["cells"][k]["outcome"] for k in shared]
    assert sum(big["cells"][k]["updates"] == small["cells"][k]["updates"] for k in shared) >= 17


# ----------------------------------------------------------------- retrained from code (small tier)
def _retrain(grid: str, lengths: tuple[int, ...], inits: tuple[str, ...], methods: tuple[str, ...],
             seeds: tuple[int, ...], budget: int) -> list[dict]:
    """Train a subset of a grid's cells from code (one thread, shortened budget) as cell records."""
    base = dataclasses.replace(GRIDS[grid].base, max_updates=budget)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        out = []
        for L in lengths:
            cfgs = [dataclasses.replace(base, init=i, method=m, seed=s, min_length=L, max_length=L)
                    for i in inits for m in methods for s in seeds]
            out += [cell_record(r, {"git_commit": "test", "device": "cpu"}) for r in run_batched(cfgs)]
    finally:
        torch.set_num_threads(threads)
    return out


@pytest.fixture(scope="module")
def ci_small() -> list[dict]:
    """CI-tier cells trained now: tanh inits, MSGD and MSGD-C, seeds 0-2, lengths 10 and 20,
    at most 1,000 updates."""
    return _retrain("ci", (10, 20), TANH, ("MSGD", "MSGD-C"), (0, 1, 2), 1_000)


def _criterion(grid: str, claim: str, kind: str) -> Criterion:
    return next(c for c in GRIDS[grid].criteria if c.claim == claim and c.kind == kind)


@pytest.mark.slow
@pytest.mark.claim("pascanu2013/clipping-rescues-exploding-runs", "pascanu2013/fig7-cpu-clipping-effect",
                   modules=["common.batched", "pascanu2013.clipping",
                            "pascanu2013.regularizer", "common.tasks"])
def test_retrained_clipping_rescues_exploding_runs(ci_small) -> None:
    """§3.2, §4.1.1, retrained from code (CI tier, length 20, 6 runs per method, 1,000 updates):
    MSGD-C solves more runs than MSGD (Fisher p < 0.05), and the MSGD failures are spikes that
    left rho(W_rec) > 1 with the error near chance (the `ci` grid's registered criteria). Fails
    if the trainer stops clipping."""
    claim = "pascanu2013/clipping-rescues-exploding-runs"
    for kind in ("more-successes", "failures-exploded"):
        v = evaluate(_criterion("ci", claim, kind), ci_small)
        assert v.met, v.detail


@pytest.mark.slow
@pytest.mark.claim("pascanu2013/clipping-matters-more-with-length",
                   "pascanu2013/fig7-clipping-matters-more-with-length",
                   modules=["common.batched", "pascanu2013.clipping",
                            "pascanu2013.regularizer", "common.tasks"])
def test_retrained_clipping_matters_more_with_length(ci_small) -> None:
    """§4.1.1, retrained from code (CI tier, lengths 10 and 20): the MSGD-C - MSGD gap grows from
    length 10 to 20 and MSGD solves more runs at 10 than at 20 (the registered criteria with the
    long length moved to 20; the fig7-2h gap criterion at the CI tier's lengths)."""
    claim = "pascanu2013/clipping-matters-more-with-length"
    gap = dataclasses.replace(_criterion("ci", claim, "gap-grows"), at=(10, 20))
    worse = _criterion("ci", claim, "more-successes")
    worse = dataclasses.replace(worse, b=worse.b.at(20))
    for v in (evaluate(gap, ci_small), evaluate(worse, ci_small)):
        assert v.met, v.detail


@pytest.mark.slow
@pytest.mark.claim("pascanu2013/fig7-cpu-omega-effect", "pascanu2013/fig7-omega-helps-long",
                   modules=["common.batched", "pascanu2013.clipping",
                            "pascanu2013.regularizer", "common.tasks"])
def test_retrained_omega_rescues_vanishing_runs() -> None:
    """§3.3, retrained from code: where the gradient vanishes rather than explodes (sigmoid init,
    CI tier, length 10, 5 seeds, 1,000 updates; clipping alone solves nothing there) MSGD-CR solves
    more runs than MSGD-C, the direction of the basic-tanh Omega effect in the reduced Fig. 7 and of
    the fig7-2h criterion (sigmoid and basic tanh, lengths 100-200).
    Fails if the trainer drops Omega."""
    cells = _retrain("ci", (10,), ("sigmoid",), ("MSGD-C", "MSGD-CR"), tuple(range(5)), 1_000)
    cr = _criterion("fig7-cpu", "pascanu2013/fig7-cpu-omega-effect", "more-successes")
    v = evaluate(dataclasses.replace(cr, a=Cells(("MSGD-CR",), ("sigmoid",)),
                                     b=Cells(("MSGD-C",), ("sigmoid",))), cells)
    assert v.difference.a_better and v.difference.b.k == 0, v.detail


@pytest.mark.slow
@pytest.mark.claim("pascanu2013/permutation-omega-helps",
                   modules=["common.batched", "pascanu2013.clipping",
                            "pascanu2013.regularizer", "common.tasks"])
def test_retrained_permutation_omega_helps() -> None:
    """§4.1.2, retrained from code (random permutation, length 20, tanh inits, seeds 0-2, 1,000
    updates): MSGD-CR solves more runs than MSGD-C (the registered criterion). Fails if the
    trainer drops Omega."""
    cells = _retrain("ci-perm20", (20,), TANH, ("MSGD-C", "MSGD-CR"), (0, 1, 2), 1_000)
    v = evaluate(GRIDS["ci-perm20"].criteria[0], cells)
    assert v.met, v.detail


def test_criteria_are_part_of_the_grid_hash() -> None:
    """A criterion is registered with its grid: changing one (its threshold, its cells) changes the
    grid's hash, so a recorded file cannot be re-judged quietly under a new criterion."""
    grid = GRIDS["ci"]
    crit = grid.criteria[0]
    for changed in (dataclasses.replace(crit, alpha=0.1), dataclasses.replace(crit, a=crit.a.at(30)),
                    dataclasses.replace(crit, statement=crit.statement + ".")):
        other = dataclasses.replace(grid, criteria=(changed, *grid.criteria[1:]))
        assert other.config_hash() != grid.config_hash()
        assert {c.key() for c in other.cells()} == {c.key() for c in grid.cells()}  # same cells
    assert dataclasses.replace(grid, criteria=()).config_hash() != grid.config_hash()


def test_recorded_deviations_name_omega_form_and_alpha_scale() -> None:
    """Every recorded grid states Omega's x-form (not the code's h-form) and that alpha = 4 multiplies
    the mean over steps (T times weaker than under eq. 9's sum)."""
    for name in ("ci", "fig7-cpu", "ci-perm", "ci-perm20", "ci-torder3", "fig7"):
        devs = " ".join(GRIDS[name].deviations)
        assert "x-form" in devs and "h_k" in devs and "T times stronger" in devs, name
