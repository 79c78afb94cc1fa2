r"""# The error-surface wall of one unit and what clipping does there (§2.3, Fig. 6)

§2.3 trains the two parameters $(w, b)$ of the one-unit map of eq. (8),
$x_t = w\,\sigma(x_{t-1}) + b$, on a single target:

$$
\mathcal{E}(w, b) = \big(\sigma(x_{50}) - 0.7\big)^2, \qquad x_0 = 0.5.
$$

**The wall (Fig. 6).** With $x_0 = 0.5$ and the logistic sigmoid, the loss
$\mathcal{E}_{50} = (\sigma(x_{50}) - 0.7)^2$ over $(w, b)$ is two flat plateaus (one per
attractor) separated by a steep wall where the basin boundary crosses $x_0$. In the
linear case with $b = 0$, $x_t = x_0 w^t$,
$\partial x_t/\partial w = t x_0 w^{t-1}$ and
$\partial^2 x_t/\partial w^2 = t(t-1) x_0 w^{t-2}$: when the first derivative explodes so
does the curvature. A gradient step taken on the wall is huge and throws the
parameters far away; clipping the gradient norm (Algorithm 1) caps the step.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor

from .activations import Activation, activation_fn
from .clipping import clip_grad_norm_


def error_surface(w: Tensor, b: Tensor, T: int = 50, x0: float = 0.5, target: float = 0.7,
                  activation: Activation = "sigmoid") -> Tensor:
    r"""$\mathcal{E}(w, b) = (\sigma(x_T) - \text{target})^2$ for eq. (8), element-wise.

    Args:
        w: recurrent weights, any shape (broadcast with `b`).
        b: biases.
        T: number of steps (50 in Fig. 6).
        x0: initial state (0.5).
        target: target for $\sigma(x_T)$ (0.7).
        activation: `"sigmoid"` (Fig. 6) or `"tanh"`.

    Returns:
        Losses with the broadcast shape, differentiable in `w` and `b`.
    """
    sigma = activation_fn(activation)
    w, b = torch.broadcast_tensors(w, b)
    x = torch.full_like(w, x0)
    for _ in range(T):
        x = w * sigma(x) + b
    return (sigma(x) - target).square()


@dataclass
class ErrorSurface:
    r"""The loss and its gradient norm on a `(w, b)` grid.

    Attributes:
        w: weights, `(nw,)`.
        b: biases, `(nb,)`.
        loss: $\mathcal{E}$, `(nw, nb)`.
        grad_norm: $\|\nabla_{(w,b)}\mathcal{E}\|$, `(nw, nb)`.
    """

    w: Tensor
    b: Tensor
    loss: Tensor
    grad_norm: Tensor


def error_surface_grid(w_values: Tensor, b_values: Tensor, T: int = 50, x0: float = 0.5,
                       target: float = 0.7, activation: Activation = "sigmoid") -> ErrorSurface:
    r"""Evaluate the Fig. 6 surface and its gradient norm on a grid (one autograd call).

    Args:
        w_values: weights, `(nw,)`.
        b_values: biases, `(nb,)`.
        T: steps.
        x0: initial state.
        target: target value.
        activation: `"sigmoid"` or `"tanh"`.

    Returns:
        An `ErrorSurface`.
    """
    w_values = torch.as_tensor(w_values, dtype=torch.float64)
    b_values = torch.as_tensor(b_values, dtype=torch.float64)
    W, B = torch.meshgrid(w_values, b_values, indexing="ij")
    W = W.clone().requires_grad_(True)
    B = B.clone().requires_grad_(True)
    loss = error_surface(W, B, T, x0, target, activation)
    gw, gb = torch.autograd.grad(loss.sum(), [W, B])  # points are independent
    return ErrorSurface(w_values, b_values, loss.detach(), torch.hypot(gw, gb))


def line_derivatives(w: Tensor, b: Tensor, direction: tuple[float, float], T: int = 50,
                     x0: float = 0.5, target: float = 0.7,
                     activation: Activation = "sigmoid") -> tuple[Tensor, Tensor, Tensor]:
    r"""Loss, slope and curvature along a direction $\mathbf{v}$ at each point.

    Slope is $\nabla\mathcal{E}\cdot\mathbf{v}$ and curvature $\mathbf{v}^\top\mathbf{H}\mathbf{v}$
    (exact, by double autograd), with $\mathbf{v}$ normalised.

    Args:
        w: weights, `(m,)`.
        b: biases, `(m,)`.
        direction: $(v_w, v_b)$.
        T: steps.
        x0: initial state.
        target: target value.
        activation: `"sigmoid"` or `"tanh"`.

    Returns:
        `(loss, slope, curvature)`, each `(m,)`.
    """
    v = torch.tensor(direction, dtype=torch.float64)
    v = v / v.norm()
    s = torch.zeros_like(torch.as_tensor(w, dtype=torch.float64), requires_grad=True)
    loss = error_surface(w + s * v[0], b + s * v[1], T, x0, target, activation)
    (d1,) = torch.autograd.grad(loss.sum(), s, create_graph=True)
    (d2,) = torch.autograd.grad(d1.sum(), s)
    return loss.detach(), d1.detach(), d2


@dataclass
class Trajectory:
    r"""A gradient-descent run on the Fig. 6 surface.

    Attributes:
        params: $(w, b)$ after each step, first row the start, `(steps + 1, 2)`.
        loss: loss at each row of `params`, `(steps + 1,)`.
        grad_norm: gradient norm before clipping at each step, `(steps,)`.
    """

    params: Tensor
    loss: Tensor
    grad_norm: Tensor


def descend(w0: float, b0: float, lr: float, steps: int, clip: float | None = None,
            T: int = 50, x0: float = 0.5, target: float = 0.7,
            activation: Activation = "sigmoid") -> Trajectory:
    r"""Plain gradient descent on $\mathcal{E}(w,b)$, optionally with norm clipping.

    Args:
        w0: initial weight.
        b0: initial bias.
        lr: learning rate.
        steps: number of updates.
        clip: Algorithm 1 threshold, or `None` for unclipped descent.
        T: steps of the recurrence.
        x0: initial state.
        target: target value.
        activation: `"sigmoid"` or `"tanh"`.

    Returns:
        A `Trajectory`.
    """
    theta = torch.tensor([w0, b0], dtype=torch.float64, requires_grad=True)
    params, losses, norms = [theta.detach().clone()], [], []
    for _ in range(steps):
        theta.grad = None
        loss = error_surface(theta[0], theta[1], T, x0, target, activation)
        loss.backward()
        losses.append(loss.detach())
        if clip is None:
            norms.append(theta.grad.norm())
        else:
            norms.append(clip_grad_norm_(theta, clip))
        with torch.no_grad():
            theta -= lr * theta.grad
        params.append(theta.detach().clone())
    with torch.no_grad():
        losses.append(error_surface(theta[0], theta[1], T, x0, target, activation))
    return Trajectory(torch.stack(params), torch.stack(losses), torch.stack(norms))


@dataclass
class WallDemo:
    r"""Unclipped and clipped descent from the same start (Fig. 6's solid and dashed paths).

    Attributes:
        unclipped: plain gradient descent.
        clipped: gradient descent with norm clipping.
        lr: learning rate used by both.
        clip: clipping threshold.
    """

    unclipped: Trajectory
    clipped: Trajectory
    lr: float
    clip: float


def wall_demo(w0: float = 4.7, b0: float = -2.8, lr: float = 0.05, steps: int = 100,
              clip: float = 1.0) -> WallDemo:
    r"""Gradient descent that hits the wall, with and without clipping.

    From the default start (found by a scan over starts and learning rates) both runs
    walk down the lower plateau ($\sigma(x_{50})$ near 0, loss about 0.38) towards the
    valley at the foot of the wall. Unclipped, the step taken on the wall (gradient
    norm about 650) is more than 30 parameter units long and lands on the far plateau
    (loss 0.09) where the gradient vanishes, so it never comes back. Clipped, every step
    is at most `lr * clip` long and the run stays in the valley (final loss below 0.01).

    Args:
        w0: initial weight.
        b0: initial bias.
        lr: learning rate.
        steps: updates per run.
        clip: clipping threshold.

    Returns:
        A `WallDemo`.
    """
    return WallDemo(descend(w0, b0, lr, steps), descend(w0, b0, lr, steps, clip), lr, clip)

__all__ = [
    "ErrorSurface",
    "Trajectory",
    "WallDemo",
    "descend",
    "error_surface",
    "error_surface_grid",
    "line_derivatives",
    "wall_demo",
]
