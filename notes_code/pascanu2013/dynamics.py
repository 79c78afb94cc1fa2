r"""# One hidden unit: attractors and basin boundaries (§2.2, Fig. 3)

The dynamical-systems view of §2.2 uses a single unit with a fixed recurrent weight
(Doya, 1993; Fig. 3):

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

The error surface of the same unit over $(w, b)$ (§2.3, Fig. 6) is
`notes_code.pascanu2013.error_surface`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .activations import Activation


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


__all__ = [
    "Bifurcation",
    "FixedPoint",
    "basin_of",
    "bifurcation_diagram",
    "bistable_range",
    "fixed_points",
    "iterate",
    "one_unit_map",
]
