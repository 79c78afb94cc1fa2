"""Tests for notes_code.pascanu2013.error_surface: the error-surface wall (§2.3, Fig. 6)."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from notes_code.pascanu2013.error_surface import (
    descend,
    error_surface,
    error_surface_grid,
    line_derivatives,
    wall_demo,
)


@pytest.mark.claim("pascanu2013/error-surface-wall", modules=["pascanu2013.error_surface"])
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


@pytest.mark.claim("pascanu2013/error-surface-wall", modules=["pascanu2013.error_surface"])
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


@pytest.mark.claim("pascanu2013/clipping-stabilizes-wall",
                   modules=["pascanu2013.error_surface", "pascanu2013.clipping"])
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
