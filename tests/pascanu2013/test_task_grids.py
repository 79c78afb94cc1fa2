"""Tests for notes_code.pascanu2013.task_grids: §4.1.1's variable-length model and §4.1.2's tasks."""

from __future__ import annotations

import dataclasses

import pytest
import torch

from notes_code.common.batched import run_batched
from notes_code.common.criteria import evaluate, verdicts
from notes_code.common.fastcpu import run_fast
from notes_code.common.results import cell_record, load_results
from notes_code.common.runner import default_path
from notes_code.common.train import TrainConfig
from notes_code.pascanu2013.task_grids import GRIDS


def test_grids_follow_the_paper() -> None:
    """§4.1.1/§4.1.2 as the paper states them: one basic-tanh MSGD-CR model for lengths 50-200 on
    temporal order, addition, multiplication, 3-bit order and permutation (trained on lengths drawn
    in [50, 200]), one model per length 50-200 for both memorization variants; the generalisation
    lengths of the paper; addition's and permutation's settings from the secondary source; every
    grid with bilingual deviations and a registered criterion per claim."""
    var = GRIDS["torder-var"]
    assert [(c.task, c.init, c.method, c.n_hidden, c.min_length, c.max_length) for c in var.cells()] == \
        [("torder", "basic_tanh", "MSGD-CR", 50, 50, 201)] * 5
    assert var.generalise == (50, 100, 150, 200, 250, 500, 1000, 2000, 3000, 5000)
    assert (var.base.lr, var.base.clip, var.base.alpha, var.base.eval_size) == (0.01, 1.0, 4.0, 10_000)
    for name in ("add-cr", "mul-cr"):
        assert GRIDS[name].generalise[-1] == 500 and GRIDS[name].min_length == 50
    add, perm = GRIDS["add-cr"].base, GRIDS["perm-cr"].base
    assert (add.lr, add.alpha, add.clip, add.n_hidden) == (0.01, 0.5, 6.0, 50)
    assert (perm.lr, perm.alpha, perm.clip, perm.n_hidden) == (0.001, 1.0, 6.0, 100)
    for task in ("mem5", "mem"):
        g = GRIDS[f"{task}-cr"]
        assert g.min_length is None and g.lengths == (50, 100, 150, 200) and len(g.cells()) == 20
        assert all(c.task == task for c in g.cells())
    minimum = {g.name: c.minimum for g in GRIDS.values() for c in g.criteria if c.kind == "solves"}
    assert minimum == {"torder-var": 5, "add-cr": 5, "mul-cr": 5, "torder3-cr": 5, "perm-cr": 2,
                       "mem5-cr": 20, "mem-cr": 20}
    for g in GRIDS.values():
        assert len(g.deviations) == len(g.deviations_ko) >= 5 and g.budget == 100_000
        assert all(isinstance(c, TrainConfig) for c in g.cells())


def _verdicts(grid: str, claim: str) -> list:
    g = GRIDS[grid]
    data = load_results(default_path(grid))
    if data is None:
        pytest.skip(f"{grid} is registered but not trained yet (make reproduce GRID={grid} TRAINER=fastcpu)")
    # pytest.fail, not assert: the recorded tests are xfail(raises=AssertionError), which must
    # cover only an unmet criterion, never a results file that does not belong to the grid
    if data["config_hash"] != g.config_hash():
        pytest.fail(f"{grid} recorded under another definition")
    keys = {c.key() for c in g.cells()}
    if not set(data["cells"]) <= keys:
        pytest.fail(f"{grid} holds cells of another grid")
    if set(data["cells"]) != keys:  # a recording in progress: judged only when complete
        pytest.skip(f"{grid} is partly recorded ({len(data['cells'])}/{len(keys)} cells; "
                    f"make reproduce GRID={grid} TRAINER=fastcpu resumes it)")
    found = verdicts(g.criteria, list(data["cells"].values()), claim, g.base.clip)
    assert found, claim
    return found


@pytest.mark.claim("pascanu2013/variable-length-model",
                   modules=["common.batched", "common.fastcpu", "common.tasks", "common.train",
                            "pascanu2013.regularizer", "pascanu2013.clipping"])
@pytest.mark.xfail(strict=True, raises=AssertionError,
                   reason="registered criteria not met by the recorded torder-var grid: 0/5 "
                   "runs succeed in 100,000 updates (errors 0.71-0.76, chance 0.75), so none is tested for "
                   "generalisation")
def test_recorded_torder_var() -> None:
    """Recorded torder-var (§4.1.1): the registered criteria "the single temporal-order model
    trained on lengths 50-200 (basic tanh, MSGD-CR) succeeds in 5 of 5 runs, and every successful
    run has under 1% errors at lengths 50 to 5,000". The recorded data do not meet them (strict
    xfail: if they ever do, this fails and the claim must be updated)."""
    for v in _verdicts("torder-var", "pascanu2013/variable-length-model"):
        assert v.met, v.detail


@pytest.mark.claim("pascanu2013/addition-sgd-cr",
                   modules=["common.batched", "common.fastcpu", "common.tasks", "common.train",
                            "pascanu2013.regularizer", "pascanu2013.clipping"])
@pytest.mark.xfail(strict=True, raises=AssertionError,
                   reason="registered criteria not met by the recorded add-cr grid: 0/5 runs "
                   "succeed in 100,000 updates (errors 0.34-0.36, what predicting the mean 0.5 scores)")
def test_recorded_add_cr() -> None:
    """Recorded add-cr (§4.1.2): the registered criteria "SGD-CR solves addition (one model for
    lengths 50-200) in 5 of 5 runs and generalises to 500 steps under 1% error". The recorded
    data do not meet them (strict xfail)."""
    for v in _verdicts("add-cr", "pascanu2013/addition-sgd-cr"):
        assert v.met, v.detail


@pytest.mark.claim("pascanu2013/multiplication-sgd-cr",
                   modules=["common.batched", "common.fastcpu", "common.tasks", "common.train",
                            "pascanu2013.regularizer", "pascanu2013.clipping"])
@pytest.mark.xfail(strict=True, raises=AssertionError,
                   reason="registered criteria not met by the recorded mul-cr grid: 0/5 runs "
                   "succeed in 100,000 updates (errors 0.32-0.41; predicting the mean 0.25 scores 0.39)")
def test_recorded_mul_cr() -> None:
    """Recorded mul-cr (§4.1.2): the registered criteria "SGD-CR solves multiplication (one model
    for lengths 50-200) in 5 of 5 runs and generalises to 500 steps under 1% error". The recorded
    data do not meet them (strict xfail)."""
    for v in _verdicts("mul-cr", "pascanu2013/multiplication-sgd-cr"):
        assert v.met, v.detail


@pytest.mark.claim("pascanu2013/torder3-sgd-cr",
                   modules=["common.batched", "common.fastcpu", "common.tasks", "common.train",
                            "pascanu2013.regularizer", "pascanu2013.clipping"])
@pytest.mark.xfail(strict=True, raises=AssertionError,
                   reason="registered criterion not met by the recorded torder3-cr grid: 0/5 "
                   "runs succeed in 100,000 updates (errors 0.86-0.89 in four, chance 0.875; 0.44 in one)")
def test_recorded_torder3_cr() -> None:
    """Recorded torder3-cr (§4.1.2): the registered criterion "SGD-CR solves 3-bit temporal order
    (one model for lengths 50-200) in 5 of 5 runs". The recorded data do not meet it (strict
    xfail)."""
    for v in _verdicts("torder3-cr", "pascanu2013/torder3-sgd-cr"):
        assert v.met, v.detail


@pytest.mark.claim("pascanu2013/permutation-sgd-cr",
                   modules=["common.batched", "common.fastcpu", "common.tasks", "common.train",
                            "pascanu2013.regularizer", "pascanu2013.clipping"])
def test_recorded_perm_cr() -> None:
    """Recorded perm-cr (§4.1.2: SGD-CR solves random permutation (one model for lengths 50-200)
    in at least 2 of 5 runs): the registered criteria hold."""
    for v in _verdicts("perm-cr", "pascanu2013/permutation-sgd-cr"):
        assert v.met, v.detail


@pytest.mark.claim("pascanu2013/memorization-5bit-sgd-cr",
                   modules=["common.batched", "common.fastcpu", "common.tasks", "common.train",
                            "pascanu2013.regularizer", "pascanu2013.clipping"])
@pytest.mark.xfail(strict=True, raises=AssertionError,
                   reason="registered criterion not met by the recorded mem5-cr grid: 18/20 runs "
                   "succeed in 100,000 updates (5/5 at lengths 50, 100 and 150; 3/5 at 200, the two "
                   "failures ending at errors 0.26 and 0.055)")
def test_recorded_mem5_cr() -> None:
    """Recorded mem5-cr (§4.1.2): the registered criterion "SGD-CR solves noiseless memorization
    of a 5-bit pattern in every run at each length 50, 100, 150, 200" (20 of 20). The recorded
    data do not meet it (strict xfail)."""
    for v in _verdicts("mem5-cr", "pascanu2013/memorization-5bit-sgd-cr"):
        assert v.met, v.detail


@pytest.mark.claim("pascanu2013/memorization-23bit-sgd-cr",
                   modules=["common.batched", "common.fastcpu", "common.tasks", "common.train",
                            "pascanu2013.regularizer", "pascanu2013.clipping"])
@pytest.mark.xfail(strict=True, raises=AssertionError,
                   reason="registered criterion not met by the recorded mem-cr grid: 0/20 runs "
                   "succeed in 100,000 updates (0/5 at each length 50, 100, 150, 200; final errors "
                   "0.87-1.0, chance 1.0)")
def test_recorded_mem_cr() -> None:
    """Recorded mem-cr (§4.1.2): the registered criterion "SGD-CR solves noiseless memorization
    of a 23-bit pattern in every run at each length 50, 100, 150, 200" (20 of 20). The recorded
    data do not meet it (strict xfail)."""
    for v in _verdicts("mem-cr", "pascanu2013/memorization-23bit-sgd-cr"):
        assert v.met, v.detail


# The grids above take 40 minutes to 3 hours each; the tests below retrain each task from code at
# the CI tier's scale (lengths 10-20, learning rate 0.1, 3 seeds, a few thousand updates), so that a
# claim is not checked only by re-reading its committed file. Their settings were found by one
# exploratory run per task on 2026-12-02 (the number of updates the slowest seed needed, with
# margin); the 23-bit memorization did not learn at length 10 within 3,000 updates, so it has no
# CI-tier test.
_CI_TIER = {  # grid: (shortest length, longest length + 1, updates, runs that must succeed of 3)
    "torder-var": (10, 21, 2_000, 3), "torder3-cr": (10, 21, 2_000, 3), "perm-cr": (10, 21, 4_000, 2),
    "add-cr": (10, 12, 10_000, 3), "mul-cr": (10, 12, 10_000, 2), "mem5-cr": (10, 11, 2_000, 3),
}


def _retrained_solves(grid: str):
    """Retrain `grid`'s MSGD-CR model at the CI tier (seeds 0-2, one thread) and judge the grid's
    registered `solves` criterion with the CI tier's minimum."""
    lo, hi, budget, minimum = _CI_TIER[grid]
    g = GRIDS[grid]
    base = dataclasses.replace(g.cells()[0], lr=0.1, max_updates=budget, min_length=lo, max_length=hi,
                               eval_every=100, eval_size=1_000, screen_size=0)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        results = run_batched([dataclasses.replace(base, seed=s) for s in (0, 1, 2)])
    finally:
        torch.set_num_threads(threads)
    cells = [cell_record(r, {"git_commit": "test", "device": "cpu"}) for r in results]
    solves = next(c for c in g.criteria if c.kind == "solves")
    return evaluate(dataclasses.replace(solves, minimum=minimum), cells)


@pytest.mark.slow
@pytest.mark.claim("pascanu2013/variable-length-model",
                   modules=["common.batched", "common.tasks", "pascanu2013.regularizer",
                            "pascanu2013.clipping"])
def test_retrained_variable_length_torder() -> None:
    """§4.1.1 retrained at the CI tier: one basic-tanh MSGD-CR temporal-order model per seed, each
    update drawing its length in [10, 20], succeeds in 3 of 3 runs (1% of 1,000 fresh sequences of
    lengths drawn the same way). The generalisation half is checked on the recorded grid only."""
    v = _retrained_solves("torder-var")
    assert v.met, v.detail


@pytest.mark.slow
@pytest.mark.claim("pascanu2013/addition-sgd-cr",
                   modules=["common.batched", "common.tasks", "pascanu2013.regularizer",
                            "pascanu2013.clipping"])
def test_retrained_addition() -> None:
    """§4.1.2 retrained at the CI tier: SGD-CR (addition's settings, lr 0.1) solves addition at
    lengths 10-11 in 3 of 3 runs (squared error over 0.04 counts as wrong)."""
    v = _retrained_solves("add-cr")
    assert v.met, v.detail


@pytest.mark.slow
@pytest.mark.claim("pascanu2013/multiplication-sgd-cr",
                   modules=["common.batched", "common.tasks", "pascanu2013.regularizer",
                            "pascanu2013.clipping"])
def test_retrained_multiplication() -> None:
    """§4.1.2 retrained at the CI tier: SGD-CR solves multiplication at lengths 10-11 in at least 2
    of 3 runs within 10,000 updates (the third reached 1.5% errors in the exploratory run)."""
    v = _retrained_solves("mul-cr")
    assert v.met, v.detail


@pytest.mark.slow
@pytest.mark.claim("pascanu2013/torder3-sgd-cr",
                   modules=["common.batched", "common.tasks", "pascanu2013.regularizer",
                            "pascanu2013.clipping"])
def test_retrained_torder3() -> None:
    """§4.1.2 retrained at the CI tier: SGD-CR solves 3-bit temporal order (8 classes) at lengths
    drawn in [10, 20] in 3 of 3 runs."""
    v = _retrained_solves("torder3-cr")
    assert v.met, v.detail


@pytest.mark.slow
@pytest.mark.claim("pascanu2013/permutation-sgd-cr",
                   modules=["common.batched", "common.tasks", "pascanu2013.regularizer",
                            "pascanu2013.clipping"])
def test_retrained_permutation() -> None:
    """§4.1.2 retrained at the CI tier: SGD-CR (permutation's settings: 100 units, alpha 1,
    threshold 6; lr 0.1) solves random permutation at lengths drawn in [10, 20] in at least 2 of 3
    runs (the paper: 2 of 5 at its lengths)."""
    v = _retrained_solves("perm-cr")
    assert v.met, v.detail


@pytest.mark.slow
@pytest.mark.claim("pascanu2013/memorization-5bit-sgd-cr",
                   modules=["common.batched", "common.tasks", "pascanu2013.regularizer",
                            "pascanu2013.clipping"])
def test_retrained_memorization_5bit() -> None:
    """§4.1.2 retrained at the CI tier: SGD-CR solves noiseless memorization of a 5-bit pattern at
    delay 10 in 3 of 3 runs (a sequence is wrong if any of its output steps is)."""
    v = _retrained_solves("mem5-cr")
    assert v.met, v.detail


@pytest.mark.slow
@pytest.mark.claim("pascanu2013/memorization-23bit-sgd-cr",
                   modules=["common.batched", "common.fastcpu", "common.tasks", "common.train",
                            "pascanu2013.regularizer", "pascanu2013.clipping"])
def test_recorded_mem_cr_comes_from_this_code() -> None:
    """§4.1.2, 23-bit memorization: the recorded mem-cr grid is what this code trains. The variant
    does not learn at the CI tier, so instead of a retraining test this one retrains the recorded
    length-50 group (5 seeds, one batch, the recording's engine) for its first 500 updates and
    finds the recorded first history row of every seed: the same clip count and pre-test error,
    the same loss, Omega and gradient norm (to float32 noise across batch sizes and machines)."""
    g = GRIDS["mem-cr"]
    data = load_results(default_path("mem-cr"))
    if data is None:
        pytest.skip("mem-cr is not recorded")
    if data["config_hash"] != g.config_hash():
        pytest.fail("mem-cr recorded under another definition")
    cells = [c for c in g.cells() if c.max_length == 50]
    assert len(cells) == 5
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        results = run_fast([dataclasses.replace(c, max_updates=500) for c in cells])
    finally:
        torch.set_num_threads(threads)
    for cfg, result in zip(cells, results, strict=True):
        want = data["cells"][cfg.key()]["history"][0]
        got = result.history[0]
        assert want["update"] == got["update"] == 500
        assert (got["n_clipped"], got["n_eval"]) == (want["n_clipped"], want["n_eval"]), cfg.seed
        assert got["error"] == pytest.approx(want["error"], abs=0.005), cfg.seed
        for k in ("loss", "omega", "grad_norm"):
            assert got[k] == pytest.approx(want[k], rel=1e-3), (cfg.seed, k)
