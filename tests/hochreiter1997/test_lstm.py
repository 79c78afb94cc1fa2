"""Tests for notes_code.hochreiter1997.lstm: the 1997 memory cell and the forget-gate variant."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from notes_code.hochreiter1997.lstm import (
    LSTM,
    SATURATED_FORGET_BIAS,
    lstm_state_list,
    lstm_states,
    lstm_step,
)

SIZES = [(1, 1), (1, 3), (5, 2), (17, 4)]  # (T, B)


def _torch_lstm(seed: int, n_in: int = 3, n: int = 5) -> nn.LSTM:
    torch.manual_seed(seed)
    m = nn.LSTM(n_in, n, dtype=torch.float64)
    with torch.no_grad():  # default init is U(-1/sqrt(n), 1/sqrt(n)); make the biases non-trivial too
        for p in m.parameters():
            p.uniform_(-0.8, 0.8)
    return m


def _inputs(seed: int, T: int, B: int, n_in: int = 3, n: int = 5):
    g = torch.Generator().manual_seed(seed)
    u = torch.randn(T, B, n_in, generator=g, dtype=torch.float64)
    h0 = torch.randn(B, n, generator=g, dtype=torch.float64) * 0.5
    c0 = torch.randn(B, n, generator=g, dtype=torch.float64)
    return u, h0, c0


@pytest.mark.claim("hochreiter1997/matches-torch-lstm", modules=["hochreiter1997.lstm"])
@pytest.mark.parametrize("T,B", SIZES)
def test_forget_gate_form_matches_torch_lstm(T: int, B: int) -> None:
    """Gers et al. (2000): c_t = f_t⊙c_{t-1} + i_t⊙g_t, h_t = o_t⊙tanh(c_t) is the cell of
    torch.nn.LSTM: with copied weights all h_t, c_T and the weight gradients agree (float64, 1e-10),
    from zero and from random initial states."""
    m = _torch_lstm(T * 10 + B)
    ours = LSTM.from_torch(m, forget_gate=True)
    u, h0, c0 = _inputs(T + B, T, B)
    for init in (None, (h0, c0)):
        h, c = ours(u) if init is None else ours(u, h0, c0)
        ref, (hT, cT) = m(u) if init is None else m(u, (h0[None], c0[None]))
        assert h.shape == c.shape == (T, B, 5)
        torch.testing.assert_close(h, ref, rtol=1e-10, atol=1e-10)
        torch.testing.assert_close(h[-1], hT[0], rtol=1e-10, atol=1e-10)
        torch.testing.assert_close(c[-1], cT[0], rtol=1e-10, atol=1e-10)
    ours.zero_grad()
    m.zero_grad()
    w = torch.randn(T, B, 5, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    ((ours(u)[0] * w).sum() + ours(u)[1][-1].sum()).backward()
    (ref, (_, cT)) = m(u)
    ((ref * w).sum() + cT.sum()).backward()
    torch.testing.assert_close(ours.W_ih.grad, m.weight_ih_l0.grad, rtol=1e-10, atol=1e-10)
    torch.testing.assert_close(ours.W_hh.grad, m.weight_hh_l0.grad, rtol=1e-10, atol=1e-10)
    torch.testing.assert_close(ours.b.grad, m.bias_ih_l0.grad, rtol=1e-10, atol=1e-10)


@pytest.mark.claim("hochreiter1997/no-forget-form-coincides", modules=["hochreiter1997.lstm"])
@pytest.mark.parametrize("T,B", SIZES)
def test_1997_form_coincides_with_saturated_torch_lstm(T: int, B: int) -> None:
    """§4 (1997): s_c(t) = s_c(t-1) + y^in g(net_c), the carousel with weight 1. It is torch's
    forget-gate cell with f_t = 1: setting torch's forget bias to +1e4 (sigmoid = 1 exactly) makes
    torch.nn.LSTM equal our 1997 form (1e-10); with the unsaturated bias the two differ."""
    m = _torch_lstm(T * 7 + B)
    u, h0, c0 = _inputs(T * 3 + B, T, B)
    ours = LSTM.from_torch(m, forget_gate=False)
    h_free = m(u, (h0[None], c0[None]))[0].detach()  # forget gate not saturated
    with torch.no_grad():
        m.bias_ih_l0[5:10] = 1e4
    h, c = ours(u, h0, c0)
    ref, (_, cT) = m(u, (h0[None], c0[None]))
    torch.testing.assert_close(h, ref, rtol=1e-10, atol=1e-10)
    torch.testing.assert_close(c[-1], cT[0], rtol=1e-10, atol=1e-10)
    assert (h - h_free).abs().max() > 1e-3  # the saturation mattered


@pytest.mark.parametrize("forget_gate", [True, False])
def test_to_torch_round_trip(forget_gate: bool) -> None:
    """Weights copy both ways: LSTM -> to_torch() computes the same states (1997 form via a
    saturated forget gate, SATURATED_FORGET_BIAS), and from_torch(to_torch()) reproduces them."""
    ours = LSTM(3, 4, forget_gate, std=0.5, forget_bias=0.7, generator=2, dtype=torch.float64)
    u, h0, c0 = _inputs(9, 6, 3, 3, 4)
    t = ours.to_torch()
    h, c = ours(u, h0, c0)
    ref, (_, cT) = t(u, (h0[None], c0[None]))
    torch.testing.assert_close(h, ref, rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(c[-1], cT[0], rtol=1e-12, atol=1e-12)
    assert float(t.bias_ih_l0.detach()[4:8].min()) == (0.7 if forget_gate else SATURATED_FORGET_BIAS)
    back = LSTM.from_torch(t, forget_gate)
    torch.testing.assert_close(back(u, h0, c0)[0], h, rtol=1e-12, atol=1e-12)


def test_1997_form_by_hand_one_unit() -> None:
    """§4 (1997) with n = 1, worked by hand: c_1 = c_0 + σ(a_i) tanh(a_g), h_1 = σ(a_o) tanh(c_1),
    whatever the forget-gate weights are (they are stored but unused)."""
    W_ih = torch.tensor([[0.5], [9.0], [-1.0], [2.0]], dtype=torch.float64)  # i, f, g, o
    W_hh = torch.tensor([[0.1], [9.0], [0.3], [-0.2]], dtype=torch.float64)
    b = torch.tensor([0.2, 9.0, -0.1, 0.4], dtype=torch.float64)
    u, h0, c0 = 0.7, 0.3, -1.2
    s = lambda x: 1 / (1 + torch.exp(-torch.tensor(x, dtype=torch.float64)))  # noqa: E731
    th = lambda x: torch.tanh(torch.tensor(x, dtype=torch.float64))  # noqa: E731
    a_i, a_g, a_o = 0.5 * u + 0.1 * h0 + 0.2, -1.0 * u + 0.3 * h0 - 0.1, 2.0 * u - 0.2 * h0 + 0.4
    c1 = c0 + s(a_i) * th(a_g)
    h1 = s(a_o) * torch.tanh(c1)
    h, c = lstm_states(W_ih, W_hh, b, torch.full((1, 1, 1), u, dtype=torch.float64), False,
                       torch.tensor([h0], dtype=torch.float64), torch.tensor([c0], dtype=torch.float64))
    torch.testing.assert_close(c[0, 0, 0], c1, rtol=1e-14, atol=1e-14)
    torch.testing.assert_close(h[0, 0, 0], h1, rtol=1e-14, atol=1e-14)


def test_f_rows_unused_by_1997_form() -> None:
    """The 1997 form has no forget gate: changing the f rows changes nothing, and their gradient is 0."""
    m = LSTM(3, 4, forget_gate=False, std=0.5, generator=1, dtype=torch.float64)
    u = _inputs(0, 5, 2, 3, 4)[0]
    h, _ = m(u)
    h.sum().backward()
    for p in (m.W_ih, m.W_hh, m.b):
        assert torch.all(p.grad[4:8] == 0) and p.grad[:4].abs().sum() > 0
    with torch.no_grad():
        m.W_ih[4:8] += 3.0
        m.b[4:8] -= 5.0
    assert torch.equal(m(u)[0], h.detach())


def test_step_and_state_list_agree_with_states() -> None:
    """lstm_step iterated, lstm_state_list and lstm_states compute the same recurrence (both forms)."""
    m = LSTM(3, 4, std=0.6, generator=3, dtype=torch.float64)
    u, h0, c0 = _inputs(1, 6, 2, 3, 4)
    for fg in (True, False):
        h, c = lstm_states(m.W_ih, m.W_hh, m.b, u, fg, h0, c0)
        hs, cs = lstm_state_list(m.W_ih, m.W_hh, m.b, u, fg, h0, c0)
        assert torch.equal(torch.stack(hs), h) and torch.equal(torch.stack(cs), c)
        h_t, c_t = h0, c0
        for t in range(6):
            h_t, c_t = lstm_step(u[t], h_t, c_t, m.W_ih, m.W_hh, m.b, fg)
            torch.testing.assert_close(h_t, h[t], rtol=1e-13, atol=1e-13)
            torch.testing.assert_close(c_t, c[t], rtol=1e-13, atol=1e-13)


@pytest.mark.parametrize("forget_gate", [True, False])
def test_gradcheck(forget_gate: bool) -> None:
    """Autograd through the recurrence matches finite differences (float64, T = 3, B = 2, n = 2)
    for the weights, the inputs and the initial states."""
    g = torch.Generator().manual_seed(4)
    args = [torch.randn(*s, generator=g, dtype=torch.float64, requires_grad=True)
            for s in [(8, 3), (8, 2), (8,), (3, 2, 3), (2, 2), (2, 2)]]

    def f(W_ih, W_hh, b, u, h0, c0):
        h, c = lstm_states(W_ih, W_hh, b, u, forget_gate, h0, c0)
        return h, c

    assert torch.autograd.gradcheck(f, args)


def test_init_shared_between_forms_and_seeded() -> None:
    """A seed fixes the weights; both forms get the same draw; std and forget_bias are honoured."""
    a = LSTM(3, 4, True, std=0.1, forget_bias=1.5, generator=7)
    b = LSTM(3, 4, False, std=0.1, forget_bias=1.5, generator=7)
    assert torch.equal(a.W_ih, b.W_ih) and torch.equal(a.W_hh, b.W_hh) and torch.equal(a.b, b.b)
    assert torch.equal(a.b[4:8], torch.full((4,), 1.5)) and torch.all(a.b[:4] == 0)
    big = LSTM(50, 50, std=0.1, generator=0, dtype=torch.float64)
    assert abs(float(big.W_hh.detach().std()) - 0.1) < 0.005
    assert a.n_hidden == 4 and a.W_ih.dtype == torch.get_default_dtype()


def test_validation_errors() -> None:
    """Bad shapes and unsupported torch modules are rejected with ValueError."""
    m = LSTM(3, 4, generator=0)
    with pytest.raises(ValueError):
        m(torch.zeros(5, 2, 2))  # wrong n_in
    with pytest.raises(ValueError):
        m(torch.zeros(5, 3))  # not (T, B, n_in)
    with pytest.raises(ValueError):
        m(torch.zeros(5, 2, 3), h0=torch.zeros(3, 4))  # wrong batch
    with pytest.raises(ValueError):
        lstm_states(m.W_ih, m.W_hh[:8], m.b, torch.zeros(2, 1, 3), True)
    with pytest.raises(ValueError):
        LSTM(0, 4)
    bads = (nn.LSTM(3, 4, num_layers=2), nn.LSTM(3, 4, bidirectional=True), nn.LSTM(3, 4, batch_first=True))
    for bad in bads:
        with pytest.raises(ValueError):
            LSTM.from_torch(bad)


def test_init_is_the_documented_draw() -> None:
    """§5 (weights drawn small and random): the defaults are the Gers et al. (2000) form with
    std = 0.1, zero biases and seed 0; the weights are std times the float64 N(0, 1) draw of the
    seed (W_ih first, then W_hh), so float32 and float64 models of one seed hold the same weights
    up to rounding; forget_bias fills the f block (rows n..2n) only."""
    n, n_in = 3, 2
    m = LSTM(n_in, n)
    assert m.forget_gate is True and torch.equal(m.b, torch.zeros(4 * n))
    g = torch.Generator().manual_seed(0)
    W_ih = torch.randn(4 * n, n_in, generator=g, dtype=torch.float64)
    W_hh = torch.randn(4 * n, n, generator=g, dtype=torch.float64)
    torch.testing.assert_close(m.W_ih.detach(), (0.1 * W_ih).float(), rtol=0, atol=0)
    torch.testing.assert_close(m.W_hh.detach(), (0.1 * W_hh).float(), rtol=0, atol=0)
    assert torch.equal(LSTM(n_in, n, generator=None).W_hh, LSTM(n_in, n, generator=0).W_hh)
    s = LSTM(n_in, n, std=0.5, forget_bias=2.0, generator=5, dtype=torch.float64)
    g = torch.Generator().manual_seed(5)
    assert torch.equal(s.W_ih.detach(), 0.5 * torch.randn(4 * n, n_in, generator=g, dtype=torch.float64))
    assert torch.equal(s.W_hh.detach(), 0.5 * torch.randn(4 * n, n, generator=g, dtype=torch.float64))
    assert s.b.tolist() == [0.0] * n + [2.0] * n + [0.0] * (2 * n)
    same = torch.Generator().manual_seed(5)
    assert torch.equal(LSTM(n_in, n, std=0.5, generator=same, dtype=torch.float64).W_ih, s.W_ih)


def test_smallest_sizes_and_size_errors() -> None:
    """A single input and a single memory cell (n_in = n = 1, the by-hand case of §4) are valid;
    zero sizes are refused with a message naming both sizes."""
    m = LSTM(1, 1, generator=0, dtype=torch.float64)
    h, c = m(torch.ones(2, 1, 1, dtype=torch.float64))
    assert h.shape == c.shape == (2, 1, 1)
    with pytest.raises(ValueError, match=r"n_in and n_hidden must be >= 1, got 0, 4"):
        LSTM(0, 4)
    with pytest.raises(ValueError, match=r"n_in and n_hidden must be >= 1, got 3, 0"):
        LSTM(3, 0)


def test_validation_messages() -> None:
    """Shape errors say what was expected and what came: parameters (4n rows, b of 4n), inputs
    (T, B, n_in) and initial states h0 / c0 of (B, n) or (n,)."""
    m = LSTM(3, 4, generator=0)
    W_ih, W_hh, b = m.W_ih.detach(), m.W_hh.detach(), m.b.detach()
    u = torch.zeros(2, 1, 3)
    params = r"expected W_ih \(4n, n_in\), W_hh \(4n, n\), b \(4n,\)"
    with pytest.raises(ValueError, match=params + r"; got \(16, 3\), \(16, 4\), \(15,\)"):
        lstm_states(W_ih, W_hh, b[:15], u, True)  # only b is wrong
    with pytest.raises(ValueError, match=params):
        lstm_states(W_ih.unsqueeze(-1), W_hh, b, u, True)  # W_ih not 2-D, its 4n rows right
    with pytest.raises(ValueError, match=params):
        lstm_step(u[0], torch.zeros(1, 4), torch.zeros(1, 4), W_ih, W_hh.flatten(), b, True)
    with pytest.raises(ValueError, match=r"u must be \(T, B, 3\), got \(2, 1, 2\)"):
        m(torch.zeros(2, 1, 2))
    with pytest.raises(ValueError, match=r"h0 must be \(1, 4\) or \(4,\), got \(2, 4\)"):
        m(u, h0=torch.zeros(2, 4))
    with pytest.raises(ValueError, match=r"c0 must be \(1, 4\) or \(4,\), got \(3,\)"):
        m(u, c0=torch.zeros(3))
    bad = "from_torch needs num_layers=1, unidirectional, proj_size=0, batch_first=False"
    with pytest.raises(ValueError, match=f"^{bad}$"):
        LSTM.from_torch(nn.LSTM(3, 4, num_layers=2))


@pytest.mark.parametrize("forget_gate", [True, False])
def test_step_on_any_leading_shape(forget_gate: bool) -> None:
    """lstm_step takes u_t of shape (..., n_in): on a (2, 3, n_in) input it equals the step on
    the flattened (6, n_in) batch, with the bias b of every gate applied (§4's net inputs)."""
    m = LSTM(3, 4, std=0.6, generator=2, dtype=torch.float64)
    with torch.no_grad():
        m.b.uniform_(-1, 1, generator=torch.Generator().manual_seed(0))
    g = torch.Generator().manual_seed(1)
    u, h, c = (torch.randn(2, 3, k, generator=g, dtype=torch.float64) for k in (3, 4, 4))
    h1, c1 = lstm_step(u, h, c, m.W_ih, m.W_hh, m.b, forget_gate)
    hf, cf = lstm_states(m.W_ih, m.W_hh, m.b, u.reshape(1, 6, 3), forget_gate, h.reshape(6, 4),
                         c.reshape(6, 4))
    torch.testing.assert_close(h1.reshape(6, 4), hf[0], rtol=1e-13, atol=1e-13)
    torch.testing.assert_close(c1.reshape(6, 4), cf[0], rtol=1e-13, atol=1e-13)


@pytest.mark.parametrize("forget_gate", [True, False])
def test_everything_stays_on_the_parameters_device(forget_gate: bool) -> None:
    """The cell is device-agnostic: the f-row indices of the 1997 form, the states and the copies
    to and from torch.nn.LSTM live on the parameters' device (torch's shape-only "meta" device,
    which refuses to mix with CPU tensors as CUDA would)."""
    m = LSTM(3, 4, forget_gate, generator=0, device="meta")
    assert m.W_ih.device.type == "meta"
    u = torch.zeros(2, 1, 3, device="meta")
    h, c = m(u)
    h1, c1 = lstm_step(u[0], h[0], c[0], m.W_ih, m.W_hh, m.b, forget_gate)
    assert {t.device.type for t in (h, c, h1, c1)} == {"meta"}
    t = m.to_torch()
    assert t.weight_ih_l0.device.type == "meta"
    back = LSTM.from_torch(t, forget_gate)
    assert back.W_hh.device.type == "meta" and back.forget_gate is forget_gate


def test_from_torch_defaults_and_bias_free_module() -> None:
    """from_torch copies into the forget-gate form unless told otherwise; a torch.nn.LSTM without
    biases gives b = 0 and the same outputs."""
    src = _torch_lstm(3)
    assert LSTM.from_torch(src).forget_gate is True
    torch.manual_seed(0)
    nob = nn.LSTM(3, 5, bias=False, dtype=torch.float64)
    m = LSTM.from_torch(nob)
    assert torch.equal(m.b.detach(), torch.zeros(20, dtype=torch.float64))
    u = torch.randn(4, 2, 3, dtype=torch.float64)
    torch.testing.assert_close(m(u)[0], nob(u)[0], rtol=1e-12, atol=1e-12)


def test_1997_to_torch_for_huge_inputs() -> None:
    """§4 (1997): the torch copy of the no-forget cell has f_t = 1 for *every* input (its f rows
    are zero, its f bias SATURATED_FORGET_BIAS), so it keeps matching even for inputs of size 1e5,
    where any weight left in an f row would drive the forget gate to 0."""
    m = LSTM(3, 4, forget_gate=False, std=0.5, generator=1, dtype=torch.float64)
    t = m.to_torch()
    n = 4
    assert torch.equal(t.weight_ih_l0[n:2 * n], torch.zeros(n, 3, dtype=torch.float64))
    assert torch.equal(t.weight_hh_l0[n:2 * n], torch.zeros(n, n, dtype=torch.float64))
    u = torch.full((6, 2, 3), -1e5, dtype=torch.float64)
    u[:, 1] = 1e5
    torch.testing.assert_close(t(u)[0], m(u)[0], rtol=1e-12, atol=1e-12)
