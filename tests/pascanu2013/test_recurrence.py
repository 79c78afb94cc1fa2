"""Tests for notes_code.pascanu2013.recurrence: the functional form of eq. (2)."""

from __future__ import annotations

import pytest
import torch
from torch.autograd import gradcheck

from notes_code.pascanu2013.recurrence import rnn_state_list, rnn_states

ACTS = ["tanh", "sigmoid", "linear"]


def _params(n: int, n_in: int, seed: int = 0, scale: float = 0.5) -> tuple[torch.Tensor, ...]:
    g = torch.Generator().manual_seed(seed)
    W_rec = torch.randn(n, n, generator=g, dtype=torch.float64) * scale
    W_in = torch.randn(n, n_in, generator=g, dtype=torch.float64)
    b = torch.randn(n, generator=g, dtype=torch.float64) * 0.1
    return W_rec, W_in, b


@pytest.mark.claim("pascanu2013/rnn-gradcheck", modules=["pascanu2013.recurrence"])
@pytest.mark.parametrize("activation", ACTS)
def test_gradcheck_rnn_states(activation: str) -> None:
    """Eq. (2), §1.1: autograd through the functional RNN matches finite differences (float64)."""
    W_rec, W_in, b = _params(3, 2)
    u = torch.randn(4, 2, 2, dtype=torch.float64)
    x0 = torch.randn(2, 3, dtype=torch.float64) * 0.3
    inputs = tuple(t.clone().requires_grad_(True) for t in (W_rec, W_in, b, u, x0))

    def f(W_rec, W_in, b, u, x0):
        return rnn_states(W_rec, W_in, b, u, activation, x0)

    assert gradcheck(f, inputs, eps=1e-6, atol=1e-8)


@pytest.mark.parametrize("activation", ACTS)
def test_states_match_h_form(activation: str) -> None:
    """Footnote 1, §1.1: x_t = W_rec σ(x_{t-1}) + W_in u_t + b equals the h-form with h = σ(x)."""
    W_rec, W_in, b = _params(5, 3, seed=1)
    u = torch.randn(6, 4, 3, dtype=torch.float64)
    sigma = {"tanh": torch.tanh, "sigmoid": torch.sigmoid, "linear": lambda z: z}[activation]
    x = rnn_states(W_rec, W_in, b, u, activation)
    h = sigma(torch.zeros(4, 5, dtype=torch.float64))  # h_0 = sigma(x_0), x_0 = 0
    for t in range(6):
        pre = h @ W_rec.T + u[t] @ W_in.T + b
        torch.testing.assert_close(x[t], pre, rtol=1e-12, atol=1e-12)
        h = sigma(pre)


def test_tanh_matches_torch_rnn() -> None:
    """Eq. (2) with tanh units is torch.nn.RNN with h_t = tanh(x_t) (independent reference)."""
    torch.manual_seed(0)
    ref = torch.nn.RNN(3, 7, nonlinearity="tanh").double()
    u = torch.randn(9, 5, 3, dtype=torch.float64)
    out, _ = ref(u)
    with torch.no_grad():
        x = rnn_states(ref.weight_hh_l0, ref.weight_ih_l0, ref.bias_ih_l0 + ref.bias_hh_l0, u,
                       "tanh")
    torch.testing.assert_close(torch.tanh(x), out, rtol=1e-12, atol=1e-12)


def test_state_list_feeds_total_derivatives() -> None:
    """§1.1: grads w.r.t. the per-step tensors are total dE/dx_t (compared with a re-run)."""
    W_rec, W_in, b = _params(4, 2, seed=2)
    u = torch.randn(5, 3, 2, dtype=torch.float64, requires_grad=True)
    steps = rnn_state_list(W_rec, W_in, b, u, "tanh")
    loss = torch.tanh(steps[-1]).sum()
    delta = torch.autograd.grad(loss, steps)
    # reference for t = 2 (index 1): perturb x_2 and re-run the tail by hand
    x2 = steps[1].detach().clone().requires_grad_(True)
    x = x2
    for t in range(2, 5):
        x = torch.tanh(x) @ W_rec.T + u[t] @ W_in.T + b
    (ref,) = torch.autograd.grad(torch.tanh(x).sum(), x2)
    torch.testing.assert_close(delta[1], ref, rtol=1e-12, atol=1e-12)
