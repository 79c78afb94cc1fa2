r"""# Gradient-norm clipping (Algorithm 1, §3.2) and Mikolov's element-wise clipping (§3.1)

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

* Every function that takes "a tensor or an iterable of tensors" reads the iterable
  exactly **once** (as `torch.nn.utils` does), so `model.parameters()` (a generator)
  works like a list.
* `clip_grad_norm_` mirrors `torch.nn.utils.clip_grad_norm_` (same arguments, returns
  the total norm *before* clipping) and clips when $\|\hat{\mathbf g}\|\ge$ `max_norm`
  (the paper's $\ge$; the released code uses $>$). The scale factor is
  `max_norm / (norm + eps)` with torch's `eps = 1e-6`, which keeps the clipped norm
  below the threshold and agrees with torch to about `eps / norm`; `eps=0` is
  Algorithm 1 verbatim.
* The norm is accumulated in float64 (float32 on Apple `mps`, which has no float64) and
  returned as a float64 scalar, so finite float32 / float16 / bfloat16 gradients always
  have a finite norm (torch's float32 norm of `[1e38, 1e38]` is `inf`, and torch then
  zeroes the gradients). Float64 gradients whose sum of squares overflows are measured
  with scaling, $\|\mathbf g\| = m\,\|\mathbf g / m\|$ with $m = \max_i |g_i|$.
* Finite gradients therefore always come out finite with norm $\le$ `max_norm`: for
  float16 / bfloat16 (and scale factors below the dtype's smallest normal number) the
  product is formed in float64 and rounded *towards zero*, so rounding cannot push the
  norm above the threshold; for float32 / float64 the bound holds up to one rounding of
  the scale factor.
* A non-finite total norm (a NaN or an infinite gradient entry) is never multiplied into
  the gradients (torch's version writes NaN into every gradient in that case). With
  `error_if_nonfinite=True` it raises; otherwise it warns and leaves the gradients
  untouched. The trainers never apply such a step (`train.py`, `batched.py`).
* A negative or NaN threshold raises `ValueError`; `inf` means no clipping; a zero
  threshold gives zero gradients (also with `eps=0`).
* `clip_grad_value_` clamps every entry of the *summed* gradient to $[-c, c]$ (what
  `torch.nn.utils.clip_grad_value_` does). Mikolov's clipping as the paper describes it
  (§3.1) clips the gradient's *temporal components*, each term of eq. (4) before the
  sum over time: that is `clip_temporal_contributions_`.
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

# dtypes whose rounding after the rescale is coarse enough to matter: their products are
# formed in float64 and rounded towards zero (see `_scale_`)
_NARROW = (torch.float16, torch.bfloat16)


def _materialise(parameters: TensorOrTensors) -> list[Tensor]:
    """The parameters as a list, reading an iterable (a generator included) exactly once."""
    if isinstance(parameters, Tensor):
        return [parameters]
    return list(parameters)


def _grads_of(params: list[Tensor]) -> list[Tensor]:
    return [p.grad for p in params if p.grad is not None]


def _check_norm_type(norm_type: float) -> float:
    p = float(norm_type)
    if not p > 0:  # also false for NaN
        raise ValueError(f"norm_type must be a positive number or inf, got {norm_type!r}")
    return p


def _check_threshold(name: str, value: float) -> float:
    v = float(value)
    if math.isnan(v) or v < 0:
        raise ValueError(f"{name} must be >= 0 (inf: no clipping), got {value!r}")
    return v


def _check_eps(eps: float) -> float:
    e = float(eps)
    if not (math.isfinite(e) and e >= 0):
        raise ValueError(f"eps must be finite and >= 0, got {eps!r}")
    return e


def _acc_dtype(device: torch.device) -> torch.dtype:
    return torch.float32 if device.type == "mps" else torch.float64


def _norm(grads: list[Tensor], p: float) -> tuple[Tensor, tuple[float, float] | None]:
    r"""`(total, parts)`: the global $p$-norm in the accumulation dtype; `parts = (m, r)` with
    total $= m\cdot r$ when the direct sum overflowed and it was measured with scaling."""
    device = grads[0].device
    acc = _acc_dtype(device)
    norms = [torch.linalg.vector_norm(g.detach(), p, dtype=acc).to(device) for g in grads]
    total = torch.linalg.vector_norm(torch.stack(norms), p)
    if all(torch.finfo(g.dtype).bits < torch.finfo(acc).bits for g in grads):
        return total, None  # squares of narrower finite values cannot overflow the wider sum
    # host sync: only gradients as wide as the accumulator can overflow it, and whether the
    # scaled measurement is needed has to be decided here
    if not math.isinf(float(total)):
        return total, None
    m = max(float(g.detach().abs().max()) if g.numel() else 0.0 for g in grads)  # exact in any dtype
    if not math.isfinite(m):
        return total, None  # an infinite (or NaN) entry: the norm is really non-finite
    scaled = [torch.linalg.vector_norm(g.detach().to(acc) / m, p).to(device) for g in grads]
    r = float(torch.linalg.vector_norm(torch.stack(scaled), p))
    return torch.tensor(m * r, dtype=acc, device=device), (m, r)


def _scale_(grads: list[Tensor], scale: float) -> None:
    """g <- scale * g in place for 0 <= scale <= 1, never rounding any |g_i| upwards where
    that rounding would be coarse (narrow dtypes, or a subnormal scale factor)."""
    for g in grads:
        info = torch.finfo(g.dtype)
        if g.dtype not in _NARROW and not 0.0 < scale < info.tiny:
            g.mul_(scale)
            continue
        exact = g.to(torch.float64) * scale
        rounded = exact.to(g.dtype)
        up = rounded.to(torch.float64).abs() > exact.abs()
        g.copy_(torch.where(up, torch.nextafter(rounded, torch.zeros_like(rounded)), rounded))


def grad_norm(parameters: TensorOrTensors, norm_type: float = 2.0) -> Tensor:
    r"""The global norm $\|\hat{\mathbf g}\|_p$ over all existing gradients.

    Args:
        parameters: a tensor or an iterable of tensors (read once); `None` gradients are
            skipped.
        norm_type: $p$: `1`, `2`, any positive float, or `inf`.

    Returns:
        A float64 scalar tensor (float32 on `mps`), finite whenever every gradient is
        finite; `0` when there are no gradients.

    Raises:
        ValueError: if `norm_type` is not positive (0, negative, NaN).
    """
    p = _check_norm_type(norm_type)
    grads = _grads_of(_materialise(parameters))
    if not grads:
        return torch.tensor(0.0, dtype=torch.float64)
    return _norm(grads, p)[0]


def _rescale_(grads: list[Tensor], total: float, parts: tuple[float, float] | None,
              max_norm: float, eps: float) -> None:
    """Algorithm 1 on finite `grads` whose `_norm` is `total` (`parts`: its scaled form)."""
    if math.isinf(max_norm) or not total >= max_norm:
        return
    if parts is not None and math.isinf(total):
        m, r = parts  # finite gradients whose norm exceeds the float range
        scale = (max_norm / m) / r
    else:
        denom = total + eps
        scale = max_norm / denom if denom > 0 else 0.0  # 0/0: all-zero gradients, threshold 0
    _scale_(grads, min(scale, 1.0))


def clip_grad_norm_(
    parameters: TensorOrTensors,
    max_norm: float,
    norm_type: float = 2.0,
    error_if_nonfinite: bool = False,
    eps: float = 1e-6,
) -> Tensor:
    r"""Algorithm 1: rescale all gradients in place if their global norm is $\ge$ `max_norm`.

    Args:
        parameters: a tensor or an iterable of tensors (read once) whose `.grad` is
            clipped; `None` gradients are skipped.
        max_norm: the threshold, $\ge 0$; `inf` disables clipping.
        norm_type: `1`, `2`, `inf` (or any positive float).
        error_if_nonfinite: raise `RuntimeError` if the total norm is NaN or infinite.
        eps: added to the norm in the scale factor (torch uses `1e-6`; `0` is Algorithm 1
            exactly).

    Returns:
        The total norm of the gradients before clipping, a float64 scalar tensor.

    Raises:
        ValueError: if `max_norm` is negative or NaN, `norm_type` is not positive, or
            `eps` is negative or not finite.
        RuntimeError: if the norm is non-finite and `error_if_nonfinite` is set.
    """
    max_norm = _check_threshold("max_norm", max_norm)
    p = _check_norm_type(norm_type)
    eps = _check_eps(eps)
    grads = _grads_of(_materialise(parameters))
    if not grads:
        return torch.tensor(0.0, dtype=torch.float64)
    total, parts = _norm(grads, p)
    # host sync: warning / raising / leaving non-finite gradients untouched is decided on the
    # host (torch avoids the sync by multiplying a clamped factor in, which writes NaN)
    total_f = float(total)
    if not math.isfinite(total_f) and parts is None:
        if error_if_nonfinite:
            raise RuntimeError(
                f"The total norm of order {p} for gradients from `parameters` "
                "is non-finite, so it cannot be clipped. To leave the gradients unchanged "
                "instead (with a warning), set `error_if_nonfinite=False`"
            )
        warnings.warn(f"gradient norm is {total_f}; gradients were left unchanged",
                      RuntimeWarning, stacklevel=2)
        return total
    _rescale_(grads, total_f, parts, max_norm, eps)
    return total


def clip_grad_value_(parameters: TensorOrTensors, clip_value: float) -> None:
    r"""Clamp every entry of the summed gradient, $g_i \leftarrow \max(-c, \min(c, g_i))$.

    This is `torch.nn.utils.clip_grad_value_`: it acts on $\partial\mathcal{E}/\partial\theta$
    after the sum over time of eq. (3). Mikolov's clipping of §3.1 instead clips each
    temporal component before that sum (`clip_temporal_contributions_`). Either way the
    direction of the gradient changes, unlike Algorithm 1.

    Args:
        parameters: a tensor or an iterable of tensors (read once); `None` gradients are
            skipped.
        clip_value: $c \ge 0$ (`inf`: nothing changes).

    Returns:
        None. Gradients are modified in place (NaN entries stay NaN, $\pm\infty$ become
        $\pm c$).

    Raises:
        ValueError: if `clip_value` is negative or NaN.
    """
    c = _check_threshold("clip_value", clip_value)
    for g in _grads_of(_materialise(parameters)):
        g.clamp_(min=-c, max=c)


def clip_temporal_contributions_(contributions: Tensor, clip_value: float) -> Tensor:
    r"""Mikolov's clipping (§3.1): clip each temporal component of eq. (4), then sum.

    With the temporal contributions
    $\mathbf{C}_{t,k} = \frac{\partial\mathcal{E}_t}{\partial\mathbf{x}_t}
    \frac{\partial\mathbf{x}_t}{\partial\mathbf{x}_k}\frac{\partial^+\mathbf{x}_k}{\partial\theta}$
    (`bptt.temporal_contributions`), the clipped gradient is
    $\sum_{t}\sum_{k\le t}\mathrm{clamp}(\mathbf{C}_{t,k}, -c, c)$, every entry of every
    term clamped separately.

    Args:
        contributions: `(T, T, *shape)`, indexed `[t-1, k-1]` (zero for $k > t$); clamped
            in place.
        clip_value: $c \ge 0$ (`inf`: the plain sum, eq. 3).

    Returns:
        The clipped gradient, `shape`.

    Raises:
        ValueError: if `clip_value` is negative or NaN, or `contributions` has fewer than
            two dimensions.
    """
    c = _check_threshold("clip_value", clip_value)
    if contributions.dim() < 2:
        raise ValueError(f"contributions must be (T, T, ...), got shape {tuple(contributions.shape)}")
    return contributions.clamp_(min=-c, max=c).sum((0, 1))


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
        parameters: a tensor or an iterable of tensors (read once), including `W_rec`.
        W_rec: the recurrent weight parameter.
        max_norm: the clipping threshold ($\ge 0$).
        norm_type: `1`, `2` or `inf`.
        fallback_threshold: norms above this trigger the fallback ($\ge 0$).
        shrink: the fallback's `W_rec.grad / W_rec` ratio (finite).
        eps: see `clip_grad_norm_`.

    Returns:
        The total norm before clipping (possibly non-finite), a float64 scalar tensor.

    Raises:
        ValueError: on a negative or NaN threshold, a non-finite `shrink`, or a `W_rec`
            that is not among `parameters`.
    """
    max_norm = _check_threshold("max_norm", max_norm)
    fallback_threshold = _check_threshold("fallback_threshold", fallback_threshold)
    p = _check_norm_type(norm_type)
    eps = _check_eps(eps)
    if not math.isfinite(float(shrink)):
        raise ValueError(f"shrink must be finite, got {shrink!r}")
    params = _materialise(parameters)
    if not any(q is W_rec for q in params):
        raise ValueError("W_rec must be one of `parameters`")
    grads = _grads_of(params)
    if not grads:
        return torch.tensor(0.0, dtype=torch.float64)
    total, parts = _norm(grads, p)
    total_f = float(total)  # host sync: the released code's branch is taken on the host
    if math.isfinite(total_f) and total_f <= fallback_threshold:
        _rescale_(grads, total_f, parts, max_norm, eps)
        return total
    with torch.no_grad():
        for q in params:
            if q is not W_rec and q.grad is not None:
                q.grad.zero_()
        W_rec.grad = (shrink * W_rec.detach()).clone()
    return total


__all__ = [
    "clip_grad_norm_",
    "clip_grad_norm_with_fallback_",
    "clip_grad_value_",
    "clip_temporal_contributions_",
    "grad_norm",
]
