"""Tests for notes_code.pascanu2013.regularizer: Ω of eqs. (9)-(10), §3.3."""

from __future__ import annotations

import pytest
import torch
from torch.autograd.functional import jacobian

from notes_code.pascanu2013.init import orthogonal
from notes_code.pascanu2013.recurrence import rnn_state_list
from notes_code.pascanu2013.regularizer import (
    backprop_ratios,
    omega,
    omega_and_grad,
    omega_grad_W_rec,
    omega_terms,
)

SETTINGS = [(sq, red) for sq in (True, False) for red in ("sum", "mean")]


def _setup(activation: str = "tanh", T: int = 5, B: int = 3, n: int = 4, seed: int = 0):
    """A tiny float64 RNN with a per-step quadratic cost; returns weights, states and δ."""
    g = torch.Generator().manual_seed(seed)
    W_rec = torch.randn(n, n, generator=g, dtype=torch.float64) * 0.8
    W_in = torch.randn(n, 2, generator=g, dtype=torch.float64)
    b = torch.randn(n, generator=g, dtype=torch.float64) * 0.2
    u = torch.randn(T, B, 2, generator=g, dtype=torch.float64)
    c = torch.randn(T, B, n, generator=g, dtype=torch.float64)
    steps = rnn_state_list(W_rec.clone().requires_grad_(True), W_in, b, u, activation)
    loss = sum((c[t] * torch.sigmoid(x)).sum() for t, x in enumerate(steps))
    delta = torch.stack(torch.autograd.grad(loss, steps))  # total dE/dx_t from autograd
    return W_rec, W_in, b, u, torch.stack(steps).detach(), delta


def _reference_omega(W_rec, W_in, b, u, x, delta, activation, squared, reduction, bound=1e-20):
    """Ω from explicit per-step Jacobians dx_{k+1}/dx_k (torch.autograd.functional.jacobian)."""
    sigma = {"tanh": torch.tanh, "sigmoid": torch.sigmoid, "linear": lambda z: z}[activation]
    T, B, n = x.shape
    total, count = 0.0, 0
    for bi in range(B):
        for k in range(T):  # k = 0..T-1, x_0 = 0
            xk = torch.zeros(n, dtype=x.dtype) if k == 0 else x[k - 1, bi]
            J = jacobian(lambda z, k=k, bi=bi: W_rec @ sigma(z) + W_in @ u[k, bi] + b, xk)
            d = delta[k, bi]  # delta_{k+1}
            if float(d @ d) < bound:
                continue
            num, den = torch.linalg.vector_norm(d @ J), torch.linalg.vector_norm(d)
            r = (num / den) ** 2 if squared else num / den
            total = total + (r - 1) ** 2
            count += 1
    return total / B if reduction == "sum" else total / max(count, 1)


@pytest.mark.claim("pascanu2013/omega-definition", modules=["pascanu2013.regularizer"])
@pytest.mark.parametrize("activation", ["tanh", "sigmoid"])
@pytest.mark.parametrize("squared,reduction", SETTINGS)
def test_omega_matches_explicit_jacobian_reference(activation, squared, reduction) -> None:
    """Eqs. (9)-(10), §3.3: the vectorised Ω equals
    Σ_k (||δ_{k+1} ∂x_{k+1}/∂x_k|| / ||δ_{k+1}|| − 1)² built from explicit per-step Jacobians
    (float64, 1e-10), for both norms and both reductions."""
    W_rec, W_in, b, u, x, delta = _setup(activation)
    mine = omega(W_rec, x, delta, activation, squared=squared, reduction=reduction)
    ref = _reference_omega(W_rec, W_in, b, u, x, delta, activation, squared, reduction)
    torch.testing.assert_close(mine, torch.as_tensor(ref), rtol=1e-10, atol=1e-12)
    assert float(mine) > 1e-3  # not a trivially zero case


@pytest.mark.claim("pascanu2013/omega-definition", modules=["pascanu2013.regularizer"])
def test_wrong_implementations_disagree() -> None:
    """Eq. (9), §3.3: the ratio needs the vector-Jacobian product δ_{k+1} W_rec diag(σ'(x_k)).
    Two plausible mistakes (element-wise δ ⊙ σ'(x_k), and the transposed W_rec) give a
    different Ω, so the reference comparison above can fail."""
    activation = "tanh"
    W_rec, W_in, b, u, x, delta = _setup(activation)
    ref = _reference_omega(W_rec, W_in, b, u, x, delta, activation, True, "mean")
    x_prev = torch.cat([torch.zeros_like(x[:1]), x[:-1]])
    d_sigma = 1 - torch.tanh(x_prev) ** 2

    def reduce(back: torch.Tensor) -> torch.Tensor:
        r = back.square().sum(-1) / delta.square().sum(-1)
        return ((r - 1) ** 2).mean()

    elementwise = reduce(delta * d_sigma)  # forgets W_rec
    transposed = reduce((delta @ W_rec.T) * d_sigma)  # wrong orientation
    for wrong in (elementwise, transposed):
        assert abs(float(wrong) - float(ref)) > 1e-3 * abs(float(ref))
    # and the right formula written the same way does agree
    torch.testing.assert_close(reduce((delta @ W_rec) * d_sigma), torch.as_tensor(ref),
                               rtol=1e-10, atol=0)


@pytest.mark.claim("pascanu2013/omega-constancy", modules=["pascanu2013.regularizer"])
@pytest.mark.parametrize("squared,reduction", SETTINGS)
def test_gradient_holds_x_and_delta_constant(squared, reduction) -> None:
    """Eq. (10), §3.3: ∂+Ω/∂W_rec treats x_k and δ_{k+1} as constants; it equals central finite
    differences of Ω(W_rec) with x and δ frozen (float64)."""
    W_rec, W_in, b, u, x, delta = _setup("sigmoid", seed=1)
    g = omega_grad_W_rec(W_rec, x, delta, "sigmoid", squared=squared, reduction=reduction)
    h = 1e-6
    fd = torch.zeros_like(W_rec)
    for i in range(W_rec.shape[0]):
        for j in range(W_rec.shape[1]):
            E = torch.zeros_like(W_rec)
            E[i, j] = h
            plus = omega(W_rec + E, x, delta, "sigmoid", squared=squared, reduction=reduction)
            minus = omega(W_rec - E, x, delta, "sigmoid", squared=squared, reduction=reduction)
            fd[i, j] = (plus - minus) / (2 * h)
    torch.testing.assert_close(g, fd, rtol=1e-6, atol=1e-8)
    # omega() detaches x and δ itself: live (graph-carrying) inputs give the same gradient,
    # while the total derivative, where x_k and δ move with W_rec, is a different quantity.
    Wl = W_rec.clone().requires_grad_(True)
    steps = rnn_state_list(Wl, W_in, b, u, "sigmoid")
    c = torch.randn(*x.shape, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    loss = sum((c[t] * torch.sigmoid(s)).sum() for t, s in enumerate(steps))
    d = torch.stack(torch.autograd.grad(loss, steps, create_graph=True))
    xs = torch.stack(steps)
    om = omega(Wl, xs, d, "sigmoid", squared=squared, reduction=reduction)
    (g_live,) = torch.autograd.grad(om, Wl, retain_graph=True)
    g_const = omega_grad_W_rec(W_rec, xs.detach(), d.detach(), "sigmoid", squared=squared,
                               reduction=reduction)
    torch.testing.assert_close(g_live, g_const, rtol=1e-12, atol=1e-14)
    x_prev = torch.cat([torch.zeros_like(xs[:1]), xs[:-1]])
    back = (d @ Wl) * torch.sigmoid(x_prev) * (1 - torch.sigmoid(x_prev))  # nothing detached
    r = back.square().sum(-1) / d.square().sum(-1)
    r = r if squared else r.sqrt()
    total = ((r - 1) ** 2).sum() / xs.shape[1] if reduction == "sum" else ((r - 1) ** 2).mean()
    torch.testing.assert_close(total, om)  # same value ...
    (g_total,) = torch.autograd.grad(total, Wl)
    assert float((g_total - g_const).abs().max()) > 1e-3 * float(g_const.abs().max())  # ≠ grad


@pytest.mark.claim("pascanu2013/omega-norm-preserving", modules=["pascanu2013.regularizer"])
@pytest.mark.parametrize("squared,reduction", SETTINGS)
def test_omega_zero_for_orthogonal_linear(squared, reduction) -> None:
    """§3.3: Ω prefers norm-preserving back-propagation; with σ = identity and orthogonal W_rec
    every step preserves ||δ||, so Ω = 0 (and a scaled W_rec gives Ω > 0)."""
    n, T, B = 6, 8, 4
    Q = orthogonal(n, generator=2)
    g = torch.Generator().manual_seed(3)
    x = torch.randn(T, B, n, generator=g, dtype=torch.float64)
    delta = torch.randn(T, B, n, generator=g, dtype=torch.float64)
    kw = {"squared": squared, "reduction": reduction}
    assert float(omega(Q, x, delta, "linear", **kw)) < 1e-24
    assert float(omega(1.1 * Q, x, delta, "linear", **kw)) > 1e-3
    ratios = backprop_ratios(Q, x, delta, "linear")
    torch.testing.assert_close(ratios, torch.ones(T, B, dtype=torch.float64))


def test_mask_excludes_zero_delta() -> None:
    """Released code (paper-facts §6.5): terms with ||δ_{k+1}||² < bound are dropped; 'mean'
    divides by the number of valid (step, sequence) pairs, 'sum' by the batch size."""
    W_rec, W_in, b, u, x, delta = _setup("tanh", T=4, B=2)
    delta = delta.clone()
    delta[1, 0] = 0.0  # invalid pair
    delta[3, 1] = 1e-11  # ||δ||² ~ 4e-22 < 1e-20: invalid too
    terms, mask = omega_terms(W_rec, x, delta, "tanh")
    assert mask.sum() == 6 and not mask[1, 0] and not mask[3, 1]
    assert float(terms[1, 0]) == 0.0 and torch.isfinite(terms).all()
    torch.testing.assert_close(omega(W_rec, x, delta, "tanh"), terms.sum() / 6)
    torch.testing.assert_close(omega(W_rec, x, delta, "tanh", reduction="sum"), terms.sum() / 2)
    g = omega_grad_W_rec(W_rec, x, delta, "tanh")
    assert torch.isfinite(g).all()
    ref = _reference_omega(W_rec, W_in, b, u, x, delta, "tanh", True, "mean")
    torch.testing.assert_close(omega(W_rec, x, delta, "tanh"), torch.as_tensor(ref), rtol=1e-10,
                               atol=0)
    with pytest.raises(ValueError):
        omega(W_rec, x, delta, "tanh", reduction="max")  # type: ignore[arg-type]


@pytest.mark.parametrize("activation", ["tanh", "sigmoid", "linear"])
@pytest.mark.parametrize("squared,reduction", SETTINGS)
def test_closed_form_gradient_matches_autograd(activation, squared, reduction) -> None:
    """Eq. (10), §3.3: the closed-form ∂+Ω/∂W_rec = Σ_k δ_{k+1}ᵀ (c_k v_k ⊙ σ'(x_k)) equals
    autograd of Ω with x_k and δ frozen, including masked terms and a non-zero x_0."""
    W_rec, W_in, b, u, x, delta = _setup(activation, seed=4)
    delta = delta.clone()
    delta[2, 1] = 0.0  # a masked term
    x0 = torch.randn(x.shape[1], x.shape[2], dtype=torch.float64)
    kw = {"squared": squared, "reduction": reduction, "x0": x0}
    om, grad = omega_and_grad(W_rec, x, delta, activation, **kw)
    torch.testing.assert_close(om, omega(W_rec, x, delta, activation, **kw), rtol=1e-12,
                               atol=1e-14)
    torch.testing.assert_close(grad, omega_grad_W_rec(W_rec, x, delta, activation, **kw),
                               rtol=1e-10, atol=1e-13)
