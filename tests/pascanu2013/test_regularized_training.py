"""Tests for notes_code.pascanu2013.regularized_training: one pass for E + αΩ (eq. 10, §3.3)."""

from __future__ import annotations

import math

import pytest
import torch

from notes_code.pascanu2013.bptt import model_bptt
from notes_code.pascanu2013.recurrence import rnn_states
from notes_code.pascanu2013.regularized_training import (
    backward_with_omega,
    loss_and_grads,
    omega_training_demo,
)
from notes_code.pascanu2013.regularizer import backprop_ratios, omega, omega_grad_W_rec
from notes_code.pascanu2013.rnn import PascanuRNN


@pytest.mark.parametrize("activation", ["tanh", "sigmoid"])
@pytest.mark.parametrize("head", ["last_softmax", "softmax", "last_linear"])
@pytest.mark.parametrize("T", [1, 6])
@pytest.mark.parametrize("squared,reduction", [(True, "mean"), (False, "sum")])
def test_loss_and_grads_adds_omega_to_W_rec_only(activation, head, T, squared, reduction) -> None:
    """Eq. (10), §3.3 and released code: the step's gradients are ∇E for every parameter plus
    α ∂+Ω/∂W_rec for W_rec only; δ equals explicit BPTT's total dE/dx_t; Ω and the ratios
    equal the definitions (all heads, T = 1 included)."""
    g = torch.Generator().manual_seed(T)
    model = PascanuRNN(3, 6, 4, activation=activation, head=head, std=0.5, generator=1,
                       dtype=torch.float64)
    B = 5
    u = torch.randn(T, B, 3, generator=g, dtype=torch.float64)
    if head == "last_softmax":
        target = torch.randint(0, 4, (B,), generator=g)
    elif head == "softmax":
        target = torch.randint(0, 4, (T, B), generator=g)
    else:
        target = torch.randn(B, 4, generator=g, dtype=torch.float64)
    kw = {"squared": squared, "reduction": reduction}
    step = loss_and_grads(model, u, target, alpha=2.0, **kw)
    out = model(u)
    loss = model.loss(out.y, target)
    names = [n for n, _ in model.named_parameters()]
    ref = dict(zip(names, torch.autograd.grad(loss, list(model.parameters())), strict=True))
    bp = model_bptt(model, u, target)
    torch.testing.assert_close(step.delta, bp.delta, rtol=1e-10, atol=1e-12)
    x = rnn_states(model.W_rec, model.W_in, model.b, u, activation).detach()
    torch.testing.assert_close(step.ratios, backprop_ratios(model.W_rec, x, step.delta, activation))
    g_om = omega_grad_W_rec(model.W_rec, x, step.delta, activation, **kw)
    for name in names:
        expected = ref[name] + (2.0 * g_om if name == "W_rec" else 0.0)
        torch.testing.assert_close(step.grads[name], expected, rtol=1e-10, atol=1e-12)
    torch.testing.assert_close(step.omega, omega(model.W_rec, x, step.delta, activation, **kw))
    # backward_with_omega writes the same into .grad (accumulating like backward())
    model.zero_grad()
    first = backward_with_omega(model, u, target, alpha=2.0, **kw).grads["W_rec"].clone()
    for name, p in model.named_parameters():
        torch.testing.assert_close(p.grad, step.grads[name], rtol=1e-12, atol=1e-14)
    backward_with_omega(model, u, target, alpha=2.0, **kw)
    torch.testing.assert_close(model.W_rec.grad, 2 * first, rtol=1e-12, atol=1e-14)


def test_training_with_omega_moves_ratios_towards_one() -> None:
    """§3.3: minimising E + αΩ (with clipping, 'MSGD-CR') drives Ω down and the per-step
    norm ratios ||δ_{k+1} ∂x_{k+1}/∂x_k|| / ||δ_{k+1}|| towards 1."""
    demo = omega_training_demo(steps=60)
    assert float(demo.omega[-1]) < 0.2 * float(demo.omega[0])
    dist_before = (demo.ratios_before - 1).abs().mean()
    dist_after = (demo.ratios_after - 1).abs().mean()
    assert float(dist_after) < 0.5 * float(dist_before)


def test_demo_really_clips() -> None:
    """Algorithm 1 inside the MSGD-CR demo (§3.2-3.3): most updates of the default demo have a
    pre-clipping norm >= the threshold, and clipping them changes the trajectory (a demo whose
    clip call were a no-op would equal the unclipped one)."""
    demo = omega_training_demo(steps=20)
    assert demo.grad_norms is not None and demo.grad_norms.shape == (20,)
    assert demo.n_clipped >= 10
    assert demo.n_clipped == int((demo.grad_norms >= 1.0).sum())
    free = omega_training_demo(steps=20, clip=math.inf)
    assert free.n_clipped == 0
    assert not torch.allclose(demo.omega[1:], free.omega[1:], rtol=1e-6, atol=0)
    # before the first update both saw the same model
    assert float(demo.omega[0]) == float(free.omega[0])
    torch.testing.assert_close(demo.grad_norms[0], free.grad_norms[0], rtol=0, atol=0)


def test_demo_defaults_and_config() -> None:
    """§3.3 demo (MSGD-CR on a toy memory task): by default alpha = 4, lr = 0.01, clip = 1,
    T = 30, batches of 20, 100 updates, seed 0, the basic tanh init; the result reports exactly
    the settings it ran with and one Omega / loss per update (plus the start), one ratio per k."""
    demo = omega_training_demo(n_hidden=2)
    assert demo.config == {"n_hidden": 2, "T": 30, "batch": 20, "steps": 100, "alpha": 4.0,
                           "lr": 0.01, "clip": 1.0, "seed": 0, "init": "basic_tanh"}
    assert demo.omega.shape == demo.loss.shape == (101,) and demo.grad_norms.shape == (100,)
    assert demo.ratios_before.shape == demo.ratios_after.shape == (30,)
    assert demo.n_clipped == int((demo.grad_norms >= 1.0).sum())


@pytest.mark.parametrize("init", ["basic_tanh", "sigmoid"])
def test_demo_starts_from_its_documented_model_and_data(init: str) -> None:
    """§3.3 demo, recomputed: the network is the named init of §4.1.1 drawn from the seed's
    generator, then the batches are drawn from the same generator (Gaussian inputs, target the
    first input); the demo's starting ratios and first Omega and loss are those of loss_and_grads."""
    n, T, B, alpha = 3, 5, 4, 2.5
    demo = omega_training_demo(n_hidden=n, T=T, batch=B, steps=1, alpha=alpha, seed=7, init=init)
    g = torch.Generator().manual_seed(7)
    make = PascanuRNN.basic_tanh_init if init == "basic_tanh" else PascanuRNN.sigmoid_init
    model = make(1, n, 1, head="last_linear", generator=g, dtype=torch.float64)
    u1, u2 = (torch.randn(T, B, 1, generator=g, dtype=torch.float64) for _ in range(2))
    first, second = loss_and_grads(model, u1, u1[0], alpha), loss_and_grads(model, u2, u2[0], alpha)
    torch.testing.assert_close(demo.ratios_before, first.ratios.nanmean(1), rtol=1e-12, atol=0,
                               equal_nan=True)
    # the first update's Omega and loss, on the second batch, before the update
    torch.testing.assert_close(demo.loss[0], second.loss, rtol=1e-12, atol=0)
    torch.testing.assert_close(demo.omega[0], second.omega, rtol=1e-12, atol=0)
    assert model.W_out.shape == (1, n)


def test_loss_and_grads_defaults_to_eq_10() -> None:
    """§3.3: the regulariser used by default is eq. (10), the squared form of Omega, with the
    released code's mean over valid (k, sequence) pairs (not eq. (9)'s absolute form)."""
    model = PascanuRNN(2, 4, 3, std=0.9, generator=3, dtype=torch.float64)
    u = torch.randn(6, 3, 2, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    target = torch.tensor([0, 2, 1])
    plain = loss_and_grads(model, u, target, alpha=1.5)
    eq10 = loss_and_grads(model, u, target, alpha=1.5, squared=True, reduction="mean")
    eq9 = loss_and_grads(model, u, target, alpha=1.5, squared=False)
    assert torch.equal(plain.omega, eq10.omega) and not torch.equal(plain.omega, eq9.omega)
    assert torch.equal(plain.grads["W_rec"], eq10.grads["W_rec"])


def test_backward_with_omega_passes_every_setting() -> None:
    """backward_with_omega accumulates exactly loss_and_grads' gradients for the same settings,
    the mask bound of eq. (10) included (a bound above every ||delta||^2 masks all pairs: Omega = 0
    and no Omega term in W_rec's gradient)."""
    model = PascanuRNN(2, 4, 3, std=0.9, generator=4, dtype=torch.float64)
    u = torch.randn(5, 3, 2, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    target = torch.tensor([1, 0, 2])
    for kw in ({"squared": False, "reduction": "sum", "bound": 1e-20}, {"bound": 1e30}):
        ref = loss_and_grads(model, u, target, 2.0, **kw)
        model.zero_grad(set_to_none=True)
        step = backward_with_omega(model, u, target, 2.0, **kw)
        assert torch.equal(step.omega, ref.omega)
        for name, p in model.named_parameters():
            assert torch.equal(p.grad, ref.grads[name])
    assert float(ref.omega) == 0.0
