"""Tests of `notes_code.pascanu2013.init`: the "smart tanh" recurrent matrix (§4.1.1),
the spectral radius that the linear analysis of §2.1 is stated in, and orthogonal init."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from notes_code.pascanu2013.init import orthogonal, sparse_recurrent_weights, spectral_radius


def test_spectral_radius_matches_numpy() -> None:
    """§2.1 states its conditions in rho(W_rec): max |eigenvalue|, checked against numpy."""
    g = torch.Generator().manual_seed(3)
    W = torch.randn(7, 7, generator=g, dtype=torch.float32)
    expected = float(np.abs(np.linalg.eigvals(W.double().numpy())).max())
    assert spectral_radius(W) == pytest.approx(expected, rel=1e-12)
    # a rotation has complex eigenvalues of modulus 1 and a triangular matrix its diagonal
    c, s = np.cos(0.3), np.sin(0.3)
    assert spectral_radius(torch.tensor([[c, -s], [s, c]]) * 2.0) == pytest.approx(2.0, rel=1e-12)
    assert spectral_radius(torch.tensor([[0.5, 9.0], [0.0, -3.0]])) == pytest.approx(3.0)
    assert isinstance(spectral_radius(W), float)


@pytest.mark.parametrize("connectivity", ["incoming", "outgoing"])
def test_sparse_weights_have_the_papers_structure(connectivity: str) -> None:
    """§4.1.1 smart tanh: n_nonzero weights per unit, rescaled to spectral radius 0.95."""
    n, k = 40, 15
    W = sparse_recurrent_weights(n, torch.Generator().manual_seed(0), n_nonzero=k,
                                 connectivity=connectivity)  # (n, n)
    assert W.shape == (n, n) and W.dtype == torch.float64
    per_row = (W != 0).sum(dim=1)
    per_col = (W != 0).sum(dim=0)
    counted = per_row if connectivity == "incoming" else per_col
    assert torch.all(counted == k)
    assert spectral_radius(W) == pytest.approx(0.95, rel=1e-10)
    W2 = sparse_recurrent_weights(n, torch.Generator().manual_seed(0), n_nonzero=k,
                                  spectral_radius_target=1.3, connectivity=connectivity)
    assert spectral_radius(W2) == pytest.approx(1.3, rel=1e-10)
    assert torch.allclose(W2, W * (1.3 / 0.95))


def test_sparse_weights_default_to_the_papers_15_per_unit() -> None:
    """§4.1.1 smart tanh: by default 15 non-zero recurrent weights per unit, spectral radius 0.95."""
    W = sparse_recurrent_weights(50, torch.Generator().manual_seed(2))
    assert torch.all((W != 0).sum(dim=1) == 15)
    assert spectral_radius(W) == pytest.approx(0.95, rel=1e-10)


def test_sparse_weights_follow_the_documented_draw_order() -> None:
    """§4.1.1 smart tanh: dense Gaussian draw, then one permutation per row, then rescale."""
    n, k, std = 12, 4, 0.01
    got = sparse_recurrent_weights(n, torch.Generator().manual_seed(5), n_nonzero=k, std=std)
    g = torch.Generator().manual_seed(5)
    W = torch.randn(n, n, generator=g, dtype=torch.float64) * std
    mask = torch.zeros(n, n, dtype=torch.bool)
    for i in range(n):
        mask[i, torch.randperm(n, generator=g)[:k]] = True
    W = W * mask
    W = W * (0.95 / float(np.abs(np.linalg.eigvals(W.numpy())).max()))
    torch.testing.assert_close(got, W, rtol=1e-12, atol=0)
    out = sparse_recurrent_weights(n, torch.Generator().manual_seed(5), n_nonzero=k, std=std,
                                   connectivity="outgoing")
    torch.testing.assert_close(out, W.t(), rtol=1e-12, atol=0)
    assert out.is_contiguous()


def test_dense_when_n_nonzero_covers_every_unit() -> None:
    """§4.1.1: with n_nonzero >= n nothing is dropped; std does not change the rescaled matrix."""
    n = 6
    W = sparse_recurrent_weights(n, torch.Generator().manual_seed(1), n_nonzero=n)
    assert torch.all(W != 0)
    g = torch.Generator().manual_seed(1)
    dense = torch.randn(n, n, generator=g, dtype=torch.float64)
    torch.testing.assert_close(W, dense * (0.95 / spectral_radius(dense)), rtol=1e-10, atol=0)
    W_big = sparse_recurrent_weights(n, torch.Generator().manual_seed(1), n_nonzero=n + 3, std=5.0)
    torch.testing.assert_close(W_big, W, rtol=1e-10, atol=0)
    # dense matrices skip the connectivity check (documented)
    sparse_recurrent_weights(n, torch.Generator().manual_seed(1), n_nonzero=n, connectivity="bad")


def test_unknown_connectivity_is_an_error() -> None:
    """§4.1.1: the sparsity pattern is per incoming or per outgoing unit; anything else raises."""
    with pytest.raises(ValueError, match=r"connectivity must be 'incoming' or 'outgoing': 'sideways'"):
        sparse_recurrent_weights(8, torch.Generator().manual_seed(0), n_nonzero=3, connectivity="sideways")


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
def test_orthogonal_is_orthogonal_with_fixed_signs(dtype: torch.dtype) -> None:
    """§2.1 norm-preserving recurrence: Q^T Q = I, the QR factor with diag(R) > 0."""
    Q = orthogonal(9, 4, dtype=dtype)
    assert Q.shape == (9, 9) and Q.dtype == dtype
    tol = 1e-12 if dtype == torch.float64 else 1e-5
    torch.testing.assert_close(Q.T @ Q, torch.eye(9, dtype=dtype), rtol=0, atol=tol)
    A = torch.randn(9, 9, generator=torch.Generator().manual_seed(4), dtype=torch.float64)
    R = Q.double().T @ A  # A = Q R with R upper triangular and a positive diagonal
    assert torch.all(torch.diagonal(R) > 0)
    torch.testing.assert_close(torch.tril(R, -1), torch.zeros(9, 9, dtype=torch.float64), rtol=0,
                               atol=1e-5 if dtype == torch.float32 else 1e-10)


def test_orthogonal_seeds() -> None:
    """§2.1 orthogonal init: an int seed, a Generator and None (seed 0) give reproducible draws."""
    torch.testing.assert_close(orthogonal(5, 7), orthogonal(5, torch.Generator().manual_seed(7)))
    torch.testing.assert_close(orthogonal(5), orthogonal(5, 0))
    assert not torch.allclose(orthogonal(5, 1), orthogonal(5, 2))
    g = torch.Generator().manual_seed(11)
    first = orthogonal(4, g)
    second = orthogonal(4, g)  # the generator is advanced in place
    assert not torch.allclose(first, second)
