r"""# Training an LSTM on the pathological tasks of Pascanu et al. (2013)

`LSTMNet` puts the output heads of `notes_code.pascanu2013.rnn.PascanuRNN` on top of the
`LSTM` cell outputs $\mathbf{h}_t$. `train_lstm_on_task` is a deliberately small trainer, so
that the note can put an LSTM next to the vanilla RNN of `notes_code.common.train` at a
matched budget of updates. Each update draws one length
uniformly in `length_range` (`notes_code.common.tasks.sample_length`: `[min, max - 1]`,
or `min` when the two are equal), a batch of `batch_size` sequences, and takes one step of

* `"sgd"`: plain minibatch SGD, $\theta \leftarrow \theta - \eta\,\hat{\mathbf g}$ (no momentum),
  as MSGD in Pascanu et al.; or
* `"adam"`: Adam with learning rate $\eta$ (not in either paper; offered because plain SGD
  needs many updates).

With `clip` set, $\hat{\mathbf g}$ is first rescaled by Algorithm 1 of Pascanu et al. (one
global norm). The error is measured every `eval_every` updates (and at the end) on a **fixed**
set of `eval_size` sequences drawn once at the start, in chunks of `eval_chunk` sequences that
each draw their own length from `length_range`. Weights, training data, training lengths and
the eval set come from four generators derived from `seed`, so a run is deterministic on CPU.

The 1997 paper trained with its truncated gradient and online updates; this trainer uses
full BPTT through `LSTMNet` (see `notes_code.hochreiter1997.lstm`).
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass, field
from typing import Literal

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ..common.tasks import TASKS, Batch, errors, loss, make_batch, sample_length
from ..pascanu2013.clipping import clip_grad_norm_
from .lstm import LSTM, _generator, lstm_state_list

Head = Literal["last_softmax", "softmax", "last_linear"]
HEADS: tuple[str, ...] = ("last_softmax", "softmax", "last_linear")
Optimizer = Literal["sgd", "adam"]


def _stream(seed: int, name: str) -> torch.Generator:
    """A CPU generator for one named random stream of a run (independent of Python's hash)."""
    digest = hashlib.sha256(f"hochreiter1997:{seed}:{name}".encode()).hexdigest()
    return torch.Generator().manual_seed(int(digest[:15], 16))


class LSTMNet(nn.Module):
    r"""`LSTM` plus the output heads of `notes_code.pascanu2013.rnn.PascanuRNN`.

    The head reads the cell outputs: `last_softmax` gives class logits
    $\mathbf{W}_{out}\mathbf{h}_T + \mathbf{b}_{out}$ `(B, n_out)`, `softmax` the same at every
    step `(T, B, n_out)`, `last_linear` a regression from $\mathbf{h}_T$. The outputs plug into
    `notes_code.common.tasks.loss` and `errors`.

    Args:
        n_in: input size.
        n_hidden: number of memory cells $n$.
        n_out: output size.
        forget_gate: `True` for Gers et al. (2000), `False` for the 1997 cell.
        head: `"last_softmax"`, `"softmax"` or `"last_linear"`.
        std: standard deviation of all Gaussian weights ($\mathbf{W}_{out}$ included).
        forget_bias: initial forget-gate bias.
        generator: a `torch.Generator` or an integer seed (seed 0 when `None`).
        dtype: parameter dtype.
        device: parameter device.
    """

    def __init__(
        self, n_in: int, n_hidden: int, n_out: int, forget_gate: bool = True, head: Head = "last_softmax",
        std: float = 0.1, forget_bias: float = 0.0, generator: torch.Generator | int | None = None,
        dtype: torch.dtype | None = None, device: torch.device | str | None = None,
    ) -> None:
        super().__init__()
        if head not in HEADS:
            raise ValueError(f"head must be one of {HEADS}, got {head!r}")
        g = _generator(generator)
        self.head: Head = head
        self.lstm = LSTM(n_in, n_hidden, forget_gate, std, forget_bias, g, dtype, device)
        W_out = torch.randn(n_out, n_hidden, generator=g, dtype=torch.float64) * std
        self.W_out = nn.Parameter(W_out.to(dtype=self.lstm.W_ih.dtype, device=device))
        self.b_out = nn.Parameter(torch.zeros(n_out, dtype=self.lstm.W_ih.dtype, device=device))

    def forward(self, u: Tensor) -> Tensor:
        r"""Run the LSTM from zero states and apply the head.

        Args:
            u: inputs, `(T, B, n_in)`.

        Returns:
            Head output: `(B, n_out)` for the `last_*` heads, `(T, B, n_out)` for `softmax`.
        """
        hs, _ = lstm_state_list(self.lstm.W_ih, self.lstm.W_hh, self.lstm.b, u, self.lstm.forget_gate)
        h = torch.stack(hs) if self.head == "softmax" else hs[-1]
        return F.linear(h, self.W_out, self.b_out)


@dataclass
class LSTMRun:
    r"""Outcome of `train_lstm_on_task`.

    Attributes:
        history: `(update, error)` pairs, one per evaluation (update 0 is the initial model).
        updates: updates applied (fewer than the budget when `stop_error` was reached).
        final_error: error of the last evaluation.
        seconds: wall time of the run.
        model: the trained network.
        losses: training loss of every update.
    """

    history: list[tuple[int, float]]
    updates: int
    final_error: float
    seconds: float
    model: LSTMNet
    losses: list[float] = field(default_factory=list)


def eval_error(model: LSTMNet, task: str, batches: list[Batch]) -> float:
    r"""Fraction of wrong sequences (the task's `errors`) over a list of batches.

    Args:
        model: the network.
        task: a key of `TASKS`.
        batches: the evaluation batches.

    Returns:
        Wrong sequences / all sequences.
    """
    wrong, total = 0, 0
    with torch.no_grad():
        for batch in batches:
            wrong += int(errors(task, model(batch.u), batch.target).sum())
            total += batch.u.shape[1]
    return wrong / total


def train_lstm_on_task(
    task: str = "torder",
    length_range: tuple[int, int] = (50, 50),
    n_hidden: int = 50,
    forget_gate: bool = True,
    updates: int = 1000,
    lr: float = 0.01,
    optimizer: Optimizer = "sgd",
    batch_size: int = 20,
    clip: float | None = 1.0,
    std: float = 0.1,
    forget_bias: float = 0.0,
    seed: int = 0,
    eval_every: int = 100,
    eval_size: int = 1000,
    eval_chunk: int = 250,
    stop_error: float | None = 0.01,
    dtype: torch.dtype = torch.float32,
) -> LSTMRun:
    r"""Train an `LSTMNet` on one of the synthetic tasks of Pascanu et al. (2013, §4.1).

    Args:
        task: a key of `notes_code.common.tasks.TASKS`, e.g. `"torder"`.
        length_range: `(min_length, max_length)` as in `sample_length`.
        n_hidden: memory cells $n$.
        forget_gate: `True` for Gers et al. (2000), `False` for the 1997 cell.
        updates: budget of updates.
        lr: learning rate $\eta$.
        optimizer: `"sgd"` (plain, no momentum) or `"adam"`.
        batch_size: sequences per update.
        clip: global-norm clipping threshold, or `None` for no clipping.
        std: standard deviation of the Gaussian initial weights.
        forget_bias: initial forget-gate bias.
        seed: seeds weights, data, lengths and the eval set.
        eval_every: updates between evaluations.
        eval_size: sequences in the fixed eval set.
        eval_chunk: sequences per eval batch (each chunk has its own length).
        stop_error: stop once the error is below this (`None`: spend the budget).
        dtype: parameter and input dtype.

    Returns:
        An `LSTMRun`.
    """
    if task not in TASKS:
        raise ValueError(f"unknown task {task!r}; expected one of {sorted(TASKS)}")
    if optimizer not in ("sgd", "adam"):
        raise ValueError(f"optimizer must be 'sgd' or 'adam', got {optimizer!r}")
    if min(updates, batch_size, eval_every, eval_size, eval_chunk) < 1:
        raise ValueError("updates, batch_size, eval_every, eval_size and eval_chunk must be >= 1")
    lo, hi = length_range
    start = time.perf_counter()
    spec = TASKS[task]
    model = LSTMNet(spec.n_in, n_hidden, spec.n_out, forget_gate, spec.head, std, forget_bias,
                    _stream(seed, "init"), dtype)
    g_data, g_len, g_eval = (_stream(seed, s) for s in ("data", "lengths", "eval"))
    sizes = [eval_chunk] * (eval_size // eval_chunk) + [eval_size % eval_chunk]
    eval_set = [make_batch(task, s, sample_length(lo, hi, g_eval), g_eval, dtype) for s in sizes if s]
    params = list(model.parameters())
    opt = torch.optim.Adam(params, lr=lr) if optimizer == "adam" else torch.optim.SGD(params, lr=lr)
    history = [(0, eval_error(model, task, eval_set))]
    losses: list[float] = []
    step = 0
    while step < updates and not (stop_error is not None and history[-1][1] < stop_error):
        batch = make_batch(task, batch_size, sample_length(lo, hi, g_len), g_data, dtype)
        opt.zero_grad(set_to_none=True)
        cost = loss(task, model(batch.u), batch.target)
        cost.backward()
        if clip is not None:
            clip_grad_norm_(params, clip)
        opt.step()
        losses.append(cost.item())
        step += 1
        if step % eval_every == 0 or step == updates:
            history.append((step, eval_error(model, task, eval_set)))
    return LSTMRun(history, step, history[-1][1], time.perf_counter() - start, model, losses)


__all__ = ["HEADS", "Head", "LSTMNet", "LSTMRun", "Optimizer", "eval_error", "train_lstm_on_task"]
