r"""# Training with the regulariser: one pass for $\mathcal{E} + \alpha\Omega$ (§3.3)

The paper trains on the task cost plus the regulariser of eqs. (9)-(10),

$$
\mathcal{L} = \mathcal{E} + \alpha\,\Omega, \qquad
\nabla_{\mathbf{W}_{rec}}\mathcal{L} = \nabla_{\mathbf{W}_{rec}}\mathcal{E}
+ \alpha\,\frac{\partial^+\Omega}{\partial\mathbf{W}_{rec}},
$$

where $\partial^+\Omega/\partial\mathbf{W}_{rec}$ holds $\mathbf{x}_k$ and
$\boldsymbol\delta_{k+1}$ constant (eq. 10), so every other parameter gets
$\nabla\mathcal{E}$ alone. With gradient-norm clipping (Algorithm 1) this is the
paper's MSGD-CR.

For training, `loss_and_grads` uses two shortcuts, both tested against the autograd
version. The gradient is written out (`omega_and_grad`), and the BPTT recursion
$\boldsymbol\delta_k = \partial^+\mathcal{E}/\partial\mathbf{x}_k +
\boldsymbol\delta_{k+1}\partial\mathbf{x}_{k+1}/\partial\mathbf{x}_k$ is used in
reverse: the back-propagated vector in the numerator of $\Omega_k$ is just
$\boldsymbol\delta_k$ minus the immediate derivative. With a cost at the last step
only, $\Omega_k = (\|\boldsymbol\delta_k\|^2/\|\boldsymbol\delta_{k+1}\|^2 - 1)^2$ for
$k\ge1$: the regulariser compares the norms of consecutive total gradients.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import torch
from torch import Tensor

from .activations import derivative_from_output
from .clipping import clip_grad_norm_
from .regularizer import Reduction, _omega_and_grad_from
from .rnn import PascanuRNN


@dataclass
class OmegaStep:
    r"""Result of one forward/backward pass with the regulariser.

    Attributes:
        loss: the head loss $\mathcal{E}$ (detached scalar).
        omega: $\Omega$ (detached scalar).
        grads: parameter name → $\nabla\mathcal{E}$, plus
            $\alpha\,\partial^+\Omega/\partial\mathbf{W}_{rec}$ for `W_rec`.
        delta: total $\partial\mathcal{E}/\partial\mathbf{x}_t$ for $t = 1..T$, `(T, B, n)`.
        ratios: $\|\boldsymbol\delta_{k+1}\partial\mathbf{x}_{k+1}/\partial\mathbf{x}_k\|
            / \|\boldsymbol\delta_{k+1}\|$ for $k = 0..T-1$, `(T, B)` (NaN where masked).
    """

    loss: Tensor
    omega: Tensor
    grads: dict[str, Tensor]
    delta: Tensor
    ratios: Tensor


def loss_and_grads(
    model: PascanuRNN,
    u: Tensor,
    target: Tensor,
    alpha: float,
    squared: bool = True,
    reduction: Reduction = "mean",
    bound: float = 1e-20,
) -> OmegaStep:
    r"""One forward and one backward pass for $\mathcal{E} + \alpha\Omega$ (eq. 10 for $\Omega$).

    A single `torch.autograd.grad` call returns both the parameter gradients and the
    total $\boldsymbol\delta_t$ (the gradient with respect to `RNNOutput.drive`).
    $\Omega$ and $\partial^+\Omega/\partial\mathbf{W}_{rec}$ then come in closed form (as in
    `omega_and_grad`) from the detached $\boldsymbol\delta$ and the forward's
    $\sigma(\mathbf{x}_k)$, and the gradient is added to `W_rec`'s only.

    Args:
        model: the network.
        u: inputs, `(T, B, n_in)`.
        target: targets for `model.loss`.
        alpha: weight $\alpha$ of $\Omega$ (`0` gives MSGD gradients, $\Omega$ still reported).
        squared: eq. (10) (`True`) or eq. (9).
        reduction: `"mean"` (code) or `"sum"` (paper).
        bound: mask threshold on $\|\boldsymbol\delta\|^2$.

    Returns:
        An `OmegaStep`.
    """
    names = [name for name, _ in model.named_parameters()]
    params = [p for _, p in model.named_parameters()]
    out = model(u)
    loss = model.loss(out.y, target)
    # d loss / d drive is the total delta_t for every t, already one (T, B, n) tensor;
    # d loss / d x (the stacked states read by a per-step head) is the immediate d+E/dx_t
    per_step = model.head == "softmax"
    inputs = [*params, out.drive] + ([out.x] if per_step else [])
    grads = torch.autograd.grad(loss, inputs)
    param_grads = dict(zip(names, grads[: len(params)], strict=True))
    delta = grads[len(params)]  # (T, B, n)
    immediate = grads[len(params) + 1] if per_step else None  # (T, B, n)
    with torch.no_grad():
        # sigma'(x_k) from the forward's sigma(x_k) (no second evaluation of sigma)
        d_sigma = derivative_from_output(torch.stack(out.h_prev), model.activation, inplace=True)
        # BPTT: delta_k = d+E/dx_k + v_k with v_k = delta_{k+1} dx_{k+1}/dx_k, so for k >= 1
        # the vectors Omega needs are already known; only v_0 needs a product with W_rec.
        v_first = (delta[0] @ model.W_rec.detach()) * d_sigma[0]  # (B, n)
        v_rest = delta[:-1] if immediate is None else delta[:-1] - immediate[:-1]
        om, g_om, ratios = _omega_and_grad_from(delta, v_first, v_rest, d_sigma, squared,
                                                reduction, bound)
    if alpha:
        param_grads["W_rec"].add_(g_om, alpha=alpha)  # a fresh tensor from autograd.grad
    return OmegaStep(loss.detach(), om.detach(), param_grads, delta, ratios)


def backward_with_omega(
    model: PascanuRNN,
    u: Tensor,
    target: Tensor,
    alpha: float,
    squared: bool = True,
    reduction: Reduction = "mean",
    bound: float = 1e-20,
) -> OmegaStep:
    r"""Like `loss.backward()` for $\mathcal{E} + \alpha\Omega$: accumulates into `.grad`.

    Args:
        model: the network.
        u: inputs, `(T, B, n_in)`.
        target: targets for `model.loss`.
        alpha: weight of $\Omega$.
        squared: eq. (10) or eq. (9).
        reduction: `"mean"` or `"sum"`.
        bound: mask threshold.

    Returns:
        The `OmegaStep`. Where a `.grad` was `None` it is set to the step's own gradient
        tensor (shared, not copied), as `backward()` would allocate it.
    """
    step = loss_and_grads(model, u, target, alpha, squared, reduction, bound)
    for name, p in model.named_parameters():
        g = step.grads[name]
        if p.grad is None:
            p.grad = g  # fresh from autograd: no copy (the step's dict shares it)
        else:
            p.grad.add_(g)
    return step


@dataclass
class OmegaDemo:
    r"""Output of `omega_training_demo`.

    Attributes:
        omega: $\Omega$ at every step, first entry before training, `(steps + 1,)`.
        loss: task loss at the same points, `(steps + 1,)`.
        ratios_before: batch-mean per-step ratio at $k = 0..T-1$ before training, `(T,)`.
        ratios_after: the same after training, `(T,)`.
        config: the arguments the demo ran with.
        grad_norms: global gradient norm of every update before clipping, `(steps,)`.
    """

    omega: Tensor
    loss: Tensor
    ratios_before: Tensor
    ratios_after: Tensor
    config: dict[str, float | str] = field(default_factory=dict)
    grad_norms: Tensor | None = None

    @property
    def n_clipped(self) -> int:
        r"""Updates that Algorithm 1 rescaled (pre-clipping norm $\ge$ `clip`)."""
        if self.grad_norms is None:
            return 0
        return int((self.grad_norms >= float(self.config["clip"])).sum())


def omega_training_demo(
    n_hidden: int = 20,
    T: int = 30,
    batch: int = 20,
    steps: int = 100,
    alpha: float = 4.0,
    lr: float = 0.01,
    clip: float = 1.0,
    seed: int = 0,
    init: Literal["basic_tanh", "sigmoid"] = "basic_tanh",
) -> OmegaDemo:
    r"""A few MSGD-CR steps on a small RNN, tracking $\Omega$ and the per-step ratios.

    The task is a toy memory problem: Gaussian inputs, predict the first input at the
    last step (`last_linear` head). At initialisation every backward step shrinks the
    error (ratios well below one); training on $\mathcal{E} + \alpha\Omega$ pulls the
    per-step ratios towards one. (With the "sigmoid" initialisation the ratios start
    near $0.015$, where the gradient of $\Omega$ is itself tiny: it needs `lr=0.1`.)

    Args:
        n_hidden: hidden units.
        T: sequence length.
        batch: minibatch size.
        steps: number of SGD updates.
        alpha: weight of $\Omega$.
        lr: learning rate.
        clip: norm-clipping threshold (Algorithm 1).
        seed: random seed for the weights and data.
        init: `"basic_tanh"` or `"sigmoid"` initialisation (§4.1.1).

    Returns:
        An `OmegaDemo`.
    """
    g = torch.Generator().manual_seed(seed)
    make = PascanuRNN.basic_tanh_init if init == "basic_tanh" else PascanuRNN.sigmoid_init
    model = make(1, n_hidden, 1, head="last_linear", generator=g, dtype=torch.float64)

    def batch_data() -> tuple[Tensor, Tensor]:
        u = torch.randn(T, batch, 1, generator=g, dtype=torch.float64)
        return u, u[0]

    def mean_ratio(step: OmegaStep) -> Tensor:
        return step.ratios.nanmean(1)

    omegas, losses, norms = [], [], []
    u, y = batch_data()
    first = loss_and_grads(model, u, y, alpha)
    ratios_before = mean_ratio(first)
    for _ in range(steps):
        u, y = batch_data()
        model.zero_grad()
        step = backward_with_omega(model, u, y, alpha)
        omegas.append(step.omega)
        losses.append(step.loss)
        norms.append(clip_grad_norm_(model.parameters(), clip))
        with torch.no_grad():
            for p in model.parameters():
                p -= lr * p.grad
    last = loss_and_grads(model, u, y, alpha)
    omegas.append(last.omega)
    losses.append(last.loss)
    config = {"n_hidden": n_hidden, "T": T, "batch": batch, "steps": steps, "alpha": alpha,
              "lr": lr, "clip": clip, "seed": seed, "init": init}
    return OmegaDemo(torch.stack(omegas), torch.stack(losses), ratios_before, mean_ratio(last),
                     config, torch.stack(norms))


__all__ = [
    "OmegaDemo",
    "OmegaStep",
    "backward_with_omega",
    "loss_and_grads",
    "omega_training_demo",
]
