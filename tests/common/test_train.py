"""Tests for notes_code.common.train: the Fig. 7 training protocol (§4.1.1, released code)."""

from __future__ import annotations

import dataclasses
import math
import time

import pytest
import torch

from notes_code.common.tasks import TASKS
from notes_code.common.train import TrainConfig, eval_plan, make_model
from notes_code.common.train import run as _train_run
from notes_code.pascanu2013.init import spectral_radius


def run(config: TrainConfig, callback=None, **kw):
    """train.run that fails, instead of hanging, if its loop goes on past the budget."""
    calls = []

    def guard(step: int) -> None:
        calls.append(step)
        if len(calls) > 2 * config.max_updates + 10:
            raise AssertionError(f"still training after {len(calls)} loop iterations")
        if callback is not None:
            callback(step)

    return _train_run(config, callback=guard, **kw)

# a short temporal-order problem that basic-tanh MSGD-C solves in a few hundred updates
SMALL = TrainConfig(init="basic_tanh", method="MSGD-C", n_hidden=50, min_length=10, max_length=10,
                    lr=0.1, max_updates=1500, eval_every=50, eval_size=2000, screen_size=500,
                    eval_chunk=500, seed=0)
# a tiny float64 config for exact comparisons
TINY = TrainConfig(init="smart_tanh", method="MSGD-CR", n_hidden=8, min_length=10, max_length=16,
                   lr=0.1, max_updates=60, eval_every=10, eval_size=100, screen_size=40, eval_chunk=50,
                   dtype="float64", seed=3, length_seed=5)


def test_small_result_is_deterministic() -> None:
    """§4.1.1 protocol (released-code driver): a fixed seed solves temporal order at length 10
    (under 1% of fresh sequences wrong) and two runs end in bit-identical states."""
    a, b = run(SMALL), run(SMALL)
    assert a.outcome == "success" and a.success and not a.diverged
    assert a.final_error is not None and a.final_error < 0.01
    assert a.updates < SMALL.max_updates and a.updates % SMALL.eval_every == 0
    assert a.history[-1]["n_eval"] == SMALL.eval_size  # success is judged on the full test
    assert (a.outcome, a.updates, a.history) == (b.outcome, b.updates, b.history)
    for name, p in a.params.items():
        assert torch.equal(p, b.params[name])


def test_resume_equals_uninterrupted(tmp_path) -> None:
    """Checkpoint/resume: a run interrupted (KeyboardInterrupt after update 47, last checkpoint
    at 40) and restarted from its checkpoint ends in exactly the uninterrupted final state."""
    full = run(TINY)
    ckpt = tmp_path / "run.pt"

    def interrupt(step: int) -> None:
        if step == 47:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        run(TINY, checkpoint=ckpt, checkpoint_every=20, callback=interrupt)
    assert ckpt.exists() and not list(tmp_path.glob(".*tmp"))
    resumed = run(TINY, checkpoint=ckpt, checkpoint_every=20)
    assert (resumed.outcome, resumed.updates, resumed.final_error) == (full.outcome, full.updates,
                                                                       full.final_error)
    assert resumed.history == full.history
    for name, p in full.params.items():
        assert torch.equal(p, resumed.params[name])
    with pytest.raises(ValueError, match="another config"):
        run(dataclasses.replace(TINY, seed=4), checkpoint=ckpt)


def test_msgd_divergence_never_writes_nan() -> None:
    """Released code: without clipping there is no guard and a NaN ends the run. We stop the
    MSGD run as 'diverged' before the offending update, so its weights stay finite."""
    cfg = dataclasses.replace(TINY, method="MSGD", lr=math.inf, max_updates=50)
    r = run(cfg)
    assert r.outcome == "diverged" and r.diverged and not r.success
    assert r.updates == 0 and r.final_error is None  # the first update would write inf/NaN
    for name, p in make_model(cfg).named_parameters():
        assert torch.equal(r.params[name], p.detach())
    # with clipping the same step is finite (lr * threshold): no divergence
    assert not run(dataclasses.replace(cfg, method="MSGD-C", lr=1e3, max_updates=5)).diverged


def test_clipped_fallback_shrinks_W_rec_only() -> None:
    """Released code (RNN.py, clipstyle 'rescale'): a gradient norm above the threshold
    (1e10 there; 0 here, to force it) makes the step W_rec <- W_rec - lr * 0.02 W_rec, with every
    other parameter left unchanged."""
    cfg = dataclasses.replace(TINY, method="MSGD-C", fallback_threshold=0.0, max_updates=7)
    r = run(cfg)
    init = dict(make_model(cfg).named_parameters())
    assert r.n_fallback == 7 and r.updates == 7
    factor = (1.0 - cfg.lr * cfg.fallback_shrink) ** 7
    assert torch.allclose(r.params["W_rec"], init["W_rec"].detach() * factor, rtol=1e-12, atol=0)
    for name in ("W_in", "b", "W_out", "b_out"):
        assert torch.equal(r.params[name], init[name].detach())


def test_init_and_config() -> None:
    """§4.1.1: the three initialisations (smart tanh: spectral radius 0.95), config validation,
    and the cell key changes with the budget."""
    smart = make_model(dataclasses.replace(TINY, init="smart_tanh", n_hidden=50))
    assert math.isclose(spectral_radius(smart.W_rec), 0.95, rel_tol=1e-4)
    assert make_model(dataclasses.replace(TINY, init="sigmoid")).activation == "sigmoid"
    with pytest.raises(ValueError, match="method"):
        TrainConfig(method="SGD")
    with pytest.raises(ValueError, match="min_length"):
        TrainConfig(min_length=20, max_length=10)
    with pytest.raises(ValueError, match=r"task 'add' needs min_length >= 10, got 9"):
        TrainConfig(task="add", min_length=9, max_length=12)  # refused here, not mid-run
    assert TrainConfig(task="mem", min_length=1, max_length=1).min_length == 1
    assert TINY.key() != dataclasses.replace(TINY, max_updates=61).key()
    assert TINY.key() == dataclasses.replace(TINY).key()


def test_eval_plan_depends_only_on_step() -> None:
    """Evaluation on fresh sequences (§4.1.1): screen + full test sizes, lengths in range and fixed
    by (length_seed, update) alone."""
    screen, full = eval_plan(TINY, 30)
    assert [s for s, *_ in screen] == [40] and [s for s, *_ in full] == [50, 50]
    assert all(TINY.min_length <= L < TINY.max_length and steps is None for _, L, steps in screen + full)
    assert eval_plan(TINY, 30) == (screen, full)


def test_progress_bar(capsys) -> None:
    """The tqdm bar reports the update rate and the current error / gradient norm / Omega."""
    run(dataclasses.replace(TINY, max_updates=10), progress=True)
    err = capsys.readouterr().err
    assert "upd" in err and "err=" in err and "omega=" in err


def test_clip_count_uses_geq_at_the_threshold() -> None:
    """Algorithm 1, §3.2 rescales when ||g|| >= threshold (the released code uses >): with the
    threshold set to exactly the first update's pre-clipping norm, that update counts as clipped;
    one ulp above, it does not; threshold 0 clips every update, inf none."""
    one = dataclasses.replace(TINY, method="MSGD-C", max_updates=1, eval_every=1, clip=math.inf)
    free = run(one)
    norm = free.max_grad_norm  # the only update's norm, computed before clipping
    assert free.n_clipped == 0 and free.history[-1]["n_clipped"] == 0
    assert run(dataclasses.replace(one, clip=norm)).n_clipped == 1
    assert run(dataclasses.replace(one, clip=math.nextafter(norm, math.inf))).n_clipped == 0
    r = run(dataclasses.replace(TINY, method="MSGD-C", clip=0.0, max_updates=20))
    assert r.n_clipped == 20 and sum(row["n_clipped"] for row in r.history) == 20
    assert run(dataclasses.replace(TINY, method="MSGD", clip=0.0, max_updates=5)).n_clipped == 0


@pytest.mark.parametrize("engine", ["single", "batched"])
def test_alpha_only_acts_in_msgd_cr(engine: str) -> None:
    """§3.3 / Fig. 7 methods: Omega's weight alpha enters MSGD-CR only. MSGD-C (and MSGD) runs with
    alpha 0 and alpha 4 end bit-identical, while MSGD-CR's alpha changes the weights."""
    from notes_code.common.batched import run_batched

    def train(cfg: TrainConfig):
        return run(cfg) if engine == "single" else run_batched([cfg])[0]

    base = dataclasses.replace(TINY, max_updates=20)
    for method in ("MSGD-C", "MSGD"):
        a = train(dataclasses.replace(base, method=method, alpha=0.0))
        b = train(dataclasses.replace(base, method=method, alpha=4.0))
        assert a.history == b.history
        assert all(torch.equal(a.params[k], b.params[k]) for k in a.params)
    a = train(dataclasses.replace(base, method="MSGD-CR", alpha=0.0))
    b = train(dataclasses.replace(base, method="MSGD-CR", alpha=4.0))
    assert not torch.equal(a.params["W_rec"], b.params["W_rec"])
    c = train(dataclasses.replace(base, method="MSGD-C"))
    assert all(torch.equal(a.params[k], c.params[k]) for k in a.params)  # MSGD-CR at alpha 0


@pytest.mark.parametrize("engine", ["single", "batched"])
def test_evaluation_uses_fresh_sequences(monkeypatch, engine: str) -> None:
    """§4.1.1 protocol: every evaluation draws fresh test sequences (from the run's eval stream):
    no draw, test or training, starts from a random state an earlier draw started from, and each
    evaluation draws exactly the chunks of its eval plan."""
    from notes_code.common import batched, train
    from notes_code.common.tasks import make_batch as real

    module = train if engine == "single" else batched
    seen: list[tuple[int, torch.Tensor]] = []  # (batch size, generator state before the draw)

    def spy(task, size, length, g, dtype, steps=None):
        seen.append((size, g.get_state().clone()))
        return real(task, size, length, g, dtype, steps)

    monkeypatch.setattr(module, "make_batch", spy)
    cfg = dataclasses.replace(TINY, method="MSGD-C", max_updates=30, success_error=1e-9)
    r = run(cfg) if engine == "single" else batched.run_batched([cfg])[0]
    assert r.updates == 30 and len(r.history) == 3
    test = [u for size, u in seen if size != cfg.batch_size]
    planned = sum(len(eval_plan(cfg, k)[0]) for k in (10, 20, 30))
    assert len(test) == planned  # the screens (errors stay above success_error: no full test)
    # a re-seeded, copied or shared generator would start two draws from the same state
    for i, (_, state) in enumerate(seen):
        for _, earlier in seen[:i]:
            assert not torch.equal(state, earlier)


def test_config_key_is_stable() -> None:
    """Fig. 7 results and checkpoints are keyed by TrainConfig.key(): 16 hex digits of SHA-256
    over the JSON of the fields sorted by name, so a key written once stays valid (the default
    protocol's key is pinned) and every field changes it."""
    c = TrainConfig()
    assert c.key() == "b00187a69f1ae14e"
    other = ["perm", "sigmoid", "MSGD", 51, 49, 51, 21, 0.02, 2.0, 5.0, 6, 1, 1, 101, 9999, 999, 999,
             0.02, "float64", 1e9, 0.03]  # one changed value per field, in declaration order
    keys = {dataclasses.replace(c, **{f.name: v}).key()
            for f, v in zip(dataclasses.fields(c), other, strict=True)}
    assert len(keys) == len(dataclasses.fields(c)) and c.key() not in keys


def test_evaluate_follows_the_plan() -> None:
    """Fig. 7 protocol: evaluate() tests fresh sequences from the eval generator, chunk by chunk
    with the lengths of eval_plan(config, step): the screen first, the full test only if the
    screen's error is below the threshold; without a screen, the full test alone. Recomputed
    here with errors() on the same draws."""
    from notes_code.common.tasks import errors, make_batch
    from notes_code.common.train import evaluate, generator

    base = TrainConfig(n_hidden=4, min_length=10, max_length=14, eval_size=30, screen_size=10,
                       eval_chunk=8, dtype="float64")
    for cfg in (dataclasses.replace(base, success_error=0.9), dataclasses.replace(base, success_error=0.01),
                dataclasses.replace(base, screen_size=0, success_error=0.9)):
        model = make_model(cfg)
        got = evaluate(model, cfg, 7, generator(0, "eval"))
        g = generator(0, "eval")
        screen, full = eval_plan(cfg, 7)
        want = None
        for plan in (screen, full):
            if not plan:
                continue
            wrong = 0
            with torch.no_grad():
                for size, length, steps in plan:
                    b = make_batch(cfg.task, size, length, g, torch.float64, steps)
                    wrong += int(errors(cfg.task, model(b.u).y, b.target).sum())
            total = sum(s for s, *_ in plan)
            want = (wrong / total, total)
            if wrong / total >= cfg.success_error:
                break
        assert got == want
    assert want[1] == 30  # the last case ran the full test alone
    # a screen error exactly at the threshold is no pass: the full test is not run
    cfg = dataclasses.replace(base, success_error=0.9)
    err, n = evaluate(make_model(cfg), cfg, 7, generator(0, "eval"))
    at = dataclasses.replace(base, success_error=evaluate(make_model(cfg), dataclasses.replace(
        base, eval_size=10, screen_size=0), 7, generator(0, "eval"))[0])
    assert n == 30 and evaluate(make_model(at), at, 7, generator(0, "eval"))[1] == 10


def test_atomic_save_creates_missing_folders(tmp_path) -> None:
    """Checkpoints and results can go to a folder that does not exist yet (created with its
    parents); the file is written whole and no temporary file is left beside it."""
    from notes_code.common.train import atomic_save

    path = tmp_path / "a" / "b" / "run.pt"
    atomic_save({"x": torch.arange(3)}, path)
    assert torch.equal(torch.load(path, weights_only=True)["x"], torch.arange(3))
    assert [p.name for p in path.parent.iterdir()] == ["run.pt"]


HISTORY_CASES = {  # method, init and the settings that make each path happen
    "MSGD-CR": {"method": "MSGD-CR", "init": "basic_tanh", "seed": 2},
    "MSGD": {"method": "MSGD", "init": "sigmoid", "seed": 1},
    "MSGD-diverges": {"method": "MSGD", "init": "smart_tanh", "seed": 5, "lr": math.inf},
    "MSGD-C-fallback": {"method": "MSGD-C", "init": "basic_tanh", "seed": 4, "clip": 0.1,
                        "fallback_threshold": 0.3, "fallback_shrink": 0.05},
    # addition: a last-step linear head, and a step count l' drawn per batch (and per evaluation
    # chunk) from the run's length stream, which both trainers must draw alike
    "MSGD-CR-add": {"method": "MSGD-CR", "init": "basic_tanh", "seed": 2, "task": "add",
                    "min_length": 10, "max_length": 30},
}


@pytest.mark.parametrize("case", sorted(HISTORY_CASES))
def test_history_matches_the_batched_trainer(case: str) -> None:
    """Fig. 7 protocol, two implementations: a single run's outcome, history rows (mean loss and
    Omega since the previous evaluation, largest norm, fallback and clip counts, error, n_eval) and
    weights equal those of the batched trainer, which computes them separately; for MSGD (no
    guard), MSGD-CR, a diverging MSGD run, the released code's fallback (MSGD-C) and an addition
    run (§4.1.2: last-step linear head, l' drawn from the length stream for batches and tests)."""
    from notes_code.common.batched import run_batched

    cfg = TrainConfig(**{"n_hidden": 4, "min_length": 10, "max_length": 12, "batch_size": 4, "lr": 0.1,
                         "max_updates": 9, "eval_every": 4, "eval_size": 24, "screen_size": 8,
                         "eval_chunk": 8, "dtype": "float64", "length_seed": 3, "success_error": 0.5,
                         **HISTORY_CASES[case]})
    single, (batched,) = run(cfg), run_batched([cfg])
    assert (single.outcome, single.updates, single.n_clipped, single.n_fallback, single.final_error) == (
        batched.outcome, batched.updates, batched.n_clipped, batched.n_fallback, batched.final_error)
    assert single.max_grad_norm == pytest.approx(batched.max_grad_norm, rel=1e-9)
    assert len(single.history) == len(batched.history)
    for a, b in zip(single.history, batched.history, strict=True):
        assert a == pytest.approx(b, rel=1e-9, abs=1e-12)
    for name, p in single.params.items():
        torch.testing.assert_close(p, batched.params[name], rtol=1e-9, atol=1e-12)
    expected = {"MSGD-CR": lambda r: r.n_clipped > 0, "MSGD": lambda r: r.outcome != "diverged",
                "MSGD-diverges": lambda r: r.outcome == "diverged",
                "MSGD-C-fallback": lambda r: r.n_fallback > 0,
                "MSGD-CR-add": lambda r: r.n_clipped > 0 and len(r.history) > 0}
    assert expected[case](single)


def test_fallback_threshold_is_inclusive() -> None:
    """Released code's guard: a gradient norm equal to fallback_threshold is still clipped
    normally (the fallback is for norms above it, or non-finite ones); just below, it falls back."""
    import numpy as np

    base = TrainConfig(n_hidden=4, min_length=10, max_length=10, batch_size=4, max_updates=1, eval_every=1,
                       eval_size=8, screen_size=0, eval_chunk=8, dtype="float64", clip=0.1)
    norm = run(base).history[0]["grad_norm"]
    at = run(dataclasses.replace(base, fallback_threshold=norm))
    below = run(dataclasses.replace(base, fallback_threshold=float(np.nextafter(norm, 0))))
    assert (at.n_fallback, at.n_clipped) == (0, 1) and (below.n_fallback, below.n_clipped) == (1, 0)


# a very small run for the checkpoint tests (a few ms per update)
QUICK = TrainConfig(init="basic_tanh", method="MSGD-CR", n_hidden=4, min_length=10, max_length=12,
                    batch_size=4, lr=0.1, max_updates=12, eval_every=4, eval_size=24, screen_size=8,
                    eval_chunk=8, dtype="float64", seed=2, length_seed=3, success_error=0.01)


def _interrupt_at(step_to_stop: int):
    def callback(step: int) -> None:
        if step == step_to_stop:
            raise KeyboardInterrupt
    return callback


def test_resume_bookkeeping(tmp_path, capfd) -> None:
    """Checkpoint/resume of a single run: the resumed session adds its time to the saved wall time
    (no more than both sessions took), its progress bar goes on from the checkpoint to 12 of 12
    updates, and a checkpoint written before n_clipped was counted resumes with the clips counted
    before it lost (the same trajectory otherwise). By default no bar is drawn."""
    full = run(QUICK)
    assert capfd.readouterr().err == ""
    assert full.n_clipped > 0
    ckpt = tmp_path / "run.pt"
    t0 = time.perf_counter()
    with pytest.raises(KeyboardInterrupt):
        run(QUICK, checkpoint=ckpt, checkpoint_every=5, callback=_interrupt_at(7))
    state = torch.load(ckpt, weights_only=True)
    assert state["step"] == 5 and state["wall"] > 0
    resumed = run(QUICK, checkpoint=ckpt, checkpoint_every=5, progress=True)
    elapsed = time.perf_counter() - t0
    bar = capfd.readouterr().err.replace("\r", "\n").strip().splitlines()[-1]
    assert "12/12" in bar
    assert elapsed >= resumed.wall_time >= state["wall"]
    assert (resumed.history, resumed.n_clipped) == (full.history, full.n_clipped)
    # the old format: no n_clipped total nor accumulator
    lost = state["totals"]["n_clipped"] + state["acc"]["n_clipped"]
    del state["totals"]["n_clipped"], state["acc"]["n_clipped"]
    torch.save(state, ckpt)
    old = run(QUICK, checkpoint=ckpt)
    assert (old.outcome, old.updates, old.final_error) == (full.outcome, full.updates, full.final_error)
    assert old.n_clipped == full.n_clipped - lost and lost > 0
    for name, p in full.params.items():
        assert torch.equal(p, old.params[name])


def test_resume_of_a_finished_success(tmp_path) -> None:
    """A checkpoint written at the update that met the success criterion resumes as that success
    (no further update), as the uninterrupted run ended."""
    win = dataclasses.replace(QUICK, success_error=0.7, seed=4, method="MSGD-C", clip=0.1,
                              fallback_threshold=0.3, length_seed=7)
    first = run(win, checkpoint=tmp_path / "w.pt")
    assert first.outcome == "success" and first.updates < win.max_updates
    again = run(win, checkpoint=tmp_path / "w.pt")
    assert (again.outcome, again.updates, again.history) == (first.outcome, first.updates, first.history)


def test_checkpoint_is_loaded_as_weights_only(tmp_path) -> None:
    """A single run's checkpoint is read with torch.load(weights_only=True): a file holding a
    Python object outside torch's allow-list is refused before anything is trained."""
    import fractions
    import pickle

    ckpt = tmp_path / "evil.pt"
    torch.save({"config": dataclasses.asdict(QUICK), "x": fractions.Fraction(1, 3)}, ckpt)
    with pytest.raises(pickle.UnpicklingError):
        run(QUICK, checkpoint=ckpt)



def test_history_row_is_the_mean_since_the_last_evaluation() -> None:
    """Fig. 7 history rows: loss and Omega are the means over the updates since the previous
    evaluation, grad_norm the largest norm, the counts as accumulated (n_clipped 0 when an old
    accumulator lacks it); with no update in between the sums are divided by 1."""
    from notes_code.common.train import _row

    acc = {"loss": 3.0, "omega": 1.5, "n": 3, "grad_norm": 2.5, "n_fallback": 1, "n_clipped": 2}
    assert _row(8, 0.25, 24, acc) == {"update": 8, "error": 0.25, "n_eval": 24, "loss": 1.0, "omega": 0.5,
                                      "grad_norm": 2.5, "n_fallback": 1, "n_clipped": 2}
    old = {"loss": 0.5, "omega": 0.25, "n": 0, "grad_norm": 0.0, "n_fallback": 0}
    assert _row(4, 0.5, 8, old) == {"update": 4, "error": 0.5, "n_eval": 8, "loss": 0.5, "omega": 0.25,
                                    "grad_norm": 0.0, "n_fallback": 0, "n_clipped": 0}


def test_config_validation_messages() -> None:
    """A run's configuration is checked field by field with a clear message: every size must be
    at least 1 and the length range must not be empty."""
    for name in ("n_hidden", "batch_size", "max_updates", "eval_every", "eval_size", "eval_chunk"):
        with pytest.raises(ValueError, match=r"^TrainConfig: sizes must be >= 1$"):
            TrainConfig(**{name: 0})
    with pytest.raises(ValueError, match=r"^TrainConfig: min_length > max_length$"):
        TrainConfig(min_length=11, max_length=10)


def test_eval_plan_screen_bounds() -> None:
    """Fig. 7 protocol's cheap pre-test: a screen of even one sequence is used; a screen as large
    as (or larger than) the full test, or of size 0, is not (the full test alone)."""
    base = TrainConfig(eval_size=30, eval_chunk=8, min_length=10, max_length=14)
    screen, full = eval_plan(dataclasses.replace(base, screen_size=1), 3)
    assert [s for s, *_ in screen] == [1] and [s for s, *_ in full] == [8, 8, 8, 6]
    for size in (0, 30, 31):
        assert eval_plan(dataclasses.replace(base, screen_size=size), 3)[0] == []


def test_make_model_is_the_named_init() -> None:
    """A run's initial network is the §4.1.1 init named by the config, with the task's head and
    sizes, drawn from the run's own "init" generator stream."""
    from notes_code.common.train import generator
    from notes_code.pascanu2013.rnn import PascanuRNN

    for task, init in (("add", "basic_tanh"), ("torder", "sigmoid")):
        cfg = TrainConfig(task=task, init=init, n_hidden=5, seed=3, dtype="float64")
        m = make_model(cfg)
        t = TASKS[task]
        build = getattr(PascanuRNN, f"{init}_init")
        ref = build(t.n_in, 5, t.n_out, head=t.head, generator=generator(3, "init"), dtype=torch.float64)
        assert m.head == TASKS[task].head
        for name, p in ref.named_parameters():
            assert torch.equal(getattr(m, name), p)
    # the LSTM beside §4.1.1: the 1997 cell or the forget-gate cell, with the task's head, drawn
    # from the same "init" stream (not the global RNG: a second build is identical)
    from notes_code.hochreiter1997.network import LSTMNet

    for task, init in (("mem", "lstm1997"), ("add", "lstm")):
        cfg = TrainConfig(task=task, init=init, n_hidden=5, seed=3, dtype="float64")
        t = TASKS[task]
        ref = LSTMNet(t.n_in, 5, t.n_out, forget_gate=init == "lstm", head=t.head,
                      generator=generator(3, "init"), dtype=torch.float64)
        torch.manual_seed(0)
        m = make_model(cfg)
        torch.manual_seed(1)
        again = make_model(cfg)
        assert m.head == ref.head == t.head
        for (name, p), q in zip(ref.named_parameters(), again.parameters(), strict=True):
            assert torch.equal(dict(m.named_parameters())[name], p) and torch.equal(q, p), name


LSTM_TINY = dataclasses.replace(TINY, init="lstm", method="MSGD-C", clip=1e-3, max_updates=3, eval_every=3)


@pytest.mark.parametrize("init", ["lstm1997", "lstm"])
@pytest.mark.parametrize("method", ["MSGD", "MSGD-C"])
def test_lstm_update_is_sgd_on_the_autograd_gradient(init: str, method: str) -> None:
    """Same protocol for the LSTM (Hochreiter & Schmidhuber 1997, beside §4.1.1): each update is
    SGD on autograd's gradient of the task loss, on the run's own batch of the drawn length; with
    MSGD-C the gradient is first rescaled by Algorithm 1 (norm from torch.nn.utils.get_total_norm)."""
    from notes_code.common.tasks import arith_steps, loss, make_batch, sample_length
    from notes_code.common.train import generator

    cfg = dataclasses.replace(LSTM_TINY, init=init, method=method)
    got = run(cfg)
    model = make_model(cfg)
    assert model.lstm.forget_gate == (init == "lstm")
    g_len, g_data = generator(cfg.length_seed, "length"), generator(cfg.seed, "data")
    for _ in range(cfg.max_updates):
        length = sample_length(cfg.min_length, cfg.max_length, g_len)
        batch = make_batch(cfg.task, cfg.batch_size, length, g_data, torch.float64,
                           arith_steps(cfg.task, length, g_len))
        model.zero_grad()
        loss(cfg.task, model(batch.u), batch.target).backward()
        if method == "MSGD-C":  # Algorithm 1 (torch's clip_grad_norm_ adds 1e-6 to the norm)
            norm = torch.nn.utils.get_total_norm([p.grad for p in model.parameters()])
            for p in model.parameters():
                p.grad *= cfg.clip / norm if norm >= cfg.clip else 1.0
        with torch.no_grad():
            for p in model.parameters():
                p -= cfg.lr * p.grad
    assert got.updates == cfg.max_updates and got.n_fallback == 0
    assert got.n_clipped == (cfg.max_updates if method == "MSGD-C" else 0)  # every norm is above 1e-3
    for name, p in model.named_parameters():
        assert torch.allclose(got.params[name], p.detach(), rtol=1e-10, atol=1e-12), name


def test_lstm_fallback_shrinks_its_recurrent_matrix_only() -> None:
    """The released code's fallback, for an LSTM: the step is W_hh <- W_hh - lr * 0.02 W_hh,
    every other parameter unchanged; Omega (eq. 10) is defined for the RNN only, so MSGD-CR is
    refused for an LSTM with a clear error."""
    cfg = dataclasses.replace(LSTM_TINY, fallback_threshold=0.0)
    r = run(cfg)
    init = dict(make_model(cfg).named_parameters())
    assert r.n_fallback == 3
    factor = (1.0 - cfg.lr * cfg.fallback_shrink) ** 3
    assert torch.allclose(r.params["lstm.W_hh"], init["lstm.W_hh"].detach() * factor, rtol=1e-12, atol=0)
    for name in ("lstm.W_ih", "lstm.b", "W_out", "b_out"):
        assert torch.equal(r.params[name], init[name].detach())
    with pytest.raises(ValueError, match="Omega, defined for the RNN"):
        dataclasses.replace(LSTM_TINY, method="MSGD-CR")


def test_lstm_is_evaluated_and_resumed_like_the_rnn(tmp_path) -> None:
    """One success test for both networks (§4.1.1): the LSTM's error is measured on the same fresh
    sequences (`eval_plan`) and a run resumed from its checkpoint ends exactly as an uninterrupted one."""
    cfg = dataclasses.replace(LSTM_TINY, max_updates=6, eval_every=2)
    full = run(cfg)
    assert [h["update"] for h in full.history] == [2, 4, 6] and all(h["omega"] == 0 for h in full.history)
    from notes_code.common.tasks import errors, make_batch
    from notes_code.common.train import evaluate, generator

    model, g = make_model(cfg), generator(cfg.seed, "eval")
    got = evaluate(model, cfg, 6, generator(cfg.seed, "eval"))
    screen, _ = eval_plan(cfg, 6)
    wrong = sum(int(errors(cfg.task, model(b.u), b.target).sum())
                for b in (make_batch(cfg.task, n, L, g, torch.float64, st) for n, L, st in screen))
    assert got == (wrong / cfg.screen_size, cfg.screen_size)  # near chance: the screen fails
    ck = tmp_path / "ck.pt"

    def stop(step: int) -> None:
        if step == 3:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        run(cfg, checkpoint=ck, checkpoint_every=1, callback=stop)
    again = run(cfg, checkpoint=ck)
    assert again.history == full.history and again.updates == full.updates
    for name, p in full.params.items():
        assert torch.equal(again.params[name], p), name



def test_clipped_run_that_diverges_keeps_its_last_counts() -> None:
    """Algorithm 1 bounds each step by lr * threshold, so a clipped run diverges only when that
    step overflows (lr = 1.5e308 here): it stops as 'diverged' before the update that would write
    an Inf, and the updates since the last evaluation (here all of them: none ran) still count in
    its totals, as the batched trainer counts them."""
    from notes_code.common.batched import run_batched

    cfg = dataclasses.replace(TINY, method="MSGD-C", lr=1.5e308, clip=1.0, eval_every=50, max_updates=40)
    r, (b,) = run(cfg), run_batched([cfg])
    assert r.config == cfg and r.outcome == "diverged" and r.history == [] and r.updates >= 2
    assert r.n_clipped >= 1 and r.n_clipped + r.n_fallback <= r.updates and r.max_grad_norm > 0
    assert (r.outcome, r.updates, r.n_clipped, r.n_fallback) == (
        b.outcome, b.updates, b.n_clipped, b.n_fallback)
    assert r.max_grad_norm == pytest.approx(b.max_grad_norm, rel=1e-9)
    for name, p in r.params.items():
        assert torch.isfinite(p).all(), name


def test_msgd_step_with_a_non_finite_gradient_is_not_applied(monkeypatch) -> None:
    """Released code: MSGD has no guard. An Inf in the gradient (or the loss) ends the run, so
    `_sgd_step` reports the step as not applied and leaves every weight as it was."""
    from notes_code.common import train

    cfg = dataclasses.replace(TINY, method="MSGD")
    model = make_model(cfg)
    before = {n: p.detach().clone() for n, p in model.named_parameters()}
    real = train._grads

    def inf_grads(*args):
        grads, W_rec, loss, omega = real(*args)
        name = next(iter(grads))
        grads[name] = torch.full_like(grads[name], math.inf)
        return grads, W_rec, loss, omega

    monkeypatch.setattr(train, "_grads", inf_grads)
    batch = train.make_batch(cfg.task, cfg.batch_size, 10, torch.Generator().manual_seed(0), torch.float64)
    assert train._sgd_step(model, cfg, batch.u, batch.target) == (False, {})
    for n, p in model.named_parameters():
        assert torch.equal(p, before[n]), n


def test_success_needs_an_error_below_the_criterion(tmp_path) -> None:
    """§4.1.1: a run succeeds when its error is *under* 1% (the released code's `<`): an error
    exactly at `success_error` is not a success, one just above it is; and a run resumed from a
    checkpoint whose last error sits exactly at the criterion trains on, as it would have."""
    cfg = dataclasses.replace(TINY, screen_size=0, max_updates=20, eval_every=10)
    e = run(dataclasses.replace(cfg, success_error=1e-9, max_updates=10)).final_error
    assert 0 < e < 1
    at = dataclasses.replace(cfg, success_error=e)
    full = run(at)
    assert full.history[0]["error"] == e and full.updates > 10  # trained on past the error e
    above = run(dataclasses.replace(cfg, success_error=math.nextafter(e, 1.0)))
    assert (above.outcome, above.updates) == ("success", 10)
    ckpt = tmp_path / "run.pt"
    with pytest.raises(KeyboardInterrupt):
        run(at, checkpoint=ckpt, checkpoint_every=10, callback=_interrupt_at(10))
    resumed = run(at, checkpoint=ckpt)
    assert (resumed.outcome, resumed.updates, resumed.history) == (full.outcome, full.updates, full.history)
