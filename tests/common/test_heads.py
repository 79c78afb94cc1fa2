"""Tests for notes_code.common.heads: the three output heads of the batched engines (§4.1.2).

The references are the single-run definitions: `tasks.loss` and `tasks.errors` per run, and
autograd of `tasks.loss` for the error signal.
"""

from __future__ import annotations

import dataclasses

import pytest
import torch

from notes_code.common import batched, heads
from notes_code.common.tasks import TASKS, arith_steps, errors, loss, make_batch
from notes_code.common.train import TrainConfig, generator, make_model

TASK_OF = {"last_softmax": "torder", "last_linear": "add", "softmax": "mem"}


def _outputs(head: str, K: int = 3, B: int = 5, T: int = 4, seed: int = 0):
    """Random head outputs `y` and valid targets `Y` of `head`, stacked over K runs."""
    g = torch.Generator().manual_seed(seed)
    n_out = TASKS[TASK_OF[head]].n_out
    lead = (T, K, B) if head == "softmax" else (K, B)
    y = torch.randn(*lead, n_out, generator=g, dtype=torch.float64)
    if head == "last_linear":
        return y, y + 0.3 * torch.randn(*lead, n_out, generator=g, dtype=torch.float64)
    return y, torch.randint(0, n_out, lead, generator=g)


def _per_run(head: str, t: torch.Tensor, k: int) -> torch.Tensor:
    return t[:, k] if head == "softmax" else t[k]


@pytest.mark.parametrize("head", heads.HEADS)
def test_loss_and_dy_match_the_single_run_loss(head: str) -> None:
    """Released code's costs (§4.1.2): per run, the loss equals `tasks.loss` (cross-entropy over
    the batch, over all T B rows of the per-step head, or `((t - y)**2).mean(0).sum()`), and
    dE/dy equals autograd of it (float64, 1e-12)."""
    y, Y = _outputs(head)
    got, dy = heads.loss_and_dy(head, y.clone(), Y)
    assert got.shape == (3,)
    for k in range(3):
        yk = _per_run(head, y, k).clone().requires_grad_(True)
        ref = loss(TASK_OF[head], yk, _per_run(head, Y, k))
        (grad,) = torch.autograd.grad(ref, yk)
        assert float(got[k]) == pytest.approx(float(ref.detach()), rel=1e-12)
        torch.testing.assert_close(_per_run(head, dy, k), grad, rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("head", heads.HEADS)
def test_error_flags_match_tasks_errors(head: str) -> None:
    """§4.1.2 success criteria per sequence, as `tasks.errors`: argmax wrong at the last step,
    squared error summed over outputs above 0.04, or (per step, OR-ed over the steps) any step
    wrong; the fixtures hold both right and wrong sequences."""
    y, Y = _outputs(head, B=40)
    if head == "softmax":  # mostly right, so that "any step wrong" is not always true
        Y = torch.where(torch.rand(Y.shape, generator=torch.Generator().manual_seed(1)) < 0.1, Y,
                        y.argmax(-1))
        flags = torch.zeros(3, 40, dtype=torch.bool)
        for t in range(Y.shape[0]):
            flags |= heads.wrong(head, y[t], Y[t])
    else:
        flags = heads.wrong(head, y, Y)
    for k in range(3):
        ref = errors(TASK_OF[head], _per_run(head, y, k), _per_run(head, Y, k))
        assert torch.equal(flags[k], ref)
    assert 0 < int(flags.sum()) < flags.numel()


def test_linear_error_threshold_is_0_04() -> None:
    """§4.1.2: an add/mul sequence is wrong when its squared error exceeds 0.04: at one ulp below
    an error of 0.2 it is right, at 0.2 (whose square rounds above 0.04) wrong, as `tasks.errors`."""
    y = torch.zeros(1, 2, 1, dtype=torch.float64)
    below = torch.nextafter(torch.tensor(0.2, dtype=torch.float64), torch.tensor(0.0, dtype=torch.float64))
    Y = torch.stack([below, torch.tensor(0.2, dtype=torch.float64)]).view(1, 2, 1)
    assert heads.wrong("last_linear", y, Y).tolist() == [[False, True]]
    assert heads.wrong("last_linear", y, -Y).tolist() == [[False, True]]
    assert torch.equal(heads.wrong("last_linear", y, Y)[0], errors("add", y[0], Y[0]))
    # exactly 0.04 (summed over two outputs, rounding to the threshold itself) is not above it
    at = torch.tensor([[[0.7 - 0.5, 4.2e-9]]], dtype=torch.float64)
    assert at.square().sum(-1).item() == 0.04
    assert heads.wrong("last_linear", torch.zeros_like(at), at).tolist() == [[False]]


@pytest.mark.parametrize("task", sorted(TASKS))
def test_head_of_reads_the_targets(task: str) -> None:
    """§4.1.2 tasks in the batched engines: every task's batches, stacked by `stack_batches` (each
    run's own batch, one l' for add and mul), have targets that name the task's head, and `runs`
    cuts them on the run axis; targets of another shape or dtype are a clear error, not a silent
    misreading."""
    head = TASKS[task].head
    steps = arith_steps(task, 20, generator(0, "s"))
    own = [make_batch(task, 4, 20, generator(k, "x"), torch.float64, steps) for k in range(3)]
    U, Y = heads.stack_batches(task, own)
    T = U.shape[0]
    for k in range(3):  # run k's slices are its own batch
        assert torch.equal(U[:, k], own[k].u) and torch.equal(_per_run(head, Y, k), own[k].target)
    gens = [generator(k, "x") for k in range(3)]  # the batched trainer's draw: the same
    for got, want in zip(batched._data(task, 4, 20, gens, torch.float64, torch.device("cpu"), steps),
                         (U, Y), strict=True):
        assert torch.equal(got, want)
    want = {"last_softmax": (3, 4), "last_linear": (3, 4, 1), "softmax": (T, 3, 4)}[head]
    assert tuple(Y.shape) == want and heads.head_of(U, Y) == head
    assert torch.equal(_per_run(head, heads.runs(Y, head, slice(1, 2)), 0), _per_run(head, Y, 1))
    for bad in (Y.transpose(0, 1), Y.double() if not Y.is_floating_point() else Y.long(), Y[..., :1, :]):
        if tuple(bad.shape) != want or bad.dtype != Y.dtype:
            with pytest.raises(ValueError, match="fit no head"):
                heads.head_of(U, bad)


def _model_targets(task: str, cfgs: list[TrainConfig], size: int = 30):
    """Inputs and targets for which each model gets some sequences right and some wrong."""
    models = [make_model(c) for c in cfgs]
    P = {n: torch.stack([getattr(m, n).detach().clone() for m in models]) for n in batched.NAMES}
    length = 2 if task == "mem" else 20
    steps = arith_steps(task, length, generator(0, "s"))
    bs = [make_batch(task, size, length, generator(k, "e"), torch.float64, steps) for k in range(len(cfgs))]
    g = torch.Generator().manual_seed(3)
    targets = []
    for m, b in zip(models, bs, strict=True):
        with torch.no_grad():
            y = m(b.u).y
        if TASKS[task].head == "last_linear":  # near the model's output: some within 0.2, some not
            targets.append(y + 0.8 * torch.rand(y.shape, generator=g, dtype=y.dtype) - 0.4)
        else:  # the model's own argmax, changed at a few (step, sequence) entries
            own = y.argmax(-1)
            flip = torch.rand(own.shape, generator=g) < (0.03 if task == "mem" else 0.3)
            targets.append(torch.where(flip, (own + 1) % y.shape[-1], own))
    U = torch.stack([b.u for b in bs], 1)
    return models, P, U, heads.stack_targets(task, targets)


@pytest.mark.parametrize("task", ["torder", "add", "mem"])
def test_count_errors_matches_tasks_errors(task: str) -> None:
    """Fig. 7 protocol's success test (§4.1.1-4.1.2): the batched engine's forward-only error
    count of each run equals `tasks.errors` summed over that run's sequences, for sigmoid and
    tanh runs of each head (per step: any wrong step, not just the last one)."""
    L = 2 if task == "mem" else 20  # the lengths of _model_targets
    base = TrainConfig(task=task, n_hidden=5, min_length=L, max_length=L, dtype="float64")
    cfgs = [dataclasses.replace(base, init=i, seed=s) for s, i in enumerate(("sigmoid", "basic_tanh",
                                                                            "smart_tanh"))]
    models, P, U, Y = _model_targets(task, cfgs)
    co = batched.coefficients(cfgs, torch.device("cpu"), torch.float64)
    got = batched.count_errors(P, co, U, Y)
    head = TASKS[task].head
    for k, m in enumerate(models):
        with torch.no_grad():
            want = errors(task, m(U[:, k]).y, _per_run(head, Y, k))
        assert int(got[k]) == int(want.sum())
        assert 0 < int(want.sum()) < U.shape[2]  # a mix of right and wrong sequences
    if head == "softmax":  # some wrong sequences are right at the last step
        last = (torch.stack([m(U[:, k]).y[-1].argmax(-1) for k, m in enumerate(models)]) != Y[-1])
        assert int(last.sum()) < int(got.sum())


@pytest.mark.parametrize("task", ["mem", "add"])
def test_counting_and_stacking_stay_on_the_requested_device(task: str) -> None:
    """Device-agnostic evaluation: stacked batches go to the requested device and the error count
    is computed there, for the per-step and the linear head (checked on torch's shape-only "meta"
    device, which refuses to mix with CPU tensors)."""
    cfgs = [TrainConfig(task=task, n_hidden=4, seed=s, dtype="float64") for s in (0, 1)]
    g = [generator(c.seed, "data") for c in cfgs]
    steps = arith_steps(task, 12, generator(0, "length"))
    U, Y = heads.stack_batches(task, [make_batch(task, 3, 12, x, torch.float64, steps) for x in g], "meta")
    assert U.device.type == Y.device.type == "meta"
    models = [make_model(c) for c in cfgs]
    P = {n: torch.stack([getattr(m, n).detach() for m in models]).to("meta") for n in batched.NAMES}
    co = batched.coefficients(cfgs, torch.device("meta"), torch.float64)
    assert heads.count_errors(P, co, U, Y).device.type == "meta"
