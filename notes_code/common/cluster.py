r"""# Grids on a Ray cluster: one batched group per task, the driver alone writes

A grid's cells fall into **groups**, one per length (`Grid.groups()`); each group trains as one
batched model (`batched.run_batched`), and groups are independent. That makes the group the
unit of distribution: `ray_engine` sends each pending group to [Ray](https://docs.ray.io) as one
task (`@ray.remote`, `num_cpus` = the torch threads per task, `num_gpus=1` when the device is
CUDA) and hands the finished groups back to `run_grid` in the order they finish.

Who writes what:

* **The driver** (the process that runs `python -m notes_code.experiments run ... --engine ray`)
  alone reads and writes the results file, under its lock, exactly as the local engines do:
  a task returns its `TrainResult`s and the driver records them. Tasks never touch the file.
* **Each task** writes its group's checkpoint, `reports/checkpoints/<grid>/L<L>.pt`, as the local
  engine does (atomic `torch.save`). The driver decides from that file what a group resumes
  (`_resume_configs`), so an interrupted or failed run resumes exactly as a local run: same
  runs, same state, same result. On a real cluster the checkpoint folder must be on storage
  that every node and the driver share (NFS or similar), or a resumed group starts over.
* **A failed task** (an exception in training, a lost worker) is yielded as an exception for
  its length; `run_grid` logs it, records every other group and then raises `GroupsFailed`
  naming the failed lengths. Running the same command again trains only what is missing.
* **Ctrl-C** in the driver cancels the pending tasks (their checkpoints stay) and re-raises.
* **The device** is the workers': with `--device cuda` the driver needs no GPU (its CUDA check
  is skipped, and the provenance says the device was the workers').

Ray is an optional extra (`pip install -e '.[cluster]'`) and is imported only here, inside
`require_ray`, so the local engine never needs it. Every node must have the project installed
at the same commit (the tasks import `notes_code`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

from notes_code.common.batched import run_batched
from notes_code.common.groups import run_group
from notes_code.common.train import TrainConfig, TrainResult

INSTALL_HINT = "pip install -e '.[cluster]'"
Plans = dict[int, list[TrainConfig]]
Outcome = tuple[int, "list[TrainResult] | BaseException"]
Engine = Callable[[Plans, str, Path, int], Iterator[Outcome]]


class ClusterUnavailable(RuntimeError):
    r"""Ray is not installed (the message says how to install the extra), or the cluster cannot be
    reached."""


def require_ray() -> ModuleType:
    r"""Import and return `ray`.

    Raises:
        ClusterUnavailable: when it is not installed, with the install command.
    """
    try:
        import ray
    except ImportError as exc:
        raise ClusterUnavailable(f"--engine ray needs Ray, which is not installed ({exc}); install the "
                                 f"cluster extra: {INSTALL_HINT}") from None
    return ray


def train_group(configs: list[TrainConfig], device: str, checkpoint: str | Path, threads: int,
                train: Callable[..., list[TrainResult]] = run_batched) -> list[TrainResult]:
    r"""Train one group (the body of a Ray task, and of a local worker process): set torch's
    threads, then `groups.run_group` with the checkpoint (RNN runs batched by `train`, LSTM runs
    one by one).

    Args:
        configs: the group's runs (one length).
        device: torch device.
        checkpoint: the group's checkpoint file (resumed from if present).
        threads: torch threads in this task.
        train: the batched trainer (tests inject a failing one).

    Returns:
        One result per config, in order.
    """
    import torch

    torch.set_num_threads(threads)
    return run_group(configs, device, train=train, checkpoint=Path(checkpoint))


def ray_engine(address: str | None = None, *, train: Callable[..., list[TrainResult]] = run_batched,
               init_kwargs: dict[str, Any] | None = None) -> Engine:
    r"""An engine for `run_grid(engine=...)` that runs each group as one Ray task.

    If Ray is already initialised in this process (a test fixture, a notebook) the engine uses
    that instance and leaves it running; otherwise it calls `ray.init(address=address)` and shuts
    Ray down when the grid ends.

    Args:
        address: the cluster's address (`ray start --head` prints it; `None`: `ray.init`'s
            default, i.e. `RAY_ADDRESS` or a new local instance).
        train: the batched trainer each task runs (must be importable on the workers).
        init_kwargs: more arguments for `ray.init`.

    Returns:
        `engine(plans, device, checkpoint_dir, threads)`, yielding `(length, results)` or
        `(length, exception)` as the groups finish.
    """
    def engine(plans: Plans, device: str, checkpoint_dir: Path, threads: int) -> Iterator[Outcome]:
        ray = require_ray()
        started = not ray.is_initialized()
        if started:
            try:
                ray.init(address=address, **(init_kwargs or {}))
            except (ConnectionError, RuntimeError, ValueError) as exc:
                raise ClusterUnavailable(f"could not start or reach Ray at {address or 'a local instance'}: "
                                         f"{exc}") from None
        gpus = 1 if device.startswith("cuda") else 0
        task = ray.remote(train_group).options(num_cpus=threads, num_gpus=gpus, max_retries=0)
        refs = {task.remote(cfgs, device, str(Path(checkpoint_dir) / f"L{L}.pt"), threads, train): L
                for L, cfgs in plans.items()}
        pending = list(refs)
        try:
            while pending:
                done, pending = ray.wait(pending, num_returns=1)
                L = refs[done[0]]
                try:
                    results = ray.get(done[0])
                except ray.exceptions.RayError as exc:
                    yield L, getattr(exc, "cause", None) or exc
                else:
                    yield L, results
        finally:
            for ref in pending:  # interrupted: stop what still runs (checkpoints stay)
                ray.cancel(ref, force=True)
            if started:
                ray.shutdown()

    engine.name = "ray"  # type: ignore[attr-defined]
    engine.address = address  # type: ignore[attr-defined]
    return engine


__all__ = ["INSTALL_HINT", "ClusterUnavailable", "Engine", "ray_engine", "require_ray", "train_group"]
