"""Tests of notes_code.pascanu2013.polyphonic: the §4.2 music model, its NLL, and the three methods."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from notes_code.pascanu2013 import polyphonic as poly
from notes_code.pascanu2013.regularized_training import loss_and_grads
from notes_code.pascanu2013.regularizer import omega


def _rolls(seed: int, lengths: tuple[int, ...], density: float = 0.06) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    return [(rng.random((L, 88)) < density).astype(np.uint8) for L in lengths]


def _model(n: int = 12, seed: int = 0, dtype=torch.float64) -> poly.PolyphonicRNN:
    return poly.PolyphonicRNN(n, std=0.3, generator=seed).to(dtype)


def test_make_batch_shifts_inputs_and_pads_targets() -> None:
    """Table 1's task is next-step prediction: u_1 = 0, u_t = v_{t-1}; padded steps have target -1
    and zero input."""
    rolls = _rolls(0, (5, 3))
    u, target = poly.make_batch(rolls, torch.float64)
    assert u.shape == target.shape == (5, 2, 88)
    assert torch.equal(u[0], torch.zeros(2, 88))
    assert torch.equal(u[1:5, 0], torch.as_tensor(rolls[0][:4], dtype=torch.float64))
    assert torch.equal(target[:3, 1], torch.as_tensor(rolls[1], dtype=torch.float64))
    assert bool((target[3:, 1] == poly.PAD).all()) and bool((u[3:, 1] == 0).all())
    with pytest.raises(ValueError):
        poly.make_batch([np.zeros((4, 87), np.uint8)])
    with pytest.raises(ValueError):
        poly.make_batch([])


def test_nll_matches_bce_with_logits_reference() -> None:
    """§4.2, Table 1's measure: NLL per time step summed over the 88 keys. The loss equals torch's
    BCE-with-logits summed over keys on the real steps only, over the number of real steps; and
    `nll` on a set equals -sum[v log p + (1-v) log(1-p)] computed in numpy from each chorale run
    alone (no padding), over the total number of steps."""
    model = _model()
    rolls = _rolls(1, (7, 4, 9))
    u, target = poly.make_batch(rolls, torch.float64)
    y = model(u).y  # (T, B, 88)
    ref = sum(F.binary_cross_entropy_with_logits(y[: len(r), i], torch.as_tensor(r, dtype=torch.float64),
                                                 reduction="sum") for i, r in enumerate(rolls))
    assert float(model.loss(y, target).detach()) == pytest.approx(float(ref.detach()) / 20, rel=1e-12)
    total = 0.0
    for r in rolls:
        ui, _ = poly.make_batch([r], torch.float64)
        p = torch.sigmoid(model(ui).y[:, 0]).detach().numpy()  # (T_i, 88)
        total += -float(np.sum(r * np.log(p) + (1 - r) * np.log(1 - p)))
    assert poly.nll(model, rolls, batch_size=2) == pytest.approx(total / 20, rel=1e-10)
    # at initialisation-like logits 0 every key costs log 2
    zero = torch.zeros(3, 1, 88, dtype=torch.float64)
    assert float(model.loss(zero, torch.zeros_like(zero))) == pytest.approx(88 * math.log(2))


def test_gradients_match_autograd_and_omega_goes_to_w_rec_only() -> None:
    """§3.3, eq. (10) wiring (float64): with alpha = 0 the trainer's gradients are autograd's of the
    NLL; with alpha > 0 only W_rec's gradient changes, by alpha times autograd of Omega (x and delta
    held constant) computed independently from the padded batch's states and BPTT deltas."""
    model = _model(seed=3)
    u, target = poly.make_batch(_rolls(2, (6, 4)), torch.float64)
    names = [n for n, _ in model.named_parameters()]
    out = model(u)
    loss = model.loss(out.y, target)
    auto = torch.autograd.grad(loss, [*model.parameters(), out.drive])
    plain = loss_and_grads(model, u, target, 0.0)
    for name, g in zip(names, auto[:-1], strict=True):
        assert torch.allclose(plain.grads[name], g, rtol=1e-10, atol=1e-13), name
    alpha = 0.7
    reg = loss_and_grads(model, u, target, alpha)
    W = model.W_rec.detach().clone().requires_grad_(True)
    om = omega(W, out.x.detach(), auto[-1].detach(), "sigmoid", reduction="mean")
    (g_om,) = torch.autograd.grad(om, W)
    assert float(reg.omega) == pytest.approx(float(om.detach()), rel=1e-9)
    expected = auto[names.index("W_rec")] + alpha * g_om
    assert torch.allclose(reg.grads["W_rec"], expected, rtol=1e-9, atol=1e-12)
    for name in names:
        if name != "W_rec":
            assert torch.equal(reg.grads[name], plain.grads[name]), name


def test_padding_changes_no_real_step_and_omega_masks_it() -> None:
    """Padded steps after a sequence's end change nothing: a chorale's NLL and Omega terms are the
    same alone and padded in a batch (its delta is exactly 0 on padded steps, so Omega's mask drops
    them and the mean runs over real (step, sequence) pairs only)."""
    model = _model(seed=4)
    long, short = _rolls(5, (8, 3))
    u, target = poly.make_batch([long, short], torch.float64)
    step = loss_and_grads(model, u, target, 0.0)
    assert bool((step.delta[3:, 1] == 0).all())
    terms, counts = [], []
    for r in (long, short):
        ui, ti = poly.make_batch([r], torch.float64)
        s = loss_and_grads(model, ui, ti, 0.0)
        ok = ~torch.isnan(s.ratios)
        terms.append(float(((s.ratios[ok] ** 2 - 1) ** 2).sum()))
        counts.append(int(ok.sum()))
    assert float(step.omega) == pytest.approx(sum(terms) / sum(counts), rel=1e-9)
    assert poly.nll(model, [long, short]) == pytest.approx(
        (poly.nll(model, [long]) * 8 + poly.nll(model, [short]) * 3) / 11, rel=1e-12)


@pytest.mark.parametrize("method", poly.METHODS)
def test_sgd_step_applies_the_method(method: str) -> None:
    """§3.2 Algorithm 1: MSGD steps by -lr g; MSGD+C and MSGD+CR rescale g to the threshold when
    ||g|| >= threshold (one global norm), so the step's norm is exactly lr * threshold."""
    model = _model(seed=5)
    u, target = poly.make_batch(_rolls(6, (6, 5)), torch.float64)
    alpha = 0.3
    ref = loss_and_grads(model, u, target, alpha if method == "MSGD+CR" else 0.0)
    norm = math.sqrt(sum(float(g.square().sum()) for g in ref.grads.values()))
    clip, lr = norm / 4, 0.5
    before = {n: p.detach().clone() for n, p in model.named_parameters()}
    out = poly.sgd_step(model, u, target, lr, method, clip, alpha)
    assert out is not None and out["norm"] == pytest.approx(norm, rel=1e-9)
    scale = 1.0 if method == "MSGD" else clip / norm
    for n, p in model.named_parameters():
        assert torch.allclose(p.detach(), before[n] - lr * scale * ref.grads[n], rtol=1e-9, atol=1e-12), n
    moved = math.sqrt(sum(float((p.detach() - before[n]).square().sum())
                          for n, p in model.named_parameters()))
    assert moved == pytest.approx(lr * (norm if method == "MSGD" else clip), rel=1e-9)
    assert out["clipped"] == (0.0 if method == "MSGD" else 1.0)


def test_non_finite_batch_writes_nothing() -> None:
    """Bad input: a batch with a NaN input gives no update (None) and leaves every weight as it was."""
    model = _model(seed=6)
    u, target = poly.make_batch(_rolls(7, (4,)), torch.float64)
    u[1, 0, 3] = float("nan")
    before = {n: p.detach().clone() for n, p in model.named_parameters()}
    for method in poly.METHODS:
        assert poly.sgd_step(model, u, target, 1.0, method, 1.0, 0.5) is None
    for n, p in model.named_parameters():
        assert torch.equal(p.detach(), before[n]) and p.grad is None


def test_alpha_schedule_and_learning_rate_rule() -> None:
    """§4.2: alpha_t = alpha_0 / t for MSGD+CR only; the learning rate is halved after every epoch
    whose training cost is above the previous epoch's (checked on a recorded history)."""
    cfg = poly.PolyConfig(method="MSGD+CR", alpha0=0.5)
    assert [poly.alpha_at(cfg, t) for t in (1, 2, 4)] == [0.5, 0.25, 0.125]
    assert poly.alpha_at(poly.PolyConfig(method="MSGD+C"), 1) == 0.0
    rolls = _rolls(8, (10, 12, 9, 11, 8, 10))
    cfg = poly.PolyConfig(method="MSGD+CR", n_hidden=8, lr=8.0, epochs=6, batch_size=2, dtype="float64")
    r = poly.run(cfg, {"train": rolls, "valid": rolls[:2]})
    h = r.history
    assert h[0]["lr"] == 8.0 and [row["alpha"] for row in h] == [0.5 / t for t in range(1, 7)]
    for prev2, prev, row in zip([None, *h], h, h[1:], strict=False):
        rose = prev2 is not None and prev["train_cost"] > prev2["train_cost"]
        assert row["lr"] == (prev["lr"] / 2 if rose else prev["lr"])
    assert any(a["lr"] != b["lr"] for a, b in zip(h, h[1:], strict=False)), "the rule was never exercised"
    assert r.updates == 6 * 3 and not r.diverged and set(r.nll) == {"train", "valid"}


def test_run_is_deterministic_and_seed_pairs_initialisation() -> None:
    """Runs with the same seed start from the same weights across methods (the paired design of
    Table 1's comparison) and repeat exactly; another seed differs."""
    rolls = _rolls(9, (6, 7, 5))
    cfg = poly.PolyConfig(n_hidden=6, epochs=2, batch_size=2, dtype="float64")
    a, b = poly.run(cfg, {"train": rolls}), poly.run(cfg, {"train": rolls})
    assert a.nll == b.nll and a.history == b.history
    m0 = poly.PolyphonicRNN(6, 0.1, torch.Generator().manual_seed(0))
    m1 = poly.PolyphonicRNN(6, 0.1, torch.Generator().manual_seed(1))
    assert not torch.equal(m0.W_rec, m1.W_rec)
    c = poly.run(dataclasses.replace(cfg, seed=1), {"train": rolls})
    assert c.nll != a.nll


def test_config_rejects_bad_values() -> None:
    """Bad input: unknown method, non-positive sizes or rates are errors with the field named."""
    for bad in ({"method": "SGD"}, {"epochs": 0}, {"lr": 0.0}, {"clip": -1.0}, {"alpha0": -0.1}):
        with pytest.raises(ValueError):
            poly.PolyConfig(**bad)
    with pytest.raises(ValueError, match="train"):
        poly.run(poly.PolyConfig(), {"train": []})
    assert poly.PolyConfig().key() == poly.PolyConfig().key() != poly.PolyConfig(seed=1).key()


def _few_chorales(n_train: int, n_test: int) -> dict[str, list[np.ndarray]]:
    """The first chorales (by name) of the train and test folds of music21's corpus (CI subset)."""
    chorales = pytest.importorskip("notes_code.common.chorales")
    pytest.importorskip("music21")
    want = {f: n for f, n in (("train", n_train), ("test", n_test)) if n}
    paths: dict[str, list] = {f: [] for f in want}
    for p in chorales.corpus_paths():
        n = chorales.bwv_number(p.name)
        fold = chorales.fold_of(n) if n is not None and p.suffix == ".mxl" else None
        if fold in want and len(paths[fold]) < want[fold] + 2:  # spares for skipped files
            paths[fold].append(p)
    data = chorales.load_chorales([p for ps in paths.values() for p in ps])
    split = data.split()
    return {f: [c.roll for c in split[f][: want[f]]] for f in want}


@pytest.mark.claim("pascanu2013/table1-bach-clipping-improves",
                   modules=["pascanu2013.polyphonic", "pascanu2013.clipping"])
def test_small_retraining_clipping_lowers_train_and_test_nll_when_steps_explode() -> None:
    """§3.2, §4.2 (CI tier, retrained on 16 + 8 chorales of music21's corpus): where unclipped steps
    blow up (learning rate 30 held constant, 30 hidden units, 8 epochs), MSGD+C with threshold 1 ends
    with a lower training AND test NLL than MSGD, for each of two seeds: clipping fixes the
    optimisation, and the test NLL follows. Disabling the clip makes the two runs identical and
    fails this test. (At the recorded grid's settings clipping hardly acts; see the recorded test.)"""
    folds = _few_chorales(16, 8)
    torch.set_num_threads(1)
    base = poly.PolyConfig(n_hidden=30, lr=30.0, clip=1.0, epochs=8, batch_size=4, halve_on_increase=False)
    for seed in (0, 1):
        plain = poly.run(dataclasses.replace(base, method="MSGD", seed=seed), folds)
        clipped = poly.run(dataclasses.replace(base, method="MSGD+C", seed=seed), folds)
        assert clipped.nll["train"] < plain.nll["train"] - 1.0, (seed, clipped.nll, plain.nll)
        assert clipped.nll["test"] < plain.nll["test"] - 1.0, (seed, clipped.nll, plain.nll)
        assert sum(h["clipped"] for h in clipped.history) > 0


@pytest.mark.claim("pascanu2013/table1-bach-omega-helps",
                   modules=["pascanu2013.polyphonic", "pascanu2013.regularizer"])
def test_small_retraining_omega_schedule_lowers_omega() -> None:
    """§3.3, §4.2 (CI tier, retrained on 16 chorales): the precondition of "Omega with a 1/t schedule
    helps": training on E + alpha_t Omega with alpha_t = 0.5/t ends with a lower Omega (the error keeps
    its norm better going back in time) than the same seed without it, for each of two seeds. It does
    not show that the test NLL improves; the recorded grid decides that (and does not show it). With
    alpha_0 = 0 the MSGD+CR run is MSGD+C exactly, so the difference is Omega's alone."""
    folds = _few_chorales(16, 0)
    torch.set_num_threads(1)
    base = poly.PolyConfig(n_hidden=30, epochs=6, batch_size=4, alpha0=0.5)
    for seed in (0, 1):
        c = poly.run(dataclasses.replace(base, method="MSGD+C", seed=seed), folds)
        cr = poly.run(dataclasses.replace(base, method="MSGD+CR", seed=seed), folds)
        assert [h["alpha"] for h in cr.history] == [0.5 / t for t in range(1, 7)]
        om_c, om_cr = c.history[-1]["omega"], cr.history[-1]["omega"]
        assert om_cr < om_c - 0.002, (seed, om_cr, om_c)  # measured: 0.0042 and 0.0044 lower
    same = poly.run(dataclasses.replace(base, method="MSGD+CR", alpha0=0.0), folds)
    assert same.nll == poly.run(dataclasses.replace(base, method="MSGD+C"), folds).nll
