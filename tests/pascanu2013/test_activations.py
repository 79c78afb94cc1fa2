"""Tests for notes_code.pascanu2013.activations: σ and σ' of eqs. (2) and (5)."""

from __future__ import annotations

import pytest
import torch

from notes_code.pascanu2013.activations import (
    ACTIVATIONS,
    activation_derivative,
    activation_fn,
    derivative_from_output,
)

FUNCS = {"tanh": torch.tanh, "sigmoid": torch.sigmoid, "linear": lambda z: z * 1}


def test_activation_derivative_matches_autograd() -> None:
    """Eq. (5), §1.1: σ'(x) used in the Jacobians equals autograd's derivative."""
    x = torch.linspace(-5, 5, 101, dtype=torch.float64, requires_grad=True)
    for act, f in FUNCS.items():
        (g,) = torch.autograd.grad(f(x).sum(), x)
        torch.testing.assert_close(activation_derivative(x.detach(), act), g)


@pytest.mark.parametrize("activation", ACTIVATIONS)
@pytest.mark.parametrize("inplace", [False, True])
def test_derivative_from_output_matches_autograd(activation: str, inplace: bool) -> None:
    """Eq. (5), §1.1 and the released code: σ'(x) computed from h = σ(x) (1 - h² for tanh,
    h(1 - h) for sigmoid, 1 for linear) equals autograd's derivative, in both the in-place branch
    (which returns h itself) and the allocating one (which leaves h untouched)."""
    x = torch.linspace(-4, 4, 57, dtype=torch.float64, requires_grad=True)
    (ref,) = torch.autograd.grad(FUNCS[activation](x).sum(), x)
    h = activation_fn(activation)(x.detach()).clone()
    h_before = h.clone()
    out = derivative_from_output(h, activation, inplace=inplace)
    torch.testing.assert_close(out, ref, rtol=1e-12, atol=1e-14)
    if inplace:
        assert out.data_ptr() == h.data_ptr()
    else:
        assert out.data_ptr() != h.data_ptr() and torch.equal(h, h_before)


def test_activation_fn_and_errors() -> None:
    """Eq. (2): σ is tanh, the logistic sigmoid or the identity; anything else is refused."""
    x = torch.linspace(-3, 3, 13, dtype=torch.float64)
    for act, f in FUNCS.items():
        torch.testing.assert_close(activation_fn(act)(x), f(x))
    for fn in (activation_fn, lambda a: activation_derivative(x, a),
               lambda a: derivative_from_output(x, a)):
        with pytest.raises(ValueError, match="relu"):
            fn("relu")


def test_derivative_from_output_allocates_by_default() -> None:
    """The default (as in the forward pass of eq. 2, where h is still needed) leaves h intact."""
    for act in ACTIVATIONS:
        h = torch.tensor([0.25, -0.5], dtype=torch.float64)
        out = derivative_from_output(h, act)
        assert torch.equal(h, torch.tensor([0.25, -0.5], dtype=torch.float64))
        assert out.dtype == h.dtype and out.data_ptr() != h.data_ptr()
