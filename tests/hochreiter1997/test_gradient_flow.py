"""Tests for notes_code.hochreiter1997.gradient_flow: the constant error carousel and its decay."""

from __future__ import annotations

import math

import pytest
import torch
from torch.func import jacrev

from notes_code.hochreiter1997.gradient_flow import (
    FORGET_C,
    FORGET_H,
    LSTM1997_C,
    LSTM1997_H,
    RNN_X,
    jacobian_products,
    lag_norms,
    step_jacobians,
    trace,
)
from notes_code.hochreiter1997.lstm import LSTM, lstm_states, lstm_step
from notes_code.pascanu2013.rnn import PascanuRNN


def _params(seed: int, n: int, n_in: int, scale: float):
    g = torch.Generator().manual_seed(seed)
    W_ih = torch.randn(4 * n, n_in, generator=g, dtype=torch.float64) * scale
    W_hh = torch.randn(4 * n, n, generator=g, dtype=torch.float64) * scale
    b = torch.randn(4 * n, generator=g, dtype=torch.float64) * 0.5
    return W_ih, W_hh, b, g


@pytest.mark.claim("hochreiter1997/constant-error-carousel", modules=["hochreiter1997.gradient_flow"])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_local_cell_jacobian_is_identity(seed: int) -> None:
    """§3.2/§4 (1997): the CEC is a linear unit with self-weight 1, so with h_{t-1} held fixed
    ∂c_t/∂c_{t-1} = I exactly (autograd through lstm_step, bit for bit), at any weights and state.
    With a forget gate (Gers et al. 2000) the same Jacobian is diag(f_t) instead."""
    n = 4
    W_ih, W_hh, b, g = _params(seed, n, 3, 1.5)
    u_t = torch.randn(3, generator=g, dtype=torch.float64)
    h_prev = torch.randn(n, generator=g, dtype=torch.float64)
    c_prev = torch.randn(n, generator=g, dtype=torch.float64) * 3
    J = jacrev(lambda c: lstm_step(u_t, h_prev, c, W_ih, W_hh, b, False)[1])(c_prev)
    assert torch.equal(J, torch.eye(n, dtype=torch.float64))
    J_f = jacrev(lambda c: lstm_step(u_t, h_prev, c, W_ih, W_hh, b, True)[1])(c_prev)
    f = torch.sigmoid(W_ih[n:2 * n] @ u_t + W_hh[n:2 * n] @ h_prev + b[n:2 * n])
    torch.testing.assert_close(J_f, torch.diag(f), rtol=1e-14, atol=1e-14)
    # the written-out step Jacobians have the same cell-path block
    u = torch.randn(5, 3, generator=g, dtype=torch.float64)
    J_all = step_jacobians(W_hh, trace(W_ih, W_hh, b, u, False), False)
    assert torch.equal(J_all[:, n:, n:], torch.eye(n, dtype=torch.float64).expand(5, n, n))


@pytest.mark.claim("hochreiter1997/constant-error-carousel", modules=["hochreiter1997.gradient_flow"])
def test_full_cell_jacobian_does_not_vanish_while_rnn_does() -> None:
    """§3.1 vs §4 (1997), Pascanu et al. eq. (5)-(7): at the same N(0, 0.1²) init (n = 20) the
    vanilla tanh RNN has λ1γ < 1 and ‖∂x_t/∂x_k‖ < 1e-3 at lag 50, while the 1997 LSTM's full
    (all-path) ‖∂c_t/∂c_k‖ stays ≥ 0.5 at every lag up to 50, on five random sequences."""
    for seed in range(5):
        curves = lag_norms(T=60, n=20, seed=seed)
        rnn = PascanuRNN(5, 20, 1, "tanh", std=0.1, generator=seed, dtype=torch.float64)
        assert float(torch.linalg.matrix_norm(rnn.W_rec.detach(), 2)) < 1.0  # λ1γ < 1 (γ = 1)
        assert float(curves[RNN_X].norms[50]) < 1e-3
        assert float(curves[LSTM1997_C].norms[:51].min()) >= 0.5
        assert torch.all(curves[LSTM1997_C].reference == 1.0)  # the cell path alone: ‖I‖ = 1


@pytest.mark.claim("hochreiter1997/forget-gate-decay", modules=["hochreiter1997.gradient_flow"])
@pytest.mark.parametrize("forget_bias", [-2.0, 0.0, 2.0])
def test_forget_gate_decay_rate(forget_bias: float) -> None:
    """Gers et al. (2000): with a forget gate ∂c_t/∂c_{t-1} ≈ diag(f_t), so with tiny weights
    (f_t ≈ σ(b_f) everywhere) ‖∂c_t/∂c_k‖ decays geometrically at rate σ(b_f): the fitted rate over
    lags 5..50 is within 2% of σ(b_f), and the norm at lag 50 within a factor 2 of σ(b_f)^50."""
    m = LSTM(4, 8, True, std=1e-3, forget_bias=forget_bias, generator=1, dtype=torch.float64)
    u = torch.randn(60, 4, generator=torch.Generator().manual_seed(3), dtype=torch.float64)
    _, dc = jacobian_products(m.W_ih.detach(), m.W_hh.detach(), m.b.detach(), u, True, 1, "c")
    norms = torch.linalg.matrix_norm(dc, 2)
    lags = torch.arange(5, 51, dtype=torch.float64)
    y = norms[5:51].log()
    slope = float(((lags - lags.mean()) * (y - y.mean())).sum() / ((lags - lags.mean()) ** 2).sum())
    f = 1 / (1 + math.exp(-forget_bias))
    assert abs(math.exp(slope) / f - 1) < 0.02
    assert 0.5 < float(norms[50]) / f**50 < 2.0


@pytest.mark.parametrize("forget_gate", [False, True])
@pytest.mark.parametrize("wrt", ["c", "h"])
@pytest.mark.parametrize("k", [0, 1, 3])
def test_jacobian_products_equal_jacrev(forget_gate: bool, wrt: str, k: int) -> None:
    """The chained, written-out Jacobians ∂h_t/∂•_k and ∂c_t/∂•_k equal torch.func.jacrev of the
    unrolled map •_k -> (h_t, c_t) built from lstm_step, for every t (float64, 1e-10); for • = c and
    k ≥ 1 the unrolled map includes h_k = o_k tanh(c_k)."""
    n, T = 3, 6
    W_ih, W_hh, b, g = _params(5, n, 2, 0.7)
    u = torch.randn(T, 2, generator=g, dtype=torch.float64)
    h, c = lstm_states(W_ih, W_hh, b, u[:, None], forget_gate)
    h, c = torch.cat([torch.zeros(1, n, dtype=torch.float64), h[:, 0]]), torch.cat(
        [torch.zeros(1, n, dtype=torch.float64), c[:, 0]])
    dh, dc = jacobian_products(W_ih, W_hh, b, u, forget_gate, k, wrt)
    assert dh.shape == dc.shape == (T - k + 1, n, n)
    for t in range(k, T + 1):
        def run(z: torch.Tensor, t: int = t) -> torch.Tensor:
            if wrt == "h":
                h_s, c_s = z, c[k]
            elif k == 0:
                h_s, c_s = h[0], z
            else:  # o_k from its definition, independent of the module's trace
                o_k = torch.sigmoid(W_ih[3 * n:] @ u[k - 1] + W_hh[3 * n:] @ h[k - 1] + b[3 * n:])
                h_s, c_s = o_k * torch.tanh(z), z
            for s in range(k, t):
                h_s, c_s = lstm_step(u[s], h_s, c_s, W_ih, W_hh, b, forget_gate)
            return torch.cat([h_s, c_s])

        J = jacrev(run)(c[k] if wrt == "c" else h[k])
        torch.testing.assert_close(dh[t - k], J[:n], rtol=1e-10, atol=1e-10)
        torch.testing.assert_close(dc[t - k], J[n:], rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("forget_gate", [False, True])
def test_step_jacobians_equal_jacrev(forget_gate: bool) -> None:
    """Each written-out 2n×2n step Jacobian ∂(h_t, c_t)/∂(h_{t-1}, c_{t-1}) equals jacrev of lstm_step."""
    n, T = 3, 4
    W_ih, W_hh, b, g = _params(6, n, 2, 0.9)
    u = torch.randn(T, 2, generator=g, dtype=torch.float64)
    tr = trace(W_ih, W_hh, b, u, forget_gate)
    J = step_jacobians(W_hh, tr, forget_gate)
    for t in range(1, T + 1):
        def step(z: torch.Tensor, t: int = t) -> torch.Tensor:
            return torch.cat(lstm_step(u[t - 1], z[:n], z[n:], W_ih, W_hh, b, forget_gate))

        ref = jacrev(step)(torch.cat([tr.h[t - 1], tr.c[t - 1]]))
        torch.testing.assert_close(J[t - 1], ref, rtol=1e-12, atol=1e-12)


def test_trace_is_consistent() -> None:
    """trace() returns the states of lstm_states and gates obeying c_t = f_t c_{t-1} + i_t g_t."""
    W_ih, W_hh, b, g = _params(7, 3, 2, 0.8)
    u = torch.randn(5, 2, generator=g, dtype=torch.float64)
    for fg in (False, True):
        tr = trace(W_ih, W_hh, b, u, fg)
        h, c = lstm_states(W_ih, W_hh, b, u[:, None], fg)
        assert torch.equal(tr.h[1:], h[:, 0]) and torch.equal(tr.c[1:], c[:, 0])
        torch.testing.assert_close(tr.c[1:], tr.f * tr.c[:-1] + tr.i * tr.g, rtol=1e-14, atol=1e-14)
        torch.testing.assert_close(tr.h[1:], tr.o * torch.tanh(tr.c[1:]), rtol=1e-14, atol=1e-14)
        assert torch.all(tr.f == 1) != fg


def test_lag_norms_curves() -> None:
    """lag_norms returns the five curves with lags 0..T-k, norm 1 at lag 0 for ∂c/∂c and ∂h/∂h,
    and the documented reference curves."""
    curves = lag_norms(T=12, n=4, seed=1)
    assert list(curves) == [LSTM1997_C, LSTM1997_H, FORGET_C, FORGET_H, RNN_X]
    for name, cv in curves.items():
        assert torch.equal(cv.lags, torch.arange(12)) and cv.norms.shape == (12,)
        assert abs(float(cv.norms[0]) - 1.0) < 1e-12, name
    assert curves[LSTM1997_H].reference is None
    ref = curves[FORGET_C].reference
    assert ref is not None and torch.all(ref[1:] < ref[:-1]) and float(ref[0]) == 1.0
    rnn = curves[RNN_X]
    assert rnn.reference is not None and torch.all(rnn.norms <= rnn.reference * (1 + 1e-9))


def test_validation() -> None:
    """k outside [0, T] and unknown wrt are rejected."""
    W_ih, W_hh, b, _ = _params(0, 2, 1, 0.5)
    u = torch.zeros(3, 1, dtype=torch.float64)
    for k, wrt in ((-1, "c"), (4, "c"), (1, "x")):
        with pytest.raises(ValueError):
            jacobian_products(W_ih, W_hh, b, u, True, k, wrt)  # type: ignore[arg-type]


def test_lag_norms_recomputed_independently() -> None:
    """§4 (1997) vs Gers et al. (2000) vs Pascanu et al. eq. (7): every curve of lag_norms is the
    spectral norm of the Jacobians of the networks it documents (same seed for the weights of both
    LSTMs and the RNN, std and forget bias passed through, u ~ N(0, I) from the seed), recomputed
    here from the public pieces; the reference labels name the cell path and the λ1γ bound."""
    from notes_code.pascanu2013.jacobians import jacobian_norms_vs_lag

    T, n, n_in, seed, std, fb, k = 9, 3, 2, 3, 0.4, -0.5, 2
    curves = lag_norms(T=T, n=n, n_in=n_in, seed=seed, std=std, forget_bias=fb, k=k)
    u = torch.randn(T, n_in, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)
    for fg, kc, kh in ((False, LSTM1997_C, LSTM1997_H), (True, FORGET_C, FORGET_H)):
        m = LSTM(n_in, n, fg, std, fb, torch.Generator().manual_seed(seed), torch.float64)
        W = (m.W_ih.detach(), m.W_hh.detach(), m.b.detach())
        _, dc = jacobian_products(*W, u, fg, k, "c")
        dh, _ = jacobian_products(*W, u, fg, k, "h")
        torch.testing.assert_close(curves[kc].norms, torch.linalg.matrix_norm(dc, 2), rtol=1e-12, atol=0)
        torch.testing.assert_close(curves[kh].norms, torch.linalg.matrix_norm(dh, 2), rtol=1e-12, atol=0)
        assert curves[kh].reference is None and curves[kh].reference_label == ""
        f = trace(*W, u, fg).f[k:]
        cell = torch.ones(T - k + 1, dtype=torch.float64)
        for j in range(1, T - k + 1):
            cell[j] = f[:j].prod(0).max()  # ‖∏ diag(f_i)‖ = the largest product of one cell's gates
        torch.testing.assert_close(curves[kc].reference, cell, rtol=1e-12, atol=0)
    assert curves[FORGET_C].reference_label == "cell path only: ||∏ diag(f_i)||"
    assert curves[LSTM1997_C].reference_label == "cell path only (1997 truncated gradient): ||I|| = 1"
    rnn = PascanuRNN(n_in, n, 1, "tanh", std=std, generator=seed, dtype=torch.float64)
    jn = jacobian_norms_vs_lag(rnn.W_rec.detach(), rnn.W_in.detach(), rnn.b.detach(), u, "tanh", k)
    torch.testing.assert_close(curves[RNN_X].norms, jn.norms, rtol=1e-12, atol=0)
    assert curves[RNN_X].reference_label == f"(λ1γ)^(t-k), λ1γ = {jn.lambda1_gamma:.3f}"


def test_lag_norms_defaults() -> None:
    """The carousel figure's defaults (§4 vs eq. 7): T = 60, n = 20 cells, 5 inputs, seed 0,
    N(0, 0.1²) weights, forget bias 1 and lags from k = 1."""
    a, b = lag_norms(), lag_norms(T=60, n=20, n_in=5, seed=0, std=0.1, forget_bias=1.0, k=1)
    assert list(a) == list(b)
    for key in a:
        assert a[key].norms.shape == (60,) and torch.equal(a[key].norms, b[key].norms)
    assert torch.equal(a[FORGET_C].reference, b[FORGET_C].reference)


def test_jacobian_products_defaults_and_last_step() -> None:
    """jacobian_products defaults to ∂•/∂c_1 (k = 1, wrt = c); k = T is allowed (lag 0 only:
    ∂c_T/∂c_T = I), k = T + 1 is refused with a message giving the valid range."""
    W_ih, W_hh, b, g = _params(2, 3, 2, 0.7)
    u = torch.randn(4, 2, generator=g, dtype=torch.float64)
    for x, y in zip(jacobian_products(W_ih, W_hh, b, u, True),
                    jacobian_products(W_ih, W_hh, b, u, True, 1, "c"), strict=True):
        assert torch.equal(x, y)
    dh, dc = jacobian_products(W_ih, W_hh, b, u, False, 4, "c")
    assert dh.shape == dc.shape == (1, 3, 3)
    assert torch.equal(dc[0], torch.eye(3, dtype=torch.float64))
    with pytest.raises(ValueError, match=r"need 0 <= k <= 4 and wrt in \('c', 'h'\); got k=5, wrt='c'"):
        jacobian_products(W_ih, W_hh, b, u, False, 5, "c")


def test_jacobian_products_in_bfloat16() -> None:
    """The chained Jacobians keep the inputs' dtype (the identity and zero blocks are made in it):
    in bfloat16 they agree with the float64 chain to bfloat16 accuracy, for both nodes."""
    W_ih, W_hh, b, g = _params(3, 3, 2, 0.5)
    u = torch.randn(5, 2, generator=g, dtype=torch.float64)
    bf = [t.to(torch.bfloat16) for t in (W_ih, W_hh, b, u)]
    for wrt, k in (("c", 0), ("c", 2), ("h", 1)):
        for low, ref in zip(jacobian_products(*bf, True, k, wrt),
                            jacobian_products(W_ih, W_hh, b, u, True, k, wrt), strict=True):
            assert low.dtype == torch.bfloat16
            torch.testing.assert_close(low.double(), ref, rtol=0.05, atol=0.03)


def test_trace_from_initial_states() -> None:
    """trace() with given (h_0, c_0) starts the states there: h_0, c_0 are row 0 and the rest are
    lstm_states from the same initial states (gates consistent with c_t = f_t c_{t-1} + i_t g_t)."""
    W_ih, W_hh, b, g = _params(8, 3, 2, 0.8)
    u = torch.randn(4, 2, generator=g, dtype=torch.float64)
    h0, c0 = (torch.randn(3, generator=g, dtype=torch.float64) for _ in range(2))
    for fg in (False, True):
        tr = trace(W_ih, W_hh, b, u, fg, h0, c0)
        h, c = lstm_states(W_ih, W_hh, b, u[:, None], fg, h0, c0)
        assert torch.equal(tr.h[0], h0) and torch.equal(tr.c[0], c0)
        assert torch.equal(tr.h[1:], h[:, 0]) and torch.equal(tr.c[1:], c[:, 0])
        torch.testing.assert_close(tr.c[1:], tr.f * tr.c[:-1] + tr.i * tr.g, rtol=1e-14, atol=1e-14)
