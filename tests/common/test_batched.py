"""Tests for notes_code.common.batched: K runs of the Fig. 7 protocol as one batched model."""

from __future__ import annotations

import dataclasses
import functools
import math
import re
import time

import pytest
import torch

from notes_code.common.batched import NAMES, check_batchable, coefficients, run_batched, train_step
from notes_code.common.heads import stack_batches
from notes_code.common.tasks import arith_steps, make_batch, sample_length
from notes_code.common.train import TrainConfig, generator, make_model, run
from notes_code.pascanu2013.regularized_training import loss_and_grads

# Tiny sizes (n = 4, lengths 10-11, 4 sequences a batch, 12 updates): each mutant of the batched
# trainer is run against these tests, so they must stay well under a second.
BASE = TrainConfig(n_hidden=4, min_length=10, max_length=12, batch_size=4, lr=0.1, max_updates=12,
                   eval_every=4, eval_size=24, screen_size=8, eval_chunk=8, dtype="float64",
                   length_seed=7, success_error=0.7)
MIX = [
    dataclasses.replace(BASE, init="sigmoid", method="MSGD", seed=1),
    dataclasses.replace(BASE, init="basic_tanh", method="MSGD-CR", seed=2, max_updates=10),
    dataclasses.replace(BASE, init="smart_tanh", method="MSGD-C", seed=3, lr=0.3),
    dataclasses.replace(BASE, init="basic_tanh", method="MSGD-C", seed=4, clip=0.1,
                        fallback_threshold=0.3),
    dataclasses.replace(BASE, init="smart_tanh", method="MSGD", seed=5, lr=math.inf),
]


def _run(configs: list[TrainConfig], callback=None, **kw) -> list:
    """run_batched that fails, instead of hanging, if it trains past every budget (12 updates)."""
    calls = []

    def guard(step: int) -> None:
        calls.append(step)
        if len(calls) > 4 * max(c.max_updates for c in configs):
            raise AssertionError(f"still training after {len(calls)} loop iterations")
        if callback is not None:
            callback(step)

    return run_batched(configs, callback=guard, **kw)


@functools.cache
def _single_runs(configs: tuple[TrainConfig, ...] = tuple(MIX)) -> tuple:
    """The reference: each run trained alone by train.run (computed once per process)."""
    return tuple(run(c) for c in configs)


def _assert_same(batched: list, singles: tuple, rel: float = 1e-9, abs_: float = 1e-12) -> None:
    for s, b in zip(singles, batched, strict=True):
        assert (b.outcome, b.updates, b.final_error, b.n_fallback, b.n_clipped) == (
            s.outcome, s.updates, s.final_error, s.n_fallback, s.n_clipped)
        assert b.max_grad_norm == pytest.approx(s.max_grad_norm, rel=rel)
        assert len(b.history) == len(s.history)
        for rb, rs in zip(b.history, s.history, strict=True):
            assert rb == pytest.approx(rs, rel=rel, abs=abs_)
            assert {k: type(v) for k, v in rb.items()} == {k: type(v) for k, v in rs.items()}
        for name, p in s.params.items():
            torch.testing.assert_close(b.params[name], p, rtol=1e-9, atol=1e-12)


@pytest.mark.claim("pascanu2013/batched-equals-single", modules=["common.batched", "common.heads"])
def test_batched_equals_single() -> None:
    """Batched multi-run training: K=5 runs mixing the three inits (§4.1.1), MSGD / MSGD-C /
    MSGD-CR (alpha=4), a released-code fallback, a diverging MSGD run, an early success and unequal
    budgets follow,
    in float64, the same trajectories as five single runs (weights to 1e-6; same outcomes,
    update counts, errors and history)."""
    singles = _single_runs()
    finished: list[int] = []
    batched = _run(MIX, on_finish=lambda k, r: finished.append(k))
    assert sorted(finished) == list(range(len(MIX)))
    # every path was taken: success (early stop), budget end, divergence, fallback
    assert {r.outcome for r in batched} == {"success", "fail", "diverged"}
    assert batched[3].n_fallback > 0
    assert batched[3].n_clipped > 0 and batched[0].n_clipped == batched[4].n_clipped == 0  # MSGD: never
    for s, b in zip(singles, batched, strict=True):
        assert (b.outcome, b.updates, b.final_error, b.n_fallback, b.n_clipped) == (
            s.outcome, s.updates, s.final_error, s.n_fallback, s.n_clipped)
        assert b.max_grad_norm == pytest.approx(s.max_grad_norm, rel=1e-9)
        assert len(b.history) == len(s.history)
        for rb, rs in zip(b.history, s.history, strict=True):
            assert rb == pytest.approx(rs, rel=1e-9, abs=1e-12)
        for name, p in s.params.items():
            torch.testing.assert_close(b.params[name], p, rtol=0, atol=1e-6)
            torch.testing.assert_close(b.params[name], p, rtol=1e-9, atol=1e-12)


def test_train_step_matches_autograd() -> None:
    """One batched step: the per-run loss, Omega (eq. 10, released code's mean) and pre-clipping
    gradient norm (Algorithm 1's global norm, Omega's W_rec gradient included) equal those of
    regularized_training.loss_and_grads for each run."""
    cfgs = [dataclasses.replace(BASE, init=i, method="MSGD-CR", seed=s)
            for s, i in enumerate(("sigmoid", "basic_tanh", "smart_tanh"))]
    models = [make_model(c) for c in cfgs]
    P = {n: torch.stack([getattr(m, n).detach().clone() for m in models])
         for n in ("W_in", "W_rec", "b", "W_out", "b_out")}
    batches = [make_batch("torder", 20, 12, generator(k, "x"), torch.float64) for k in range(3)]
    U = torch.stack([b.u for b in batches], 1)
    Y = torch.stack([b.target for b in batches])
    out = train_step(P, coefficients(cfgs, torch.device("cpu"), torch.float64), U, Y,
                     torch.ones(3, dtype=torch.bool))
    for k, (m, b) in enumerate(zip(models, batches, strict=True)):
        ref = loss_and_grads(m, b.u, b.target, alpha=4.0)
        norm = math.sqrt(sum(float(g.square().sum()) for g in ref.grads.values()))
        assert float(out["loss"][k]) == pytest.approx(float(ref.loss), rel=1e-12)
        assert float(out["omega"][k]) == pytest.approx(float(ref.omega), rel=1e-10)
        assert float(out["norm"][k]) == pytest.approx(norm, rel=1e-10)


def _interrupted(ckpt) -> None:
    """Train MIX with checkpoints every 5 updates and stop it after update 7."""
    def interrupt(step: int) -> None:
        if step == 7:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        _run(MIX, checkpoint=ckpt, checkpoint_every=5, callback=interrupt)


def test_resume_batched(tmp_path, capfd) -> None:
    """Checkpoint/resume of the batched trainer: interrupted after update 7 (checkpoint at 5,
    when the early success and the diverged run have already finished) and resumed, it ends
    exactly as the uninterrupted batched run, finished runs included; the resumed session adds
    its time to the saved wall time, and its progress bar goes on from update 5 to 12 of 12."""
    full = _run(MIX)
    ckpt = tmp_path / "group.pt"
    t0 = time.perf_counter()
    _interrupted(ckpt)
    saved = torch.load(ckpt, weights_only=True)["st"]
    assert saved["step"] == 5 and sum(r is not None for r in saved["results"]) == 2
    capfd.readouterr()
    resumed = _run(MIX, checkpoint=ckpt, checkpoint_every=5, progress=True)
    elapsed = time.perf_counter() - t0
    bar = capfd.readouterr().err.replace("\r", "\n").strip().splitlines()[-1]
    assert "12/12" in bar and re.search(r"(upd/s|s/upd)\b", bar) and "active=0, success=2" in bar
    assert all(elapsed >= resumed[k].wall_time >= saved["wall"] > 0 for k in (0, 1, 2))
    for a, b in zip(full, resumed, strict=True):
        assert dataclasses.replace(a, wall_time=0.0, params=None) == dataclasses.replace(
            b, wall_time=0.0, params=None)
        for name, p in a.params.items():
            assert torch.equal(p, b.params[name])
    with pytest.raises(ValueError, match="other runs"):
        _run(MIX[1:4], checkpoint=ckpt)


def test_resume_checkpoint_without_clip_counts(tmp_path) -> None:
    """A checkpoint written before n_clipped was counted (no n_clipped accumulator, two totals
    per run) resumes: the same trajectories, and the clip count restarts at 0 at the checkpoint
    (the run that clips, MSGD-CR at threshold 1, loses exactly the clips counted before it)."""
    full = _run(MIX)
    ckpt = tmp_path / "old.pt"
    _interrupted(ckpt)
    saved = torch.load(ckpt, weights_only=True)
    p = saved["st"]["work"].index(1)
    lost = saved["st"]["tot"][1][2] + int(saved["acc"]["n_clipped"][p])
    assert lost > 0
    del saved["acc"]["n_clipped"]
    saved["st"]["tot"] = [t[:2] for t in saved["st"]["tot"]]
    torch.save(saved, ckpt)
    resumed = _run(MIX, checkpoint=ckpt, checkpoint_every=5)
    for k, (a, b) in enumerate(zip(full, resumed, strict=True)):
        assert (a.outcome, a.updates, a.final_error, a.n_fallback) == (b.outcome, b.updates,
                                                                        b.final_error, b.n_fallback)
        assert b.n_clipped == a.n_clipped - (lost if k == 1 else 0)
        for name, q in a.params.items():
            assert torch.equal(q, b.params[name])


def test_checkpoint_is_loaded_as_weights_only(tmp_path) -> None:
    """A checkpoint is read with torch.load(weights_only=True): a file that would run arbitrary
    code when unpickled (here: one holding a Python object outside torch's allow-list) is refused
    before anything is trained."""
    import fractions
    import pickle

    ckpt = tmp_path / "evil.pt"
    torch.save({"keys": [c.key() for c in MIX], "x": fractions.Fraction(1, 3)}, ckpt)
    with pytest.raises(pickle.UnpicklingError):
        _run(MIX, checkpoint=ckpt)


def test_check_batchable() -> None:
    """Batched runs must share the step shapes and lengths: task (so its head), n, length range,
    length_seed, batch size and evaluation settings; every head of §4.1.2 batches (add: linear
    output at the last step, mem: softmax at every step)."""
    check_batchable(MIX)
    for change in ({"n_hidden": 9}, {"length_seed": 1}, {"max_length": 16}, {"eval_every": 5},
                   {"dtype": "float32"}, {"task": "add"}):
        with pytest.raises(ValueError, match=next(iter(change))):
            check_batchable([MIX[0], dataclasses.replace(MIX[1], **change)])
    for task in ("add", "mul", "mem"):
        check_batchable([dataclasses.replace(c, task=task) for c in MIX])
    with pytest.raises(ValueError, match="^no runs$"):
        check_batchable([])


def _step_inputs(method: str = "MSGD-C", **kw):
    cfgs = [dataclasses.replace(BASE, init=i, method=method, seed=s, **kw)
            for s, i in enumerate(("sigmoid", "basic_tanh", "smart_tanh"))]
    models = [make_model(c) for c in cfgs]
    P = {n: torch.stack([getattr(m, n).detach().clone() for m in models])
         for n in ("W_in", "W_rec", "b", "W_out", "b_out")}
    batches = [make_batch("torder", 20, 12, generator(k, "x"), torch.float64) for k in range(3)]
    U = torch.stack([b.u for b in batches], 1)
    Y = torch.stack([b.target for b in batches])
    return cfgs, P, U, Y


def test_clipping_at_exactly_the_threshold() -> None:
    """Algorithm 1, §3.2 clips when ||g|| >= threshold (the released code: >). A run whose
    threshold equals its pre-clipping norm exactly is flagged clipped; one ulp above it is not;
    below, the update is rescaled to length lr * threshold exactly as the single-run trainer."""
    cfgs, P, U, Y = _step_inputs(clip=math.inf)
    alive = torch.ones(3, dtype=torch.bool)
    co = coefficients(cfgs, torch.device("cpu"), torch.float64)
    free = train_step({k: v.clone() for k, v in P.items()}, co, U, Y, alive)
    norm = free["norm"]
    assert not free["clipped"].any()
    co["clip"] = norm.clone()
    co["clip"][1] = torch.nextafter(norm[1], torch.tensor(math.inf, dtype=torch.float64))
    at = train_step({k: v.clone() for k, v in P.items()}, co, U, Y, alive)
    assert at["clipped"].tolist() == [True, False, True]
    co["clip"] = norm / 2
    Q = {k: v.clone() for k, v in P.items()}
    half = train_step(Q, co, U, Y, alive)
    assert half["clipped"].all() and not half["fell_back"].any()
    sq = sum((Q[k] - P[k]).flatten(1).square().sum(1) for k in P)
    torch.testing.assert_close(sq.sqrt(), co["lr"] * norm / 2, rtol=1e-10, atol=0)


def test_float32_overflowing_norm_is_finite_and_falls_back() -> None:
    """Released code's guard with float32 weights: a gradient whose float32 sum of squares would
    overflow still has a finite float64 norm (> 1e10), so the clipped run takes the fallback and no
    weight becomes NaN/Inf. Omega (alpha = 0 here) is NaN in float32 at this scale and must not
    leak into an MSGD-C or MSGD gradient (single runs never add it)."""
    cfgs = [dataclasses.replace(BASE, method=m, dtype="float32", seed=1) for m in ("MSGD-C", "MSGD")]
    models = [make_model(c) for c in cfgs]
    P = {n: torch.stack([getattr(m, n).detach().clone() for m in models])
         for n in ("W_in", "W_rec", "b", "W_out", "b_out")}
    P["W_out"].mul_(1e30)  # output gradients around 1e30, squares far beyond float32's range
    batch = make_batch("torder", 20, 12, generator(0, "x"), torch.float32)
    U = torch.stack([batch.u, batch.u], 1)
    Y = torch.stack([batch.target, batch.target])
    co = coefficients(cfgs, torch.device("cpu"), torch.float32)
    before = {k: v.clone() for k, v in P.items()}
    out = train_step(P, co, U, Y, torch.ones(2, dtype=torch.bool))
    assert out["norm"].dtype == torch.float64 and bool(torch.isfinite(out["norm"]).all())
    assert float(out["norm"][0]) > 1e20  # its square is beyond float32 (3.4e38)
    assert out["fell_back"].tolist() == [True, False] and out["ok"].all()
    assert not bool(torch.isfinite(out["omega"]).any())  # the reason alpha = 0 must mean "no term"
    for k in P:
        assert bool(torch.isfinite(P[k]).all())
        if k != "W_rec":
            assert torch.equal(P[k][0], before[k][0])
    torch.testing.assert_close(P["W_rec"][0], before["W_rec"][0] * (1 - BASE.lr * 0.02))


# Evaluation edge cases of the Fig. 7 protocol: a screen whose error equals the success threshold
# exactly (the full test is not run: success needs error < threshold), a full test at the
# threshold (not a success), and no screen at all (screen_size = 0: always the full test).
EDGES = {
    "at-threshold": tuple(dataclasses.replace(BASE, init="smart_tanh", method="MSGD-C", seed=s,
                                              success_error=0.75) for s in (1, 4, 6)),
    "no-screen": tuple(dataclasses.replace(BASE, init="smart_tanh", method="MSGD-C", seed=s,
                                           screen_size=0) for s in (1, 2)),
}


@pytest.mark.parametrize("edge", sorted(EDGES))
def test_batched_evaluation_edges(edge: str) -> None:
    """Fig. 7 protocol (§4.1.1: success when the error on fresh sequences is below the threshold):
    batched runs evaluate as single runs at the edges: a pre-test error exactly at the threshold
    stops there, a full-test error exactly at it is no success, and without a pre-test every
    evaluation is the full test (same outcomes, updates, histories and weights)."""
    configs = EDGES[edge]
    singles = _single_runs(configs)
    if edge == "at-threshold":  # the edges are really hit by the single-run reference
        rows = [(h["error"], h["n_eval"]) for s in singles for h in s.history]
        assert (0.75, 8) in rows and (0.75, 24) in rows
    else:
        assert all(h["n_eval"] == BASE.eval_size for s in singles for h in s.history)
    _assert_same(_run(list(configs)), singles)


def test_single_run_batch_and_defaults(capfd) -> None:
    """A batch of one run (K = 1) is that run (train.run), also when it diverges before its first
    evaluation (no run is due at the evaluation step); by default no progress bar is drawn
    (nothing on stderr), checkpoints come every 1000 updates, and the reported wall time is the
    time this call took (not more)."""
    import inspect

    start = time.perf_counter()
    (one,) = _run([MIX[1]])
    elapsed = time.perf_counter() - start
    _assert_same([one], _single_runs()[1:2])
    _assert_same(_run([MIX[4]]), _single_runs()[4:])  # alone, diverged before any evaluation
    assert 0 < one.wall_time <= elapsed
    assert capfd.readouterr().err == ""
    params = inspect.signature(run_batched).parameters
    assert params["checkpoint_every"].default == 1000 and params["progress"].default is False


@pytest.mark.parametrize("task", ["torder", "add", "mem"])
def test_updates_stay_on_the_requested_device(task: str) -> None:
    """The batched trainer is device-agnostic, for every head of §4.1.2: the parameters, batches, per-run
    constants, the alive/divergence flags and the accumulators of the update loop all live on the
    requested device. Checked on torch's shape-only "meta" device, which refuses to mix with CPU
    tensors as CUDA would; the run is stopped before its first evaluation (which needs values)."""

    class Stop(Exception):
        pass

    def stop(step: int) -> None:
        if step == 3:  # eval_every = 4
            raise Stop

    lengths = {} if task == "torder" else {"min_length": HEAD_BASE[task].min_length,
                                           "max_length": HEAD_BASE[task].max_length}
    configs = [dataclasses.replace(c, task=task, **lengths) for c in MIX]
    with pytest.raises(Stop):
        _run(configs, device="meta", callback=stop)


def test_workspace_reuse_is_safe() -> None:
    """One batched step with a workspace kept between calls (as run_batched does) gives what a
    fresh workspace gives, when the next call is longer (its T grows), in another dtype, or on
    another device (meta): the scratch buffers are re-made, never reused when they do not fit."""
    cfgs, P, U, Y = _step_inputs()
    alive = torch.ones(3, dtype=torch.bool)

    def step(U: torch.Tensor, dtype: torch.dtype, ws: dict | None, device: str = "cpu") -> dict:
        co = coefficients(cfgs, torch.device(device), dtype)
        Q = {k: v.to(dtype=dtype, device=device, copy=True) for k, v in P.items()}
        out = train_step(Q, co, U.to(dtype=dtype, device=device), Y.to(device), alive.to(device),
                         workspace=ws)
        return {**out, **Q}

    ws: dict = {}
    step(U[:5], torch.float64, ws)
    for U_next, dtype in ((U, torch.float64), (U, torch.float32), (U[:7], torch.float64)):
        got, want = step(U_next, dtype, ws), step(U_next, dtype, None)
        for k in want:
            assert got[k].dtype == want[k].dtype
            torch.testing.assert_close(got[k], want[k], rtol=0, atol=0, equal_nan=True)
    assert step(U, torch.float64, ws, "meta")["W_rec"].device.type == "meta"


def test_omega_of_a_single_pair() -> None:
    """Eq. (10) with the released code's mean, at its smallest: T = 1 and one sequence give one
    (k, sequence) pair, and Omega and the gradient norm equal loss_and_grads' for that run."""
    cfg = dataclasses.replace(BASE, init="basic_tanh", method="MSGD-CR", seed=3)
    m = make_model(cfg)
    P = {n: getattr(m, n).detach().clone().unsqueeze(0) for n in ("W_in", "W_rec", "b", "W_out", "b_out")}
    b = make_batch("torder", 1, 10, generator(1, "x"), torch.float64)
    u = b.u[-1:]  # (1, 1, n_in): one step of one sequence
    out = train_step(P, coefficients([cfg], torch.device("cpu"), torch.float64), u.unsqueeze(1),
                     b.target.unsqueeze(0), torch.ones(1, dtype=torch.bool))
    ref = loss_and_grads(m, u, b.target, alpha=4.0)
    assert float(ref.omega) > 0
    assert float(out["omega"][0]) == pytest.approx(float(ref.omega), rel=1e-10)
    norm = math.sqrt(sum(float(g.square().sum()) for g in ref.grads.values()))
    assert float(out["norm"][0]) == pytest.approx(norm, rel=1e-10)


def test_fallback_at_exactly_its_threshold() -> None:
    """Released code's guard in the batched step: a norm equal to fallback_threshold is clipped
    as usual (no fallback), as in the single-run trainer; one ulp below it falls back."""
    cfgs, P, U, Y = _step_inputs(clip=0.5)
    alive = torch.ones(3, dtype=torch.bool)
    co = coefficients(cfgs, torch.device("cpu"), torch.float64)
    norm = train_step({k: v.clone() for k, v in P.items()}, co, U, Y, alive)["norm"]
    co["fb_thr"] = norm.clone()
    co["fb_thr"][1] = torch.nextafter(norm[1], torch.tensor(0.0, dtype=torch.float64))
    out = train_step({k: v.clone() for k, v in P.items()}, co, U, Y, alive)
    assert out["fell_back"].tolist() == [False, True, False]


# The other heads of §4.1.2 at the same tiny sizes (8 updates): add/mul (linear output at the
# last step, lengths 20-22 so that the batch's steps l' = l + randint(floor(.1 l)) vary too) and
# mem (softmax at every step, T = l + 20 for l = 1..3). Every init family, method and outcome
# path occurs.
HEAD_BASE = {"add": dataclasses.replace(BASE, task="add", min_length=20, max_length=23, max_updates=8),
             "mul": dataclasses.replace(BASE, task="mul", min_length=20, max_length=23, max_updates=8,
                                        success_error=0.4),
             "mem": dataclasses.replace(BASE, task="mem", min_length=1, max_length=4, max_updates=8)}


def _head_mix(task: str) -> tuple[TrainConfig, ...]:
    b = HEAD_BASE[task]
    return (dataclasses.replace(b, init="sigmoid", method="MSGD", seed=1),
            dataclasses.replace(b, init="sigmoid", method="MSGD-C", seed=7, lr=0.3, clip=0.3),
            dataclasses.replace(b, init="sigmoid", method="MSGD-CR", seed=6, lr=1.0),
            dataclasses.replace(b, init="basic_tanh", method="MSGD", seed=8),
            dataclasses.replace(b, init="basic_tanh", method="MSGD-CR", seed=2, max_updates=10),
            dataclasses.replace(b, init="smart_tanh", method="MSGD-C", seed=3, lr=0.3),
            dataclasses.replace(b, init="basic_tanh", method="MSGD-C", seed=4, clip=0.1,
                                fallback_threshold=0.3),
            dataclasses.replace(b, init="smart_tanh", method="MSGD", seed=5, lr=math.inf))


def _assert_same_1e10(batched: list, singles: tuple) -> None:
    _assert_same(batched, singles, rel=1e-10, abs_=1e-13)
    for s, b in zip(singles, batched, strict=True):
        for name, p in s.params.items():
            torch.testing.assert_close(b.params[name], p, rtol=1e-10, atol=1e-13)


@pytest.mark.claim("pascanu2013/batched-equals-single", modules=["common.batched", "common.heads"])
@pytest.mark.parametrize("task", sorted(HEAD_BASE))
def test_batched_equals_single_other_heads(task: str) -> None:
    """Batched multi-run training of the §4.1.2 tasks with the other two heads (add, mul: linear
    output at the last step, squared error; mem: softmax at every step, the immediate error of
    every step in BPTT and Omega over the back-propagated part): eight runs mixing sigmoid and
    tanh inits with MSGD, MSGD-C and MSGD-CR (alpha = 4), a released-code fallback and a diverging
    MSGD run, trained on lengths that vary per batch, end, in float64, as eight single runs of
    train.run (loss, Omega and gradient norm of every history row, weights, outcomes, update and
    clip counts to 1e-10)."""
    configs = _head_mix(task)
    g = generator(HEAD_BASE[task].length_seed, "length")
    lengths = set()
    for _ in range(HEAD_BASE[task].max_updates):
        length = sample_length(HEAD_BASE[task].min_length, HEAD_BASE[task].max_length, g)
        lengths.add(arith_steps(task, length, g) or length)
    assert len(lengths) > 2  # the batches really change length
    singles = _single_runs(configs)
    batched = _run(list(configs))
    outcomes = {r.outcome for r in batched}
    assert {"fail", "diverged"} <= outcomes and (task == "mem" or "success" in outcomes)
    assert batched[6].n_fallback > 0 and all(r.n_clipped > 0 for r in batched[1:3])
    assert batched[2].history[0]["omega"] > 0
    _assert_same_1e10(batched, singles)


@pytest.mark.parametrize("task", ["add", "mem"])
def test_train_step_gradients_match_autograd_other_heads(task: str) -> None:
    """One batched step of the §4.1.2 heads (MSGD-CR, alpha = 4, no clipping, lr = 1, so the step
    is the gradient): for sigmoid and tanh runs the loss, Omega (eq. 10, mean over valid pairs),
    norm and all five gradients (dE/dW_rec + alpha dOmega/dW_rec for W_rec; the per-step head's
    W_out and b_out summed over steps) equal regularized_training.loss_and_grads (1e-10)."""
    cfgs = [dataclasses.replace(HEAD_BASE[task], init=i, method="MSGD-CR", seed=s, clip=math.inf,
                                lr=1.0) for s, i in enumerate(("sigmoid", "basic_tanh", "smart_tanh"))]
    models = [make_model(c) for c in cfgs]
    P = {n: torch.stack([getattr(m, n).detach().clone() for m in models]) for n in NAMES}
    length = HEAD_BASE[task].min_length + 1
    steps = arith_steps(task, length, generator(0, "s"))
    batches = [make_batch(task, 6, length, generator(k, "x"), torch.float64, steps) for k in range(3)]
    U, Y = stack_batches(task, batches)
    Q = {k: v.clone() for k, v in P.items()}
    out = train_step(Q, coefficients(cfgs, torch.device("cpu"), torch.float64), U, Y,
                     torch.ones(3, dtype=torch.bool))
    assert not out["clipped"].any() and not out["fell_back"].any()
    for k, (m, b) in enumerate(zip(models, batches, strict=True)):
        ref = loss_and_grads(m, b.u, b.target, alpha=4.0)
        norm = math.sqrt(sum(float(g.square().sum()) for g in ref.grads.values()))
        assert float(out["loss"][k]) == pytest.approx(float(ref.loss), rel=1e-12)
        assert float(out["omega"][k]) == pytest.approx(float(ref.omega), rel=1e-10)
        assert float(out["norm"][k]) == pytest.approx(norm, rel=1e-10)
        for name in NAMES:
            torch.testing.assert_close(P[name][k] - Q[name][k], ref.grads[name], rtol=1e-10, atol=1e-14)


def test_bad_targets_are_refused() -> None:
    """§4.1.2 heads in the batched step: targets that fit no head (mem's per-step targets stacked
    run-first, float class labels) are a clear error, and no weight changes."""
    cfgs = _head_mix("mem")[:2]
    P = {n: torch.stack([getattr(make_model(c), n).detach() for c in cfgs]) for n in NAMES}
    U, Y = stack_batches("mem", [make_batch("mem", 4, 2, generator(k, "x"), torch.float64) for k in range(2)])
    co = coefficients(list(cfgs), torch.device("cpu"), torch.float64)
    before = {k: v.clone() for k, v in P.items()}
    for bad in (Y.transpose(0, 1), Y[-1].double()):
        with pytest.raises(ValueError, match="fit no head"):
            train_step(P, co, U, bad, torch.ones(2, dtype=torch.bool))
    assert all(torch.equal(P[k], before[k]) for k in P)
