"""A tiny grid for the store and runner tests (two inits, two methods, two lengths, one seed)."""

from __future__ import annotations

from notes_code.common.batched import run_batched
from notes_code.common.grid import Grid
from notes_code.common.runner import run_grid
from notes_code.common.train import TrainConfig

TINY = Grid("tiny", "a test grid",
            TrainConfig(n_hidden=6, lr=0.1, max_updates=20, eval_every=10, eval_size=40, screen_size=0,
                        eval_chunk=40, dtype="float64"),
            inits=("sigmoid", "basic_tanh"), methods=("MSGD", "MSGD-C"), lengths=(10, 12), seeds=(0,))


def counting():
    calls: list[int] = []

    def train(configs, device, **kw):
        calls.append(len(configs))
        return run_batched(configs, device, **kw)

    return train, calls


def run_tiny(tmp_path, grid: Grid = TINY, **kw) -> dict:
    kw.setdefault("out", tmp_path / "tiny.json")
    return run_grid(grid, progress=False, checkpoint_dir=tmp_path / "ckpt", log=lambda s: None, **kw)
