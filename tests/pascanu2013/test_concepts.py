"""Tests of the concept-page examples (Jacobian matrix, basins of attraction, lag curves)."""

from __future__ import annotations

import torch

from notes_code.pascanu2013.concepts import (
    circle_images,
    example_jacobian,
    example_jacobian_by_hand,
    lag_curves,
    rnn_basins_2d,
    rnn_trajectory_2d,
)


def test_jacobian_by_autograd_equals_by_hand() -> None:
    """Concept page (Jacobian): jacrev of the 2-D example equals the hand-derived matrix."""
    for point in ([0.3, -1.2], [2.0, 0.5], [-1.0, 3.0]):
        x = torch.tensor(point, dtype=torch.float64)
        torch.testing.assert_close(example_jacobian(x), example_jacobian_by_hand(x),
                                   rtol=0, atol=1e-12)


def test_circle_image_semi_axes_are_singular_values() -> None:
    """Concept page (Jacobian): $J^p$ maps the unit circle to an ellipse with semi-axes σ(J^p)."""
    J = torch.tensor([[1.2, 0.4], [-0.3, 0.7]], dtype=torch.float64)
    for p, image in zip((1, 2, 3), circle_images(J, points=4001), strict=True):
        s = torch.linalg.svdvals(torch.linalg.matrix_power(J, p))
        r = image.norm(dim=1)
        assert abs(r.max() - s[0]) < 1e-5 and abs(r.min() - s[1]) < 1e-5


def test_two_unit_rnn_has_four_symmetric_basins() -> None:
    """Concept page (basins): x ↦ 2·tanh(x) per unit has four attractors, one per quadrant."""
    basins = rnn_basins_2d(2.0 * torch.eye(2), m=41)
    assert basins.attractors.shape == (4, 2)
    a = basins.attractors.abs()
    torch.testing.assert_close(a, torch.full_like(a, a[0, 0].item()))
    assert 1.9 < a[0, 0] < 2.0  # the root of x = 2 tanh x
    # a point in the (+, +) quadrant flows to the (+, +) attractor
    i = int((basins.xs - 1.0).abs().argmin())
    assert (basins.attractors[basins.label[i, i]] > 0).all()


def test_lag_curves_respect_the_bound_and_show_both_regimes() -> None:
    """Eq. (7): every curve stays under (λ1γ)^ℓ; λ1γ < 1 vanishes while λ1γ = 3 explodes."""
    curves = lag_curves((0.8, 3.0), T=40)
    for c in curves:
        assert (c.norms <= c.bound * (1 + 1e-9)).all()
    assert curves[0].norms[-1] < 1e-3
    assert curves[1].norms[-1] > 1e3


def test_trajectories_end_at_the_attractor_of_their_basin() -> None:
    """Concept page (basins): an orbit ends at the attractor that labels its starting point."""
    W = torch.tensor([[2.0, 0.4], [-0.2, 1.8]], dtype=torch.float64)
    basins = rnn_basins_2d(W, m=31)
    starts = torch.tensor([[1.0, 1.0], [-2.0, 0.5], [0.3, -2.5]], dtype=torch.float64)
    ends = rnn_trajectory_2d(W, starts, T=300)[-1]
    for start, end in zip(starts, ends, strict=True):
        i = int((basins.xs - start[0]).abs().argmin())
        j = int((basins.xs - start[1]).abs().argmin())
        torch.testing.assert_close(end, basins.attractors[basins.label[j, i]], atol=1e-3, rtol=0)


def test_power_norms_match_matrix_power_and_read_the_trend() -> None:
    """Spectral-radius page caption: ‖W^k‖ grows iff ρ > 1, a shear with ρ < 1 rises first (issue #10).

    Independent reference: `torch.linalg.matrix_power` for each k, eigenvalues by numpy.
    """
    import numpy as np

    from notes_code.pascanu2013.concepts import power_norms, power_trend

    g = torch.Generator().manual_seed(0)
    W = torch.randn(50, 50, generator=g, dtype=torch.float64) / 50**0.5
    p = power_norms(W, 39)
    ref = [float(torch.linalg.matrix_norm(torch.linalg.matrix_power(W, k), ord=2)) for k in range(40)]
    assert torch.allclose(p.norms, torch.tensor(ref, dtype=torch.float64), rtol=1e-10)
    assert abs(p.rho - float(np.abs(np.linalg.eigvals(W.numpy())).max())) < 1e-10
    assert p.rho > 1 and power_trend(p) == "커진다" and p.norms[-1] > 10
    shear = power_norms(torch.tensor([[0.9, 3.0], [0.0, 0.9]], dtype=torch.float64), 39)
    assert shear.rho < 1 < shear.lambda1 and power_trend(shear) == "처음에는 커졌다가 줄어든다"
    assert power_trend(power_norms(torch.eye(3, dtype=torch.float64) * 0.5, 5)) == "줄어든다"
    assert power_trend(power_norms(torch.eye(2, dtype=torch.float64), 5)) == "크기가 유지된다"
    try:
        power_norms(torch.ones(2, 3), 3)
    except ValueError as exc:
        assert "square" in str(exc)
    else:
        raise AssertionError("non-square matrix accepted")
