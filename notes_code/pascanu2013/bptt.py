r"""# Back-propagation through time, written out (eqs. 3-5)

The cost is a sum over time, $\mathcal{E} = \sum_{1\le t\le T}\mathcal{E}_t$, and the
gradient splits the same way (eq. 3). Each $\mathcal{E}_t$ reaches a parameter
$\theta$ through every earlier state (eq. 4):

$$
\frac{\partial \mathcal{E}_t}{\partial \theta}
= \sum_{1 \le k \le t}
\frac{\partial \mathcal{E}_t}{\partial \mathbf{x}_t}
\frac{\partial \mathbf{x}_t}{\partial \mathbf{x}_k}
\frac{\partial^+ \mathbf{x}_k}{\partial \theta},
\qquad
\frac{\partial \mathbf{x}_t}{\partial \mathbf{x}_k}
= \prod_{t \ge i > k} \frac{\partial \mathbf{x}_i}{\partial \mathbf{x}_{i-1}}.
$$

Each product term is a *temporal contribution*: how $\theta$ at step $k$ affects the
cost at step $t$. The $\partial^+$ is the **immediate** derivative: $\mathbf{x}_{k-1}$
is held constant, so $\partial^+\mathbf{x}_k/\partial\mathbf{W}_{rec}$ only sees the
explicit $\mathbf{W}_{rec}\sigma(\mathbf{x}_{k-1})$ of eq. (2); row $i$ of it is
$\sigma(\mathbf{x}_{k-1})^\top$. Likewise $\partial^+\mathcal{E}/\partial\mathbf{x}_t$
(`dE_dx` below) is what the head gives at step $t$ alone, without the route through
$\mathbf{x}_{t+1}$.

Summing the temporal contributions over $t$ first gives the usual backward recursion
for the **total** derivative $\boldsymbol\delta_k = \partial\mathcal{E}/\partial\mathbf{x}_k$.
In the row-gradient convention,

$$
\boldsymbol\delta_T = \frac{\partial^+ \mathcal{E}}{\partial \mathbf{x}_T},
\qquad
\boldsymbol\delta_k = \frac{\partial^+ \mathcal{E}}{\partial \mathbf{x}_k}
+ \boldsymbol\delta_{k+1}\,\mathbf{W}_{rec}\,\mathrm{diag}(\sigma'(\mathbf{x}_k)),
$$

and the parameter gradients collect the immediate derivatives:

$$
\frac{\partial \mathcal{E}}{\partial \mathbf{W}_{rec}}
= \sum_k \boldsymbol\delta_k^\top \sigma(\mathbf{x}_{k-1})^\top,
\quad
\frac{\partial \mathcal{E}}{\partial \mathbf{W}_{in}}
= \sum_k \boldsymbol\delta_k^\top \mathbf{u}_k^\top,
\quad
\frac{\partial \mathcal{E}}{\partial \mathbf{b}} = \sum_k \boldsymbol\delta_k^\top .
$$

This module computes both forms on purpose: `explicit_bptt` is the recursion and
`temporal_contributions` is the literal double sum of eq. (4). The tests check both
against autograd.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor

from .activations import Activation, activation_derivative, activation_fn
from .recurrence import rnn_states
from .rnn import PascanuRNN


@dataclass
class BPTTResult:
    r"""Gradients from explicit BPTT.

    Attributes:
        W_rec: $\partial\mathcal{E}/\partial\mathbf{W}_{rec}$, `(n, n)`.
        W_in: $\partial\mathcal{E}/\partial\mathbf{W}_{in}$, `(n, n_in)`.
        b: $\partial\mathcal{E}/\partial\mathbf{b}$, `(n,)`.
        delta: total $\boldsymbol\delta_t = \partial\mathcal{E}/\partial\mathbf{x}_t$ for
            $t = 1..T$, `(T, B, n)`.
        delta0: $\partial\mathcal{E}/\partial\mathbf{x}_0$, `(B, n)`.
    """

    W_rec: Tensor
    W_in: Tensor
    b: Tensor
    delta: Tensor
    delta0: Tensor


def explicit_bptt(
    W_rec: Tensor,
    W_in: Tensor,
    b: Tensor,
    u: Tensor,
    dE_dx: Tensor,
    activation: Activation,
    x0: Tensor | None = None,
    x: Tensor | None = None,
) -> BPTTResult:
    r"""Explicit BPTT for eq. (2), given the immediate $\partial^+\mathcal{E}/\partial\mathbf{x}_t$.

    Runs under `torch.no_grad()`; everything is computed by hand.

    Args:
        W_rec: recurrent weights, `(n, n)`.
        W_in: input weights, `(n, n_in)`.
        b: bias, `(n,)`.
        u: inputs, `(T, B, n_in)`.
        dE_dx: immediate derivatives $\partial^+\mathcal{E}/\partial\mathbf{x}_t$, `(T, B, n)`
            (zero at steps where the cost does not look).
        activation: `"tanh"`, `"sigmoid"` or `"linear"`.
        x0: initial state `(B, n)`; zeros when `None`.
        x: forward states `(T, B, n)` if already computed (recomputed otherwise).

    Returns:
        A `BPTTResult` with the three parameter gradients and every total $\boldsymbol\delta_t$.
    """
    with torch.no_grad():
        T, B, _ = u.shape
        n = W_rec.shape[0]
        if x is None:
            x = rnn_states(W_rec, W_in, b, u, activation, x0)
        x = x.detach()
        if x0 is None:
            x0 = torch.zeros(B, n, dtype=x.dtype, device=x.device)
        x0 = x0.detach().expand(B, n)
        x_prev = torch.cat([x0.unsqueeze(0), x[:-1]])  # (T, B, n): x_{t-1} for t = 1..T
        h_prev = activation_fn(activation)(x_prev)  # (T, B, n): sigma(x_{t-1})
        d_sigma_prev = activation_derivative(x_prev, activation)  # (T, B, n): sigma'(x_{t-1})

        delta = torch.empty_like(dE_dx)  # (T, B, n)
        g_W_rec = torch.zeros_like(W_rec)
        g_W_in = torch.zeros_like(W_in)
        g_b = torch.zeros_like(b)
        # delta_{T+1} = 0: nothing flows back from beyond the last step.
        delta_next = torch.zeros(B, n, dtype=dE_dx.dtype, device=dE_dx.device)
        for t in range(T - 1, -1, -1):  # python index t <-> paper step k = t + 1
            # delta_k = d+E/dx_k + delta_{k+1} W_rec diag(sigma'(x_k))
            delta_t = dE_dx[t] + delta_next
            delta[t] = delta_t
            # immediate derivatives of x_k = W_rec sigma(x_{k-1}) + W_in u_k + b
            g_W_rec += delta_t.t() @ h_prev[t]  # (n, B) @ (B, n)
            g_W_in += delta_t.t() @ u[t]  # (n, B) @ (B, n_in)
            g_b += delta_t.sum(0)
            # the part of delta_{k-1} that flows back through the recurrence
            delta_next = (delta_t @ W_rec) * d_sigma_prev[t]  # (B, n)
        return BPTTResult(W_rec=g_W_rec, W_in=g_W_in, b=g_b, delta=delta, delta0=delta_next)


def immediate_state_grads(model: PascanuRNN, u: Tensor, target: Tensor) -> tuple[Tensor, Tensor]:
    r"""States and the head's immediate derivatives $\partial^+\mathcal{E}/\partial\mathbf{x}_t$.

    The stacked states are detached and made a leaf, so autograd through the head alone
    gives the immediate (not total) derivatives.

    Args:
        model: the network.
        u: inputs, `(T, B, n_in)`.
        target: targets accepted by `model.loss`.

    Returns:
        `(x, dE_dx)`: states `(T, B, n)` and immediate derivatives `(T, B, n)`.
    """
    with torch.no_grad():
        x = model(u).x
    x = x.detach().requires_grad_(True)
    loss = model.loss(model.readout(x), target)
    (dE_dx,) = torch.autograd.grad(loss, x)
    return x.detach(), dE_dx


def model_bptt(model: PascanuRNN, u: Tensor, target: Tensor) -> BPTTResult:
    r"""Explicit BPTT for a `PascanuRNN` and its head loss.

    Args:
        model: the network (its `x_0` is zero).
        u: inputs, `(T, B, n_in)`.
        target: targets accepted by `model.loss`.

    Returns:
        A `BPTTResult` for `W_rec`, `W_in`, `b` and the total $\boldsymbol\delta_t$.
    """
    x, dE_dx = immediate_state_grads(model, u, target)
    return explicit_bptt(model.W_rec, model.W_in, model.b, u, dE_dx, model.activation, x=x)


def temporal_contributions(
    W_rec: Tensor,
    W_in: Tensor,
    b: Tensor,
    u: Tensor,
    dE_dx: Tensor,
    activation: Activation,
    x0: Tensor | None = None,
) -> Tensor:
    r"""Every temporal contribution of eq. (4) to $\partial\mathcal{E}/\partial\mathbf{W}_{rec}$.

    Entry `[t-1, k-1]` is
    $\frac{\partial^+\mathcal{E}}{\partial \mathbf{x}_t}
    \frac{\partial \mathbf{x}_t}{\partial \mathbf{x}_k}
    \frac{\partial^+ \mathbf{x}_k}{\partial \mathbf{W}_{rec}}$ summed over the batch
    (zero for $k > t$). Summing over both indices gives the full gradient (eq. 3).
    Quadratic in `T`: meant for small illustrations and tests.

    Args:
        W_rec: recurrent weights, `(n, n)`.
        W_in: input weights, `(n, n_in)`.
        b: bias, `(n,)`.
        u: inputs, `(T, B, n_in)`.
        dE_dx: immediate derivatives, `(T, B, n)`.
        activation: `"tanh"`, `"sigmoid"` or `"linear"`.
        x0: initial state `(B, n)`; zeros when `None`.

    Returns:
        Contributions, `(T, T, n, n)` indexed `[t-1, k-1]`.
    """
    with torch.no_grad():
        T, B, _ = u.shape
        n = W_rec.shape[0]
        x = rnn_states(W_rec, W_in, b, u, activation, x0)  # (T, B, n)
        if x0 is None:
            x0 = torch.zeros(B, n, dtype=x.dtype, device=x.device)
        x_prev = torch.cat([x0.expand(B, n).unsqueeze(0), x[:-1]])  # (T, B, n)
        h_prev = activation_fn(activation)(x_prev)
        d_sigma = activation_derivative(x, activation)  # (T, B, n): sigma'(x_t)
        out = torch.zeros(T, T, n, n, dtype=x.dtype, device=x.device)
        for t in range(T):
            # v = dE_t/dx_t dx_t/dx_k, walked back one factor at a time (eq. 5)
            v = dE_dx[t]  # (B, n)
            for k in range(t, -1, -1):
                out[t, k] = v.t() @ h_prev[k]  # times d+x_k / dW_rec
                v = (v @ W_rec) * d_sigma[k - 1] if k > 0 else v
        return out


__all__ = ["BPTTResult", "explicit_bptt", "immediate_state_grads", "model_bptt", "temporal_contributions"]
