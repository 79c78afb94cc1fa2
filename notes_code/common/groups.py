r"""# One group of a grid: the RNN runs as one batched model, the LSTM runs one by one

A grid trains its cells in groups, one per length. The RNN cells of a group train together in
the batched engine (`batched.run_batched` or the CPU engine `fastcpu.run_fast`: $K$ runs as
one model, each ending exactly as `train.run` would). An LSTM cell (`train.LSTM_INITS`) has no
batched engine: it trains alone through `train.run`, which gives it the same data, lengths,
fresh-sequence evaluation and success test. `run_group` does both and returns the results in
the order of the configs, so the runner, its worker processes and a Ray task
(`cluster.train_group`) treat every group alike.

Checkpoints: the batched model's is the group's file (`L50.pt`); each LSTM run has its own
beside it (`L50.<key>.pt`), kept until the runner has recorded the group (`drop_checkpoints`).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from notes_code.common.batched import run_batched
from notes_code.common.train import LSTM_INITS, TrainConfig, TrainResult, run


def split(configs: list[TrainConfig]) -> tuple[list[TrainConfig], list[TrainConfig]]:
    r"""`(batched, single)`: the RNN configs, trained as one batched model, and the LSTM ones."""
    return ([c for c in configs if c.init not in LSTM_INITS], [c for c in configs if c.init in LSTM_INITS])


def single_checkpoint(checkpoint: Path, config: TrainConfig) -> Path:
    r"""The checkpoint of one LSTM run of the group whose checkpoint is `checkpoint`."""
    return checkpoint.with_name(f"{checkpoint.stem}.{config.key()}{checkpoint.suffix}")


def run_group(configs: list[TrainConfig], device: str = "cpu", *,
              train: Callable[..., list[TrainResult]] = run_batched, checkpoint: Path | None = None,
              progress: bool = False,
              on_finish: Callable[[int, TrainResult], None] | None = None) -> list[TrainResult]:
    r"""Train one group: its RNN runs with `train`, then its LSTM runs one at a time.

    Args:
        configs: the group's runs (one length).
        device: torch device.
        train: the batched trainer for the RNN runs (`run_batched` or `run_fast`).
        checkpoint: the group's checkpoint file (resumed from if present), or `None`.
        progress: tqdm bars.
        on_finish: called as `on_finish(i, result)` when `configs[i]` finishes.

    Returns:
        One result per config, in order.
    """
    rnn, lstm = split(configs)
    index = {c.key(): i for i, c in enumerate(configs)}
    out: list[TrainResult | None] = [None] * len(configs)

    def done(result: TrainResult) -> None:
        out[index[result.config.key()]] = result
        if on_finish is not None:
            on_finish(index[result.config.key()], result)

    if rnn:
        # only what is asked for: a trainer (Ray's, tests') may take no progress or callback
        kw: dict = {} if checkpoint is None else {"checkpoint": Path(checkpoint)}
        if progress:
            kw["progress"] = True
        if on_finish is not None:
            kw["on_finish"] = lambda k, r: done(r)
        results = train(rnn, device, **kw)
        if sorted(r.config.key() for r in results) != sorted(c.key() for c in rnn):
            raise RuntimeError(f"{getattr(train, '__name__', train)} returned {len(results)} results "
                               f"for {len(rnn)} runs")
        for r in results:  # a trainer that does not call on_finish for every run
            if out[index[r.config.key()]] is None:
                done(r)
    for c in lstm:
        path = None if checkpoint is None else single_checkpoint(Path(checkpoint), c)
        done(run(c, checkpoint=path, progress=progress, device=device))
    return out  # type: ignore[return-value]


def drop_checkpoints(checkpoint: Path) -> None:
    r"""Delete a recorded group's checkpoint and those of its LSTM runs."""
    checkpoint = Path(checkpoint)
    checkpoint.unlink(missing_ok=True)
    for path in checkpoint.parent.glob(f"{checkpoint.stem}.*{checkpoint.suffix}"):
        path.unlink(missing_ok=True)


__all__ = ["drop_checkpoints", "run_group", "single_checkpoint", "split"]
