r"""# Training protocol of Fig. 7 (§4.1.1): MSGD, MSGD-C and MSGD-CR, for the RNN or an LSTM

One run trains a `PascanuRNN` with plain minibatch SGD, $\theta \leftarrow \theta - \eta\,\hat{\mathbf g}$
(learning rate $\eta$ = `lr`, no momentum), where $\hat{\mathbf g}$ depends on the method:

* **MSGD**: $\hat{\mathbf g} = \partial\mathcal{E}/\partial\theta$.
* **MSGD-C**: Algorithm 1, when $\|\hat{\mathbf g}\| \ge$ `clip` (one global norm over all
  parameters), $\hat{\mathbf g} \leftarrow \frac{\text{threshold}}{\|\hat{\mathbf g}\|}\hat{\mathbf g}$.
* **MSGD-CR**: as MSGD-C, with $\alpha\,\partial^+\Omega/\partial\mathbf{W}_{rec}$ (eq. 10, the
  released code's mean over valid steps) added to $\mathbf{W}_{rec}$'s gradient **before** clipping.

The released code guards the clipped methods: if $\|\hat{\mathbf g}\|$ is non-finite or above
$10^{10}$ the step becomes $\mathbf{W}_{rec}$'s gradient $= 0.02\,\mathbf{W}_{rec}$, all others 0.
It applies no guard without clipping, where a NaN ends the run. We do the same and call such
an MSGD run **diverged**: a non-finite loss or gradient norm (or an update that would make a
weight non-finite) stops it *before* the update, so NaN is never written into the weights.

Every update draws one length $T$ uniformly in `[min_length, max_length - 1]` (or
`min_length` when the two are equal) from a generator seeded by `length_seed`, then a batch
of `batch_size` sequences from the run's own data generator. Every `eval_every` updates (and
at the budget) the run is tested on **fresh** sequences from a third generator: first
`screen_size` of them, and only if fewer than `success_error` of those are wrong, on
`eval_size` (10,000 in the paper). The run **succeeds** and stops when under 1% of the
`eval_size` sequences are misclassified. Eval lengths at update $s$ come from a generator
seeded by (`length_seed`, $s$), so they do not depend on the run's history.

The network is the RNN of eq. (2) with one of the inits of §4.1.1, or an LSTM
(`init="lstm1997"` or `"lstm"`, `notes_code.hochreiter1997.network.LSTMNet`) trained by the same
protocol: the same data, lengths, evaluation on fresh sequences and success test, MSGD or
MSGD-C (Algorithm 1 and the fallback on its recurrent matrix $\mathbf{W}_{hh}$). Its gradient
comes from autograd; MSGD-CR is refused for it ($\Omega$ is defined for eq. 2).

`run` checkpoints atomically (model, step, every generator state, history); restarted with
the same config and checkpoint path it continues and ends in the same state, bit for bit on CPU.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import Tensor, nn
from tqdm import tqdm

from notes_code.pascanu2013.clipping import clip_grad_norm_with_fallback_, grad_norm
from notes_code.pascanu2013.regularized_training import loss_and_grads
from notes_code.pascanu2013.rnn import PascanuRNN, RNNOutput

from .tasks import TASKS, arith_steps, errors, make_batch, sample_length
from .tasks import loss as task_loss

INITS: tuple[str, ...] = ("sigmoid", "basic_tanh", "smart_tanh")
#: networks a run can train in place of the RNN: the 1997 LSTM cell and the forget-gate cell of
#: Gers et al. (2000) (`notes_code.hochreiter1997.network.LSTMNet`, the RNN's heads on the cells)
LSTM_INITS: tuple[str, ...] = ("lstm1997", "lstm")
METHODS: tuple[str, ...] = ("MSGD", "MSGD-C", "MSGD-CR")
DTYPES: dict[str, torch.dtype] = {"float32": torch.float32, "float64": torch.float64}


@dataclass(frozen=True)
class TrainConfig:
    r"""Everything that determines one run (defaults: the Fig. 7 protocol at length 50).

    Attributes:
        task: key of `TASKS` (`"torder"`: temporal order, 4 classes).
        init: the network and its initialisation: `"sigmoid"`, `"basic_tanh"` or `"smart_tanh"`
            (the RNN of eq. 2, §4.1.1), or `"lstm1997"` / `"lstm"` (an LSTM, `LSTM_INITS`).
        method: `"MSGD"`, `"MSGD-C"` or `"MSGD-CR"`.
        n_hidden: hidden units $n$ (50).
        min_length: shortest training length.
        max_length: longest training length plus one (equal to `min_length`: fixed length).
        batch_size: sequences per update (20).
        lr: learning rate $\eta$ (0.01).
        clip: clipping threshold (1.0); used by MSGD-C/CR.
        alpha: weight $\alpha$ of $\Omega$ (4); used by MSGD-CR.
        max_updates: budget of updates (5M in the paper).
        seed: seeds the initial weights, the training data and the eval data.
        length_seed: seeds the training lengths (must be shared by batched runs).
        eval_every: updates between evaluations.
        eval_size: fresh sequences of the success test (10,000).
        screen_size: fresh sequences of the cheap pre-test (0: always the full test).
        eval_chunk: sequences per eval batch; each chunk draws its own length (as the code).
        success_error: success when the error is below this (0.01).
        dtype: `"float32"` or `"float64"`.
        fallback_threshold: norms above this trigger the released code's fallback (1e10).
        fallback_shrink: the fallback's `W_rec.grad / W_rec` (0.02).
    """

    task: str = "torder"
    init: str = "smart_tanh"
    method: str = "MSGD-C"
    n_hidden: int = 50
    min_length: int = 50
    max_length: int = 50
    batch_size: int = 20
    lr: float = 0.01
    clip: float = 1.0
    alpha: float = 4.0
    max_updates: int = 5_000_000
    seed: int = 0
    length_seed: int = 0
    eval_every: int = 100
    eval_size: int = 10_000
    screen_size: int = 1_000
    eval_chunk: int = 1_000
    success_error: float = 0.01
    dtype: str = "float32"
    fallback_threshold: float = 1e10
    fallback_shrink: float = 0.02

    def __post_init__(self) -> None:
        checks = [(self.task in TASKS, f"task {self.task!r} not in {sorted(TASKS)}"),
                  (self.init in INITS + LSTM_INITS, f"init {self.init!r} not in {INITS + LSTM_INITS}"),
                  (self.method in METHODS, f"method {self.method!r} not in {METHODS}"),
                  (not (self.method == "MSGD-CR" and self.init in LSTM_INITS),
                   f"MSGD-CR adds Omega, defined for the RNN of eq. (2), not for {self.init!r}"),
                  (self.dtype in DTYPES, f"dtype {self.dtype!r} not in {sorted(DTYPES)}"),
                  (self.min_length <= self.max_length, "min_length > max_length"),
                  (self.task not in TASKS or self.min_length >= TASKS[self.task].min_length,
                   f"task {self.task!r} needs min_length >= "
                   f"{TASKS[self.task].min_length if self.task in TASKS else 1}, got {self.min_length}"),
                  (min(self.n_hidden, self.batch_size, self.max_updates, self.eval_every,
                       self.eval_size, self.eval_chunk) >= 1, "sizes must be >= 1")]
        for ok, why in checks:
            if not ok:
                raise ValueError(f"TrainConfig: {why}")

    def key(self) -> str:
        r"""A stable hash of every field (16 hex digits), used to key results and checkpoints."""
        text = json.dumps(dataclasses.asdict(self), sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()[:16]


@dataclass
class TrainResult:
    r"""Outcome of one run.

    Attributes:
        config: the run's configuration.
        outcome: `"success"`, `"fail"` (budget spent) or `"diverged"`.
        updates: SGD updates applied.
        final_error: error of the last evaluation (`None` if it never ran).
        history: one row per evaluation: `update`, `error`, `n_eval` (sequences tested),
            `loss` and `omega` (means since the previous row), `grad_norm` (largest finite
            pre-clipping norm since the previous row), `n_fallback` (guarded steps),
            `n_clipped` (steps that Algorithm 1 rescaled).
        wall_time: seconds spent (summed over resumed sessions).
        max_grad_norm: largest finite pre-clipping gradient norm of all applied updates.
        n_fallback: updates replaced by the released code's fallback.
        params: final parameters by name (CPU tensors), or `None`.
        n_clipped: updates whose gradient Algorithm 1 rescaled (norm $\ge$ `clip`, no fallback).
    """

    config: TrainConfig
    outcome: str
    updates: int
    final_error: float | None
    history: list[dict[str, float]] = field(default_factory=list)
    wall_time: float = 0.0
    max_grad_norm: float = 0.0
    n_fallback: int = 0
    params: dict[str, Tensor] | None = None
    n_clipped: int = 0

    @property
    def success(self) -> bool:
        r"""Whether the run met the success criterion."""
        return self.outcome == "success"

    @property
    def diverged(self) -> bool:
        r"""Whether the run hit a non-finite loss, gradient or weight (MSGD only)."""
        return self.outcome == "diverged"


def generator(seed: int, stream: str) -> torch.Generator:
    r"""A CPU generator for one random stream (`"init"`, `"data"`, `"eval"`, `"length"`, ...) of
    a run, seeded from SHA-256 of (`seed`, `stream`) so that it does not depend on Python's `hash`."""
    digest = hashlib.sha256(f"pascanu2013:{seed}:{stream}".encode()).hexdigest()
    return torch.Generator().manual_seed(int(digest[:15], 16))


def make_model(config: TrainConfig, device: torch.device | str = "cpu") -> nn.Module:
    r"""The initial network of a run: the init of §4.1.1 named by `config.init` (or an `LSTMNet`
    with Gaussian weights of standard deviation 0.1 and the task's head), drawn from the run's
    `"init"` generator, on `device`."""
    task = TASKS[config.task]
    if config.init in LSTM_INITS:
        from notes_code.hochreiter1997.network import LSTMNet  # the LSTM note's network (lazy: no cycle)

        return LSTMNet(task.n_in, config.n_hidden, task.n_out, forget_gate=config.init == "lstm",
                       head=task.head, generator=generator(config.seed, "init"),
                       dtype=DTYPES[config.dtype], device=device)
    build = getattr(PascanuRNN, f"{config.init}_init")
    return build(task.n_in, config.n_hidden, task.n_out, head=task.head,
                 generator=generator(config.seed, "init"), dtype=DTYPES[config.dtype], device=device)


Chunk = tuple[int, int, int | None]  # (sequences, length, add/mul steps or None)


def eval_plan(config: TrainConfig, step: int) -> tuple[list[Chunk], list[Chunk]]:
    r"""`(screen, full)`: the (chunk size, length, steps) of the pre-test (empty without one) and of
    the success test after update `step`; each chunk draws its length, as the released code (and,
    for `add`/`mul`, its steps: `tasks.arith_steps`)."""
    g = generator(config.length_seed, f"eval-lengths:{step}")

    def chunk(size: int) -> Chunk:
        length = sample_length(config.min_length, config.max_length, g)
        return size, length, arith_steps(config.task, length, g)

    def chunks(total: int) -> list[Chunk]:
        sizes = [config.eval_chunk] * (total // config.eval_chunk) + [total % config.eval_chunk]
        return [chunk(s) for s in sizes if s]

    screen = chunks(config.screen_size) if 0 < config.screen_size < config.eval_size else []
    return screen, chunks(config.eval_size)


def outputs(model: nn.Module, u: Tensor) -> Tensor:
    r"""The head's output for inputs `u` `(T, B, n_in)`: `PascanuRNN` returns it with its states,
    an `LSTMNet` alone."""
    out = model(u)
    return out.y if isinstance(out, RNNOutput) else out


def evaluate(model: nn.Module, config: TrainConfig, step: int, g: torch.Generator) -> tuple[float, int]:
    r"""`(error, n_sequences)` on fresh sequences from the eval generator `g`: the screen, then,
    if its error is under `success_error`, the full test (lengths from `eval_plan`)."""
    device, dtype = next(model.parameters()).device, DTYPES[config.dtype]
    for plan in eval_plan(config, step):
        if not plan:
            continue
        wrong = 0
        with torch.no_grad():
            for size, length, steps in plan:
                batch = make_batch(config.task, size, length, g, dtype, steps)
                y = outputs(model, batch.u.to(device))
                wrong += int(errors(config.task, y, batch.target.to(device)).sum())
        total = sum(size for size, *_ in plan)
        if wrong / total >= config.success_error:
            break
    return wrong / total, total


def atomic_save(obj: Any, path: Path) -> None:
    r"""`torch.save` to a temporary file in the same folder, then `os.replace` it onto `path`."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        torch.save(obj, tmp)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def _acc() -> dict[str, float]:
    return {"loss": 0.0, "omega": 0.0, "n": 0, "grad_norm": 0.0, "n_fallback": 0, "n_clipped": 0}


def _row(step: int, error: float, n_eval: int, acc: dict[str, float]) -> dict[str, float]:
    n = max(acc["n"], 1)
    return {"update": step, "error": error, "n_eval": n_eval, "loss": acc["loss"] / n,
            "omega": acc["omega"] / n, "grad_norm": acc["grad_norm"], "n_fallback": acc["n_fallback"],
            "n_clipped": acc.get("n_clipped", 0)}


def _grads(model: nn.Module, config: TrainConfig, u: Tensor, target: Tensor
           ) -> tuple[dict[str, Tensor], Tensor, float, float]:
    """(gradients by parameter name, the recurrent matrix of the fallback, loss, Omega): explicit
    BPTT with Omega for the RNN (`loss_and_grads`), autograd for an LSTM (no Omega)."""
    if isinstance(model, PascanuRNN):
        step = loss_and_grads(model, u, target, config.alpha if config.method == "MSGD-CR" else 0.0)
        return step.grads, model.W_rec, float(step.loss), float(step.omega)
    params = dict(model.named_parameters())
    cost = task_loss(config.task, outputs(model, u), target)
    grads = torch.autograd.grad(cost, list(params.values()))
    return dict(zip(params, grads, strict=True)), model.lstm.W_hh, float(cost.detach()), 0.0


def _sgd_step(model: nn.Module, config: TrainConfig, u: Tensor, target: Tensor) -> tuple[bool, dict]:
    r"""One update in place. Returns (applied, stats); not applied means diverged.

    A step is never applied if it would write a NaN or Inf into a weight. MSGD has no guard
    (a non-finite loss or norm ends the run); the clipped methods replace a non-finite or huge
    gradient by the released code's fallback (counted in `fell_back`; for an LSTM the fallback
    shrinks its recurrent matrix $\mathbf{W}_{hh}$)."""
    grads, W_rec, loss, omega = _grads(model, config, u, target)
    params = dict(model.named_parameters())
    for name, p in params.items():
        p.grad = grads[name]
    if config.method == "MSGD":
        norm = float(grad_norm(params.values()))
        fell_back = clipped = False
        if not (math.isfinite(norm) and math.isfinite(loss)):
            return False, {}
    else:
        norm = float(clip_grad_norm_with_fallback_(
            params.values(), W_rec, config.clip, fallback_threshold=config.fallback_threshold,
            shrink=config.fallback_shrink, eps=0.0))
        fell_back = not (math.isfinite(norm) and norm <= config.fallback_threshold)
        clipped = not fell_back and norm >= config.clip  # Algorithm 1's >=
    with torch.no_grad():
        new = {name: p - config.lr * p.grad for name, p in params.items()}
        if not all(bool(torch.isfinite(v).all()) for v in new.values()):
            return False, {}
        for name, p in params.items():
            p.copy_(new[name])
            p.grad = None
    return True, {"loss": loss, "omega": omega, "norm": norm, "fell_back": fell_back,
                  "clipped": clipped}


def run(config: TrainConfig, *, checkpoint: Path | None = None, progress: bool = False,
        checkpoint_every: int = 1000, device: torch.device | str = "cpu",
        callback: Callable[[int], None] | None = None) -> TrainResult:
    r"""Train one run to success, divergence or the end of its budget.

    Args:
        config: the run.
        checkpoint: file to resume from (if it exists) and to save to; `None`: no checkpoints.
        progress: show a tqdm bar (updates/s, error, gradient norm, $\Omega$).
        checkpoint_every: updates between checkpoints.
        device: where to train.
        callback: called as `callback(updates)` after every update and any checkpoint
            (raising from it simulates an interruption).

    Returns:
        The `TrainResult` (with final parameters).

    Raises:
        ValueError: if the checkpoint belongs to another config.
    """
    model = make_model(config, device)
    gens = {s: generator(config.seed, s) for s in ("data", "eval")}
    gens["length"] = generator(config.length_seed, "length")
    step, history, acc, wall, error = 0, [], _acc(), 0.0, None
    totals = {"max_grad_norm": 0.0, "n_fallback": 0, "n_clipped": 0}
    if checkpoint is not None and Path(checkpoint).exists():
        state = torch.load(checkpoint, weights_only=True)
        if state["config"] != dataclasses.asdict(config):
            raise ValueError(f"checkpoint {checkpoint} belongs to another config")
        model.load_state_dict(state["model"])
        for name, g in gens.items():
            g.set_state(state["rng"][name])
        step, history, acc, wall = state["step"], state["history"], state["acc"], state["wall"]
        error, totals = state["error"], {"n_clipped": 0, **state["totals"]}
        acc.setdefault("n_clipped", 0)
    outcome = "success" if error is not None and error < config.success_error else "fail"
    start = time.perf_counter() - wall
    bar = tqdm(total=config.max_updates, initial=step, disable=not progress, unit="upd",
               mininterval=0.5, dynamic_ncols=True)
    dtype = DTYPES[config.dtype]
    while outcome == "fail" and step < config.max_updates:
        length = sample_length(config.min_length, config.max_length, gens["length"])
        steps = arith_steps(config.task, length, gens["length"])
        batch = make_batch(config.task, config.batch_size, length, gens["data"], dtype, steps)
        applied, s = _sgd_step(model, config, batch.u.to(device), batch.target.to(device))
        if not applied:
            outcome = "diverged"
            break
        step += 1
        for k in ("loss", "omega"):
            acc[k] += s[k]
        acc["n"], acc["n_fallback"] = acc["n"] + 1, acc["n_fallback"] + s["fell_back"]
        acc["n_clipped"] += s["clipped"]
        if math.isfinite(s["norm"]):
            acc["grad_norm"] = max(acc["grad_norm"], s["norm"])
        bar.update(1)
        if step % config.eval_every == 0 or step == config.max_updates:
            error, n_eval = evaluate(model, config, step, gens["eval"])
            history.append(_row(step, error, n_eval, acc))
            totals["max_grad_norm"] = max(totals["max_grad_norm"], acc["grad_norm"])
            totals["n_fallback"] += acc["n_fallback"]
            totals["n_clipped"] += acc["n_clipped"]
            bar.set_postfix(err=f"{error:.4f}", gnorm=f"{acc['grad_norm']:.3g}",
                            omega=f"{acc['omega'] / max(acc['n'], 1):.3g}", refresh=False)
            acc = _acc()
            if error < config.success_error:
                outcome = "success"
        if checkpoint is not None and (step % checkpoint_every == 0 or outcome == "success"):
            atomic_save({"config": dataclasses.asdict(config), "step": step,
                         "model": model.state_dict(), "history": history, "acc": acc,
                         "rng": {name: g.get_state() for name, g in gens.items()},
                         "wall": time.perf_counter() - start, "error": error, "totals": totals},
                        Path(checkpoint))
        if callback is not None:
            callback(step)
    bar.close()
    totals["max_grad_norm"] = max(totals["max_grad_norm"], acc["grad_norm"])
    totals["n_fallback"] += acc["n_fallback"]
    totals["n_clipped"] += acc["n_clipped"]
    params = {name: p.detach().cpu().clone() for name, p in model.named_parameters()}
    return TrainResult(config, outcome, step, error, history, time.perf_counter() - start,
                       totals["max_grad_norm"], int(totals["n_fallback"]), params,
                       int(totals["n_clipped"]))


__all__ = ["DTYPES", "INITS", "LSTM_INITS", "METHODS", "TrainConfig", "TrainResult", "atomic_save",
           "eval_plan", "evaluate", "generator", "make_model", "outputs", "run"]
