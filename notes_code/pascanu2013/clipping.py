r"""# Gradient-norm clipping (Algorithm 1, §3.2)

The paper's remedy for exploding gradients rescales the *whole* gradient when its norm
is too large:

$$
\hat{\mathbf{g}} \leftarrow \frac{\partial\mathcal{E}}{\partial\theta};
\qquad
\text{if } \|\hat{\mathbf{g}}\| \ge \text{threshold}:\quad
\hat{\mathbf{g}} \leftarrow \frac{\text{threshold}}{\|\hat{\mathbf{g}}\|}\,\hat{\mathbf{g}}.
$$

The norm is one global norm over all parameters, so the update keeps the direction of
the gradient and only its length is capped. On the "walls" of §2.3 this turns a huge
jump into a step of length at most `threshold · lr`.

Conventions here:

* `clip_grad_norm_` mirrors `torch.nn.utils.clip_grad_norm_` (same arguments, returns
  the total norm *before* clipping) and clips when $\|\hat{\mathbf g}\|\ge$ `max_norm`
  (the paper's $\ge$; the released code uses $>$). The scale factor is
  `max_norm / (norm + eps)` with torch's `eps = 1e-6`, which guarantees the clipped norm
  is strictly below the threshold and agrees with torch to about `eps / norm`;
  `eps=0` is Algorithm 1 verbatim.
* A non-finite total norm is never multiplied into the gradients (torch's version
  writes NaN into every gradient in that case). With `error_if_nonfinite=True` it
  raises; otherwise it warns and leaves the gradients untouched.
* `clip_grad_value_` is the element-wise clipping of Mikolov (§3.1).
* `clip_grad_norm_with_fallback_` adds the released code's guard: if the norm is
  non-finite or above $10^{10}$, the step is replaced by a small shrink of
  $\mathbf{W}_{rec}$ (`W_rec.grad = 0.02 W_rec`, all other gradients zero).
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Iterable

import torch
from torch import Tensor

TensorOrTensors = Tensor | Iterable[Tensor]


def _params_list(parameters: TensorOrTensors) -> list[Tensor]:
    if isinstance(parameters, Tensor):
        return [parameters]
    return list(parameters)


def _grads(parameters: TensorOrTensors) -> list[Tensor]:
    return [p.grad for p in _params_list(parameters) if p.grad is not None]


def grad_norm(parameters: TensorOrTensors, norm_type: float = 2.0) -> Tensor:
    r"""The global norm $\|\hat{\mathbf g}\|_p$ over all existing gradients.

    Args:
        parameters: a tensor or an iterable of tensors; `None` gradients are skipped.
        norm_type: $p$: `1`, `2`, any positive float, or `inf`.

    Returns:
        A scalar tensor (`tensor(0.)` when there are no gradients).
    """
    grads = _grads(parameters)
    if not grads:
        return torch.tensor(0.0)
    p = float(norm_type)
    device = grads[0].device
    norms = [torch.linalg.vector_norm(g.detach(), p).to(device) for g in grads]
    return torch.linalg.vector_norm(torch.stack(norms), p)


def clip_grad_norm_(
    parameters: TensorOrTensors,
    max_norm: float,
    norm_type: float = 2.0,
    error_if_nonfinite: bool = False,
    eps: float = 1e-6,
) -> Tensor:
    r"""Algorithm 1: rescale all gradients in place if their global norm is $\ge$ `max_norm`.

    Args:
        parameters: a tensor or an iterable of tensors whose `.grad` is clipped;
            `None` gradients are skipped.
        max_norm: the threshold.
        norm_type: `1`, `2`, `inf` (or any positive float).
        error_if_nonfinite: raise `RuntimeError` if the total norm is NaN or infinite.
        eps: added to the norm in the scale factor (torch uses `1e-6`; `0` is Algorithm 1
            exactly).

    Returns:
        The total norm of the gradients before clipping, a scalar tensor.

    Raises:
        RuntimeError: if the norm is non-finite and `error_if_nonfinite` is set.
    """
    grads = _grads(parameters)
    total = grad_norm(parameters, norm_type)
    if not grads:
        return total
    total_f = float(total)
    if not math.isfinite(total_f):
        if error_if_nonfinite:
            raise RuntimeError(
                f"The total norm of order {float(norm_type)} for gradients from `parameters` "
                "is non-finite, so it cannot be clipped. To leave the gradients unchanged "
                "instead (with a warning), set `error_if_nonfinite=False`"
            )
        warnings.warn(
            f"gradient norm is {total_f}; gradients were left unchanged", RuntimeWarning,
            stacklevel=2,
        )
        return total
    if total_f >= max_norm:
        scale = max_norm / (total_f + eps)
        for g in grads:
            g.mul_(scale)
    return total


def clip_grad_value_(parameters: TensorOrTensors, clip_value: float) -> None:
    r"""Element-wise clipping $g_i \leftarrow \max(-c, \min(c, g_i))$ (Mikolov, §3.1).

    Unlike norm clipping this changes the direction of the gradient.

    Args:
        parameters: a tensor or an iterable of tensors; `None` gradients are skipped.
        clip_value: $c > 0$.

    Returns:
        None. Gradients are modified in place (NaN entries stay NaN).
    """
    c = float(clip_value)
    for g in _grads(parameters):
        g.clamp_(min=-c, max=c)


def clip_grad_norm_with_fallback_(
    parameters: TensorOrTensors,
    W_rec: Tensor,
    max_norm: float,
    norm_type: float = 2.0,
    fallback_threshold: float = 1e10,
    shrink: float = 0.02,
    eps: float = 1e-6,
) -> Tensor:
    r"""Norm clipping with the released code's guard against blown-up gradients.

    If the total norm is NaN, infinite or above `fallback_threshold`, the gradients are
    replaced: `W_rec.grad = shrink * W_rec` (an SGD step then shrinks $\mathbf{W}_{rec}$
    by the factor $1 - \text{lr}\cdot\text{shrink}$) and every other gradient is set to
    zero [trainingRNNs `RNN.py`]. Otherwise this is `clip_grad_norm_`.

    Args:
        parameters: a tensor or an iterable of tensors (should include `W_rec`).
        W_rec: the recurrent weight parameter.
        max_norm: the clipping threshold.
        norm_type: `1`, `2` or `inf`.
        fallback_threshold: norms above this trigger the fallback.
        shrink: the fallback's `W_rec.grad / W_rec` ratio.
        eps: see `clip_grad_norm_`.

    Returns:
        The total norm before clipping (possibly non-finite), a scalar tensor.
    """
    params = _params_list(parameters)
    total = grad_norm(params, norm_type)
    total_f = float(total)
    if math.isfinite(total_f) and total_f <= fallback_threshold:
        clip_grad_norm_(params, max_norm, norm_type, eps=eps)
        return total
    with torch.no_grad():
        for p in params:
            if p is not W_rec and p.grad is not None:
                p.grad.zero_()
        W_rec.grad = (shrink * W_rec.detach()).clone()
    return total


__all__ = [
    "clip_grad_norm_",
    "clip_grad_norm_with_fallback_",
    "clip_grad_value_",
    "grad_norm",
]
