"""Tests for notes_code.pascanu2013.clipping: Algorithm 1 and its variants (§3.1-3.2)."""

from __future__ import annotations

import math

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from notes_code.pascanu2013.clipping import (
    clip_grad_norm_,
    clip_grad_norm_with_fallback_,
    clip_grad_value_,
    grad_norm,
)

NORMS = [1.0, 2.0, math.inf]


def _params_with_grads(shapes: list[tuple[int, ...]], scale: float, seed: int,
                       none_at: int | None = None) -> list[torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    ps = []
    for i, shape in enumerate(shapes):
        p = torch.zeros(shape, dtype=torch.float64, requires_grad=True)
        if i != none_at:
            p.grad = torch.randn(shape, generator=g, dtype=torch.float64) * scale
        ps.append(p)
    return ps


def _clone_params(ps: list[torch.Tensor]) -> list[torch.Tensor]:
    out = []
    for p in ps:
        q = p.detach().clone().requires_grad_(True)
        q.grad = None if p.grad is None else p.grad.clone()
        out.append(q)
    return out


shapes_st = st.lists(
    st.lists(st.integers(1, 5), min_size=0, max_size=3).map(tuple), min_size=1, max_size=5
)


@pytest.mark.claim("pascanu2013/clipping-matches-torch", modules=["pascanu2013.clipping"])
@settings(max_examples=60, deadline=None)
@given(
    shapes=shapes_st,
    log_scale=st.floats(-4, 4),
    max_norm=st.floats(0.01, 10.0),
    norm_type=st.sampled_from(NORMS),
    seed=st.integers(0, 1000),
    none_first=st.booleans(),
)
def test_matches_torch(shapes, log_scale, max_norm, norm_type, seed, none_first) -> None:
    """Algorithm 1, §3.2: same returned norm and same clipped gradients as
    torch.nn.utils.clip_grad_norm_ (rtol 1e-6) for norms 1, 2, inf, any shapes and scales."""
    ps = _params_with_grads(shapes, 10.0**log_scale, seed, none_at=0 if none_first else None)
    qs = _clone_params(ps)
    mine = clip_grad_norm_(ps, max_norm, norm_type)
    ref = torch.nn.utils.clip_grad_norm_(qs, max_norm, norm_type)
    torch.testing.assert_close(mine, ref.to(mine.dtype), rtol=1e-6, atol=0)
    for p, q in zip(ps, qs, strict=True):
        assert (p.grad is None) == (q.grad is None)
        if p.grad is not None:
            torch.testing.assert_close(p.grad, q.grad, rtol=1e-6, atol=1e-300)


@pytest.mark.claim("pascanu2013/clipping-algorithm1", modules=["pascanu2013.clipping"])
@settings(max_examples=60, deadline=None)
@given(
    shapes=shapes_st,
    log_scale=st.floats(-3, 6),
    max_norm=st.floats(0.01, 10.0),
    norm_type=st.sampled_from(NORMS),
    seed=st.integers(0, 1000),
)
def test_algorithm1_properties(shapes, log_scale, max_norm, norm_type, seed) -> None:
    """Algorithm 1, §3.2: if ||g|| ≥ threshold, g ← threshold/||g|| · g. So the direction is kept,
    the new norm is ≤ threshold (= threshold with eps=0), and below the threshold nothing
    changes (bit for bit)."""
    ps = _params_with_grads(shapes, 10.0**log_scale, seed)
    before = torch.cat([p.grad.flatten() for p in ps]).clone()
    total = clip_grad_norm_(ps, max_norm, norm_type, eps=0.0)
    after = torch.cat([p.grad.flatten() for p in ps])
    ref_total = torch.linalg.vector_norm(before, norm_type)
    torch.testing.assert_close(total, ref_total, rtol=1e-12, atol=0)
    new_norm = float(torch.linalg.vector_norm(after, norm_type))
    if float(ref_total) >= max_norm:
        assert new_norm == pytest.approx(max_norm, rel=1e-12)
        # same direction: after is a positive multiple of before
        scale = max_norm / float(ref_total)
        torch.testing.assert_close(after, before * scale, rtol=1e-12, atol=0)
    else:
        assert torch.equal(after, before)
    assert new_norm <= max_norm * (1 + 1e-12)


@pytest.mark.claim("pascanu2013/clipping-algorithm1", modules=["pascanu2013.clipping"])
def test_threshold_boundary_uses_geq() -> None:
    """Algorithm 1, §3.2 uses '≥' (the released code '>'): a gradient whose norm equals the
    threshold is rescaled (visible with eps > 0: its norm drops below the threshold), one
    below is untouched, one above lands on the threshold (eps = 0)."""
    p = torch.zeros(2, dtype=torch.float64, requires_grad=True)
    p.grad = torch.tensor([3.0, 4.0], dtype=torch.float64)  # norm 5
    assert float(clip_grad_norm_(p, 5.0 + 1e-9, eps=0.0)) == 5.0
    assert torch.equal(p.grad, torch.tensor([3.0, 4.0], dtype=torch.float64))
    clip_grad_norm_(p, 5.0, eps=1e-3)
    assert float(p.grad.norm()) < 5.0 - 1e-4
    p.grad = torch.tensor([3.0, 4.0], dtype=torch.float64)
    clip_grad_norm_(p, 2.5, eps=0.0)
    torch.testing.assert_close(p.grad, torch.tensor([1.5, 2.0], dtype=torch.float64))
    clip_grad_norm_(p, 2.5)  # default eps keeps the result strictly under the threshold
    assert float(p.grad.norm()) < 2.5


def test_no_grads_none_grads_zero_grads() -> None:
    """Edge cases (mirroring torch): no gradients → tensor(0.); None grads are skipped; zero
    gradients stay zero and the reported norm is 0."""
    p = torch.zeros(3, requires_grad=True)
    out = clip_grad_norm_([p], 1.0)
    assert torch.equal(out, torch.tensor(0.0))
    assert torch.equal(clip_grad_norm_([], 1.0), torch.tensor(0.0))
    q = torch.zeros(2, requires_grad=True)
    q.grad = torch.zeros(2)
    assert float(clip_grad_norm_([p, q], 0.0)) == 0.0
    assert torch.equal(q.grad, torch.zeros(2)) and p.grad is None
    r = torch.zeros(2, requires_grad=True)
    r.grad = torch.tensor([6.0, 8.0])
    assert float(clip_grad_norm_(r, 1.0)) == pytest.approx(10.0)  # a single tensor works too
    assert float(grad_norm([p, q, r], 1.0)) == pytest.approx(0.6 + 0.8, rel=1e-5)


@pytest.mark.claim("pascanu2013/clipping-nonfinite", modules=["pascanu2013.clipping"])
@pytest.mark.parametrize("bad", [math.inf, -math.inf, math.nan])
@pytest.mark.parametrize("norm_type", NORMS)
def test_nonfinite_norm(bad: float, norm_type: float) -> None:
    """§3.2 / released code's guard: a non-finite total norm is never multiplied into the
    gradients (torch's function writes NaN then); it raises with error_if_nonfinite=True."""
    a = torch.zeros(3, requires_grad=True)
    b = torch.zeros(2, requires_grad=True)
    a.grad = torch.tensor([1.0, bad, 2.0])
    b.grad = torch.tensor([5.0, -7.0])
    before = [a.grad.clone(), b.grad.clone()]
    with pytest.raises(RuntimeError, match="non-finite"):
        clip_grad_norm_([a, b], 1.0, norm_type, error_if_nonfinite=True)
    with pytest.warns(RuntimeWarning):
        total = clip_grad_norm_([a, b], 1.0, norm_type)
    assert not math.isfinite(float(total))
    torch.testing.assert_close(a.grad, before[0], rtol=0, atol=0, equal_nan=True)
    assert torch.equal(b.grad, before[1])  # the finite gradient did not become NaN
    # what torch does with the same input: rescales the finite gradient by 0 or NaN
    c = torch.zeros(2, requires_grad=True)
    c.grad = torch.tensor([5.0, -7.0])
    d = torch.zeros(1, requires_grad=True)
    d.grad = torch.tensor([bad])
    torch.nn.utils.clip_grad_norm_([c, d], 1.0, norm_type)
    assert not torch.equal(c.grad, torch.tensor([5.0, -7.0]))


def test_clip_grad_value() -> None:
    """§3.1 (Mikolov's element-wise clipping): entries are clamped to [-c, c], which matches
    torch.nn.utils.clip_grad_value_ and, unlike Algorithm 1, changes the direction."""
    ps = _params_with_grads([(4, 3), (5,)], 3.0, 0)
    qs = _clone_params(ps)
    clip_grad_value_(ps, 1.0)
    torch.nn.utils.clip_grad_value_(qs, 1.0)
    for p, q in zip(ps, qs, strict=True):
        assert torch.equal(p.grad, q.grad)
        assert float(p.grad.abs().max()) <= 1.0
    x = torch.zeros(2, requires_grad=True)
    x.grad = torch.tensor([10.0, 0.5])
    clip_grad_value_(x, 1.0)
    cos = float(torch.nn.functional.cosine_similarity(x.grad, torch.tensor([10.0, 0.5]), dim=0))
    assert cos < 0.95


def test_fallback_triggers_on_nonfinite_and_huge() -> None:
    """Released code (paper-facts §6.4): if the norm is NaN/Inf or > 1e10, W_rec.grad ← 0.02·W_rec
    and every other gradient ← 0; otherwise it is ordinary norm clipping."""
    for bad in (math.nan, math.inf, 1e11):
        W_rec = torch.randn(3, 3, dtype=torch.float64, requires_grad=True)
        W_in = torch.randn(3, 2, dtype=torch.float64, requires_grad=True)
        W_rec.grad = torch.ones(3, 3, dtype=torch.float64)
        W_in.grad = torch.full((3, 2), bad, dtype=torch.float64)
        total = clip_grad_norm_with_fallback_([W_rec, W_in], W_rec, 1.0)
        assert not (math.isfinite(float(total)) and float(total) <= 1e10)
        torch.testing.assert_close(W_rec.grad, 0.02 * W_rec.detach(), rtol=0, atol=0)
        assert torch.equal(W_in.grad, torch.zeros(3, 2, dtype=torch.float64))
    # ordinary case: identical to clip_grad_norm_
    ps = _params_with_grads([(3, 3), (3, 2)], 5.0, 1)
    qs = _clone_params(ps)
    t1 = clip_grad_norm_with_fallback_(ps, ps[0], 1.0)
    t2 = clip_grad_norm_(qs, 1.0)
    assert torch.equal(t1, t2)
    for p, q in zip(ps, qs, strict=True):
        assert torch.equal(p.grad, q.grad)
