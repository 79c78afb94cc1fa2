"""Tests for notes_code.hochreiter1997.train: the LSTM head and the small task trainer."""

from __future__ import annotations

import pytest
import torch

from notes_code.common.tasks import TASKS, errors, loss, make_batch
from notes_code.hochreiter1997.lstm import lstm_states
from notes_code.hochreiter1997.train import LSTMNet, train_lstm_on_task


@pytest.mark.parametrize("forget_gate", [True, False])
def test_lstm_learns_short_temporal_order(forget_gate: bool) -> None:
    """Sanity check of the trainer on Pascanu et al.'s temporal-order task (§4.1), lengths 10-12:
    starting from chance (> 50% wrong of 4 classes), plain clipped SGD brings both LSTM forms
    below 20% error on 500 held-out sequences within 600 updates."""
    run = train_lstm_on_task("torder", (10, 13), n_hidden=20, forget_gate=forget_gate, updates=600,
                             lr=1.0, optimizer="sgd", clip=1.0, seed=0, eval_every=50, eval_size=500)
    assert run.history[0][0] == 0 and run.history[0][1] > 0.5
    assert run.final_error < 0.2, run.history
    assert run.updates <= 600 and len(run.losses) == run.updates


def test_training_is_deterministic() -> None:
    """The same seed gives the same history, losses and weights (all randomness is seeded)."""
    kw = dict(length_range=(10, 13), n_hidden=8, updates=30, lr=0.01, optimizer="adam", eval_every=10,
              eval_size=60, eval_chunk=25, stop_error=None)
    a, b = train_lstm_on_task(seed=3, **kw), train_lstm_on_task(seed=3, **kw)
    assert a.history == b.history and a.losses == b.losses and a.updates == 30
    for p, q in zip(a.model.parameters(), b.model.parameters(), strict=True):
        assert torch.equal(p, q)
    c = train_lstm_on_task(seed=4, **kw)
    assert c.losses != a.losses


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


def test_validation() -> None:
    """Unknown task, optimizer or head, and empty budgets are rejected."""
    with pytest.raises(ValueError):
        train_lstm_on_task("nope")
    with pytest.raises(ValueError):
        train_lstm_on_task(optimizer="rmsprop")  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        train_lstm_on_task(updates=0)
    with pytest.raises(ValueError):
        LSTMNet(6, 4, 4, head="bogus")  # type: ignore[arg-type]
