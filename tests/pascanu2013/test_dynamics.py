"""Tests for notes_code.pascanu2013.dynamics: one-unit dynamics (§2.2, Fig. 3) and the
error-surface wall (§2.3, Fig. 6)."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from notes_code.pascanu2013.dynamics import (
    basin_of,
    bifurcation_diagram,
    bistable_range,
    descend,
    error_surface,
    error_surface_grid,
    fixed_points,
    iterate,
    line_derivatives,
    wall_demo,
)


def _n_stable(w: float, b: float, activation: str) -> int:
    return sum(f.stable for f in fixed_points(w, b, activation))


def _edge(w: float, activation: str, inside: float, outside: float) -> float:
    """Bisect on 'two stable fixed points' (found by root finding) between two biases."""
    assert _n_stable(w, inside, activation) == 2 and _n_stable(w, outside, activation) == 1
    for _ in range(40):
        mid = 0.5 * (inside + outside)
        if _n_stable(w, mid, activation) == 2:
            inside = mid
        else:
            outside = mid
    return 0.5 * (inside + outside)


def _scan_edges(w: float, activation: str, lo: float, hi: float) -> tuple[float, float]:
    """Bistable interval from direct fixed-point counts (independent of the w σ'(x) = 1 formula)."""
    centre = 0.5 * (lo + hi)
    return _edge(w, activation, centre, lo), _edge(w, activation, centre, hi)


@pytest.mark.claim("pascanu2013/doya-bistable-range")
def test_logistic_bistable_range() -> None:
    """§2.2, Fig. 3 (Doya 1993): with w = 5 the logistic unit x_t = 5σ(x_{t-1}) + b has two
    attractors exactly for b ∈ (−2.656, −2.344) (saddle-nodes at 5σ'(x) = 1), checked against
    a direct count of stable fixed points on a b grid."""
    b_lo, b_hi = bistable_range(5.0, "sigmoid")
    assert abs(b_lo - (-2.656)) < 1e-3 and abs(b_hi - (-2.344)) < 1e-3
    s_lo, s_hi = _scan_edges(5.0, "sigmoid", -2.8, -2.2)
    assert abs(s_lo - b_lo) < 1e-3 and abs(s_hi - b_hi) < 1e-3
    assert _n_stable(5.0, -2.5, "sigmoid") == 2
    assert _n_stable(5.0, -2.7, "sigmoid") == 1 and _n_stable(5.0, -2.3, "sigmoid") == 1
    with pytest.raises(ValueError):
        bistable_range(3.9, "sigmoid")  # w ≤ 4: never bistable


def test_logistic_below_w4_never_bistable() -> None:
    """§2.2: σ' ≤ 1/4 so with w ≤ 4 the logistic map has slope ≤ 1 and a single fixed point."""
    for b in np.linspace(-4, 0, 81):
        assert len(fixed_points(3.9, float(b), "sigmoid")) == 1


@pytest.mark.claim("pascanu2013/tanh-bistable-range")
def test_tanh_bistable_range() -> None:
    """§2.2 (tanh counterpart, derived): with w = 5 and tanh the unit is bistable for
    |b| < 3.029, from 5(1 − tanh²x) = 1; checked against a direct fixed-point count."""
    b_lo, b_hi = bistable_range(5.0, "tanh")
    assert abs(b_hi - 3.029) < 1e-3 and abs(b_lo + 3.029) < 1e-3
    s_lo, s_hi = _scan_edges(5.0, "tanh", -3.5, 3.5)
    assert abs(s_lo - b_lo) < 1e-3 and abs(s_hi - b_hi) < 1e-3


def test_fixed_points_are_fixed_and_classified() -> None:
    """§2.2: each returned x* satisfies x* = wσ(x*) + b; stability is |wσ'(x*)| < 1."""
    for act, w, b in [("sigmoid", 5.0, -2.5), ("tanh", 5.0, 0.7), ("sigmoid", 2.0, -1.0)]:
        fps = fixed_points(w, b, act)
        for f in fps:
            nxt = iterate(w, b, f.x, 1, act)[1]
            assert abs(nxt - f.x) < 1e-10
            assert f.stable == (abs(f.slope) < 1)
    assert [f.stable for f in fixed_points(5.0, -2.5, "sigmoid")] == [True, False, True]


@pytest.mark.claim("pascanu2013/basin-boundary")
@pytest.mark.parametrize("activation,b", [("sigmoid", -2.5), ("sigmoid", -2.4), ("tanh", 1.0)])
def test_basin_boundary_separates_attractors(activation: str, b: float) -> None:
    """§2.2, Fig. 3: in the bistable range the unstable fixed point is the basin boundary:
    orbits started just below and just above it converge to different attractors."""
    w = 5.0
    fps = fixed_points(w, b, activation)
    low, mid, high = fps
    assert low.stable and not mid.stable and high.stable
    for eps in (1e-3, 1e-6):
        orbit = iterate(w, b, np.array([mid.x - eps, mid.x + eps]), 2000, activation)
        assert abs(orbit[-1, 0] - low.x) < 1e-8
        assert abs(orbit[-1, 1] - high.x) < 1e-8
    basins = basin_of(w, b, np.array([mid.x - 1e-3, mid.x + 1e-3, low.x - 5, high.x + 5]),
                      activation)
    assert basins.tolist() == [0, 1, 0, 1]


def test_bifurcation_diagram_branches() -> None:
    """§2.2, Fig. 3: for w = 5 the upper branch exists only for b > b_1, the lower one only for
    b < b_2, and the unstable branch (dashed) only in between, between the two attractors."""
    b_lo, b_hi = bistable_range(5.0)
    bs = np.linspace(-3.5, -1.5, 201)
    d = bifurcation_diagram(bs, w=5.0)
    inside = (bs > b_lo + 1e-3) & (bs < b_hi - 1e-3)
    outside = (bs < b_lo - 1e-3) | (bs > b_hi + 1e-3)
    assert np.all(~np.isnan(d.unstable[inside])) and np.all(np.isnan(d.unstable[outside]))
    assert np.all(d.stable_low[inside] < d.unstable[inside])
    assert np.all(d.unstable[inside] < d.stable_high[inside])
    assert np.all(np.isnan(d.stable_high[bs < b_lo - 1e-3]))
    assert np.all(np.isnan(d.stable_low[bs > b_hi + 1e-3]))


@pytest.mark.claim("pascanu2013/error-surface-wall")
def test_linear_analysis_derivatives_explode_together() -> None:
    """§2.3: in the linear case x_t = x_0 w^t, ∂x_t/∂w = t x_0 w^{t−1} and
    ∂²x_t/∂w² = t(t−1) x_0 w^{t−2} (checked with autograd), so when the first derivative
    explodes (w > 1) the curvature does too."""
    t, x0 = 50, 0.5
    for w_val in (0.9, 1.1):
        w = torch.tensor(w_val, dtype=torch.float64, requires_grad=True)
        x = torch.tensor(x0, dtype=torch.float64)
        for _ in range(t):
            x = w * x  # linear unit, b = 0
        (d1,) = torch.autograd.grad(x, w, create_graph=True)
        (d2,) = torch.autograd.grad(d1, w)
        d1 = d1.detach()
        assert float(d1) == pytest.approx(t * x0 * w_val ** (t - 1), rel=1e-12)
        assert float(d2) == pytest.approx(t * (t - 1) * x0 * w_val ** (t - 2), rel=1e-12)
    assert t * x0 * 1.1 ** (t - 1) > 50 and t * (t - 1) * x0 * 1.1 ** (t - 2) > 2000


@pytest.mark.claim("pascanu2013/error-surface-wall")
def test_wall_curvature_grows_with_gradient() -> None:
    """§2.3, Fig. 6: along a line crossing the wall (w = 4.7, b varied) the slope and the
    curvature blow up together: log|E'| and log|E''| are strongly correlated, and the
    curvature next to the gradient peak dwarfs the curvature on the plateaus."""
    b = torch.linspace(-3.0, -2.0, 2001, dtype=torch.float64)
    w = torch.full_like(b, 4.7)
    loss, d1, d2 = line_derivatives(w, b, (0.0, 1.0))
    a1, a2 = d1.abs().numpy(), d2.abs().numpy()
    corr = np.corrcoef(np.log(a1 + 1e-300), np.log(a2 + 1e-300))[0, 1]
    assert corr > 0.7
    peak = int(a1.argmax())
    assert a1[peak] > 100  # a wall: the gradient is hundreds of times the plateau's
    assert a1[peak] > 1e3 * np.median(a1)
    near = a2[max(peak - 20, 0): peak + 21].max()
    assert near > 1e3 * np.median(a2)
    # cross-check autograd's slope with finite differences of the loss
    fd = np.gradient(loss.numpy(), b.numpy())
    far = np.abs(np.arange(len(b)) - peak) > 50
    np.testing.assert_allclose(a1[far][::50], np.abs(fd[far][::50]), rtol=1e-2, atol=1e-5)


def test_error_surface_grid_matches_pointwise() -> None:
    """§2.3, Fig. 6: the vectorised surface E = (σ(x_50) − 0.7)², x_0 = 0.5, and its gradient
    norm agree with a point-by-point scalar evaluation."""
    ws = torch.tensor([1.0, 4.7, 8.0], dtype=torch.float64)
    bs = torch.tensor([-3.0, -2.4, 0.5], dtype=torch.float64)
    surf = error_surface_grid(ws, bs)
    for i, w in enumerate(ws.tolist()):
        for j, b in enumerate(bs.tolist()):
            x = 0.5
            for _ in range(50):
                x = w / (1 + math.exp(-x)) + b
            assert float(surf.loss[i, j]) == pytest.approx((1 / (1 + math.exp(-x)) - 0.7) ** 2,
                                                           rel=1e-10, abs=1e-15)
            wt = torch.tensor(w, dtype=torch.float64, requires_grad=True)
            bt = torch.tensor(b, dtype=torch.float64, requires_grad=True)
            gw, gb = torch.autograd.grad(error_surface(wt, bt), [wt, bt])
            assert float(surf.grad_norm[i, j]) == pytest.approx(math.hypot(gw, gb), rel=1e-10)


@pytest.mark.claim("pascanu2013/clipping-stabilizes-wall")
def test_clipping_stabilizes_descent_at_the_wall() -> None:
    """§2.3 and §3.2, Fig. 6: unclipped gradient descent that reaches the wall takes one huge
    step (> 30 units in (w, b)) and is thrown onto a far plateau where it stays; with norm
    clipping every step is ≤ lr·threshold, the run stays near the valley and ends at a much
    lower loss."""
    demo = wall_demo()
    un, cl = demo.unclipped, demo.clipped
    step_un = (un.params[1:] - un.params[:-1]).norm(dim=1)
    step_cl = (cl.params[1:] - cl.params[:-1]).norm(dim=1)
    cap = demo.lr * demo.clip
    assert float(step_cl.max()) <= cap * (1 + 1e-9)
    assert float(step_un.max()) > 30.0 > 100 * cap
    assert float(un.grad_norm.max()) > 100.0  # it did hit the wall
    start = un.params[0]
    assert float((un.params[-1] - start).norm()) > 20.0  # thrown far away, never came back
    assert float((cl.params - start).norm(dim=1).max()) < 1.0  # stays in the region
    assert float(cl.loss[-1]) < 0.01 < 0.05 < float(un.loss[-1])
    # the far plateau is flat: the unclipped run is stuck (tiny gradients afterwards)
    assert float(un.grad_norm[-10:].max()) < 1e-3
    # both runs are identical until the wall is reached
    first_big = int(torch.nonzero(un.grad_norm >= demo.clip)[0])
    assert first_big > 5
    torch.testing.assert_close(un.params[: first_big + 1], cl.params[: first_big + 1])


def test_descend_without_wall_is_unaffected_by_clipping() -> None:
    """§3.2: when the gradient stays below the threshold, clipped and unclipped descent
    coincide exactly."""
    a = descend(2.0, -1.0, 0.1, 20)
    b = descend(2.0, -1.0, 0.1, 20, clip=1.0)
    assert float(a.grad_norm.max()) < 1.0
    assert torch.equal(a.params, b.params)
