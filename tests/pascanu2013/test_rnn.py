"""Tests for notes_code.pascanu2013.rnn: the model of eq. (2) and its initialisations."""

from __future__ import annotations

import pytest
import torch
from torch.autograd import gradcheck

from notes_code.pascanu2013.rnn import (
    PascanuRNN,
    activation_derivative,
    rnn_state_list,
    rnn_states,
    spectral_radius,
)

ACTS = ["tanh", "sigmoid", "linear"]


def _params(n: int, n_in: int, seed: int = 0, scale: float = 0.5) -> tuple[torch.Tensor, ...]:
    g = torch.Generator().manual_seed(seed)
    W_rec = torch.randn(n, n, generator=g, dtype=torch.float64) * scale
    W_in = torch.randn(n, n_in, generator=g, dtype=torch.float64)
    b = torch.randn(n, generator=g, dtype=torch.float64) * 0.1
    return W_rec, W_in, b


@pytest.mark.claim("pascanu2013/rnn-gradcheck")
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


def test_activation_derivative_matches_autograd() -> None:
    """Eq. (5), §1.1: σ'(x) used in the Jacobians equals autograd's derivative."""
    x = torch.linspace(-5, 5, 101, dtype=torch.float64, requires_grad=True)
    for act, f in [("tanh", torch.tanh), ("sigmoid", torch.sigmoid), ("linear", lambda z: z * 1)]:
        (g,) = torch.autograd.grad(f(x).sum(), x)
        torch.testing.assert_close(activation_derivative(x.detach(), act), g)


def test_sigmoid_and_basic_tanh_init() -> None:
    """§4.1.1: 'sigmoid' init is N(0, 0.01) (std), 'basic tanh' N(0, 0.1); biases are zero."""
    m = PascanuRNN.sigmoid_init(100, 200, 50, generator=0, dtype=torch.float64)
    assert m.activation == "sigmoid"
    for w in (m.W_in, m.W_rec, m.W_out):
        assert abs(float(w.detach().std()) - 0.01) < 0.0008
    assert torch.count_nonzero(m.b) == 0 and torch.count_nonzero(m.b_out) == 0
    t = PascanuRNN.basic_tanh_init(100, 200, 50, generator=0)
    assert t.activation == "tanh" and t.W_rec.dtype == torch.float32
    assert abs(float(t.W_rec.detach().std()) - 0.1) < 0.008


@pytest.mark.parametrize("connectivity,axis", [("incoming", 1), ("outgoing", 0)])
def test_smart_tanh_init(connectivity: str, axis: int) -> None:
    """§4.1.1: smart tanh keeps 15 non-zero incoming weights per unit, spectral radius 0.95."""
    m = PascanuRNN.smart_tanh_init(6, 50, 4, generator=3, dtype=torch.float64,
                                   connectivity=connectivity)
    nnz = (m.W_rec != 0).sum(axis)  # axis=1: per row (incoming in W @ h)
    assert torch.all(nnz == 15)
    assert abs(spectral_radius(m.W_rec) - 0.95) < 1e-9
    assert abs(float(m.W_in.detach().std()) - 0.01) < 0.003
    assert torch.count_nonzero(m.b) == 0


def test_init_is_reproducible() -> None:
    """Reproducibility: the same seed gives the same weights, another seed different ones."""
    a = PascanuRNN.smart_tanh_init(3, 20, 2, generator=7)
    b = PascanuRNN.smart_tanh_init(3, 20, 2, generator=torch.Generator().manual_seed(7))
    c = PascanuRNN.smart_tanh_init(3, 20, 2, generator=8)
    assert torch.equal(a.W_rec, b.W_rec) and torch.equal(a.W_in, b.W_in)
    assert not torch.equal(a.W_rec, c.W_rec)


def test_heads_and_losses() -> None:
    """§4.1 / released code: the three heads' shapes and losses (CE at last step or every step,
    squared error mean over batch summed over outputs)."""
    torch.manual_seed(0)
    u = torch.randn(7, 3, 4, dtype=torch.float64)
    m = PascanuRNN(4, 5, 2, head="last_linear", dtype=torch.float64)
    out = m(u)
    assert out.x.shape == (7, 3, 5) and out.y.shape == (3, 2) and len(out.steps) == 7
    torch.testing.assert_close(out.y, torch.tanh(out.x[-1]) @ m.W_out.T + m.b_out)
    target = torch.randn(3, 2, dtype=torch.float64)
    torch.testing.assert_close(m.loss(out.y, target), ((target - out.y) ** 2).mean(0).sum())
    torch.testing.assert_close(m.readout(out.x), out.y)

    s = PascanuRNN(4, 5, 6, head="softmax", dtype=torch.float64)
    ys = s(u).y
    assert ys.shape == (7, 3, 6)
    idx = torch.randint(0, 6, (7, 3))
    ref = -torch.log_softmax(ys, -1).gather(-1, idx[..., None]).mean()
    torch.testing.assert_close(s.loss(ys, idx), ref)
    onehot = torch.nn.functional.one_hot(idx, 6).double()
    torch.testing.assert_close(s.loss(ys, onehot), ref)

    c = PascanuRNN(4, 5, 6, head="last_softmax", dtype=torch.float64)
    yc = c(u).y
    assert yc.shape == (3, 6)
    torch.testing.assert_close(c.loss(yc, idx[0]), torch.nn.functional.cross_entropy(yc, idx[0]))


def test_bad_arguments() -> None:
    """Input validation: unknown activation or head names are rejected."""
    with pytest.raises(ValueError):
        PascanuRNN(1, 2, 1, activation="relu")  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        PascanuRNN(1, 2, 1, head="mse")  # type: ignore[arg-type]
