"""Tests for notes_code.pascanu2013.dynamics: one-unit dynamics (§2.2, Fig. 3)."""

from __future__ import annotations

import numpy as np
import pytest

from notes_code.pascanu2013.dynamics import (
    FixedPoint,
    basin_of,
    bifurcation_diagram,
    bistable_range,
    fixed_points,
    iterate,
    one_unit_map,
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


def test_linear_unit_closed_form() -> None:
    """Eq. (8), §2.2 with a linear σ: x_t = w^t x_0 + b (1 − w^t)/(1 − w); the single fixed
    point b/(1 − w) has slope w and is stable iff |w| < 1; w = 1 has no fixed point (b ≠ 0)."""
    t = np.arange(6)
    for w in (0.5, -0.8, 1.5):
        orbit = iterate(w, 0.3, np.array([2.0, -1.0]), 5, "linear")
        closed = w ** t[:, None] * np.array([2.0, -1.0]) + 0.3 * (1 - w ** t[:, None]) / (1 - w)
        np.testing.assert_allclose(orbit, closed, rtol=1e-13, atol=1e-13)
    for w, b, stable in [(0.5, 1.0, True), (2.0, 1.0, False), (-1.0, 1.0, False), (1.5, -1.0, False),
                         (-0.99, 0.5, True)]:
        (fp,) = fixed_points(w, b, "linear")
        assert fp == FixedPoint(b / (1.0 - w), w, stable)
        assert abs(one_unit_map(fp.x, w, b, "linear") - fp.x) < 1e-12
    assert fixed_points(1.0, 0.5, "linear") == []


def test_unknown_activation_is_refused() -> None:
    """§2.2 defines the unit for sigmoid, tanh (and linear, §2.1): other names raise a clear
    error instead of silently using one of them."""
    with pytest.raises(ValueError, match="^unknown activation 'relu'"):
        one_unit_map(0.0, 1.0, 0.0, "relu")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="^no bistability for activation 'linear'"):
        bistable_range(5.0, "linear")


def test_bistability_thresholds_and_messages() -> None:
    """§2.2: the logistic unit is bistable only for w > 4 (σ' ≤ 1/4), the tanh unit only for w > 1
    (tanh' ≤ 1); at the threshold itself the two tangencies coincide, so w = 4 (w = 1) is refused.
    Just above it the range is a small interval around −w/2 (around 0), checked against a direct
    count of stable fixed points."""
    with pytest.raises(ValueError, match="^the logistic unit is bistable only for w > 4$"):
        bistable_range(4.0, "sigmoid")
    with pytest.raises(ValueError, match="^the tanh unit is bistable only for w > 1$"):
        bistable_range(1.0, "tanh")
    b_lo, b_hi = bistable_range(1.5, "tanh")
    assert -0.25 < b_lo < -0.15 and b_hi == pytest.approx(-b_lo, rel=1e-12)
    s_lo, s_hi = _scan_edges(1.5, "tanh", -0.5, 0.5)
    assert abs(s_lo - b_lo) < 1e-3 and abs(s_hi - b_hi) < 1e-3


def test_logistic_is_the_default_unit() -> None:
    """§2.2, Fig. 3 uses the logistic unit with w = 5: that is what every function computes when
    no activation (and for the diagram no w) is given."""
    x = np.array([-1.0, 0.5, 2.0])
    np.testing.assert_array_equal(one_unit_map(x, 5.0, -2.5), one_unit_map(x, 5.0, -2.5, "sigmoid"))
    np.testing.assert_array_equal(iterate(5.0, -2.5, x, 3), iterate(5.0, -2.5, x, 3, "sigmoid"))
    assert fixed_points(5.0, -2.5) == fixed_points(5.0, -2.5, "sigmoid")
    assert [f.stable for f in fixed_points(5.0, -2.5)] == [True, False, True]  # tanh: one point
    assert basin_of(5.0, -2.5, x).tolist() == basin_of(5.0, -2.5, x, "sigmoid").tolist() == [0, 1, 1]
    bs = np.array([-3.0, -2.5, -2.0])
    d = bifurcation_diagram(bs)
    assert d.w == 5.0 and d.b is not None
    np.testing.assert_array_equal(d.b, bs)
    assert np.isnan(d.unstable[0]) and not np.isnan(d.unstable[1])  # w = 5: bistable at -2.5 only


def test_one_unit_map_is_float64() -> None:
    """Eq. (8): the map works in float64 whatever the input's dtype (float32 inputs give the
    float64 result, not a float32-rounded one)."""
    x32 = np.array([0.1, -0.7, 2.3], dtype=np.float32)
    out = one_unit_map(x32, 5.0, -2.5)
    assert out.dtype == np.float64
    np.testing.assert_array_equal(out, one_unit_map(x32.astype(np.float64), 5.0, -2.5))


def test_fixed_points_on_the_grid_are_exact() -> None:
    """§2.2: by the symmetry σ(−x) = 1 − σ(x), x* = 0 is exactly a fixed point of 5σ(x) − 2.5
    (the basin boundary of Fig. 3) and of 4σ(x) − 2, where the slope 4σ'(0) = 1 exactly (the
    cusp of the bifurcation); likewise of w tanh(x). All are returned exactly (the search grid
    is symmetric about them) and the slope-1 points are not linearly stable."""
    assert fixed_points(5.0, -2.5)[1] == FixedPoint(0.0, 1.25, False)
    assert fixed_points(4.0, -2.0) == [FixedPoint(0.0, 1.0, False)]
    # tanh is odd: x* = 0 is a fixed point of w tanh(x) for every w (slope w), found exactly
    assert fixed_points(5.0, 0.0, "tanh")[1] == FixedPoint(0.0, 5.0, False)
    assert fixed_points(1.0, 0.0, "tanh") == [FixedPoint(0.0, 1.0, False)]


def test_basin_tolerance_and_horizon() -> None:
    """basin_of (Fig. 3's basins): after exactly T steps an orbit is assigned to an attractor only
    when it is closer than 1e-6; otherwise -1. The linear unit x ↦ x/2 halves the distance to its
    attractor 0 exactly, so starting at d·2^T ends at d exactly."""
    T = 1000
    starts = np.array([0.75e-6, 1e-6, 1.5e-6, -0.25e-6]) * 2.0 ** T
    assert basin_of(0.5, 0.0, starts, "linear").tolist() == [0, -1, -1, 0]  # default T = 1000
    assert basin_of(0.5, 0.0, starts, "linear", T=T + 1).tolist() == [0, 0, 0, 0]
    assert basin_of(0.5, 0.0, starts, "linear", T=T - 1).tolist() == [-1, -1, -1, 0]


def test_basin_of_any_shape() -> None:
    """basin_of accepts initial states of any shape: a (2, 3) grid of starts gets, element by
    element, the basins of the same starts given one at a time (§2.2, bistable w = 5, b = −2.4)."""
    mid = fixed_points(5.0, -2.4)[1].x
    x0 = mid + np.array([[-2.0, -1e-3, 1e-3], [3.0, -0.5, 0.5]])
    got = basin_of(5.0, -2.4, x0)
    assert got.shape == (2, 3)
    assert got.tolist() == [[int(basin_of(5.0, -2.4, float(v))) for v in row] for row in x0]
    assert got.tolist() == [[0, 0, 1], [1, 0, 1]]


def test_bifurcation_lone_branch_and_tanh() -> None:
    """§2.2, Fig. 3: outside the bistable range the single attractor is on the lower branch below
    it and on the upper branch above it (never lost); exactly at the centre of symmetry b = −w/2
    (w ≤ 4, one attractor) it is on the lower branch. The tanh diagram (|b| < 3.029 for w = 5)
    uses tanh fixed points; integer biases are accepted and returned as float64."""
    b_lo, b_hi = bistable_range(5.0)
    bs = np.linspace(-3.5, -1.5, 41)
    d = bifurcation_diagram(bs, w=5.0)
    below, above = bs < b_lo - 1e-3, bs > b_hi + 1e-3
    assert np.all(~np.isnan(d.stable_low[below])) and np.all(~np.isnan(d.stable_high[above]))
    for i in np.nonzero(below | above)[0]:
        (fp,) = fixed_points(5.0, float(bs[i]))
        assert fp.x in (d.stable_low[i], d.stable_high[i])
    c = bifurcation_diagram(np.array([-1.5]), w=3.0)
    assert c.stable_low[0] == pytest.approx(0.0, abs=1e-12) and np.isnan(c.stable_high[0])
    t = bifurcation_diagram(np.array([-4, 0, 2]), w=5.0, activation="tanh")
    assert t.b.dtype == np.float64
    assert np.isnan(t.unstable[0]) and not np.isnan(t.unstable[1]) and not np.isnan(t.unstable[2])
    assert t.stable_low[1] == pytest.approx(fixed_points(5.0, 0.0, "tanh")[0].x, abs=1e-12)


def test_orbit_is_float64_from_the_start() -> None:
    """Eq. (8)'s orbit x_0..x_T is float64 whatever x_0 is given as, x_0 included (also for
    T = 0, where x_0 is the whole orbit)."""
    for x0 in (1, np.array([1, -2]), np.float32(0.3)):
        orbit = iterate(5.0, -2.5, x0, 0)
        assert orbit.dtype == np.float64 and orbit.shape == (1, *np.shape(x0))
        np.testing.assert_array_equal(orbit[0], np.asarray(x0, dtype=np.float64))
