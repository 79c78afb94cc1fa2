r"""# Polyphonic music prediction (§4.2, Table 1): MSGD, MSGD+C and MSGD+CR on piano rolls

The RNN of eq. (2) reads the piano roll one step behind and predicts every key of the next
step with its own sigmoid: with $\mathbf{u}_1 = \mathbf{0}$, $\mathbf{u}_t = \mathbf{v}_{t-1}$,

$$
\mathbf{x}_t = \mathbf{W}_{rec}\sigma(\mathbf{x}_{t-1}) + \mathbf{W}_{in}\mathbf{u}_t + \mathbf{b},
\qquad
\hat{\mathbf{p}}_t = \sigma\big(\mathbf{W}_{out}\sigma(\mathbf{x}_t) + \mathbf{b}_{out}\big)
\in (0, 1)^{88},
$$

and the cost of Table 1 is the **negative log-likelihood per time step, summed over the 88
keys** (natural log):

$$
\mathcal{E}_t = -\sum_{j=1}^{88} \big[v_{t,j}\log\hat p_{t,j} + (1 - v_{t,j})\log(1 - \hat p_{t,j})\big],
\qquad
\text{NLL} = \frac{\sum_{\text{sequences}} \sum_t \mathcal{E}_t}{\text{number of steps}} .
$$

A minibatch of chorales is padded at the end; padded steps carry the target $-1$, are left
out of the cost (`PolyphonicRNN.loss`, the sum over the batch's real steps divided by their
number: "the gradient averaged over sequence length"), and, since the network is causal, do
not change any real step. Their $\boldsymbol\delta$ is exactly zero, so $\Omega$'s mask
($\|\boldsymbol\delta_{k+1}\|^2 < 10^{-20}$) drops them as well.

**Methods** (§3.2, §3.3). One update is $\theta \leftarrow \theta - \eta\,\hat{\mathbf g}$:

* **MSGD**: $\hat{\mathbf g} = \partial\mathcal{E}/\partial\theta$ (no momentum);
* **MSGD+C**: Algorithm 1 with threshold `clip` (one global norm, $\ge$);
* **MSGD+CR**: as MSGD+C with $\alpha_t\,\partial^+\Omega/\partial\mathbf{W}_{rec}$ added to
  $\mathbf{W}_{rec}$'s gradient before clipping (`regularized_training.loss_and_grads`:
  eq. 10, the released code's mean over valid steps), on the **$1/t$ schedule** the paper asks
  for on natural tasks, $\alpha_t = \alpha_0 / t$ at epoch $t = 1, 2, \dots$

**Learning rate.** $\eta$ starts at `lr` and is **halved whenever the epoch's training cost
(the mean of its minibatch costs) is higher than the previous epoch's**. The settings the
paper gives only in its appendix ([S1], unverified: 300 sigmoid units, $\eta_0 = 1$, threshold
8, $\alpha_t = 1/(2t)$ for Piano-midi.de and Nottingham) are the defaults; the hidden size and
the number of epochs are what fits this machine (`table1.py` states them).

Like `train.py`, no update writes a NaN or Inf into a weight: a non-finite cost or gradient
skips the update (counted in `skipped`), and the clipped methods use the released code's
fallback for norms above $10^{10}$. A run whose every update of an epoch was skipped stops
and is marked **diverged**.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor

from .clipping import clip_grad_norm_with_fallback_, grad_norm
from .regularized_training import loss_and_grads
from .rnn import PascanuRNN

METHODS: tuple[str, ...] = ("MSGD", "MSGD+C", "MSGD+CR")
N_KEYS = 88
PAD = -1.0


class PolyphonicRNN(PascanuRNN):
    r"""Eq. (2) with a sigmoid per key at every step (the per-step head, `head="softmax"`,
    whose logits are read as 88 independent Bernoulli logits instead of one softmax).

    Args:
        n_hidden: hidden units $n$.
        std: standard deviation of the Gaussian weights (biases start at zero).
        generator: a `torch.Generator` or an integer seed.
        activation: hidden units, `"sigmoid"` as in the paper's music runs.
        n_keys: keys per step (88).
    """

    def __init__(self, n_hidden: int, std: float = 0.1, generator: torch.Generator | int | None = None,
                 activation: str = "sigmoid", n_keys: int = N_KEYS) -> None:
        super().__init__(n_keys, n_hidden, n_keys, activation, "softmax", std, generator)  # type: ignore[arg-type]

    def loss(self, y: Tensor, target: Tensor) -> Tensor:
        r"""NLL per real time step, summed over keys: $\sum_t \mathcal{E}_t / \#\{t\}$.

        Args:
            y: logits, `(T, B, 88)`.
            target: piano roll `(T, B, 88)` in $\{0, 1\}$, `PAD` (-1) on padded steps.

        Returns:
            A scalar (0 when the batch has no real step).
        """
        return step_nll(y, target).sum() / valid_mask(target).sum().clamp_min(1)


def valid_mask(target: Tensor) -> Tensor:
    r"""`(T, B)` booleans: the steps that are not padding."""
    return target[..., 0] != PAD


def step_nll(y: Tensor, target: Tensor) -> Tensor:
    r"""$\mathcal{E}_t$ for every step and sequence, `(T, B)` (0 on padded steps).

    Args:
        y: logits, `(T, B, 88)`.
        target: `(T, B, 88)`, `PAD` on padded steps.
    """
    mask = valid_mask(target)
    per_key = F.binary_cross_entropy_with_logits(y, target.clamp_min(0), reduction="none")  # (T, B, 88)
    return per_key.sum(-1) * mask


def make_batch(rolls: Sequence[np.ndarray], dtype: torch.dtype = torch.float32) -> tuple[Tensor, Tensor]:
    r"""Inputs and targets for a list of piano rolls, padded to the longest.

    Args:
        rolls: `(T_i, 88)` binary arrays.
        dtype: tensor dtype.

    Returns:
        `(u, target)`, both `(T, B, 88)`: $\mathbf{u}_1 = \mathbf{0}$, $\mathbf{u}_t = \mathbf{v}_{t-1}$;
        the target is $\mathbf{v}_t$, `PAD` after the end of a sequence (where `u` is 0).
    """
    if not rolls:
        raise ValueError("make_batch needs at least one roll")
    T, B = max(len(r) for r in rolls), len(rolls)
    u = torch.zeros(T, B, N_KEYS, dtype=dtype)
    target = torch.full((T, B, N_KEYS), PAD, dtype=dtype)
    for i, r in enumerate(rolls):
        v = torch.as_tensor(np.asarray(r), dtype=dtype)  # (T_i, 88)
        if v.ndim != 2 or v.shape[1] != N_KEYS:
            raise ValueError(f"roll {i} has shape {tuple(v.shape)}, expected (T, {N_KEYS})")
        target[: len(v), i] = v
        u[1: len(v), i] = v[:-1]
    return u, target


@torch.no_grad()
def nll(model: PolyphonicRNN, rolls: Sequence[np.ndarray], batch_size: int = 64) -> float:
    r"""NLL per time step of a model on a set of rolls (total NLL over total steps).

    Args:
        model: the network.
        rolls: piano rolls.
        batch_size: sequences per forward pass.
    """
    total, steps = 0.0, 0
    for i in range(0, len(rolls), batch_size):
        u, target = make_batch(rolls[i: i + batch_size], model.W_rec.dtype)
        total += float(step_nll(model(u).y, target).sum())
        steps += int(valid_mask(target).sum())
    return total / max(steps, 1)


@dataclass(frozen=True)
class PolyConfig:
    r"""Everything that determines one polyphonic run.

    Attributes:
        method: `"MSGD"`, `"MSGD+C"` or `"MSGD+CR"`.
        seed: seeds the weights and the order of the minibatches.
        n_hidden: hidden units.
        activation: hidden units' $\sigma$.
        std: initial weight standard deviation.
        lr: initial learning rate $\eta_0$ (halved when the epoch cost rises).
        clip: the clipping threshold (MSGD+C, MSGD+CR).
        alpha0: $\alpha_0$ of $\alpha_t = \alpha_0/t$ (MSGD+CR).
        epochs: passes over the training chorales.
        batch_size: chorales per update.
        halve_on_increase: the learning-rate rule (`False`: constant $\eta$).
        dtype: `"float32"` or `"float64"`.
    """

    method: str = "MSGD"
    seed: int = 0
    n_hidden: int = 300
    activation: str = "sigmoid"
    std: float = 0.1
    lr: float = 1.0
    clip: float = 8.0
    alpha0: float = 0.5
    epochs: int = 20
    batch_size: int = 10
    halve_on_increase: bool = True
    dtype: str = "float32"

    def __post_init__(self) -> None:
        if self.method not in METHODS:
            raise ValueError(f"method must be one of {METHODS}, got {self.method!r}")
        if self.epochs < 1 or self.batch_size < 1 or self.n_hidden < 1:
            raise ValueError("epochs, batch_size and n_hidden must be positive")
        if not (self.lr > 0 and self.clip > 0 and self.alpha0 >= 0):
            raise ValueError("lr and clip must be positive and alpha0 non-negative")

    def key(self) -> str:
        r"""Hash of every field (16 hex digits): the run's identity in a results file."""
        blob = json.dumps(dataclasses.asdict(self), sort_keys=True)
        return hashlib.sha256(blob.encode()).hexdigest()[:16]


@dataclass
class PolyResult:
    r"""One finished run.

    Attributes:
        config: the run's configuration.
        nll: final NLL per time step by fold (`None` for a diverged run).
        history: one row per epoch: `epoch`, `lr`, `alpha`, `train_cost` (mean minibatch cost),
            `valid_nll`, `grad_norm_mean`, `grad_norm_max` (before clipping), `clipped`
            (updates whose norm reached the threshold), `omega` (mean $\Omega$), `skipped`.
        updates: updates applied.
        skipped: updates skipped because the cost or gradient was not finite.
        diverged: whether the run stopped on an epoch with no finite update.
        wall_time: seconds.
        model: the trained network (not stored in results files).
    """

    config: PolyConfig
    nll: dict[str, float | None]
    history: list[dict[str, float]]
    updates: int
    skipped: int
    diverged: bool
    wall_time: float
    model: PolyphonicRNN | None = field(default=None, repr=False)


def alpha_at(config: PolyConfig, epoch: int) -> float:
    r"""$\alpha_t = \alpha_0 / t$ for MSGD+CR at epoch $t \ge 1$, else 0."""
    return config.alpha0 / epoch if config.method == "MSGD+CR" else 0.0


def sgd_step(model: PolyphonicRNN, u: Tensor, target: Tensor, lr: float, method: str, clip: float,
             alpha: float) -> dict[str, float] | None:
    r"""One update in place; `None` (and no change) when the cost or gradient is not finite.

    Args:
        model: the network.
        u: inputs, `(T, B, 88)`.
        target: targets, `(T, B, 88)`.
        lr: learning rate.
        method: `"MSGD"`, `"MSGD+C"` or `"MSGD+CR"`.
        clip: threshold of the clipped methods.
        alpha: weight of $\Omega$ (used by `"MSGD+CR"` only).

    Returns:
        `cost`, `omega`, `norm` (before clipping), `clipped` (0 or 1).
    """
    step = loss_and_grads(model, u, target, alpha if method == "MSGD+CR" else 0.0)
    params = dict(model.named_parameters())
    for name, p in params.items():
        p.grad = step.grads[name]
    cost, omega = float(step.loss), float(step.omega)
    if method == "MSGD":
        norm = float(grad_norm(params.values()))
        clipped = 0.0
    else:
        norm = float(clip_grad_norm_with_fallback_(params.values(), model.W_rec, clip, eps=0.0))
        clipped = float(math.isfinite(norm) and norm >= clip)
    ok = math.isfinite(cost) and (math.isfinite(norm) or method != "MSGD")
    with torch.no_grad():
        new = {name: p - lr * p.grad for name, p in params.items()} if ok else {}
        ok = ok and all(bool(torch.isfinite(v).all()) for v in new.values())
        if ok:
            for name, p in params.items():
                p.copy_(new[name])
        for p in params.values():
            p.grad = None
    return {"cost": cost, "omega": omega, "norm": norm, "clipped": clipped} if ok else None


def run(config: PolyConfig, folds: dict[str, Sequence[np.ndarray]], *, keep_model: bool = False,
        log: Any = None) -> PolyResult:
    r"""Train one run on the `"train"` rolls and measure every fold.

    Args:
        config: the run.
        folds: fold name -> piano rolls (needs `"train"`; `"valid"` is measured every epoch).
        keep_model: keep the trained network in the result.
        log: optional callable for one progress line per epoch.

    Returns:
        A `PolyResult`.
    """
    if not folds.get("train"):
        raise ValueError("run needs a non-empty 'train' fold")
    dtype = {"float32": torch.float32, "float64": torch.float64}[config.dtype]
    g = torch.Generator().manual_seed(config.seed)
    model = PolyphonicRNN(config.n_hidden, config.std, g, config.activation).to(dtype)
    order = torch.Generator().manual_seed(10_007 * config.seed + 1)
    train = list(folds["train"])
    lr, prev_cost = config.lr, math.inf
    history: list[dict[str, float]] = []
    updates = skipped = 0
    diverged = False
    start = time.perf_counter()
    for epoch in range(1, config.epochs + 1):
        alpha = alpha_at(config, epoch)
        perm = torch.randperm(len(train), generator=order).tolist()
        rows = []
        for i in range(0, len(perm), config.batch_size):
            u, target = make_batch([train[j] for j in perm[i: i + config.batch_size]], dtype)
            out = sgd_step(model, u, target, lr, config.method, config.clip, alpha)
            if out is None:
                skipped += 1
                continue
            rows.append(out)
            updates += 1
        if not rows:
            diverged = True
            break
        cost = float(np.mean([r["cost"] for r in rows]))
        norms = [r["norm"] for r in rows]
        row = {"epoch": epoch, "lr": lr, "alpha": alpha, "train_cost": cost,
               "valid_nll": nll(model, folds["valid"]) if folds.get("valid") else math.nan,
               "grad_norm_mean": float(np.mean(norms)), "grad_norm_max": float(np.max(norms)),
               "clipped": int(sum(r["clipped"] for r in rows)),
               "omega": float(np.mean([r["omega"] for r in rows])), "skipped": len(perm) // config.batch_size
               + (len(perm) % config.batch_size > 0) - len(rows)}
        history.append(row)
        if log is not None:
            log(f"{config.method} seed {config.seed} epoch {epoch}: cost {cost:.3f} valid "
                f"{row['valid_nll']:.3f} lr {lr:g} |g| {row['grad_norm_mean']:.2f}/"
                f"{row['grad_norm_max']:.2f}")
        if config.halve_on_increase and cost > prev_cost:
            lr /= 2
        prev_cost = cost
    final = {f: (None if diverged else nll(model, rolls)) for f, rolls in folds.items()}
    return PolyResult(config, final, history, updates, skipped, diverged, time.perf_counter() - start,
                      model if keep_model else None)


__all__ = ["METHODS", "N_KEYS", "PAD", "PolyConfig", "PolyResult", "PolyphonicRNN", "alpha_at",
           "make_batch", "nll", "run", "sgd_step", "step_nll", "valid_mask"]
