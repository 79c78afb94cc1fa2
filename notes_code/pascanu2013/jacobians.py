r"""# Step Jacobians and the vanishing / exploding conditions (eqs. 5-7)

Differentiating eq. (2) once gives the step Jacobian. In the column-vector convention
used by this code ($\mathbf{J}_{ij} = \partial x_{k+1,i}/\partial x_{k,j}$),

$$
\frac{\partial \mathbf{x}_{k+1}}{\partial \mathbf{x}_k}
= \mathbf{W}_{rec}\,\mathrm{diag}\big(\sigma'(\mathbf{x}_k)\big).
$$

Gradients are then *row* vectors multiplied from the right,
$\boldsymbol\delta_{k} = \boldsymbol\delta_{k+1}\,\partial\mathbf{x}_{k+1}/\partial\mathbf{x}_k$;
with gradients as columns one uses the transpose
$\mathrm{diag}(\sigma'(\mathbf{x}_k))\,\mathbf{W}_{rec}^\top$. The paper prints
$\mathbf{W}_{rec}^\top\mathrm{diag}(\sigma'(\mathbf{x}_k))$ in eq. (5): the transposed
weight matrix of the column convention, with the diagonal factor written on the right.
As a matrix it equals neither form (the tests check this), but all three obey the
same bound $\|\cdot\| \le \|\mathbf{W}_{rec}\|\,\|\mathrm{diag}(\sigma')\| \le \lambda_1\gamma$,
which is all that §2.1 uses.

Long-range factors are products of these (eq. 5):
$\partial\mathbf{x}_t/\partial\mathbf{x}_k
= \prod_{t\ge i>k}\mathbf{W}_{rec}\mathrm{diag}(\sigma'(\mathbf{x}_{i-1}))$.
If $\|\mathrm{diag}(\sigma'(\mathbf{x}))\|\le\gamma$ (with $\gamma = 1$ for tanh and the
identity, $\gamma=\tfrac14$ for the logistic sigmoid) and $\lambda_1$ is the largest
singular value of $\mathbf{W}_{rec}$, sub-multiplicativity gives

$$
\left\|\frac{\partial \mathbf{x}_t}{\partial \mathbf{x}_k}\right\| \le (\lambda_1\gamma)^{t-k}.
$$

So $\lambda_1 < 1/\gamma$ is **sufficient** for the long-term factors to vanish
exponentially (eqs. 6-7), and, turned around, $\lambda_1 > 1/\gamma$ is **necessary**
for them to explode. Norms here are spectral norms.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor

from .activations import Activation, _check_activation, activation_derivative
from .recurrence import rnn_states


def gamma(activation: Activation) -> float:
    r"""Bound $\gamma = \max_x \sigma'(x)$ on the diagonal factor of eq. (5).

    Args:
        activation: `"tanh"`, `"sigmoid"` or `"linear"`.

    Returns:
        1 for tanh and the identity, 1/4 for the logistic sigmoid.
    """
    _check_activation(activation)
    return 0.25 if activation == "sigmoid" else 1.0


def singular_values(M: Tensor) -> Tensor:
    r"""Singular values, largest first.

    Args:
        M: matrices, `(..., n, m)`.

    Returns:
        Singular values, `(..., min(n, m))`.
    """
    return torch.linalg.svdvals(M)


def largest_singular_value(W: Tensor) -> float:
    r"""$\lambda_1$: the largest singular value (spectral norm) of `W`.

    Args:
        W: a matrix, `(n, m)`.

    Returns:
        $\lambda_1 = \|\mathbf{W}\|_2$.
    """
    return float(torch.linalg.matrix_norm(W.detach(), ord=2))


def scale_to(W: Tensor, lambda1_gamma: float, activation: Activation) -> Tensor:
    r"""Rescale `W` so that $\lambda_1(\mathbf{W})\,\gamma$ equals `lambda1_gamma`.

    Args:
        W: recurrent weights, `(n, n)`.
        lambda1_gamma: target value of $\lambda_1\gamma$.
        activation: decides $\gamma$.

    Returns:
        A new matrix `(n, n)`, a positive multiple of `W`.
    """
    return W * (lambda1_gamma / (largest_singular_value(W) * gamma(activation)))


def step_jacobian(W_rec: Tensor, x_k: Tensor, activation: Activation) -> Tensor:
    r"""Step Jacobian $\mathbf{W}_{rec}\mathrm{diag}(\sigma'(\mathbf{x}_k))$ of eq. (5).

    This is $\partial\mathbf{x}_{k+1}/\partial\mathbf{x}_k$ in the column convention.

    Args:
        W_rec: recurrent weights, `(n, n)`.
        x_k: states, `(..., n)` (any leading batch shape).
        activation: `"tanh"`, `"sigmoid"` or `"linear"`.

    Returns:
        Jacobians, `(..., n, n)`.
    """
    return W_rec * activation_derivative(x_k, activation).unsqueeze(-2)  # scales columns


def jacobian_products(
    W_rec: Tensor, x: Tensor, activation: Activation, k: int = 0, x0: Tensor | None = None
) -> Tensor:
    r"""The products $\partial\mathbf{x}_t/\partial\mathbf{x}_k$ of eq. (5) for $t = k..T$.

    Args:
        W_rec: recurrent weights, `(n, n)`.
        x: states $\mathbf{x}_1..\mathbf{x}_T$ of one sequence, `(T, n)`.
        activation: `"tanh"`, `"sigmoid"` or `"linear"`.
        k: start step, `0 <= k <= T` (`k = 0` is the initial state).
        x0: initial state `(n,)`; zeros when `None`.

    Returns:
        `P` of shape `(T - k + 1, n, n)`,
        `P[j]` $=\partial\mathbf{x}_{k+j}/\partial\mathbf{x}_k$
        (`P[0]` is the identity).
    """
    T, n = x.shape
    if not 0 <= k <= T:
        raise ValueError(f"k must be in [0, {T}], got {k}")
    if x0 is None:
        x0 = torch.zeros(n, dtype=x.dtype, device=x.device)
    all_x = torch.cat([x0.reshape(1, n), x])  # (T+1, n): x_0..x_T
    J = step_jacobian(W_rec, all_x[k:T], activation)  # (T-k, n, n): dx_{i+1}/dx_i, i = k..T-1
    P = [torch.eye(n, dtype=x.dtype, device=x.device)]
    for J_i in J.unbind(0):
        P.append(J_i @ P[-1])  # newest factor on the left
    return torch.stack(P)


def spectral_norms(M: Tensor) -> Tensor:
    r"""Spectral norms of a stack of matrices.

    Args:
        M: matrices, `(..., n, m)`.

    Returns:
        Norms, `(...)`.
    """
    return torch.linalg.matrix_norm(M, ord=2)


@dataclass
class JacobianNorms:
    r"""Norm of $\partial\mathbf{x}_{k+\ell}/\partial\mathbf{x}_k$ against the lag $\ell$.

    Attributes:
        lags: $\ell = 0..T-k$, `(L,)` integer.
        norms: $\|\partial\mathbf{x}_{k+\ell}/\partial\mathbf{x}_k\|_2$, `(L,)`.
        bound: $(\lambda_1\gamma)^\ell$, `(L,)`.
        lambda1_gamma: $\lambda_1\gamma$.
    """

    lags: Tensor
    norms: Tensor
    bound: Tensor
    lambda1_gamma: float


def jacobian_norms_vs_lag(
    W_rec: Tensor,
    W_in: Tensor,
    b: Tensor,
    u: Tensor,
    activation: Activation,
    k: int = 0,
    x0: Tensor | None = None,
) -> JacobianNorms:
    r"""Run one sequence and compare $\|\partial\mathbf{x}_t/\partial\mathbf{x}_k\|$ with the bound.

    Args:
        W_rec: recurrent weights, `(n, n)`.
        W_in: input weights, `(n, n_in)`.
        b: bias, `(n,)`.
        u: one input sequence, `(T, n_in)`.
        activation: `"tanh"`, `"sigmoid"` or `"linear"`.
        k: start step.
        x0: initial state `(n,)`; zeros when `None`.

    Returns:
        A `JacobianNorms` with lags, norms and the bound $(\lambda_1\gamma)^{t-k}$.
    """
    with torch.no_grad():
        x0_b = None if x0 is None else x0.reshape(1, -1)
        x = rnn_states(W_rec, W_in, b, u.unsqueeze(1), activation, x0_b)[:, 0]  # (T, n)
        P = jacobian_products(W_rec, x, activation, k, x0)
        norms = spectral_norms(P)
        lg = largest_singular_value(W_rec) * gamma(activation)
        lags = torch.arange(P.shape[0])
        bound = torch.tensor(lg, dtype=norms.dtype) ** lags.to(norms.dtype)
    return JacobianNorms(lags=lags, norms=norms, bound=bound, lambda1_gamma=lg)


__all__ = [
    "JacobianNorms",
    "gamma",
    "jacobian_norms_vs_lag",
    "jacobian_products",
    "largest_singular_value",
    "scale_to",
    "singular_values",
    "spectral_norms",
    "step_jacobian",
]
