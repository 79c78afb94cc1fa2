"""Tests for notes_code.pascanu2013.bptt: explicit BPTT (eqs. 3-5) against autograd."""

from __future__ import annotations

import pytest
import torch

from notes_code.pascanu2013.bptt import (
    explicit_bptt,
    immediate_state_grads,
    model_bptt,
    temporal_contributions,
)
from notes_code.pascanu2013.recurrence import rnn_state_list
from notes_code.pascanu2013.rnn import PascanuRNN


def _model(activation: str, head: str, seed: int) -> PascanuRNN:
    return PascanuRNN(3, 5, 4, activation=activation, head=head, std=0.6, generator=seed,
                      dtype=torch.float64)


def _target(head: str, T: int, B: int, g: torch.Generator) -> torch.Tensor:
    if head == "last_softmax":
        return torch.randint(0, 4, (B,), generator=g)
    if head == "softmax":
        return torch.randint(0, 4, (T, B), generator=g)
    return torch.randn(B, 4, generator=g, dtype=torch.float64)


@pytest.mark.claim("pascanu2013/bptt-decomposition", modules=["pascanu2013.bptt"])
@pytest.mark.parametrize("activation", ["tanh", "sigmoid"])
@pytest.mark.parametrize("head", ["last_softmax", "softmax", "last_linear"])
@pytest.mark.parametrize("T,B", [(1, 1), (1, 3), (2, 2), (9, 4)])
def test_explicit_bptt_equals_autograd(activation: str, head: str, T: int, B: int) -> None:
    """Eqs. (3)-(5), §1.1: the readable backward recursion gives autograd's gradients for
    W_rec, W_in, b and every total dE/dx_t, to 1e-10 in float64 (T = 1 included)."""
    g = torch.Generator().manual_seed(T * 10 + B)
    model = _model(activation, head, seed=T + B)
    u = torch.randn(T, B, 3, generator=g, dtype=torch.float64)
    target = _target(head, T, B, g)

    out = model(u)
    loss = model.loss(out.y, target)
    params = [model.W_rec, model.W_in, model.b]
    ref = torch.autograd.grad(loss, [*params, *out.steps])

    res = model_bptt(model, u, target)
    for mine, theirs in zip([res.W_rec, res.W_in, res.b], ref[:3], strict=True):
        torch.testing.assert_close(mine, theirs, rtol=1e-10, atol=1e-10)
    torch.testing.assert_close(res.delta, torch.stack(ref[3:]), rtol=1e-10, atol=1e-10)


def test_bptt_with_initial_state_and_per_step_costs() -> None:
    """Eq. (3), §1.1: with E = Σ_t E_t (a cost at every step) and a non-zero x_0, BPTT also
    returns dE/dx_0 equal to autograd."""
    g = torch.Generator().manual_seed(0)
    W_rec = torch.randn(4, 4, generator=g, dtype=torch.float64, requires_grad=True)
    W_in = torch.randn(4, 2, generator=g, dtype=torch.float64, requires_grad=True)
    b = torch.randn(4, generator=g, dtype=torch.float64, requires_grad=True)
    x0 = torch.randn(3, 4, generator=g, dtype=torch.float64, requires_grad=True)
    u = torch.randn(6, 3, 2, generator=g, dtype=torch.float64)
    c = torch.randn(6, 3, 4, generator=g, dtype=torch.float64)

    def cost(x: torch.Tensor) -> torch.Tensor:  # E = sum_t E_t(x_t), E_t = <c_t, tanh(x_t)^2>
        return (c * torch.tanh(x) ** 2).sum()

    x = torch.stack(rnn_state_list(W_rec, W_in, b, u, "sigmoid", x0))
    ref = torch.autograd.grad(cost(x), [W_rec, W_in, b, x0])
    xl = x.detach().requires_grad_(True)
    (dE_dx,) = torch.autograd.grad(cost(xl), xl)
    res = explicit_bptt(W_rec, W_in, b, u, dE_dx, "sigmoid", x0=x0)
    for mine, theirs in zip([res.W_rec, res.W_in, res.b, res.delta0], ref, strict=True):
        torch.testing.assert_close(mine, theirs, rtol=1e-10, atol=1e-10)


def test_immediate_grads_are_not_total() -> None:
    """§1.1 (∂^+ notation): the head's immediate dE/dx_t is zero before the last step for a
    last-step cost, while the total derivative is not."""
    model = _model("tanh", "last_softmax", seed=0)
    u = torch.randn(5, 2, 3, dtype=torch.float64)
    target = torch.tensor([0, 3])
    _, dE_dx = immediate_state_grads(model, u, target)
    assert float(dE_dx[:-1].abs().max()) == 0.0 and float(dE_dx[-1].abs().max()) > 0
    res = model_bptt(model, u, target)
    assert float(res.delta[0].abs().max()) > 0


@pytest.mark.claim("pascanu2013/bptt-decomposition", modules=["pascanu2013.bptt"])
@pytest.mark.parametrize("activation", ["tanh", "sigmoid"])
def test_temporal_contributions_sum_to_gradient(activation: str) -> None:
    """Eqs. (3)-(4), §1.1: summing the temporal contributions
    dE_t/dx_t · dx_t/dx_k · d+x_k/dW_rec over 1 ≤ k ≤ t ≤ T gives autograd's dE/dW_rec."""
    g = torch.Generator().manual_seed(1)
    W_rec = torch.randn(3, 3, generator=g, dtype=torch.float64, requires_grad=True)
    W_in = torch.randn(3, 2, generator=g, dtype=torch.float64)
    b = torch.randn(3, generator=g, dtype=torch.float64)
    u = torch.randn(5, 2, 2, generator=g, dtype=torch.float64)
    c = torch.randn(5, 2, 3, generator=g, dtype=torch.float64)
    x = torch.stack(rnn_state_list(W_rec, W_in, b, u, activation))
    # E_t = <c_t, x_t>, so the immediate dE_t/dx_t is c_t
    (ref,) = torch.autograd.grad((c * x).sum(), W_rec, retain_graph=True)
    C = temporal_contributions(W_rec, W_in, b, u, c, activation)
    assert C.shape == (5, 5, 3, 3)
    torch.testing.assert_close(C.sum((0, 1)), ref, rtol=1e-10, atol=1e-10)
    upper = torch.triu(torch.ones(5, 5, dtype=torch.bool), diagonal=1)  # k > t
    assert float(C[upper].abs().max()) == 0.0
    # each E_t's own contributions sum to dE_t/dW_rec
    (ref_last,) = torch.autograd.grad((c[-1] * x[-1]).sum(), W_rec)
    torch.testing.assert_close(C[-1].sum(0), ref_last, rtol=1e-10, atol=1e-10)


def _inputs(dtype: torch.dtype, device: str = "cpu", T: int = 4, B: int = 3, n: int = 4):
    g = torch.Generator().manual_seed(7)
    shapes = [(n, n), (n, 2), (n,), (T, B, 2), (T, B, n)]
    return [(0.7 * torch.randn(s, generator=g, dtype=torch.float64)).to(dtype=dtype, device=device)
            for s in shapes]


def test_low_precision_stays_in_its_dtype() -> None:
    """Eqs. (3)-(5), §1.1 in bfloat16: explicit BPTT and the temporal contributions of eq. (4)
    keep the inputs' dtype (the zero x_0 and delta_{T+1} are made in it, not in torch's default
    float32) and agree with the float64 computation to bfloat16 accuracy."""
    for fn in (explicit_bptt, temporal_contributions):
        ref = fn(*_inputs(torch.float64), "tanh")
        low = fn(*_inputs(torch.bfloat16), "tanh")
        pairs = ([(low.W_rec, ref.W_rec), (low.W_in, ref.W_in), (low.b, ref.b), (low.delta, ref.delta),
                  (low.delta0, ref.delta0)] if fn is explicit_bptt else [(low, ref)])
        for mine, theirs in pairs:
            assert mine.dtype == torch.bfloat16
            torch.testing.assert_close(mine.double(), theirs, rtol=0.05, atol=0.05)


def test_outputs_stay_on_the_inputs_device() -> None:
    """§1.1's BPTT is device-agnostic: every tensor it creates (x_0, delta_{T+1}, the (T, T, n, n)
    contributions) lives on the inputs' device; checked on torch's shape-only "meta" device, which
    refuses to mix with CPU tensors as CUDA would."""
    res = explicit_bptt(*_inputs(torch.float32, "meta"), "sigmoid")
    assert {t.device.type for t in (res.W_rec, res.W_in, res.b, res.delta, res.delta0)} == {"meta"}
    assert temporal_contributions(*_inputs(torch.float32, "meta"), "sigmoid").device.type == "meta"


def test_temporal_contributions_with_initial_state() -> None:
    """Eqs. (3)-(4), §1.1 with a non-zero x_0: the contributions are taken along the trajectory
    that starts at x_0 (its forward pass and its sigma(x_0) in d+x_1/dW_rec) and sum to autograd's
    dE/dW_rec."""
    g = torch.Generator().manual_seed(3)
    W_rec = torch.randn(3, 3, generator=g, dtype=torch.float64, requires_grad=True)
    W_in = torch.randn(3, 2, generator=g, dtype=torch.float64)
    b = torch.randn(3, generator=g, dtype=torch.float64)
    x0 = torch.randn(2, 3, generator=g, dtype=torch.float64)
    u = torch.randn(4, 2, 2, generator=g, dtype=torch.float64)
    c = torch.randn(4, 2, 3, generator=g, dtype=torch.float64)
    x = torch.stack(rnn_state_list(W_rec, W_in, b, u, "tanh", x0))
    (ref,) = torch.autograd.grad((c * x).sum(), W_rec)
    C = temporal_contributions(W_rec, W_in, b, u, c, "tanh", x0=x0)
    torch.testing.assert_close(C.sum((0, 1)), ref, rtol=1e-10, atol=1e-10)
