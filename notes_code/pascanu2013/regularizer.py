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

For training, `loss_and_grads` uses two shortcuts, both tested against the autograd
version. The gradient is written out (`omega_and_grad`), and the BPTT recursion
$\boldsymbol\delta_k = \partial^+\mathcal{E}/\partial\mathbf{x}_k +
\boldsymbol\delta_{k+1}\partial\mathbf{x}_{k+1}/\partial\mathbf{x}_k$ is used in
reverse: the back-propagated vector in the numerator of $\Omega_k$ is just
$\boldsymbol\delta_k$ minus the immediate derivative. With a cost at the last step
only, $\Omega_k = (\|\boldsymbol\delta_k\|^2/\|\boldsymbol\delta_{k+1}\|^2 - 1)^2$ for
$k\ge1$: the regulariser compares the norms of consecutive total gradients.

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
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import torch
from torch import Tensor

from .clipping import clip_grad_norm_
from .rnn import Activation, PascanuRNN, activation_derivative, derivative_from_output

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


@dataclass
class OmegaStep:
    r"""Result of one forward/backward pass with the regulariser.

    Attributes:
        loss: the head loss $\mathcal{E}$ (detached scalar).
        omega: $\Omega$ (detached scalar).
        grads: parameter name → $\nabla\mathcal{E}$, plus
            $\alpha\,\partial^+\Omega/\partial\mathbf{W}_{rec}$ for `W_rec`.
        delta: total $\partial\mathcal{E}/\partial\mathbf{x}_t$ for $t = 1..T$, `(T, B, n)`.
        ratios: $\|\boldsymbol\delta_{k+1}\partial\mathbf{x}_{k+1}/\partial\mathbf{x}_k\|
            / \|\boldsymbol\delta_{k+1}\|$ for $k = 0..T-1$, `(T, B)` (NaN where masked).
    """

    loss: Tensor
    omega: Tensor
    grads: dict[str, Tensor]
    delta: Tensor
    ratios: Tensor


def loss_and_grads(
    model: PascanuRNN,
    u: Tensor,
    target: Tensor,
    alpha: float,
    squared: bool = True,
    reduction: Reduction = "mean",
    bound: float = 1e-20,
) -> OmegaStep:
    r"""One forward and one backward pass for $\mathcal{E} + \alpha\Omega$ (eq. 10 for $\Omega$).

    A single `torch.autograd.grad` call returns both the parameter gradients and the
    total $\boldsymbol\delta_t$ (the gradient with respect to `RNNOutput.drive`).
    $\Omega$ and $\partial^+\Omega/\partial\mathbf{W}_{rec}$ then come in closed form (as in
    `omega_and_grad`) from the detached $\boldsymbol\delta$ and the forward's
    $\sigma(\mathbf{x}_k)$, and the gradient is added to `W_rec`'s only.

    Args:
        model: the network.
        u: inputs, `(T, B, n_in)`.
        target: targets for `model.loss`.
        alpha: weight $\alpha$ of $\Omega$ (`0` gives MSGD gradients, $\Omega$ still reported).
        squared: eq. (10) (`True`) or eq. (9).
        reduction: `"mean"` (code) or `"sum"` (paper).
        bound: mask threshold on $\|\boldsymbol\delta\|^2$.

    Returns:
        An `OmegaStep`.
    """
    names = [name for name, _ in model.named_parameters()]
    params = [p for _, p in model.named_parameters()]
    out = model(u)
    loss = model.loss(out.y, target)
    # d loss / d drive is the total delta_t for every t, already one (T, B, n) tensor;
    # d loss / d x (the stacked states read by a per-step head) is the immediate d+E/dx_t
    per_step = model.head == "softmax"
    inputs = [*params, out.drive] + ([out.x] if per_step else [])
    grads = torch.autograd.grad(loss, inputs)
    param_grads = dict(zip(names, grads[: len(params)], strict=True))
    delta = grads[len(params)]  # (T, B, n)
    immediate = grads[len(params) + 1] if per_step else None  # (T, B, n)
    with torch.no_grad():
        # sigma'(x_k) from the forward's sigma(x_k) (no second evaluation of sigma)
        d_sigma = derivative_from_output(torch.stack(out.h_prev), model.activation, inplace=True)
        # BPTT: delta_k = d+E/dx_k + v_k with v_k = delta_{k+1} dx_{k+1}/dx_k, so for k >= 1
        # the vectors Omega needs are already known; only v_0 needs a product with W_rec.
        v_first = (delta[0] @ model.W_rec.detach()) * d_sigma[0]  # (B, n)
        v_rest = delta[:-1] if immediate is None else delta[:-1] - immediate[:-1]
        om, g_om, ratios = _omega_and_grad_from(delta, v_first, v_rest, d_sigma, squared,
                                                reduction, bound)
    if alpha:
        param_grads["W_rec"].add_(g_om, alpha=alpha)  # a fresh tensor from autograd.grad
    return OmegaStep(loss.detach(), om.detach(), param_grads, delta, ratios)


def backward_with_omega(
    model: PascanuRNN,
    u: Tensor,
    target: Tensor,
    alpha: float,
    squared: bool = True,
    reduction: Reduction = "mean",
    bound: float = 1e-20,
) -> OmegaStep:
    r"""Like `loss.backward()` for $\mathcal{E} + \alpha\Omega$: accumulates into `.grad`.

    Args:
        model: the network.
        u: inputs, `(T, B, n_in)`.
        target: targets for `model.loss`.
        alpha: weight of $\Omega$.
        squared: eq. (10) or eq. (9).
        reduction: `"mean"` or `"sum"`.
        bound: mask threshold.

    Returns:
        The `OmegaStep`. Where a `.grad` was `None` it is set to the step's own gradient
        tensor (shared, not copied), as `backward()` would allocate it.
    """
    step = loss_and_grads(model, u, target, alpha, squared, reduction, bound)
    for name, p in model.named_parameters():
        g = step.grads[name]
        if p.grad is None:
            p.grad = g  # fresh from autograd: no copy (the step's dict shares it)
        else:
            p.grad.add_(g)
    return step


@dataclass
class OmegaDemo:
    r"""Output of `omega_training_demo`.

    Attributes:
        omega: $\Omega$ at every step, first entry before training, `(steps + 1,)`.
        loss: task loss at the same points, `(steps + 1,)`.
        ratios_before: batch-mean per-step ratio at $k = 0..T-1$ before training, `(T,)`.
        ratios_after: the same after training, `(T,)`.
        config: the arguments the demo ran with.
    """

    omega: Tensor
    loss: Tensor
    ratios_before: Tensor
    ratios_after: Tensor
    config: dict[str, float | str] = field(default_factory=dict)


def omega_training_demo(
    n_hidden: int = 20,
    T: int = 30,
    batch: int = 20,
    steps: int = 100,
    alpha: float = 4.0,
    lr: float = 0.01,
    clip: float = 1.0,
    seed: int = 0,
    init: Literal["basic_tanh", "sigmoid"] = "basic_tanh",
) -> OmegaDemo:
    r"""A few MSGD-CR steps on a small RNN, tracking $\Omega$ and the per-step ratios.

    The task is a toy memory problem: Gaussian inputs, predict the first input at the
    last step (`last_linear` head). At initialisation every backward step shrinks the
    error (ratios well below one); training on $\mathcal{E} + \alpha\Omega$ pulls the
    per-step ratios towards one. (With the "sigmoid" initialisation the ratios start
    near $0.015$, where the gradient of $\Omega$ is itself tiny: it needs `lr=0.1`.)

    Args:
        n_hidden: hidden units.
        T: sequence length.
        batch: minibatch size.
        steps: number of SGD updates.
        alpha: weight of $\Omega$.
        lr: learning rate.
        clip: norm-clipping threshold (Algorithm 1).
        seed: random seed for the weights and data.
        init: `"basic_tanh"` or `"sigmoid"` initialisation (§4.1.1).

    Returns:
        An `OmegaDemo`.
    """
    g = torch.Generator().manual_seed(seed)
    make = PascanuRNN.basic_tanh_init if init == "basic_tanh" else PascanuRNN.sigmoid_init
    model = make(1, n_hidden, 1, head="last_linear", generator=g, dtype=torch.float64)

    def batch_data() -> tuple[Tensor, Tensor]:
        u = torch.randn(T, batch, 1, generator=g, dtype=torch.float64)
        return u, u[0]

    def mean_ratio(step: OmegaStep) -> Tensor:
        return step.ratios.nanmean(1)

    omegas, losses = [], []
    u, y = batch_data()
    first = loss_and_grads(model, u, y, alpha)
    ratios_before = mean_ratio(first)
    for _ in range(steps):
        u, y = batch_data()
        model.zero_grad()
        step = backward_with_omega(model, u, y, alpha)
        omegas.append(step.omega)
        losses.append(step.loss)
        clip_grad_norm_(model.parameters(), clip)
        with torch.no_grad():
            for p in model.parameters():
                p -= lr * p.grad
    last = loss_and_grads(model, u, y, alpha)
    omegas.append(last.omega)
    losses.append(last.loss)
    config = {"n_hidden": n_hidden, "T": T, "batch": batch, "steps": steps, "alpha": alpha,
              "lr": lr, "clip": clip, "seed": seed, "init": init}
    return OmegaDemo(torch.stack(omegas), torch.stack(losses), ratios_before, mean_ratio(last),
                     config)


__all__ = [
    "OmegaDemo",
    "OmegaStep",
    "backprop_ratios",
    "backward_with_omega",
    "loss_and_grads",
    "omega",
    "omega_and_grad",
    "omega_grad_W_rec",
    "omega_terms",
    "omega_training_demo",
]
