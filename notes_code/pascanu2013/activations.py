r"""# The element-wise non-linearity $\sigma$ and its derivative

Eq. (2) applies one element-wise non-linearity $\sigma$ to the pre-activation state,
$\mathbf{h}_t = \sigma(\mathbf{x}_t)$, and the step Jacobian of eq. (5),
$\partial\mathbf{x}_{k+1}/\partial\mathbf{x}_k = \mathbf{W}_{rec}\,\mathrm{diag}(\sigma'(\mathbf{x}_k))$,
needs its derivative. The paper uses three units:

$$
\begin{aligned}
\sigma(x) &= \tanh x, & \sigma'(x) &= 1 - \tanh^2 x = 1 - h^2, \\
\sigma(x) &= \frac{1}{1 + e^{-x}}, & \sigma'(x) &= \sigma(x)\,(1 - \sigma(x)) = h(1 - h), \\
\sigma(x) &= x, & \sigma'(x) &= 1.
\end{aligned}
$$

`activation_derivative` evaluates $\sigma'$ from $\mathbf{x}$; `derivative_from_output`
evaluates it from $\mathbf{h} = \sigma(\mathbf{x})$ (the right-hand column), as the
released code does, so a forward pass that kept $\mathbf{h}$ need not evaluate
$\sigma$ again.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal

import torch
from torch import Tensor

Activation = Literal["tanh", "sigmoid", "linear"]

ACTIVATIONS: tuple[str, ...] = ("tanh", "sigmoid", "linear")


def _check_activation(activation: str) -> None:
    if activation not in ACTIVATIONS:
        raise ValueError(f"activation must be one of {ACTIVATIONS}, got {activation!r}")


def activation_fn(activation: Activation) -> Callable[[Tensor], Tensor]:
    r"""Return the element-wise non-linearity $\sigma$.

    Args:
        activation: `"tanh"`, `"sigmoid"` (logistic) or `"linear"` (identity).

    Returns:
        A function mapping a tensor of any shape to a tensor of the same shape.
    """
    _check_activation(activation)
    if activation == "tanh":
        return torch.tanh
    if activation == "sigmoid":
        return torch.sigmoid
    return _identity


def _identity(x: Tensor) -> Tensor:
    return x


def activation_derivative(x: Tensor, activation: Activation) -> Tensor:
    r"""Element-wise derivative $\sigma'(\mathbf{x})$, the diagonal of eq. (5)'s factor.

    $\tanh' = 1 - \tanh^2$, $\mathrm{sigmoid}' = s(1 - s)$, identity$' = 1$.

    Args:
        x: pre-activations of any shape.
        activation: `"tanh"`, `"sigmoid"` or `"linear"`.

    Returns:
        A tensor shaped like `x`.
    """
    _check_activation(activation)
    if activation == "tanh":
        return 1.0 - torch.tanh(x).square()
    if activation == "sigmoid":
        s = torch.sigmoid(x)
        return s * (1.0 - s)
    return torch.ones_like(x)


def derivative_from_output(h: Tensor, activation: Activation, inplace: bool = False) -> Tensor:
    r"""$\sigma'(\mathbf{x})$ computed from $\mathbf{h} = \sigma(\mathbf{x})$.

    $\tanh' = 1 - h^2$ and $\mathrm{sigmoid}' = h(1 - h)$, as in the released code; this
    avoids evaluating $\sigma$ a second time.

    Args:
        h: activations $\sigma(\mathbf{x})$, any shape.
        activation: `"tanh"`, `"sigmoid"` or `"linear"`.
        inplace: overwrite `h` with the result (saves an allocation; `h` must not need grad).

    Returns:
        A tensor shaped like `h` (`h` itself when `inplace`).
    """
    _check_activation(activation)
    if activation == "tanh":
        if inplace:
            return h.square_().neg_().add_(1.0)  # 1 - h^2
        return torch.addcmul(h.new_ones(()), h, h, value=-1.0)
    if activation == "sigmoid":
        if inplace:
            return h.sub_(h.square())  # h - h^2
        return h * (1.0 - h)
    return h.fill_(1.0) if inplace else torch.ones_like(h)


__all__ = [
    "ACTIVATIONS",
    "Activation",
    "activation_derivative",
    "activation_fn",
    "derivative_from_output",
]
