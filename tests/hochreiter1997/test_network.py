"""Tests for notes_code.hochreiter1997.network: the LSTM with the RNN note's output heads."""

from __future__ import annotations

import dataclasses

import pytest
import torch

from notes_code.common.tasks import TASKS, errors, loss, make_batch
from notes_code.common.train import TrainConfig, evaluate, generator, make_model, run
from notes_code.hochreiter1997.lstm import lstm_states
from notes_code.hochreiter1997.network import LSTMNet


@pytest.mark.parametrize("init", ["lstm", "lstm1997"])
def test_lstm_learns_short_temporal_order(init: str) -> None:
    """Sanity check of the LSTM in the shared trainer on Pascanu et al.'s temporal-order task
    (§4.1), lengths 10-12: from chance (> 50% wrong of 4 classes), clipped SGD brings both LSTM
    forms below 20% error on 500 fresh sequences within 600 updates."""
    cfg = TrainConfig(init=init, method="MSGD-C", n_hidden=20, min_length=10, max_length=13, lr=1.0,
                      max_updates=600, eval_every=50, eval_size=500, screen_size=0, eval_chunk=250,
                      success_error=0.2)
    r = run(cfg)
    assert evaluate(make_model(cfg), cfg, 0, generator(cfg.seed, "eval"))[0] > 0.5  # chance at the start
    assert r.success and r.final_error < 0.2, r.history
    assert r.updates <= 600


@pytest.mark.parametrize("task", ["torder", "add", "mem"])
def test_lstmnet_heads_fit_task_loss(task: str) -> None:
    """LSTMNet's head reads h_T (or every h_t for `softmax`) through W_out, b_out, and its output
    has the shape that tasks.loss and tasks.errors expect for each head."""
    spec = TASKS[task]
    net = LSTMNet(spec.n_in, 6, spec.n_out, head=spec.head, generator=1, dtype=torch.float64)
    batch = make_batch(task, 5, 12, torch.Generator().manual_seed(0), torch.float64)
    y = net(batch.u)
    h, _ = lstm_states(net.lstm.W_ih, net.lstm.W_hh, net.lstm.b, batch.u, True)
    ref = h if spec.head == "softmax" else h[-1]
    torch.testing.assert_close(y, ref @ net.W_out.T + net.b_out)
    assert torch.isfinite(loss(task, y, batch.target)) and errors(task, y, batch.target).shape == (5,)


def test_make_model_builds_the_named_lstm() -> None:
    """The shared trainer's "lstm1997" is the 1997 cell (no forget gate) and "lstm" the forget-gate
    cell, with the task's head and sizes, drawn from the run's own init stream."""
    base = TrainConfig(task="add", init="lstm1997", n_hidden=7, dtype="float64")
    a, b = make_model(base), make_model(dataclasses.replace(base, init="lstm"))
    assert not a.lstm.forget_gate and b.lstm.forget_gate and a.head == "last_linear"
    assert a.W_out.shape == (TASKS["add"].n_out, 7) and a.lstm.W_ih.dtype == torch.float64
    assert torch.equal(make_model(base).lstm.W_hh, a.lstm.W_hh)
    assert not torch.equal(make_model(dataclasses.replace(base, seed=1)).lstm.W_hh, a.lstm.W_hh)


def test_validation() -> None:
    """An unknown head is rejected."""
    with pytest.raises(ValueError):
        LSTMNet(6, 4, 4, head="bogus")  # type: ignore[arg-type]
