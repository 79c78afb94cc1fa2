"""Tests for notes_code.pascanu2013.activations: σ and σ' of eqs. (2) and (5)."""

from __future__ import annotations

import torch

from notes_code.pascanu2013.activations import activation_derivative


def test_activation_derivative_matches_autograd() -> None:
    """Eq. (5), §1.1: σ'(x) used in the Jacobians equals autograd's derivative."""
    x = torch.linspace(-5, 5, 101, dtype=torch.float64, requires_grad=True)
    for act, f in [("tanh", torch.tanh), ("sigmoid", torch.sigmoid), ("linear", lambda z: z * 1)]:
        (g,) = torch.autograd.grad(f(x).sum(), x)
        torch.testing.assert_close(activation_derivative(x.detach(), act), g)
