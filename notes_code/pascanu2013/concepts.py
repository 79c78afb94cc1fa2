r"""Small worked examples for the concept pages (Jacobian matrix, basin of attraction).

The note's two "concepts I did not know yet" get executable answers here:

* a **Jacobian matrix** $J_{ij} = \partial f_i/\partial x_j$ of a 2-D map, computed by
  `torch.func.jacrev` and by hand; what a product of Jacobians does to the unit circle
  (it becomes an ellipse whose semi-axes are the singular values of the product);
* **basins of attraction** of a 2-unit RNN map $\mathbf{x}_{t+1} = \mathbf{W}\tanh(\mathbf{x}_t)$:
  which fixed point each starting state flows to;
* the curves of $\|\partial\mathbf{x}_t/\partial\mathbf{x}_k\|$ for several values of
  $\lambda_1\gamma$ used by the note's first figure.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor

from .activations import Activation
from .jacobians import JacobianNorms, jacobian_norms_vs_lag, scale_to
from .rnn import PascanuRNN


def example_map(x: Tensor) -> Tensor:
    r"""The 2-D map $f(x_1, x_2) = (x_1^2 x_2,\; 5x_1 + \sin x_2)$.

    Args:
        x: a point, `(2,)`.

    Returns:
        $f(\mathbf{x})$, `(2,)`.
    """
    return torch.stack([x[0] ** 2 * x[1], 5 * x[0] + torch.sin(x[1])])


def example_jacobian_by_hand(x: Tensor) -> Tensor:
    r"""$J_f = \begin{pmatrix} 2x_1x_2 & x_1^2 \\ 5 & \cos x_2 \end{pmatrix}$, written out by hand.

    Args:
        x: a point, `(2,)`.

    Returns:
        The Jacobian, `(2, 2)`.
    """
    return torch.stack([torch.stack([2 * x[0] * x[1], x[0] ** 2]),
                        torch.stack([torch.tensor(5.0, dtype=x.dtype), torch.cos(x[1])])])


def example_jacobian(x: Tensor) -> Tensor:
    r"""The same Jacobian by automatic differentiation (`torch.func.jacrev`).

    Args:
        x: a point, `(2,)`.

    Returns:
        The Jacobian, `(2, 2)`.
    """
    return torch.func.jacrev(example_map)(x)


def circle_images(J: Tensor, powers: tuple[int, ...] = (1, 2, 3), points: int = 200) -> list[Tensor]:
    r"""Images of the unit circle under $J^p$: ellipses with semi-axes $\sigma_i(J^p)$.

    Args:
        J: a square matrix, `(2, 2)`.
        powers: the powers $p$.
        points: points on the circle.

    Returns:
        One `(points, 2)` tensor per power.
    """
    theta = torch.linspace(0, 2 * torch.pi, points, dtype=J.dtype)
    circle = torch.stack([theta.cos(), theta.sin()], dim=1)  # (points, 2)
    return [circle @ torch.linalg.matrix_power(J, p).T for p in powers]


@dataclass
class Basins:
    r"""Which attractor each grid point flows to under $\mathbf{x}\mapsto\mathbf{W}\tanh(\mathbf{x})$.

    Attributes:
        xs: grid coordinates, `(m,)` (the grid is `xs × xs`).
        label: attractor index per grid point, `(m, m)`; -1 if not converged.
        attractors: the attractors found, `(k, 2)`.
    """

    xs: Tensor
    label: Tensor
    attractors: Tensor


def rnn_basins_2d(W: Tensor, extent: float = 3.0, m: int = 121, T: int = 200) -> Basins:
    r"""Basins of attraction of the input-free 2-unit RNN $\mathbf{x}_{t+1} = \mathbf{W}\tanh(\mathbf{x}_t)$.

    Every grid point is iterated `T` steps (vectorised); end points are grouped into
    attractors by rounding.

    Args:
        W: recurrent weights, `(2, 2)`.
        extent: the grid covers $[-e, e]^2$.
        m: grid points per axis.
        T: iterations.

    Returns:
        A `Basins`.
    """
    xs = torch.linspace(-extent, extent, m, dtype=torch.float64)
    X, Y = torch.meshgrid(xs, xs, indexing="xy")
    x = torch.stack([X.reshape(-1), Y.reshape(-1)], dim=1)  # (m*m, 2)
    W = W.to(torch.float64)
    for _ in range(T):
        x = torch.tanh(x) @ W.T
    step = torch.tanh(x) @ W.T
    converged = (step - x).norm(dim=1) < 1e-6
    keys = torch.round(x * 1e4) / 1e4
    attractors, inverse = torch.unique(keys[converged], dim=0, return_inverse=True)
    label = torch.full((x.shape[0],), -1, dtype=torch.long)
    label[converged] = inverse
    return Basins(xs, label.reshape(m, m), attractors)


def rnn_trajectory_2d(W: Tensor, x0: Tensor, T: int = 30) -> Tensor:
    r"""Orbit of $\mathbf{x}_{t+1} = \mathbf{W}\tanh(\mathbf{x}_t)$ from each start.

    Args:
        W: recurrent weights, `(2, 2)`.
        x0: starting states, `(S, 2)`.
        T: iterations.

    Returns:
        States `(T + 1, S, 2)`, the first row being `x0`.
    """
    xs = [x0.to(torch.float64)]
    W = W.to(torch.float64)
    for _ in range(T):
        xs.append(torch.tanh(xs[-1]) @ W.T)
    return torch.stack(xs)


def lag_curves(lambda1_gammas: tuple[float, ...] = (0.8, 1.0, 1.5, 3.0), n: int = 50, T: int = 60,
               activation: Activation = "tanh", seed: int = 0) -> list[JacobianNorms]:
    r"""$\|\partial\mathbf{x}_t/\partial\mathbf{x}_0\|$ against $t$ for a rescaled random $\mathbf{W}_{rec}$.

    The same Gaussian $\mathbf{W}_{rec}$ (and the same small random inputs) is rescaled
    so that $\lambda_1\gamma$ takes each value, making the curves comparable.

    Args:
        lambda1_gammas: values of $\lambda_1\gamma$.
        n: hidden units.
        T: sequence length.
        activation: `"tanh"`, `"sigmoid"` or `"linear"`.
        seed: seed of the weights and inputs.

    Returns:
        One `JacobianNorms` per value.
    """
    g = torch.Generator().manual_seed(seed)
    W = torch.randn(n, n, generator=g, dtype=torch.float64) / n**0.5
    W_in = torch.randn(n, 1, generator=g, dtype=torch.float64) * 0.1
    b = torch.zeros(n, dtype=torch.float64)
    u = torch.randn(T, 1, generator=g, dtype=torch.float64) * 0.1
    return [jacobian_norms_vs_lag(scale_to(W, lg, activation), W_in, b, u, activation)
            for lg in lambda1_gammas]


@dataclass(frozen=True)
class PowerNorms:
    r"""$\|\mathbf{W}^k\|_2$ for $k = 0, \dots, K$, with the two numbers that govern it.

    Attributes:
        rho: spectral radius $\rho(\mathbf{W}) = \max_i |\mu_i|$.
        lambda1: largest singular value $\lambda_1 = \|\mathbf{W}\|_2$.
        norms: $\|\mathbf{W}^k\|_2$, shape `(K + 1,)`; `norms[0] = 1`.
    """

    rho: float
    lambda1: float
    norms: Tensor


def power_norms(W: Tensor, K: int) -> PowerNorms:
    r"""Spectral norms of the powers $\mathbf{W}^0, \dots, \mathbf{W}^K$.

    Gelfand's formula $\|\mathbf{W}^k\|^{1/k} \to \rho$ is why the curves end up like $\rho^k$.

    Args:
        W: square matrix `(n, n)`.
        K: largest power.

    Returns:
        `PowerNorms` with $\rho$, $\lambda_1$ and the `K + 1` norms.

    Raises:
        ValueError: if `W` is not square or `K < 0`.
    """
    if W.ndim != 2 or W.shape[0] != W.shape[1] or K < 0:
        raise ValueError(f"need a square matrix and K >= 0, got shape {tuple(W.shape)} and K = {K}")
    W = W.to(torch.float64)
    P = torch.eye(W.shape[0], dtype=torch.float64)
    norms = [1.0]
    for _ in range(K):
        P = P @ W  # (n, n)
        norms.append(float(torch.linalg.matrix_norm(P, ord=2)))
    rho = float(torch.linalg.eigvals(W).abs().max())
    lambda1 = float(torch.linalg.matrix_norm(W, ord=2))
    return PowerNorms(rho, lambda1, torch.tensor(norms, dtype=torch.float64))


def power_trend(p: PowerNorms) -> str:
    r"""Korean phrase for what $\|\mathbf{W}^k\|$ does, read from the computed values.

    Args:
        p: from `power_norms`.

    Returns:
        "커진다" when $\rho > 1$ (the norms eventually grow like $\rho^k$), "줄어든다" when
        $\rho < 1$, "크기가 유지된다" when $\rho = 1$ (within $10^{-9}$); with "처음에는 커졌다가"
        in front when the norms first rise above 1 although $\rho < 1$.
    """
    if abs(p.rho - 1.0) < 1e-9:
        return "크기가 유지된다"
    if p.rho > 1.0:
        return "커진다"
    if float(p.norms.max()) > 1.0 + 1e-9:
        return "처음에는 커졌다가 줄어든다"
    return "줄어든다"


def spectral_examples() -> list[tuple[str, Tensor]]:
    r"""The spectral-radius page's three matrices, with their Korean names.

    A Gaussian $50\times 50$ matrix scaled by $1/\sqrt{50}$ (seed 0: $\rho \approx 1.05$),
    the paper's smart tanh initialisation ($\rho = 0.95$) and a non-normal $2\times 2$
    shear ($\rho = 0.9$, $\lambda_1 \approx 3.4$).

    Returns:
        `[(name, W), ...]` in float64.
    """
    g = torch.Generator().manual_seed(0)
    W_gauss = torch.randn(50, 50, generator=g, dtype=torch.float64) / 50**0.5
    W_smart = PascanuRNN.smart_tanh_init(6, 50, 4, generator=1, dtype=torch.float64).W_rec.detach()
    W_shear = torch.tensor([[0.9, 3.0], [0.0, 0.9]], dtype=torch.float64)
    return [("가우스 50×50", W_gauss), ("smart tanh 초기화", W_smart), ("2×2 전단(shear)", W_shear)]
