r"""# One hidden unit: attractors, basin boundaries and the error-surface wall (§2.2-2.3)

The dynamical-systems view of §2.2 uses a single unit with a fixed recurrent weight
(Doya, 1993; Fig. 3), and §2.3 trains that unit's two parameters (Fig. 6):

$$
x_t = w\,\sigma(x_{t-1}) + b. \tag{8}
$$

**Fixed points** solve $x^* = w\sigma(x^*) + b$ and are stable when
$|w\sigma'(x^*)| < 1$. For $w > 0$ the map is increasing, so between two stable fixed
points sits an unstable one, the **boundary between their basins**: orbits started
below it go to the lower attractor, above it to the upper one.

**Bistable range.** A pair of fixed points is born or dies (saddle-node) where the
map touches the diagonal, $w\sigma'(x) = 1$. Solving for $x$ and putting it back,
$b = x - w\sigma(x)$. For the logistic sigmoid, $\sigma(1-\sigma) = 1/w$ gives
$\sigma = \tfrac12(1\pm\sqrt{1-4/w})$, so bistability needs $w > 4$; with $w = 5$ the
range is $b \in (-2.656, -2.344)$. For tanh, $1-\tanh^2 = 1/w$ needs $w > 1$; with
$w=5$ it is $|b| < 3.029$.

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

import math
from dataclasses import dataclass

import numpy as np
import torch
from torch import Tensor

from .clipping import clip_grad_norm_
from .rnn import Activation, activation_fn


def _np_sigma(x: np.ndarray, activation: Activation) -> np.ndarray:
    if activation == "sigmoid":
        return 0.5 * (1.0 + np.tanh(0.5 * x))  # logistic, without overflow
    if activation == "tanh":
        return np.tanh(x)
    if activation == "linear":
        return np.asarray(x, dtype=np.float64)
    raise ValueError(f"unknown activation {activation!r}")


def _np_dsigma(x: np.ndarray, activation: Activation) -> np.ndarray:
    if activation == "sigmoid":
        s = _np_sigma(x, activation)
        return s * (1.0 - s)
    if activation == "tanh":
        return 1.0 - np.tanh(x) ** 2
    return np.ones_like(np.asarray(x, dtype=np.float64))


def one_unit_map(x: np.ndarray | float, w: float, b: float,
                 activation: Activation = "sigmoid") -> np.ndarray:
    r"""One step of eq. (8), $x \mapsto w\sigma(x) + b$.

    Args:
        x: states, any shape.
        w: recurrent weight.
        b: bias.
        activation: `"sigmoid"`, `"tanh"` or `"linear"`.

    Returns:
        The next states, same shape as `x` (float64).
    """
    return w * _np_sigma(np.asarray(x, dtype=np.float64), activation) + b


def iterate(w: float, b: float, x0: np.ndarray | float, T: int,
            activation: Activation = "sigmoid") -> np.ndarray:
    r"""The orbit $x_0, x_1, \dots, x_T$ of eq. (8).

    Args:
        w: recurrent weight.
        b: bias.
        x0: initial state(s), any shape.
        T: number of steps.
        activation: `"sigmoid"`, `"tanh"` or `"linear"`.

    Returns:
        States `(T + 1, *shape(x0))`.
    """
    xs = [np.asarray(x0, dtype=np.float64)]
    for _ in range(T):
        xs.append(one_unit_map(xs[-1], w, b, activation))
    return np.stack(xs)


@dataclass
class FixedPoint:
    r"""A fixed point $x^* = w\sigma(x^*) + b$.

    Attributes:
        x: location $x^*$.
        slope: $w\sigma'(x^*)$, the map's derivative there.
        stable: whether $|w\sigma'(x^*)| < 1$.
    """

    x: float
    slope: float
    stable: bool


def fixed_points(w: float, b: float, activation: Activation = "sigmoid",
                 n_grid: int = 4001) -> list[FixedPoint]:
    r"""All fixed points of eq. (8), by sign changes on a grid refined with bisection.

    Every fixed point lies in $[b + w\min\sigma,\ b + w\max\sigma]$ for the bounded
    activations, so a grid over that interval finds all transversal roots (tangent
    roots, exactly at a bifurcation, can be missed).

    Args:
        w: recurrent weight.
        b: bias.
        activation: `"sigmoid"`, `"tanh"` or `"linear"`.
        n_grid: grid points.

    Returns:
        Fixed points sorted by location.
    """
    if activation == "linear":
        if w == 1.0:
            return []
        x = b / (1.0 - w)
        return [FixedPoint(x, w, abs(w) < 1.0)]
    lo_s, hi_s = (0.0, 1.0) if activation == "sigmoid" else (-1.0, 1.0)
    lo = b + min(w * lo_s, w * hi_s) - 1.0
    hi = b + max(w * lo_s, w * hi_s) + 1.0
    grid = np.linspace(lo, hi, n_grid)

    def g(x: np.ndarray) -> np.ndarray:
        return one_unit_map(x, w, b, activation) - x

    gv = g(grid)
    left = np.nonzero((gv[:-1] == 0) | (np.sign(gv[:-1]) * np.sign(gv[1:]) < 0))[0]
    exact = gv[left] == 0
    a, c = grid[left], grid[left + 1]  # brackets with g(a) g(c) <= 0
    ga = gv[left]
    for _ in range(80):  # bisection, vectorised over the brackets
        m = 0.5 * (a + c)
        gm = g(m)
        right = np.sign(gm) == np.sign(ga)  # the root is in [m, c]
        a, ga = np.where(right, m, a), np.where(right, gm, ga)
        c = np.where(right, c, m)
    roots = np.where(exact, grid[left], 0.5 * (a + c))
    slopes = w * _np_dsigma(roots, activation)
    return [FixedPoint(float(r), float(s), bool(abs(s) < 1.0)) for r, s in zip(roots, slopes,
                                                                             strict=True)]


def bistable_range(w: float, activation: Activation = "sigmoid") -> tuple[float, float]:
    r"""The interval of $b$ with two stable fixed points, from $w\sigma'(x) = 1$.

    Args:
        w: recurrent weight (> 4 for sigmoid, > 1 for tanh).
        activation: `"sigmoid"` or `"tanh"`.

    Returns:
        `(b_low, b_high)`.

    Raises:
        ValueError: if no bistability is possible for this `w` / activation.
    """
    if activation == "sigmoid":
        if w <= 4.0:
            raise ValueError("the logistic unit is bistable only for w > 4")
        r = math.sqrt(1.0 - 4.0 / w)
        s = np.array([(1.0 + r) / 2.0, (1.0 - r) / 2.0])  # sigma(x) at the tangencies
        x = np.log(s / (1.0 - s))
    elif activation == "tanh":
        if w <= 1.0:
            raise ValueError("the tanh unit is bistable only for w > 1")
        s = np.array([1.0, -1.0]) * math.sqrt(1.0 - 1.0 / w)
        x = np.arctanh(s)
    else:
        raise ValueError(f"no bistability for activation {activation!r}")
    bs = x - w * s  # b = x - w sigma(x) on the tangency
    return float(bs.min()), float(bs.max())


@dataclass
class Bifurcation:
    r"""Fixed points of eq. (8) along a grid of biases (Fig. 3). NaN where a branch is absent.

    Attributes:
        b: biases, `(m,)`.
        stable_low: lower attractor, `(m,)`.
        stable_high: upper attractor, `(m,)`.
        unstable: unstable fixed point (the basin boundary), `(m,)`.
        w: the recurrent weight.
    """

    b: np.ndarray
    stable_low: np.ndarray
    stable_high: np.ndarray
    unstable: np.ndarray
    w: float


def bifurcation_diagram(b_values: np.ndarray, w: float = 5.0,
                        activation: Activation = "sigmoid") -> Bifurcation:
    r"""Branches of fixed points against $b$ for fixed $w$ (Doya 1993; Fig. 3).

    A lone stable point is put on the upper branch when $b$ is above the centre of
    symmetry $-w\sigma(0)$ and on the lower one otherwise.

    Args:
        b_values: biases, `(m,)`.
        w: recurrent weight (5 in the paper).
        activation: `"sigmoid"` or `"tanh"`.

    Returns:
        A `Bifurcation`.
    """
    b_values = np.asarray(b_values, dtype=np.float64)
    low, high, mid = (np.full(b_values.shape, np.nan) for _ in range(3))
    centre = -w * float(_np_sigma(np.array(0.0), activation))
    for i, b in enumerate(b_values):
        fps = fixed_points(w, float(b), activation)
        stable = [f.x for f in fps if f.stable]
        unstable = [f.x for f in fps if not f.stable]
        if len(stable) >= 2:
            low[i], high[i] = stable[0], stable[-1]
        elif stable:
            (high if b > centre else low)[i] = stable[0]
        if unstable:
            mid[i] = unstable[0]
    return Bifurcation(b_values, low, high, mid, w)


def basin_of(w: float, b: float, x0: np.ndarray | float, activation: Activation = "sigmoid",
             T: int = 1000) -> np.ndarray:
    r"""Which attractor each initial state ends in (by iterating `T` steps).

    Args:
        w: recurrent weight.
        b: bias.
        x0: initial states, any shape.
        activation: `"sigmoid"` or `"tanh"`.
        T: iterations.

    Returns:
        Integer array shaped like `x0`: the index of the nearest stable fixed point
        (0 = lowest), or -1 if the orbit is not within 1e-6 of one.
    """
    attractors = np.array([f.x for f in fixed_points(w, b, activation) if f.stable])
    final = iterate(w, b, x0, T, activation)[-1]
    dist = np.abs(final[..., None] - attractors)
    idx = dist.argmin(-1)
    return np.where(dist.min(-1) < 1e-6, idx, -1)


# --------------------------------------------------------------------------- Fig. 6


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
    "Bifurcation",
    "ErrorSurface",
    "FixedPoint",
    "Trajectory",
    "WallDemo",
    "basin_of",
    "bifurcation_diagram",
    "bistable_range",
    "descend",
    "error_surface",
    "error_surface_grid",
    "fixed_points",
    "iterate",
    "line_derivatives",
    "one_unit_map",
    "wall_demo",
]
