"""Tests for notes_code.pascanu2013.rnn: the model of eq. (2) and its initialisations."""

from __future__ import annotations

import pytest
import torch

from notes_code.pascanu2013.init import spectral_radius
from notes_code.pascanu2013.rnn import PascanuRNN


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
