r"""# The LSTM memory cell (1997) and its forget-gate variant (2000)

Hochreiter & Schmidhuber (1997) give each memory cell $c_j$ an internal state $s_{c_j}$ that
feeds back to itself with weight 1, the *constant error carousel* (CEC), guarded by a
multiplicative input gate $y^{in_j}$ and output gate $y^{out_j}$ (§4):

$$
s_{c_j}(t) = s_{c_j}(t-1) + y^{in_j}(t)\,g\big(net_{c_j}(t)\big), \qquad
y^{c_j}(t) = y^{out_j}(t)\,h\big(s_{c_j}(t)\big).
$$

In today's vector notation, with $\mathbf{c}_t \equiv s_c(t)$, $\mathbf{i}_t \equiv y^{in}(t)$,
$\mathbf{o}_t \equiv y^{out}(t)$, $\mathbf{h}_t \equiv y^{c}(t)$ and the gates fed by the input
$\mathbf{u}_t$ and the previous cell outputs $\mathbf{h}_{t-1}$:

$$
\begin{aligned}
\mathbf{a}_t &= \mathbf{W}_{ih}\mathbf{u}_t + \mathbf{W}_{hh}\mathbf{h}_{t-1} + \mathbf{b}
  = (\mathbf{a}^i_t, \mathbf{a}^f_t, \mathbf{a}^g_t, \mathbf{a}^o_t), \\
\mathbf{i}_t &= \mathrm{sigmoid}(\mathbf{a}^i_t),\quad
\mathbf{g}_t = \tanh(\mathbf{a}^g_t),\quad
\mathbf{o}_t = \mathrm{sigmoid}(\mathbf{a}^o_t), \\
\mathbf{c}_t &= \mathbf{c}_{t-1} + \mathbf{i}_t \odot \mathbf{g}_t, \qquad
\mathbf{h}_t = \mathbf{o}_t \odot \tanh(\mathbf{c}_t).
\end{aligned}
$$

Gers, Schmidhuber & Cummins (2000) add a forget gate $\mathbf{f}_t = \mathrm{sigmoid}(\mathbf{a}^f_t)$
that scales the carousel, $\mathbf{c}_t = \mathbf{f}_t\odot\mathbf{c}_{t-1} + \mathbf{i}_t\odot\mathbf{g}_t$;
this is the cell of `torch.nn.LSTM`. With $\mathbf{f}_t = \mathbf{1}$ the two forms coincide.

**Simplifications with respect to the 1997 paper** (stated, not hidden):

* Squashing functions. The gates are logistic sigmoids, as in the paper, but $g$ and $h$
  vary by experiment there; e.g. in Experiment 1 (§5.1) $g$ has range $[-2, 2]$ and $h$ range
  $[-1, 1]$, i.e. $g(x) = 4\,\mathrm{sigmoid}(x) - 2 = 2\tanh(x/2)$ and
  $h(x) = 2\,\mathrm{sigmoid}(x) - 1 = \tanh(x/2)$ (Experiment 2a uses $h(x) = x$). We use $\tanh$
  for both, as `torch.nn.LSTM` does.
* Gradient. The paper learns with an RTRL variant whose gradient is *truncated* (§4,
  "Learning"): errors arriving at the net inputs of cells and gates are not propagated
  further back in time, so error flows back only through the carousel. We use full
  backpropagation through time (autograd through every path).
* Architecture. One cell per memory block (the paper lets $S$ cells share their two gates),
  no conventional hidden units, no peepholes (Gers et al. 2002), gates fed by $\mathbf{u}_t$
  and $\mathbf{h}_{t-1}$ (the paper's net inputs read all units at $t-1$, inputs included), and
  one bias vector (torch keeps two, `b_ih + b_hh`).

Parameters use `torch.nn.LSTM`'s layout and gate order $(i, f, g, o)$: `W_ih` `(4n, n_in)`,
`W_hh` `(4n, n)`, `b` `(4n,)`. The no-forget (1997) form **keeps the $f$ rows but never reads
them** (they are not even multiplied, and get zero gradient), so weights copy both ways
between the two forms and `torch.nn.LSTM`. Tensors are time-major: $\mathbf{u}$ is
`(T, B, n_in)`, states are `(T, B, n)`.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

#: Forget-gate bias written by `LSTM.to_torch` for the 1997 form: sigmoid(1e4) == 1 exactly.
SATURATED_FORGET_BIAS: float = 1e4


def _igo_rows(n: int, device: torch.device | None = None) -> Tensor:
    """Row indices of the i, g, o blocks of a (4n, .) gate matrix (the f block dropped)."""
    return torch.cat([torch.arange(0, n, device=device), torch.arange(2 * n, 4 * n, device=device)])


def _check_params(W_ih: Tensor, W_hh: Tensor, b: Tensor) -> int:
    n = W_hh.shape[-1]
    if W_hh.shape != (4 * n, n) or W_ih.dim() != 2 or W_ih.shape[0] != 4 * n or b.shape != (4 * n,):
        raise ValueError(f"expected W_ih (4n, n_in), W_hh (4n, n), b (4n,); got {tuple(W_ih.shape)}, "
                         f"{tuple(W_hh.shape)}, {tuple(b.shape)}")
    return n


def _cell(a: Tensor, c_prev: Tensor, forget_gate: bool) -> tuple[Tensor, Tensor]:
    """One cell update from gate pre-activations a: (B, 4n) with forget gate, else (B, 3n)."""
    if forget_gate:
        a_i, a_f, a_g, a_o = a.chunk(4, dim=-1)
        c = torch.sigmoid(a_f) * c_prev + torch.sigmoid(a_i) * torch.tanh(a_g)
    else:
        a_i, a_g, a_o = a.chunk(3, dim=-1)
        c = c_prev + torch.sigmoid(a_i) * torch.tanh(a_g)  # the carousel: weight 1 on c_{t-1}
    return torch.sigmoid(a_o) * torch.tanh(c), c


def lstm_step(
    u_t: Tensor, h_prev: Tensor, c_prev: Tensor, W_ih: Tensor, W_hh: Tensor, b: Tensor, forget_gate: bool
) -> tuple[Tensor, Tensor]:
    r"""One step $(\mathbf{h}_{t-1}, \mathbf{c}_{t-1}) \mapsto (\mathbf{h}_t, \mathbf{c}_t)$.

    Args:
        u_t: input, `(..., n_in)`.
        h_prev: previous cell outputs $\mathbf{h}_{t-1}$, `(..., n)`.
        c_prev: previous cell states $\mathbf{c}_{t-1}$, `(..., n)`.
        W_ih: input weights, `(4n, n_in)`, gate order $(i, f, g, o)$.
        W_hh: recurrent weights, `(4n, n)`.
        b: bias, `(4n,)`.
        forget_gate: `True` for Gers et al. (2000), `False` for the 1997 cell.

    Returns:
        $(\mathbf{h}_t, \mathbf{c}_t)$, each `(..., n)`.
    """
    n = _check_params(W_ih, W_hh, b)
    if not forget_gate:
        rows = _igo_rows(n, W_hh.device)
        W_ih, W_hh, b = W_ih[rows], W_hh[rows], b[rows]
    return _cell(F.linear(u_t, W_ih, b) + F.linear(h_prev, W_hh), c_prev, forget_gate)


def _initial(s0: Tensor | None, B: int, n: int, like: Tensor, name: str) -> Tensor:
    if s0 is None:
        return like.new_zeros(B, n)
    if s0.shape not in ((B, n), (n,)):
        raise ValueError(f"{name} must be ({B}, {n}) or ({n},), got {tuple(s0.shape)}")
    return s0.expand(B, n)


def lstm_state_list(
    W_ih: Tensor, W_hh: Tensor, b: Tensor, u: Tensor, forget_gate: bool,
    h0: Tensor | None = None, c0: Tensor | None = None,
) -> tuple[list[Tensor], list[Tensor]]:
    r"""Run the cell over a sequence; return the per-step tensors the recurrence consumed.

    The input projection $\mathbf{W}_{ih}\mathbf{u}_t + \mathbf{b}$ is one matrix product for
    all $t$; the loop then costs one `addmm` with $\mathbf{W}_{hh}$ per step.

    Args:
        W_ih: input weights, `(4n, n_in)`, gate order $(i, f, g, o)$.
        W_hh: recurrent weights, `(4n, n)`.
        b: bias, `(4n,)`.
        u: inputs, `(T, B, n_in)`.
        forget_gate: `True` for Gers et al. (2000), `False` for the 1997 cell (f rows unused).
        h0: initial cell outputs, `(B, n)` or `(n,)`; zeros when `None`.
        c0: initial cell states, `(B, n)` or `(n,)`; zeros when `None`.

    Returns:
        Lists $[\mathbf{h}_1..\mathbf{h}_T]$ and $[\mathbf{c}_1..\mathbf{c}_T]$ of `(B, n)` tensors.
    """
    n = _check_params(W_ih, W_hh, b)
    if u.dim() != 3 or u.shape[-1] != W_ih.shape[1]:
        raise ValueError(f"u must be (T, B, {W_ih.shape[1]}), got {tuple(u.shape)}")
    T, B, n_in = u.shape
    if not forget_gate:  # drop the unused f rows once, so they are never multiplied
        rows = _igo_rows(n, W_hh.device)
        W_ih, W_hh, b = W_ih[rows], W_hh[rows], b[rows]
    drive = torch.addmm(b, u.reshape(T * B, n_in), W_ih.t()).view(T, B, -1)  # (T, B, 4n or 3n)
    h, c = _initial(h0, B, n, drive, "h0"), _initial(c0, B, n, drive, "c0")  # (B, n)
    W_hh_t = W_hh.t()
    hs: list[Tensor] = []
    cs: list[Tensor] = []
    for drive_t in drive.unbind(0):
        h, c = _cell(torch.addmm(drive_t, h, W_hh_t), c, forget_gate)  # (B, n) each
        hs.append(h)
        cs.append(c)
    return hs, cs


def lstm_states(
    W_ih: Tensor, W_hh: Tensor, b: Tensor, u: Tensor, forget_gate: bool,
    h0: Tensor | None = None, c0: Tensor | None = None,
) -> tuple[Tensor, Tensor]:
    r"""Functional LSTM: all cell outputs and cell states, stacked.

    Args:
        W_ih: input weights, `(4n, n_in)`, gate order $(i, f, g, o)$.
        W_hh: recurrent weights, `(4n, n)`.
        b: bias, `(4n,)`.
        u: inputs, `(T, B, n_in)`.
        forget_gate: `True` for Gers et al. (2000), `False` for the 1997 cell.
        h0: initial $\mathbf{h}_0$, `(B, n)` or `(n,)`; zeros when `None`.
        c0: initial $\mathbf{c}_0$, `(B, n)` or `(n,)`; zeros when `None`.

    Returns:
        $(\mathbf{h}_{1..T}, \mathbf{c}_{1..T})$, each `(T, B, n)`.
    """
    hs, cs = lstm_state_list(W_ih, W_hh, b, u, forget_gate, h0, c0)
    return torch.stack(hs), torch.stack(cs)


def _generator(generator: torch.Generator | int | None) -> torch.Generator:
    if isinstance(generator, torch.Generator):
        return generator
    return torch.Generator().manual_seed(0 if generator is None else int(generator))


class LSTM(nn.Module):
    r"""A single-layer LSTM over time-major sequences, 1997 form or with a forget gate.

    Weights are drawn from $\mathcal N(0, \text{std}^2)$ (the same draw for both forms, so a
    seed gives the 1997 cell and its forget-gate twin identical weights); biases are zero
    except the forget block, which is `forget_bias` (unused by the 1997 form).

    Args:
        n_in: input size.
        n_hidden: number of memory cells $n$.
        forget_gate: `True` for Gers et al. (2000), `False` for the 1997 cell.
        std: standard deviation of the Gaussian weights.
        forget_bias: initial bias of the forget gate.
        generator: a `torch.Generator` or an integer seed (seed 0 when `None`).
        dtype: parameter dtype (default: torch's default dtype).
        device: parameter device.
    """

    def __init__(
        self, n_in: int, n_hidden: int, forget_gate: bool = True, std: float = 0.1,
        forget_bias: float = 0.0, generator: torch.Generator | int | None = None,
        dtype: torch.dtype | None = None, device: torch.device | str | None = None,
    ) -> None:
        super().__init__()
        if n_in < 1 or n_hidden < 1:
            raise ValueError(f"n_in and n_hidden must be >= 1, got {n_in}, {n_hidden}")
        g = _generator(generator)
        kw = {"dtype": dtype or torch.get_default_dtype(), "device": device}
        n = n_hidden
        self.forget_gate = bool(forget_gate)
        self.W_ih = nn.Parameter((torch.randn(4 * n, n_in, generator=g, dtype=torch.float64) * std).to(**kw))
        self.W_hh = nn.Parameter((torch.randn(4 * n, n, generator=g, dtype=torch.float64) * std).to(**kw))
        b = torch.zeros(4 * n, **kw)
        b[n:2 * n] = forget_bias
        self.b = nn.Parameter(b)

    @property
    def n_hidden(self) -> int:
        r"""Number of memory cells $n$."""
        return self.W_hh.shape[1]

    def forward(self, u: Tensor, h0: Tensor | None = None, c0: Tensor | None = None) -> tuple[Tensor, Tensor]:
        r"""Run the sequence.

        Args:
            u: inputs, `(T, B, n_in)`.
            h0: initial $\mathbf{h}_0$, `(B, n)` or `(n,)`; zeros when `None`.
            c0: initial $\mathbf{c}_0$, `(B, n)` or `(n,)`; zeros when `None`.

        Returns:
            $(\mathbf{h}_{1..T}, \mathbf{c}_{1..T})$, each `(T, B, n)`.
        """
        return lstm_states(self.W_ih, self.W_hh, self.b, u, self.forget_gate, h0, c0)

    @classmethod
    def from_torch(cls, module: nn.LSTM, forget_gate: bool = True) -> LSTM:
        r"""Copy a one-layer, unidirectional, time-major `torch.nn.LSTM`.

        With `forget_gate=False` the forget rows are copied but ignored, so the copy equals
        `module` only if `module`'s forget gate is saturated at 1.

        Args:
            module: the source; `b` becomes `b_ih + b_hh`.
            forget_gate: form of the copy.

        Returns:
            A new `LSTM` with the same dtype and device.
        """
        if module.num_layers != 1 or module.bidirectional or module.proj_size or module.batch_first:
            raise ValueError("from_torch needs num_layers=1, unidirectional, proj_size=0, batch_first=False")
        w = module.weight_ih_l0
        out = cls(module.input_size, module.hidden_size, forget_gate, dtype=w.dtype, device=w.device)
        with torch.no_grad():
            out.W_ih.copy_(module.weight_ih_l0)
            out.W_hh.copy_(module.weight_hh_l0)
            out.b.copy_(module.bias_ih_l0 + module.bias_hh_l0 if module.bias else torch.zeros_like(out.b))
        return out

    def to_torch(self) -> nn.LSTM:
        r"""An equivalent `torch.nn.LSTM` (time-major, `b_hh = 0`).

        For the 1997 form the forget rows of `W_ih` and `W_hh` are zeroed and the forget bias
        set to `SATURATED_FORGET_BIAS`, so torch's $\mathbf{f}_t = \mathrm{sigmoid}(10^4) = 1$
        exactly and its cell reduces to the 1997 one.

        Returns:
            A new `torch.nn.LSTM` with the same dtype and device.
        """
        n = self.n_hidden
        out = nn.LSTM(self.W_ih.shape[1], n, dtype=self.W_ih.dtype, device=self.W_ih.device)
        with torch.no_grad():
            out.weight_ih_l0.copy_(self.W_ih)
            out.weight_hh_l0.copy_(self.W_hh)
            out.bias_ih_l0.copy_(self.b)
            out.bias_hh_l0.zero_()
            if not self.forget_gate:
                out.weight_ih_l0[n:2 * n] = 0.0
                out.weight_hh_l0[n:2 * n] = 0.0
                out.bias_ih_l0[n:2 * n] = SATURATED_FORGET_BIAS
        return out


__all__ = [
    "LSTM",
    "SATURATED_FORGET_BIAS",
    "lstm_state_list",
    "lstm_states",
    "lstm_step",
]
