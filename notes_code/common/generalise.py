r"""# Generalisation: a trained run tested at lengths it never trained on (§4.1.1, §4.1.2)

Pascanu et al. test the single temporal-order model trained on lengths 50–200 on 10,000 fresh
sequences at each of 50, 100, 150, 200, 250, 500, 1000, 2000, 3000 and 5000 steps (0 errors,
§4.1.1), and the addition and multiplication models up to 500 steps (error below 1%, §4.1.2).

`generalisation` rebuilds a finished run's network from its final parameters and counts its
wrong sequences (`tasks.errors`: the task's own criterion) at each length $L$, on `n` fresh
sequences of exactly that length (for `add`/`mul`, $L$ is the nominal length and the batch
draws its $l'$ as in training). The sequences come from a generator seeded by (run seed, $L$),
the same for every run and method, so runs are compared on identical test sets. Chunks are
sized so that one chunk's states stay near a million numbers ($L \cdot B \cdot n$), which
keeps a 5,000-step test within memory.
"""

from __future__ import annotations

import torch

from notes_code.common.tasks import arith_steps, errors, make_batch
from notes_code.common.train import DTYPES, TrainResult, generator, make_model, outputs


def chunk_sizes(n: int, length: int, n_hidden: int, budget: int = 1 << 24) -> list[int]:
    r"""Sequences per chunk for `n` sequences of `length` steps: at most 1,000, and at most
    `budget / (length * n_hidden)` (at least 1), so that the stacked states fit in memory."""
    size = max(1, min(1000, budget // max(1, length * n_hidden)))
    return [size] * (n // size) + ([n % size] if n % size else [])


def generalisation(result: TrainResult, lengths: tuple[int, ...], n: int | None = None
                   ) -> dict[str, float]:
    r"""The run's error at each length, on fresh sequences.

    Args:
        result: a finished run with its final `params`.
        lengths: the test lengths $L$.
        n: sequences per length (default: the run's `eval_size`, 10,000 in the paper).

    Returns:
        `{str(L): error}`, the fraction of wrong sequences at each length.

    Raises:
        ValueError: if the run has no parameters.
    """
    c = result.config
    if result.params is None:
        raise ValueError(f"run {c.key()} has no final parameters to test")
    n = c.eval_size if n is None else n
    model = make_model(c)
    with torch.no_grad():
        for name, p in model.named_parameters():
            p.copy_(result.params[name])
    out = {}
    for L in lengths:
        g = generator(c.seed, f"generalise:{L}")
        wrong = 0
        with torch.no_grad():
            for size in chunk_sizes(n, L, c.n_hidden):
                batch = make_batch(c.task, size, L, g, DTYPES[c.dtype], arith_steps(c.task, L, g))
                wrong += int(errors(c.task, outputs(model, batch.u), batch.target).sum())
        out[str(L)] = wrong / n
    return out


__all__ = ["chunk_sizes", "generalisation"]
