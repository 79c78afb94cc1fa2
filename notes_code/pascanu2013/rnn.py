r"""# The recurrent network of eq. (2)

Pascanu et al. (2013) write the RNN in terms of the *pre-activation* state
$\mathbf{x}_t$:

$$
\mathbf{x}_t = \mathbf{W}_{rec}\sigma(\mathbf{x}_{t-1}) + \mathbf{W}_{in}\mathbf{u}_t + \mathbf{b},
\qquad \mathbf{x}_0 = \mathbf{0}.
$$

With $\mathbf{h}_t = \sigma(\mathbf{x}_t)$ this is the familiar
$\mathbf{h}_t = \sigma(\mathbf{W}_{rec}\mathbf{h}_{t-1} + \mathbf{W}_{in}\mathbf{u}_t + \mathbf{b})$
(footnote 1 of the paper). We keep the paper's form because every quantity of the
analysis -- the step Jacobian $\partial\mathbf{x}_{k+1}/\partial\mathbf{x}_k$, the
total error $\partial\mathcal{E}/\partial\mathbf{x}_k$, the regulariser $\Omega$ --
is written in terms of $\mathbf{x}_t$.

One caveat: $\mathbf{x}_0 = \mathbf{0}$ means $\mathbf{h}_0 = \sigma(\mathbf{0})$,
which is $\mathbf{0}$ for tanh and the identity but $\tfrac12\mathbf{1}$ for the
logistic sigmoid. The released Theano code starts from $\mathbf{h}_0 = \mathbf{0}$
instead; for sigmoid units the two differ only by the constant
$\tfrac12\mathbf{W}_{rec}\mathbf{1}$ added to $\mathbf{x}_1$.

Tensors are time-major: inputs $\mathbf{u}$ are `(T, B, n_in)` and states
$\mathbf{x}$ are `(T, B, n)`. Batched rows use $\mathbf{x}^\top$, so the code reads
`x_t = h_{t-1} @ W_rec.T + W_in u_t + b`.

The three output heads follow the released code: `last_softmax` (class logits from
$\mathbf{h}_T$), `softmax` (logits at every step) and `last_linear` (regression from
$\mathbf{h}_T$). The heads return logits; `PascanuRNN.loss` applies the matching loss.

The loop itself is `notes_code.pascanu2013.recurrence`, $\sigma$ and $\sigma'$ are in
`notes_code.pascanu2013.activations`, and the helpers of the named initialisations
(sparse recurrent matrix, spectral radius) in `notes_code.pascanu2013.init`.
"""

from __future__ import annotations

from typing import Literal

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from .activations import Activation, _check_activation, activation_fn
from .init import Connectivity, _as_generator, sparse_recurrent_weights
from .recurrence import _run

Head = Literal["last_softmax", "softmax", "last_linear"]

HEADS: tuple[str, ...] = ("last_softmax", "softmax", "last_linear")


class RNNOutput:
    r"""What `PascanuRNN.forward` returns.

    Attributes:
        y: head output (logits or linear predictions): `(B, n_out)` for the `last_*`
            heads, `(T, B, n_out)` for `softmax`.
        steps: the `T` per-step states $\mathbf{x}_t$, each `(B, n)`, as consumed by the
            recurrence.
        h_prev: the `T` recurrent inputs $\sigma(\mathbf{x}_0), \dots, \sigma(\mathbf{x}_{T-1})$,
            each `(B, n)` (kept so that $\Omega$ need not evaluate $\sigma$ again).
        drive: $\mathbf{W}_{in}\mathbf{u}_t + \mathbf{b}$ for all $t$, `(T, B, n)`. Since
            $\mathbf{x}_t$ = drive$_t$ + $\mathbf{W}_{rec}\sigma(\mathbf{x}_{t-1})$, the gradient
            of a loss with respect to `drive` is the total
            $\partial\mathcal{E}/\partial\mathbf{x}_t$ for every $t$, already stacked.
    """

    def __init__(self, y: Tensor, steps: tuple[Tensor, ...], h_prev: tuple[Tensor, ...],
                 drive: Tensor, x: Tensor | None = None) -> None:
        self.y = y
        self.steps = steps
        self.h_prev = h_prev
        self.drive = drive
        self._x = x

    @property
    def x(self) -> Tensor:
        r"""Pre-activation states $\mathbf{x}_{1..T}$, `(T, B, n)` (stacked on first access)."""
        if self._x is None:
            self._x = torch.stack(self.steps)
        return self._x


class PascanuRNN(nn.Module):
    r"""The RNN of eq. (2) with the output heads of the released code.

    Parameters carry the paper's names: `W_in` `(n, n_in)`, `W_rec` `(n, n)`, `b` `(n,)`,
    `W_out` `(n_out, n)`, `b_out` `(n_out,)`. The plain constructor draws every weight
    from $\mathcal N(0, \text{std}^2)$ and zeros the biases; the named constructors give
    the three initialisations of §4.1.1.

    Args:
        n_in: input size.
        n_hidden: number of hidden units $n$.
        n_out: output size.
        activation: `"tanh"`, `"sigmoid"` or `"linear"`.
        head: `"last_softmax"`, `"softmax"` or `"last_linear"`.
        std: standard deviation of the Gaussian weights.
        generator: a `torch.Generator` or an integer seed (seed 0 when `None`).
        dtype: parameter dtype (default: torch's default dtype).
        device: parameter device.
    """

    def __init__(
        self,
        n_in: int,
        n_hidden: int,
        n_out: int,
        activation: Activation = "tanh",
        head: Head = "last_softmax",
        std: float = 0.1,
        generator: torch.Generator | int | None = None,
        dtype: torch.dtype | None = None,
        device: torch.device | str | None = None,
    ) -> None:
        super().__init__()
        _check_activation(activation)
        if head not in HEADS:
            raise ValueError(f"head must be one of {HEADS}, got {head!r}")
        self.activation: Activation = activation
        self.head: Head = head
        g = _as_generator(generator)
        dtype = dtype or torch.get_default_dtype()

        def normal(*shape: int) -> nn.Parameter:
            w = torch.randn(*shape, generator=g, dtype=torch.float64) * std
            return nn.Parameter(w.to(dtype=dtype, device=device))

        def zeros(*shape: int) -> nn.Parameter:
            return nn.Parameter(torch.zeros(*shape, dtype=dtype, device=device))

        self.W_in = normal(n_hidden, n_in)
        self.W_rec = normal(n_hidden, n_hidden)
        self.b = zeros(n_hidden)
        self.W_out = normal(n_out, n_hidden)
        self.b_out = zeros(n_out)

    # ------------------------------------------------------------------ initialisations
    @classmethod
    def sigmoid_init(
        cls,
        n_in: int,
        n_hidden: int,
        n_out: int,
        head: Head = "last_softmax",
        generator: torch.Generator | int | None = None,
        dtype: torch.dtype | None = None,
        device: torch.device | str | None = None,
    ) -> PascanuRNN:
        r"""The "sigmoid" initialisation (§4.1.1): sigmoid units, weights $\mathcal N(0, 0.01^2)$.

        Args:
            n_in: input size.
            n_hidden: hidden size.
            n_out: output size.
            head: output head.
            generator: generator or seed.
            dtype: parameter dtype.
            device: parameter device.

        Returns:
            A new model; biases are zero.
        """
        return cls(n_in, n_hidden, n_out, "sigmoid", head, 0.01, generator, dtype, device)

    @classmethod
    def basic_tanh_init(
        cls,
        n_in: int,
        n_hidden: int,
        n_out: int,
        head: Head = "last_softmax",
        generator: torch.Generator | int | None = None,
        dtype: torch.dtype | None = None,
        device: torch.device | str | None = None,
    ) -> PascanuRNN:
        r"""The "basic tanh" initialisation (§4.1.1): tanh units, weights $\mathcal N(0, 0.1^2)$.

        Args:
            n_in: input size.
            n_hidden: hidden size.
            n_out: output size.
            head: output head.
            generator: generator or seed.
            dtype: parameter dtype.
            device: parameter device.

        Returns:
            A new model; biases are zero.
        """
        return cls(n_in, n_hidden, n_out, "tanh", head, 0.1, generator, dtype, device)

    @classmethod
    def smart_tanh_init(
        cls,
        n_in: int,
        n_hidden: int,
        n_out: int,
        head: Head = "last_softmax",
        generator: torch.Generator | int | None = None,
        dtype: torch.dtype | None = None,
        device: torch.device | str | None = None,
        n_nonzero: int = 15,
        spectral_radius_target: float = 0.95,
        connectivity: Connectivity = "incoming",
    ) -> PascanuRNN:
        r"""The "smart tanh" initialisation (§4.1.1).

        $\mathbf{W}_{in}, \mathbf{W}_{out} \sim \mathcal N(0, 0.01^2)$; $\mathbf{W}_{rec}$
        is Gaussian, sparsified to `n_nonzero` non-zero *incoming* weights per unit and
        rescaled to spectral radius 0.95.

        Orientation: with `W_rec @ h`, unit $i$'s incoming weights are row $i$ of
        `W_rec`, so `connectivity="incoming"` (the paper's wording) keeps 15 non-zeros
        per row. The released code multiplies row vectors (`h @ W_hh`) and zeroes per
        row of `W_hh`, which keeps 15 *outgoing* weights per unit; pass
        `connectivity="outgoing"` (15 non-zeros per column here) to match it. The
        spectral radius is the same either way.

        Args:
            n_in: input size.
            n_hidden: hidden size.
            n_out: output size.
            head: output head.
            generator: generator or seed.
            dtype: parameter dtype.
            device: parameter device.
            n_nonzero: non-zero recurrent weights kept per unit (all if `>= n_hidden`).
            spectral_radius_target: spectral radius after rescaling.
            connectivity: `"incoming"` (paper, rows) or `"outgoing"` (code, columns).

        Returns:
            A new model with tanh units; biases are zero.
        """
        g = _as_generator(generator)
        model = cls(n_in, n_hidden, n_out, "tanh", head, 0.01, g, dtype, device)
        W = sparse_recurrent_weights(n_hidden, g, n_nonzero, spectral_radius_target, connectivity)
        with torch.no_grad():
            model.W_rec.copy_(W)
        return model

    # ------------------------------------------------------------------ forward
    @property
    def n_hidden(self) -> int:
        r"""Number of hidden units $n$."""
        return self.W_rec.shape[0]

    def readout(self, x: Tensor) -> Tensor:
        r"""Apply the head to stacked states.

        Args:
            x: pre-activation states, `(T, B, n)`.

        Returns:
            `W_out sigma(x_T) + b_out`, `(B, n_out)`, for the `last_*` heads, or the
            same at every step, `(T, B, n_out)`, for `softmax`.
        """
        if self.head != "softmax":
            x = x[-1]
        return F.linear(activation_fn(self.activation)(x), self.W_out, self.b_out)

    def forward(self, u: Tensor, x0: Tensor | None = None) -> RNNOutput:
        r"""Run eq. (2) and the head.

        Args:
            u: inputs, `(T, B, n_in)`.
            x0: initial state, `(B, n)`; zeros when `None`.

        Returns:
            An `RNNOutput` with head output `y`, states `x` `(T, B, n)` (also per step in
            `steps`), the recurrent inputs `h_prev` and the input drive `drive`.
        """
        steps, h_prev, drive = _run(self.W_rec, self.W_in, self.b, u, self.activation, x0)
        x = None
        if self.head == "softmax":
            x = torch.stack(steps)  # (T, B, n)
            y = self.readout(x)
        else:  # read the last state directly; x is stacked only if someone asks for it
            y = F.linear(activation_fn(self.activation)(steps[-1]), self.W_out, self.b_out)
        return RNNOutput(y, tuple(steps), tuple(h_prev), drive, x)

    def loss(self, y: Tensor, target: Tensor) -> Tensor:
        r"""The released code's training cost for this head.

        `last_softmax`: cross-entropy at the last step, mean over the batch.
        `softmax`: cross-entropy at every step, mean over the `T*B` rows.
        `last_linear`: `((target - y)**2).mean(0).sum()` (mean over batch, sum over outputs).

        Args:
            y: head output from `forward`.
            target: class indices (`(B,)` / `(T, B)`, integer), class probabilities
                shaped like `y` (softmax heads), or real targets `(B, n_out)` (linear).

        Returns:
            A scalar loss.
        """
        if self.head == "last_linear":
            return (target - y).square().mean(0).sum()
        if self.head == "softmax":
            n_out = y.shape[-1]
            y = y.reshape(-1, n_out)  # (T*B, n_out)
            if target.is_floating_point():
                target = target.reshape(-1, n_out)  # probabilities, (T*B, n_out)
            else:
                target = target.reshape(-1)  # indices, (T*B,)
        return F.cross_entropy(y, target)


__all__ = [
    "HEADS",
    "Head",
    "PascanuRNN",
    "RNNOutput",
]
