r"""# The three output heads of the batched engines

The batched engines (`common.batched`, `common.fastcpu`) train $K$ runs at once, so every
quantity below carries a run axis $k$; the formulas are those of the single-run trainer
(`PascanuRNN.forward` / `loss`, `tasks.errors`), per run. With
$\mathbf h_t = \sigma(\mathbf x_t)$ and $B$ sequences a batch:

* **`last_softmax`** (`torder`, `torder3`, `perm`): logits
  $\mathbf y = \mathbf W_{out}\mathbf h_T + \mathbf b_{out}$ `(K, B, n_out)`, class targets
  `(K, B)`, $\mathcal E = -\frac1B\sum_b \log\mathrm{softmax}(\mathbf y_b)_{c_b}$ and
  $\partial\mathcal E/\partial\mathbf y = (\mathrm{softmax}(\mathbf y) - \mathbf e_c)/B$.
  A sequence is wrong when $\arg\max\mathbf y \ne c$.
* **`last_linear`** (`add`, `mul`): $\mathbf y$ as above, real targets $\mathbf t$ `(K, B, 1)`,
  $\mathcal E = \sum_o \frac1B\sum_b (t_{bo} - y_{bo})^2$ (the released code's
  `((t - y)**2).mean(0).sum()`) and $\partial\mathcal E/\partial\mathbf y = -2(\mathbf t - \mathbf y)/B$.
  A sequence is wrong when $\sum_o (t_o - y_o)^2 > 0.04$.
* **`softmax`** at every step (`mem`): logits $\mathbf y_t = \mathbf W_{out}\mathbf h_t + \mathbf b_{out}$
  for $t = 1..T$, `(T, K, B, n_out)`, class targets `(T, K, B)`, the cross-entropy averaged over
  all $TB$ rows, so $\partial\mathcal E/\partial\mathbf y_t = (\mathrm{softmax}(\mathbf y_t) -
  \mathbf e_{c_t})/(TB)$. Every step has an *immediate* error
  $\partial^+\mathcal E/\partial\mathbf x_t = (\partial\mathcal E/\partial\mathbf y_t\,\mathbf W_{out})
  \odot\sigma'(\mathbf x_t)$, so BPTT becomes
  $\boldsymbol\delta_t = \partial^+\mathcal E/\partial\mathbf x_t + \mathbf v_t$,
  $\mathbf v_t = (\boldsymbol\delta_{t+1}\mathbf W_{rec})\odot\sigma'(\mathbf x_t)$, and
  $\Omega$ (eq. 10) compares $\|\mathbf v_k\|$ with $\|\boldsymbol\delta_{k+1}\|$: the
  back-propagated part only, as `regularized_training.loss_and_grads`. A sequence is wrong when
  any step's argmax is wrong.

The engines tell the head from the targets (`head_of`), so their signature stays that of
`batched.train_step` (and `common.fused`, which handles `last_softmax` only, refuses the others'
targets by their shape).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

from .tasks import SQUARED_ERROR_THRESHOLD, TASKS, Batch

HEADS: tuple[str, ...] = ("last_softmax", "last_linear", "softmax")


def head_of(U: Tensor, Y: Tensor) -> str:
    r"""The head whose targets `Y` are, for inputs `U (T, K, B, n_in)`.

    Args:
        U: inputs, time-major `(T, K, B, n_in)`.
        Y: class indices `(K, B)` (`last_softmax`), real values `(K, B, n_out)` (`last_linear`)
            or class indices at every step `(T, K, B)` (`softmax`).

    Returns:
        The head's name.

    Raises:
        ValueError: if `Y` fits no head.
    """
    T, K, B = U.shape[:3]
    shape = tuple(Y.shape)
    if Y.is_floating_point():
        if Y.dim() == 3 and shape[:2] == (K, B):
            return "last_linear"
    elif shape == (K, B):
        return "last_softmax"
    elif shape == (T, K, B):
        return "softmax"
    raise ValueError(f"targets {shape} ({Y.dtype}) fit no head for inputs {tuple(U.shape)}: expected "
                     f"class indices {(K, B)} or {(T, K, B)}, or real values {(K, B)} + (n_out,)")


def stack_targets(task: str, targets: list[Tensor]) -> Tensor:
    r"""One batch target per run (as `tasks.make_batch` returns them) stacked on the run axis:
    `(K, B)`, `(K, B, 1)` or, per step, `(T, K, B)`.

    Args:
        task: a key of `TASKS`.
        targets: the runs' targets, in order.

    Returns:
        The stacked targets.
    """
    return torch.stack(targets, 1 if TASKS[task].head == "softmax" else 0)


def stack_batches(task: str, batches: list[Batch],
                  device: torch.device | str = "cpu") -> tuple[Tensor, Tensor]:
    r"""One batch per run (each from its run's generator, one length; for `add`/`mul` one $l'$)
    stacked for the batched engines.

    Args:
        task: a key of `TASKS`.
        batches: the runs' batches, in order.
        device: where the tensors go.

    Returns:
        `(U, Y)`: inputs `(T, K, B, n_in)` and targets as in `head_of`.
    """
    return (torch.stack([b.u for b in batches], 1).to(device),
            stack_targets(task, [b.target for b in batches]).to(device))


def runs(Y: Tensor, head: str, cut: slice) -> Tensor:
    r"""The targets of the runs `cut` (the run axis is the second one for the per-step head).

    Args:
        Y: stacked targets.
        head: their head.
        cut: runs to keep.

    Returns:
        A view of `Y`.
    """
    return Y[:, cut] if head == "softmax" else Y[cut]


def loss_and_dy(head: str, y: Tensor, Y: Tensor) -> tuple[Tensor, Tensor]:
    r"""Per-run loss $\mathcal E$ `(K,)` and $\partial\mathcal E/\partial\mathbf y$ (shaped as `y`).

    Args:
        head: one of `HEADS`.
        y: head output, `(K, B, n_out)` or, per step, `(T, K, B, n_out)`; overwritten.
        Y: targets as in `head_of`.

    Returns:
        `(loss, dy)`.
    """
    if head == "last_linear":
        r = y.sub_(Y)  # y - t
        return r.square().mean(-2).sum(-1), r.mul_(2.0 / r.shape[-2])
    logp = F.log_softmax(y, -1)
    picked = logp.gather(-1, Y.unsqueeze(-1)).squeeze(-1)  # (K, B) or (T, K, B)
    if head == "softmax":
        loss, rows = -picked.mean((0, 2)), Y.shape[0] * Y.shape[2]  # mean over the T B rows
    else:
        loss, rows = -picked.mean(-1), Y.shape[-1]
    dy = logp.exp_().scatter_add_(-1, Y.unsqueeze(-1), torch.full_like(logp[..., :1], -1.0)).div_(rows)
    return loss, dy


def wrong(head: str, y: Tensor, Y: Tensor) -> Tensor:
    r"""Error flags `(K, B)`, as `tasks.errors` per run; for `softmax`, those of one step
    (`y (K, B, n_out)` and `Y (K, B)`): a sequence is wrong if any step's flag is set.

    Args:
        head: one of `HEADS`.
        y: head output `(K, B, n_out)`.
        Y: targets `(K, B)` (class heads) or `(K, B, n_out)` (`last_linear`).

    Returns:
        Bool `(K, B)`.
    """
    if head == "last_linear":
        return (Y - y).square().sum(-1) > SQUARED_ERROR_THRESHOLD
    return y.argmax(-1) != Y


def count_errors(P: dict[str, Tensor], co: dict, U: Tensor, Y: Tensor) -> Tensor:
    r"""Wrong sequences per run, `(K,)`, as `tasks.errors`, for inputs `U (T, K, C, n_in)` and
    targets `Y` (`(K, C)`, `(K, C, 1)` or `(T, K, C)`: see `head_of`); forward only, one
    state kept per step."""
    head = head_of(U, Y)
    with torch.no_grad():
        T, K, Cn, _ = U.shape
        bad = torch.zeros(K, Cn, dtype=torch.bool, device=U.device)
        C = co["C"]
        h = (co["A"] * 0.5 + co["D"]).expand(K, Cn, P["W_rec"].shape[1]).contiguous()
        z = torch.empty_like(h)
        W_rec_t = (P["W_rec"].transpose(1, 2) * C).contiguous()
        W_in_t, b = (P["W_in"].transpose(1, 2) * C).contiguous(), P["b"].unsqueeze(1) * C
        for t in range(T):
            torch.baddbmm(b, U[t], W_in_t, out=z).baddbmm_(h, W_rec_t)
            torch.sigmoid(z, out=h).mul_(co["A"]).add_(co["D"])  # sigma(x) = A sigmoid(C x) + D
            if head == "softmax":  # a sequence is wrong if any step is
                y = torch.baddbmm(P["b_out"].unsqueeze(1), h, P["W_out"].transpose(1, 2))
                bad |= wrong(head, y, Y[t])
        if head != "softmax":
            bad = wrong(head, torch.baddbmm(P["b_out"].unsqueeze(1), h, P["W_out"].transpose(1, 2)), Y)
        return bad.sum(-1)


__all__ = ["HEADS", "count_errors", "head_of", "loss_and_dy", "runs", "stack_batches", "stack_targets",
           "wrong"]
