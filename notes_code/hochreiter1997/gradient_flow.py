r"""# The constant error carousel, made visible

Backpropagated error is multiplied by Jacobians of the state transition. For the vanilla
RNN of Pascanu et al. (2013, eq. 5) one step multiplies by
$\mathbf{W}_{rec}\mathrm{diag}(\sigma'(\mathbf{x}_k))$, so
$\|\partial\mathbf{x}_t/\partial\mathbf{x}_k\| \le (\lambda_1\gamma)^{t-k}$, which vanishes
exponentially when $\lambda_1\gamma < 1$. Hochreiter & Schmidhuber (1997, §3.1) ask what a single
unit $j$ with a self-connection needs for *constant* error flow, $f_j'(net_j)\,w_{jj} = 1$: a
linear unit with weight 1 on itself. The LSTM cell state is exactly that unit. The state
of the cell is the pair $(\mathbf{h}_t, \mathbf{c}_t)$ and one step has the $2n \times 2n$
Jacobian (state order $(\mathbf{h}, \mathbf{c})$; $\mathbf{W}_{h\star}$ are the gate blocks of
$\mathbf{W}_{hh}$; $\sigma$ the logistic sigmoid)

$$
\frac{\partial(\mathbf{h}_t, \mathbf{c}_t)}{\partial(\mathbf{h}_{t-1}, \mathbf{c}_{t-1})} =
\begin{pmatrix}
\mathrm{diag}(\tanh\mathbf{c}_t\odot\sigma'_o)\mathbf{W}_{ho} + \mathbf{D}_t\mathbf{C}^h_t
  & \mathbf{D}_t\,\mathbf{F}_t \\
\mathbf{C}^h_t & \mathbf{F}_t
\end{pmatrix},
$$

with $\mathbf{D}_t = \mathrm{diag}(\mathbf{o}_t\odot(1-\tanh^2\mathbf{c}_t))$,
$\mathbf{C}^h_t = \mathrm{diag}(\mathbf{g}_t\odot\sigma'_i)\mathbf{W}_{hi}
+ \mathrm{diag}(\mathbf{i}_t\odot(1-\mathbf{g}_t^2))\mathbf{W}_{hg}
\;[+\,\mathrm{diag}(\mathbf{c}_{t-1}\odot\sigma'_f)\mathbf{W}_{hf}]$ and the **cell path**
$\mathbf{F}_t = \partial\mathbf{c}_t/\partial\mathbf{c}_{t-1}|_{\mathbf{h}_{t-1}}$:

* 1997 cell: $\mathbf{F}_t = \mathbf{I}$ exactly, the carousel. Along the cell path alone the
  error is carried unchanged over any lag, and that path is all the paper's *truncated*
  gradient keeps, so there $\partial\mathbf{c}_t/\partial\mathbf{c}_k = \mathbf{I}$. With full
  BPTT the Jacobian is $\mathbf{I}$ plus the paths through $\mathbf{h}$ and the gates, so it
  does not decay the way the vanilla RNN's does. It need not stay at 1 either: the feedback
  $\mathbf{c} \to \mathbf{h} \to (\mathbf{i}, \mathbf{g}) \to \mathbf{c}$ adds to the identity, and at
  the figure's initialisation ($\mathcal N(0, 0.1^2)$ weights, $n = 20$) its norm *grows*, to
  about 20-50 after 50 steps (`lag_norms`, seeds 0-4).
* forget gate (Gers et al. 2000): $\mathbf{F}_t = \mathrm{diag}(\mathbf{f}_t)$, so the cell path
  gives $\prod_i \mathrm{diag}(\mathbf{f}_i)$ and the error decays like $\bar f^{\,t-k}$ -- slowly
  only when the gate stays open ($f \approx 1$). With tiny weights the full Jacobian follows
  this rate; larger weights add paths through $\mathbf{h}$ that slow the decay somewhat.

Derivatives "with respect to $\mathbf{c}_k$" follow the computation graph: for $k \ge 1$ the
node $\mathbf{c}_k$ also feeds $\mathbf{h}_k = \mathbf{o}_k\odot\tanh\mathbf{c}_k$, so that path
is included; $(\mathbf{h}_0, \mathbf{c}_0)$ are independent inputs. Norms are spectral norms.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import torch
from torch import Tensor

from ..pascanu2013.jacobians import jacobian_norms_vs_lag, spectral_norms
from ..pascanu2013.rnn import PascanuRNN
from .lstm import LSTM, _check_params, lstm_states

Wrt = Literal["c", "h"]

#: Keys of `lag_norms`, in plotting order.
LSTM1997_C = "LSTM 1997: ∂c_t/∂c_k"
LSTM1997_H = "LSTM 1997: ∂h_t/∂h_k"
FORGET_C = "LSTM + forget gate: ∂c_t/∂c_k"
FORGET_H = "LSTM + forget gate: ∂h_t/∂h_k"
RNN_X = "vanilla RNN (tanh): ∂x_t/∂x_k"

#: Korean figure labels (matplotlib mathtext) for the keys of `lag_norms`.
FIGURE_LABELS = {
    LSTM1997_C: r"1997년 LSTM: $\|\partial c_t / \partial c_k\|$",
    LSTM1997_H: r"1997년 LSTM: $\|\partial h_t / \partial h_k\|$",
    FORGET_C: r"forget gate LSTM: $\|\partial c_t / \partial c_k\|$",
    FORGET_H: r"forget gate LSTM: $\|\partial h_t / \partial h_k\|$",
    RNN_X: r"vanilla RNN (tanh): $\|\partial x_t / \partial x_k\|$",
}


@dataclass
class Trace:
    r"""One sequence through the cell, with the gate values the Jacobians need.

    Attributes:
        h: $\mathbf{h}_0..\mathbf{h}_T$, `(T+1, n)`.
        c: $\mathbf{c}_0..\mathbf{c}_T$, `(T+1, n)`.
        i: input gates $\mathbf{i}_1..\mathbf{i}_T$, `(T, n)`.
        f: forget gates, `(T, n)` (all ones for the 1997 cell).
        g: cell inputs $\mathbf{g}_t$, `(T, n)`.
        o: output gates, `(T, n)`.
    """

    h: Tensor
    c: Tensor
    i: Tensor
    f: Tensor
    g: Tensor
    o: Tensor


def trace(
    W_ih: Tensor, W_hh: Tensor, b: Tensor, u: Tensor, forget_gate: bool,
    h0: Tensor | None = None, c0: Tensor | None = None,
) -> Trace:
    r"""Run one sequence and recover every gate value.

    Args:
        W_ih: input weights, `(4n, n_in)`, gate order $(i, f, g, o)$.
        W_hh: recurrent weights, `(4n, n)`.
        b: bias, `(4n,)`.
        u: one input sequence, `(T, n_in)`.
        forget_gate: `True` for Gers et al. (2000), `False` for the 1997 cell.
        h0: initial $\mathbf{h}_0$, `(n,)`; zeros when `None`.
        c0: initial $\mathbf{c}_0$, `(n,)`; zeros when `None`.

    Returns:
        A `Trace`.
    """
    n = _check_params(W_ih, W_hh, b)
    zero = u.new_zeros(n)
    h0 = zero if h0 is None else h0
    c0 = zero if c0 is None else c0
    h, c = lstm_states(W_ih, W_hh, b, u.unsqueeze(1), forget_gate, h0, c0)  # (T, 1, n) each
    h, c = torch.cat([h0[None], h[:, 0]]), torch.cat([c0[None], c[:, 0]])  # (T+1, n)
    a = u @ W_ih.t() + h[:-1] @ W_hh.t() + b  # (T, 4n): gate pre-activations from h_{t-1}
    a_i, a_f, a_g, a_o = a.chunk(4, dim=-1)
    f = torch.sigmoid(a_f) if forget_gate else torch.ones_like(a_f)
    return Trace(h, c, torch.sigmoid(a_i), f, torch.tanh(a_g), torch.sigmoid(a_o))


def step_jacobians(W_hh: Tensor, tr: Trace, forget_gate: bool) -> Tensor:
    r"""Step Jacobians $\partial(\mathbf{h}_t,\mathbf{c}_t)/\partial(\mathbf{h}_{t-1},\mathbf{c}_{t-1})$.

    Written out as in the module docstring (not by autograd), so tests can check them.

    Args:
        W_hh: recurrent weights, `(4n, n)`.
        tr: the `Trace` of the sequence.
        forget_gate: form of the cell.

    Returns:
        `(T, 2n, 2n)`, state order $(\mathbf{h}, \mathbf{c})$; entry `[t-1]` is step $t$.
    """
    W_hi, W_hf, W_hg, W_ho = W_hh.chunk(4, dim=0)  # (n, n) each
    i, f, g, o = tr.i, tr.f, tr.g, tr.o  # (T, n)
    tc = torch.tanh(tr.c[1:])  # (T, n)
    D = o * (1 - tc**2)  # dh_t/dc_t, diagonal
    C_h = (g * i * (1 - i))[..., None] * W_hi + (i * (1 - g**2))[..., None] * W_hg  # (T, n, n)
    if forget_gate:
        C_h = C_h + (tr.c[:-1] * f * (1 - f))[..., None] * W_hf
    F_diag = torch.diag_embed(f)  # (T, n, n): the cell path, I for the 1997 cell
    H_h = (tc * o * (1 - o))[..., None] * W_ho + D[..., None] * C_h
    top = torch.cat([H_h, D[..., None] * F_diag], dim=-1)
    return torch.cat([top, torch.cat([C_h, F_diag], dim=-1)], dim=-2)


def jacobian_products(
    W_ih: Tensor, W_hh: Tensor, b: Tensor, u: Tensor, forget_gate: bool, k: int = 1, wrt: Wrt = "c",
) -> tuple[Tensor, Tensor]:
    r"""Full (all-path) Jacobians of $\mathbf{h}_t$, $\mathbf{c}_t$ w.r.t. $\mathbf{c}_k$ or $\mathbf{h}_k$.

    The step Jacobians are chained, newest factor on the left, starting from the derivative of
    the pair $(\mathbf{h}_k, \mathbf{c}_k)$ with respect to the chosen node.

    Args:
        W_ih: input weights, `(4n, n_in)`.
        W_hh: recurrent weights, `(4n, n)`.
        b: bias, `(4n,)`.
        u: one input sequence, `(T, n_in)`; zero initial states.
        forget_gate: form of the cell.
        k: start step, `0 <= k <= T`.
        wrt: `"c"` for $\partial\cdot/\partial\mathbf{c}_k$, `"h"` for $\partial\cdot/\partial\mathbf{h}_k$.

    Returns:
        `(dh, dc)`, each `(T-k+1, n, n)`: `dh[j]` $=\partial\mathbf{h}_{k+j}/\partial\star_k$ and
        `dc[j]` $=\partial\mathbf{c}_{k+j}/\partial\star_k$.
    """
    T, n = u.shape[0], W_hh.shape[1]
    if not 0 <= k <= T or wrt not in ("c", "h"):
        raise ValueError(f"need 0 <= k <= {T} and wrt in ('c', 'h'); got k={k}, wrt={wrt!r}")
    tr = trace(W_ih, W_hh, b, u, forget_gate)
    J = step_jacobians(W_hh, tr, forget_gate)  # (T, 2n, 2n)
    eye, zero = torch.eye(n, dtype=u.dtype), torch.zeros(n, n, dtype=u.dtype)
    if wrt == "h":
        P = torch.cat([eye, zero])  # (2n, n): h_k moves, c_k does not
    else:  # c_k moves, and through h_k = o_k tanh(c_k) when k >= 1
        dh = torch.diag(tr.o[k - 1] * (1 - torch.tanh(tr.c[k]) ** 2)) if k >= 1 else zero
        P = torch.cat([dh, eye])
    Ps = [P]
    for J_t in J[k:].unbind(0):
        Ps.append(J_t @ Ps[-1])  # newest factor on the left
    S = torch.stack(Ps)  # (T-k+1, 2n, n)
    return S[:, :n], S[:, n:]


@dataclass
class LagNorms:
    r"""One curve of the figure: a Jacobian norm against the lag $t - k$.

    Attributes:
        lags: $\ell = t - k$, `(L,)` integer.
        norms: spectral norms of the Jacobian at each lag, `(L,)`.
        reference: a comparison curve `(L,)`, or `None`.
        reference_label: what `reference` is.
    """

    lags: Tensor
    norms: Tensor
    reference: Tensor | None
    reference_label: str


def _lstm_curves(model: LSTM, u: Tensor, k: int) -> tuple[LagNorms, LagNorms]:
    W = (model.W_ih.detach(), model.W_hh.detach(), model.b.detach())
    fg = model.forget_gate
    _, dc = jacobian_products(*W, u, fg, k, "c")
    dh, _ = jacobian_products(*W, u, fg, k, "h")
    f = trace(*W, u, fg).f[k:]  # (T-k, n): forget gates of steps k+1..T
    cell = torch.cat([f.new_ones(1, f.shape[1]), torch.cumprod(f, 0)]).amax(-1)  # ||prod diag(f)||
    lags = torch.arange(dc.shape[0])
    label = "cell path only: ||∏ diag(f_i)||" if fg else "cell path only (1997 truncated gradient): ||I|| = 1"
    return (LagNorms(lags, spectral_norms(dc), cell, label), LagNorms(lags, spectral_norms(dh), None, ""))


def lag_norms(
    T: int = 60, n: int = 20, n_in: int = 5, seed: int = 0, std: float = 0.1, forget_bias: float = 1.0,
    k: int = 1,
) -> dict[str, LagNorms]:
    r"""The curves of the carousel figure, for one random sequence (float64).

    The three networks get the same kind of initialisation: every weight
    $\mathcal N(0, \text{std}^2)$, zero biases, except the forget bias of the forget-gate LSTM.
    Both LSTMs are built from the same seed, so they share all weights. The input is
    $\mathbf{u}_t \sim \mathcal N(0, \mathbf{I})$.

    Args:
        T: sequence length.
        n: hidden units / memory cells.
        n_in: input size.
        seed: seeds the weights and the input.
        std: weight standard deviation.
        forget_bias: forget-gate bias of the forget-gate LSTM ($\bar f \approx \sigma(\text{bias})$).
        k: start step of the lags.

    Returns:
        `LagNorms` keyed by `LSTM1997_C`, `LSTM1997_H`, `FORGET_C`, `FORGET_H` and `RNN_X`; the
        LSTM $\partial\mathbf{c}$ curves carry the cell-path-only norm as reference, the RNN
        the bound $(\lambda_1\gamma)^{t-k}$.
    """
    with torch.no_grad():
        g = torch.Generator().manual_seed(seed)
        u = torch.randn(T, n_in, generator=g, dtype=torch.float64)
        out: dict[str, LagNorms] = {}
        for fg, kc, kh in ((False, LSTM1997_C, LSTM1997_H), (True, FORGET_C, FORGET_H)):
            model = LSTM(n_in, n, fg, std, forget_bias, seed, torch.float64)
            out[kc], out[kh] = _lstm_curves(model, u, k)
        rnn = PascanuRNN(n_in, n, 1, "tanh", std=std, generator=seed, dtype=torch.float64)
        jn = jacobian_norms_vs_lag(rnn.W_rec.detach(), rnn.W_in.detach(), rnn.b.detach(), u, "tanh", k)
        out[RNN_X] = LagNorms(jn.lags, jn.norms, jn.bound, f"(λ1γ)^(t-k), λ1γ = {jn.lambda1_gamma:.3f}")
    return out


__all__ = [
    "FORGET_C",
    "FORGET_H",
    "LSTM1997_C",
    "LSTM1997_H",
    "RNN_X",
    "LagNorms",
    "Trace",
    "jacobian_products",
    "lag_norms",
    "step_jacobians",
    "trace",
]
