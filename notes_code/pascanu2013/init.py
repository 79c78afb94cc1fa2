r"""# Helpers of the named initialisations (§4.1.1)

The "smart tanh" initialisation draws a Gaussian recurrent matrix, keeps `n_nonzero`
weights per unit (15 in the paper) and rescales it to a target spectral radius:

$$
\mathbf{W}_{rec} \leftarrow \frac{\rho^\star}{\rho(\mathbf{W}_{rec})}\,\mathbf{W}_{rec},
\qquad \rho(\mathbf{W}) = \max_i |\lambda_i(\mathbf{W})|, \qquad \rho^\star = 0.95.
$$

Rescaling multiplies every eigenvalue by the same factor, so the result has spectral
radius exactly $\rho^\star$. The spectral radius governs the linear analysis of §2.1:
$\rho < 1$ is sufficient for vanishing gradients in the linear case and $\rho > 1$
necessary for exploding ones. For the experiments and tests that need a
norm-preserving recurrence, `orthogonal` gives $\mathbf{Q}$ with
$\mathbf{Q}^\top\mathbf{Q} = \mathbf{I}$ (all singular values 1).

The named constructors themselves are classmethods of
`notes_code.pascanu2013.rnn.PascanuRNN`; this module holds what they build on.
"""

from __future__ import annotations

from typing import Literal

import torch
from torch import Tensor

Connectivity = Literal["incoming", "outgoing"]


def _as_generator(generator: torch.Generator | int | None) -> torch.Generator:
    if isinstance(generator, torch.Generator):
        return generator
    g = torch.Generator()
    g.manual_seed(0 if generator is None else int(generator))
    return g


def spectral_radius(W: Tensor) -> float:
    r"""Largest eigenvalue modulus $\rho(\mathbf{W})$ (computed in float64).

    Args:
        W: a square matrix, `(n, n)`.

    Returns:
        $\max_i |\lambda_i(\mathbf{W})|$.
    """
    return float(torch.linalg.eigvals(W.detach().to(torch.float64)).abs().max())


def sparse_recurrent_weights(
    n_hidden: int,
    generator: torch.Generator,
    n_nonzero: int = 15,
    spectral_radius_target: float = 0.95,
    connectivity: Connectivity = "incoming",
    std: float = 0.01,
) -> Tensor:
    r"""The "smart tanh" recurrent matrix: sparse Gaussian, rescaled to a spectral radius.

    Draws $\mathcal N(0, \text{std}^2)$ weights, then (when `n_nonzero < n_hidden`) keeps
    `n_nonzero` random entries per row, transposed for `connectivity="outgoing"`, and
    rescales to spectral radius `spectral_radius_target`. Draws from `generator` in
    this order: the dense matrix, then one permutation per row.

    Args:
        n_hidden: number of hidden units $n$.
        generator: the generator to draw from (advanced in place).
        n_nonzero: non-zero recurrent weights kept per unit (all if `>= n_hidden`).
        spectral_radius_target: spectral radius after rescaling.
        connectivity: `"incoming"` (non-zeros per row) or `"outgoing"` (per column).
        std: standard deviation of the Gaussian draw (before rescaling).

    Returns:
        $\mathbf{W}_{rec}$, `(n_hidden, n_hidden)`, float64.

    Raises:
        ValueError: for an unknown `connectivity` (checked only when sparsifying).
    """
    W = torch.randn(n_hidden, n_hidden, generator=generator, dtype=torch.float64) * std
    if n_nonzero < n_hidden:
        mask = torch.zeros(n_hidden, n_hidden, dtype=torch.bool)
        for i in range(n_hidden):
            mask[i, torch.randperm(n_hidden, generator=generator)[:n_nonzero]] = True
        W = W * mask
        if connectivity == "outgoing":
            W = W.t().contiguous()
        elif connectivity != "incoming":
            raise ValueError(f"connectivity must be 'incoming' or 'outgoing': {connectivity!r}")
    return W * (spectral_radius_target / spectral_radius(W))


def orthogonal(n: int, generator: torch.Generator | int | None = None,
               dtype: torch.dtype = torch.float64) -> Tensor:
    r"""A random orthogonal matrix (QR of a Gaussian matrix, signs fixed).

    Args:
        n: size.
        generator: generator or seed.
        dtype: result dtype.

    Returns:
        $\mathbf{Q}$ with $\mathbf{Q}^\top\mathbf{Q} = \mathbf{I}$, `(n, n)`.
    """
    g = _as_generator(generator)
    A = torch.randn(n, n, generator=g, dtype=torch.float64)
    Q, R = torch.linalg.qr(A)
    Q = Q * torch.sign(torch.diagonal(R)).unsqueeze(0)
    return Q.to(dtype)


__all__ = [
    "Connectivity",
    "orthogonal",
    "sparse_recurrent_weights",
    "spectral_radius",
]
