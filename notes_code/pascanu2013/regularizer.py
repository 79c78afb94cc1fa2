r"""# The vanishing-gradient regulariser $\Omega$ (eqs. 9-10, §3.3)

To keep the error signal from fading as it travels back in time, the paper penalises
every step that changes its norm:

$$
\Omega = \sum_k \Omega_k = \sum_k \left(
\frac{\left\|\boldsymbol\delta_{k+1}\,\frac{\partial\mathbf{x}_{k+1}}{\partial\mathbf{x}_k}\right\|}
{\left\|\boldsymbol\delta_{k+1}\right\|} - 1\right)^2,
\qquad \boldsymbol\delta_{k+1} = \frac{\partial\mathcal{E}}{\partial\mathbf{x}_{k+1}},
$$

where $\boldsymbol\delta_{k+1}$ is the **total** derivative from BPTT (a row vector) and
$\boldsymbol\delta_{k+1}\partial\mathbf{x}_{k+1}/\partial\mathbf{x}_k =
(\boldsymbol\delta_{k+1}\mathbf{W}_{rec}) \odot \sigma'(\mathbf{x}_k)$ is a
vector-Jacobian product. Eq. (10) and the released code square both norms; that is
`squared=True` (the default), and `squared=False` is eq. (9). The sum runs over
$k = 0..T-1$, including the step from $\mathbf{x}_1$ back to $\mathbf{x}_0 = \mathbf{0}$
(factor $\sigma'(0)$), so there are $T$ terms per sequence, as in the code.

Eq. (10) differentiates only the explicit $\mathbf{W}_{rec}$: both $\mathbf{x}_k$ and
$\boldsymbol\delta_{k+1}$ are held **constant**. We get that by computing $\Omega$ from
*detached* $\boldsymbol\delta$ and $\sigma'(\mathbf{x}_k)$ and the live $\mathbf{W}_{rec}$;
autograd of the result (`omega`, `omega_grad_W_rec`) is
$\partial^+\Omega/\partial\mathbf{W}_{rec}$. All $T\cdot B$ terms come from one
`(T*B, n) @ (n, n)` product, with no loop over $k$.

Terms with $\|\boldsymbol\delta_{k+1}\|^2 <$ `bound` ($10^{-20}$ in the code) are masked
out. Two reductions:

* `"sum"`: eqs. (9)-(10), $\sum_k \Omega_k$ per sequence, averaged over the batch
  (sum over valid $k$, then mean over the $B$ sequences);
* `"mean"`: the released code, the mean over all valid (step, sequence) pairs, i.e.
  the sum divided by the number of valid pairs. The code's $\alpha$ multiplies this.

The released code measures the ratio for the post-activation states
$\mathbf{h}_k$ rather than $\mathbf{x}_k$: its term is
$\|(\partial\mathcal{E}/\partial\mathbf{x}_{k+1})\mathbf{W}_{rec}\|
/ \|\partial\mathcal{E}/\partial\mathbf{h}_{k+1}\|$,
so $\sigma'$ sits on the other side of the ratio. We follow the paper's $\mathbf{x}$ form.

Training on $\mathcal{E} + \alpha\Omega$ is `notes_code.pascanu2013.regularized_training`.
"""

from __future__ import annotations

from typing import Literal

import torch
from torch import Tensor

from .activations import Activation, activation_derivative

Reduction = Literal["sum", "mean", "none"]


def _d_sigma_prev(x: Tensor | None, x0: Tensor | None, activation: Activation,
                  d_sigma: Tensor | None) -> Tensor:
    """sigma'(x_k) for k = 0..T-1, (T, B, n), detached (given, or computed from x and x0)."""
    if d_sigma is not None:
        return d_sigma.detach()
    if x is None:
        raise ValueError("either x or d_sigma is needed")
    x = x.detach()
    _, B, n = x.shape
    if x0 is None:
        x0 = torch.zeros(B, n, dtype=x.dtype, device=x.device)
    x_prev = torch.cat([x0.detach().expand(B, n).unsqueeze(0), x[:-1]])  # (T, B, n): x_k
    return activation_derivative(x_prev, activation)


def _vjp_parts(
    W_rec: Tensor,
    x: Tensor | None,
    delta: Tensor,
    activation: Activation,
    x0: Tensor | None,
    d_sigma: Tensor | None = None,
) -> tuple[Tensor, Tensor]:
    """Return (delta_{k+1} dx_{k+1}/dx_k, delta_{k+1}) for k = 0..T-1, both (T, B, n)."""
    delta = delta.detach()
    T, B, n = delta.shape
    d_sigma = _d_sigma_prev(x, x0, activation, d_sigma)  # constant, eq. (10)
    # (T*B, n) @ (n, n): delta_{k+1} W_rec for every k and example, live in W_rec
    back = (delta.reshape(T * B, n) @ W_rec).view(T, B, n) * d_sigma  # (T, B, n)
    return back, delta


def omega_terms(
    W_rec: Tensor,
    x: Tensor,
    delta: Tensor,
    activation: Activation,
    x0: Tensor | None = None,
    squared: bool = True,
    bound: float = 1e-20,
    d_sigma: Tensor | None = None,
) -> tuple[Tensor, Tensor]:
    r"""The individual $\Omega_k$ for every step and sequence, and the validity mask.

    Args:
        W_rec: recurrent weights `(n, n)` (gradients flow into it).
        x: states $\mathbf{x}_{1..T}$, `(T, B, n)` (treated as constant).
        delta: total $\partial\mathcal{E}/\partial\mathbf{x}_{1..T}$, `(T, B, n)` (constant).
        activation: `"tanh"`, `"sigmoid"` or `"linear"`.
        x0: initial state `(B, n)`; zeros when `None`.
        squared: square both norms (eq. 10, released code) or not (eq. 9).
        bound: terms with $\|\boldsymbol\delta_{k+1}\|^2 <$ `bound` are masked.
        d_sigma: optional precomputed $\sigma'(\mathbf{x}_k)$ for $k = 0..T-1$, `(T, B, n)`
            (then `x` and `x0` are not used).

    Returns:
        `(terms, mask)`, both `(T, B)`; row `k` is $\Omega_k$ (zero where masked) and
        `mask` is boolean.
    """
    back, delta = _vjp_parts(W_rec, x, delta, activation, x0, d_sigma)
    den = delta.square().sum(-1)  # (T, B): ||delta_{k+1}||^2
    mask = den >= bound
    den = torch.where(mask, den, torch.ones_like(den))  # no 0/0 even in masked entries
    if squared:
        ratio = back.square().sum(-1) / den
    else:
        ratio = torch.linalg.vector_norm(back, dim=-1) / den.sqrt()
    terms = torch.where(mask, (ratio - 1.0).square(), torch.zeros_like(ratio))
    return terms, mask


def omega(
    W_rec: Tensor,
    x: Tensor,
    delta: Tensor,
    activation: Activation,
    x0: Tensor | None = None,
    squared: bool = True,
    reduction: Reduction = "mean",
    bound: float = 1e-20,
    d_sigma: Tensor | None = None,
) -> Tensor:
    r"""$\Omega$ with $\mathbf{x}$ and $\boldsymbol\delta$ held constant (eqs. 9-10).

    Differentiating the result with autograd gives $\partial^+\Omega/\partial\mathbf{W}_{rec}$.

    Args:
        W_rec: recurrent weights `(n, n)`.
        x: states, `(T, B, n)`.
        delta: total $\partial\mathcal{E}/\partial\mathbf{x}_t$, `(T, B, n)`.
        activation: `"tanh"`, `"sigmoid"` or `"linear"`.
        x0: initial state `(B, n)`; zeros when `None`.
        squared: eq. (10) (`True`) or eq. (9) (`False`).
        reduction: `"mean"` (code: mean over valid pairs), `"sum"` (sum over $k$, mean over
            the batch) or `"none"` (the `(T, B)` terms).
        bound: mask threshold on $\|\boldsymbol\delta_{k+1}\|^2$.
        d_sigma: optional precomputed $\sigma'(\mathbf{x}_k)$, `(T, B, n)`.

    Returns:
        A scalar (or `(T, B)` for `"none"`).
    """
    terms, mask = omega_terms(W_rec, x, delta, activation, x0, squared, bound, d_sigma)
    if reduction == "none":
        return terms
    if reduction == "sum":
        return terms.sum() / terms.shape[1]
    if reduction == "mean":
        return terms.sum() / mask.sum().clamp_min(1)
    raise ValueError(f"reduction must be 'sum', 'mean' or 'none', got {reduction!r}")


def omega_grad_W_rec(
    W_rec: Tensor,
    x: Tensor,
    delta: Tensor,
    activation: Activation,
    x0: Tensor | None = None,
    squared: bool = True,
    reduction: Reduction = "mean",
    bound: float = 1e-20,
) -> Tensor:
    r"""The gradient $\partial^+\Omega/\partial\mathbf{W}_{rec}$ of eq. (10).

    $\mathbf{x}_k$ and $\boldsymbol\delta$ are held constant.

    Args:
        W_rec: recurrent weights `(n, n)`.
        x: states, `(T, B, n)`.
        delta: total $\partial\mathcal{E}/\partial\mathbf{x}_t$, `(T, B, n)`.
        activation: `"tanh"`, `"sigmoid"` or `"linear"`.
        x0: initial state `(B, n)`; zeros when `None`.
        squared: eq. (10) or eq. (9).
        reduction: `"mean"` or `"sum"`.
        bound: mask threshold.

    Returns:
        The gradient, `(n, n)`.
    """
    W = W_rec.detach().requires_grad_(True)
    with torch.enable_grad():
        value = omega(W, x, delta, activation, x0, squared, reduction, bound)
        (g,) = torch.autograd.grad(value, W)
    return g


def _omega_and_grad_from(
    delta: Tensor,
    v_first: Tensor,
    v_rest: Tensor,
    d_sigma: Tensor,
    squared: bool,
    reduction: str,
    bound: float,
) -> tuple[Tensor, Tensor, Tensor]:
    """Closed-form Omega, dOmega/dW_rec and the (T, B) norm ratios from v_0 (B, n) and
    v_{1..T-1} (T-1, B, n). `d_sigma` (T, B, n) is used as scratch space and overwritten.
    """
    T, B, n = delta.shape
    den = torch.linalg.vector_norm(delta, dim=-1).square()  # (T, B): d_k = ||delta_{k+1}||^2
    a = torch.cat([torch.linalg.vector_norm(v_first, dim=-1).square().unsqueeze(0),
                   torch.linalg.vector_norm(v_rest, dim=-1).square()])  # (T, B): ||v_k||^2
    mask = den >= bound
    den = torch.where(mask, den, torch.ones_like(den))
    if squared:
        r = a / den
        coef = 4.0 * (r - 1.0) / den
    else:
        r = (a / den).sqrt()
        coef = 2.0 * (r - 1.0) / (a * den).sqrt().clamp_min(torch.finfo(a.dtype).tiny)
    terms = torch.where(mask, (r - 1.0).square(), torch.zeros_like(r))
    if reduction == "sum":
        scale = 1.0 / B
    elif reduction == "mean":
        scale = 1.0 / float(mask.sum().clamp_min(1))
    else:
        raise ValueError(f"reduction must be 'sum' or 'mean', got {reduction!r}")
    coef = torch.where(mask, coef * scale, torch.zeros_like(coef)).unsqueeze(-1)  # (T, B, 1)
    G = d_sigma  # becomes c_k v_k * sigma'(x_k) = dOmega / d(delta_{k+1} W_rec), (T, B, n)
    G[0].mul_(v_first)
    G[1:].mul_(v_rest)
    G.mul_(coef)
    grad = delta.reshape(T * B, n).t() @ G.view(T * B, n)  # (n, T*B) @ (T*B, n)
    ratios = torch.where(mask, (a / den).sqrt(), torch.full_like(a, float("nan")))
    return terms.sum() * scale, grad, ratios


def omega_and_grad(
    W_rec: Tensor,
    x: Tensor | None,
    delta: Tensor,
    activation: Activation,
    x0: Tensor | None = None,
    squared: bool = True,
    reduction: Literal["sum", "mean"] = "mean",
    bound: float = 1e-20,
    d_sigma: Tensor | None = None,
) -> tuple[Tensor, Tensor]:
    r"""$\Omega$ and $\partial^+\Omega/\partial\mathbf{W}_{rec}$ in closed form (no autograd).

    With $\mathbf{v}_k = (\boldsymbol\delta_{k+1}\mathbf{W}_{rec}) \odot \sigma'(\mathbf{x}_k)$,
    $a_k = \|\mathbf{v}_k\|^2$, $d_k = \|\boldsymbol\delta_{k+1}\|^2$ and, for eq. (10),
    $\Omega_k = (a_k/d_k - 1)^2$:

    $$
    \frac{\partial^+\Omega_k}{\partial\mathbf{W}_{rec}}
    = \boldsymbol\delta_{k+1}^\top \big(c_k\, \mathbf{v}_k \odot \sigma'(\mathbf{x}_k)\big),
    \qquad c_k = \frac{4}{d_k}\Big(\frac{a_k}{d_k} - 1\Big),
    $$

    summed over $k$ and the batch with one `(n, T*B) @ (T*B, n)` product (for eq. (9),
    $c_k = 2(\sqrt{a_k/d_k} - 1)/\sqrt{a_k d_k}$). The tests check it against autograd of
    `omega`; training uses it because it skips autograd's bookkeeping.

    Args:
        W_rec: recurrent weights `(n, n)`.
        x: states, `(T, B, n)` (unused when `d_sigma` is given).
        delta: total $\partial\mathcal{E}/\partial\mathbf{x}_t$, `(T, B, n)`.
        activation: `"tanh"`, `"sigmoid"` or `"linear"`.
        x0: initial state `(B, n)`; zeros when `None`.
        squared: eq. (10) (`True`) or eq. (9).
        reduction: `"mean"` (code) or `"sum"` (paper).
        bound: mask threshold on $\|\boldsymbol\delta\|^2$.
        d_sigma: optional precomputed $\sigma'(\mathbf{x}_k)$, `(T, B, n)`.

    Returns:
        `(omega, grad)`: a scalar and an `(n, n)` tensor.
    """
    with torch.no_grad():
        d_sigma = _d_sigma_prev(x, x0, activation, d_sigma)  # (T, B, n)
        back, delta = _vjp_parts(W_rec, None, delta, activation, None, d_sigma)  # v_k
        om, grad, _ = _omega_and_grad_from(delta, back[0], back[1:], d_sigma.clone(), squared,
                                           reduction, bound)
        return om, grad


def backprop_ratios(
    W_rec: Tensor,
    x: Tensor | None,
    delta: Tensor,
    activation: Activation,
    x0: Tensor | None = None,
    d_sigma: Tensor | None = None,
) -> Tensor:
    r"""Per-step norm ratios of the back-propagated error.

    The ratio at step $k$ is
    $\|\boldsymbol\delta_{k+1}\partial\mathbf{x}_{k+1}/\partial\mathbf{x}_k\|
    / \|\boldsymbol\delta_{k+1}\|$, the quantity inside eq. (9).

    A ratio below 1 means the error shrinks on its way from step $k+1$ to step $k$.

    Args:
        W_rec: recurrent weights `(n, n)`.
        x: states, `(T, B, n)` (may be `None` when `d_sigma` is given).
        delta: total $\partial\mathcal{E}/\partial\mathbf{x}_t$, `(T, B, n)`.
        activation: `"tanh"`, `"sigmoid"` or `"linear"`.
        x0: initial state `(B, n)`; zeros when `None`.
        d_sigma: optional precomputed $\sigma'(\mathbf{x}_k)$, `(T, B, n)`.

    Returns:
        Ratios `(T, B)` for $k = 0..T-1$ (NaN where $\boldsymbol\delta_{k+1} = 0$).
    """
    with torch.no_grad():
        back, delta = _vjp_parts(W_rec, x, delta, activation, x0, d_sigma)
        return torch.linalg.vector_norm(back, dim=-1) / torch.linalg.vector_norm(delta, dim=-1)


__all__ = [
    "backprop_ratios",
    "omega",
    "omega_and_grad",
    "omega_grad_W_rec",
    "omega_terms",
]
