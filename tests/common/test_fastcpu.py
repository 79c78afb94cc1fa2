"""Tests for notes_code.common.fastcpu: the batched Fig. 7 update in fewer, larger operations.

The reference is `common.batched.train_step` (itself checked against autograd and against
single runs of `train.run`): the same update, with float64 results equal to 1e-10 and float32
results within the tolerance stated in `TOL`.
"""

from __future__ import annotations

import dataclasses
import math

import pytest
import torch

from notes_code.common import batched, fastcpu
from notes_code.common.tasks import TASKS, arith_steps
from notes_code.common.train import TrainConfig, generator, make_model

BASE = TrainConfig(n_hidden=6, min_length=10, max_length=12, batch_size=4, lr=0.1, max_updates=12,
                   eval_every=4, eval_size=24, screen_size=8, eval_chunk=8, dtype="float64",
                   length_seed=7, success_error=0.7)
INITS = ("sigmoid", "basic_tanh", "smart_tanh")
METHODS = ("MSGD", "MSGD-C", "MSGD-CR")
# float32: the two engines round differently (the tanh map is folded into the weights), so
# after one update the weights agree to a small fraction of the update itself
TOL = {"float64": {"rtol": 1e-10, "atol": 1e-12}, "float32": {"rtol": 1e-4, "atol": 1e-6}}


def _inputs(task: str = "torder", dtype: str = "float64", T: int = 12, B: int = 5, **kw):
    """Nine runs: every init with every method (alpha = 4 for MSGD-CR), one batch each."""
    cfgs = [dataclasses.replace(BASE, task=task, init=i, method=m, seed=3 * a + b, dtype=dtype, **kw)
            for a, i in enumerate(INITS) for b, m in enumerate(METHODS)]
    models = [make_model(c) for c in cfgs]
    P = {n: torch.stack([getattr(m, n).detach().clone() for m in models]) for n in batched.NAMES}
    gens = [generator(k, "x") for k in range(len(cfgs))]  # add/mul: one l' for all runs
    U, Y = batched._data(task, B, T, gens, getattr(torch, dtype), torch.device("cpu"),
                         arith_steps(task, T, generator(0, "steps")))
    return cfgs, P, U, Y


def _both(cfgs, P, U, Y, alive=None, threads: int = 2, **co_edit):
    """Run the reference and the fast update on copies; return (before, ref, fast) states."""
    dtype = P["W_rec"].dtype
    co = batched.coefficients(cfgs, torch.device("cpu"), dtype)
    co.update(co_edit)
    alive = torch.ones(len(cfgs), dtype=torch.bool) if alive is None else alive
    Pr, Pf = ({k: v.clone() for k, v in P.items()} for _ in range(2))
    ref = batched.train_step(Pr, co, U, Y, alive)
    fast = fastcpu.train_step(Pf, co, U, Y, alive, threads=threads)
    return (P, Pr, ref), (Pf, fast)


def _assert_equal(P, Pr, ref, Pf, fast, tol) -> None:
    for key in ("fell_back", "clipped", "ok"):
        assert torch.equal(fast[key], ref[key]), key
    for key in ("loss", "omega", "norm"):
        assert fast[key].dtype == ref[key].dtype, key
        torch.testing.assert_close(fast[key], ref[key], **tol, equal_nan=True)
    for name in batched.NAMES:
        moved = (Pr[name] - P[name]).abs().max()
        torch.testing.assert_close(Pf[name], Pr[name], rtol=0, atol=tol["atol"] + tol["rtol"] * float(moved),
                                   msg=lambda m, name=name: f"{name}: {m}")


@pytest.mark.claim("pascanu2013/fastcpu-equals-batched", modules=["common.fastcpu", "common.heads"])
@pytest.mark.parametrize("task", sorted(TASKS))
@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("threads", [1, 2, 4])
def test_step_matches_reference(task: str, dtype: str, threads: int) -> None:
    """Fig. 7 protocol, §4.1.1 with §3.2-3.3 and the tasks of §4.1.2: one update of nine runs
    (sigmoid, basic tanh and smart tanh, each with MSGD, MSGD-C and MSGD-CR) equals the reference
    batched update: loss, Omega, gradient norm, clipping and fallback flags, and every new weight
    (float64 to 1e-10; float32 to 1e-4 of the update), for every task, so every head (last-step
    softmax, last-step linear, softmax at every step), and any thread split."""
    cfgs, P, U, Y = _inputs(task, dtype)
    (P0, Pr, ref), (Pf, fast) = _both(cfgs, P, U, Y, threads=threads)
    assert ref["clipped"].any() or ref["norm"].max() < 1  # the update did something to check
    assert not torch.equal(Pr["W_rec"], P0["W_rec"])
    _assert_equal(P0, Pr, ref, Pf, fast, TOL[dtype])


@pytest.mark.parametrize("task", ["torder", "add", "mem"])
@pytest.mark.parametrize("T", [1, 2, 3])
def test_shortest_sequences(T: int, task: str) -> None:
    """Eq. (2) with T = 1, 2, 3 (the first steps of a batch): the first and last steps of BPTT
    and Omega's first pair (k = 0, delta_1 dx_1/dx_0 at x_0 = 0) coincide or touch, and for the
    per-step head the immediate error enters at every one of them; still equal to the reference."""
    cfgs, P, U, Y = _inputs(task, T=10)
    Y = Y[:T].contiguous() if TASKS[task].head == "softmax" else Y
    (P0, Pr, ref), (Pf, fast) = _both(cfgs, P, U[:T].contiguous(), Y)
    _assert_equal(P0, Pr, ref, Pf, fast, TOL["float64"])


def test_omega_changes_only_msgd_cr() -> None:
    """§3.3: Omega's gradient enters W_rec of MSGD-CR runs only: with alpha = 0 everywhere the
    MSGD-CR runs update like MSGD-C; with alpha = 4 they differ (and match the reference)."""
    cfgs, P, U, Y = _inputs()
    co = batched.coefficients(cfgs, torch.device("cpu"), torch.float64)
    off = {k: v.clone() for k, v in P.items()}
    alive = torch.ones(9, dtype=torch.bool)
    fastcpu.train_step(off, {**co, "alpha": torch.zeros_like(co["alpha"])}, U, Y, alive)
    on = {k: v.clone() for k, v in P.items()}
    out = fastcpu.train_step(on, co, U, Y, torch.ones(9, dtype=torch.bool))
    cr = [k for k, c in enumerate(cfgs) if c.method == "MSGD-CR"]
    other = [k for k in range(9) if k not in cr]
    assert bool((out["omega"][cr] > 0).all())
    assert torch.equal(on["W_rec"][other], off["W_rec"][other])
    assert (on["W_rec"][cr] - off["W_rec"][cr]).abs().amax((1, 2)).min() > 1e-8
    for name in ("W_in", "b", "W_out", "b_out"):  # Omega's gradient is taken w.r.t. W_rec only
        unclipped = [k for k in cr if not out["clipped"][k]]
        torch.testing.assert_close(on[name][unclipped], off[name][unclipped], rtol=1e-12, atol=1e-14)


def test_fallback_divergence_and_dead_runs() -> None:
    """Released code's guard (§3.2): a clipped run whose norm is above fallback_threshold takes
    the step 0.02 W_rec, nothing else moves; an MSGD run with lr = inf would write Inf, so it is
    not updated (ok = False); a run that is not alive is not changed. As the reference."""
    cfgs, P, U, Y = _inputs()
    co_fb = torch.full((9,), 1e10, dtype=torch.float64)
    co_fb[1] = 1e-3  # basic... sigmoid MSGD-C: falls back
    lr = torch.full((9,), 0.1, dtype=torch.float64)
    lr[0] = math.inf  # sigmoid MSGD: diverges
    alive = torch.ones(9, dtype=torch.bool)
    alive[5] = False  # basic tanh MSGD-CR: frozen
    (P0, Pr, ref), (Pf, fast) = _both(cfgs, P, U, Y, alive=alive, fb_thr=co_fb, lr=lr)
    assert fast["fell_back"].tolist() == [k == 1 for k in range(9)]
    assert fast["ok"].tolist() == [k != 0 for k in range(9)]
    for name in batched.NAMES:
        for k in (0, 5):
            assert torch.equal(Pf[name][k], P0[name][k]), (name, k)
        if name != "W_rec":
            assert torch.equal(Pf[name][1], P0[name][1])
    torch.testing.assert_close(Pf["W_rec"][1], P0["W_rec"][1] * (1 - 0.1 * 0.02), rtol=1e-14, atol=0)
    _assert_equal(P0, Pr, ref, Pf, fast, TOL["float64"])


def test_float32_overflowing_gradient_falls_back_without_nan() -> None:
    """Released code's guard in float32: output gradients near 1e30 have a float64 norm > 1e20
    (finite), so clipped runs fall back (MSGD-CR too: its norm is NaN through Omega); Omega is NaN
    at this scale and must not leak into runs with alpha = 0; no weight becomes NaN or Inf."""
    cfgs, P, U, Y = _inputs(dtype="float32")
    P["W_out"].mul_(1e30)
    (P0, Pr, ref), (Pf, fast) = _both(cfgs, P, U, Y)
    no_omega = torch.tensor([c.method != "MSGD-CR" for c in cfgs])
    assert bool(torch.isfinite(fast["norm"][no_omega]).all()) and float(fast["norm"][no_omega].min()) > 1e20
    clipped_methods = torch.tensor([c.method != "MSGD" for c in cfgs])
    assert torch.equal(fast["fell_back"], clipped_methods)
    for name in batched.NAMES:
        assert bool(torch.isfinite(Pf[name]).all()), name
    assert torch.equal(fast["ok"], ref["ok"])


def test_threads_and_bad_input() -> None:
    """Engine plumbing: more threads than runs is fine (K = 1, 4 threads), torch's own thread
    count is restored after an update, and threads < 1 is a clear error."""
    cfgs, P, U, Y = _inputs()
    one = {k: v[:1].clone() for k, v in P.items()}
    co = batched.coefficients(cfgs[:1], torch.device("cpu"), torch.float64)
    before = torch.get_num_threads()
    fastcpu.train_step(one, co, U[:, :1], Y[:1], torch.ones(1, dtype=torch.bool), threads=4)
    assert torch.get_num_threads() == before
    ref = {k: v[:1].clone() for k, v in P.items()}
    batched.train_step(ref, co, U[:, :1], Y[:1], torch.ones(1, dtype=torch.bool))
    for name in batched.NAMES:
        torch.testing.assert_close(one[name], ref[name], rtol=1e-10, atol=1e-12)
    with pytest.raises(ValueError, match="threads must be >= 1, got 0"):
        fastcpu.train_step(one, co, U[:, :1], Y[:1], torch.ones(1, dtype=torch.bool), threads=0)
    with pytest.raises(ValueError, match="threads must be >= 1, got -1"), fastcpu.fast_steps(-1):
        pass


@pytest.mark.parametrize("task", ["torder", "mem"])
def test_workspace_reuse_across_shapes(task: str) -> None:
    """Scratch buffers kept between updates (as run_batched does) must not carry state: a
    longer, then a shorter sequence, then fewer runs, each equal to a fresh update (the buffers
    of v_t of §4.1.2's per-step head too)."""
    ws: dict = {}
    for T, K in ((12, 9), (5, 9), (7, 4)):
        cfgs, P, U, Y = _inputs(task)
        head = TASKS[task].head
        Y = Y[:T, :K].contiguous() if head == "softmax" else Y[:K]
        cfgs, U = cfgs[:K], U[:T, :K].contiguous()
        P = {k: v[:K] for k, v in P.items()}
        co = batched.coefficients(cfgs, torch.device("cpu"), torch.float64)
        a, b = ({k: v.clone() for k, v in P.items()} for _ in range(2))
        alive = torch.ones(K, dtype=torch.bool)
        fastcpu.train_step(a, co, U, Y, alive, workspace=ws, threads=2)
        fastcpu.train_step(b, co, U, Y, alive)
        for name in batched.NAMES:
            assert torch.equal(a[name], b[name]), (T, K, name)


MIX_BASE = dataclasses.replace(BASE, n_hidden=4)  # the sizes of test_batched.py, where every outcome occurs
MIX = [
    dataclasses.replace(MIX_BASE, init="sigmoid", method="MSGD", seed=1),
    dataclasses.replace(MIX_BASE, init="basic_tanh", method="MSGD-CR", seed=2, max_updates=10),
    dataclasses.replace(MIX_BASE, init="smart_tanh", method="MSGD-C", seed=3, lr=0.3),
    dataclasses.replace(MIX_BASE, init="basic_tanh", method="MSGD-C", seed=4, clip=0.1,
                        fallback_threshold=0.3),
    dataclasses.replace(MIX_BASE, init="smart_tanh", method="MSGD", seed=5, lr=math.inf),
]


@pytest.mark.claim("pascanu2013/fastcpu-equals-batched", modules=["common.fastcpu", "common.heads"])
def test_run_fast_equals_run_batched(tmp_path) -> None:
    """Fig. 7 protocol end to end: five runs mixing the inits and methods, with an early
    success, a budget end, a diverging MSGD run, released-code fallbacks and unequal budgets,
    trained by run_fast (interrupted once and resumed from its checkpoint) end as run_batched
    ends them: same outcomes, update counts, errors and history, weights to 1e-9."""
    ref = batched.run_batched(MIX)
    ckpt = tmp_path / "fast.pt"

    def stop(step: int) -> None:
        if step == 6:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        fastcpu.run_fast(MIX, checkpoint=ckpt, checkpoint_every=3, callback=stop, threads=2)
    assert batched.train_step is not fastcpu.train_step  # the swap was undone
    fast = fastcpu.run_fast(MIX, checkpoint=ckpt, checkpoint_every=3, threads=2)
    assert {r.outcome for r in ref} == {"success", "fail", "diverged"} and ref[3].n_fallback > 0
    for r, f in zip(ref, fast, strict=True):
        assert (f.outcome, f.updates, f.final_error, f.n_fallback, f.n_clipped) == (
            r.outcome, r.updates, r.final_error, r.n_fallback, r.n_clipped)
        assert len(f.history) == len(r.history)
        for hf, hr in zip(f.history, r.history, strict=True):
            assert hf == pytest.approx(hr, rel=1e-9, abs=1e-12)
        for name, p in r.params.items():
            torch.testing.assert_close(f.params[name], p, rtol=1e-9, atol=1e-12)


def test_every_batched_task_is_covered() -> None:
    """The engine supports what the batched trainer supports: every task (so every head) can be
    batched, and test_step_matches_reference covers every one."""
    assert {t.head for t in TASKS.values()} == {"last_softmax", "last_linear", "softmax"}
    for task in TASKS:
        batched.check_batchable([dataclasses.replace(BASE, task=task)])


def _apply_inputs(dtype=torch.float32):
    """Two runs, MSGD-C and MSGD, with hand-made gradients of norm 5 (W_rec = [[3, 4], ...])."""
    P = {"W_in": torch.ones(2, 2, 1, dtype=dtype), "W_rec": torch.ones(2, 2, 2, dtype=dtype),
         "b": torch.ones(2, 2, dtype=dtype), "W_out": torch.ones(2, 1, 2, dtype=dtype),
         "b_out": torch.ones(2, 1, dtype=dtype)}
    g = {k: torch.zeros_like(v) for k, v in P.items()}
    g["W_rec"][:, 0, 0], g["W_rec"][:, 0, 1] = 3.0, 4.0
    co = {"lr": torch.tensor([0.1, 0.1], dtype=dtype), "clip": torch.tensor([5.0, 5.0], dtype=dtype),
          "clipped": torch.tensor([True, False]), "fb_thr": torch.tensor([5.0, 5.0], dtype=dtype),
          "shrink": torch.tensor([0.02, 0.02], dtype=dtype)}
    loss, omega = torch.zeros(2, dtype=dtype), torch.zeros(2, dtype=dtype)
    return P, g, co, loss, omega


def test_algorithm1_and_fallback_at_their_thresholds() -> None:
    """Algorithm 1 (§3.2) rescales when ||g|| >= threshold, and the released code falls back only
    when ||g|| > fallback_threshold: with ||g|| = 5 exactly and both thresholds 5, the MSGD-C run
    is clipped (rescaled to 5: unchanged) and does not fall back; MSGD is never clipped."""
    P, g, co, loss, omega = _apply_inputs()
    out = fastcpu._apply(P, co, g, loss, omega, torch.ones(2, dtype=torch.bool))
    assert out["norm"].tolist() == [5.0, 5.0]
    assert out["clipped"].tolist() == [True, False] and out["fell_back"].tolist() == [False, False]
    assert out["ok"].tolist() == [True, True]


def test_sgd_step_is_in_the_weights_dtype() -> None:
    """The SGD step theta - lr * (clip / ||g||) g is computed in the weights' float32 (as the
    reference and the single-run trainer): the scale is cast before it multiplies, so the new
    weights equal the float32 formula exactly, not a float64 one rounded at the end."""
    P, g, co, loss, omega = _apply_inputs()
    gen = torch.Generator().manual_seed(0)
    P["W_rec"] = torch.rand(2, 40, 40, generator=gen)  # many elements: a float64 step would round
    g["W_rec"] = torch.rand(2, 40, 40, generator=gen)  # differently in some of them
    co["clip"], co["fb_thr"] = torch.tensor([3.0, 3.0]), torch.tensor([1e10, 1e10])
    before = P["W_rec"].clone()
    out = fastcpu._apply(P, co, g, loss, omega, torch.ones(2, dtype=torch.bool))
    scale = (co["clip"][0] / out["norm"][0]).to(torch.float32)
    want = before[0] - (co["lr"][0] * scale) * g["W_rec"][0]
    step64 = co["lr"][0].double() * (co["clip"][0] / out["norm"][0])  # a step kept in float64
    in64 = before[0].double() - step64 * g["W_rec"][0].double()
    assert not torch.equal(in64.float(), want)  # the two roundings differ somewhere here
    assert torch.equal(P["W_rec"][0], want)
    assert torch.equal(P["W_rec"][1], before[1] - co["lr"][1] * g["W_rec"][1])


def test_unfinite_loss_or_weights_stop_an_update() -> None:
    """Divergence guard (§3.2, the trainer's): an MSGD run whose loss is not finite is not
    updated even when its gradient is; a fallback step that would write Inf into W_rec (shrink
    = inf) is not applied either, though every other weight stays finite."""
    P, g, co, loss, omega = _apply_inputs()
    loss[1] = math.inf
    co["fb_thr"] = torch.tensor([1.0, 1.0])  # the MSGD-C run falls back ...
    co["shrink"] = torch.tensor([math.inf, 0.02])  # ... to an infinite step
    before = {k: v.clone() for k, v in P.items()}
    out = fastcpu._apply(P, co, g, loss, omega, torch.ones(2, dtype=torch.bool))
    assert out["fell_back"].tolist() == [True, False] and out["ok"].tolist() == [False, False]
    for k in P:
        assert torch.equal(P[k], before[k]), k


def test_step_defaults_match_the_reference() -> None:
    """`step` called alone (no workspace, default Omega bound 1e-20) is the reference update."""
    cfgs, P, U, Y = _inputs()
    co = batched.coefficients(cfgs, torch.device("cpu"), torch.float64)
    alive = torch.ones(9, dtype=torch.bool)
    Pr, Pf = ({k: v.clone() for k, v in P.items()} for _ in range(2))
    ref, fast = batched.train_step(Pr, co, U, Y, alive), fastcpu.step(Pf, co, U, Y, alive)
    _assert_equal(P, Pr, ref, Pf, fast, TOL["float64"])


def test_omega_bound_is_inclusive() -> None:
    """Omega's pairs are those with ||delta_{k+1}||^2 >= bound: with W_out = 0 every delta is 0,
    so bound = 0 keeps every pair and Omega is 0/0 = NaN, as in the reference (runs with alpha = 0
    are unaffected; the MSGD-CR runs' NaN norm makes them fall back)."""
    cfgs, P, U, Y = _inputs()
    P["W_out"].zero_()
    co = batched.coefficients(cfgs, torch.device("cpu"), torch.float64)
    alive = torch.ones(9, dtype=torch.bool)
    Pr, Pf = ({k: v.clone() for k, v in P.items()} for _ in range(2))
    ref = batched.train_step(Pr, co, U, Y, alive, bound=0.0)
    fast = fastcpu.train_step(Pf, co, U, Y, alive, bound=0.0)
    assert bool(torch.isnan(fast["omega"]).all())
    _assert_equal(P, Pr, ref, Pf, fast, TOL["float64"])


def test_single_pair_omega() -> None:
    """Eq. (10) averaged over the valid pairs: with one sequence of length 1 there is exactly one
    pair, so Omega is that pair's (r - 1)^2 itself, as in the reference."""
    cfgs, P, U, Y = _inputs(B=1)
    (P0, Pr, ref), (Pf, fast) = _both(cfgs, P, U[:1].contiguous(), Y)
    assert bool((fast["omega"] > 0).all())
    _assert_equal(P0, Pr, ref, Pf, fast, TOL["float64"])


@pytest.mark.parametrize("threads", [1, 2, 3])
def test_groups_run_on_the_engines_threads(threads: int, monkeypatch) -> None:
    """Engine plumbing: the K runs are cut into `threads` contiguous non-empty groups, each
    updated once in a `fastcpu_*` worker thread with torch's intra-op threads at 1 (threads = 1,
    the default: inline, in the caller's thread); run_fast passes its `threads` through."""
    import threading

    calls: list[tuple[str, int, int]] = []
    real = fastcpu.step

    def spy(P, co, U, Y, alive, bound, ws):
        calls.append((threading.current_thread().name, U.shape[1], torch.get_num_threads()))
        return real(P, co, U, Y, alive, bound, ws)

    monkeypatch.setattr(fastcpu, "step", spy)
    cfgs, P, U, Y = _inputs()
    co = batched.coefficients(cfgs, torch.device("cpu"), torch.float64)
    kw = {} if threads == 1 else {"threads": threads}  # the default is one group, inline
    fastcpu.train_step(P, co, U, Y, torch.ones(9, dtype=torch.bool), **kw)
    sizes = [9 * (i + 1) // threads - 9 * i // threads for i in range(threads)]
    assert sorted(k for _, k, _ in calls) == sorted(sizes)
    if threads == 1:
        assert calls == [(threading.current_thread().name, 9, torch.get_num_threads())]
    else:
        assert all(name.startswith("fastcpu_") and n == 1 for name, _, n in calls)
    calls.clear()
    fastcpu.run_fast(MIX[:3], **kw)
    first, total = [], 0
    for call in calls:  # the first update: all three runs alive
        first.append(call)
        total += call[1]
        if total == 3:
            break
    assert len(first) == min(threads, 3)
    if threads > 1:
        assert all(name.startswith("fastcpu_") and n == 1 for name, _, n in calls)


def test_workspace_keeps_the_buffers() -> None:
    """The workspace is what makes later updates cheap: after an update it holds the scratch
    buffers (inline, and per group when split), and the next update reuses their storage."""
    for threads in (1, 2):
        cfgs, P, U, Y = _inputs()
        co = batched.coefficients(cfgs, torch.device("cpu"), torch.float64)
        ws: dict = {}
        alive = torch.ones(9, dtype=torch.bool)
        fastcpu.train_step(P, co, U, Y, alive, workspace=ws, threads=threads)
        spaces = [ws] if threads == 1 else [ws["parts"][i] for i in range(threads)]
        ptrs = [{k: v.data_ptr() for k, v in s.items()} for s in spaces]
        assert all({"X", "D", "Q", "W_f", "z", "tmp"} <= set(p) for p in ptrs)
        fastcpu.train_step(P, co, U, Y, alive, workspace=ws, threads=threads)
        assert [{k: v.data_ptr() for k, v in s.items()} for s in spaces] == ptrs


# The other heads end to end (sizes of test_batched.py's: lengths vary per batch, and add's l')
HEAD_MIX = {task: [dataclasses.replace(c, **kw) for c in MIX] for task, kw in
            {"add": {"task": "add", "min_length": 20, "max_length": 23},
             "mem": {"task": "mem", "min_length": 1, "max_length": 4}}.items()}


@pytest.mark.claim("pascanu2013/fastcpu-equals-batched", modules=["common.fastcpu", "common.heads"])
@pytest.mark.parametrize("task", sorted(HEAD_MIX))
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_run_fast_equals_run_batched_other_heads(task: str, dtype: str) -> None:
    """Fig. 7 protocol on the §4.1.2 tasks with the other heads (add: linear output at the last
    step; mem: softmax at every step), lengths drawn per batch: five runs mixing the inits and
    methods, with a diverging MSGD run and released-code fallbacks, trained by run_fast with its
    runs split over two threads, end as run_batched ends them (float64: histories and weights
    to 1e-10; float32: same outcomes, update, fallback and clip counts, weights to 1e-4)."""
    configs = [dataclasses.replace(c, dtype=dtype) for c in HEAD_MIX[task]]
    ref, fast = batched.run_batched(configs), fastcpu.run_fast(configs, threads=2)
    assert "diverged" in {r.outcome for r in ref} and ref[3].n_fallback > 0
    assert ref[1].history[0]["omega"] > 0
    tol = {"rtol": 1e-10, "atol": 1e-13} if dtype == "float64" else {"rtol": 1e-4, "atol": 1e-5}
    for r, f in zip(ref, fast, strict=True):
        assert (f.outcome, f.updates, f.n_fallback, f.n_clipped) == (
            r.outcome, r.updates, r.n_fallback, r.n_clipped)
        if dtype == "float64":
            assert f.final_error == r.final_error and len(f.history) == len(r.history)
            for hf, hr in zip(f.history, r.history, strict=True):
                assert hf == pytest.approx(hr, rel=1e-10, abs=1e-13)
        for name, p in r.params.items():
            torch.testing.assert_close(f.params[name], p, **tol)
