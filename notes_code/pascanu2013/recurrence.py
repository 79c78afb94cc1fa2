r"""# The recurrence of eq. (2), in functional form

The pre-activation state $\mathbf{x}_t$ of Pascanu et al. (2013) follows

$$
\mathbf{x}_t = \mathbf{W}_{rec}\sigma(\mathbf{x}_{t-1}) + \mathbf{W}_{in}\mathbf{u}_t + \mathbf{b},
\qquad t = 1, \dots, T,
$$

from $\mathbf{x}_0$ ($\mathbf{0}$ unless given). The input drive
$\mathbf{W}_{in}\mathbf{u}_t + \mathbf{b}$ does not depend on the state, so it is
computed for all $t$ in one matrix product; the loop then costs one `addmm` and one
$\sigma$ per step.

Batched rows use $\mathbf{x}^\top$, so the code reads
`x_t = h_{t-1} @ W_rec.T + W_in u_t + b` with $\mathbf{h}_{t-1} = \sigma(\mathbf{x}_{t-1})$;
inputs are `(T, B, n_in)` and states `(T, B, n)`.

Because every $\mathbf{x}_t$ is a tensor the later steps consume, the gradient of a
loss with respect to it is the **total** derivative
$\partial\mathcal{E}/\partial\mathbf{x}_t$ of BPTT (eqs. 3-5). `rnn_state_list`
exposes those tensors; `notes_code.pascanu2013.rnn.PascanuRNN` wraps the same loop with
parameters and output heads.
"""

from __future__ import annotations

import torch
from torch import Tensor

from .activations import Activation, activation_fn


def _run(
    W_rec: Tensor,
    W_in: Tensor,
    b: Tensor,
    u: Tensor,
    activation: Activation,
    x0: Tensor | None,
) -> tuple[list[Tensor], list[Tensor], Tensor]:
    """The recurrence: states x_1..x_T, recurrent inputs sigma(x_0..x_{T-1}), and the drive."""
    sigma = activation_fn(activation)
    T, B, n_in = u.shape
    n = W_rec.shape[0]
    # W_in u_t + b for every t at once: (T*B, n_in) @ (n_in, n) -> (T, B, n)
    drive = torch.addmm(b, u.reshape(T * B, n_in), W_in.t()).view(T, B, n)
    if x0 is None:
        x0 = torch.zeros((), dtype=drive.dtype, device=drive.device)
    h = sigma(x0).expand(B, n)  # (B, n) = sigma(x_0)
    W_rec_t = W_rec.t()
    states: list[Tensor] = []
    h_prev: list[Tensor] = []
    steps = drive.unbind(0)
    last = len(steps) - 1
    for t, drive_t in enumerate(steps):
        h_prev.append(h)
        x_t = torch.addmm(drive_t, h, W_rec_t)  # (B, n) = W_rec sigma(x_{t-1}) + W_in u_t + b
        states.append(x_t)
        if t < last:
            h = sigma(x_t)
    return states, h_prev, drive


def rnn_state_list(
    W_rec: Tensor,
    W_in: Tensor,
    b: Tensor,
    u: Tensor,
    activation: Activation,
    x0: Tensor | None = None,
) -> list[Tensor]:
    r"""Run eq. (2) and return the states $\mathbf{x}_1,\dots,\mathbf{x}_T$ as a list.

    The list elements are the very tensors the recurrence consumes, so
    `torch.autograd.grad(loss, states)` returns the *total* derivatives
    $\partial\mathcal{E}/\partial\mathbf{x}_t$ that BPTT and $\Omega$ need.

    The input projection $\mathbf{W}_{in}\mathbf{u}_t + \mathbf{b}$ is computed for all
    $t$ in one matrix product; the loop then costs one `addmm` and one $\sigma$ per step.

    Args:
        W_rec: recurrent weights, `(n, n)`.
        W_in: input weights, `(n, n_in)`.
        b: bias, `(n,)`.
        u: inputs, `(T, B, n_in)`.
        activation: `"tanh"`, `"sigmoid"` or `"linear"`.
        x0: initial state $\mathbf{x}_0$, `(B, n)` or `(n,)`; zeros when `None`.

    Returns:
        `T` tensors of shape `(B, n)`.
    """
    return _run(W_rec, W_in, b, u, activation, x0)[0]


def rnn_states(
    W_rec: Tensor,
    W_in: Tensor,
    b: Tensor,
    u: Tensor,
    activation: Activation,
    x0: Tensor | None = None,
) -> Tensor:
    r"""Functional form of eq. (2): all pre-activation states stacked.

    Args:
        W_rec: recurrent weights, `(n, n)`.
        W_in: input weights, `(n, n_in)`.
        b: bias, `(n,)`.
        u: inputs, `(T, B, n_in)`.
        activation: `"tanh"`, `"sigmoid"` or `"linear"`.
        x0: initial state, `(B, n)` or `(n,)`; zeros when `None`.

    Returns:
        States $\mathbf{x}_{1..T}$, `(T, B, n)`.
    """
    return torch.stack(rnn_state_list(W_rec, W_in, b, u, activation, x0))


__all__ = [
    "rnn_state_list",
    "rnn_states",
]
