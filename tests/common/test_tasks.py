"""Tests for notes_code.common.tasks: statistical checks with fixed seeds."""

from __future__ import annotations

import math

import pytest
import torch

from notes_code.common import tasks
from notes_code.common.tasks import TASKS, Batch, arith_steps, errors, loss, make_batch, sample_length


def gen(seed: int = 0) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def symbols(batch: Batch) -> torch.Tensor:
    """(T, B) symbol indices from a one-hot input."""
    return batch.u.argmax(-1)


def relevant_positions(batch: Batch) -> tuple[torch.Tensor, torch.Tensor]:
    """(row, col) positions of the symbols A=0 and B=1, sorted by column then time."""
    t, b = (symbols(batch) < 2).nonzero(as_tuple=True)
    order = torch.argsort(b * batch.u.shape[0] + t)
    return t[order], b[order]


def assert_chi_square_uniform(values: torch.Tensor, n: int) -> None:
    """Pearson chi-square against uniform over {0..n-1}; bound well above the 99.9% quantile."""
    counts = torch.bincount(values, minlength=n).double()
    assert counts.numel() == n
    expected = values.numel() / n
    chi2 = float(((counts - expected) ** 2 / expected).sum())
    assert chi2 < (n - 1) + 6 * math.sqrt(2 * (n - 1)) + 10, (chi2, counts)


# --------------------------------------------------------------------------- registry


def test_registry_matches_released_code() -> None:
    """Task sizes and heads match the table of the released code (§4.1, RNN.py task setup)."""
    expected = {
        "torder": (6, 4, "last_softmax"),
        "torder3": (6, 8, "last_softmax"),
        "add": (2, 1, "last_linear"),
        "mul": (2, 1, "last_linear"),
        "perm": (100, 100, "last_softmax"),
        "mem": (7, 6, "softmax"),
        "mem5": (4, 3, "softmax"),  # memvalues=2, mempos=5: the 5-bit variant of §4.1.2
    }
    assert {k: (t.n_in, t.n_out, t.head) for k, t in TASKS.items()} == expected
    for name, task in TASKS.items():
        b = make_batch(name, 3, 40, gen())
        assert b.u.shape[1:] == (3, task.n_in) and b.u.dtype == torch.float32


@pytest.mark.parametrize("name", sorted(TASKS))
def test_same_seed_same_batch(name: str) -> None:
    """The same generator seed gives an identical batch; a different seed does not (determinism
    of the data stream, as with the single RandomState of released RNN.py)."""
    a, b, c = (make_batch(name, 16, 50, gen(s)) for s in (7, 7, 8))
    assert torch.equal(a.u, b.u) and torch.equal(a.target, b.target)
    assert not (a.u.shape == c.u.shape and torch.equal(a.u, c.u))


# --------------------------------------------------------------------------- lengths


def test_sample_length_range_and_coverage() -> None:
    """Training lengths are uniform over [min, max-1] inclusive; max is never drawn
    (released RNN.py: min_length + rng.randint(max_length - min_length))."""
    g = gen(1)
    draws = torch.tensor([sample_length(50, 60, g) for _ in range(2000)])
    assert set(draws.tolist()) == set(range(50, 60))
    assert_chi_square_uniform(draws - 50, 10)
    assert sample_length(80, 80, g) == 80
    with pytest.raises(ValueError):
        sample_length(60, 50, g)


# --------------------------------------------------------------------------- temporal order


@pytest.mark.parametrize("length", [10, 57, 200])
def test_torder_encoding_and_positions(length: int) -> None:
    """Temporal order: one-hot over 6, distractors in {2..5}, exactly two A/B symbols at
    p0 in [fl(.1l), 2fl(.1l)) and p1 in [fl(.5l), fl(.5l)+fl(.1l)), both ranges fully covered;
    target = v0 + 2 v1 (§4.1.1 / released code tempOrder.py)."""
    b = tasks.temporal_order(4000, length, gen(2))
    assert b.u.shape == (length, 4000, 6)
    assert torch.all(b.u.sum(-1) == 1) and set(b.u.unique().tolist()) == {0.0, 1.0}
    s = symbols(b)
    assert (s < 2).sum(0).eq(2).all()
    assert set(s[s >= 2].unique().tolist()) == {2, 3, 4, 5}
    t, col = relevant_positions(b)
    p0, p1 = t[0::2], t[1::2]
    w = length // 10
    assert set(p0.tolist()) == set(range(w, 2 * w))
    assert set(p1.tolist()) == set(range(length // 2, length // 2 + w))
    v0, v1 = s[p0, col[0::2]], s[p1, col[1::2]]
    assert torch.equal(b.target, v0 + 2 * v1)


def test_torder3_encoding_and_positions() -> None:
    """3-bit temporal order: three A/B symbols at fl(.1l), fl(.3l), fl(.6l) + randint(fl(.1l))
    (each range covered exactly) and target v0 + 2 v1 + 4 v2 (§4.1.2 / released code
    tempOrder3bit.py)."""
    length = 73
    b = tasks.temporal_order_3bit(4000, length, gen(3))
    s = symbols(b)
    assert (s < 2).sum(0).eq(3).all()
    t, col = relevant_positions(b)
    w = 7
    ps = [t[k::3] for k in range(3)]
    for p, start in zip(ps, (7, 21, 43), strict=True):
        assert set(p.tolist()) == set(range(start, start + w))
    vs = [s[p, col[k::3]] for k, p in enumerate(ps)]
    assert torch.equal(b.target, vs[0] + 2 * vs[1] + 4 * vs[2])


@pytest.mark.parametrize(("name", "n_classes"), [("torder", 4), ("torder3", 8), ("perm", 2)])
def test_class_balance(name: str, n_classes: int) -> None:
    """Classes are uniformly distributed (v_i i.i.d. uniform over {A, B}; first symbol of perm
    uniform over {0, 1}) (§4.1 / released code tempOrder.py, tempOrder3bit.py, permutation.py)."""
    b = make_batch(name, 8000, 30, gen(4))
    assert_chi_square_uniform(b.target, n_classes)


def test_distractors_uniform() -> None:
    """Distractor symbols are uniform over {2,3,4,5} (released code tempOrder.py)."""
    s = symbols(tasks.temporal_order(500, 100, gen(5)))
    assert_chi_square_uniform(s[s >= 2] - 2, 4)


# --------------------------------------------------------------------------- add / mul


@pytest.mark.parametrize("name", ["add", "mul"])
def test_arith_encoding_and_target(name: str) -> None:
    """Addition/multiplication: channel 0 has exactly two ones, channel 1 values in [0, 1);
    target (x[p0]+x[p1])/2 or x[p0]x[p1], shape (B, 1) (§4.1.2 / released code addition.py,
    multiplication.py)."""
    b = make_batch(name, 500, 100, gen(6))
    marker, x = b.u[..., 0], b.u[..., 1]
    assert set(marker.unique().tolist()) == {0.0, 1.0}
    assert marker.sum(0).eq(2).all()
    assert x.min() >= 0 and x.max() < 1
    picked = (x * marker).T[marker.T.bool()].view(500, 2)
    want = picked.mean(1) if name == "add" else picked.prod(1)
    assert b.target.shape == (500, 1)
    torch.testing.assert_close(b.target[:, 0], want)


def test_arith_lengths_and_positions() -> None:
    """Actual length l' = l + randint(fl(.1l)) is drawn per batch and covers [l, 1.1 l);
    p0 covers [0, fl(.1l')) and p1 covers [fl(.1l'), fl(.1l') + fl(.4l')) (released code
    addition.py)."""
    g, length = gen(7), 50
    seen_len: set[int] = set()
    for _ in range(200):
        b = tasks.addition(2, length, g)
        seen_len.add(b.u.shape[0])
    assert seen_len == set(range(50, 55))
    for _ in range(5):
        b = tasks.addition(3000, length, g)
        lp = b.u.shape[0]
        t = b.u[..., 0].T.nonzero(as_tuple=True)[1]  # row-major over (B, T): sorted per seq
        p0, p1 = t[0::2], t[1::2]
        assert set(p0.tolist()) == set(range(lp // 10))
        assert set(p1.tolist()) == set(range(lp // 10, lp // 10 + (4 * lp) // 10))


# --------------------------------------------------------------------------- perm / mem


def test_perm_encoding() -> None:
    """Random permutation: one-hot over 100, first symbol in {0,1} and equal to the target,
    later symbols cover {2..99} (§4.1.2 / released code permutation.py)."""
    b = tasks.random_permutation(300, 40, gen(8))
    assert b.u.shape == (40, 300, 100) and torch.all(b.u.sum(-1) == 1)
    s = symbols(b)
    assert torch.equal(s[0], b.target) and set(b.target.tolist()) == {0, 1}
    assert set(s[1:].unique().tolist()) == set(range(2, 100))


@pytest.mark.parametrize(("n_values", "n_pos", "length"), [(5, 10, 50), (2, 5, 3)])
def test_memorization_layout(n_values: int, n_pos: int, length: int) -> None:
    """Noiseless memorization: T = l + 2 n_pos; pattern one-hot in steps 0..n_pos-1; blank
    channel afterwards except the go channel at step l + n_pos; targets blank until l+n_pos-1,
    then the pattern for the last n_pos steps starting at the go step (§4.1.2 / released code
    memorization.py)."""
    b = tasks.memorization(400, length, gen(9), n_values=n_values, n_pos=n_pos)
    total, go = length + 2 * n_pos, length + n_pos
    assert b.u.shape == (total, 400, n_values + 2) and b.target.shape == (total, 400)
    assert torch.all(b.u.sum(-1) == 1)
    s = symbols(b)
    pattern = s[:n_pos]
    assert pattern.max() < n_values and set(pattern.unique().tolist()) == set(range(n_values))
    assert torch.all(s[n_pos:go] == n_values) and torch.all(s[go + 1 :] == n_values)
    assert torch.all(s[go] == n_values + 1)
    assert torch.all(b.target[:go] == n_values)
    assert torch.equal(b.target[go:], pattern)


# --------------------------------------------------------------------------- errors / loss


def test_errors_and_loss_last_softmax() -> None:
    """last_softmax: wrong iff argmax mismatches; loss = CE mean over the batch (released
    RNN.py lastSoftmax cost and error)."""
    y = torch.tensor([[2.0, 0.0, 0.0, 0.0], [0.0, 0.0, 3.0, 0.0]])
    t = torch.tensor([0, 1])
    assert errors("torder", y, t).tolist() == [False, True]
    want = -(torch.log_softmax(y, -1)[[0, 1], [0, 1]]).mean()
    torch.testing.assert_close(loss("torder", y, t), want)


def test_errors_and_loss_softmax() -> None:
    """softmax (mem): a sequence is wrong if any step is wrong; loss = CE over all T*B rows
    (released RNN.py softmax cost, report='all')."""
    y = torch.zeros(3, 2, 6)
    t = torch.tensor([[5, 5], [1, 5], [2, 3]])
    for step in range(3):
        y[step, 0, t[step, 0]] = 4.0
        y[step, 1, t[step, 1]] = 4.0
    y[2, 1, 3], y[2, 1, 0] = 0.0, 4.0
    assert errors("mem", y, t).tolist() == [False, True]
    lp = torch.log_softmax(y, -1)
    want = -lp.gather(-1, t.unsqueeze(-1)).mean()
    torch.testing.assert_close(loss("mem", y, t), want)


def test_errors_and_loss_last_linear() -> None:
    """last_linear: wrong iff squared error > 0.04; loss = ((t-y)^2).mean(0).sum()
    (§4.1.2 / released RNN.py lastLinear)."""
    t = torch.tensor([[0.5], [0.5], [0.5]])
    y = torch.tensor([[0.69], [0.71], [0.2]])
    assert errors("add", y, t).tolist() == [False, True, True]
    want = (0.19**2 + 0.21**2 + 0.3**2) / 3
    torch.testing.assert_close(loss("mul", y, t), torch.tensor(want))


# --------------------------------------------------------------------------- validation


def test_argument_validation() -> None:
    """Bad arguments raise ValueError with a clear message: unknown task, length so short that
    fl(.1l) = 0 (minimum 10 stated), batch_size < 1, mismatched head shapes."""
    with pytest.raises(ValueError, match="unknown task"):
        make_batch("nope", 2, 50, gen())
    for name in ("torder", "torder3", "add", "mul"):
        with pytest.raises(ValueError, match="length >= 10"):
            make_batch(name, 2, 9, gen())
    with pytest.raises(ValueError, match="batch_size"):
        make_batch("perm", 0, 50, gen())
    with pytest.raises(ValueError, match="length >= 2"):
        make_batch("perm", 2, 1, gen())
    with pytest.raises(ValueError):
        errors("torder", torch.zeros(3, 2, 4), torch.zeros(2, dtype=torch.long))
    with pytest.raises(ValueError, match="unknown task"):
        loss("bogus", torch.zeros(2, 4), torch.zeros(2, dtype=torch.long))


def test_validation_messages() -> None:
    """The error messages say what was expected and what came (§4.1 task settings): length
    bounds, memorization sizes and the head's shapes (ranks and leading dimensions)."""
    with pytest.raises(ValueError, match=r"^max_length \(5\) < min_length \(6\)$"):
        sample_length(6, 5, gen())
    with pytest.raises(ValueError, match=r"^task 'torder' needs length >= 10 so that floor\(0\.1 \* length\) "
                                         r">= 1, got 9$"):
        make_batch("torder", 2, 9, gen())
    with pytest.raises(ValueError, match=r"^task 'perm' needs length >= 2, got 1$"):
        make_batch("perm", 2, 1, gen())
    with pytest.raises(ValueError, match=r"^batch_size must be >= 1, got 0$"):
        make_batch("mem", 0, 5, gen())
    for n_values, n_pos in ((0, 10), (5, 0), (0, 0)):
        with pytest.raises(ValueError, match=rf"^n_values and n_pos must be >= 1, got {n_values}, {n_pos}$"):
            tasks.memorization(2, 3, gen(), n_values=n_values, n_pos=n_pos)
    shapes = (r"^task 'torder' \(last_softmax\) got y \(3, 4\) and target \(5,\); expected ranks "
              r"\(2, 1\) with matching leading dimensions$")
    with pytest.raises(ValueError, match=shapes):  # right ranks, batch sizes differ
        errors("torder", torch.zeros(3, 4), torch.zeros(5, dtype=torch.long))
    with pytest.raises(ValueError, match="matching leading dimensions"):
        loss("add", torch.zeros(3, 1), torch.zeros(4, 1))


def test_memorization_defaults_and_smallest_sizes() -> None:
    """§4.1.2 memorization with the released code's defaults: 5 values, a pattern of 10, so
    T = l + 20 and 7 input symbols; a one-value, one-position pattern is the smallest valid one."""
    b = tasks.memorization(3, 4, gen())
    assert b.u.shape == (24, 3, 7) and b.target.shape == (24, 3)
    assert torch.equal(b.target[14:], b.u[:10].argmax(-1))  # recalled after the go step (t = 14)
    one = tasks.memorization(2, 1, gen(), n_values=1, n_pos=1)
    assert one.u.shape == (3, 2, 3) and one.target[-1].tolist() == [0, 0]


@pytest.mark.parametrize("name", ["torder", "torder3", "add", "mul", "perm", "mem"])
def test_dtype_is_honoured(name: str) -> None:
    """Every generator returns inputs in the requested floating dtype (float64 here; the
    arithmetic tasks' targets too)."""
    b = make_batch(name, 3, 20, gen(), torch.float64)
    assert b.u.dtype == torch.float64
    if TASKS[name].head == "last_linear":
        assert b.target.dtype == torch.float64


def test_lengths_come_from_the_given_generator() -> None:
    """sample_length draws from its generator only: equal seeds give equal lengths whatever the
    global torch RNG does, and every length lies in [min, max)."""
    def draws(global_seed: int) -> list[int]:
        torch.manual_seed(global_seed)
        g = gen(3)
        return [sample_length(10, 20, g) for _ in range(30)]

    a, b = draws(1), draws(2)
    assert a == b and min(a) >= 10 and max(a) <= 19 and len(set(a)) > 3


@pytest.mark.parametrize("name,length", [("torder", 10), ("torder3", 10), ("perm", 2)])
def test_one_hot_width_is_the_alphabet(name: str, length: int) -> None:
    """§4.1: inputs are one-hot over the whole alphabet (6 symbols for temporal order, 100 for
    the permutation task) even when a short sequence does not use its largest symbols."""
    widths = {make_batch(name, 1, length, gen(seed)).u.shape[-1] for seed in range(40)}
    assert widths == {TASKS[name].n_in}


@pytest.mark.parametrize("name", ["add", "mul"])
def test_arith_steps_drawn_beforehand_give_the_same_batch(name) -> None:
    """§4.1.2 (addition.py): the batch's steps l' = l + randint(.1 l) may be drawn beforehand
    (`arith_steps`, from the stream the trainers share) and passed as `steps`: drawn from the same
    generator state, the batch equals the one whose generator draws l' itself."""
    g1, g2 = torch.Generator().manual_seed(3), torch.Generator().manual_seed(3)
    own = make_batch(name, 5, 40, g1)
    steps = arith_steps(name, 40, g2)
    given = make_batch(name, 5, 40, g2, steps=steps)
    assert steps == own.u.shape[0] and 40 <= steps < 44
    assert torch.equal(own.u, given.u) and torch.equal(own.target, given.target)
    assert {arith_steps(name, 40, g1) for _ in range(200)} == set(range(40, 44))


def test_arith_steps_only_for_linear_tasks() -> None:
    """Other tasks draw nothing (their training streams, and so the recorded grids, are unchanged);
    `steps` given to them, or outside [l, l + floor(.1 l)), is a clear error."""
    g = torch.Generator().manual_seed(0)
    state = g.get_state().clone()
    assert all(arith_steps(t, 30, g) is None for t in ("torder", "torder3", "perm", "mem"))
    assert torch.equal(g.get_state(), state)
    with pytest.raises(ValueError, match="add and mul only"):
        make_batch("torder", 2, 30, g, steps=30)
    for bad in (29, 33):
        with pytest.raises(ValueError, match="not in"):
            make_batch("add", 2, 30, g, steps=bad)


def test_mem5_is_the_5_bit_memorization() -> None:
    """§4.1.2's 5-bit variant of noiseless memorization: the registered `mem5` batch is the
    memorization generator with 2 values and 5 positions (5 bits), T = l + 10."""
    got = make_batch("mem5", 4, 30, gen(2))
    want = tasks.memorization(4, 30, gen(2), n_values=2, n_pos=5)
    assert got.u.shape == (40, 4, 4) and torch.equal(got.u, want.u) and torch.equal(got.target, want.target)


@pytest.mark.parametrize("name", ["add", "mul"])
def test_arith_steps_too_short_is_a_clear_error(name) -> None:
    """§4.1.2 (addition.py): l' = l + randint(floor(.1 l)) needs l >= 10; a shorter length is the
    task's own error (naming the minimum), before any draw, not torch's randint(0) message."""
    g = torch.Generator().manual_seed(0)
    state = g.get_state().clone()
    with pytest.raises(ValueError, match=rf"task '{name}' needs length >= 10 so that floor"):
        arith_steps(name, 9, g)
    assert torch.equal(g.get_state(), state)
    assert 10 <= arith_steps(name, 10, g) < 11


@pytest.mark.parametrize("name", ["add", "mul"])
def test_arith_given_steps_keep_dtype_and_range(name) -> None:
    """§4.1.2 (addition.py): with `steps` given, the batch is still in the requested dtype, and
    at l = 10 (floor(.1 l) = 1) the only valid step count is l itself, so l + 1 is refused."""
    b = make_batch(name, 3, 20, gen(), torch.float64, steps=21)
    assert b.u.dtype == torch.float64 and b.target.dtype == torch.float64
    assert make_batch(name, 2, 10, gen(), steps=10).u.shape[0] == 10
    with pytest.raises(ValueError, match="not in"):
        make_batch(name, 2, 10, gen(), steps=11)
