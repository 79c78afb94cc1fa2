r"""Sepp Hochreiter and Jürgen Schmidhuber (1997), *Long Short-Term Memory*.

- note: ``docs/papers/hochreiter1997/index.md``
- tests: ``tests/hochreiter1997/``
- key in ``references.yaml``: ``hochreiter1997``

Executable notes on the paper: the memory cell with input and output gates and its
constant error carousel (`lstm`), the forget-gate variant of Gers, Schmidhuber & Cummins
(2000) that `torch.nn.LSTM` implements, Jacobian norms against the lag for both forms and
for the vanilla RNN of Pascanu et al. (2013) (`gradient_flow`), and a small trainer on the
synthetic tasks of Pascanu et al. (`train`).

Paper: <https://doi.org/10.1162/neco.1997.9.8.1735>

```text
@article{hochreiter1997long,
  title   = {Long Short-Term Memory},
  author  = {Hochreiter, Sepp and Schmidhuber, J{\"u}rgen},
  journal = {Neural Computation},
  volume  = {9},
  number  = {8},
  pages   = {1735--1780},
  year    = {1997},
  doi     = {10.1162/neco.1997.9.8.1735},
}
```
"""

from .gradient_flow import (
    FORGET_C,
    FORGET_H,
    LSTM1997_C,
    LSTM1997_H,
    RNN_X,
    LagNorms,
    Trace,
    jacobian_products,
    lag_norms,
    step_jacobians,
    trace,
)
from .lstm import LSTM, SATURATED_FORGET_BIAS, lstm_state_list, lstm_states, lstm_step
from .network import HEADS, Head, LSTMNet

__all__ = [
    "FORGET_C",
    "FORGET_H",
    "HEADS",
    "LSTM",
    "LSTM1997_C",
    "LSTM1997_H",
    "RNN_X",
    "SATURATED_FORGET_BIAS",
    "Head",
    "LSTMNet",
    "LagNorms",
    "Trace",
    "jacobian_products",
    "lag_norms",
    "lstm_state_list",
    "lstm_states",
    "lstm_step",
    "step_jacobians",
    "trace",
]
