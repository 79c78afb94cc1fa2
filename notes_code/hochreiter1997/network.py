r"""# The LSTM with the output heads of the RNN note

`LSTMNet` puts the output heads of `notes_code.pascanu2013.rnn.PascanuRNN` on top of the
`LSTM` cell outputs $\mathbf{h}_t$: class logits from $\mathbf{h}_T$ (`last_softmax`), at every
step (`softmax`), or a regression from $\mathbf{h}_T$ (`last_linear`), in the shapes that
`notes_code.common.tasks.loss` and `errors` read. So the experiment layer trains it by the same
protocol as the RNN (`notes_code.common.train`, `init="lstm1997"` or `"lstm"`): the same data,
lengths, updates (MSGD, MSGD-C) and success test on fresh sequences.

The 1997 paper trained with its truncated gradient and online updates; the experiment layer
uses full BPTT through `LSTMNet` by autograd (see `notes_code.hochreiter1997.lstm`).
"""

from __future__ import annotations

from typing import Literal

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from .lstm import LSTM, _generator, lstm_state_list

Head = Literal["last_softmax", "softmax", "last_linear"]
HEADS: tuple[str, ...] = ("last_softmax", "softmax", "last_linear")


class LSTMNet(nn.Module):
    r"""`LSTM` plus the output heads of `notes_code.pascanu2013.rnn.PascanuRNN`.

    The head reads the cell outputs: `last_softmax` gives class logits
    $\mathbf{W}_{out}\mathbf{h}_T + \mathbf{b}_{out}$ `(B, n_out)`, `softmax` the same at every
    step `(T, B, n_out)`, `last_linear` a regression from $\mathbf{h}_T$. The outputs plug into
    `notes_code.common.tasks.loss` and `errors`.

    Args:
        n_in: input size.
        n_hidden: number of memory cells $n$.
        n_out: output size.
        forget_gate: `True` for Gers et al. (2000), `False` for the 1997 cell.
        head: `"last_softmax"`, `"softmax"` or `"last_linear"`.
        std: standard deviation of all Gaussian weights ($\mathbf{W}_{out}$ included).
        forget_bias: initial forget-gate bias.
        generator: a `torch.Generator` or an integer seed (seed 0 when `None`).
        dtype: parameter dtype.
        device: parameter device.
    """

    def __init__(
        self, n_in: int, n_hidden: int, n_out: int, forget_gate: bool = True, head: Head = "last_softmax",
        std: float = 0.1, forget_bias: float = 0.0, generator: torch.Generator | int | None = None,
        dtype: torch.dtype | None = None, device: torch.device | str | None = None,
    ) -> None:
        super().__init__()
        if head not in HEADS:
            raise ValueError(f"head must be one of {HEADS}, got {head!r}")
        g = _generator(generator)
        self.head: Head = head
        self.lstm = LSTM(n_in, n_hidden, forget_gate, std, forget_bias, g, dtype, device)
        W_out = torch.randn(n_out, n_hidden, generator=g, dtype=torch.float64) * std
        self.W_out = nn.Parameter(W_out.to(dtype=self.lstm.W_ih.dtype, device=device))
        self.b_out = nn.Parameter(torch.zeros(n_out, dtype=self.lstm.W_ih.dtype, device=device))

    def forward(self, u: Tensor) -> Tensor:
        r"""Run the LSTM from zero states and apply the head.

        Args:
            u: inputs, `(T, B, n_in)`.

        Returns:
            Head output: `(B, n_out)` for the `last_*` heads, `(T, B, n_out)` for `softmax`.
        """
        hs, _ = lstm_state_list(self.lstm.W_ih, self.lstm.W_hh, self.lstm.b, u, self.lstm.forget_gate)
        h = torch.stack(hs) if self.head == "softmax" else hs[-1]
        return F.linear(h, self.W_out, self.b_out)


__all__ = ["HEADS", "Head", "LSTMNet"]
