"""Tests for notes_code.common.generalise: trained runs tested at lengths they never trained on."""

from __future__ import annotations

import dataclasses

import pytest
import torch

from notes_code.common.generalise import chunk_sizes, generalisation
from notes_code.common.tasks import errors, make_batch
from notes_code.common.train import TrainConfig, TrainResult, generator, make_model, outputs, run

CFG = TrainConfig(init="basic_tanh", method="MSGD-C", n_hidden=6, min_length=10, max_length=14, lr=0.1,
                  max_updates=20, eval_every=10, eval_size=300, screen_size=0, eval_chunk=100,
                  dtype="float64")


def test_error_at_each_length_counts_fresh_sequences_of_that_length() -> None:
    """§4.1.1's generalisation test: at each length L the error is the fraction of wrong sequences
    (the task's criterion) among `eval_size` fresh sequences of exactly L steps, drawn from the
    (seed, L) stream, for the run's final weights."""
    r = run(CFG)
    got = generalisation(r, (10, 37))
    model = make_model(CFG)
    with torch.no_grad():
        for name, p in model.named_parameters():
            p.copy_(r.params[name])
    for L in (10, 37):
        g, wrong = generator(CFG.seed, f"generalise:{L}"), 0
        for size in chunk_sizes(CFG.eval_size, L, CFG.n_hidden):
            b = make_batch(CFG.task, size, L, g, torch.float64)
            assert b.u.shape[0] == L
            wrong += int(errors(CFG.task, outputs(model, b.u), b.target).sum())
        assert got[str(L)] == wrong / CFG.eval_size
    assert 0.5 < got["37"] <= 1.0  # 20 updates: still near chance (0.75 for 4 classes)


def test_a_solved_run_generalises_to_its_training_length() -> None:
    """A run that passed the success test on fresh sequences (under 1% wrong) also has an error
    under 1% at its training length in the generalisation test, and a worse one far beyond it."""
    cfg = TrainConfig(init="basic_tanh", method="MSGD-C", n_hidden=50, min_length=10, max_length=10, lr=0.1,
                      max_updates=1500, eval_every=50, eval_size=2000, screen_size=500, eval_chunk=500)
    r = run(cfg)
    assert r.success
    got = generalisation(r, (10,), n=2000)
    assert got["10"] < 0.01


def test_chunks_bound_memory_and_cover_every_sequence() -> None:
    """Long tests stay in memory: each chunk holds at most 1,000 sequences and at most the state
    budget (L x B x n numbers), at least one sequence, and the chunks add up to n."""
    for n, L in ((10_000, 50), (10_000, 5000), (7, 10**9), (1, 1)):
        sizes = chunk_sizes(n, L, 50)
        assert sum(sizes) == n and all(1 <= s <= 1000 for s in sizes)
        assert all(s == 1 or s * L * 50 <= 1 << 24 for s in sizes)


def test_a_run_without_parameters_is_an_error() -> None:
    """A result without final parameters cannot be tested: a clear error, not a silent 0."""
    with pytest.raises(ValueError, match="no final parameters"):
        generalisation(TrainResult(dataclasses.replace(CFG), "success", 1, 0.0), (10,))
