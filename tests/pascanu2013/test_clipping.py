"""Tests for notes_code.pascanu2013.clipping: Algorithm 1 and its variants (§3.1-3.2)."""

from __future__ import annotations

import math
import re
import warnings

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from notes_code.pascanu2013.bptt import explicit_bptt, immediate_state_grads, temporal_contributions
from notes_code.pascanu2013.clipping import (
    clip_grad_norm_,
    clip_grad_norm_with_fallback_,
    clip_grad_value_,
    clip_temporal_contributions_,
    grad_norm,
)
from notes_code.pascanu2013.rnn import PascanuRNN

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
    assert float(out) == 0.0
    assert float(clip_grad_norm_([], 1.0)) == 0.0
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


# ---------------------------------------------------------------------------------------------
# Input kinds: a generator, a list, a tuple and a single tensor are read once and agree with torch


def _grad_set(dtype: torch.dtype = torch.float64) -> list[torch.Tensor]:
    g = torch.Generator().manual_seed(11)
    ps = []
    for shape in [(3, 3), (4,), (2, 1)]:
        p = torch.zeros(shape, dtype=dtype, requires_grad=True)
        p.grad = (torch.randn(shape, generator=g, dtype=torch.float64) * 4).to(dtype)
        ps.append(p)
    return ps


KINDS = {
    "generator": lambda ps: (p for p in ps),
    "list": list,
    "tuple": tuple,
    "module": None,  # nn.Module.parameters(), a generator
}


def _as_kind(kind: str, ps: list[torch.Tensor]):
    if kind == "module":
        m = torch.nn.Module()
        for i, p in enumerate(ps):
            m.register_parameter(f"p{i}", torch.nn.Parameter(p.detach(), requires_grad=True))
            m.get_parameter(f"p{i}").grad = p.grad
        return m.parameters()
    return KINDS[kind](ps)


@pytest.mark.claim("pascanu2013/clipping-matches-torch", modules=["pascanu2013.clipping"])
@pytest.mark.parametrize("kind", list(KINDS))
@pytest.mark.parametrize("norm_type", NORMS)
def test_every_input_kind_matches_torch(kind: str, norm_type: float) -> None:
    """Algorithm 1, §3.2: every public function reads 'a tensor or an iterable of tensors' once,
    so a generator (`model.parameters()`) clips exactly like a list or a tuple, and like
    torch.nn.utils.clip_grad_norm_ / get_total_norm / clip_grad_value_ on the same input."""
    ps, qs = _grad_set(), _grad_set()
    ref_norm = torch.nn.utils.get_total_norm([q.grad for q in qs], norm_type)
    assert float(grad_norm(_as_kind(kind, ps), norm_type)) == pytest.approx(float(ref_norm), rel=1e-12)
    total = clip_grad_norm_(_as_kind(kind, ps), 1.0, norm_type)
    ref = torch.nn.utils.clip_grad_norm_((q for q in qs), 1.0, norm_type)
    assert float(total) == pytest.approx(float(ref), rel=1e-12) and float(total) > 1.0
    for p, q in zip(ps, qs, strict=True):
        torch.testing.assert_close(p.grad, q.grad, rtol=1e-12, atol=0)
    ps, qs = _grad_set(), _grad_set()
    clip_grad_value_(_as_kind(kind, ps), 0.5)
    torch.nn.utils.clip_grad_value_((q for q in qs), 0.5)
    assert all(torch.equal(p.grad, q.grad) for p, q in zip(ps, qs, strict=True))
    ps, qs = _grad_set(), _grad_set()
    clip_grad_norm_with_fallback_(_as_kind(kind, ps) if kind != "module" else iter(ps), ps[0], 1.0,
                                  norm_type)
    clip_grad_norm_(qs, 1.0, norm_type)
    assert all(torch.equal(p.grad, q.grad) for p, q in zip(ps, qs, strict=True))


def test_single_tensor_input() -> None:
    """A single tensor is one parameter, for every public function (as in torch)."""
    p, q = _grad_set()[0], _grad_set()[0]
    assert float(grad_norm(p)) == pytest.approx(float(q.grad.norm()), rel=1e-12)
    clip_grad_norm_(p, 1.0)
    torch.nn.utils.clip_grad_norm_(q, 1.0)
    torch.testing.assert_close(p.grad, q.grad, rtol=1e-12, atol=0)
    clip_grad_value_(p, 0.1)
    torch.nn.utils.clip_grad_value_(q, 0.1)
    assert torch.equal(p.grad, q.grad)
    clip_grad_norm_with_fallback_(p, p, 0.01)
    assert float(p.grad.norm()) <= 0.01


# ---------------------------------------------------------------------------------------------
# Hostile gradients: each case has one expected outcome (the report's table lists them)

F16, BF16, F32, F64 = torch.float16, torch.bfloat16, torch.float32, torch.float64


def _t(values, dtype=F32):
    return None if values is None else torch.tensor(values, dtype=dtype)


# name: (grads, max_norm, norm_type, kwargs, outcome)
HOSTILE = {
    "nan_entry": ([_t([1.0, math.nan])], 1.0, 2.0, {}, "nonfinite"),
    "pos_inf_entry": ([_t([1.0, math.inf]), _t([3.0])], 1.0, 2.0, {}, "nonfinite"),
    "neg_inf_entry": ([_t([-math.inf, 2.0])], 1.0, 2.0, {}, "nonfinite"),
    "inf_entry_norm_inf": ([_t([math.inf, 2.0])], 1.0, math.inf, {}, "nonfinite"),
    "nan_entry_norm_1": ([_t([math.nan]), _t([2.0])], 1.0, 1.0, {}, "nonfinite"),
    "overflow_float32": ([_t([1e38, 1e38])], 1.0, 2.0, {}, "clipped"),
    "overflow_float32_norm_1": ([_t([3e38, 3e38])], 1.0, 1.0, {}, "clipped"),
    "overflow_float32_error_if_nonfinite": ([_t([1e38, 1e38])], 1.0, 2.0,
                                            {"error_if_nonfinite": True}, "clipped"),
    "overflow_float16": ([_t([6e4, 6e4], F16)], 1.0, 2.0, {}, "clipped"),
    "overflow_bfloat16": ([_t([3e38, 3e38], BF16)], 1.0, 2.0, {}, "clipped"),
    "bfloat16_rounding": ([_t([3.0, 4.0, 0.1], BF16)], 1.0, 2.0, {"eps": 0.0}, "clipped"),
    "float16_rounding": ([_t([3.0, 4.0, 1e-3], F16)], 1.0, 2.0, {"eps": 0.0}, "clipped"),
    "overflow_float64": ([_t([1e200, 1e200], F64)], 1.0, 2.0, {}, "clipped"),
    "beyond_float64_range": ([_t([1.5e308, 1.5e308], F64), _t([1.0], F64)], 1.0, 2.0, {}, "clipped"),
    "beyond_float64_range_norm_1": ([_t([1e308, -1e308], F64)], 1.0, 1.0, {}, "clipped"),
    "beyond_float64_range_norm_3": ([_t([1.5e308, 1.5e308], F64)], 1.0, 3.0, {}, "clipped"),
    "tiny_scale_float32": ([_t([1e38, 1e38])], 1e-3, 2.0, {}, "clipped"),
    "mixed_dtypes": ([_t([3e4], F16), _t([1e38]), _t([1e100, -2.0], F64), _t([1.0], BF16)],
                     2.0, 2.0, {}, "clipped"),
    "norm_type_inf": ([_t([3.0, -40.0]), _t([5.0])], 1.0, math.inf, {}, "clipped"),
    "norm_type_1": ([_t([3.0, -40.0]), _t([5.0])], 1.0, 1.0, {}, "clipped"),
    "all_zero": ([_t([0.0, 0.0]), _t([0.0])], 1.0, 2.0, {}, "unchanged"),
    "all_zero_threshold_0_eps_0": ([_t([0.0, 0.0])], 0.0, 2.0, {"eps": 0.0}, "zeros"),
    "threshold_0": ([_t([3.0, 4.0])], 0.0, 2.0, {}, "zeros"),
    "threshold_0_eps_0": ([_t([3.0, 4.0])], 0.0, 2.0, {"eps": 0.0}, "zeros"),
    "threshold_inf": ([_t([1e38, 1e38])], math.inf, 2.0, {}, "unchanged"),
    "below_threshold": ([_t([0.3, 0.4])], 1.0, 2.0, {}, "unchanged"),
    "all_none": ([None, None], 1.0, 2.0, {}, "no_grads"),
    "empty": ([], 1.0, 2.0, {}, "no_grads"),
    "threshold_negative": ([_t([3.0, 4.0])], -1.0, 2.0, {}, "ValueError:-1.0"),
    "threshold_nan": ([_t([3.0, 4.0])], math.nan, 2.0, {}, "ValueError:nan"),
    "norm_type_0": ([_t([3.0, 4.0])], 1.0, 0.0, {}, "ValueError:0.0"),
    "norm_type_negative": ([_t([3.0, 4.0])], 1.0, -2.0, {}, "ValueError:-2.0"),
    "norm_type_nan": ([_t([3.0, 4.0])], 1.0, math.nan, {}, "ValueError:nan"),
    "eps_negative": ([_t([3.0, 4.0])], 1.0, 2.0, {"eps": -1.0}, "ValueError:-1.0"),
}


NONFINITE_MESSAGE = re.escape(
    "is non-finite, so it cannot be clipped. To leave the gradients unchanged instead (with a "
    "warning), set `error_if_nonfinite=False`")


def _make(grads: list) -> list[torch.Tensor]:
    ps = []
    for g in grads:
        p = torch.zeros(1 if g is None else g.shape, dtype=F32 if g is None else g.dtype,
                        requires_grad=True)
        p.grad = None if g is None else g.clone()
        ps.append(p)
    return ps


def _ref_norm(values: list[float], p: float) -> float:
    """The exact global norm of Python floats (math.hypot scales internally: no overflow)."""
    a = [abs(v) for v in values]
    if p == math.inf:
        return max(a)
    if p == 1.0:
        m = max(a)
        return m * math.fsum(v / m for v in a) if m else 0.0  # (m * finite: inf beyond the range)
    if p == 2.0:
        return math.hypot(*a)
    m = max(a)
    return m * math.fsum((v / m) ** p for v in a) ** (1 / p) if m else 0.0


@pytest.mark.claim("pascanu2013/clipping-nonfinite", modules=["pascanu2013.clipping"])
@pytest.mark.parametrize("case", list(HOSTILE))
@pytest.mark.parametrize("as_generator", [False, True])
def test_hostile_gradients(case: str, as_generator: bool) -> None:
    """Algorithm 1 (§3.2) on hostile gradients, each with one outcome: finite gradients always
    come out finite with norm <= threshold (float32/float16/bfloat16 overflow included) and the
    next SGD step writes no NaN/Inf into the weights; non-finite ones warn and stay untouched
    (or raise with error_if_nonfinite); bad thresholds / norm types raise ValueError naming the
    value; threshold 0 gives zeros, inf clips nothing. A generator input behaves like a list."""
    grads, max_norm, norm_type, kw, outcome = HOSTILE[case]
    ps = _make(grads)
    before = [None if p.grad is None else p.grad.clone() for p in ps]
    arg = (p for p in ps) if as_generator else ps
    if outcome.startswith("ValueError"):
        with pytest.raises(ValueError, match=re.escape(outcome.split(":")[1])):
            clip_grad_norm_(arg, max_norm, norm_type, **kw)
        assert all(torch.equal(p.grad, b) for p, b in zip(ps, before, strict=True))
        return
    if outcome == "nonfinite":
        with pytest.raises(RuntimeError, match=NONFINITE_MESSAGE):
            clip_grad_norm_(list(ps), max_norm, norm_type, error_if_nonfinite=True)
        with pytest.warns(RuntimeWarning, match="gradients were left unchanged"):
            total = clip_grad_norm_(arg, max_norm, norm_type, **kw)
        assert not math.isfinite(float(total))
        for p, b in zip(ps, before, strict=True):
            torch.testing.assert_close(p.grad, b, rtol=0, atol=0, equal_nan=True)
        return
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # finite input: no warning
        total = clip_grad_norm_(arg, max_norm, norm_type, **kw)
    assert total.dtype == torch.float64
    values = [float(v) for b in before if b is not None for v in b.double().flatten()]
    if outcome == "no_grads":
        assert float(total) == 0.0 and all(p.grad is None for p in ps)
        return
    ref = _ref_norm(values, norm_type)
    assert float(total) == pytest.approx(ref, rel=1e-12)  # finite wherever the true norm is
    assert math.isinf(ref) == case.startswith("beyond_float64_range")
    after = torch.cat([p.grad.double().flatten() for p in ps])
    orig = torch.tensor(values, dtype=F64)
    assert bool(torch.isfinite(after).all())
    if outcome == "unchanged":
        assert all(torch.equal(p.grad, b) for p, b in zip(ps, before, strict=True))
    elif outcome == "zeros":
        assert torch.equal(after, torch.zeros_like(after))
    else:
        assert outcome == "clipped"
        new = _ref_norm(after.tolist(), norm_type)
        narrow = any(p.grad.dtype in (F16, BF16) for p in ps)
        assert new <= max_norm * (1 + (0 if narrow else 1e-6))  # never above the threshold
        if not narrow:  # Algorithm 1's length, max_norm * ||g|| / (||g|| + eps), to float precision
            eps = kw.get("eps", 1e-6)
            expected = max_norm if math.isinf(ref) else max_norm * ref / (ref + eps)
            assert new == pytest.approx(expected, rel=1e-6)
        assert new >= 0.98 * max_norm if len(values) <= 3 else new > 0
        # direction kept: a positive multiple of the original gradient (up to the dtype's rounding)
        big = orig.abs() >= orig.abs().max() * 1e-2
        ratio = after[big] / orig[big]
        assert float(ratio.min()) > 0 and float(ratio.max() / ratio.min()) < 1.02
    # the next SGD step writes only finite weights
    with torch.no_grad():
        for p in ps:
            new_w = p - 0.1 * p.grad
            assert bool(torch.isfinite(new_w).all()), case


@pytest.mark.parametrize("bad", [-1.0, math.nan])
def test_bad_thresholds_everywhere(bad: float) -> None:
    """A negative or NaN threshold raises ValueError naming the value in every clipping function
    (a negative one would reverse the gradient, a NaN one would silently disable clipping)."""
    ps = _grad_set()
    with pytest.raises(ValueError, match=str(bad)):
        clip_grad_value_(ps, bad)
    with pytest.raises(ValueError, match=str(bad)):
        clip_grad_norm_with_fallback_(ps, ps[0], bad)
    with pytest.raises(ValueError, match=str(bad)):
        clip_grad_norm_with_fallback_(ps, ps[0], 1.0, fallback_threshold=bad)
    with pytest.raises(ValueError, match=str(bad)):
        clip_temporal_contributions_(torch.ones(2, 2, 3), bad)
    with pytest.raises(ValueError, match="norm_type"):
        grad_norm(ps, 0)
    with pytest.raises(ValueError, match="W_rec"):
        clip_grad_norm_with_fallback_(ps[1:], ps[0], 1.0)
    with pytest.raises(ValueError, match="shrink"):
        clip_grad_norm_with_fallback_(ps, ps[0], 1.0, shrink=math.nan)


def test_clip_grad_value_hostile() -> None:
    """Element-wise clipping of the summed gradient: inf threshold changes nothing, ±Inf entries
    become ±c, NaN stays NaN, threshold 0 gives zeros; all as torch.nn.utils.clip_grad_value_."""
    for c in (math.inf, 0.0, 1.0):
        p = torch.zeros(4, requires_grad=True)
        p.grad = torch.tensor([math.inf, -math.inf, math.nan, 0.5])
        q = torch.zeros(4, requires_grad=True)
        q.grad = p.grad.clone()
        clip_grad_value_(p, c)
        torch.nn.utils.clip_grad_value_(q, c)
        torch.testing.assert_close(p.grad, q.grad, rtol=0, atol=0, equal_nan=True)
    assert p.grad[:2].tolist() == [1.0, -1.0] and math.isnan(p.grad[2])


def test_fallback_on_float32_overflow_and_beyond_range() -> None:
    """Released code's guard: a finite float32 gradient whose squares overflow has a finite norm
    (> 1e10), so it takes the fallback; an ordinary gradient is clipped in place."""
    W_rec = torch.ones(2, 2, requires_grad=True)
    b = torch.zeros(2, requires_grad=True)
    W_rec.grad, b.grad = torch.full((2, 2), 1e38), torch.full((2,), 1e38)
    total = clip_grad_norm_with_fallback_((p for p in (W_rec, b)), W_rec, 1.0)
    assert float(total) == pytest.approx(math.sqrt(6) * 1e38, rel=1e-6)
    assert torch.equal(W_rec.grad, 0.02 * torch.ones(2, 2)) and torch.equal(b.grad, torch.zeros(2))


# ---------------------------------------------------------------------------------------------
# Mikolov's clipping of the temporal components (§3.1)


def _mikolov_case(seed: int, scale: float):
    g = torch.Generator().manual_seed(seed)
    model = PascanuRNN(2, 4, 3, activation="tanh", head="softmax", std=scale, generator=seed,
                       dtype=torch.float64)
    u = torch.randn(6, 3, 2, generator=g, dtype=torch.float64)
    target = torch.randint(0, 3, (6, 3), generator=g)
    x, dE_dx = immediate_state_grads(model, u, target)
    C = temporal_contributions(model.W_rec.detach(), model.W_in.detach(), model.b.detach(), u,
                               dE_dx, "tanh")
    full = explicit_bptt(model.W_rec, model.W_in, model.b, u, dE_dx, "tanh", x=x).W_rec
    return C, full


@pytest.mark.parametrize("seed,scale,c", [(0, 1.5, 0.01), (1, 2.0, 0.05), (2, 0.7, 1e-3)])
def test_temporal_clipping_matches_loop(seed: int, scale: float, c: float) -> None:
    """§3.1: Mikolov clips the gradient's temporal components element-wise. Clamping each term
    of eq. (4) before summing equals an explicit Python loop over (t, k) and over every entry;
    with c = inf it is the plain BPTT gradient (eq. 3); and it is not the element-wise clipping
    of the summed gradient (clip_grad_value_)."""
    C, full = _mikolov_case(seed, scale)
    T, _, n, _ = C.shape
    loop = [[0.0] * n for _ in range(n)]
    for t in range(T):
        for k in range(t + 1):
            for i in range(n):
                for j in range(n):
                    loop[i][j] += max(-c, min(c, float(C[t, k, i, j])))
    clipped = clip_temporal_contributions_(C.clone(), c)
    torch.testing.assert_close(clipped, torch.tensor(loop, dtype=torch.float64), rtol=1e-12, atol=1e-15)
    torch.testing.assert_close(clip_temporal_contributions_(C.clone(), math.inf), full, rtol=1e-10,
                               atol=1e-13)
    p = torch.zeros(n, n, dtype=torch.float64, requires_grad=True)
    p.grad = full.clone()
    clip_grad_value_(p, c)
    assert not torch.allclose(p.grad, clipped, rtol=1e-3, atol=0)
    with pytest.raises(ValueError, match="T, T"):
        clip_temporal_contributions_(torch.ones(3), c)


def test_grad_norm_without_gradients() -> None:
    """No gradients (an empty iterable, or only None grads): the norm is a float64 zero."""
    for params in ([], [torch.zeros(2, requires_grad=True)], iter([])):
        out = grad_norm(params)
        assert out.dtype == torch.float64 and float(out) == 0.0


def test_fallback_boundary_and_messages() -> None:
    """Released code's guard: the fallback triggers for norms strictly above 1e10 (the default);
    a norm of exactly 1e10 is clipped as usual. A parameter without a gradient is left alone,
    no gradients at all means no fallback, and each bad argument is named in its error."""
    for value, fell in ((1e10, False), (1e10 + 0.5, True)):
        W_rec = torch.ones(1, dtype=torch.float64, requires_grad=True)
        other = torch.ones(1, dtype=torch.float64, requires_grad=True)
        W_rec.grad = torch.tensor([value], dtype=torch.float64)
        total = clip_grad_norm_with_fallback_([other, W_rec], W_rec, 1.0, eps=0.0)
        assert float(total) == value and other.grad is None
        expected = 0.02 if fell else 1.0
        assert float(W_rec.grad) == pytest.approx(expected, rel=1e-12)
    W_rec = torch.ones(2, requires_grad=True)
    total = clip_grad_norm_with_fallback_([W_rec], W_rec, 1.0)
    assert float(total) == 0.0 and total.dtype == torch.float64 and W_rec.grad is None
    ps = _grad_set()
    for kw, name in (({"max_norm": -1.0}, "max_norm"), ({"fallback_threshold": -1.0}, "fallback_threshold")):
        args = {"max_norm": 1.0, **kw}
        with pytest.raises(ValueError, match=f"^{name} must be"):
            clip_grad_norm_with_fallback_(ps, ps[0], **args)
    with pytest.raises(ValueError, match="^W_rec must be one of"):
        clip_grad_norm_with_fallback_(ps[1:], ps[0], 1.0)
    with pytest.raises(ValueError, match="^max_norm must be"):
        clip_grad_norm_(ps, -1.0)
    with pytest.raises(ValueError, match="^clip_value must be"):
        clip_grad_value_(ps, -1.0)


@pytest.mark.parametrize("dtype", [F16, BF16])
@pytest.mark.parametrize("values,max_norm", [([3.0, 4.0], 2.5), ([3.0, 4.0, 0.1], 1.0),
                                             ([6e4, -6e4, 7.0], 3.0)])
def test_narrow_dtypes_round_towards_zero(dtype: torch.dtype, values: list[float],
                                          max_norm: float) -> None:
    """Algorithm 1 in float16 / bfloat16: each clipped entry is the representable value nearest
    to the exact max_norm/||g|| * g_i on the side of zero (so the clipped norm cannot exceed the
    threshold through rounding), and exactly representable products are kept as they are."""
    p = torch.zeros(len(values), dtype=dtype, requires_grad=True)
    p.grad = torch.tensor(values, dtype=dtype)
    g = p.grad.double().clone()
    total = clip_grad_norm_(p, max_norm, eps=0.0)
    exact = g * (max_norm / float(total))
    after = p.grad.double()
    assert bool((after.abs() <= exact.abs()).all())
    away = torch.nextafter(p.grad, torch.full_like(p.grad, math.inf) * torch.sign(p.grad)).double()
    assert bool((away.abs() > exact.abs()).all())  # the next value out is past the exact one
    assert float(torch.linalg.vector_norm(after)) <= max_norm


def test_accumulator_dtype() -> None:
    """The norm is accumulated in float64, except on Apple mps, which has no float64."""
    from notes_code.pascanu2013.clipping import _acc_dtype

    assert _acc_dtype(torch.device("cpu")) == torch.float64
    assert _acc_dtype(torch.device("cuda", 0)) == torch.float64
    assert _acc_dtype(torch.device("mps")) == torch.float32
