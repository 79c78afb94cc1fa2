"""Tests for notes_code.pascanu2013.dynamics: one-unit dynamics (§2.2, Fig. 3)."""

from __future__ import annotations

import numpy as np
import pytest

from notes_code.pascanu2013.dynamics import (
    basin_of,
    bifurcation_diagram,
    bistable_range,
    fixed_points,
    iterate,
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


@pytest.mark.claim("pascanu2013/doya-bistable-range", modules=["pascanu2013.dynamics"])
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


@pytest.mark.claim("pascanu2013/tanh-bistable-range", modules=["pascanu2013.dynamics"])
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


@pytest.mark.claim("pascanu2013/basin-boundary", modules=["pascanu2013.dynamics"])
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
