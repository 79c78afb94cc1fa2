"""Tests for notes_code.pascanu2013.jacobians: eqs. (5)-(7) and the conditions of §2.1."""

from __future__ import annotations

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch.func import jacrev

from notes_code.pascanu2013.activations import activation_fn
from notes_code.pascanu2013.init import orthogonal
from notes_code.pascanu2013.jacobians import (
    gamma,
    jacobian_norms_vs_lag,
    jacobian_products,
    largest_singular_value,
    scale_to,
    spectral_norms,
    step_jacobian,
)
from notes_code.pascanu2013.recurrence import rnn_states

ACTS = ["tanh", "sigmoid", "linear"]
FAST = settings(max_examples=30, deadline=None)


def _random_rnn(seed: int, n: int, n_in: int = 2, scale: float = 1.0):
    g = torch.Generator().manual_seed(seed)
    W_rec = torch.randn(n, n, generator=g, dtype=torch.float64) * scale / n**0.5
    W_in = torch.randn(n, n_in, generator=g, dtype=torch.float64)
    b = torch.randn(n, generator=g, dtype=torch.float64) * 0.3
    return W_rec, W_in, b, g


@pytest.mark.claim("pascanu2013/jacobian-product", modules=["pascanu2013.jacobians"])
@pytest.mark.parametrize("activation", ACTS)
@pytest.mark.parametrize("k", [0, 2])
def test_jacobian_products_equal_jacrev(activation: str, k: int) -> None:
    """Eq. (5), §1.1: dx_t/dx_k = Π_{t≥i>k} W_rec diag(σ'(x_{i-1})) equals torch.func.jacrev
    of the unrolled map x_k -> x_t, for every t (float64, 1e-10)."""
    W_rec, W_in, b, g = _random_rnn(0, 5, scale=1.3)
    T = 7
    u = torch.randn(T, 2, generator=g, dtype=torch.float64)
    x = rnn_states(W_rec, W_in, b, u[:, None], activation)[:, 0]  # (T, n)
    P = jacobian_products(W_rec, x, activation, k)
    assert P.shape == (T - k + 1, 5, 5)
    sigma = activation_fn(activation)
    all_x = torch.cat([torch.zeros(1, 5, dtype=torch.float64), x])
    for t in range(k, T + 1):
        def run(xk: torch.Tensor, t: int = t) -> torch.Tensor:
            for i in range(k, t):  # x_{i+1} = W_rec sigma(x_i) + W_in u_{i+1} + b
                xk = W_rec @ sigma(xk) + W_in @ u[i] + b
            return xk

        ref = jacrev(run)(all_x[k])
        torch.testing.assert_close(P[t - k], ref, rtol=1e-10, atol=1e-10)


def test_step_jacobian_orientation() -> None:
    """Eq. (5), §1.1: the exact step Jacobian is W_rec diag(σ'(x_k)) (transpose: diag(σ') W_rec^T).
    The printed W_rec^T diag(σ'(x_k)) is neither for non-symmetric W_rec, but all three obey
    the bound ||·|| ≤ λ1 γ used in §2.1."""
    W_rec, _, _, g = _random_rnn(1, 4, scale=2.0)
    xk = torch.randn(4, generator=g, dtype=torch.float64)
    ref = jacrev(lambda z: W_rec @ torch.tanh(z))(xk)
    torch.testing.assert_close(step_jacobian(W_rec, xk, "tanh"), ref)
    d = 1 - torch.tanh(xk) ** 2
    printed = W_rec.T * d  # W_rec^T diag(sigma')
    assert not torch.allclose(printed, ref) and not torch.allclose(printed, ref.T)
    bound = largest_singular_value(W_rec) * gamma("tanh")
    for M in (ref, ref.T, printed):
        assert float(torch.linalg.matrix_norm(M, 2)) <= bound + 1e-12


@pytest.mark.claim("pascanu2013/gamma-values", modules=["pascanu2013.jacobians"])
@pytest.mark.parametrize("activation,expected", [("tanh", 1.0), ("sigmoid", 0.25)])
def test_gamma_is_max_derivative(activation: str, expected: float) -> None:
    """§2.1: ||diag(σ'(x))|| ≤ γ with γ = 1 for tanh and 1/4 for sigmoid; max σ' measured with
    autograd on a fine grid equals gamma()."""
    x = torch.linspace(-10, 10, 200001, dtype=torch.float64, requires_grad=True)
    (d,) = torch.autograd.grad(activation_fn(activation)(x).sum(), x)
    assert abs(float(d.max()) - expected) < 1e-9
    assert gamma(activation) == expected
    assert float(d.min()) >= 0.0


def test_largest_singular_value_and_scale_to() -> None:
    """§2.1: λ1 is the largest singular value (sqrt of the top eigenvalue of W^T W); scale_to
    sets λ1·γ to the requested value."""
    W, _, _, _ = _random_rnn(2, 6)
    ref = float(torch.linalg.eigvalsh(W.T @ W).max().sqrt())
    assert abs(largest_singular_value(W) - ref) < 1e-12
    for act in ACTS:
        V = scale_to(W, 0.8, act)
        assert abs(largest_singular_value(V) * gamma(act) - 0.8) < 1e-12


@pytest.mark.claim("pascanu2013/vanishing-sufficient-condition", modules=["pascanu2013.jacobians"])
@FAST
@given(
    seed=st.integers(0, 10_000),
    n=st.integers(2, 8),
    activation=st.sampled_from(ACTS),
    lg=st.floats(0.2, 1.6),
    k=st.integers(0, 3),
)
def test_product_norm_bound(seed: int, n: int, activation: str, lg: float, k: int) -> None:
    """Eqs. (6)-(7), §2.1: ||dx_t/dx_k|| ≤ (λ1 γ)^{t-k} for random weights, inputs and lags."""
    W_rec, W_in, b, g = _random_rnn(seed, n)
    W_rec = scale_to(W_rec, lg, activation)
    u = torch.randn(12, 2, generator=g, dtype=torch.float64)
    r = jacobian_norms_vs_lag(W_rec, W_in, b, u, activation, k)
    assert abs(r.lambda1_gamma - lg) < 1e-9
    assert torch.all(r.norms <= r.bound * (1 + 1e-9) + 1e-300)


@pytest.mark.claim("pascanu2013/vanishing-sufficient-condition", modules=["pascanu2013.jacobians"])
@pytest.mark.parametrize("activation", ACTS)
def test_vanishing_when_lambda1_gamma_below_one(activation: str) -> None:
    """§2.1: with λ1 γ = 0.9 < 1 the long-term factor vanishes: after 200 steps its norm is
    below 0.9^200 ≈ 7e-10, and decays monotonically."""
    W_rec, W_in, b, g = _random_rnn(3, 10)
    W_rec = scale_to(W_rec, 0.9, activation)
    u = torch.randn(200, 2, generator=g, dtype=torch.float64)
    r = jacobian_norms_vs_lag(W_rec, W_in, b, u, activation)
    assert float(r.norms[-1]) <= 0.9**200 < 1e-9
    assert torch.all(r.norms[1:] <= r.norms[:-1] * (1 + 1e-12))


@pytest.mark.claim("pascanu2013/exploding-necessary-condition", modules=["pascanu2013.jacobians"])
@FAST
@given(
    seed=st.integers(0, 10_000),
    n=st.integers(2, 8),
    activation=st.sampled_from(ACTS),
    lg=st.floats(0.05, 1.0),
    input_scale=st.floats(0.0, 3.0),
)
def test_no_growth_when_lambda1_gamma_at_most_one(
    seed: int, n: int, activation: str, lg: float, input_scale: float
) -> None:
    """§2.1: λ1 > 1/γ is necessary for exploding gradients; contrapositive: with λ1 γ ≤ 1 no
    product dx_t/dx_k ever has norm above 1 (random weights, inputs, start steps)."""
    W_rec, W_in, b, g = _random_rnn(seed, n)
    W_rec = scale_to(W_rec, lg, activation)
    u = torch.randn(30, 2, generator=g, dtype=torch.float64) * input_scale
    for k in (0, 5):
        r = jacobian_norms_vs_lag(W_rec, W_in, b, u, activation, k)
        assert float(r.norms.max()) <= 1.0 + 1e-10


@pytest.mark.claim("pascanu2013/exploding-necessary-condition", modules=["pascanu2013.jacobians"])
@pytest.mark.parametrize("activation", ["linear", "tanh"])
def test_large_lambda1_can_explode(activation: str) -> None:
    """§2.1: when λ1 γ > 1 gradients *can* explode. With W_rec = 1.5·Q (Q orthogonal) and zero
    input/bias the orbit stays at x = 0 where σ'(0) = 1, so ||dx_t/dx_0|| = 1.5^t."""
    n, T = 6, 30
    W_rec = 1.5 * orthogonal(n, generator=4)
    W_in = torch.zeros(n, 1, dtype=torch.float64)
    b = torch.zeros(n, dtype=torch.float64)
    u = torch.zeros(T, 1, dtype=torch.float64)
    r = jacobian_norms_vs_lag(W_rec, W_in, b, u, activation)
    torch.testing.assert_close(r.norms, 1.5 ** r.lags.double(), rtol=1e-9, atol=0)
    assert float(r.norms[-1]) > 1e5


def test_saturated_tanh_does_not_explode() -> None:
    """§2.1 (only necessary, not sufficient): λ1 γ > 1 does not force explosion: with a large
    input the tanh units saturate, σ' ≈ 0, and the product still vanishes."""
    n, T = 6, 30
    W_rec = 1.5 * orthogonal(n, generator=5)
    W_in = torch.full((n, 1), 20.0, dtype=torch.float64)
    b = torch.zeros(n, dtype=torch.float64)
    u = torch.ones(T, 1, dtype=torch.float64)
    r = jacobian_norms_vs_lag(W_rec, W_in, b, u, "tanh")
    assert r.lambda1_gamma > 1 and float(r.norms[-1]) < 1e-6


def test_spectral_norms_shape() -> None:
    """Spectral norms of stacked matrices equal the largest singular values."""
    M = torch.randn(3, 4, 4, dtype=torch.float64)
    torch.testing.assert_close(spectral_norms(M), torch.linalg.svdvals(M)[:, 0])


@pytest.mark.claim("pascanu2013/jacobian-product", modules=["pascanu2013.jacobians"])
@pytest.mark.parametrize("activation", ["tanh", "sigmoid"])
@pytest.mark.parametrize("k", [None, 2])
def test_norms_vs_lag_from_a_nonzero_initial_state(activation: str, k: int | None) -> None:
    """Eq. (5) from x_0 != 0: ‖∂x_t/∂x_k‖ of `jacobian_norms_vs_lag` equals autograd's through the
    recurrence started at x_0 (the default start is k = 0); the states, hence the norms, depend on x_0."""
    W_rec, W_in, b, g = _random_rnn(5, 4, scale=1.5)
    T = 6
    u = torch.randn(T, 2, generator=g, dtype=torch.float64)  # (T, n_in)
    x0 = torch.randn(4, generator=g, dtype=torch.float64) * 2.0  # (n,)
    r = (jacobian_norms_vs_lag(W_rec, W_in, b, u, activation, x0=x0) if k is None
         else jacobian_norms_vs_lag(W_rec, W_in, b, u, activation, k, x0))
    start = 0 if k is None else k
    assert r.lags.tolist() == list(range(T - start + 1))
    x = rnn_states(W_rec, W_in, b, u.unsqueeze(1), activation, x0.reshape(1, -1))[:, 0]  # (T, n)
    x_start = x0 if start == 0 else x[start - 1]

    def run_from(x_k: torch.Tensor) -> torch.Tensor:  # x_{k+1}..x_T as a function of x_k
        return rnn_states(W_rec, W_in, b, u[start:].unsqueeze(1), activation, x_k.reshape(1, -1))[:, 0]

    J = jacrev(run_from)(x_start)  # (T - k, n, n)
    torch.testing.assert_close(r.norms[1:], torch.linalg.matrix_norm(J, ord=2), rtol=1e-10, atol=1e-12)
    assert float(r.norms[0]) == pytest.approx(1.0)
    from_zero = jacobian_norms_vs_lag(W_rec, W_in, b, u, activation, start)
    assert not torch.allclose(from_zero.norms[1:], r.norms[1:])


@pytest.mark.claim("pascanu2013/jacobian-product", modules=["pascanu2013.jacobians"])
def test_jacobian_products_defaults_and_range_of_k() -> None:
    """Eq. (5): by default the products start at k = 0 from x_0 = 0 (P[0] = I, P[1] = W_rec diag σ'(0));
    k = T is allowed (only the identity) and k outside [0, T] is an error naming the range."""
    W_rec, W_in, b, g = _random_rnn(7, 3)
    T = 4
    x = torch.randn(T, 3, generator=g, dtype=torch.float64)  # (T, n)
    P = jacobian_products(W_rec, x, "tanh")
    assert P.shape == (T + 1, 3, 3) and P.dtype == torch.float64
    torch.testing.assert_close(P[0], torch.eye(3, dtype=torch.float64))
    torch.testing.assert_close(P[1], step_jacobian(W_rec, torch.zeros(3, dtype=torch.float64), "tanh"))
    torch.testing.assert_close(P, jacobian_products(W_rec, x, "tanh", 0, torch.zeros(3, dtype=torch.float64)))
    last = jacobian_products(W_rec, x, "tanh", T)
    torch.testing.assert_close(last, torch.eye(3, dtype=torch.float64).unsqueeze(0))
    with pytest.raises(ValueError, match=r"k must be in \[0, 4\], got 5"):
        jacobian_products(W_rec, x, "tanh", T + 1)
    with pytest.raises(ValueError, match=r"k must be in \[0, 4\], got -1"):
        jacobian_products(W_rec, x, "tanh", -1)


def test_singular_values_match_numpy() -> None:
    """§2.1 states its bound with λ1, the largest singular value: singular values agree with numpy's SVD."""
    import numpy as np

    from notes_code.pascanu2013.jacobians import singular_values

    M = torch.randn(5, 3, generator=torch.Generator().manual_seed(8), dtype=torch.float64)
    expected = np.linalg.svd(M.numpy(), compute_uv=False)
    torch.testing.assert_close(singular_values(M), torch.from_numpy(expected), rtol=1e-12, atol=1e-12)
    stacked = singular_values(torch.stack([M, 2 * M]))  # (2, 3)
    torch.testing.assert_close(stacked[1], 2 * stacked[0])
